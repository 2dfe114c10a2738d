"""Replay the audit log into blocks and balances, and check the ledger's invariants.

This is a second, independent implementation of the ledger's effect: the service writes
rows under locks; :class:`Replay` applies the logged events to plain dictionaries. The two
must agree exactly (``hesuan registry verify``).
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hesuan.registry.domain.model import AccountKind, BlockStatus, status_for
from hesuan.registry.domain.serials import Block, carve


@dataclass(frozen=True, order=True)
class BlockRow:
    """A block as stored (or as replayed): serial range, where it is, what it is."""

    serial_start: int
    serial_end: int
    account_id: int
    project_id: int
    vintage: int
    issuance_id: int
    status: str

    @property
    def serial_count(self) -> int:
        return self.serial_end - self.serial_start + 1


class ReplayError(Exception):
    """An event cannot be applied to the state the events before it produced."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        super().__init__(f"event {seq}: {reason}")


@dataclass
class Replay:
    """In-memory ledger rebuilt from events."""

    account_kinds: dict[int, AccountKind] = field(default_factory=dict)
    blocks: dict[int, BlockRow] = field(default_factory=dict)   # by serial_start
    _starts: list[int] = field(default_factory=list)
    issuances: dict[int, BlockRow] = field(default_factory=dict)

    def apply(self, seq: int, type_: str, payload: dict) -> None:
        """Apply one event; events that do not move units are ignored here."""
        if type_ in ("registry_initialised", "account_opened"):
            for acc in payload.get("accounts", [payload]):
                if "account_id" in acc:
                    self.account_kinds[acc["account_id"]] = AccountKind(acc["kind"])
        elif type_ == "units_issued":
            self._issue(seq, payload)
        elif type_ == "units_moved":
            self._move(seq, payload)

    def _issue(self, seq: int, p: dict) -> None:
        if p["account_id"] not in self.account_kinds:
            raise ReplayError(seq, f"issuance into unknown account {p['account_id']}")
        row = BlockRow(p["serial_start"], p["serial_end"], p["account_id"], p["project_id"],
                       p["vintage"], p["issuance_id"], BlockStatus.held.value)
        i = bisect.bisect_right(self._starts, row.serial_start)
        if i > 0 and self.blocks[self._starts[i - 1]].serial_end >= row.serial_start:
            raise ReplayError(seq, "issued serials overlap existing units")
        if i < len(self._starts) and self._starts[i] <= row.serial_end:
            raise ReplayError(seq, "issued serials overlap existing units")
        self._put(row)
        self.issuances[p["issuance_id"]] = row

    def _put(self, row: BlockRow) -> None:
        self.blocks[row.serial_start] = row
        bisect.insort(self._starts, row.serial_start)

    def _move(self, seq: int, p: dict) -> None:
        part = Block(p["serial_start"], p["serial_end"])
        i = bisect.bisect_right(self._starts, part.serial_start) - 1
        if i < 0:
            raise ReplayError(seq, f"no block holds serials {part.serial_start}–{part.serial_end}")
        row = self.blocks[self._starts[i]]
        if not Block(row.serial_start, row.serial_end).contains(part):
            raise ReplayError(seq, f"serials {part.serial_start}–{part.serial_end} are not "
                                   "in one block")
        if row.account_id != p["from_account"]:
            raise ReplayError(seq, f"serials are in account {row.account_id}, "
                                   f"not {p['from_account']}")
        if self.account_kinds[row.account_id].terminal:
            raise ReplayError(seq, "retired or cancelled units moved")
        to_kind = self.account_kinds.get(p["to_account"])
        if to_kind is None:
            raise ReplayError(seq, f"move into unknown account {p['to_account']}")
        del self.blocks[row.serial_start]
        del self._starts[i]
        stay, moved = carve(Block(row.serial_start, row.serial_end), part)
        for b in stay:
            self._put(BlockRow(b.serial_start, b.serial_end, row.account_id, row.project_id,
                               row.vintage, row.issuance_id, row.status))
        self._put(BlockRow(moved.serial_start, moved.serial_end, p["to_account"],
                           row.project_id, row.vintage, row.issuance_id,
                           status_for(to_kind).value))

    def balances(self) -> dict[int, int]:
        """Units per account (accounts with none included as 0)."""
        out = dict.fromkeys(self.account_kinds, 0)
        for row in self.blocks.values():
            out[row.account_id] += row.serial_count
        return out


def replay_events(events: Iterable[tuple[int, str, str]]) -> Replay:
    """Replay ``(seq, type, payload_json)`` triples in order."""
    state = Replay()
    for seq, type_, payload_json in events:
        try:
            state.apply(seq, type_, json.loads(payload_json))
        except (KeyError, ValueError, TypeError, AssertionError) as exc:
            raise ReplayError(seq, f"malformed event ({exc!r})") from exc
    return state


