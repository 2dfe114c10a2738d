"""Replay the audit log into the registry's whole state, and check the ledger's invariants.

This is a second, independent implementation of the ledger's effect: the service writes
rows under locks; :class:`Replay` applies the logged events to blocks and balances, and
:class:`Journal` rebuilds every other table that decides an outcome (parties and their
roles, tokens, accounts, projects, reports, issuances, authorisations, retirements,
cancellations, stored replies, the registry's settings) and re-checks each event's actor
against the role its type requires. Stored tables and the journal must agree exactly
(``hesuan registry verify``), table by table, key by key, column by column.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from hesuan.registry.domain.codes import RegistryRejection
from hesuan.registry.domain.foreign import (
    ForeignItmos,
    check_acquisition,
    check_itmo_registry_id,
)
from hesuan.registry.domain.model import (
    PROJECT_TRANSITIONS,
    AccountKind,
    BlockStatus,
    CaStatus,
    ProjectStatus,
    Role,
    Rounding,
    check_ca_transition,
    deductions,
    status_for,
)
from hesuan.registry.domain.serials import Block, BlockSerial, carve, format_serial
from hesuan.registry.domain.statements import retirement_statement


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
        """Return the number of serials in the block."""
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
    issuances_by_start: dict[int, BlockRow] = field(default_factory=dict)

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
        self.issuances_by_start[row.serial_start] = row

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

    def blocks_within(self, serial_start: int, serial_end: int) -> tuple[BlockRow, ...]:
        """Return the blocks whose serials lie in ``serial_start``–``serial_end``, in order."""
        lo = bisect.bisect_left(self._starts, serial_start)
        hi = bisect.bisect_right(self._starts, serial_end)
        return tuple(self.blocks[s] for s in self._starts[lo:hi])

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
    tally = _BlockTally()
    for r in rows:
        problems.extend(_block_problems(s, r, tally))
    problems.extend(_issuance_problems(s, tally))
    problems.extend(_balance_problems(s, tally))
    for rid, (verified, issued) in s.reports.items():
        if issued > verified:
            problems.append(f"report {rid}: {issued} units issued > {verified} verified")
    return problems


@dataclass
class _BlockTally:
    """Units counted from the blocks: per issuance, per account, per (project, vintage)."""

    by_issuance: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    in_account: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    by_pv: dict[tuple[int, int], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))


_CATEGORY = {AccountKind.retirement: "retired", AccountKind.cancellation: "cancelled",
             AccountKind.buffer: "buffer", AccountKind.levy: "levy"}


def _block_problems(s: Snapshot, r: BlockRow, tally: _BlockTally) -> list[str]:
    """Check one block against its issuance and account (invariants 2 and 5); count it."""
    problems: list[str] = []
    span = s.issuances.get(r.issuance_id)
    if span is None or not (span[2] <= r.serial_start and r.serial_end <= span[3]):
        problems.append(f"block {r.serial_start}–{r.serial_end} lies outside issuance "
                        f"{r.issuance_id}")
    tally.by_issuance[r.issuance_id] += r.serial_count
    tally.in_account[r.account_id] += r.serial_count
    kind = s.account_kinds.get(r.account_id)
    if kind is None:
        problems.append(f"block {r.serial_start}–{r.serial_end} is in unknown account "
                        f"{r.account_id}")
        return problems
    if r.status != status_for(kind).value:
        problems.append(f"block {r.serial_start}–{r.serial_end} is {r.status} in a "
                        f"{kind.value} account")
    tally.by_pv[(r.project_id, r.vintage)][_CATEGORY.get(kind, "held")] += r.serial_count
    return problems


def _issuance_problems(s: Snapshot, tally: _BlockTally) -> list[str]:
    """Check each issuance's range and each project-vintage's total (invariants 2 and 3)."""
    problems: list[str] = []
    issued_pv: dict[tuple[int, int], int] = defaultdict(int)
    for iid, (project, vintage, start, end) in s.issuances.items():
        issued_pv[(project, vintage)] += end - start + 1
        if tally.by_issuance.get(iid, 0) != end - start + 1:
            problems.append(f"issuance {iid}: blocks hold {tally.by_issuance.get(iid, 0)} "
                            f"units, issued {end - start + 1}")
    for key in set(issued_pv) | set(tally.by_pv):
        parts = tally.by_pv.get(key, {})
        if issued_pv.get(key, 0) != sum(parts.values()):
            problems.append(f"project {key[0]} vintage {key[1]}: issued {issued_pv.get(key, 0)}"
                            f" ≠ held+retired+cancelled+buffer+levy {dict(parts)}")
    return problems


def _balance_problems(s: Snapshot, tally: _BlockTally) -> list[str]:
    """Check each stored balance against the units of its blocks (invariant 4)."""
    problems: list[str] = []
    for acc, bal in s.balances.items():
        if bal < 0:
            problems.append(f"account {acc} has a negative balance {bal}")
        if bal != tally.in_account.get(acc, 0):
            problems.append(f"account {acc}: stored balance {bal} ≠ "
                            f"{tally.in_account.get(acc, 0)} units in its blocks")
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


# -- the whole state, rebuilt from the journal ------------------------------------------

Row = dict[str, Any]
"""One table row as rebuilt (or as stored): column name → value."""

_ITMO_FIELDS = tuple(f.name for f in fields(ForeignItmos))

#: Tables :class:`Journal` rebuilds, with the columns it compares (``created_at`` columns
#: and ids assigned by the database are keys, not compared values).
COMPARED: dict[str, tuple[str, ...]] = {
    "registry_meta": ("registry_code", "next_serial", "share_of_proceeds_pct",
                      "overall_mitigation_pct", "rounding", "retirement_account_id",
                      "cancellation_account_id", "buffer_account_id", "levy_account_id",
                      "itmo_registry_id"),
    "parties": ("name", "role", "country"),
    "party_roles": ("revoked_seq",),
    "tokens": ("party_id", "expires_at", "label", "revoked_seq"),
    "accounts": ("party_id", "kind", "project_id", "name", "balance"),
    "projects": ("name", "proponent_id", "methodology_id", "methodology_version",
                 "host_country", "host_region", "sector", "crediting_start", "crediting_end",
                 "buffer_pct", "status", "issuance_account_id", "forward_account_id",
                 "external_project_id"),
    "project_documents": ("project_id", "sha256", "name", "kind"),
    "reports": ("project_id", "proponent_id", "period_start", "period_end",
                "reported_quantity", "quantification_sha256", "factor_dataset", "status",
                "verifier_id", "verified_quantity", "issued_quantity",
                "quantification_report_sha256", "attestation_sha256"),
    "verifier_accreditations": ("public_key",),
    "issuances": ("report_id", "project_id", "vintage", "serial_start", "serial_end",
                  "buffer_quantity", "share_of_proceeds_quantity",
                  "overall_mitigation_quantity", "forwarded_quantity", "event_seq"),
    "retirements": ("account_id", "party_id", "quantity", "beneficiary", "purpose",
                    "claim_start", "claim_end", "note", "statement", "blocks_json",
                    "event_seq"),
    "cancellations": ("kind", "account_id", "project_id", "quantity", "reason",
                      "blocks_json", "event_seq"),
    "authorisations": ("issuance_id", "authority_id", "uses", "first_transfer", "reference",
                       "authorised_on", "ca_declaration", "ca_status", "ca_reporting_year",
                       "event_seq"),
    "requests": ("operation", "payload_sha256", "status", "response_sha256"),
    "foreign_issuances": ("registry", "external_project_id", "vintage", "block_start",
                          "block_end", "source", "event_seq"),
    "foreign_itmos": ("account_id", "registry_id", "approach_id", "first_transferring_party",
                      "first_id", "last_id", "vintage", "authorization_id", "authorised_on",
                      "purposes", "sector", "transferring_party", "acquired_on", "event_seq"),
}

#: Reasons of a ``units_moved`` event made by the administrator at issuance.
ISSUANCE_REASONS = frozenset({"buffer_deduction", "share_of_proceeds", "overall_mitigation",
                              "forward_to_proponent"})


@dataclass(frozen=True)
class Difference:
    """A stored row that differs from the journal.

    Table, key, column (``None``: the whole row is missing or extra), the stored value and the value
    the journal gives.
    """

    table: str
    key: Any
    column: str | None
    stored: Any
    journal: Any

    def __str__(self) -> str:
        if self.column is None:
            where = "stored, not in the journal" if self.journal is None else \
                "in the journal, missing from the table"
            return f"{self.table} {self.key!r}: row {where}"
        return (f"{self.table} {self.key!r}, column {self.column}: stored {self.stored!r}, "
                f"the journal gives {self.journal!r}")


@dataclass
class Journal:
    """Rebuild every table that decides an outcome from the events alone; re-check every rule.

    Each event's actor is re-checked: each event type's required role, ownership and host country;
    issuance deductions recomputed with :func:`deductions`; corresponding adjustments along
    :data:`CA_TRANSITIONS`.

    Apply events in chain order with :meth:`apply`; :attr:`problems` collects every event
    whose actor or content breaks a rule; :meth:`tables` gives the rebuilt rows for
    :func:`compare_tables`. The units themselves (blocks and balances) are replayed by the
    embedded :class:`Replay`.
    """

    units: Replay = field(default_factory=Replay)
    rows: dict[str, dict[Any, Row]] = field(default_factory=lambda: {k: {} for k in COMPARED})
    problems: list[str] = field(default_factory=list)
    document_refs: set[str] = field(default_factory=set)
    _issuance_starts: list[int] = field(default_factory=list)
    _documents: int = 0

    # -- what the journal says -------------------------------------------------------
    def roles(self, party: int | None) -> frozenset[str]:
        """Return the roles of ``party`` (none for ``None``)."""
        return frozenset(r for (p, r), row in self.rows["party_roles"].items()
                         if p == party and row["revoked_seq"] is None)

    def _need(self, seq: int, ok: bool, why: str) -> None:
        if not ok:
            self.problems.append(f"event {seq}: {why}")

    def _need_role(self, seq: int, actor: int | None, *roles: str) -> frozenset[str]:
        held = self.roles(actor)
        self._need(seq, bool(held & set(roles)),
                   f"actor {actor} holds {sorted(held) or 'no role'}, the event needs "
                   f"{' or '.join(roles)}")
        return held

    def _owner(self, account_id: int) -> int | None:
        acc = self.rows["accounts"].get(account_id)
        return None if acc is None else acc["party_id"]

    def _host_authority(self, seq: int, actor: int | None, issuance_id: int) -> None:
        self._need_role(seq, actor, "host_authority")
        iss = self.rows["issuances"].get(issuance_id)
        project = None if iss is None else self.rows["projects"].get(iss["project_id"])
        party = self.rows["parties"].get(actor)
        self._need(seq, project is not None and party is not None
                   and party["country"] == project["host_country"],
                   f"actor {actor} is not the authority of issuance {issuance_id}'s host "
                   "country")

    def _project_of(self, serial_start: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._issuance_starts, serial_start) - 1
        row = self.units.issuances_by_start[self._issuance_starts[i]]
        return row.project_id, row.vintage

    def _blocks_json(self, ranges: list[list[int]]) -> str:
        out = []
        for start, end in ranges:
            project, vintage = self._project_of(start)
            out.append({"serial_start": start, "serial_end": end,
                        "serial_count": end - start + 1, "project_id": project,
                        "vintage": vintage, "serial": self._serial(project, vintage, start, end)})
        return json.dumps(out)

    def _serial(self, project: int, vintage: int, start: int, end: int) -> str:
        code = self.rows["registry_meta"][1]["registry_code"]
        country = self.rows["projects"][project]["host_country"]
        return format_serial(BlockSerial(code, country, project, vintage, start, end))

    def _ours(self) -> tuple[str, ...]:
        """Return this registry's code and Party ITMO registry ID (if set)."""
        meta = self.rows["registry_meta"][1]
        return (meta["registry_code"], *([meta["itmo_registry_id"]]
                                         if meta["itmo_registry_id"] else []))

    # -- applying events -------------------------------------------------------------
    def apply(self, seq: int, type_: str, at: str, actor: int | None, event_hash: str,
              p: dict[str, Any]) -> None:
        """Apply one event (payload ``p``: public and private part together)."""
        handler = getattr(self, f"_on_{type_}", None)
        if handler is None:
            self.problems.append(f"event {seq}: unknown event type {type_!r}")
            return
        if type_ != "registry_initialised" and not self.rows["registry_meta"]:
            raise ReplayError(seq, "the first event must initialise the registry")
        handler(seq, at, actor, event_hash, p)
        if type_ in ("registry_initialised", "account_opened", "units_issued", "units_moved"):
            self.units.apply(seq, type_, p)
            if type_ == "units_issued":
                bisect.insort(self._issuance_starts, p["serial_start"])

    def _on_registry_initialised(self, seq: int, at: str, actor: int | None, h: str,
                                 p: dict[str, Any]) -> None:
        self._need(seq, seq == 1 and actor is None and not self.rows["registry_meta"],
                   "the registry is initialised once, by the first event, with no actor")
        ids = {a["kind"]: a["account_id"] for a in p["accounts"]}
        admin = p["admin_party_id"]
        self.rows["registry_meta"][1] = {
            "registry_code": p["registry_code"], "next_serial": 1,
            "share_of_proceeds_pct": p["share_of_proceeds_pct"],
            "overall_mitigation_pct": p["overall_mitigation_pct"], "rounding": p["rounding"],
            "itmo_registry_id": None,
            **{f"{k}_account_id": ids[k] for k in ("retirement", "cancellation", "buffer",
                                                   "levy")}}
        self.rows["parties"][admin] = {"name": p["admin_name"], "role": "admin",
                                       "country": None}
        self.rows["party_roles"][(admin, "admin")] = {"revoked_seq": None}
        if "admin_token_sha256" in p:
            self.rows["tokens"][p["admin_token_sha256"]] = {
                "party_id": admin, "expires_at": None, "label": None, "revoked_seq": None}
        for kind, aid in ids.items():
            self.rows["accounts"][aid] = {"party_id": admin, "kind": kind, "project_id": None,
                                          "name": f"Registry {kind} account", "balance": 0}

    def _on_party_created(self, seq: int, at: str, actor: int | None, h: str,
                          p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        pid = p["party_id"]
        self._need(seq, pid not in self.rows["parties"], f"party {pid} created twice")
        roles = p.get("roles", [p["role"]])
        self._need(seq, p["role"] in roles and ("admin" not in roles or len(roles) == 1),
                   f"roles {roles} of party {pid} break the role rules")
        self.rows["parties"][pid] = {"name": p["name"], "role": p["role"],
                                     "country": p["country"]}
        for r in roles:
            self.rows["party_roles"][(pid, r)] = {"revoked_seq": None}
        if "token_sha256" in p:
            self.rows["tokens"][p["token_sha256"]] = {
                "party_id": pid, "expires_at": p["token_expires_at"], "label": None,
                "revoked_seq": None}

    def _role_change(self, seq: int, actor: int | None,
                     p: dict[str, Any]) -> tuple[int, str, frozenset[str]]:
        self._need_role(seq, actor, "admin")
        pid, role = p["party_id"], p["role"]
        self._need(seq, pid in self.rows["parties"], f"role change of unknown party {pid}")
        return pid, role, self.roles(pid)

    def _on_role_granted(self, seq: int, at: str, actor: int | None, h: str,
                         p: dict[str, Any]) -> None:
        pid, role, held = self._role_change(seq, actor, p)
        roles = held | {role}
        party = self.rows["parties"].get(pid, {})
        self._need(seq, role not in held and ("admin" not in roles or len(roles) == 1)
                   and (role != "host_authority" or bool(party.get("country"))),
                   f"role {role} granted to party {pid} (holding {sorted(held)}) breaks the "
                   "role rules")
        self.rows["party_roles"][(pid, role)] = {"revoked_seq": None}

    def _on_role_revoked(self, seq: int, at: str, actor: int | None, h: str,
                         p: dict[str, Any]) -> None:
        pid, role, held = self._role_change(seq, actor, p)
        left = held - {role}
        self._need(seq, role in held and bool(left),
                   f"role {role} revoked from party {pid} (holding {sorted(held)}) breaks "
                   "the role rules")
        if role in held:
            self.rows["party_roles"][(pid, role)] = {"revoked_seq": seq}

    def _on_tokens_revoked(self, seq: int, at: str, actor: int | None, h: str,
                           p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        for token in self.rows["tokens"].values():
            if token["party_id"] == p["party_id"] and (token["expires_at"] is None
                                                       or token["expires_at"] > at):
                token["expires_at"] = at

    def _on_token_issued(self, seq: int, at: str, actor: int | None, h: str,
                         p: dict[str, Any]) -> None:
        pid, sha = p["party_id"], p["token_sha256"]
        self._need(seq, pid in self.rows["parties"], f"token issued to unknown party {pid}")
        self._need(seq, actor == pid or "admin" in self.roles(actor),
                   f"party {actor} issued a token to party {pid}")
        self._need(seq, sha not in self.rows["tokens"], "a token issued twice")
        self.rows["tokens"][sha] = {"party_id": pid, "expires_at": p["expires_at"],
                                    "label": p["label"], "revoked_seq": None}

    def _on_token_revoked(self, seq: int, at: str, actor: int | None, h: str,
                          p: dict[str, Any]) -> None:
        token = self.rows["tokens"].get(p["token_sha256"])
        self._need(seq, token is not None and token["party_id"] == p["party_id"],
                   "an unknown token revoked")
        if token is None:
            return
        self._need(seq, actor == token["party_id"] or "admin" in self.roles(actor),
                   f"party {actor} revoked a token of party {token['party_id']}")
        self._need(seq, token["revoked_seq"] is None, "a token revoked twice")
        token["revoked_seq"] = seq
        if token["expires_at"] is None or token["expires_at"] > at:
            token["expires_at"] = at

    def _on_account_opened(self, seq: int, at: str, actor: int | None, h: str,
                           p: dict[str, Any]) -> None:
        aid, owner = p["account_id"], p["party_id"]
        self._need(seq, aid not in self.rows["accounts"], f"account {aid} opened twice")
        self._need(seq, actor == owner or "admin" in self.roles(actor),
                   f"actor {actor} opened an account for party {owner}")
        self.rows["accounts"][aid] = {"party_id": owner, "kind": p["kind"],
                                      "project_id": p["project_id"], "name": p["name"],
                                      "balance": 0}

    def _on_project_listed(self, seq: int, at: str, actor: int | None, h: str,
                           p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "proponent")
        self._need(seq, p["proponent_id"] == actor, "a project is listed by its proponent")
        forward = self.rows["accounts"].get(p["forward_account_id"])
        self._need(seq, forward is not None and forward["party_id"] == actor
                   and forward["kind"] == "holding",
                   "the forward account must be one of the proponent's holding accounts")
        self.rows["projects"][p["project_id"]] = {
            **{k: p[k] for k in ("name", "proponent_id", "methodology_id",
                                 "methodology_version", "host_country", "host_region",
                                 "sector", "crediting_start", "crediting_end", "buffer_pct",
                                 "issuance_account_id", "forward_account_id")},
            "external_project_id": p.get("external_project_id"), "status": "listed"}

    def _on_project_status_changed(self, seq: int, at: str, actor: int | None, h: str,
                                   p: dict[str, Any]) -> None:
        project = self.rows["projects"][p["project_id"]]
        current, target = ProjectStatus(p["from"]), ProjectStatus(p["to"])
        self._need(seq, project["status"] == current.value,
                   f"project {p['project_id']} was {project['status']}, not {current.value}")
        allowed = PROJECT_TRANSITIONS.get((current, target), frozenset())
        permitting = {Role(r) for r in self.roles(actor)} & allowed
        self._need(seq, bool(permitting), f"actor {actor} may not make {current.value} → "
                                          f"{target.value}")
        if Role.admin not in permitting and Role.proponent in permitting:
            self._need(seq, project["proponent_id"] == actor,
                       "a proponent changes only its own project")
        project["status"] = target.value

    def _on_document_added(self, seq: int, at: str, actor: int | None, h: str,
                           p: dict[str, Any]) -> None:
        project = self.rows["projects"][p["project_id"]]
        self._need(seq, bool(self.roles(actor) & {"admin", "verifier"})
                   or project["proponent_id"] == actor,
                   "documents are added by the proponent, a verifier or the administrator")
        self._documents += 1
        self.rows["project_documents"][self._documents] = {
            "project_id": p["project_id"], "sha256": p["sha256"], "name": p["name"],
            "kind": p["kind"]}
        self.document_refs.add(p["sha256"])

    def _on_report_submitted(self, seq: int, at: str, actor: int | None, h: str,
                             p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "proponent")
        project = self.rows["projects"][p["project_id"]]
        self._need(seq, project["proponent_id"] == actor and project["status"] == "registered",
                   "reports are submitted by the proponent of a registered project")
        self.rows["reports"][p["report_id"]] = {
            **{k: p[k] for k in ("project_id", "period_start", "period_end",
                                 "reported_quantity", "quantification_sha256",
                                 "factor_dataset")},
            "proponent_id": actor, "status": "submitted", "verifier_id": None,
            "verified_quantity": None, "issued_quantity": 0,
            "quantification_report_sha256": p.get("quantification_report_sha256"),
            "attestation_sha256": None}
        self.document_refs.add(p["quantification_sha256"])

    def _on_verifier_accredited(self, seq: int, at: str, actor: int | None, h: str,
                                p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        self._need(seq, "verifier" in self.roles(p["party_id"]),
                   f"party {p['party_id']} accredited without the verifier role")
        self.rows["verifier_accreditations"][(p["party_id"], p["sector"])] = {
            "public_key": p["public_key"]}

    def _on_report_attested(self, seq: int, at: str, actor: int | None, h: str,
                            p: dict[str, Any]) -> None:
        """Store a verifier's signed attestation of a quantification report as a document.

        The signature itself was checked when it was accepted, with the accreditation's key; here:
        that key, the report's hash and a pending verification.
        """
        self._need_role(seq, actor, "verifier")
        report = self.rows["reports"][p["report_id"]]
        accreditation = self.rows["verifier_accreditations"].get((actor, p["sector"]))
        self._need(seq, accreditation is not None
                   and accreditation["public_key"] == p["public_key"]
                   and report["quantification_report_sha256"] == p["report_sha256"]
                   and report["status"] == "submitted",
                   f"attestation of report {p['report_id']} by a verifier not accredited "
                   "with that key, or of another report")
        report["attestation_sha256"] = p["attestation_sha256"]
        self.document_refs.add(p["attestation_sha256"])

    def _verdict(self, seq: int, actor: int | None, p: dict[str, Any], status: str) -> None:
        self._need_role(seq, actor, "verifier")
        report = self.rows["reports"][p["report_id"]]
        self._need(seq, report["proponent_id"] != actor and report["status"] == "submitted"
                   and p["verified_quantity"] <= report["reported_quantity"],
                   "a verifier other than the proponent verifies a submitted report, at most "
                   "the quantity reported")
        report.update(status=status, verifier_id=actor,
                      verified_quantity=p["verified_quantity"])

    def _on_report_verified(self, seq: int, at: str, actor: int | None, h: str,
                            p: dict[str, Any]) -> None:
        self._verdict(seq, actor, p, "verified")

    def _on_report_rejected(self, seq: int, at: str, actor: int | None, h: str,
                            p: dict[str, Any]) -> None:
        self._verdict(seq, actor, {**p, "verified_quantity": 0}, "rejected")

    def _on_units_issued(self, seq: int, at: str, actor: int | None, h: str,
                         p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        report = self.rows["reports"][p["report_id"]]
        project = self.rows["projects"][p["project_id"]]
        meta = self.rows["registry_meta"][1]
        quantity = p["serial_end"] - p["serial_start"] + 1
        self._need(seq, report["status"] == "verified" and project["status"] == "registered"
                   and report["project_id"] == p["project_id"]
                   and report["issued_quantity"] + quantity <= (report["verified_quantity"] or 0),
                   f"issuance beyond report {p['report_id']}'s verified quantity, or of a "
                   "report or project not verified and registered")
        self._need(seq, p["serial_start"] == meta["next_serial"],
                   f"serials start at {p['serial_start']}, the counter was at "
                   f"{meta['next_serial']}")
        try:
            d = deductions(quantity, buffer_pct=Decimal(project["buffer_pct"]),
                           share_of_proceeds_pct=Decimal(meta["share_of_proceeds_pct"]),
                           overall_mitigation_pct=Decimal(meta["overall_mitigation_pct"]),
                           rounding=Rounding(meta["rounding"]))
            logged = (p["buffer_quantity"], p["share_of_proceeds_quantity"],
                      p["overall_mitigation_quantity"], p["forwarded_quantity"])
            self._need(seq, logged == (d.buffer, d.share_of_proceeds, d.overall_mitigation,
                                       d.forwarded),
                       f"deductions {logged} differ from the rules' {d}")
        except RegistryRejection as exc:
            self._need(seq, False, f"deductions cannot be computed ({exc.message})")
        report["issued_quantity"] += quantity
        meta["next_serial"] = max(meta["next_serial"], p["serial_end"] + 1)
        self.rows["issuances"][p["issuance_id"]] = {
            **{k: p[k] for k in ("report_id", "project_id", "vintage", "serial_start",
                                 "serial_end", "buffer_quantity", "share_of_proceeds_quantity",
                                 "overall_mitigation_quantity", "forwarded_quantity")},
            "event_seq": seq}

    def _on_units_moved(self, seq: int, at: str, actor: int | None, h: str,
                        p: dict[str, Any]) -> None:
        reason, source = p["reason"], self.rows["accounts"].get(p["from_account"])
        if reason in ISSUANCE_REASONS:
            self._need_role(seq, actor, "admin")
            self._need(seq, source is not None and source["kind"] == "issuance",
                       "issuance deductions leave a project's pending account")
        elif reason in ("transfer", "retirement"):
            self._need(seq, source is not None and source["party_id"] == actor,
                       f"actor {actor} moved units out of account {p['from_account']} of "
                       f"party {None if source is None else source['party_id']}")
        else:  # a cancellation (administrative, buffer reversal …)
            self._need_role(seq, actor, "admin")

    def _on_retirement_recorded(self, seq: int, at: str, actor: int | None, h: str,
                                p: dict[str, Any]) -> None:
        owner = self._owner(p["account_id"])
        self._need(seq, owner == actor, f"actor {actor} retired from another party's account")
        purpose = p["purpose"]
        if purpose in ("ndc", "corsia", "oimp"):
            for start, _ in p["blocks"]:
                i = bisect.bisect_right(self._issuance_starts, start) - 1
                iid = self.units.issuances_by_start[self._issuance_starts[i]].issuance_id
                auth = next((a for a in self.rows["authorisations"].values()
                             if a["issuance_id"] == iid), None)
                self._need(seq, auth is not None and purpose in auth["uses"].split(","),
                           f"units of issuance {iid} retired for {purpose} without an "
                           "authorisation of that use")
        blocks = json.loads(self._blocks_json(p["blocks"]))
        projects = sorted({b["project_id"] for b in blocks})
        party = self.rows["parties"].get(owner)
        statement = retirement_statement(
            retirement_id=p["retirement_id"], retired_on=at[:10],
            retiring_party="" if party is None else party["name"],
            beneficiary=p["beneficiary"], purpose=purpose, claim_start=p["claim_start"],
            claim_end=p["claim_end"], quantity=p["quantity"],
            serials=[b["serial"] for b in blocks],
            projects=[f"{q} {self.rows['projects'][q]['name']}" for q in projects],
            note=p["note"], event_seq=seq, event_hash=h)
        self.rows["retirements"][p["retirement_id"]] = {
            **{k: p[k] for k in ("account_id", "quantity", "beneficiary", "purpose",
                                 "claim_start", "claim_end", "note")},
            "party_id": owner, "statement": statement,
            "blocks_json": self._blocks_json(p["blocks"]), "event_seq": seq}

    def _on_cancellation_recorded(self, seq: int, at: str, actor: int | None, h: str,
                                  p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        self.rows["cancellations"][p["cancellation_id"]] = {
            **{k: p[k] for k in ("kind", "account_id", "project_id", "quantity", "reason")},
            "blocks_json": self._blocks_json(p["blocks"]), "event_seq": seq}

    def _on_units_authorised(self, seq: int, at: str, actor: int | None, h: str,
                             p: dict[str, Any]) -> None:
        self._host_authority(seq, actor, p["issuance_id"])
        self._need(seq, all(a["issuance_id"] != p["issuance_id"]
                            for a in self.rows["authorisations"].values()),
                   f"issuance {p['issuance_id']} authorised twice")
        self.rows["authorisations"][p["authorisation_id"]] = {
            "issuance_id": p["issuance_id"], "authority_id": actor,
            "uses": ",".join(p["uses"]), "first_transfer": p["first_transfer"],
            "reference": p["reference"], "authorised_on": p["authorised_on"],
            "ca_declaration": p["ca_declaration"], "ca_status": p["ca_status"],
            "ca_reporting_year": None, "event_seq": seq}

    def _on_corresponding_adjustment_recorded(self, seq: int, at: str, actor: int | None,
                                              h: str, p: dict[str, Any]) -> None:
        auth = self.rows["authorisations"][p["authorisation_id"]]
        self._host_authority(seq, actor, auth["issuance_id"])
        try:
            check_ca_transition(CaStatus(auth["ca_status"]), CaStatus(p["ca_status"]))
        except RegistryRejection as exc:
            self._need(seq, False, exc.message)
        auth.update(ca_status=p["ca_status"], ca_reporting_year=p["reporting_year"])

    def _on_foreign_issuances_recorded(self, seq: int, at: str, actor: int | None, h: str,
                                       p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        for i, r in enumerate(p["records"]):
            self.rows["foreign_issuances"][p["first_id"] + i] = {
                **{k: r[k] for k in ("registry", "external_project_id", "vintage",
                                     "block_start", "block_end")},
                "source": p["source"], "event_seq": seq}

    def _on_foreign_itmos_acquired(self, seq: int, at: str, actor: int | None, h: str,
                                   p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        acc = self.rows["accounts"].get(p["account_id"])
        holder = None if acc is None else self.rows["parties"].get(acc["party_id"])
        country = None if holder is None else holder["country"]
        self._need(seq, acc is not None and acc["kind"] == "holding" and country is not None,
                   "ITMOs from another registry reach a holding account of a holder "
                   "registered with its country")
        recorded = [ForeignItmos(**{k: r[k] for k in _ITMO_FIELDS})
                    for _, r in sorted(self.rows["foreign_itmos"].items())]
        try:
            check_acquisition([ForeignItmos(**{k: r[k] for k in _ITMO_FIELDS})
                               for r in p["records"]],
                              country=country or "", ours=self._ours(),
                              recorded=recorded, first_id=p["first_id"], today=at[:10])
        except (RegistryRejection, KeyError, TypeError) as exc:
            self._need(seq, False, getattr(exc, "message", f"malformed record ({exc!r})"))
        for i, r in enumerate(p["records"]):
            self.rows["foreign_itmos"][p["first_id"] + i] = {
                "account_id": p["account_id"], **{k: r[k] for k in COMPARED["foreign_itmos"]
                                                  if k not in ("account_id", "event_seq")},
                "event_seq": seq}

    def _on_itmo_registry_id_set(self, seq: int, at: str, actor: int | None, h: str,
                                 p: dict[str, Any]) -> None:
        self._need_role(seq, actor, "admin")
        meta = self.rows["registry_meta"][1]
        try:
            check_itmo_registry_id(
                p["itmo_registry_id"], current=meta["itmo_registry_id"],
                imported_from=[r["registry_id"] for r in self.rows["foreign_itmos"].values()])
        except RegistryRejection as exc:
            self._need(seq, False, exc.message)
        meta["itmo_registry_id"] = p["itmo_registry_id"]

    def _on_requests_recorded(self, seq: int, at: str, actor: int | None, h: str,
                              p: dict[str, Any]) -> None:
        self._need(seq, actor is None, "stored replies are recorded by the registry itself")
        for party, key, operation, payload_sha256, response_sha256 in p["requests"]:
            self.rows["requests"][(party, key)] = {
                "operation": operation, "payload_sha256": payload_sha256, "status": "ok",
                "response_sha256": response_sha256}

    # -- the result ------------------------------------------------------------------
    def tables(self) -> dict[str, dict[Any, Row]]:
        """Return the rebuilt rows by table and key (balances from the replayed blocks)."""
        out = {name: {k: dict(v) for k, v in rows.items()} for name, rows in self.rows.items()}
        for aid, bal in self.units.balances().items():
            if aid in out["accounts"]:
                out["accounts"][aid]["balance"] = bal
        return out


def compare_tables(stored: dict[str, dict[Any, Row]], journal: dict[str, dict[Any, Row]],
                   *, partial: frozenset[str] = frozenset({"requests"}),
                   at_most: int = 200) -> list[Difference]:
    """Return every difference between stored rows and the journal's.

    Table by table (in the order of :data:`COMPARED`), key by key, column by column.

    Tables in ``partial`` may hold rows the journal does not know if they record a
    refusal (``requests`` with status ``failed``: a refused request changed nothing and is
    not journaled); any row the journal knows must match, and every success is journaled.
    """
    out: list[Difference] = []
    for table, columns in COMPARED.items():
        have, want = stored.get(table, {}), journal.get(table, {})
        for key in sorted(want.keys() - have.keys(), key=repr):
            out.append(Difference(table, key, None, None, want[key]))
        for key in sorted(have.keys() - want.keys(), key=repr):
            if table not in partial or have[key].get("status") != "failed":
                out.append(Difference(table, key, None, have[key], None))
        for key in sorted(want.keys() & have.keys(), key=repr):
            for col in columns:
                if have[key].get(col) != want[key].get(col):
                    out.append(Difference(table, key, col, have[key].get(col),
                                          want[key].get(col)))
        if len(out) >= at_most:
            return out[:at_most]
    return out
