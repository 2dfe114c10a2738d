"""The writer process's protocol (``service/writer.py``), in one process: an HTTP worker's
:class:`RemoteWriter` against :func:`serve_writes` over a real Unix socket, on SQLite and
PostgreSQL. Outcomes must be exactly those of a local write — results, rejections with
their code, replays — and a writer that goes away must be reported, never waited on."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.service.writer import RemoteWriter, WriterUnavailable, serve_writes

from .conftest import World, assert_sound, balance


def _with_writer(w: World, tmp_path: Path,
                 body: Callable[[RemoteWriter], Awaitable[Any]]) -> Any:
    """Run ``body`` against a writer serving ``w.reg`` on a socket under ``tmp_path``."""
    path = str(tmp_path / "w.sock")

    async def main() -> Any:
        listening = asyncio.Event()
        server = asyncio.ensure_future(serve_writes(w.reg.write_async, path, listening.set))
        await listening.wait()
        try:
            return await body(RemoteWriter(path))
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)

    return asyncio.run(main())


def test_forwarded_writes_have_the_outcomes_of_local_ones(world: World,
                                                          tmp_path: Path) -> None:
    w = world
    src, dst = w.proponent_account, w.holder_account
    transfer = {"from_account": src, "to_account": dst, "quantity": 5}
    content = bytes(range(256)) * 3  # not text: bytes must arrive unchanged

    async def body(remote: RemoteWriter) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["ok"] = await remote.write("transfer", w.proponent, "f1", transfer)
        out["replay"] = await remote.write("transfer", w.proponent, "f1", transfer)
        for name, actor, key, kwargs in (
                ("overspend", w.proponent, "f2", {**transfer, "quantity": 10**6}),
                ("mismatch", w.proponent, "f1", {**transfer, "quantity": 6}),
                ("not_own", w.holder, "f3", transfer),
                ("no_key", w.proponent, None, transfer)):
            try:
                await remote.write("transfer", actor, key, kwargs)
            except RegistryRejection as rej:
                out[name] = rej.code
        out["document"] = await remote.write(
            "add_document", w.proponent, "f4",
            {"project_id": w.project_id, "name": "PDD", "kind": "design", "content": content})
        return out

    out = _with_writer(w, tmp_path, body)
    assert out["ok"]["quantity"] == 5 and "idempotent_replay" not in out["ok"]
    assert out["replay"]["idempotent_replay"] is True
    assert out["replay"]["event_seqs"] == out["ok"]["event_seqs"]
    assert out["overspend"] is Rejection.quantity_must_not_exceed_balance
    assert out["mismatch"] is Rejection.idempotency_key_must_match_payload
    assert out["not_own"] is Rejection.account_must_belong_to_actor
    assert out["no_key"] is Rejection.idempotency_key_must_be_given
    assert out["document"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert balance(w.reg, dst) == 5
    assert_sound(w.reg)


def test_concurrent_forwarded_writes_share_group_commits(world: World,
                                                         tmp_path: Path) -> None:
    w = world
    before = w.reg.batches

    async def body(remote: RemoteWriter) -> list[Any]:
        return await asyncio.gather(*[
            remote.write("transfer", w.proponent, uuid.uuid4().hex,
                         {"from_account": w.proponent_account,
                          "to_account": w.holder_account, "quantity": 1})
            for _ in range(40)])

    results = _with_writer(w, tmp_path, body)
    assert [r["quantity"] for r in results] == [1] * 40
    assert balance(w.reg, w.holder_account) == 40
    assert w.reg.batches - before < 40  # requests that arrived together shared a commit
    assert_sound(w.reg)


def test_a_missing_or_vanished_writer_is_reported(tmp_path: Path) -> None:
    from hesuan.registry.domain.model import Role
    from hesuan.registry.service.tx import Actor

    actor = Actor(1, Role.holder)

    async def missing() -> None:
        await RemoteWriter(str(tmp_path / "none.sock")).write("transfer", actor, "k", {})

    with pytest.raises(WriterUnavailable, match="cannot reach the writer process"):
        asyncio.run(missing())

    path = str(tmp_path / "mute.sock")

    async def vanishing() -> None:
        async def hang_up(reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
            await reader.readexactly(4)  # a request starts arriving; then the writer dies
            writer.close()

        server = await asyncio.start_unix_server(hang_up, path)
        async with server:
            await RemoteWriter(path).write("transfer", actor, "k", {"quantity": 1})

    with pytest.raises(WriterUnavailable, match="went away before answering"):
        asyncio.run(asyncio.wait_for(vanishing(), timeout=10))