@dataclass(frozen=True)
class Snapshot:
    """The stored state the invariants are checked on."""

    blocks: list[BlockRow]
    account_kinds: dict[int, AccountKind]
    balances: dict[int, int]
    issuances: dict[int, tuple[int, int, int, int]]   # id → (project, vintage, start, end)
    reports: dict[int, tuple[int, int]]               # id → (verified quantity, issued total)


def check_invariants(s: Snapshot) -> list[str]:
    """Every broken invariant, as sentences (empty when the ledger is sound).

    1. blocks are pairwise disjoint; 2. the blocks of each issuance cover exactly its range;
    3. per project and vintage, issued = held + retired + cancelled + buffer + levy;
    4. balances are non-negative and equal the units in each account's blocks;
    5. a block's status matches its account (retired ⇔ retirement account, …);
    6. no report has more units issued than verified.
    """
    problems: list[str] = []
    rows = sorted(s.blocks)
    for a, b in itertools.pairwise(rows):
        if a.serial_end >= b.serial_start:
            problems.append(f"blocks {a.serial_start}–{a.serial_end} and "
                            f"{b.serial_start}–{b.serial_end} overlap")
    by_issuance: dict[int, int] = defaultdict(int)
    by_pv: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    in_account: dict[int, int] = defaultdict(int)
    for r in rows:
        span = s.issuances.get(r.issuance_id)
        if span is None or not (span[2] <= r.serial_start and r.serial_end <= span[3]):
            problems.append(f"block {r.serial_start}–{r.serial_end} lies outside issuance "
                            f"{r.issuance_id}")
        by_issuance[r.issuance_id] += r.serial_count
        in_account[r.account_id] += r.serial_count
        kind = s.account_kinds.get(r.account_id)
        if kind is None:
            problems.append(f"block {r.serial_start}–{r.serial_end} is in unknown account "
                            f"{r.account_id}")
            continue
        if r.status != status_for(kind).value:
            problems.append(f"block {r.serial_start}–{r.serial_end} is {r.status} in a "
                            f"{kind.value} account")
        category = {AccountKind.retirement: "retired", AccountKind.cancellation: "cancelled",
                    AccountKind.buffer: "buffer", AccountKind.levy: "levy"}.get(kind, "held")
        by_pv[(r.project_id, r.vintage)][category] += r.serial_count
    issued_pv: dict[tuple[int, int], int] = defaultdict(int)
    for iid, (project, vintage, start, end) in s.issuances.items():
        issued_pv[(project, vintage)] += end - start + 1
        if by_issuance.get(iid, 0) != end - start + 1:
            problems.append(f"issuance {iid}: blocks hold {by_issuance.get(iid, 0)} units, "
                            f"issued {end - start + 1}")
    for key in set(issued_pv) | set(by_pv):
        parts = by_pv.get(key, {})
        if issued_pv.get(key, 0) != sum(parts.values()):
            problems.append(f"project {key[0]} vintage {key[1]}: issued {issued_pv.get(key, 0)}"
                            f" ≠ held+retired+cancelled+buffer+levy {dict(parts)}")
    for acc, bal in s.balances.items():
        if bal < 0:
            problems.append(f"account {acc} has a negative balance {bal}")
        if bal != in_account.get(acc, 0):
            problems.append(f"account {acc}: stored balance {bal} ≠ {in_account.get(acc, 0)} "
                            "units in its blocks")
    for rid, (verified, issued) in s.reports.items():
        if issued > verified:
            problems.append(f"report {rid}: {issued} units issued > {verified} verified")
    return problems


def compare_with_replay(s: Snapshot, r: Replay) -> list[str]:
    """Differences between stored blocks/balances and the replay of the audit log."""
    problems: list[str] = []
    stored = set(s.blocks)
    replayed = set(r.blocks.values())
    for row in sorted(stored - replayed)[:20]:
        problems.append(f"stored block {row.serial_start}–{row.serial_end} (account "
                        f"{row.account_id}, {row.status}) is not in the replayed log")
    for row in sorted(replayed - stored)[:20]:
        problems.append(f"replayed block {row.serial_start}–{row.serial_end} (account "
                        f"{row.account_id}, {row.status}) is missing from stored state")
    rb = r.balances()
    for acc in sorted(set(rb) | set(s.balances)):
        if rb.get(acc, 0) != s.balances.get(acc, 0):
            problems.append(f"account {acc}: stored balance {s.balances.get(acc, 0)} ≠ "
                            f"replayed {rb.get(acc, 0)}")
    return problems
