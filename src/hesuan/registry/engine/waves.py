"""Waves: the order a group commit runs its requests in, and their shared first reads.

The requests of a batch run in arrival order, except that requests confined to the accounts
they name (:attr:`~hesuan.registry.service.requests.WriteRequest.confined`: transfers) on
disjoint accounts are grouped into waves (:func:`waves`): each wave's first reads (account
locks, first block page) are all sent before the first of its requests runs
(:class:`WaveReads`), so on PostgreSQL a wave waits for the server once instead of once per
transfer.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hesuan.registry.db import tables as t
from hesuan.registry.service.requests import WriteRequest
from hesuan.registry.service.session import TxSession
from hesuan.registry.service.tx import LOCK_ACCOUNTS_PG, Actor


class Queued(Protocol):
    """What :func:`waves` needs of a queued request."""

    @property
    def actor(self) -> Actor:
        """The party that sent the request."""
        ...

    @property
    def key(self) -> str:
        """The request's idempotency key."""
        ...

    @property
    def request(self) -> WriteRequest:
        """The typed request."""
        ...


def waves(batch: Sequence[Queued]) -> list[list[int]]:
    """Return the order a group commit runs ``batch`` in: waves of request indices.

    A request goes into the wave after the last one holding a request it depends on: an
    earlier request of the batch on one of its accounts (a confined request's
    :meth:`~hesuan.registry.service.requests.WriteRequest.accounts`) or with its
    idempotency key, or any earlier request that is not confined (whose effects cannot be
    told in advance: it gets a wave of its own, after all earlier ones). The requests of one
    wave touch disjoint accounts, so their first reads can all be sent before the first runs
    (:class:`WaveReads`), and each reads what it would have read in arrival order:
    requests that depend on each other keep their order, and the others commute (the
    requests of a batch are concurrent — none has been answered — so any order of
    independent ones is one the callers could have seen). The chain records the order run.
    """
    out: list[list[int]] = []
    last_on: dict[Any, int] = {}  # account id or (party, key) → last wave touching it
    floor = 0  # no request goes before a non-confined one that arrived earlier
    for i, p in enumerate(batch):
        accounts = p.request.accounts() if p.request.confined else None
        if accounts is None:
            out.append([i])
            floor = len(out)
            continue
        marks = [*accounts, (p.actor.party_id, p.key)]
        wave = max([floor, *(last_on[m] + 1 for m in marks if m in last_on)])
        if wave == len(out):
            out.append([])
        out[wave].append(i)
        last_on.update(dict.fromkeys(marks, wave))
    return out


_BLOCK_COLUMNS = [c.name for c in t.blocks.c]
# PostgreSQL: the first block page of several accounts in one statement, each page as
# _first_blocks reads it without a project or vintage (newest serials first, at most "page"
# blocks, FOR UPDATE: a backward scan of ix_blocks_account)
_FIRST_PAGES_PG = (
    f"SELECT {', '.join(f'b.{c}' for c in _BLOCK_COLUMNS)}, s.n "
    "FROM unnest(%(accounts)s::integer[], %(pages)s::integer[]) "
    "WITH ORDINALITY AS s(account, page, n) "
    "CROSS JOIN LATERAL (SELECT * FROM blocks WHERE blocks.account_id = s.account "
    "ORDER BY blocks.serial_start DESC LIMIT s.page FOR UPDATE) AS b "
    "ORDER BY s.n, b.serial_start DESC")
_PagedBlock = collections.namedtuple("_PagedBlock", [*_BLOCK_COLUMNS, "n"])  # type: ignore[misc]


@dataclass
class WaveReads:
    """The first reads of a wave of transfers, gathered and then sent as two statements.

    The reads of :meth:`Tx.prefetch_locks` without a serial range, project or vintage, sent
    by :meth:`send` on PostgreSQL: one statement locks every account of the wave (ascending
    id), one reads and locks the first block page of every sender. Each request then takes
    its own rows, as if read alone.
    """

    account_sets: list[tuple[int, ...]] = field(default_factory=list)
    pages: list[tuple[tuple[Any, ...], int, int]] = field(default_factory=list)
    """(key in ``prefetched``, account, page size) per block read."""

    def send(self, session: TxSession,
             prefetched: dict[tuple[Any, ...], Callable[[], list[Any]]]) -> None:
        """Send the gathered reads on ``session``; put each request's rows in ``prefetched``.

        Without waiting: each entry of ``prefetched`` is a call that takes the rows (the
        shared result is fetched once, by the first call).
        """
        if not self.account_sets:
            return
        ids = sorted({i for ids in self.account_sets for i in ids})
        locked = _taken_once(session.fetch_later(LOCK_ACCOUNTS_PG, {"ids": ids}))
        for account_ids in self.account_sets:
            prefetched[("accounts", account_ids)] = functools.partial(
                _rows_of_accounts, locked, account_ids)
        if not self.pages:
            return
        read = _taken_once(session.fetch_later(_FIRST_PAGES_PG, {
            "accounts": [p[1] for p in self.pages], "pages": [p[2] for p in self.pages]}))
        for n, (key, *_) in enumerate(self.pages, start=1):
            prefetched[key] = functools.partial(_rows_of_page, read, n)


def _taken_once(take: Callable[[], list[Any]]) -> Callable[[], list[Any]]:
    rows: list[list[Any]] = []

    def once() -> list[Any]:
        if not rows:
            rows.append(take())
        return rows[0]
    return once


def _rows_of_accounts(locked: Callable[[], list[Any]], ids: tuple[int, ...]) -> list[Any]:
    return [r for r in locked() if r.id in ids]


def _rows_of_page(read: Callable[[], list[Any]], n: int) -> list[Any]:
    return [_PagedBlock._make(r) for r in read() if r[-1] == n]
