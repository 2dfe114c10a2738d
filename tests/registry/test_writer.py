"""The writer process's protocol (``service/writer.py``), in one process: an HTTP worker's
:class:`RemoteWriter` against :func:`serve_writes` over a real Unix socket, on SQLite and
PostgreSQL. Outcomes must be exactly those of a local write — results, rejections with
their code, replays — and a writer that goes away must be reported, never waited on."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import select
import socket
import struct
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.service.core import MAX_BATCH
from hesuan.registry.service.writer import (
    RemoteWriter,
    WriterUnavailable,
    _actor_message,
    _frame,
    serve_writes,
)

from .conftest import World, assert_sound, balance


@contextlib.contextmanager
def _serving(tmp_path: Path, write_group: Callable[[Any], Any],
             group_at_most: int = MAX_BATCH) -> Iterator[str]:
    """A writer serving ``write_group`` on a socket under ``tmp_path``, in its own thread
    (as in the writer process): yields the socket's path; stopped on exit."""
    path = str(tmp_path / "w.sock")
    listening, stop = threading.Event(), threading.Event()
    server = threading.Thread(target=serve_writes, args=(write_group, path),
                              kwargs={"group_at_most": group_at_most,
                                      "started": listening.set, "stopping": stop.is_set,
                                      "poll_s": 0.05})
    server.start()
    try:
        assert listening.wait(timeout=30)
        yield path
    finally:
        stop.set()
        server.join(timeout=30)
    assert not server.is_alive()


def _with_writer(w: World, tmp_path: Path,
                 body: Callable[[RemoteWriter], Awaitable[Any]]) -> Any:
    """Run ``body`` against a writer serving ``w.reg`` on a socket under ``tmp_path``."""
    with _serving(tmp_path, w.reg.write_group) as path:
        return asyncio.run(body(RemoteWriter(path)))


def _decoded(data: bytes) -> tuple[list[Any], bytes]:
    """The complete frames at the start of ``data``, decoded, and the bytes after them."""
    frames = []
    while len(data) >= 4 and len(data) >= 4 + struct.unpack("!I", data[:4])[0]:
        length = struct.unpack("!I", data[:4])[0]
        frames.append(json.loads(data[4:4 + length]))
        data = data[4 + length:]
    return frames, data


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


def test_a_group_has_the_outcomes_of_requests_made_one_by_one(world: World) -> None:
    """``Registry.write_group`` (what the writer process runs): more requests than one
    batch holds, in order, each with its own outcome — results, a refusal, a replay of a
    key used earlier in the group, a key missing, an unknown use case."""
    w, reg = world, world.reg
    src, dst = w.proponent_account, w.holder_account
    move = {"from_account": src, "to_account": dst, "quantity": 1}
    requests: list[Any] = [("transfer", w.proponent, f"g{i}", move)
                           for i in range(MAX_BATCH + 3)]
    requests += [("transfer", w.proponent, "g0", move),  # a replay within the group
                 ("transfer", w.holder, "g-not-own", move),
                 ("transfer", w.proponent, None, move),
                 ("no_such_use_case", w.proponent, "g-unknown", {})]
    before = reg.batches

    outcomes = reg.write_group(requests)

    assert len(outcomes) == len(requests)
    firsts = outcomes[:MAX_BATCH + 3]
    assert all(isinstance(o, dict) and o["quantity"] == 1 for o in firsts)
    replay, not_own, no_key, unknown = outcomes[MAX_BATCH + 3:]
    assert isinstance(replay, dict) and replay["idempotent_replay"] is True
    assert replay["event_seqs"] == firsts[0]["event_seqs"]  # type: ignore[index]
    assert isinstance(not_own, RegistryRejection) and \
        not_own.code is Rejection.account_must_belong_to_actor
    assert isinstance(no_key, RegistryRejection) and \
        no_key.code is Rejection.idempotency_key_must_be_given
    assert isinstance(unknown, KeyError)
    assert reg.batches - before == 2  # MAX_BATCH, then the rest
    assert balance(reg, dst) == MAX_BATCH + 3
    assert_sound(reg)


