"""The writer process: one process runs every group commit; the HTTP workers forward writes.

A server's HTTP workers (``hesuan serve``) do not write themselves: each forwards its write
requests — the caller's bearer token, idempotency key and the typed request
(:mod:`hesuan.registry.service.requests`) — to one writer process (:func:`serve_writes`).
Its main thread waits for requests, takes every one that has arrived, on all connections,
and runs them as group commits
(:meth:`~hesuan.registry.engine.group.GroupCommit.write_group`), then sends the outcomes;
requests that arrive meanwhile wait in the socket buffers and form the next group. No
event loop or HTTP work shares its GIL: the batch holding the chain head is the serial part
of every write, and whatever shares its process stretches it (``docs/registry.md``,
"Measured throughput").

Transport and trust:

* Connections are :mod:`multiprocessing.connection` connections over a Unix socket in a
  directory only the server's user can open. Each connection is authenticated with the
  per-start secret ``authkey`` (the standard library's HMAC challenge–response, both ways)
  before anything is read from it, and on Linux the peer must run as the writer's user
  (``SO_PEERCRED``). Messages are ``send_bytes`` frames of JSON — never pickle: a frame is
  data, not code. A request travels as its type's tag and its fields
  (:func:`~hesuan.registry.service.requests.to_wire`) and is rebuilt — and its fields
  checked against their types — by the registry of request types
  (:func:`~hesuan.registry.service.requests.from_wire`); ``bytes`` fields (a document's
  content) travel as base64.
* The writer never takes an actor from a frame: it authenticates the bearer token the
  request carries (:meth:`Registry.authenticate`) and runs the request as that party. A
  process that has the secret but no token can act as nobody.

Outcomes — results and rejections — come back on the same connection, one frame per
connection and group (a list of ``[request id, kind, value]``); the durability,
idempotency and atomicity of each request are the writer's
:class:`~hesuan.registry.engine.group.GroupCommit`'s, unchanged. A ``ping`` frame is answered
at once (``/health`` asks it).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import itertools
import json
import os
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import (
    Client,
    Connection,
    Listener,
    answer_challenge,
    deliver_challenge,
    wait,
)
from typing import Any

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.service.requests import WriteRequest, from_wire, to_wire
from hesuan.registry.service.tx import Actor

MAX_FRAME = 64 * 1024 * 1024  # bytes; a document upload is the largest write
_HANDSHAKE_S = 5.0  # how long a new connection may take to authenticate
_SEND_IN_THREAD = 1 << 20  # bytes: larger requests are sent off the event loop

bearer_token: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hesuan_bearer_token", default=None)
"""The bearer token of the HTTP request being served (set by the API's authentication
dependency): what :class:`RemoteWriter` forwards for the writer to authenticate."""


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


def encode(message: Any) -> bytes:
    """Return a message as the bytes of one frame (JSON; bytes as base64)."""
    return json.dumps(message, default=_default, separators=(",", ":"),
                      allow_nan=False).encode()


def decode(frame: bytes) -> Any:
    """Return the value of one frame of the writer's protocol (JSON)."""
    return json.loads(frame, object_hook=_hook)


WriteGroup = Callable[[Sequence[tuple[Actor, str | None, WriteRequest]]], Sequence[Any]]
""":meth:`GroupCommit.write_group`: requests (actor, key, typed request) → outcomes."""

Authenticate = Callable[[str | None], Actor]
""":meth:`Registry.authenticate`: a bearer token → its party (or a rejection)."""


class _Peer:
    """One HTTP worker's authenticated connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.conn.close()

    def send(self, message: Any) -> None:
        if self.closed:
            return
        try:
            self.conn.send_bytes(encode(message))
        except OSError:  # the HTTP worker went away: its outcomes cannot be delivered
            self.close()


def _same_user(conn: Connection) -> bool:
    """On Linux, whether the peer runs as this process's user (``SO_PEERCRED``)."""
    if not hasattr(socket, "SO_PEERCRED"):
        return True
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                struct.calcsize("3i"))
    finally:
        sock.close()
    _, uid, _ = struct.unpack("3i", creds)
    return uid == os.geteuid()


