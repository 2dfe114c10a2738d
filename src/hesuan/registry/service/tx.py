"""One write transaction of the registry: row locks, the event chain, block moves.

A :class:`Tx` lives inside ``with session.begin():`` opened by
:meth:`hesuan.registry.service.core.Registry._write`. Lock order, to avoid deadlocks on
PostgreSQL: accounts (ascending id) → their blocks → the ``registry_meta`` row (chain head and
serial counter), which :meth:`Tx.emit` takes on the first event. On SQLite the whole
transaction already holds the write lock (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import canonical_json, chain_hash, event_body
from hesuan.registry.domain.model import AccountKind, BlockStatus, Role, status_for
from hesuan.registry.domain.serials import Block, carve

MAX_BLOCKS_PER_OPERATION = 10_000
PAGE_BLOCKS = 64


@dataclass(frozen=True)
class Actor:
    """The authenticated party making a request."""

    party_id: int
    role: Role
    country: str | None = None
    name: str = ""


def utc_now() -> str:
    """Current time, UTC, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Take:
    """Part of one stored block chosen to move."""

    row: Row[Any]
    part: Block


@dataclass
class Tx:
    """The write transaction of one use case."""

    session: Session
    actor: Actor | None
    request_key: str | None = None
    _meta: Row[Any] | None = None
    head_seq: int = 0
    head_hash: str = ""
    next_serial: int = 0
    last_event_hash: str = ""
    emitted: list[int] = field(default_factory=list)
    _meta_plain: Row[Any] | None = None
    kinds: dict[int, str] = field(default_factory=dict)
    countries: dict[int, str] = field(default_factory=dict)

    # -- reading with locks ------------------------------------------------------------
    def lock_meta(self) -> Row[Any]:
        """Lock the single ``registry_meta`` row (chain head and serial counter)."""
        if self._meta is None:
            row = self.session.execute(
                select(t.registry_meta).where(t.registry_meta.c.id == 1).with_for_update()
            ).first()
            assert row is not None, "registry not initialised"
            self._meta = row
            self.head_seq, self.head_hash = row.head_seq, row.head_hash
            self.next_serial = row.next_serial
        return self._meta

    def meta(self) -> Row[Any]:
        """The ``registry_meta`` settings (read once per transaction; they never change)."""
        if self._meta_plain is None:
            row = self.session.execute(select(t.registry_meta)).first()
            if row is None:
                raise RegistryRejection(
                    Rejection.registry_must_be_initialised_once,
                    "the registry has not been initialised (hesuan registry init)")
            self._meta_plain = row
        return self._meta_plain

    def lock_accounts(self, ids: Iterable[int]) -> dict[int, Row[Any]]:
        """Lock the accounts (ascending id); missing ones are simply absent from the result."""
        wanted = sorted(set(ids))
        rows = self.session.execute(
            select(t.accounts).where(t.accounts.c.id.in_(wanted))
            .order_by(t.accounts.c.id).with_for_update()
        ).all()
        self.kinds.update({r.id: r.kind for r in rows})
        return {r.id: r for r in rows}

    def account(self, account_id: int) -> Row[Any]:
        row = self.session.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first()
        if row is None:
            raise RegistryRejection(Rejection.account_must_exist,
                                    f"account {account_id} does not exist")
        self.kinds[row.id] = row.kind
        return row

    def get(self, table: Any, id_: int, code: Rejection, what: str,
            *, lock: bool = False) -> Row[Any]:
        q = select(table).where(table.c.id == id_)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        if row is None:
            raise RegistryRejection(code, f"{what} {id_} does not exist")
        return row

    # -- the event chain ---------------------------------------------------------------
    def emit(self, type_: str, payload: dict[str, Any], *, project_id: int | None = None,
             serials: Block | None = None) -> int:
        """Append one event to the hash chain; return its ``seq``."""
        self.lock_meta()
        seq = self.head_seq + 1
        at = utc_now()
        actor = None if self.actor is None else self.actor.party_id
        if self.request_key is not None:
            payload = {**payload, "request_key": self.request_key}
        payload_json = canonical_json(payload)
        body = canonical_json(event_body(seq, type_, at, actor, payload))
        digest = chain_hash(self.head_hash, body)
        self.session.execute(insert(t.events).values(
            seq=seq, type=type_, at=at, actor=actor, payload=payload_json,
            prev_hash=self.head_hash, hash=digest, project_id=project_id,
            serial_start=None if serials is None else serials.serial_start,
            serial_end=None if serials is None else serials.serial_end,
        ))
        self.head_seq, self.head_hash, self.last_event_hash = seq, digest, digest
        self.emitted.append(seq)
        return seq

    def finish(self) -> None:
        """Write the chain head and serial counter back (called once, before commit)."""
        if self._meta is None:
            return
        self.session.execute(update(t.registry_meta).where(t.registry_meta.c.id == 1).values(
            head_seq=self.head_seq, head_hash=self.head_hash, next_serial=self.next_serial))

    # -- moving units ------------------------------------------------------------------
    def choose_blocks(self, account_id: int, quantity: int, *,
                      serial_range: Block | None = None, project_id: int | None = None,
                      vintage: int | None = None) -> list[Take]:
        """Pick what moves out of ``account_id`` (already locked).

        With ``serial_range``: exactly that range, which must lie inside one block of the
        account. Otherwise: blocks from the highest serials down — whole blocks, then the tail
        of the next — so the sender keeps the head.
        """
        q = select(t.blocks).where(t.blocks.c.account_id == account_id)
        if serial_range is not None:
            row = self.session.execute(
                q.where(t.blocks.c.serial_start <= serial_range.serial_start,
                        t.blocks.c.serial_end >= serial_range.serial_end).with_for_update()
            ).first()
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
        if project_id is not None:
            q = q.where(t.blocks.c.project_id == project_id)
        if vintage is not None:
            q = q.where(t.blocks.c.vintage == vintage)
        takes: list[Take] = []
        remaining = quantity
        before: int | None = None
        while remaining:  # keyset pages from the top: usually one page of one block
            page = q if before is None else q.where(t.blocks.c.serial_start < before)
            rows = self.session.execute(
                page.order_by(t.blocks.c.serial_start.desc()).limit(PAGE_BLOCKS)
                .with_for_update()).all()
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
            if len(rows) < PAGE_BLOCKS:
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
        self.session.execute(update(t.blocks).where(t.blocks.c.id == row.id).values(
            serial_start=first[0].serial_start, serial_end=first[0].serial_end,
            account_id=first[1], status=first[2]))
        for b, acc, status in rest:
            self.session.execute(insert(t.blocks).values(
                serial_start=b.serial_start, serial_end=b.serial_end, account_id=acc,
                project_id=row.project_id, vintage=row.vintage,
                issuance_id=row.issuance_id, status=status))
        self._add_balance(row.account_id, -part.serial_count)
        self._add_balance(to_account.id, part.serial_count)
        payload = {"from_account": row.account_id, "to_account": to_account.id,
                   "serial_start": part.serial_start, "serial_end": part.serial_end,
                   "serial_count": part.serial_count, "project_id": row.project_id,
                   "vintage": row.vintage, "issuance_id": row.issuance_id, "reason": reason}
        if extra:
            payload.update(extra)
        return self.emit("units_moved", payload, project_id=row.project_id, serials=part)

    def _account_kind(self, account_id: int) -> str:
        if account_id not in self.kinds:
            self.kinds[account_id] = str(self.session.execute(
                select(t.accounts.c.kind).where(t.accounts.c.id == account_id)).scalar_one())
        return self.kinds[account_id]

    def _add_balance(self, account_id: int, delta: int) -> None:
        self.session.execute(update(t.accounts).where(t.accounts.c.id == account_id)
                             .values(balance=t.accounts.c.balance + delta))

    def insert_returning_id(self, table: Any, values: dict[str, Any]) -> int:
        """Insert one row and return its integer primary key."""
        result: Any = self.session.execute(insert(table).values(**values))
        pk = result.inserted_primary_key
        assert pk is not None and pk[0] is not None
        return int(pk[0])

    def count(self, table: Any) -> int:
        return int(self.session.execute(select(func.count()).select_from(table)).scalar_one())


def sorted_ids(values: Sequence[int | None]) -> list[int]:
    return sorted({v for v in values if v is not None})
