"""The writer process: one process runs every group commit; the HTTP workers forward writes.

A server's HTTP workers (``hesuan serve``) do not write themselves: each forwards its write
requests — use case, actor, idempotency key, arguments — over a local Unix socket to one
writer process (:func:`serve_writes`). Its one thread waits for requests, takes every one
that has arrived, on all connections, and runs them as group commits
(:meth:`~hesuan.registry.service.core.Registry.write_group`), then sends the outcomes;
requests that arrive meanwhile wait in the socket buffers and form the next group. No
event loop, other thread or HTTP work shares its GIL: the batch holding the chain head is
the serial part of every write, and whatever shares its process stretches it
(``docs/registry.md``, "Measured throughput"). Outcomes — results and rejections — come back
on the same connection; the durability, idempotency and atomicity of each request are the
writer's :class:`~hesuan.registry.service.core.Registry`'s, unchanged.

Frames are 4-byte big-endian lengths followed by JSON (never pickle: a frame is data, not
code); ``bytes`` arguments (a document's content) travel as base64. The socket lives in a
directory only the server's user can open (``tempfile.mkdtemp``, mode 0700).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import selectors
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.model import Role
from hesuan.registry.service.tx import Actor

_LENGTH = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024  # bytes; a document upload is the largest write


class WriterUnavailable(RuntimeError):
    """The writer process cannot be reached, or went away before answering."""


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"cannot send {type(value).__name__} to the writer process")


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "__bytes__" in obj:
        return base64.b64decode(obj["__bytes__"])
    return obj


def _frame(message: Any) -> bytes:
    data = json.dumps(message, default=_default, separators=(",", ":")).encode()
    return _LENGTH.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME}")
    return json.loads(await reader.readexactly(length), object_hook=_hook)


def _actor_message(actor: Actor) -> list[Any]:
    return [actor.party_id, actor.role.value, actor.country, actor.name]


def _actor(message: list[Any]) -> Actor:
    party_id, role, country, name = message
    return Actor(int(party_id), Role(role), country, name)


WriteGroup = Callable[[Sequence[Any]], Sequence[Any]]
""":meth:`Registry.write_group`: requests (use case, actor, key, arguments) → outcomes."""


_OUTBOX_AT_MOST = MAX_FRAME  # bytes of replies waiting for a peer before it is not read
_FLUSH_AT_EXIT_S = 2.0  # how long replies may take to go out when the writer stops


class _Peer:
    """One HTTP worker's connection: bytes received but not yet framed, replies not yet
    sent, and whether it has stopped sending (it is closed once its replies are out)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.hung_up = False
        self.closed = False