def test_a_connection_that_hangs_up_or_sends_garbage_harms_no_other(
        world: World, tmp_path: Path) -> None:
    """A request whose connection closes before the answer still commits (once); a
    connection that sends a malformed frame is closed, and the others are served."""
    w = world
    src, dst = w.proponent_account, w.holder_account
    move = {"from_account": src, "to_account": dst, "quantity": 2}
    path = str(tmp_path / "w.sock")

    async def body(remote: RemoteWriter) -> Any:
        with socket.socket(socket.AF_UNIX) as gone:  # sends one request and leaves
            gone.connect(path)
            gone.sendall(_frame([7, "transfer", _actor_message(w.proponent), "hung-up",
                                 move]))
        with socket.socket(socket.AF_UNIX) as garbage:
            garbage.connect(path)
            garbage.sendall(struct.pack("!I", 5) + b"nope!")
            garbage.settimeout(10)
            hung_up = garbage.recv(1) == b""  # the writer closed it
        first = await remote.write("transfer", w.proponent, "after", move)
        replay = await remote.write("transfer", w.proponent, "hung-up", move)
        return hung_up, first, replay

    hung_up, first, replay = _with_writer(w, tmp_path, body)
    assert hung_up
    assert first["quantity"] == 2 and "idempotent_replay" not in first
    assert replay["idempotent_replay"] is True  # the request of the closed connection ran
    assert balance(w.reg, dst) == 4
    assert_sound(w.reg)


def test_requests_arriving_together_are_answered_group_by_group(tmp_path: Path) -> None:
    """More requests than a group holds arrive at once: they run in groups of
    ``group_at_most``, in arrival order, and each group is answered before the next runs
    (its callers do not wait for the rest)."""
    from hesuan.registry.domain.model import Role
    from hesuan.registry.service.tx import Actor

    client = socket.socket(socket.AF_UNIX)
    groups: list[list[str]] = []
    answered_before: list[bool] = []

    def write_group(requests: Any) -> list[Any]:
        if groups:  # were the earlier groups' answers on their way to the client already?
            answered_before.append(bool(select.select([client], [], [], 5)[0]))
        groups.append([key for _, _, key, _ in requests])
        return [{"key": key} for _, _, key, _ in requests]

    with _serving(tmp_path, write_group, group_at_most=2) as path, client:
        client.connect(path)
        actor = _actor_message(Actor(1, Role.holder))
        client.sendall(b"".join(_frame([n, "transfer", actor, f"k{n}", {}]) for n in range(5)))
        deadline = time.monotonic() + 30
        while len(groups) < 3 and time.monotonic() < deadline:  # (read nothing meanwhile)
            time.sleep(0.01)
        replies: list[Any] = []
        buffer = b""
        client.settimeout(10)
        while len(replies) < 5:
            frames, buffer = _decoded(buffer + client.recv(1 << 16))
            replies += frames
    assert groups == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    assert answered_before == [True, True]
    assert replies == [[n, "ok", {"key": f"k{n}"}] for n in range(5)]


def _ask(path: str, *frames: bytes, half_close: bool = False) -> list[Any]:
    """Send ``frames`` on a new connection; the replies until the writer closes it."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(b"".join(frames))
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        conn.settimeout(10)
        data = b""
        while chunk := conn.recv(1 << 16):
            data += chunk
            if not half_close and _decoded(data)[0]:
                break  # (one reply is all a test asks for on an open connection)
    replies, rest = _decoded(data)
    assert not rest
    return replies


def test_the_writer_survives_bad_frames_and_its_own_failures(tmp_path: Path) -> None:
    """Frames that are not requests — malformed JSON, a nesting too deep to parse, an
    infinite id, a key that is not text — close their own connection only; a failure of
    the group writer itself answers its group ``failed`` and the writer goes on; a
    connection that stops sending still gets its answers."""
    from hesuan.registry.domain.model import Role
    from hesuan.registry.service.tx import Actor

    actor = _actor_message(Actor(1, Role.holder))

    def write_group(requests: Any) -> list[Any]:
        if any(key == "boom" for _, _, key, _ in requests):
            raise RuntimeError("defect in the group writer")
        return [{"key": key} for _, _, key, _ in requests]

    def raw(body: bytes) -> bytes:
        return struct.pack("!I", len(body)) + body

    with _serving(tmp_path, write_group, group_at_most=4) as path:
        for bad in (raw(b"nope!"), raw(b"[" * 100_000),
                    raw(b'[Infinity,"transfer",[1,"holder",null,""],"k",{}]'),
                    _frame([1, "transfer", actor, ["not", "text"], {}]),
                    struct.pack("!I", 2**31)):  # (a length beyond MAX_FRAME)
            assert _ask(path, bad) == []  # closed without an answer
        assert _ask(path, _frame([2, "transfer", actor, "boom", {}]))[0][:2] == [2, "failed"]
        assert _ask(path, _frame([3, "transfer", actor, "k3", {}]),
                    _frame([4, "transfer", actor, "k4", {}]), half_close=True) == [
            [3, "ok", {"key": "k3"}], [4, "ok", {"key": "k4"}]]
        assert _ask(path, _frame([5, "transfer", actor, "k5", {}])) == [
            [5, "ok", {"key": "k5"}]]
