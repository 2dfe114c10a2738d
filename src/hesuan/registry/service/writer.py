"""The writer process: one process runs every group commit; the HTTP workers forward writes.

A server's HTTP workers (``hesuan serve``) do not write themselves: each forwards its write
requests — use case, actor, idempotency key, arguments — over a local Unix socket to one
writer process, whose event loop does nothing but receive them and hand them to
:meth:`~hesuan.registry.service.core.Registry.write_async`, so its writer thread runs the
group commits (``core``) without sharing a GIL with HTTP work: the batch holding the chain
head is the serial part of every write, and the HTTP work of the same process used to
stretch it (``docs/registry.md``, "Measured throughput"). Outcomes — results and
rejections — come back on the same connection; the durability, idempotency and atomicity
of each request are the writer's :class:`~hesuan.registry.service.core.Registry`'s, unchanged.

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
import struct
from collections.abc import Callable
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


async def serve_writes(write: Callable[..., Any], path: str,
                       started: Callable[[], None] | None = None) -> None:
    """Answer forwarded writes on the Unix socket ``path`` until cancelled.

    ``write`` is :meth:`Registry.write_async`; every request runs as its own task, so the
    requests that arrive together reach the writer thread's queue together and share a
    group commit. ``started`` is called once the socket accepts connections.
    """

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def answer(request_id: int, operation: str, actor: list[Any], key: str,
                         kwargs: dict[str, Any]) -> None:
            try:
                reply = [request_id, "ok",
                         await write(operation, _actor(actor), key, **kwargs)]
            except RegistryRejection as rej:
                reply = [request_id, "rejected", [rej.code.value, rej.message]]
            except Exception as exc:  # reported to the HTTP worker, which answers 500
                reply = [request_id, "failed", f"{type(exc).__name__}: {exc}"]
            writer.write(_frame(reply))

        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                request_id, operation, actor, key, kwargs = await _read_frame(reader)
                task = asyncio.ensure_future(answer(request_id, operation, actor, key, kwargs))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the HTTP worker went away; its requests still complete and commit
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()

    server = await asyncio.start_unix_server(connection, path, limit=MAX_FRAME)
    async with server:
        if started is not None:
            started()
        await server.serve_forever()


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