class _Acceptor:
    """Accept connections on a thread and authenticate each on its own short-lived thread.

    So a peer that stalls in the handshake holds up nobody; the authenticated ones go to the main
    loop, woken through a socket pair.
    """

    def __init__(self, path: str, authkey: bytes) -> None:
        self.path, self.authkey = path, authkey
        with contextlib.suppress(FileNotFoundError):  # a socket left by a killed writer
            os.unlink(path)
        self.listener = Listener(path, family="AF_UNIX", backlog=128)  # (handshake: ours)
        self.wake_r, self._wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self._lock = threading.Lock()
        self._fresh: list[Connection] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True,
                                        name="hesuan-writer-accept")
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                conn = self.listener.accept()
            except OSError:
                return  # the listener was closed
            if self._stopping:
                conn.close()
                return
            threading.Thread(target=self._authenticate, args=(conn,), daemon=True,
                             name="hesuan-writer-handshake").start()

    def _authenticate(self, conn: Connection) -> None:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        limit = struct.pack("ll", int(_HANDSHAKE_S), 0)  # (a socket option: holds for conn)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
            if not _same_user(conn):
                raise AuthenticationError("peer runs as another user")
            deliver_challenge(conn, self.authkey)
            answer_challenge(conn, self.authkey)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 0))
        except (AuthenticationError, EOFError, OSError):
            conn.close()
            return
        finally:
            sock.close()
        with self._lock:
            self._fresh.append(conn)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def take(self) -> list[Connection]:
        with contextlib.suppress(BlockingIOError, OSError):
            while self.wake_r.recv(4096):
                pass
        with self._lock:
            fresh, self._fresh = self._fresh, []
        return fresh

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as nudge:
            nudge.connect(self.path)  # wakes a blocked accept()
        self._thread.join(timeout=5)
        self.listener.close()
        self.wake_r.close()
        self._wake_w.close()
        with self._lock:
            for conn in self._fresh:
                conn.close()


def serve_writes(write_group: WriteGroup, authenticate: Authenticate, path: str,
                 authkey: bytes, *, group_at_most: int,
                 started: Callable[[], None] | None = None,
                 stopping: Callable[[], bool] = lambda: False,
                 poll_s: float = 0.2) -> None:
    """Answer forwarded writes on the Unix socket ``path`` until ``stopping()`` is true.

    Each round waits up to ``poll_s`` seconds for something to arrive, reads every complete
    request on every connection, authenticates each request's bearer token and hands the
    requests to ``write_group`` (:meth:`GroupCommit.write_group`) in groups of
    ``group_at_most`` (the registry's batch size): requests that arrive together share a
    group commit, and each group is answered as soon as it has committed. ``stopping()`` is
    checked between rounds, so the requests under way are finished and answered first.
    ``started`` is called once the socket accepts connections.

    A connection that sends a frame that is not a request (or one longer than
    ``MAX_FRAME``, or a request whose fields do not fit its type) is closed; the requests
    it sent before still run. The outcome of a request whose connection has gone is not
    sent, but the request runs and commits all the same. If ``write_group`` itself fails,
    its group's requests are answered ``failed`` (their outcome is unknown: a retry with
    the same idempotency key tells). The socket is removed on return.
    """
    acceptor = _Acceptor(path, authkey)
    peers: list[_Peer] = []
    try:
        if started is not None:
            started()
        while not stopping():
            waiting: list[Any] = [acceptor.wake_r, *(p.conn for p in peers)]
            ready = wait(waiting, timeout=poll_s)
            arrived: list[tuple[_Peer, int, tuple[Actor, str | None, WriteRequest]]] = []
            for obj in ready:
                if obj is acceptor.wake_r:
                    peers.extend(_Peer(c) for c in acceptor.take())
                    continue
                peer = next(p for p in peers if p.conn is obj)
                arrived.extend(_receive(peer, authenticate))
            for start in range(0, len(arrived), group_at_most):
                group = arrived[start:start + group_at_most]
                try:
                    outcomes: Sequence[Any] = write_group([r for _, _, r in group])
                except Exception as exc:  # a defect: never let it end the service
                    outcomes = [exc] * len(group)
                replies: dict[int, tuple[_Peer, list[Any]]] = {}
                for (peer, request_id, _), outcome in zip(group, outcomes, strict=True):
                    replies.setdefault(id(peer), (peer, []))[1].append(
                        _reply(request_id, outcome))
                for peer, answers in replies.values():  # one frame per connection
                    peer.send(answers)
            peers = [p for p in peers if not p.closed]
    finally:
        for peer in peers:
            peer.close()
        acceptor.close()
        with contextlib.suppress(OSError):
            os.unlink(path)


def _receive(peer: _Peer, authenticate: Authenticate,
             ) -> list[tuple[_Peer, int, tuple[Actor, str | None, WriteRequest]]]:
    """Return the requests ``peer`` has sent so far, their tokens authenticated.

    A request whose token is refused is answered at once; ``peer`` is closed at a frame that
    is not a request.
    """
    requests = []
    try:
        while not peer.closed and peer.conn.poll(0):
            frame = peer.conn.recv_bytes(MAX_FRAME)
            message = decode(frame)
            if not (isinstance(message, list) and message and isinstance(message[0], int)):
                raise TypeError("not a message")
            if len(message) == 2 and message[1] == "ping":
                peer.send([[message[0], "ok", {"writer": "ok"}]])
                continue
            request_id, token, key, wire = message
            if not ((token is None or isinstance(token, str))
                    and (key is None or isinstance(key, str))):
                raise TypeError("not a write request")
            request = from_wire(wire)  # (a type error or ValidationError: hang up)
            try:
                actor = authenticate(token)
            except RegistryRejection as rej:
                peer.send([_reply(request_id, rej)])
                continue
            requests.append((peer, request_id, (actor, key, request)))
    except Exception:  # EOF, a frame too long, not JSON, not a request: hang up
        peer.close()
    return requests


