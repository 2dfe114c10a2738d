"""Group commit: the write engine that runs the registry's write requests.

:class:`GroupCommit` owns the write transactions, the idempotency records and the retries;
the requests it runs are typed (:mod:`hesuan.registry.service.requests`) and each one's
rules are its use case's (:mod:`hesuan.registry.service`), which this module never
decides. The waves a batch runs in are :mod:`.waves`, the pipelined statements on
PostgreSQL :mod:`.pipeline`, and the writer process :mod:`.writer`.

**Group commit.** Writes with an idempotency key (every request of the API and the CLI) are
queued; the registry's writer thread (one per process, started on the first write) takes up
to ``MAX_BATCH`` queued requests and runs them in ONE database transaction, then commits
once and wakes every caller with its outcome — a blocked thread
(:meth:`GroupCommit.write`) or an awaiting coroutine (:meth:`GroupCommit.write_async`, the
HTTP API's write routes, which so hold no thread while they wait). A caller that gathers
concurrent requests itself — the server's writer process — runs them with
:meth:`GroupCommit.write_group` on its own thread instead. A request is answered only
after that commit, so durability is unchanged (one WAL flush now covers the whole batch
instead of one request). Per request:

1. the ``(party, idempotency key)`` is looked up (one read for the whole batch) — a key seen
   before returns its stored outcome (success or the same rejection) if the payload is
   identical, and ``idempotency_key_must_match_payload`` if not (a repeat inside the same
   batch sees the first one's record: same transaction);
2. the use case runs all its checks, in order, before its first write; the key and the
   outcome are stored in the same transaction;
3. a rejection has therefore changed nothing: the failure is recorded under the key (a
   failed key stays failed) and the batch goes on. A request that fails *after* writing (a
   database error, or a use case that broke rule 2) rolls the whole batch back and each of
   its requests is re-run in a transaction of its own, which then gives each its own
   outcome. A batch whose idempotency record collides with a concurrent process's (unique
   violation) is re-run the same way;
4. a serialisation failure or deadlock (SQLSTATE 40001/40P01) or a busy SQLite retries the
   whole batch with jittered back-off, at most ``MAX_ATTEMPTS`` times.

**Waves.** The requests run in arrival order, except that transfers on disjoint accounts
are grouped into waves (:func:`.waves.waves`): each wave's first reads (account locks, first block
page) are all sent before the first of its transfers runs, so on PostgreSQL a wave waits for
the server once instead of once per transfer. Requests that depend on each other (an account
or an idempotency key in common) keep their arrival order, and every other use case runs
alone in its place, so each request sees what it would have seen in arrival order; the
others commute, and none of a batch's requests has been answered, so their order is free.

Each request stays atomic without a savepoint of its own: it either wrote nothing or all of
its writes commit with the batch. The events and idempotency records of the batch are
inserted at its end, one statement per table, and the chain head once.

On PostgreSQL a batch takes the chain head (``registry_meta``, ``FOR UPDATE``) first, so the
global lock order is chain head → accounts (ascending id) → blocks and two batches (from two
server processes) never deadlock; the chain serialises writers anyway. On SQLite the batch
runs under ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ARRAY, Connection, Engine, Integer, String, any_, bindparam, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hesuan.registry.db import tables as t
from hesuan.registry.db.engine import read_engine
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import canonical_json
from hesuan.registry.domain.events import digest as event_digest
from hesuan.registry.engine.pipeline import PipelinedSession, PipelineFailed, session_for
from hesuan.registry.engine.waves import WaveReads, waves
from hesuan.registry.service.requests import WriteRequest
from hesuan.registry.service.session import TxSession
from hesuan.registry.service.tx import (
    LOCK_HEAD,
    Actor,
    Moves,
    RegistryCache,
    Tx,
    utc_now,
    write_head_row,
    write_moves,
)

MAX_ATTEMPTS = 20
MAX_BATCH = 32  # requests per group commit (bounded: a batch may be re-run request by request)
# built once: SQLAlchemy compiles each construct once and reuses it (hot path of every request)
_REQ = t.requests.c
_PRIOR = select(_REQ.operation, _REQ.payload_sha256, _REQ.status, _REQ.response).where(
    _REQ.party_id == bindparam("party"), _REQ.idempotency_key == bindparam("key"))
# a batch's priors in one read: every (party, key) pair of the two lists, matched in Python
_PRIORS = select(_REQ.party_id, _REQ.idempotency_key, _REQ.operation, _REQ.payload_sha256,
                 _REQ.status, _REQ.response)
_PRIORS_PG = _PRIORS.where(_REQ.party_id == any_(bindparam("parties", type_=ARRAY(Integer))),
                           _REQ.idempotency_key == any_(bindparam("keys",
                                                                  type_=ARRAY(String))))
_PRIORS = _PRIORS.where(_REQ.party_id.in_(bindparam("parties", expanding=True)),
                        _REQ.idempotency_key.in_(bindparam("keys", expanding=True)))
#: A write request as :meth:`GroupCommit.write_group` takes it: the actor, the idempotency
#: key and the typed request.
Write = tuple[Actor, str | None, WriteRequest]
_RETRY_SQLSTATES = {"40001", "40P01"}


def _resolve(futures: list[Any]) -> None:
    """On their event loop: mark the futures of a finished batch done."""
    for future in futures:
        if not future.done():
            future.set_result(None)


class _UndoBatch(Exception):
    """A request failed after writing: its batch must roll back (see ``_run_one``)."""


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def _digest(request: WriteRequest) -> str:
    """Return the SHA-256 of a request as its idempotency record stores it.

    Of its use case's name and the fields its caller set.
    """
    return hashlib.sha256(canonical_json({"operation": request.operation,
                                          "payload": request.payload()})
                          .encode()).hexdigest()


def _strip_secrets(result: dict[str, Any]) -> dict[str, Any]:
    """Return what is stored under an idempotency key: never a token (tokens are hashed at rest)."""
    if "token" not in result:
        return result
    return {**{k: v for k, v in result.items() if k != "token"},
            "token": None, "token_note": "shown once; request a new token to get another"}


@dataclass
class _Pending:
    """A queued write request and, once its batch has committed, its outcome."""

    actor: Actor
    key: str
    request: WriteRequest
    digest: str
    """SHA-256 of the request, as its idempotency record stores it (:func:`_digest`)."""
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    rerun_alone: bool = False
    done: bool = False
    on_done: Callable[[], None] | None = None
    """Called by the writer thread once the outcome is set (wakes a waiting thread)."""
    future: Any = None
    """Or: the ``asyncio`` future a coroutine awaits, resolved on its event loop (one
    hand-off per loop and batch, not per request)."""


class GroupCommit:
    """The write engine of one registry database.

    A writer thread that runs queued write requests as group commits (or
    :meth:`write_group` on the caller's thread), their idempotency records, retries and
    re-runs; or, in a server's HTTP worker, the connection to the writer process that does
    (:meth:`forward_writes`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = read_engine(engine)
        self._cache = RegistryCache()
        # SQLite admits one writer at a time; queueing this process's writers on a lock is
        # fairer and faster than letting them spin in SQLite's busy handler (other processes
        # still wait through busy_timeout). PostgreSQL writers run concurrently under row locks.
        # One batch (group commit) at a time per process; SQLite admits one writer anyway,
        # and on PostgreSQL the chain head serialises writers. Other processes wait on the
        # database (busy_timeout / row lock).
        self._write_gate = threading.Lock()
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._queue_ready = threading.Condition(self._queue_lock)
        self._writer: threading.Thread | None = None
        self._batch_conn: Connection | None = None
        self._remote: Any = None  # a writer.RemoteWriter once forward_writes was called
        self._closing = False
        self.batches = 0  # group commits so far (for benchmarks and tests)
        self.undone_batches = 0  # batches rolled back and re-run request by request

    def close(self) -> None:
        """Finish the queued writes, stop the writer thread, close the connections."""
        with self._queue_lock:
            self._closing = True
            self._queue_ready.notify_all()
            writer = self._writer
        if writer is not None:
            writer.join()
        self._drop_batch_connection()
        self.engine.dispose()

    # -- writes --------------------------------------------------------------------------
    def write(self, actor: Actor | None, key: str | None,
              request: WriteRequest) -> dict[str, Any]:
        """Run one write request in a group commit and return its outcome (blocking).

        The outcome is the use case's result, or its :class:`RegistryRejection` raised.
        ``actor`` ``None`` is for :class:`~hesuan.registry.service.requests.Bootstrap` alone.
        """
        pending = self._pending(actor, key, request)
        if pending is None:
            return self._write_alone(actor, key, request, _digest(request))
        woken = threading.Event()
        pending.on_done = woken.set
        self._enqueue(pending)
        woken.wait()
        if pending.rerun_alone:
            return self._write_alone(actor, key, request, pending.digest)
        return self._outcome_of(pending)

    async def write_async(self, actor: Actor, key: str | None,
                          request: WriteRequest) -> dict[str, Any]:
        """Run :meth:`write` for an event loop.

        The request waits for its group commit without holding a thread (the HTTP API's
        write routes use this); in a server's HTTP worker it is sent to the writer process
        (:meth:`forward_writes`).
        """
        import asyncio

        from starlette.concurrency import run_in_threadpool

        if self._remote is not None:
            result: dict[str, Any] = await self._remote.write(actor, key, request)
            return result
        pending = self._pending(actor, key, request)
        if pending is None:
            return await run_in_threadpool(self.write, actor, key, request)
        pending.future = asyncio.get_running_loop().create_future()
        self._enqueue(pending)
        await pending.future
        if pending.rerun_alone:
            return await run_in_threadpool(self._write_alone, actor, key, request,
                                           pending.digest)
        return self._outcome_of(pending)

    def write_group(self, requests: Sequence[Write]) -> list[dict[str, Any] | Exception]:
        """Run ``requests`` as group commits in this thread and return each one's outcome.

        Each request is the actor, the idempotency key and the typed request; the group
        commits hold at most ``MAX_BATCH`` requests each, in order. An outcome is its result,
        or the exception it raised (a :class:`RegistryRejection` for a refusal). Each
        request has exactly the outcome :meth:`write_async` would give it; this is for a
        caller that gathers concurrent requests itself (the writer process,
        :mod:`.writer`), with no writer thread or event loop in between.
        """
        outcomes: list[dict[str, Any] | Exception | None] = [None] * len(requests)
        queued: list[tuple[int, _Pending]] = []
        for i, (actor, key, request) in enumerate(requests):
            try:
                pending = self._pending(actor, key, request)
                if pending is None:  # (no actor: not a request of the API)
                    raise ValueError("a forwarded write needs an actor")
            except Exception as exc:  # refused before it could be queued
                outcomes[i] = exc
                continue
            queued.append((i, pending))
        for start in range(0, len(queued), MAX_BATCH):
            chunk = queued[start:start + MAX_BATCH]
            with self._write_gate:
                self._commit_batch([p for _, p in chunk])
            for i, p in chunk:
                try:
                    outcomes[i] = self._write_alone(p.actor, p.key, p.request,
                                                    p.digest) if p.rerun_alone \
                        else self._outcome_of(p)
                except Exception as exc:  # the request's own outcome
                    outcomes[i] = exc
        if any(out is None for out in outcomes):
            raise RuntimeError("a request of the group has no outcome")
        return [out for out in outcomes if out is not None]

    def forward_writes(self, socket_path: str, authkey: bytes) -> None:
        """Send the writes of :meth:`write_async` to a writer process instead of here.

        The writer process listens on ``socket_path`` (:mod:`.writer`; ``authkey`` is its
        per-start secret). For the HTTP workers of a server, whose one writer process runs
        every group commit.
        """
        from hesuan.registry.engine.writer import RemoteWriter

        self._remote = RemoteWriter(socket_path, authkey)

    async def writer_state(self) -> str:
        """``"ok"`` when writes can be committed now.

        The writer process answers (in a server's HTTP worker) or this process writes itself; else
        ``"unavailable"``.
        """
        if self._remote is None:
            return "ok"
        return "ok" if await self._remote.ping() else "unavailable"

    def _pending(self, actor: Actor | None, key: str | None,
                 request: WriteRequest) -> _Pending | None:
        """Return the queued form of a write, or ``None`` for one that runs alone (bootstrap)."""
        if actor is not None and not key:
            raise RegistryRejection(Rejection.idempotency_key_must_be_given,
                                    "every change needs an idempotency key (header "
                                    "Idempotency-Key, CLI --key)")
        if actor is None or key is None:
            return None
        return _Pending(actor, key, request, _digest(request))

    def _enqueue(self, pending: _Pending) -> None:
        """Queue a write for the writer thread (started on first use)."""
        with self._queue_lock:
            if self._closing:
                raise RuntimeError("the registry is closed")
            self._queue.append(pending)
            self._queue_ready.notify()
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_batches, daemon=True,
                                                name="hesuan-registry-writer")
                self._writer.start()

    def _write_batches(self) -> None:
        """Run the writer thread until the registry is closed and the queue empty.

        Take up to ``MAX_BATCH`` queued writes, commit them as one group, wake their callers.
        """
        while True:
            with self._queue_lock:
                while not self._queue and not self._closing:
                    self._queue_ready.wait()
                if not self._queue:
                    return
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            with self._write_gate:
                self._commit_batch(batch)  # sets every outcome, whatever happens
            self._wake(batch)

    @staticmethod
    def _wake(batch: list[_Pending]) -> None:
        """Wake the callers of a finished batch.

        Each waiting thread, and each event loop once (a thread-safe call per loop resolves all of
        its futures).
        """
        futures: dict[Any, list[Any]] = {}
        for p in batch:
            if p.on_done is not None:
                p.on_done()
            elif p.future is not None:
                futures.setdefault(p.future.get_loop(), []).append(p.future)
        for loop, waiting in futures.items():
            with contextlib.suppress(RuntimeError):  # its event loop has closed
                loop.call_soon_threadsafe(_resolve, waiting)

    @staticmethod
    def _outcome_of(pending: _Pending) -> dict[str, Any]:
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def _commit_batch(self, batch: list[_Pending]) -> None:
        """Run ``batch`` in one transaction and commit once.

        On PostgreSQL the batch's writes are pipelined (:mod:`.session`). If a statement
        fails (pipelined or not) or a request fails after writing (:meth:`_run_one`), the
        batch is rolled back and each request is re-run on its own.
        """
        try:
            for attempt in range(MAX_ATTEMPTS):
                outcomes: list[tuple[Any, BaseException | None]] = []
                learned: list[Tx] = []
                try:
                    conn = self._batch_connection()
                    with conn.begin():
                        session = session_for(conn, pipelined=True)
                        try:
                            outcomes = self._run_batch(session, batch, learned)
                            session.commit()
                        except BaseException:  # leave pipeline mode before the rollback
                            if isinstance(session, PipelinedSession):
                                session.abandon()
                            raise
                except (PipelineFailed, DBAPIError, _UndoBatch) as exc:
                    self._drop_batch_connection()  # (the next batch starts afresh)
                    retry = exc.sqlstate in _RETRY_SQLSTATES if isinstance(exc, PipelineFailed) \
                        else isinstance(exc, DBAPIError) and _retryable(exc)
                    if retry and attempt < MAX_ATTEMPTS - 1:
                        time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 7)))
                        continue
                    self.undone_batches += 1
                    for p in batch:  # which request failed is unknown: each on its own
                        p.rerun_alone = True
                    return
                self.batches += 1
                for p, (result, error) in zip(batch, outcomes, strict=True):
                    p.result, p.error = result, error
                for tx in learned:  # committed: their immutable facts may be cached now
                    self._cache.learn(tx)
                return
        except BaseException as exc:  # the batch did not commit: every request gets why
            self._drop_batch_connection()
            for p in batch:
                p.result, p.error = None, exc
        finally:
            for p in batch:
                if p.result is None and p.error is None and not p.rerun_alone:
                    p.error = RuntimeError("write batch ended without an outcome")
                p.done = True

    def _run_batch(self, session: TxSession, batch: list[_Pending],
                   learned: list[Tx]) -> list[tuple[Any, BaseException | None]]:
        """Run every request of ``batch`` in ``session``, wave by wave, and return outcomes.

        Each outcome is the request's result or the rejection it raised, in batch order. The
        chain head is locked first and handed from request to request; the stored replies of
        the requests that succeeded are journaled and the head row written once, after the
        last event. Nothing is committed here (:meth:`_commit_batch` commits).
        """
        # lock order on PostgreSQL: head → accounts → blocks; the head is then handed from
        # request to request (no re-read)
        locked_head = session.fetch_later(LOCK_HEAD)
        priors = self._priors(session, batch)
        order = waves(batch)
        prefetched: dict[tuple[Any, ...], Any] = {}
        moves = Moves()
        self._prefetch(session, [batch[i] for i in order[0]], prefetched)
        head = [next(iter(locked_head()), None)]  # one round trip
        start = head[0]
        stored = {(r.party_id, r.idempotency_key): r for r in priors()}
        seen: dict[tuple[int, str], Any] = {}
        outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * len(batch)
        for n, wave in enumerate(order):
            if n:
                prefetched.clear()  # (reads of refused requests)
                self._prefetch(session, [batch[i] for i in wave], prefetched)
            for i in wave:
                p = batch[i]
                outcomes[i] = self._run_one(
                    session, p, head, learned, stored.get((p.actor.party_id, p.key)), seen,
                    prefetched, moves)
            write_moves(session, moves)  # before the next wave reads
        self._journal_replies(session, head, [r for r in seen.values() if r.status == "ok"])
        if head[0] is not start:  # the head once, after the last event
            write_head_row(session, head[0])
        session.insert_appended()
        return outcomes

    def _journal_replies(self, session: TxSession, head: list[Any],
                         records: list[Any]) -> None:
        """Journal the stored replies of the requests that succeeded in this transaction.

        One ``requests_recorded`` event (no actor: the registry records them) whose private part
        holds each ``(party, key, operation, payload SHA-256, reply SHA-256)``, so a stored reply
        edited or planted later differs from the journal. Refusals changed nothing and are not
        journaled.
        """
        if not records:
            return
        tx = Tx(session, None, cache=self._cache, known_head=head[0])
        tx.emit("requests_recorded", {"count": len(records), "requests": [
            [r.party_id, r.idempotency_key, r.operation, r.payload_sha256,
             event_digest(r.response)] for r in records]})
        tx.finish(write_head=False)
        head[0] = tx.head()

    def _prefetch(self, session: TxSession, wave: list[_Pending],
                  prefetched: dict[tuple[Any, ...], Any]) -> None:
        """Send the first reads of the wave's confined requests into ``prefetched``.

        They then share one round trip on PostgreSQL.
        """
        reads = WaveReads() if session.dialect.name == "postgresql" else None
        for p in wave:
            if p.request.confined and p.request.accounts() is not None:
                p.request.prefetch(Tx(session, None, cache=self._cache, prefetched=prefetched,
                                      wave_reads=reads))
        if reads is not None:
            reads.send(session, prefetched)

    def _batch_connection(self) -> Connection:
        """Return the connection group commits run on, kept from one batch to the next.

        Kept under ``_write_gate``: checking one out of the pool pings the server, a round trip per
        batch. After a batch fails it is dropped (:meth:`_drop_batch_connection`), so a connection
        that broke is replaced by a pinged one, and the failed batch's requests are re-run alone on
        connections of their own.
        """
        if self._batch_conn is None or self._batch_conn.closed or \
                self._batch_conn.invalidated:
            self._drop_batch_connection()
            self._batch_conn = self.engine.connect()
        return self._batch_conn

    def _drop_batch_connection(self) -> None:
        conn, self._batch_conn = self._batch_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection is discarded anyway
                conn.close()

    def _run_one(self, session: TxSession, p: _Pending, head: list[Any], learned: list[Tx],
                 stored_prior: Any, seen: dict[tuple[int, str], Any],
                 prefetched: dict[tuple[Any, ...], Any], moves: Moves,
                 ) -> tuple[Any, BaseException | None]:
        """One request inside the batch's transaction: (result, rejection).

        ``stored_prior`` is the key's record as read when the batch began; ``seen`` holds
        the records of earlier requests of this batch (a key repeated within one batch gets
        the first one's outcome, as if it had come in the next batch).

        No savepoint: a use case checks all its rules before its first write, so a request
        that is refused has changed nothing and the batch goes on without it. A request
        that fails *after* writing (a database error, or a use case breaking that rule)
        raises :class:`_UndoBatch`: the batch rolls back and each of its requests runs on
        its own.
        """
        writes_before = session.writes
        try:
            prior = seen.get((p.actor.party_id, p.key), stored_prior)
            if prior is not None:
                return self._outcome(prior, p.request.operation, p.digest), None
            tx = Tx(session, p.actor, p.key, cache=self._cache, known_head=head[0],
                    prefetched=prefetched,
                    moves=moves if p.request.confined else None)
            result = p.request.run(tx)
            record = {"party_id": p.actor.party_id, "idempotency_key": p.key,
                      "operation": p.request.operation, "payload_sha256": p.digest,
                      "status": "ok",
                      "response": json.dumps(_strip_secrets(result)), "created_at": utc_now()}
            tx.finish(record, write_head=False)
            seen[(p.actor.party_id, p.key)] = SimpleNamespace(**record)
            if tx.head() is not None:
                head[0] = tx.head()
            learned.append(tx)
            return result, None
        except (PipelineFailed, _UndoBatch):
            raise  # the batch is re-run request by request
        except DBAPIError as exc:
            if _retryable(exc):
                raise
            raise _UndoBatch from exc  # the transaction may be aborted (PostgreSQL)
        except Exception as exc:  # a refusal, or this request's own failure
            if session.writes != writes_before:
                raise _UndoBatch from exc
            if isinstance(exc, RegistryRejection) and \
                    exc.code is not Rejection.idempotency_key_must_match_payload:
                record = self._failure(p.actor, p.key, p.request.operation, p.digest, exc)
                session.append(t.requests, [record])  # a failed key stays failed
                seen[(p.actor.party_id, p.key)] = SimpleNamespace(**record)
            return None, exc

    @staticmethod
    def _failure(actor: Actor, key: str, operation: str, digest: str,
                 rej: RegistryRejection) -> dict[str, Any]:
        """Return the idempotency record (a ``requests`` row) of a refused request."""
        return {"party_id": actor.party_id, "idempotency_key": key, "operation": operation,
                "payload_sha256": digest, "status": "failed",
                "response": json.dumps({"code": rej.code.value, "message": rej.message}),
                "created_at": utc_now()}

    def _write_alone(self, actor: Actor | None, key: str | None, request: WriteRequest,
                     digest: str) -> dict[str, Any]:
        """One write in its own transaction (bootstrap, and a re-run after a key collision)."""
        operation = request.operation
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self._write_gate, self.engine.connect() as conn, conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(LOCK_HEAD)  # lock order: head → accounts → blocks
                    if actor is not None and key is not None:
                        prior = self._prior(conn, actor, key)
                        if prior is not None:
                            return self._outcome(prior, operation, digest)
                    tx = Tx(session_for(conn, pipelined=False), actor, key, cache=self._cache)
                    result = request.run(tx)
                    if actor is None or key is None:
                        tx.finish(None)
                    else:
                        record = {
                            "party_id": actor.party_id, "idempotency_key": key,
                            "operation": operation, "payload_sha256": digest, "status": "ok",
                            "response": json.dumps(_strip_secrets(result)),
                            "created_at": utc_now()}
                        tx.finish(record, write_head=False)
                        head = [tx.head()]
                        self._journal_replies(tx.session, head, [SimpleNamespace(**record)])
                        write_head_row(tx.session, head[0])
                    tx.session.insert_appended()
                self._cache.learn(tx)  # committed
                return result
            except RegistryRejection as rej:
                if rej.code is not Rejection.idempotency_key_must_match_payload and \
                        actor is not None and key is not None:
                    self._record_failure(actor, key, operation, digest, rej)
                raise
            except IntegrityError:
                # the same key committed by a concurrent request → return its outcome
                if actor is not None and key is not None:
                    with self._read.connect() as c:
                        prior = self._prior(c, actor, key)
                    if prior is not None:
                        return self._outcome(prior, operation, digest)
                raise
            except DBAPIError as exc:
                if not _retryable(exc) or attempt == MAX_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 7)))
        raise AssertionError("unreachable")

    @staticmethod
    def _priors(session: TxSession, batch: list[_Pending]) -> Callable[[], list[Any]]:
        """Return the stored outcomes of the batch's ``(party, key)`` pairs, in one read.

        The read is sent now and taken when called: rows with ``party_id`` and ``idempotency_key``,
        possibly more than asked (pairs across the two lists), so look them up by pair.
        """
        query = _PRIORS_PG if session.dialect.name == "postgresql" else _PRIORS
        return session.fetch_later(query, {
            "parties": sorted({p.actor.party_id for p in batch}),
            "keys": sorted({p.key for p in batch})}, fresh_plan=True)  # requests grows

    @staticmethod
    def _prior(conn: Connection | TxSession, actor: Actor, key: str) -> Any:
        params = {"party": actor.party_id, "key": key}
        if isinstance(conn, TxSession):
            return next(iter(conn.fetch(_PRIOR, params)), None)
        return conn.execute(_PRIOR, params).first()

    @staticmethod
    def _outcome(prior: Any, operation: str, digest: str) -> dict[str, Any]:
        if prior.operation != operation or prior.payload_sha256 != digest:
            raise RegistryRejection(
                Rejection.idempotency_key_must_match_payload,
                f"idempotency key was used before for a different request ({prior.operation}); "
                "use a new key for a new request")
        body = json.loads(prior.response)
        if prior.status == "failed":
            raise RegistryRejection(Rejection(body["code"]), body["message"])
        return dict(body) | {"idempotent_replay": True}

    def _record_failure(self, actor: Actor, key: str, operation: str, digest: str,
                        rej: RegistryRejection) -> None:
        try:
            with self._write_gate, self.engine.begin() as conn:
                conn.execute(insert(t.requests).values(
                    **self._failure(actor, key, operation, digest, rej)))
        except IntegrityError:
            pass  # a concurrent request with this key already recorded its outcome
