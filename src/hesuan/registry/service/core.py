"""The registry's Python API: one method per use case, each one atomic unit of work.

:meth:`Registry._write` owns the transactions, the idempotency records and the retries.

**Group commit.** Writes with an idempotency key (every request of the API and the CLI) are
queued; the registry's writer thread (one per process, started on the first write) takes up
to ``MAX_BATCH`` queued requests and runs them in ONE database transaction, then commits
once and wakes every caller with its outcome — a blocked thread
(:meth:`Registry._write`) or an awaiting coroutine (:meth:`Registry.write_async`, the HTTP
API's write routes, which so hold no thread while they wait). A caller that gathers
concurrent requests itself — the server's writer process — runs them with
:meth:`Registry.write_group` on its own thread instead. A request is answered only
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
are grouped into waves (:func:`_waves`): each wave's first reads (account locks, first block
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ARRAY, Connection, Engine, Integer, String, any_, bindparam, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.db.engine import make_engine, migrate, read_engine
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import canonical_json
from hesuan.registry.domain.events import digest as event_digest
from hesuan.registry.domain.model import Role
from hesuan.registry.service import audit, foreign, parties, queries, units
from hesuan.registry.service.parties import hash_token
from hesuan.registry.service.session import (
    PipelinedSession,
    PipelineFailed,
    TxSession,
    session_for,
)
from hesuan.registry.service.tx import (
    LOCK_HEAD,
    Actor,
    Moves,
    RegistryCache,
    Tx,
    WaveReads,
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
_TOKEN = select(t.tokens.c.expires_at, t.parties.c.id, t.parties.c.role, t.parties.c.country,
                t.parties.c.name) \
    .join(t.parties, t.parties.c.id == t.tokens.c.party_id) \
    .where(t.tokens.c.token_sha256 == bindparam("token"))
#: The write use cases by name (the name is also the operation stored with the request).
_USE_CASES: dict[str, Callable[..., dict[str, Any]]] = {
    "create_party": parties.create_party, "open_account": parties.open_account,
    "revoke_tokens": parties.revoke_tokens,
    "create_project": parties.create_project,
    "transition_project": parties.transition_project, "add_document": parties.add_document,
    "submit_report": parties.submit_report, "verify_report": parties.verify_report,
    "accredit_verifier": parties.accredit_verifier,
    "issue": units.issue, "transfer": units.transfer, "retire": units.retire,
    "cancel": units.cancel, "buffer_reversal": units.buffer_reversal,
    "authorise": units.authorise, "corresponding_adjustment": units.corresponding_adjustment,
    "record_foreign_issuances": foreign.record_foreign_issuances,
}
#: Use cases whose effect is confined to the accounts their arguments name (and those
#: accounts' blocks, and the chain): the accounts named by a request's arguments, or
#: ``None`` if they cannot be told; and the function that sends the use case's first reads.
_CONFINED: dict[str, tuple[Callable[[dict[str, Any]], frozenset[int] | None],
                           Callable[..., None]]] = {
    "transfer": (units.transfer_accounts, units.prefetch_transfer),
}
#: A write request as :meth:`Registry.write_group` takes it: use case name, actor,
#: idempotency key and the use case's arguments.
WriteRequest = tuple[str, Actor, str | None, dict[str, Any]]
_RETRY_SQLSTATES = {"40001", "40P01"}
_TOKENS_AT_MOST = 100_000  # tokens remembered per process (forgotten all at once beyond)
TOKEN_MEMORY_S = 1.0  # how long a looked-up token is trusted without asking the database


def _resolve(futures: list[Any]) -> None:
    """On their event loop: mark the futures of a finished batch done."""
    for future in futures:
        if not future.done():
            future.set_result(None)


def _waves(batch: list[_Pending]) -> list[list[int]]:
    """Return the order a group commit runs ``batch`` in: waves of request indices.

    A request goes into the wave after the last one holding a request it depends on: an
    earlier request of the batch on one of its accounts (:data:`_CONFINED`) or with its
    idempotency key, or any earlier request that is not confined (whose effects cannot be
    told in advance: it gets a wave of its own, after all earlier ones). The requests of one
    wave touch disjoint accounts, so their first reads can all be sent before the first runs
    (:meth:`Registry._prefetch`), and each reads what it would have read in arrival order:
    requests that depend on each other keep their order, and the others commute (the
    requests of a batch are concurrent — none has been answered — so any order of
    independent ones is one the callers could have seen). The chain records the order run.
    """
    waves: list[list[int]] = []
    last_on: dict[Any, int] = {}  # account id or (party, key) → last wave touching it
    floor = 0  # no request goes before a non-confined one that arrived earlier
    for i, p in enumerate(batch):
        confined = _CONFINED.get(p.operation)
        accounts = None if confined is None else confined[0](p.args)
        if accounts is None:
            waves.append([i])
            floor = len(waves)
            continue
        marks = [*accounts, (p.actor.party_id, p.key)]
        wave = max([floor, *(last_on[m] + 1 for m in marks if m in last_on)])
        if wave == len(waves):
            waves.append([])
        waves[wave].append(i)
        last_on.update(dict.fromkeys(marks, wave))
    return waves


class _UndoBatch(Exception):
    """A request failed after writing: its batch must roll back (see ``_run_one``)."""


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def _digest(operation: str, payload: dict[str, Any]) -> str:
    """SHA-256 of a request as its idempotency record stores it."""
    return hashlib.sha256(canonical_json({"operation": operation, "payload": payload})
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
    operation: str
    digest: str
    fn: Callable[[Tx], dict[str, Any]]
    args: dict[str, Any] = field(default_factory=dict)
    """The use case's arguments (as hashed in ``digest``)."""
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    rerun_alone: bool = False
    done: bool = False
    on_done: Callable[[], None] | None = None
    """Called by the writer thread once the outcome is set (wakes a waiting thread)."""
    future: Any = None
    """Or: the ``asyncio`` future a coroutine awaits, resolved on its event loop (one
    hand-off per loop and batch, not per request)."""