def _reply(request_id: int, outcome: Any) -> list[Any]:
    if isinstance(outcome, RegistryRejection):
        return [request_id, "rejected", [outcome.code.value, outcome.message]]
    if isinstance(outcome, Exception):  # the details stay in the writer's log
        return [request_id, "failed", f"the write failed in the writer ({type(outcome).__name__})"]
    return [request_id, "ok", outcome]


class RemoteWriter:
    """An HTTP worker's connection to the writer process (one per event loop).

    Requests are sent from the loop, replies are read on a thread and handed back to the loop.
    """

    def __init__(self, path: str, authkey: bytes) -> None:
        self.path = path
        self._authkey = authkey
        self._ids = itertools.count()
        self._conn: Connection | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}  # (the current connection's)
        self._send_lock = threading.Lock()
        self._connecting: asyncio.Lock | None = None

    async def write(self, actor: Actor, key: str | None, request: WriteRequest, *,
                    token: str | None = None) -> dict[str, Any]:
        """Send the write to the writer process; return its outcome.

        The outcome as :meth:`GroupCommit.write_async` gives it: the result, or the
        rejection raised again here. The writer runs it as the party of ``token``
        (default: :data:`bearer_token`, the HTTP request's), which it authenticates
        itself; ``actor`` (the party this worker authenticated) is not sent.
        """
        token = token if token is not None else bearer_token.get()
        if token is None:
            raise WriterUnavailable("a forwarded write needs the request's bearer token")
        kind, value = await self._ask([token, key, to_wire(request)])
        if kind == "ok":
            result: dict[str, Any] = value
            return result
        if kind == "rejected":
            raise RegistryRejection(Rejection(value[0]), value[1])
        raise WriterUnavailable(value)

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """Whether the writer answers within ``timeout_s`` seconds."""
        try:
            kind, _ = await asyncio.wait_for(self._ask(["ping"]), timeout_s)
        except (WriterUnavailable, TimeoutError):
            return False
        return bool(kind == "ok")

    async def _ask(self, body: list[Any]) -> tuple[str, Any]:
        conn, waiting = await self._connected()
        request_id = next(self._ids)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        waiting[request_id] = future
        data = encode([request_id, *body])
        try:
            if len(data) > _SEND_IN_THREAD:
                await loop.run_in_executor(None, self._send, conn, data)
            else:
                self._send(conn, data)
        except OSError as exc:
            waiting.pop(request_id, None)
            raise WriterUnavailable(f"the writer process went away ({exc})") from None
        kind, value = await future
        return kind, value

    def _send(self, conn: Connection, data: bytes) -> None:
        with self._send_lock:
            conn.send_bytes(data)

    async def _connected(self) -> tuple[Connection, dict[int, asyncio.Future[Any]]]:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._conn is None:
                loop = asyncio.get_running_loop()
                try:
                    conn = await loop.run_in_executor(None, self._connect)
                except (OSError, EOFError, AuthenticationError) as exc:
                    raise WriterUnavailable(
                        f"cannot reach the writer process at {self.path}: "
                        f"{type(exc).__name__}") from None
                self._conn, self._waiting = conn, {}
                threading.Thread(target=self._replies, args=(conn, self._waiting, loop),
                                 daemon=True, name="hesuan-writer-replies").start()
            return self._conn, self._waiting

    def _connect(self) -> Connection:
        return Client(self.path, family="AF_UNIX", authkey=self._authkey)

    def _replies(self, conn: Connection, waiting: dict[int, asyncio.Future[Any]],
                 loop: asyncio.AbstractEventLoop) -> None:
        try:
            while True:
                answers = decode(conn.recv_bytes(MAX_FRAME))
                loop.call_soon_threadsafe(_resolve, waiting, answers)
        except Exception:  # EOF or a broken connection: the writer went away
            pass
        with contextlib.suppress(RuntimeError):  # (the loop may be closed already)
            loop.call_soon_threadsafe(self._lost, conn, waiting)

    def _lost(self, conn: Connection, waiting: dict[int, asyncio.Future[Any]]) -> None:
        """Answer what the writer had not answered as failed: its outcome is unknown."""
        if self._conn is conn:
            self._conn = None
        with contextlib.suppress(OSError):
            conn.close()
        for future in waiting.values():
            if not future.done():
                future.set_result(("failed", "the writer process went away before "
                                             "answering; retry with the same "
                                             "Idempotency-Key"))
        waiting.clear()


def _resolve(waiting: dict[int, asyncio.Future[Any]], answers: list[list[Any]]) -> None:
    """Hand each ``[request id, kind, value]`` of a reply frame to its waiting caller."""
    for request_id, kind, value in answers:
        future = waiting.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result((kind, value))
