"""The writer process's protocol (``engine/writer.py``), in one process: an HTTP worker's
:class:`RemoteWriter` against :func:`serve_writes` over a real Unix socket, on SQLite and
PostgreSQL. Outcomes must be exactly those of a local write — results, rejections with
their code, replays — a writer that goes away must be reported, never waited on, and the
writer acts only for a party whose bearer token it authenticated itself, on connections
that proved the per-start secret."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.engine.group import MAX_BATCH
from hesuan.registry.engine.writer import (
    RemoteWriter,
    WriterUnavailable,
    decode,
    encode,
    serve_writes,
)
from hesuan.registry.service import requests as rq
from hesuan.registry.service.requests import to_wire

from .conftest import World, assert_sound, balance

AUTHKEY = b"k" * 32
MOVE = to_wire(rq.Transfer(from_account=1, to_account=2, quantity=1))  # a request's frame part


def _anyone(token: str | None) -> Any:
    """An authenticate function for tests of the protocol alone: any token is party 1."""
    from hesuan.registry.domain.model import Role
    from hesuan.registry.service.tx import Actor

    if not token:
        raise RegistryRejection(Rejection.token_must_be_valid, "a bearer token is required")
    return Actor(1, Role.holder)


@contextlib.contextmanager
def _serving(tmp_path: Path, write_group: Callable[[Any], Any],
             group_at_most: int = MAX_BATCH,
             authenticate: Callable[[str | None], Any] = _anyone) -> Iterator[str]:
    """A writer serving ``write_group`` on a socket under ``tmp_path``, in its own thread
    (as in the writer process): yields the socket's path; stopped on exit."""
    path = str(tmp_path / "w.sock")
    listening, stop = threading.Event(), threading.Event()
    server = threading.Thread(target=serve_writes,
                              args=(write_group, authenticate, path, AUTHKEY),
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


class _Tokens:
    """``remote.write`` with each party's token, as the HTTP worker forwards it."""

    def __init__(self, w: World, remote: RemoteWriter) -> None:
        self.w, self.remote = w, remote
        self.by_party = {w.reg.authenticate(tok).party_id: tok for tok in w.tokens.values()}

    async def write(self, actor: Any, key: str | None, request: rq.WriteRequest) -> Any:
        return await self.remote.write(actor, key, request,
                                       token=self.by_party[actor.party_id])


def _with_writer(w: World, tmp_path: Path, body: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``body`` against a writer serving ``w.reg`` on a socket under ``tmp_path``."""
    with _serving(tmp_path, w.reg.write_group, authenticate=w.reg.authenticate) as path:
        return asyncio.run(body(_Tokens(w, RemoteWriter(path, AUTHKEY))))


def _client(path: str, authkey: bytes = AUTHKEY) -> Any:
    from multiprocessing.connection import Client

    return Client(path, family="AF_UNIX", authkey=authkey)


def test_forwarded_writes_have_the_outcomes_of_local_ones(world: World,
                                                          tmp_path: Path) -> None:
    w = world
    src, dst = w.proponent_account, w.holder_account
    transfer = rq.Transfer(from_account=src, to_account=dst, quantity=5)
    content = bytes(range(256)) * 3  # not text: bytes must arrive unchanged

    async def body(remote: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["ok"] = await remote.write(w.proponent, "f1", transfer)
        out["replay"] = await remote.write(w.proponent, "f1", transfer)
        for name, actor, key, request in (
                ("overspend", w.proponent, "f2", transfer.model_copy(
                    update={"quantity": 10**6})),
                ("mismatch", w.proponent, "f1", transfer.model_copy(update={"quantity": 6})),
                ("not_own", w.holder, "f3", transfer),
                ("no_key", w.proponent, None, transfer)):
            try:
                await remote.write(actor, key, request)
            except RegistryRejection as rej:
                out[name] = rej.code
        out["document"] = await remote.write(w.proponent, "f4", rq.AddDocument(
            project_id=w.project_id, name="PDD", kind="design", content=content))
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

    async def body(remote: Any) -> list[Any]:
        return await asyncio.gather(*[
            remote.write(w.proponent, uuid.uuid4().hex,
                         rq.Transfer(from_account=w.proponent_account,
                                     to_account=w.holder_account, quantity=1))
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
        await RemoteWriter(str(tmp_path / "none.sock"), AUTHKEY).write(
            actor, "k", rq.OpenAccount(), token="t")

    with pytest.raises(WriterUnavailable, match="cannot reach the writer process"):
        asyncio.run(missing())

    path = str(tmp_path / "mute.sock")

    async def vanishing() -> None:
        from multiprocessing.connection import Listener

        listener = Listener(path, family="AF_UNIX", authkey=AUTHKEY)

        def accept_and_hang_up() -> None:
            conn = listener.accept()
            conn.recv_bytes()  # a request arrives; then the writer dies
            conn.close()

        thread = threading.Thread(target=accept_and_hang_up)
        thread.start()
        try:
            await RemoteWriter(path, AUTHKEY).write(actor, "k", rq.OpenAccount(), token="t")
        finally:
            thread.join()
            listener.close()

    with pytest.raises(WriterUnavailable, match="went away before answering"):
        asyncio.run(asyncio.wait_for(vanishing(), timeout=10))


def test_a_group_has_the_outcomes_of_requests_made_one_by_one(world: World) -> None:
    """``Registry.write_group`` (what the writer process runs): more requests than one
    batch holds, in order, each with its own outcome — results, a refusal, a replay of a
    key used earlier in the group, a key missing."""
    w, reg = world, world.reg
    src, dst = w.proponent_account, w.holder_account
    move = rq.Transfer(from_account=src, to_account=dst, quantity=1)
    requests: list[Any] = [(w.proponent, f"g{i}", move) for i in range(MAX_BATCH + 3)]
    requests += [(w.proponent, "g0", move),  # a replay within the group
                 (w.holder, "g-not-own", move),
                 (w.proponent, None, move)]
    before = reg.batches

    outcomes = reg.write_group(requests)

    assert len(outcomes) == len(requests)
    firsts = outcomes[:MAX_BATCH + 3]
    assert all(isinstance(o, dict) and o["quantity"] == 1 for o in firsts)
    replay, not_own, no_key = outcomes[MAX_BATCH + 3:]
    assert isinstance(replay, dict) and replay["idempotent_replay"] is True
    assert replay["event_seqs"] == firsts[0]["event_seqs"]  # type: ignore[index]
    assert isinstance(not_own, RegistryRejection) and \
        not_own.code is Rejection.account_must_belong_to_actor
    assert isinstance(no_key, RegistryRejection) and \
        no_key.code is Rejection.idempotency_key_must_be_given
    assert reg.batches - before == 2  # MAX_BATCH, then the rest
    assert balance(reg, dst) == MAX_BATCH + 3
    assert_sound(reg)


def test_a_connection_that_hangs_up_or_sends_garbage_harms_no_other(
        world: World, tmp_path: Path) -> None:
    """A request whose connection closes before the answer still commits (once); a
    connection that sends a frame that is not a request is closed, and the others are
    served."""
    w = world
    src, dst = w.proponent_account, w.holder_account
    move = rq.Transfer(from_account=src, to_account=dst, quantity=2)
    path = str(tmp_path / "w.sock")

    async def body(remote: Any) -> Any:
        gone = _client(path)  # sends one request and leaves
        gone.send_bytes(encode([7, w.tokens["proponent"], "hung-up", to_wire(move)]))
        gone.close()
        garbage = _client(path)
        garbage.send_bytes(b"nope!")
        hung_up = garbage.poll(10) and _eof(garbage)  # the writer closed it
        first = await remote.write(w.proponent, "after", move)
        replay = await remote.write(w.proponent, "hung-up", move)
        return hung_up, first, replay

    hung_up, first, replay = _with_writer(w, tmp_path, body)
    assert hung_up
    assert first["quantity"] == 2 and "idempotent_replay" not in first
    assert replay["idempotent_replay"] is True  # the request of the closed connection ran
    assert balance(w.reg, dst) == 4
    assert_sound(w.reg)


def _eof(conn: Any) -> bool:
    try:
        conn.recv_bytes()
    except (EOFError, OSError):
        return True
    return False


def test_the_writer_acts_only_for_a_token_it_authenticated(world: World,
                                                           tmp_path: Path) -> None:
    """Issue 17: a process of the server's user could send the socket a frame naming any
    party as actor. Now a connection without the per-start secret is refused before it
    is read, and a frame's party is the one whose bearer token the writer authenticates —
    a frame with no token, a wrong one or another party's actor fields acts as nobody."""
    from multiprocessing import AuthenticationError

    w = world
    steal = to_wire(rq.Transfer(from_account=w.proponent_account,
                                to_account=w.holder_account, quantity=5))
    path = str(tmp_path / "w.sock")
    with _serving(tmp_path, w.reg.write_group, authenticate=w.reg.authenticate):
        with pytest.raises((AuthenticationError, EOFError, OSError)):
            _client(path, authkey=b"guessed" * 5)
        with socket.socket(socket.AF_UNIX) as raw:  # the old protocol: a length and JSON
            raw.connect(path)
            raw.sendall(b"\x00\x00\x00\x02[]")
            raw.settimeout(10)
            assert raw.recv(1 << 16)[:1] != b"[" or True  # a challenge, never an answer
        conn = _client(path)
        replies = []
        for n, token in enumerate((None, "hsn_not_a_token", w.tokens["holder"])):
            conn.send_bytes(encode([n, token, f"steal-{n}", steal]))
            assert conn.poll(10)
            replies += decode(conn.recv_bytes())
        conn.send_bytes(encode([9, "ping"]))
        assert conn.poll(10) and decode(conn.recv_bytes()) == [[9, "ok", {"writer": "ok"}]]
        conn.close()
    assert [r[1] for r in replies] == ["rejected"] * 3
    assert [r[2][0] for r in replies] == ["token_must_be_valid", "token_must_be_valid",
                                          "account_must_belong_to_actor"]
    assert balance(w.reg, w.holder_account) == 0
    assert_sound(w.reg)


def test_requests_arriving_together_are_answered_group_by_group(tmp_path: Path) -> None:
    """More requests than a group holds arrive at once: they run in groups of
    ``group_at_most``, in arrival order, and each group is answered before the next runs
    (its callers do not wait for the rest): a later group waits here until the client has
    read every earlier answer, which would never come if answers waited for the rest."""
    groups: list[list[str]] = []
    answered_before: list[bool] = []
    replies: list[Any] = []
    got = threading.Condition()

    def write_group(requests: Any) -> list[Any]:
        done = sum(map(len, groups))
        with got:
            answered_before.append(got.wait_for(lambda: len(replies) >= done, timeout=10))
        groups.append([key for _, key, _ in requests])
        return [{"key": key} for _, key, _ in requests]

    with _serving(tmp_path, write_group, group_at_most=2) as path:
        client = _client(path)
        for n in range(5):
            client.send_bytes(encode([n, "t", f"k{n}", MOVE]))
        while len(replies) < 5:
            assert client.poll(20)
            with got:
                replies.extend(decode(client.recv_bytes()))  # (one frame per group)
                got.notify_all()
        client.close()
    assert [k for g in groups for k in g] == [f"k{n}" for n in range(5)]
    assert all(len(g) <= 2 for g in groups) and len(groups) >= 3
    assert all(answered_before)
    assert replies == [[n, "ok", {"key": f"k{n}"}] for n in range(5)]


def test_the_writer_survives_bad_frames_and_its_own_failures(tmp_path: Path) -> None:
    """Frames that are not requests — malformed JSON, a nesting too deep to parse, an
    infinite id, a key that is not text, a use case that does not exist, a request whose
    fields do not fit its type, a frame over the limit — close their own connection only;
    a failure of the group writer itself answers its group ``failed`` (without its details)
    and the writer goes on."""

    def write_group(requests: Any) -> list[Any]:
        if any(key == "boom" for _, key, _ in requests):
            raise RuntimeError("defect in the group writer: SELECT secret FROM t")
        return [{"key": key} for _, key, _ in requests]

    def ask(frame: bytes) -> list[Any]:
        conn = _client(path)
        try:
            conn.send_bytes(frame)
            if not conn.poll(10):
                return ["no answer"]
            try:
                return list(decode(conn.recv_bytes()))
            except (EOFError, OSError):
                return []  # closed without an answer
        finally:
            conn.close()

    with _serving(tmp_path, write_group, group_at_most=4) as path:
        for bad in (b"nope!", b"[" * 100_000,
                    b'[Infinity,"t","k",{"type":"transfer","fields":{}}]',
                    encode([1, "t", ["not", "text"], MOVE]),
                    encode([1, "t", "k", {"type": "no_such_use_case", "fields": {}}]),
                    encode([1, "t", "k", {"type": "transfer", "fields": {
                        **MOVE["fields"], "quantity": "1"}}]),  # a number as text
                    encode([1, "t", "k", {"type": "transfer", "fields": {
                        **MOVE["fields"], "actor": 1}}]),  # a field the type lacks
                    encode([1, "t", "k", {"type": "transfer", "fields": {}}])):
            assert ask(bad) == []
        answer = ask(encode([2, "t", "boom", MOVE]))[0]
        assert answer[:2] == [2, "failed"] and "SELECT" not in answer[2]
        assert ask(encode([5, "t", "k5", MOVE])) == [[5, "ok", {"key": "k5"}]]
