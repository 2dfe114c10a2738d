"""Reads under write load see one snapshot: ``/audit/verify`` answers ok while transfers
run, and an account view's balance equals the units of its own blocks — on SQLite and
PostgreSQL (REPEATABLE READ READ ONLY; under READ COMMITTED each statement of a read would
see its own snapshot). Verification is incremental: each call replays only the events
since the previous one."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.domain.codes import RegistryRejection

from .conftest import World, assert_sound

WRITERS = 4
LOAD_S = 4.0


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        yield c


def _load(w: World, stop: threading.Event, done: list[int]) -> list[threading.Thread]:
    """Transfers of 1–3 units around proponent → holder → holder2 → proponent."""
    ring = [(w.proponent, w.proponent_account, w.holder_account),
            (w.holder, w.holder_account, w.holder2_account),
            (w.holder2, w.holder2_account, w.proponent_account)]

    def run(seed: int) -> None:
        rnd = random.Random(seed)
        while not stop.is_set():
            actor, src, dst = ring[rnd.randrange(3)]
            try:
                w.reg.transfer(actor, uuid.uuid4().hex, from_account=src, to_account=dst,
                               quantity=rnd.randint(1, 3))
                done.append(1)
            except RegistryRejection:
                pass
    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for th in threads:
        th.start()
    return threads


def test_verify_and_account_views_are_consistent_under_write_load(
        world: World, client: httpx.Client) -> None:
    w = world
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=200)
    assert_sound(w.reg)
    stop, done = threading.Event(), []
    threads = _load(w, stop, done)
    verified, viewed, incremental = 0, 0, 0
    heads: list[int] = []
    try:
        # at least LOAD_S, and on a loaded machine on until 20 writes ran (at most 120 s)
        start = time.monotonic()
        while (time.monotonic() - start < LOAD_S
               or (len(done) < 20 and time.monotonic() - start < 120)):
            out = client.get("/audit/verify").json()
            assert out["ok"] is True, out["problems"]
            verified += 1
            incremental += out["incremental_from"] is not None
            heads.append(out["head_seq"])
            view = client.get(f"/accounts/{w.holder_account}", params={"limit": 500},
                              headers={"Authorization": f"Bearer {w.tokens['holder']}"}).json()
            assert len(view["blocks"]) < 500  # (the whole account on one page)
            assert view["balance"] == sum(b["serial_end"] - b["serial_start"] + 1
                                          for b in view["blocks"])
            viewed += 1
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=60)
    assert len(done) >= 20, "the write load did not run"
    assert verified >= 3 and viewed >= 3
    assert len(set(heads)) >= 2, "verification never saw the chain move"
    assert incremental == verified  # after assert_sound, every call continues the last
    final = w.reg.verify(full=True)
    assert final["ok"] and final["incremental_from"] is None


def test_racing_adjustments_take_each_step_once(world: World) -> None:
    """32 threads record the same corresponding-adjustment step at once: exactly one
    succeeds, the others are refused with ``ca_status_must_advance``; then the same for the
    next step. A skipped step is refused however the requests interleave."""
    w = world
    auth = w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                           first_transfer="issuance", reference="KE-LoA-2",
                           authorised_on="2025-01-10")["authorisation_id"]
    for status in ("Pending", "Completed"):
        barrier, outcomes = threading.Barrier(32), []

        def run(status: str = status, barrier: threading.Barrier = barrier,
                outcomes: list[str] = outcomes) -> None:
            barrier.wait()
            try:
                w.reg.corresponding_adjustment(w.authority, uuid.uuid4().hex,
                                               authorisation_id=auth, status=status,
                                               reporting_year=2025)
                outcomes.append("ok")
            except RegistryRejection as exc:
                outcomes.append(exc.code.value)
        threads = [threading.Thread(target=run) for _ in range(32)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        assert sorted(set(outcomes)) == ["ca_status_must_advance", "ok"]
        assert outcomes.count("ok") == 1 and len(outcomes) == 32
    assert_sound(w.reg)