class Registry:
    """A registry stored in one SQL database (SQLite file or PostgreSQL)."""

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
        # token SHA-256 → (party, expiry, remembered until — time.monotonic())
        self._tokens: dict[str, tuple[Actor, str | None, float]] = {}
        self._write_gate = threading.Lock()
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._queue_ready = threading.Condition(self._queue_lock)
        self._writer: threading.Thread | None = None
        self._batch_conn: Connection | None = None
        self._remote: Any = None  # a writer.RemoteWriter once forward_writes was called
        self._closing = False
        self._verify_lock = threading.Lock()
        self._verified: audit.Verified | None = None  # where the next verify continues
        self.batches = 0  # group commits so far (for benchmarks and tests)
        self.undone_batches = 0  # batches rolled back and re-run request by request

    @classmethod
    def open(cls, url: str, *, pool_size: int = 40) -> Registry:
        """Open (and migrate to the newest schema) the registry at ``url``."""
        engine = make_engine(url, pool_size=pool_size)
        migrate(engine)
        return cls(engine)

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

    @property
    def dialect(self) -> str:
        """Return the database's dialect name (``sqlite`` or ``postgresql``)."""
        return self.engine.dialect.name

    # -- transactions --------------------------------------------------------------------
    def read(self) -> Session:
        """Return a session for read-only work (plain ``BEGIN`` on SQLite)."""
        return Session(self._read)

    def _write(self, actor: Actor | None, key: str | None, operation: str,
               payload: dict[str, Any], fn: Callable[[Tx], dict[str, Any]]) -> dict[str, Any]:
        """Run one write use case and return its outcome (blocking)."""
        pending = self._pending(actor, key, operation, payload, fn)
        if pending is None:
            digest = _digest(operation, payload)
            return self._write_alone(actor, key, operation, digest, fn)
        woken = threading.Event()
        pending.on_done = woken.set
        self._enqueue(pending)
        woken.wait()
        if pending.rerun_alone:
            return self._write_alone(actor, key, operation, pending.digest, fn)
        return self._outcome_of(pending)

    async def write_async(self, operation: str, actor: Actor, key: str | None,
                          **kwargs: Any) -> dict[str, Any]:
        """Run :meth:`_write` of the use case ``operation`` for an event loop.

        ``operation`` is a method name of this class, e.g. ``"transfer"``. The request waits for its
        group commit without holding a thread (the HTTP API's write routes use this).
        """
        import asyncio

        from starlette.concurrency import run_in_threadpool

        if self._remote is not None:
            result: dict[str, Any] = await self._remote.write(operation, actor, key, kwargs)
            return result
        fn, payload = self._use_case(operation, kwargs)
        pending = self._pending(actor, key, operation, payload, fn)
        if pending is None:
            return await run_in_threadpool(self._write, actor, key, operation, payload, fn)
        pending.future = asyncio.get_running_loop().create_future()
        self._enqueue(pending)
        await pending.future
        if pending.rerun_alone:
            return await run_in_threadpool(self._write_alone, actor, key, operation,
                                           pending.digest, fn)
        return self._outcome_of(pending)

    def write_group(self, requests: Sequence[WriteRequest]) -> list[dict[str, Any] | Exception]:
        """Run ``requests`` as group commits in this thread and return each one's outcome.

        Each request is a use case name (e.g. ``"transfer"``), the actor, the idempotency key and
        the arguments; at most ``MAX_BATCH`` requests per commit, in order. The outcome is its
        result, or the exception it raised (a :class:`RegistryRejection` for a refusal): exactly the
        outcome :meth:`write_async` would give it. This is for a caller that gathers concurrent
        requests itself (the writer process, :mod:`.writer`), with no writer thread or event loop in
        between.
        """
        outcomes: list[dict[str, Any] | Exception | None] = [None] * len(requests)
        queued: list[tuple[int, _Pending]] = []
        for i, (operation, actor, key, kwargs) in enumerate(requests):
            try:
                fn, payload = self._use_case(operation, kwargs)
                pending = self._pending(actor, key, operation, payload, fn)
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
                    outcomes[i] = self._write_alone(p.actor, p.key, p.operation, p.digest,
                                                    p.fn) if p.rerun_alone \
                        else self._outcome_of(p)
                except Exception as exc:  # the request's own outcome
                    outcomes[i] = exc
        if any(out is None for out in outcomes):
            raise RuntimeError("a request of the group has no outcome")
        return [out for out in outcomes if out is not None]

    def forward_writes(self, socket_path: str, authkey: bytes) -> None:
        """Send the writes of :meth:`write_async` to the writer process on ``socket_path``.

        Instead of committing them here (:mod:`.writer`; ``authkey`` is its per-start secret): for
        the HTTP workers of a server, whose one writer process runs every group commit.
        """
        from hesuan.registry.service.writer import RemoteWriter

        self._remote = RemoteWriter(socket_path, authkey)

    async def writer_state(self) -> str:
        """``"ok"`` when writes can be committed now.

        The writer process answers (in a server's HTTP worker) or this process writes itself; else
        ``"unavailable"``.
        """
        if self._remote is None:
            return "ok"
        return "ok" if await self._remote.ping() else "unavailable"

    def _pending(self, actor: Actor | None, key: str | None, operation: str,
                 payload: dict[str, Any], fn: Callable[[Tx], dict[str, Any]],
                 ) -> _Pending | None:
        """Return the queued form of a write, or ``None`` for one that runs alone (bootstrap)."""
        if actor is not None and not key:
            raise RegistryRejection(Rejection.idempotency_key_must_be_given,
                                    "every change needs an idempotency key (header "
                                    "Idempotency-Key, CLI --key)")
        if actor is None or key is None:
            return None
        return _Pending(actor, key, operation, _digest(operation, payload), fn, payload)

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
                            # lock order on PostgreSQL: head → accounts → blocks; the head
                            # is then handed from request to request (no re-read)
                            locked_head = session.fetch_later(LOCK_HEAD)
                            priors = self._priors(session, batch)
                            waves = _waves(batch)
                            prefetched: dict[tuple[Any, ...], Any] = {}
                            moves = Moves()
                            self._prefetch(session, [batch[i] for i in waves[0]], prefetched)
                            head = [next(iter(locked_head()), None)]  # one round trip
                            start = head[0]
                            stored = {(r.party_id, r.idempotency_key): r for r in priors()}
                            seen: dict[tuple[int, str], Any] = {}
                            outcomes = [(None, None)] * len(batch)
                            for n, wave in enumerate(waves):
                                if n:
                                    prefetched.clear()  # (reads of refused requests)
                                    self._prefetch(session, [batch[i] for i in wave],
                                                   prefetched)
                                for i in wave:
                                    p = batch[i]
                                    outcomes[i] = self._run_one(
                                        session, p, head, learned,
                                        stored.get((p.actor.party_id, p.key)), seen,
                                        prefetched, moves)
                                write_moves(session, moves)  # before the next wave reads
                            self._journal_replies(session, head, [
                                r for r in seen.values() if r.status == "ok"])
                            if head[0] is not start:  # the head once, after the last event
                                write_head_row(session, head[0])
                            session.insert_appended()
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

        The requests of :data:`_CONFINED`; their reads then share one round trip on PostgreSQL.
        """
        reads = WaveReads() if session.dialect.name == "postgresql" else None
        for p in wave:
            confined = _CONFINED.get(p.operation)
            if confined is not None and confined[0](p.args) is not None:
                confined[1](Tx(session, None, cache=self._cache, prefetched=prefetched,
                               wave_reads=reads), **p.args)
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
                return self._outcome(prior, p.operation, p.digest), None
            tx = Tx(session, p.actor, p.key, cache=self._cache, known_head=head[0],
                    prefetched=prefetched,
                    moves=moves if p.operation in _CONFINED else None)
            result = p.fn(tx)
            record = {"party_id": p.actor.party_id, "idempotency_key": p.key,
                      "operation": p.operation, "payload_sha256": p.digest, "status": "ok",
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
                record = self._failure(p.actor, p.key, p.operation, p.digest, exc)
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

    def _write_alone(self, actor: Actor | None, key: str | None, operation: str, digest: str,
                     fn: Callable[[Tx], dict[str, Any]]) -> dict[str, Any]:
        """One write in its own transaction (bootstrap, and a re-run after a key collision)."""
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
                    result = fn(tx)
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

    # -- authentication ------------------------------------------------------------------
    def authenticate(self, token: str | None) -> Actor:
        """Return the party a bearer token belongs to; rejects unknown or expired tokens."""
        actor = self.authenticate_known(token)
        if actor is not None:
            return actor
        digest = hash_token(token or "")
        with self._read.connect() as conn:
            row = conn.execute(_TOKEN, {"token": digest}).first()
        if row is None:
            raise RegistryRejection(Rejection.token_must_be_valid, "unknown bearer token")
        actor = Actor(row.id, Role(row.role), row.country, row.name)
        with self._queue_lock:
            if len(self._tokens) >= _TOKENS_AT_MOST:
                self._tokens.clear()
            self._tokens[digest] = (actor, row.expires_at, time.monotonic() + TOKEN_MEMORY_S)
        return self._check_expiry(actor, row.expires_at)

    def authenticate_known(self, token: str | None) -> Actor | None:
        """:meth:`authenticate` without I/O.

        The actor if this process looked the token up less than ``TOKEN_MEMORY_S`` ago, ``None`` if
        the database must be asked.

        The API has no way to change a token or a party's role once written; an operator who
        expires or revokes a token in the database sees it refused within
        ``TOKEN_MEMORY_S``. The remembered expiry is checked on every request.
        """
        if not token:
            raise RegistryRejection(Rejection.token_must_be_valid, "a bearer token is required")
        known = self._tokens.get(hash_token(token))
        if known is None or known[2] < time.monotonic():
            return None
        return self._check_expiry(known[0], known[1])

    def forget_tokens(self) -> None:
        """Forget the tokens this process remembers (:meth:`authenticate_known`).

        For an operator who has just changed a token or a party's role in the database by hand.
        """
        with self._queue_lock:
            self._tokens.clear()

    @staticmethod
    def _check_expiry(actor: Actor, expires_at: str | None) -> Actor:
        """Refuse an expired token.

        And, failing closed, one whose stored expiry is not an ISO 8601 time with a UTC offset (a
        hand-written naive time says no instant).
        """
        if expires_at is None:
            return actor
        try:
            expiry = datetime.fromisoformat(expires_at)
        except (TypeError, ValueError):
            expiry = None
        if expiry is None or expiry.tzinfo is None:
            raise RegistryRejection(Rejection.token_must_be_valid,
                                    "bearer token has an expiry without a time zone; "
                                    "refused until an operator fixes it")
        if expiry <= datetime.now(UTC):
            raise RegistryRejection(Rejection.token_must_be_valid,
                                    f"bearer token expired at {expires_at}")
        return actor

    # -- use cases -----------------------------------------------------------------------
    def bootstrap(self, *, admin_name: str = "Registry administrator",
                  registry_code: str = "HSN", share_of_proceeds_pct: str = "0",
                  overall_mitigation_pct: str = "0", rounding: str = "up") -> dict[str, Any]:
        """Initialise an empty database; returns the administrator's token (shown once)."""
        args = dict(admin_name=admin_name, registry_code=registry_code,
                    share_of_proceeds_pct=share_of_proceeds_pct,
                    overall_mitigation_pct=overall_mitigation_pct, rounding=rounding)
        return self._write(None, None, "bootstrap", args,
                           lambda tx: parties.bootstrap(tx, **args))

    def _run(self, name: str, actor: Actor, key: str | None,
             kwargs: dict[str, Any]) -> dict[str, Any]:
        use_case, payload = self._use_case(name, kwargs)
        return self._write(actor, key, name, payload, use_case)

    @staticmethod
    def _use_case(name: str, kwargs: dict[str, Any],
                  ) -> tuple[Callable[[Tx], dict[str, Any]], dict[str, Any]]:
        """Return the use case ``name`` bound to its arguments.

        Also its payload as hashed for the idempotency record.
        """
        fn = _USE_CASES[name]
        payload = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in kwargs.items()}
        return (lambda tx: fn(tx, **kwargs)), payload

    def create_party(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.create_party`."""
        return self._run("create_party", actor, key, kw)

    def revoke_tokens(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.revoke_tokens`."""
        return self._run("revoke_tokens", actor, key, kw)

    def open_account(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.open_account`."""
        return self._run("open_account", actor, key, kw)

    def create_project(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.create_project`."""
        return self._run("create_project", actor, key, kw)

    def transition_project(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.transition_project`."""
        return self._run("transition_project", actor, key, kw)

    def add_document(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.add_document`."""
        return self._run("add_document", actor, key, kw)

    def submit_report(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.submit_report`."""
        return self._run("submit_report", actor, key, kw)

    def verify_report(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.verify_report`."""
        return self._run("verify_report", actor, key, kw)

    def accredit_verifier(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.parties.accredit_verifier`."""
        return self._run("accredit_verifier", actor, key, kw)

    def issue(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.issue`."""
        return self._run("issue", actor, key, kw)

    def transfer(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.transfer`."""
        return self._run("transfer", actor, key, kw)

    def retire(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.retire`."""
        return self._run("retire", actor, key, kw)

    def cancel(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.cancel`."""
        return self._run("cancel", actor, key, kw)

    def buffer_reversal(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.buffer_reversal`."""
        return self._run("buffer_reversal", actor, key, kw)

    def record_foreign_issuances(self, actor: Actor, key: str | None,
                                 **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.foreign.record_foreign_issuances`."""
        return self._run("record_foreign_issuances", actor, key, kw)

    def authorise(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.authorise`."""
        return self._run("authorise", actor, key, kw)

    def corresponding_adjustment(self, actor: Actor, key: str | None, **kw: Any) -> dict[str, Any]:
        """See :func:`hesuan.registry.service.units.corresponding_adjustment`."""
        return self._run("corresponding_adjustment", actor, key, kw)

    # -- reading -------------------------------------------------------------------------
    def query(self, name: str, **kwargs: Any) -> Any:
        """Run a read-only query from :mod:`hesuan.registry.service.queries`."""
        fn = getattr(queries, name)
        with self.read() as s, s.begin():
            return fn(s, **kwargs)

    def verify(self, *, max_events: int = 10_000_000, full: bool = False,
               public: bool = False) -> dict[str, Any]:
        """Verify the registry (read-only, one snapshot).

        Protections, hash chain, each event's actor, every stored table against the journal,
        invariants (:func:`hesuan.registry.service.audit.verify`).

        Incremental: after a successful call, the next one replays only the events since
        (``full=True`` replays the whole log). ``public`` withholds private keys and values
        in the report (the public ``/audit/verify``).
        """
        with self._verify_lock:
            since = None if full else self._verified
            with self.read() as s, s.begin():
                report, state = audit.verify(s, max_events=max_events, since=since,
                                             public=public)
            self._verified = state
            return report

    def check_startup(self, *, allow_unverified: bool = False) -> dict[str, Any]:
        """Run the start-up check of a server.

        A full verification; raises :class:`~hesuan.registry.service.audit.RegistryUnverified` if it
        fails (unless ``allow_unverified``, for forensics). Returns the report.
        """
        report = self.verify(full=True)
        if not allow_unverified and report["problems"] != ["registry not initialised"]:
            audit.startup_check(report)  # (an empty database has nothing to verify yet)
        return report


__all__ = ["Actor", "Registry", "make_engine", "migrate"]
