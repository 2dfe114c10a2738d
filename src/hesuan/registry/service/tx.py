"""One write transaction of the registry: row locks, the event chain, block moves.

A :class:`Tx` is one request inside the transaction opened by
:meth:`hesuan.registry.engine.group.GroupCommit.write` (a group commit: several requests in
one transaction; a use case checks all its rules before its first write, see ``core``).
Lock order on PostgreSQL, to avoid deadlocks: the ``registry_meta`` row (chain head and
serial counter, locked first by the batch, see ``core``) → accounts (ascending id) → their
blocks. On SQLite the whole transaction already holds the write lock
(``BEGIN IMMEDIATE``).

The hot path is built for throughput (``docs/registry.md``, "Measured throughput"):
SQLAlchemy Core statements built once at import with bind parameters, reads that are needed
at once sent with :meth:`TxSession.fetch` and writes whose result is not needed with
:meth:`TxSession.write` (on PostgreSQL these are pipelined, :mod:`.session`: they travel with
the next read), both balance updates of a move in one statement, the registry's
settings and the projects' host countries (both immutable) cached per
:class:`~hesuan.registry.engine.Registry`, the chain head handed from one request of a
batch to the next (no re-read) and written once per batch, the first reads of a wave of
independent transfers sent together (:meth:`Tx.prefetch_locks`), and the events queued by
:meth:`Tx.emit` and the idempotency records appended (:meth:`TxSession.append`) for one
``INSERT`` per table at the end of the batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ARRAY, Integer, any_, bindparam, case, func, insert, select, update
from sqlalchemy.engine import Row

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import (
    canonical_json,
    chain_hash,
    digest,
    event_body,
    split_event,
)
from hesuan.registry.domain.model import AccountKind, BlockStatus, Role, status_for
from hesuan.registry.domain.serials import Block, carve
from hesuan.registry.service.session import TxSession

MAX_BLOCKS_PER_OPERATION = 10_000
PAGE_BLOCKS = 64
FIRST_PAGE_BLOCKS = 8
"""Blocks read (and locked) by the first page of a move by quantity: a block holds at least
one unit, so never more than the quantity, and most moves take one block — every row read
``FOR UPDATE`` is a row lock written by PostgreSQL."""


_META = t.registry_meta.c
LOCK_HEAD = select(_META.head_seq, _META.head_hash, _META.next_serial) \
    .where(_META.id == 1).with_for_update()
_READ_META = select(t.registry_meta).where(_META.id == 1)
_LOCK_ACCOUNTS = select(t.accounts) \
    .where(t.accounts.c.id.in_(bindparam("ids", expanding=True))) \
    .order_by(t.accounts.c.id).with_for_update()
LOCK_ACCOUNTS_PG = select(t.accounts) \
    .where(t.accounts.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))) \
    .order_by(t.accounts.c.id).with_for_update()  # no expanding IN: compiled once for psycopg
_ACCOUNT = select(t.accounts).where(t.accounts.c.id == bindparam("a_id"))
_ACCOUNT_KIND = select(t.accounts.c.kind).where(t.accounts.c.id == bindparam("a_id"))
_MOVE_BALANCE = update(t.accounts) \
    .where(t.accounts.c.id.in_([bindparam("a_from"), bindparam("a_to")])) \
    .values(balance=t.accounts.c.balance + case(
        (t.accounts.c.id == bindparam("a_from"), -bindparam("a_count")),
        else_=bindparam("a_count")))  # both rows of a move in one statement
_RESHAPE_BLOCK = update(t.blocks).where(t.blocks.c.id == bindparam("b_id")).values(
    serial_start=bindparam("b_start"), serial_end=bindparam("b_end"),
    account_id=bindparam("b_account"), status=bindparam("b_status"))
_INSERT_BLOCK = insert(t.blocks)
_WRITE_HEAD = update(t.registry_meta).where(_META.id == 1).values(
    head_seq=bindparam("h_seq"), head_hash=bindparam("h_hash"), next_serial=bindparam("h_next"))
_PROJECT_COUNTRY = select(t.projects.c.host_country) \
    .where(t.projects.c.id == bindparam("p_id"))


@functools.cache
def _blocks_query(in_range: bool, by_project: bool, by_vintage: bool, paged: bool) -> Any:
    """``SELECT … FOR UPDATE`` of an account's blocks, built once per shape."""
    b = t.blocks.c
    q = select(t.blocks).where(b.account_id == bindparam("account_id"))
    if in_range:
        return q.where(b.serial_start <= bindparam("r_start"),
                       b.serial_end >= bindparam("r_end")).with_for_update()
    if by_project:
        q = q.where(b.project_id == bindparam("project_id"))
    if by_vintage:
        q = q.where(b.vintage == bindparam("vintage"))
    if paged:
        q = q.where(b.serial_start < bindparam("before"))
    return q.order_by(b.serial_start.desc()).limit(bindparam("page")).with_for_update()


