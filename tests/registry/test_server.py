"""The real server (``python -m hesuan.registry.api``) as operators run it: its writer
process is supervised (restarted when it dies, and ``/health`` says so meanwhile), and
several servers on one PostgreSQL database keep the ledger whole."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from hesuan.registry.engine import Registry

from .conftest import assert_sound, balance, build_world, registry_url
from .test_crash import _alive, _children, _free_port, _start

pytestmark = pytest.mark.slow


def _stop(proc) -> None:  # type: ignore[no-untyped-def]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except Exception:
        proc.kill()


def test_a_dead_writer_is_restarted_and_health_reports_it(tmp_path: Path) -> None:
    url = str(tmp_path / "r.db")
    reg = Registry.open(url, pool_size=2)
    w = build_world(reg)
    reg.close()
    port = _free_port()
    proc = _start(url, port)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {w.tokens['proponent']}"}
    body = {"from_account": w.proponent_account, "to_account": w.holder_account, "quantity": 1}
    try:
        (writer,) = _children(proc.pid)
        os.kill(writer, signal.SIGKILL)
        seen = []
        deadline = time.monotonic() + 180
        with httpx.Client(base_url=base, timeout=10) as c:
            while time.monotonic() < deadline:
                r = c.get("/health")
                seen.append(r.status_code)
                if r.status_code == 200 and 503 in seen:
                    break
                time.sleep(0.2)
            assert 503 in seen, "health must report the dead writer"
            assert seen[-1] == 200 and c.get("/health").json() == {"status": "ok",
                                                                   "writer": "ok"}
            (restarted,) = _children(proc.pid)
            assert restarted != writer and not _alive(writer)
            r = c.post("/transfers", json=body,
                       headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
            assert r.status_code == 201, r.text
    finally:
        _stop(proc)
    reg = Registry.open(url, pool_size=2)
    try:
        assert balance(reg, w.holder_account) == 1
        assert_sound(reg)
    finally:
        reg.close()


@pytest.mark.postgres
def test_two_servers_on_one_postgresql_database_keep_the_ledger_whole(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Two ``hesuan serve`` instances (each with its own writer process) on one database:
    concurrent transfers through both are each applied once, a serial range raced through
    both has exactly one winner, and the chain and every invariant hold."""
    url = registry_url("postgres", tmp_path, request)
    reg = Registry.open(url, pool_size=2)
    w = build_world(reg)
    reg.close()
    ports = [_free_port(), _free_port()]
    procs = [_start(url, p) for p in ports]
    headers = {"Authorization": f"Bearer {w.tokens['proponent']}"}
    move = {"from_account": w.proponent_account, "to_account": w.holder_account, "quantity": 1}
    statuses: list[int] = []
    lock = threading.Lock()

    def client(port: int, n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            for _ in range(n):
                r = c.post("/transfers", json=move,
                           headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
                with lock:
                    statuses.append(r.status_code)

    race_results: list[int] = []

    def racer(port: int) -> None:  # the same serial range, through both servers at once
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            r = c.post("/transfers", headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
                       json={**move, "quantity": 5, "serial_start": 1, "serial_end": 5})
            with lock:
                race_results.append(r.status_code)

    try:
        threads = [threading.Thread(target=client, args=(ports[i % 2], 15)) for i in range(6)]
        threads += [threading.Thread(target=racer, args=(ports[i % 2],)) for i in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=300)
    finally:
        for proc in procs:
            _stop(proc)
    assert statuses == [201] * 90
    assert sorted(race_results) == [201] + [409] * 5
    reg = Registry.open(url, pool_size=2)
    try:
        assert balance(reg, w.holder_account) == 90 + 5
        assert balance(reg, w.proponent_account) == 730 - 95
        assert_sound(reg)
    finally:
        reg.close()