def serve_writes(write_group: WriteGroup, path: str, *, group_at_most: int,
                 started: Callable[[], None] | None = None,
                 stopping: Callable[[], bool] = lambda: False,
                 poll_s: float = 0.2) -> None:
    """Answer forwarded writes on the Unix socket ``path`` until ``stopping()`` is true.

    Each round waits up to ``poll_s`` seconds for something to arrive, reads every complete
    request on every connection, and hands them to ``write_group``
    (:meth:`Registry.write_group`) in groups of ``group_at_most`` (the registry's batch
    size): requests that arrive together share a group commit, and each group is answered
    as soon as it has committed. ``stopping()`` is checked between rounds, so the requests
    under way are finished and answered first (replies still unsent then get
    ``_FLUSH_AT_EXIT_S`` to go out). ``started`` is called once the socket accepts
    connections.

    A connection that sends a malformed frame is closed (the requests it sent before still
    run); one that stops sending still gets its answers; the outcome of a request whose
    connection has gone is not sent, but the request runs and commits all the same. A
    connection whose unread replies pass ``_OUTBOX_AT_MOST`` is not read until it takes
    them. If ``write_group`` itself fails, its group's requests are answered ``failed``
    (their outcome is unknown: a retry with the same idempotency key tells). The socket is
    removed on return.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    selector = selectors.DefaultSelector()
    peers: list[_Peer] = []
    bound = False
    try:
        listener.bind(path)
        bound = True
        listener.listen(128)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ)
        if started is not None:
            started()
        while not stopping():
            arrived: list[tuple[_Peer, int, tuple[Any, ...]]] = []
            for key, events in selector.select(timeout=poll_s):
                if key.fileobj is listener:
                    peers.extend(_accept(listener, selector))
                    continue
                peer: _Peer = key.data
                if events & selectors.EVENT_WRITE:
                    _send(peer, selector)
                if events & selectors.EVENT_READ and not peer.closed:
                    arrived.extend(_receive(peer, selector))
            for start in range(0, len(arrived), group_at_most):
                group = arrived[start:start + group_at_most]
                try:
                    outcomes: Sequence[Any] = write_group([r for _, _, r in group])
                except Exception as exc:  # a defect: never let it end the service
                    outcomes = [exc] * len(group)
                for (peer, request_id, _), outcome in zip(group, outcomes, strict=True):
                    if not peer.closed:
                        peer.outbox += _frame(_reply(request_id, outcome))
                for peer in {id(p): p for p, _, _ in group}.values():
                    _send(peer, selector)
            peers = [p for p in peers if not p.closed]
    finally:
        for peer in peers:
            _flush_and_close(peer, selector)
        selector.close()
        listener.close()
        if bound:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _accept(listener: socket.socket, selector: selectors.BaseSelector) -> list[_Peer]:
    accepted: list[_Peer] = []
    while True:
        try:
            sock, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return accepted
        sock.setblocking(False)
        peer = _Peer(sock)
        selector.register(sock, selectors.EVENT_READ, peer)
        accepted.append(peer)


def _receive(peer: _Peer, selector: selectors.BaseSelector,
             ) -> list[tuple[_Peer, int, tuple[Any, ...]]]:
    """The complete requests that ``peer`` has sent so far (closing it at a malformed
    frame)."""
    while True:
        try:
            data = peer.sock.recv(1 << 18)
        except (BlockingIOError, InterruptedError):
            break
        except OSError:
            data = b""
        if not data:
            peer.hung_up = True
            break
        peer.inbox += data
    requests = []
    taken = 0
    try:
        while len(peer.inbox) - taken >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(peer.inbox, taken)
            if length > MAX_FRAME:
                raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME}")
            end = taken + _LENGTH.size + length
            if len(peer.inbox) < end:
                break
            requests.append((peer, *_request(peer.inbox[taken + _LENGTH.size:end])))
            taken = end
    except Exception:  # not a request of RemoteWriter's (any defect of it): hang up
        _close(peer, selector)
        return requests
    del peer.inbox[:taken]
    if not requests:  # (else its answers are sent, and it is watched, after their group)
        _watch(peer, selector)
    return requests


def _request(frame: bytearray) -> tuple[int, tuple[Any, ...]]:
    """(request id, (use case, actor, idempotency key, arguments)) of a request frame;
    raises for anything else."""
    request_id, operation, actor, key, kwargs = json.loads(frame, object_hook=_hook)
    if not (isinstance(request_id, int) and isinstance(operation, str)
            and (key is None or isinstance(key, str)) and isinstance(kwargs, dict)):
        raise TypeError("not a write request")
    return request_id, (operation, _actor(actor), key, kwargs)


def _reply(request_id: int, outcome: Any) -> list[Any]:
    if isinstance(outcome, RegistryRejection):
        return [request_id, "rejected", [outcome.code.value, outcome.message]]
    if isinstance(outcome, Exception):  # reported to the HTTP worker, which answers 5xx
        return [request_id, "failed", f"{type(outcome).__name__}: {outcome}"]
    return [request_id, "ok", outcome]


def _send(peer: _Peer, selector: selectors.BaseSelector) -> None:
    """Send what ``peer``'s outbox holds, as far as its socket takes it now; the rest when
    it is writable again."""
    if peer.closed:
        return
    try:
        while peer.outbox:
            sent = peer.sock.send(peer.outbox)
            del peer.outbox[:sent]
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:  # the HTTP worker went away: its outcomes cannot be delivered
        _close(peer, selector)
        return
    _watch(peer, selector)


def _watch(peer: _Peer, selector: selectors.BaseSelector) -> None:
    """Wait for ``peer``'s requests unless it has stopped sending or has not taken its
    replies, and for room to send replies it has not taken; close it once it has stopped
    sending and has every reply."""
    events = 0
    if not peer.hung_up and len(peer.outbox) <= _OUTBOX_AT_MOST:
        events |= selectors.EVENT_READ
    if peer.outbox:
        events |= selectors.EVENT_WRITE
    if not events:
        _close(peer, selector)
    elif not peer.closed:
        selector.modify(peer.sock, events, peer)


def _flush_and_close(peer: _Peer, selector: selectors.BaseSelector) -> None:
    if peer.outbox and not peer.closed:
        with contextlib.suppress(OSError):
            peer.sock.settimeout(_FLUSH_AT_EXIT_S)
            peer.sock.sendall(peer.outbox)
    _close(peer, selector)


def _close(peer: _Peer, selector: selectors.BaseSelector) -> None:
    if not peer.closed:
        peer.closed = True
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(peer.sock)
        peer.sock.close()


class RemoteWriter:
    """An HTTP worker's connection to the writer process (one per event loop)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ids = itertools.count()
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}  # (the current connection's)
        self._connecting = asyncio.Lock()
        self._reading: asyncio.Future[None] | None = None  # the replies of the connection

    async def write(self, operation: str, actor: Actor, key: str | None,
                    kwargs: dict[str, Any]) -> dict[str, Any]:
        """The outcome of the write, as :meth:`Registry.write_async` gives it: the result,
        or the rejection raised again here."""
        writer, waiting = await self._connected()
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        waiting[request_id] = future
        writer.write(_frame([request_id, operation, _actor_message(actor), key, kwargs]))
        kind, value = await future
        if kind == "ok":
            result: dict[str, Any] = value
            return result
        if kind == "rejected":
            raise RegistryRejection(Rejection(value[0]), value[1])
        raise WriterUnavailable(value)

    async def _connected(self) -> tuple[asyncio.StreamWriter, dict[int, asyncio.Future[Any]]]:
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                try:
                    reader, self._writer = await asyncio.open_unix_connection(
                        self.path, limit=MAX_FRAME)
                except OSError as exc:
                    raise WriterUnavailable(
                        f"cannot reach the writer process at {self.path}: {exc}") from exc
                self._waiting = {}
                self._reading = asyncio.ensure_future(
                    self._replies(reader, self._writer, self._waiting))
            return self._writer, self._waiting

    @staticmethod
    async def _replies(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       waiting: dict[int, asyncio.Future[Any]]) -> None:
        try:
            while True:
                request_id, kind, value = await _read_frame(reader)
                future = waiting.pop(request_id, None)
                if future is not None and not future.done():
                    future.set_result((kind, value))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:  # the writer went away: the outcome of what it had not answered is unknown
            with contextlib.suppress(Exception):
                writer.close()
            for future in waiting.values():
                if not future.done():
                    future.set_result(("failed", "the writer process went away before "
                                                 "answering; retry with the same "
                                                 "Idempotency-Key"))
            waiting.clear()