def _first_blocks(account_id: int, serial_range: Block | None, project_id: int | None,
                  vintage: int | None, quantity: int) -> tuple[Any, dict[str, Any]]:
    """Return the first read of :meth:`Tx.choose_blocks`: statement and parameters."""
    params: dict[str, Any] = {"account_id": account_id}
    if serial_range is not None:
        params.update(r_start=serial_range.serial_start, r_end=serial_range.serial_end)
        return _blocks_query(True, False, False, False), params
    params["page"] = max(1, min(quantity, FIRST_PAGE_BLOCKS))
    if project_id is not None:
        params["project_id"] = project_id
    if vintage is not None:
        params["vintage"] = vintage
    return _blocks_query(False, project_id is not None, vintage is not None, False), params


class WaveGather(Protocol):
    """Where :meth:`Tx.prefetch_locks` gathers the first reads of a wave of transfers.

    They go in one send (the write engine's ``WaveReads``, PostgreSQL): the account sets to
    lock, and per sender ``(key in prefetched, account, page size)`` of its first block page.
    """

    account_sets: list[tuple[int, ...]]
    pages: list[tuple[tuple[Any, ...], int, int]]


@dataclass(frozen=True)
class _Head:
    head_seq: int
    head_hash: str
    next_serial: int


@dataclass
class RegistryCache:
    """Facts that never change once written, shared by one registry's transactions.

    Shared by the transactions of one :class:`~hesuan.registry.engine.Registry`: the
    ``registry_meta`` settings (registry code, deduction percentages, system account ids —
    written once by ``bootstrap``) and each project's host country (set when the project is
    listed, never updated).
    """

    meta: Row[Any] | None = None
    countries: dict[int, str] = field(default_factory=dict)

    def learn(self, tx: Tx) -> None:
        """Keep what ``tx`` read.

        Call only once ``tx``'s work is committed (a fact read inside a transaction that rolled back
        may never have existed, and on SQLite an id can then be reused).
        """
        if self.meta is None and tx.learned_meta is not None:
            self.meta = tx.learned_meta
        self.countries.update(tx.learned_countries)


@dataclass(frozen=True)
class Actor:
    """The authenticated party making a request."""

    party_id: int
    role: Role
    country: str | None = None
    name: str = ""


def utc_now() -> str:
    """Return the current time, UTC, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Take:
    """Part of one stored block chosen to move."""

    row: Row[Any]
    part: Block


@dataclass
class Tx:
    """The write transaction of one use case.

    ``session`` carries the transaction's statements (:mod:`.session`): ``fetch`` for rows
    needed now, ``write`` for statements whose result is not needed (pipelined on
    PostgreSQL), ``execute`` for everything else.
    """

    session: TxSession
    actor: Actor | None
    request_key: str | None = None
    cache: RegistryCache = field(default_factory=RegistryCache)
    _meta: Row[Any] | None = None
    head_seq: int = 0
    head_hash: str = ""
    next_serial: int = 0
    last_event_hash: str = ""
    last_event_at: str = ""
    emitted: list[int] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    _events: list[dict[str, Any]] = field(default_factory=list)
    known_head: Any = None
    """The chain head row (``head_seq``, ``head_hash``, ``next_serial``) when the caller
    already holds its lock in this transaction (a group commit after an earlier request)."""
    learned_meta: Row[Any] | None = None
    learned_countries: dict[int, str] = field(default_factory=dict)
    moves: Moves | None = None
    """Where :meth:`move` records its writes instead of sending them, for
    :func:`write_moves` to write at the end of a wave (the transfers of a wave touch
    disjoint accounts and blocks, and none reads what it moved); ``None``: sent at once."""
    wave_reads: WaveGather | None = None
    """Where :meth:`prefetch_locks` gathers its reads for one send (PostgreSQL)."""
    prefetched: dict[tuple[Any, ...], Callable[[], list[Any]]] = field(default_factory=dict)
    """Reads already sent (:meth:`prefetch_locks`) and not yet taken, by what they read: a
    group commit shares one dict between the requests of a wave (``core``), so that their
    reads travel together."""

    # -- reading with locks ------------------------------------------------------------
    def lock_meta(self) -> Row[Any]:
        """Lock the single ``registry_meta`` row (chain head and serial counter)."""
        if self._meta is None:
            row: Any = self.known_head if self.known_head is not None else \
                next(iter(self.session.fetch(LOCK_HEAD)), None)
            assert row is not None, "registry not initialised"
            self._meta = row
            self.head_seq, self.head_hash = row.head_seq, row.head_hash
            self.next_serial = row.next_serial
        locked: Any = self._meta
        return locked

    def meta(self) -> Row[Any]:
        """Return the ``registry_meta`` settings (they never change; read once per registry).

        Only the settings are meant to be read from this row — the chain head and the serial
        counter come from :meth:`lock_meta`, and ``itmo_registry_id`` (set once, after
        ``bootstrap``) from the table under that lock (``service/foreign.py``).
        """
        meta = self.cache.meta or self.learned_meta
        if meta is None:
            meta = self.session.execute(_READ_META).first()
            if meta is None:
                raise RegistryRejection(
                    Rejection.registry_must_be_initialised_once,
                    "the registry has not been initialised (hesuan registry init)")
            self.learned_meta = meta
        return meta

    def prefetch_locks(self, ids: Iterable[int], *, then_blocks_of: int | None = None,
                       serial_range: Block | None = None, quantity: int = 1,
                       project_id: int | None = None, vintage: int | None = None) -> None:
        """Send the reads of :meth:`lock_accounts` with the same arguments now.

        That call takes their rows. Reads sent this way before the first is taken share one round
        trip on PostgreSQL (:meth:`TxSession.fetch_later`).
        """
        account_ids = tuple(sorted(set(ids)))
        if self.wave_reads is not None and serial_range is None and project_id is None \
                and vintage is None:
            self.wave_reads.account_sets.append(account_ids)
            if then_blocks_of is not None:
                self.wave_reads.pages.append((
                    ("blocks", then_blocks_of, None, None, None, quantity), then_blocks_of,
                    _first_blocks(then_blocks_of, None, None, None, quantity)[1]["page"]))
            return
        query = LOCK_ACCOUNTS_PG if self.session.dialect.name == "postgresql" \
            else _LOCK_ACCOUNTS
        self.prefetched[("accounts", account_ids)] = \
            self.session.fetch_later(query, {"ids": list(account_ids)})
        if then_blocks_of is not None:
            blocks_query, params = _first_blocks(then_blocks_of, serial_range, project_id,
                                                 vintage, quantity)
            self.prefetched[("blocks", then_blocks_of, serial_range, project_id, vintage,
                             quantity)] = self.session.fetch_later(blocks_query, params)

    def lock_accounts(self, ids: Iterable[int], *, then_blocks_of: int | None = None,
                      serial_range: Block | None = None, quantity: int = 1,
                      project_id: int | None = None,
                      vintage: int | None = None) -> dict[int, Row[Any]]:
        """Lock the accounts (ascending id); missing ones are simply absent from the result.

        With ``then_blocks_of``, :meth:`choose_blocks`' first read of that account's blocks
        (``quantity`` units by ``serial_range`` or ``project_id``/``vintage``) is sent right
        after the locks, in the same round trip on PostgreSQL, keeping the lock order
        accounts → blocks; the :meth:`choose_blocks` call with the same arguments takes its
        rows. Reads already sent by :meth:`prefetch_locks` are taken, not sent again.
        """
        key = ("accounts", tuple(sorted(set(ids))))
        if key not in self.prefetched:
            self.prefetch_locks(ids, then_blocks_of=then_blocks_of, serial_range=serial_range,
                                quantity=quantity, project_id=project_id, vintage=vintage)
        rows = self.prefetched.pop(key)()
        self.kinds.update({r.id: r.kind for r in rows})
        return {r.id: r for r in rows}

    def account(self, account_id: int) -> Row[Any]:
        """Return account ``account_id``, remembering its kind (refused if it does not exist)."""
        row = next(iter(self.session.fetch(_ACCOUNT, {"a_id": account_id})), None)
        if row is None:
            raise RegistryRejection(Rejection.account_must_exist,
                                    f"account {account_id} does not exist")
        self.kinds[row.id] = row.kind
        return row

    def get(self, table: Any, id_: int, code: Rejection, what: str,
            *, lock: bool = False) -> Row[Any]:
        """Return row ``id_`` of ``table``, locked if ``lock``.

        Refused with ``code`` if it does not exist.
        """
        q = select(table).where(table.c.id == id_)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        if row is None:
            raise RegistryRejection(code, f"{what} {id_} does not exist")
        return row

    def host_country(self, project_id: int) -> str:
        """Return the project's host country (cached: it never changes)."""
        country = self.cache.countries.get(project_id) or \
            self.learned_countries.get(project_id)
        if country is None:
            country = str(self.session.fetch(_PROJECT_COUNTRY, {"p_id": project_id})[0][0])
            self.learned_countries[project_id] = country
        return country

    # -- the event chain ---------------------------------------------------------------
    def emit(self, type_: str, payload: dict[str, Any], *, project_id: int | None = None,
             serials: Block | None = None) -> int:
        """Append one event to the hash chain; return its ``seq``.

        The first event locks (or, in a batch, takes over) the chain head; the rows are
        written by :meth:`finish`.
        """
        self.lock_meta()
        seq = self.head_seq + 1
        at = utc_now()
        actor = None if self.actor is None else self.actor.party_id
        if self.request_key is not None:
            payload = {**payload, "request_key": self.request_key}
        shown_actor, public, private = split_event(type_, actor, payload)
        payload_json = canonical_json(public)
        private_json = None if private is None else canonical_json(private)
        body = canonical_json(event_body(seq, type_, at, shown_actor, public,
                                         None if private_json is None else digest(private_json)))
        event_hash = chain_hash(self.head_hash, body)
        self._events.append({
            "seq": seq, "type": type_, "at": at, "actor": actor, "payload": payload_json,
            "prev_hash": self.head_hash, "hash": event_hash, "project_id": project_id,
            "serial_start": None if serials is None else serials.serial_start,
            "serial_end": None if serials is None else serials.serial_end,
            "private": private_json,
        })
        self.head_seq, self.head_hash, self.last_event_hash = seq, event_hash, event_hash
        self.last_event_at = at
        self.emitted.append(seq)
        return seq

    def head(self) -> Any:
        """Return the chain head after this transaction's events, or ``None`` if not locked."""
        if self._meta is None:
            return None
        return _Head(self.head_seq, self.head_hash, self.next_serial)

    def finish(self, request: dict[str, Any] | None = None, *, write_head: bool = True) -> None:
        """Queue the events and idempotency record ``request``; write chain head and serial counter.

        ``request`` is a ``requests`` row, queued for the end of the transaction
        (:meth:`TxSession.insert_appended`). The head is not written when ``write_head`` is false: a
        group commit writes the head once, after its last request (:func:`write_head_row`).
        """
        if self._events:
            self.session.append(t.events, self._events)
        if write_head and self._meta is not None:
            write_head_row(self.session, self.head())
        if request is not None:
            self.session.append(t.requests, [request])

    # -- moving units ------------------------------------------------------------------
    def choose_blocks(self, account_id: int, quantity: int, *,
                      serial_range: Block | None = None, project_id: int | None = None,
                      vintage: int | None = None) -> list[Take]:
        """Pick what moves out of ``account_id`` (already locked).

        With ``serial_range``: exactly that range, which must lie inside one block of the
        account. Otherwise: blocks from the highest serials down — whole blocks, then the tail
        of the next — so the sender keeps the head. One ``SELECT … FOR UPDATE`` reads and
        locks a page of blocks: at most ``FIRST_PAGE_BLOCKS`` first, then up to
        ``PAGE_BLOCKS``, never more than the units still to find.
        """
        query, params = _first_blocks(account_id, serial_range, project_id, vintage, quantity)
        pending = self.prefetched.pop(
            ("blocks", account_id, serial_range, project_id, vintage, quantity), None)
        first_page = pending() if pending is not None else self.session.fetch(query, params)
        if serial_range is not None:
            row = next(iter(first_page), None)
            if row is None:
                raise RegistryRejection(
                    Rejection.serial_range_must_lie_in_one_held_block,
                    f"serials {serial_range.serial_start}–{serial_range.serial_end} do not lie "
                    f"inside one block of account {account_id}",
                )
            if serial_range.serial_count != quantity:
                raise RegistryRejection(
                    Rejection.serial_range_must_lie_in_one_held_block,
                    f"serial range holds {serial_range.serial_count} units, quantity says "
                    f"{quantity}",
                )
            return [Take(row, serial_range)]
        takes: list[Take] = []
        remaining = quantity
        before: int | None = None
        while remaining:  # keyset pages from the top: usually one page of one block
            if before is None:
                rows, page = first_page, params["page"]
            else:
                page = params["page"] = min(remaining, PAGE_BLOCKS)
                params["before"] = before
                rows = self.session.fetch(_blocks_query(
                    False, project_id is not None, vintage is not None, True), params)
            for row in rows:
                if remaining == 0:
                    break
                if len(takes) == MAX_BLOCKS_PER_OPERATION:
                    raise RegistryRejection(
                        Rejection.quantity_must_span_at_most_10000_blocks,
                        f"moving {quantity} units would split more than "
                        f"{MAX_BLOCKS_PER_OPERATION} blocks; move fewer units per request",
                    )
                count = min(remaining, row.serial_end - row.serial_start + 1)
                takes.append(Take(row, Block(row.serial_end - count + 1, row.serial_end)))
                remaining -= count
            if len(rows) < page:
                break
            before = rows[-1].serial_start
        if remaining:
            available = quantity - remaining
            scope = "".join([f" of project {project_id}" if project_id is not None else "",
                             f" vintage {vintage}" if vintage is not None else ""])
            raise RegistryRejection(
                Rejection.quantity_must_not_exceed_balance,
                f"account {account_id} holds {available} unit(s){scope}; {quantity} requested",
            )
        return takes

    def move(self, take: Take, to_account: Row[Any], reason: str,
             extra: dict[str, Any] | None = None) -> int:
        """Move ``take.part`` to ``to_account``: split the block, adjust balances, log it."""
        row, part = take.row, take.part
        from_kind = AccountKind(self._account_kind(row.account_id))
        assert not from_kind.terminal and row.status == BlockStatus.held.value
        stay, moved = carve(Block(row.serial_start, row.serial_end), part)
        new_status = status_for(AccountKind(to_account.kind)).value
        pieces: list[tuple[Block, int, str]] = [(b, row.account_id, row.status) for b in stay]
        pieces.append((moved, to_account.id, new_status))
        first, rest = pieces[0], pieces[1:]
        reshaped = {"b_id": row.id, "b_start": first[0].serial_start,
                    "b_end": first[0].serial_end, "b_account": first[1], "b_status": first[2]}
        inserted = [{"serial_start": b.serial_start, "serial_end": b.serial_end,
                     "account_id": acc, "project_id": row.project_id, "vintage": row.vintage,
                     "issuance_id": row.issuance_id, "status": status}
                    for b, acc, status in rest]
        if self.moves is not None:
            self.session.writes += 1  # (recorded: a failure from here on undoes the batch)
            self.moves.record(reshaped, inserted, row.account_id, to_account.id,
                              part.serial_count)
        else:
            self.session.write(_RESHAPE_BLOCK, reshaped)
            if inserted:
                self.session.write(_INSERT_BLOCK, inserted)
            self.session.write(_MOVE_BALANCE, {"a_from": row.account_id,
                                               "a_to": to_account.id,
                                               "a_count": part.serial_count})
        payload = {"from_account": row.account_id, "to_account": to_account.id,
                   "serial_start": part.serial_start, "serial_end": part.serial_end,
                   "serial_count": part.serial_count, "project_id": row.project_id,
                   "vintage": row.vintage, "issuance_id": row.issuance_id, "reason": reason}
        if extra:
            payload.update(extra)
        return self.emit("units_moved", payload, project_id=row.project_id, serials=part)

    def _account_kind(self, account_id: int) -> str:
        if account_id not in self.kinds:
            self.kinds[account_id] = str(
                self.session.fetch(_ACCOUNT_KIND, {"a_id": account_id})[0][0])
        return self.kinds[account_id]

    def insert_returning_id(self, table: Any, values: dict[str, Any]) -> int:
        """Insert one row and return its integer primary key."""
        result: Any = self.session.execute(insert(table).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None and pk[0] is not None
        return int(pk[0])

    def count(self, table: Any) -> int:
        """Return the number of rows of ``table``."""
        return int(self.session.execute(select(func.count()).select_from(table)).scalar_one())


@dataclass
class Moves:
    """The writes of :meth:`Tx.move` s recorded for :func:`write_moves`.

    Blocks reshaped (``_RESHAPE_BLOCK`` parameters), blocks inserted (``blocks`` rows) and the net
    change of each account's balance.
    """

    reshaped: list[dict[str, Any]] = field(default_factory=list)
    inserted: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[int, int] = field(default_factory=dict)

    def record(self, reshaped: dict[str, Any], inserted: list[dict[str, Any]],
               from_account: int, to_account: int, count: int) -> None:
        """Record a transfer's reshaped and new block rows and both accounts' balance change."""
        self.reshaped.append(reshaped)
        self.inserted.extend(inserted)
        self.balances[from_account] = self.balances.get(from_account, 0) - count
        self.balances[to_account] = self.balances.get(to_account, 0) + count


_ADD_BALANCE = update(t.accounts).where(t.accounts.c.id == bindparam("a_id")) \
    .values(balance=t.accounts.c.balance + bindparam("a_delta"))
# PostgreSQL: every row of a wave in one statement, parameters as arrays
_RESHAPE_BLOCKS_PG = (
    "UPDATE blocks SET serial_start = u.s, serial_end = u.e, account_id = u.a, status = u.st "
    "FROM unnest(%(ids)s::integer[], %(starts)s::bigint[], %(ends)s::bigint[], "
    "%(accounts)s::integer[], %(statuses)s::varchar[]) AS u(id, s, e, a, st) "
    "WHERE blocks.id = u.id")
_ADD_BALANCES_PG = ("UPDATE accounts SET balance = balance + u.d "
                    "FROM unnest(%(ids)s::integer[], %(deltas)s::bigint[]) AS u(id, d) "
                    "WHERE accounts.id = u.id")


def write_moves(session: TxSession, moves: Moves) -> None:
    """Write the recorded moves and forget them.

    Reshaped blocks first, then the new blocks (so that blocks never overlap, even for an instant:
    the exclusion constraint on PostgreSQL), then the balances. On PostgreSQL three statements
    whatever the number of moves; on SQLite one ``executemany`` each.
    """
    if not moves.reshaped:
        return
    reshaped, inserted, balances = moves.reshaped, moves.inserted, moves.balances
    moves.reshaped, moves.inserted, moves.balances = [], [], {}
    if session.dialect.name == "postgresql":
        session.write(_RESHAPE_BLOCKS_PG, {
            "ids": [r["b_id"] for r in reshaped], "starts": [r["b_start"] for r in reshaped],
            "ends": [r["b_end"] for r in reshaped],
            "accounts": [r["b_account"] for r in reshaped],
            "statuses": [r["b_status"] for r in reshaped]})
    else:
        session.write(_RESHAPE_BLOCK, reshaped)
    if inserted:
        session.writes += 1
        session.insert_rows(t.blocks, inserted)
    if session.dialect.name == "postgresql":
        session.write(_ADD_BALANCES_PG, {"ids": list(balances),
                                         "deltas": list(balances.values())})
    else:
        session.write(_ADD_BALANCE, [{"a_id": a, "a_delta": d} for a, d in balances.items()])


def write_head_row(session: TxSession, head: Any) -> None:
    """Store the chain head and serial counter (``registry_meta``, locked by the caller)."""
    session.write(_WRITE_HEAD, {"h_seq": head.head_seq, "h_hash": head.head_hash,
                                "h_next": head.next_serial})


def sorted_ids(values: Sequence[int | None]) -> list[int]:
    """Return the distinct ids of ``values``, ``None`` left out, in ascending order."""
    return sorted({v for v in values if v is not None})
