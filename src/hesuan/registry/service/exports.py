"""Public exports of the registry: Article 6.2 AEF tables and the CAD Trust data model.

Each export is built in **one** read-only transaction (:meth:`Registry.read`: one snapshot,
REPEATABLE READ READ ONLY on PostgreSQL), so its tables agree with each other. Only what is
public leaves (``docs/registry.md``, "Privacy"): projects, issuances, authorisations,
retirements, cancellations and block status — never which holding account holds a block.

- :func:`aef_tables` — Tables 1–3 (Heading, Actions, Holdings) of a Party's agreed-electronic-format
  submission (:mod:`hesuan.registry.domain.aef`) for the authorised issuances of projects
  the Party hosts.
- :func:`cadt_records` — projects, issuances and units in the Climate Action Data Trust
  data model (:mod:`hesuan.registry.domain.cadt`).
- :func:`write_aef` / :func:`write_cadt` — those, written as CSV/.xlsx or JSON/CSV through
  one :class:`~hesuan.io.outputs.OutputSet` (checked first, published together).
"""

from __future__ import annotations

import bisect
import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from hesuan.io.outputs import OutputSet
from hesuan.registry.db import tables as t
from hesuan.registry.domain import aef, aef6, cadt
from hesuan.registry.domain.events import merged_payload
from hesuan.registry.domain.model import AccountKind, BlockStatus
from hesuan.registry.domain.replay import BlockRow, Replay, ReplayError
from hesuan.registry.domain.serials import BlockSerial, format_serial


@dataclass(frozen=True)
class AefTables:
    """One Party's AEF submission for one reported year."""

    heading: aef.AefHeading
    actions: tuple[aef.AefAction, ...]
    holdings: tuple[aef.AefHolding, ...]
    balance: tuple[aef.BalanceLine, ...] = ()
    approach_id: str = ""
    registry_id: str = ""
    authorisations: tuple[aef6.AuthorizationFacts, ...] = ()
    """The authorisations of the issuances the Party hosts (Table 2 of decision 4/CMA.6)."""


#: Registry cancellation kinds → AEF *Purposes for cancellation*.
_CANCELLATION_PURPOSE = {"administrative": "Administrative cancellation",
                         "buffer_reversal": "Cancellation for a reversal (buffer)"}

#: The events that move units (what :class:`~hesuan.registry.domain.replay.Replay` applies).
_LEDGER_EVENTS = ("registry_initialised", "account_opened", "units_issued", "units_moved")


def aef_tables(session: Session, *, party: str, year: int, approach_id: str,
               registry_id: str | None = None,
               cooperative_approach: str = aef.COOPERATIVE_APPROACHES[0]) -> AefTables:
    """Return the AEF Tables 1–3 of ``party`` (ISO 3166-1 alpha-2) for the reported ``year``.

    Rows cover the ITMOs of the authorised issuances (Decision 2/CMA.3, annex, chapter I).
    Actions of ``year``: for the issuances the Party hosts, the authorisation and the first
    transfer on the date its authorisation's first-transfer rule names (authorisation,
    issuance, or each use or cancellation); the Party's international transfers and
    acquisitions (:func:`international_transfers`); the uses and cancellations of ITMOs
    it holds (a retirement from an account of one of its holders is a *Use* towards an
    NDC or OIMP, or a voluntary *Cancellation*; a cancellation for overall mitigation in
    global emissions at issuance, a buffer reversal or an administrative cancellation is
    the host's *Cancellation*).

    Holdings: the blocks of ITMOs held in the Party's accounts at the end of ``year`` (or
    now, for the current year), from a replay of the journal
    (:class:`~hesuan.registry.domain.replay.Replay`, the code ``verify`` runs): a block in
    a holder's account belongs to the holder's country, whoever hosts the project — so ITMOs
    acquired from another Party are held, with their original unique identifiers and first
    transferring Party; a block in a registry account (pending, buffer, share of proceeds)
    to the host. An issuance's units are ITMOs from its effective day
    (:func:`~hesuan.registry.domain.aef.effective_day`: the latest of its issuance, its
    authorisation's date and the day that was recorded); its blocks then held by a holder
    of another Party are the host's *Transfer* and that Party's *Acquisition* on that day
    (:func:`~hesuan.registry.domain.aef.transfers_at_effective_date`). Before anything is
    returned, every block's balance is checked
    (:func:`~hesuan.registry.domain.aef.check_balance`).

    ``approach_id`` is the cooperative approach ID (``CANNNN``), part of each ITMO's
    unique identifier (:func:`~hesuan.registry.domain.aef.itmo_identifier`) with the
    registry's Party ITMO registry ID — the setting
    :func:`~hesuan.registry.service.foreign.set_itmo_registry_id` stores, else the
    registry's code; ``registry_id``, if given, must be that ID (so that the identifiers
    reported are the ones ``import-itmos`` refuses as this registry's own);
    ``cooperative_approach`` is the approach's name for the *Cooperative approach* column.

    Raises
    ------
    AefExportError
        A value the format cannot hold, a holder without a country, or blocks whose
        holdings do not follow from the actions.
    """
    if not cooperative_approach.strip() or len(cooperative_approach) > 200:
        raise aef.AefExportError("cooperative approach: expected its name or ID (1-200 "
                                 "characters), e.g. 'Article 6.4 mechanism'")
    aef.check_approach_id(approach_id)
    code, itmo_id = session.execute(select(t.registry_meta.c.registry_code,
                                           t.registry_meta.c.itmo_registry_id)).one()
    ours = itmo_id or code
    if registry_id is not None and aef.check_registry_id(registry_id) != ours:
        raise aef.AefExportError(
            f"registry ID {registry_id!r}: expected this registry's Party ITMO registry ID, "
            f"{ours} (the registry part of its ITMOs' identifiers is a registry setting: "
            "'hesuan registry set-itmo-registry-id', once; leave it out to use it)")
    ids = _Ids(approach_id, ours)
    rows = session.execute(
        select(t.authorisations, t.issuances.c.project_id, t.issuances.c.vintage,
               t.issuances.c.serial_start, t.issuances.c.serial_end,
               t.issuances.c.created_at.label("issued_at"), t.projects.c.sector,
               t.projects.c.methodology_id, t.projects.c.methodology_version,
               t.projects.c.host_country, t.events.c.at.label("authorised_at"))
        .join(t.issuances, t.issuances.c.id == t.authorisations.c.issuance_id)
        .join(t.projects, t.projects.c.id == t.issuances.c.project_id)
        .outerjoin(t.events, t.events.c.seq == t.authorisations.c.event_seq)
        .order_by(t.issuances.c.serial_start)).all()
    for a in rows:
        if a.authorised_at is None:
            raise aef.AefExportError(
                f"authorisation {a.reference!r} of issuance {a.issuance_id}: its event "
                f"{a.event_seq} is not in the journal, so the day its units became ITMOs "
                "cannot be decided (expected every authorisation journaled; run 'hesuan "
                "registry verify')")
    moved: dict[int, list[InternationalTransfer]] = {}
    for m in international_transfers(session, year=year, party=party):
        moved.setdefault(m.issuance_id, []).append(m)
    holders = _account_holders(session)
    ledger = _journal_blocks(session, year, {
        a.issuance_id: _ItmoStart(a.event_seq, _effective(a), a.serial_start, a.serial_end)
        for a in rows})
    meta = session.execute(select(t.registry_meta.c.cancellation_account_id)).one()
    uses = _uses(session, rows, holders, ledger.now, meta.cancellation_account_id)
    actions: list[aef.AefAction] = []
    holdings: list[aef.AefHolding] = []
    balance: list[aef.BalanceLine] = []
    at_end, at_start = _by_issuance(ledger.end), _by_issuance(ledger.start)
    for a in rows:
        issuance = _AefIssuance.of(a, ids, cooperative_approach)
        born = [m for m in _born_abroad(issuance, ledger.born.get(a.issuance_id, ()),
                                        uses.get(a.issuance_id, []), holders)
                if aef.in_year(m.day, year) and party in (m.transferring_party,
                                                          m.acquiring_party)]
        rows_of = _issuance_actions(issuance, born + moved.get(a.issuance_id, []),
                                    uses.get(a.issuance_id, []), party, year)
        held_end = _held(issuance, at_end.get(a.issuance_id, []), holders, party,
                         before=f"{year + 1:04d}")
        held_start = _held(issuance, at_start.get(a.issuance_id, []), holders, party,
                           before=f"{year:04d}")
        if not (rows_of or held_end or held_start):
            continue
        actions += rows_of
        holdings += [aef.AefHolding(**issuance.cells(b.serial_start, b.serial_end))
                     for b in held_end]
        balance.append(_balance_line(issuance, rows_of, uses.get(a.issuance_id, []),
                                     party, year, held_start, held_end))
    foreign = _foreign_itmos(session, party, year)
    actions += foreign.actions
    holdings += foreign.holdings
    balance += foreign.balance
    aef.check_balance(party, year, balance)
    actions.sort(key=lambda r: (r.action_date, r.underlying_unit_block_start))
    hosted = tuple(aef6.AuthorizationFacts(
        a.reference, a.authorised_on, a.serial_end - a.serial_start + 1, a.project_id,
        a.sector, tuple(a.uses.split(",")), a.first_transfer)
        for a in rows if a.host_country == party)
    return AefTables(aef.AefHeading(party, year, code), tuple(actions), tuple(holdings),
                     tuple(balance), ids.approach_id, ids.registry_id, hosted)


def aef6_tables(tables: AefTables) -> aef6.Tables:
    """Return the submission in the five tables of decision 4/CMA.6 (:mod:`~.aef6`)."""
    return aef6.from_cma4(tables.heading, tables.actions, tables.holdings,
                          tables.authorisations, approach_id=tables.approach_id,
                          registry_id=tables.registry_id)


@dataclass(frozen=True)
class _Rows:
    """Actions, holdings and balance lines of part of a submission."""

    actions: list[aef.AefAction]
    holdings: list[aef.AefHolding]
    balance: list[aef.BalanceLine]


def _foreign_itmos(session: Session, party: str, year: int) -> _Rows:
    """Return ``party``'s rows of the ITMOs its holders acquired from another registry.

    Each recorded block (``foreign_itmos``, journaled) is an *Acquisition*, from the Party
    it came from, and is held from then on under its original unique identifiers (its
    registry, cooperative approach, first transferring Party, serials and vintage); the
    registry cannot move or retire such ITMOs. Its day is the later of the day it arrived
    (``acquired_on``, as typed) and the day it was recorded (its event's): a block recorded
    late is reported in the year it was recorded, and a year already reported stays as it
    was reported.
    """
    start_at, end_at = f"{year:04d}", f"{year + 1:04d}"
    out = _Rows([], [], [])
    for r in session.execute(
            select(t.foreign_itmos, t.events.c.at.label("recorded_at"))
            .join(t.accounts, t.accounts.c.id == t.foreign_itmos.c.account_id)
            .join(t.parties, t.parties.c.id == t.accounts.c.party_id)
            .outerjoin(t.events, t.events.c.seq == t.foreign_itmos.c.event_seq)
            .where(t.parties.c.country == party)
            .order_by(t.foreign_itmos.c.id)).all():
        if r.recorded_at is None:
            raise aef.AefExportError(
                f"ITMOs {r.first_id}-{r.last_id} from {r.registry_id} (row {r.id} of "
                f"foreign_itmos): their event {r.event_seq} is not in the journal, so the "
                "day they were recorded cannot be decided (expected every acquisition "
                "journaled; run 'hesuan registry verify')")
        day = max(r.acquired_on, r.recorded_at[:10])
        if day >= end_at:
            continue
        first = aef.alpha3(r.first_transferring_party)

        def ident(serial: int, r: Any = r, first: str = first) -> str:
            return aef.itmo_identifier(r.approach_id, r.registry_id, first, serial, r.vintage)

        n = r.last_id - r.first_id + 1
        cells: dict[str, Any] = {
            "article6_record_id": "", "cooperative_approach": r.approach_id,
            "first_unique_identifier": ident(r.first_id),
            "last_unique_identifier": ident(r.last_id),
            "underlying_unit_block_start": r.first_id, "underlying_unit_block_end": r.last_id,
            "metric": aef.METRIC, "quantity_in_metric": n, "quantity_t_co2e": n,
            "conversion_factor": "", "first_transferring_party": r.first_transferring_party,
            "vintage": r.vintage, "sector": r.sector, "activity_type": "",
            "authorization_date": r.authorised_on, "authorization_id": r.authorization_id,
            "purposes_for_authorization": r.purposes, "oimp_authorized": "",
            "first_transfer_definition": ""}
        acquired = aef.in_year(day, year)
        if acquired:
            out.actions.append(_aef_action(cells, day, aef.ActionType.acquisition,
                                           r.transferring_party, acquiring=party))
        out.holdings.append(aef.AefHolding(**cells))
        out.balance.append(aef.BalanceLine(
            ident(r.first_id), 0 if day >= start_at else n, 0,
            n if acquired else 0, 0, 0, n))
    return out


@dataclass(frozen=True)
class _Ids:
    """The parts of an ITMO unique identifier the export is given: approach and registry."""

    approach_id: str
    registry_id: str


@dataclass(frozen=True)
class _Use:
    """A use or cancellation of a block, by the Party ``party`` (ISO alpha-2), on ``day``.

    ``seq`` is the journal position of its record (0 for a cancellation at issuance).
    """

    day: str
    kind: aef.ActionType
    serial_start: int
    serial_end: int
    purpose: str
    entity: str
    party: str
    seq: int = 0

    @property
    def quantity(self) -> int:
        """Return the number of units used or cancelled."""
        return self.serial_end - self.serial_start + 1


@dataclass(frozen=True)
class _Holder:
    """An account's kind and its holder's country (``None`` if registered without one)."""

    kind: AccountKind
    country: str | None


@dataclass(frozen=True)
class _ItmoStart:
    """Where an authorised issuance's units become ITMOs.

    After the authorisation's event ``event_seq``, from the effective ``day``; the
    issuance's serials are ``serial_start``–``serial_end``.
    """

    event_seq: int
    day: str
    serial_start: int
    serial_end: int


@dataclass(frozen=True)
class _Ledger:
    """The journal's blocks at the start and end of the reported year, and now.

    ``born``: by authorised issuance, its blocks when its units became ITMOs.
    """

    start: tuple[BlockRow, ...]
    end: tuple[BlockRow, ...]
    now: tuple[BlockRow, ...]
    born: dict[int, tuple[BlockRow, ...]]


def _account_holders(session: Session) -> dict[int, _Holder]:
    """Return every account's kind and holder's country."""
    return {r.id: _Holder(AccountKind(r.kind), r.country) for r in session.execute(
        select(t.accounts.c.id, t.accounts.c.kind, t.parties.c.country)
        .join(t.parties, t.parties.c.id == t.accounts.c.party_id)).all()}


def _holding_party(holders: dict[int, _Holder], account_id: int, host: str,
                   what: str) -> str:
    """Return the Party (ISO alpha-2) whose registry holds ``what`` in ``account_id``.

    A holder's account belongs to the holder's country; a registry account (pending,
    buffer, share of proceeds, cancellation) to the host.

    Raises
    ------
    AefExportError
        The holder has no country.
    """
    h = holders.get(account_id)
    if h is None or h.kind is not AccountKind.holding:
        return host
    if h.country is None:
        raise aef.AefExportError(
            f"{what}: the holder of the account has no country, so which Party holds or "
            "used them cannot be decided (expected every holder of authorised units to be "
            "registered with its country)")
    return h.country


def _journal_blocks(session: Session, year: int,
                    authorised: dict[int, _ItmoStart]) -> _Ledger:
    """Replay the journal's unit events; keep the blocks at the year's start and end.

    The replay is :class:`~hesuan.registry.domain.replay.Replay`, the one ``verify``
    compares the stored blocks with; an event at or after 1 January closes the state
    before it. ``authorised`` gives each authorised issuance's authorisation event and
    effective day (:func:`_effective`): its blocks are kept as they stand at the first
    unit event after both (the state in which its units become ITMOs, where transfers
    begin to be ITMO transfers, :func:`international_transfers`).

    Raises
    ------
    AefExportError
        An event cannot be replayed (run ``hesuan registry verify``).
    """
    start_at, end_at = f"{year:04d}", f"{year + 1:04d}"
    state = Replay()
    start: tuple[BlockRow, ...] | None = None
    end: tuple[BlockRow, ...] | None = None
    waiting = sorted(authorised.items(), key=lambda kv: kv[1].event_seq)
    next_up = 0  # waiting[next_up:]: authorisations not yet reached in the journal
    armed: dict[int, _ItmoStart] = {}  # recorded, effective day not yet reached
    born: dict[int, tuple[BlockRow, ...]] = {}

    def keep(ids: Sequence[int]) -> None:
        for iid in ids:
            p = armed.pop(iid)
            born[iid] = state.blocks_within(p.serial_start, p.serial_end)

    for r in session.execute(
            select(t.events.c.seq, t.events.c.type, t.events.c.at, t.events.c.payload,
                   t.events.c.private)
            .where(t.events.c.type.in_(_LEDGER_EVENTS)).order_by(t.events.c.seq)):
        if start is None and r.at >= start_at:
            start = tuple(state.blocks.values())
        if end is None and r.at >= end_at:
            end = tuple(state.blocks.values())
        while next_up < len(waiting) and waiting[next_up][1].event_seq < r.seq:
            armed.update([waiting[next_up]])
            next_up += 1
        due = [iid for iid, p in armed.items() if r.at[:10] >= p.day]
        if due:
            keep(due)
        try:
            state.apply(r.seq, r.type, merged_payload(
                json.loads(r.payload), None if r.private is None else json.loads(r.private)))
        except (ReplayError, KeyError, ValueError, TypeError) as exc:
            raise aef.AefExportError(f"event {r.seq}: the journal cannot be replayed ({exc}); "
                                     "run 'hesuan registry verify'") from exc
    armed.update(waiting[next_up:])
    keep(list(armed))
    now = tuple(state.blocks.values())
    return _Ledger(now if start is None else start, now if end is None else end, now, born)


def _effective(a: Any) -> str:
    """Return the day an authorised issuance's units become ITMOs.

    :func:`~hesuan.registry.domain.aef.effective_day` of its authorisation's date, its
    issuance and the day the authorisation was recorded (``authorised_at``).
    """
    return aef.effective_day(a.authorised_on, a.issued_at, a.authorised_at)


def _born_abroad(issuance: _AefIssuance, blocks: Sequence[BlockRow], used: Sequence[_Use],
                 holders: dict[int, _Holder]) -> list[InternationalTransfer]:
    """Return the international transfers of an issuance's units as they become ITMOs.

    ``blocks`` are the issuance's blocks when its units became ITMOs
    (:class:`_Ledger` ``born``); a use or cancellation journaled before the
    authorisation but dated on or after the effective day is an ITMO use of the Party
    that made it, so its block counts as held by that Party then. The rule is
    :func:`~hesuan.registry.domain.aef.transfers_at_effective_date`; each block is dated
    the effective day and stands at the authorisation's place in the journal.

    Raises
    ------
    AefExportError
        A block is held by a holder without a country.
    """
    a = issuance.a
    day = _effective(a)
    held = [aef.HeldBlock(b.serial_start, b.serial_end, _holding_party(
        holders, b.account_id, a.host_country,
        f"serials {b.serial_start}-{b.serial_end} when they became ITMOs on {day}"))
        for b in blocks if b.status == BlockStatus.held.value]
    held += [aef.HeldBlock(u.serial_start, u.serial_end, u.party) for u in used
             if u.seq < a.event_seq and u.day >= day]
    return [InternationalTransfer(a.event_seq, day, a.issuance_id, b.serial_start,
                                  b.serial_end, a.host_country, b.party)
            for b in aef.transfers_at_effective_date(a.host_country, held)]


def _by_issuance(blocks: Sequence[BlockRow]) -> dict[int, list[BlockRow]]:
    """Return ``blocks`` by issuance id."""
    out: dict[int, list[BlockRow]] = {}
    for b in blocks:
        out.setdefault(b.issuance_id, []).append(b)
    return out


def _held(issuance: _AefIssuance, blocks: Sequence[BlockRow], holders: dict[int, _Holder],
          party: str, *, before: str) -> list[BlockRow]:
    """Return ``party``'s held blocks among ``issuance``'s ``blocks`` (ITMOs by ``before``)."""
    a = issuance.a
    if _effective(a) >= before:
        return []
    return sorted((b for b in blocks if b.status == BlockStatus.held.value
                   and _holding_party(holders, b.account_id, a.host_country,
                                      f"serials {b.serial_start}-{b.serial_end}") == party),
                  key=lambda b: b.serial_start)


@dataclass(frozen=True)
class _AefIssuance:
    """An authorised issuance (a row of :func:`aef_tables`'s query) and its AEF cells."""

    a: Any
    ids: _Ids
    cooperative_approach: str
    uses: list[str]
    oimp: str
    sector: str
    first_party: str

    @classmethod
    def of(cls, a: Any, ids: _Ids, cooperative_approach: str) -> _AefIssuance:
        """Return the issuance of row ``a``, with its authorised uses, OIMP cell and sector.

        Raises
        ------
        AefExportError
            The project's sector names none of the AEF sectors.
        """
        uses = a.uses.split(",")
        oimp = aef.oimp_authorized(uses)
        return cls(a, ids, cooperative_approach, uses, oimp,
                   aef.sector(a.project_id, a.sector), aef.alpha3(a.host_country))

    def identifier(self, serial: int) -> str:
        """Return the unique identifier of the ITMO with ``serial``."""
        return aef.itmo_identifier(self.ids.approach_id, self.ids.registry_id,
                                   self.first_party, serial, self.a.vintage)

    def cells(self, start: int, end: int) -> dict[str, Any]:
        """Return the cells of the block of serials ``start``–``end`` common to both tables."""
        a, oimp = self.a, self.oimp
        return {
            "article6_record_id": "", "cooperative_approach": self.cooperative_approach,
            "first_unique_identifier": self.identifier(start),
            "last_unique_identifier": self.identifier(end),
            "underlying_unit_block_start": start, "underlying_unit_block_end": end,
            "metric": aef.METRIC, "quantity_in_metric": end - start + 1,
            "quantity_t_co2e": end - start + 1, "conversion_factor": "",
            "first_transferring_party": a.host_country, "vintage": a.vintage,
            "sector": self.sector,
            "activity_type": f"{a.methodology_id} {a.methodology_version}",
            "authorization_date": a.authorised_on, "authorization_id": a.reference,
            "purposes_for_authorization": aef.purposes_for_authorization(self.uses),
            "oimp_authorized": oimp,
            # footnote p: the definition of first transfer, if OIMP is authorised
            "first_transfer_definition": aef.FIRST_TRANSFER_TEXT[a.first_transfer]
            if oimp else "",
        }


def _aef_action(cells: dict[str, Any], day: str, kind: aef.ActionType, party: str,
                purpose: str = "", entity: str = "", acquiring: str = "") -> aef.AefAction:
    """Return a Table 2 action of ``kind`` on ``day`` for a block's ``cells``.

    ``party`` is the transferring participating Party, ``acquiring`` the acquiring one
    (international transfers only).
    """
    first = kind is aef.ActionType.first_transfer
    return aef.AefAction(**cells, action_date=day, action_type=kind.value,
                         transferring_party=party, acquiring_party=acquiring,
                         purposes_for_cancellation=purpose, using_party_or_entity=entity,
                         first_transfer="Yes" if first else "No")


def _issuance_actions(issuance: _AefIssuance, moved: Sequence[InternationalTransfer],
                      used: Sequence[_Use], party: str, year: int) -> list[aef.AefAction]:
    """Return ``party``'s Table 2 actions of ``year`` on an issuance's ITMOs.

    The host's authorisation and first transfer (by its rule), the Party's transfers and
    acquisitions, and the uses and cancellations it made.
    """
    a = issuance.a
    actions = _transfer_actions(issuance, moved, party)
    if a.host_country == party:
        whole = issuance.cells(a.serial_start, a.serial_end)
        if aef.in_year(a.authorised_on, year):
            actions.append(_aef_action(whole, a.authorised_on, aef.ActionType.authorization,
                                       party))
        first_at = {"authorisation": a.authorised_on, "issuance": a.issued_at[:10]}.get(
            a.first_transfer)
        if first_at is not None and aef.in_year(first_at, year):
            actions.append(_aef_action(whole, first_at, aef.ActionType.first_transfer, party))
    return actions + _use_actions(issuance, used, year, party,
                                  by_use=a.first_transfer == "use_or_cancellation")


def _transfer_actions(issuance: _AefIssuance, moved: Sequence[InternationalTransfer],
                      party: str) -> list[aef.AefAction]:
    """Return ``party``'s *Transfer* and *Acquisition* actions of an issuance's ITMOs.

    A block that left ``party`` for another Party is its *Transfer* (with the acquiring
    Party); one that reached it from another Party its *Acquisition* (with the
    transferring Party). The first transfer is the one the authorisation's rule names
    (authorisation, issuance, use or cancellation) and is reported apart: an
    international transfer of an ITMO is never its first transfer under those rules.
    """
    actions: list[aef.AefAction] = []
    for m in moved:
        cells = issuance.cells(m.serial_start, m.serial_end)
        if m.transferring_party == party:
            actions.append(_aef_action(cells, m.day, aef.ActionType.transfer, party,
                                       acquiring=m.acquiring_party))
        else:
            actions.append(_aef_action(cells, m.day, aef.ActionType.acquisition,
                                       m.transferring_party, acquiring=party))
    return actions


def _uses(session: Session, rows: Sequence[Any], holders: dict[int, _Holder],
          blocks: Sequence[BlockRow], cancellation_account_id: int) -> dict[int, list[_Use]]:
    """Return the uses and cancellations of every authorised issuance's blocks, by issuance.

    A retirement is used by the Party of the account it was retired from; a cancellation
    from a holder's account by the holder's country, from a registry account (buffer) by
    the host. A block in the cancellation account that no cancellation record cancelled
    went there at issuance: the host's cancellation for overall mitigation (OMGE).
    """
    by_start = sorted((a.serial_start, a.serial_end, a) for a in rows)
    starts = [s for s, _, _ in by_start]

    def issuance_of(serial: int) -> Any | None:
        i = bisect.bisect_right(starts, serial) - 1
        return by_start[i][2] if i >= 0 and serial <= by_start[i][1] else None

    used: dict[int, list[_Use]] = {}
    cancelled: set[tuple[int, int]] = set()
    records = [(r.created_at[:10], *aef.RETIREMENT_ACTION[r.purpose], r.beneficiary,
                r.account_id, r.blocks_json, r.event_seq)
               for r in session.execute(select(t.retirements).order_by(t.retirements.c.id))]
    for c in session.execute(select(t.cancellations).order_by(t.cancellations.c.id)):
        records.append((c.created_at[:10], aef.ActionType.cancellation,
                        _CANCELLATION_PURPOSE.get(c.kind, c.kind), "", c.account_id,
                        c.blocks_json, c.event_seq))
        cancelled.update((b["serial_start"], b["serial_end"]) for b in json.loads(c.blocks_json))
    for day, kind, purpose, entity, account_id, blocks_json, seq in records:
        for b in json.loads(blocks_json):
            a = issuance_of(b["serial_start"])
            if a is None:
                continue
            who = _holding_party(holders, account_id, a.host_country,
                                 f"use of serials {b['serial_start']}-{b['serial_end']}")
            used.setdefault(a.issuance_id, []).append(
                _Use(day, kind, b["serial_start"], b["serial_end"], purpose, entity, who,
                     seq))
    for blk in blocks:
        a = issuance_of(blk.serial_start)
        if a is not None and blk.account_id == cancellation_account_id \
                and (blk.serial_start, blk.serial_end) not in cancelled:
            used.setdefault(a.issuance_id, []).append(
                _Use(a.issued_at[:10], aef.ActionType.cancellation, blk.serial_start,
                     blk.serial_end, aef.OMGE_PURPOSE, "", a.host_country))
    return used


def _use_actions(issuance: _AefIssuance, used: Sequence[_Use], year: int, party: str, *,
                 by_use: bool) -> list[aef.AefAction]:
    """Return ``party``'s Table 2 uses and cancellations in ``year``, by day and first serial.

    With ``by_use`` (first transfer at each use or cancellation) the host reports the first
    transfer of each, whoever used it.
    """
    actions: list[aef.AefAction] = []
    host = issuance.a.host_country == party
    for u in sorted(used, key=lambda u: (u.day, u.serial_start)):
        if not aef.in_year(u.day, year) or not (u.party == party or (by_use and host)):
            continue
        cells = issuance.cells(u.serial_start, u.serial_end)
        if by_use and host:
            actions.append(_aef_action(cells, u.day, aef.ActionType.first_transfer, party))
        if u.party == party:
            actions.append(_aef_action(cells, u.day, u.kind, party, u.purpose, u.entity))
    return actions


def _balance_line(issuance: _AefIssuance, actions: Sequence[aef.AefAction],
                  used: Sequence[_Use], party: str, year: int, held_start: Sequence[BlockRow],
                  held_end: Sequence[BlockRow]) -> aef.BalanceLine:
    """Return ``party``'s balance of an issuance's ITMOs over ``year``, from its rows.

    Uses and cancellations dated before the units became ITMOs (:func:`_effective`), by
    any Party's holder, are actions of units, not of ITMOs: they are left out of the
    balance, and out of the ITMOs that came into being.
    """
    a = issuance.a
    effective = _effective(a)

    def total(kinds: tuple[aef.ActionType, ...], since: str = "") -> int:
        return sum(r.quantity_t_co2e for r in actions
                   if r.action_type in kinds and r.action_date >= since)

    issued = 0
    if a.host_country == party and aef.in_year(effective, year):
        issued = a.serial_end - a.serial_start + 1 - sum(
            u.quantity for u in used if u.day < effective)
    return aef.BalanceLine(
        issuance.identifier(a.serial_start), sum(b.serial_count for b in held_start), issued,
        total((aef.ActionType.acquisition,)), total((aef.ActionType.transfer,)),
        total((aef.ActionType.use, aef.ActionType.cancellation), effective),
        sum(b.serial_count for b in held_end))


@dataclass(frozen=True)
class InternationalTransfer:
    """A transfer of authorised units between holders of two Parties (countries).

    The block moved is ``serial_start``–``serial_end`` of issuance ``issuance_id``, on
    ``day`` (ISO date). Only the Parties are kept, never the accounts or holders.
    """

    seq: int
    day: str
    issuance_id: int
    serial_start: int
    serial_end: int
    transferring_party: str
    acquiring_party: str


def international_transfers(session: Session, *, year: int, party: str | None = None
                            ) -> list[InternationalTransfer]:
    """Return the international transfers of ITMOs made in calendar ``year``, in journal order.

    A transfer (a ``units_moved`` event with reason ``transfer``) of units of an authorised
    issuance, journaled after its authorisation and on or after the day its units became
    ITMOs (:func:`_effective`; what was held abroad then is :func:`_born_abroad`'s), from
    an account whose holder's country is
    Party A to an account whose holder's country is Party B ≠ A (Decision 2/CMA.3, annex,
    para. 20(a): a Party reports the ITMOs it transfers and acquires). A transfer between
    holders of one country is domestic and not an action. The accounts of a transfer are
    the private part of its event (:func:`~hesuan.registry.domain.events.merged_payload`),
    read here but never returned. With ``party``, only the transfers it made or received.

    Raises
    ------
    AefExportError
        If a holder of either account has no country, so that whether the transfer is
        international cannot be decided (fails closed rather than leave it out).
    """
    start, end = f"{year:04d}", f"{year + 1:04d}"
    recorded = t.events.alias("recorded")
    events = session.execute(
        select(t.events.c.seq, t.events.c.at, t.events.c.payload, t.events.c.private,
               t.issuances.c.id.label("issuance_id"), t.authorisations.c.authorised_on,
               t.issuances.c.created_at.label("issued_at"),
               recorded.c.at.label("authorised_at"))
        .join(t.issuances, and_(t.events.c.serial_start >= t.issuances.c.serial_start,
                                t.events.c.serial_start <= t.issuances.c.serial_end))
        .join(t.authorisations, t.authorisations.c.issuance_id == t.issuances.c.id)
        .join(recorded, recorded.c.seq == t.authorisations.c.event_seq)
        .where(t.events.c.type == "units_moved", t.events.c.seq > t.authorisations.c.event_seq,
               t.events.c.at >= start, t.events.c.at < end)
        .order_by(t.events.c.seq)).all()
    moves = []
    for e in events:
        if e.at[:10] < _effective(e):
            continue  # before the day the units became ITMOs
        body = merged_payload(json.loads(e.payload),
                              None if e.private is None else json.loads(e.private))
        if body.get("reason") == "transfer":
            moves.append((e, body))
    ids = {int(b[k]) for _, b in moves for k in ("from_account", "to_account")}
    country: dict[int, str | None] = {}
    for chunk in (sorted(ids)[i:i + 500] for i in range(0, len(ids), 500)):
        country.update((r.id, r.country) for r in session.execute(
            select(t.accounts.c.id, t.parties.c.country)
            .join(t.parties, t.parties.c.id == t.accounts.c.party_id)
            .where(t.accounts.c.id.in_(chunk))))
    out = []
    for e, b in moves:
        sender, recipient = country.get(int(b["from_account"])), country.get(int(b["to_account"]))
        if sender is None or recipient is None:
            raise aef.AefExportError(
                f"transfer of serials {b['serial_start']}-{b['serial_end']} on {e.at[:10]} "
                f"(event {e.seq}): the holder of the "
                f"{'sending' if sender is None else 'receiving'} account has no country, so "
                "whether the transfer is international cannot be decided (expected every "
                "holder of authorised units to be registered with its country)")
        if sender == recipient or (party is not None and party not in (sender, recipient)):
            continue
        out.append(InternationalTransfer(e.seq, e.at[:10], e.issuance_id,
                                         int(b["serial_start"]), int(b["serial_end"]),
                                         sender, recipient))
    return out


def cadt_records(session: Session, *, registry_link: str) -> cadt.CadtExport:
    """Return projects, issuances and units (one per block) in the CAD Trust data model.

    Each unit carries its status; a block's holder is not exported (holdings are private).
    ``registry_link`` is the public base URL of this registry's API (CAD Trust requires a
    ``projectLink`` and a ``unitRegistryLink``).
    """
    link = registry_link.strip().rstrip("/")
    if not link.startswith(("https://", "http://")) or len(link) > 500:
        raise cadt.CadtExportError(f"registry link {registry_link!r}: expected the public "
                                   "base URL of this registry's API, such as "
                                   "https://registry.example.org (CAD Trust requires a "
                                   "projectLink and a unitRegistryLink)")
    code = session.execute(select(t.registry_meta.c.registry_code)).scalar_one()
    proponents = {r.id: r.name for r in session.execute(
        select(t.parties.c.id, t.parties.c.name)).all()}
    projects = session.execute(select(t.projects).order_by(t.projects.c.id)).all()
    out_projects = tuple(cadt.project_record(code, p, proponents.get(p.proponent_id, ""),
                                             link) for p in projects)
    country = {p.id: p.host_country for p in projects}
    sector = {p.id: p.sector for p in projects}
    iss = session.execute(
        select(t.issuances, t.reports.c.period_start, t.reports.c.period_end,
               t.reports.c.verifier_id, t.reports.c.created_at.label("reported_at"),
               t.authorisations.c.ca_declaration, t.authorisations.c.ca_status,
               t.authorisations.c.uses)
        .join(t.reports, t.reports.c.id == t.issuances.c.report_id)
        .outerjoin(t.authorisations, t.authorisations.c.issuance_id == t.issuances.c.id)
        .order_by(t.issuances.c.id)).all()
    out_iss = tuple(cadt.issuance_record(code, i, proponents.get(i.verifier_id or 0, ""))
                    for i in iss)
    by_id = {i.id: i for i in iss}
    blocks = session.execute(
        select(t.blocks, t.accounts.c.kind)
        .join(t.accounts, t.accounts.c.id == t.blocks.c.account_id)
        .order_by(t.blocks.c.serial_start)).all()
    units = []
    for b in blocks:
        i = by_id[b.issuance_id]
        serial = format_serial(BlockSerial(code, country[b.project_id], b.project_id,
                                           b.vintage, b.serial_start, b.serial_end))
        units.append(cadt.unit_record(code, b, serial, AccountKind(b.kind),
                                      sector[b.project_id], country[b.project_id],
                                      i.ca_declaration, i.ca_status, link))
    return cadt.CadtExport(out_projects, out_iss, tuple(units))


# -- writing ---------------------------------------------------------------------------

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP, "CSV
#: Injection": ``=``, ``+``, ``-``, ``@``, tab and carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """Return ``value`` as a CSV cell that no spreadsheet evaluates as a formula.

    A text cell beginning with one of :data:`FORMULA_STARTS` gets a leading apostrophe
    (OWASP's advice for CSV injection), so that Excel, LibreOffice and Google Sheets show
    it as text; numbers and other text are left as they are. The .xlsx writer types such
    cells as text instead (:func:`aef_xlsx`).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a heading row and ``rows`` as CSV text (CRLF lines), every cell :func:`csv_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_cell(h) for h in header])
    w.writerows([csv_cell(c) for c in r] for r in rows)
    return buf.getvalue()


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    # UTF-8 with a byte-order mark, so that Excel opens it with the right encoding
    path.write_text(_csv_text(header, rows), encoding="utf-8-sig", newline="")


def aef_csv(tables: AefTables, table: str,
            layout: aef6.AefLayout = aef6.AefLayout.cma4) -> str:
    """Return one table of the submission as CSV text.

    Decision 6/CMA.4: Table 2 (``table="actions"``) or Table 3 (``"holdings"``);
    decision 4/CMA.6: any of :data:`~hesuan.registry.domain.aef6.TABLES`. One heading row
    with the format's column headings, then one row per record; a text cell that a
    spreadsheet would read as a formula is neutralised (:func:`csv_cell`).
    """
    if layout is aef6.AefLayout.cma6:
        if table not in aef6.TABLES:
            raise aef.AefExportError(f"table {table!r}: expected one of "
                                     f"{', '.join(aef6.TABLES)} (layout 4/CMA.6)")
        return _csv_text(aef6.TABLES[table][1], aef6.rows(aef6_tables(tables), table))
    if table == "actions":
        cols, rows = aef.columns(aef.AefAction), [aef.cells(r) for r in tables.actions]
    elif table == "holdings":
        cols, rows = aef.columns(aef.AefHolding), [aef.cells(r) for r in tables.holdings]
    else:
        raise aef.AefExportError(f"table {table!r}: expected 'actions' or 'holdings' "
                                 "(layout 6/CMA.4)")
    return _csv_text(cols, rows)


def _template_sheet(ws: Any, top: int, groups: tuple[aef.Group, ...],
                    headings: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Write the template's header rows, headings and rows into ``ws`` from row ``top``.

    The group cells are merged as in the template; the headings go below them and the rows
    under the headings.
    """
    for g in groups:
        ws.cell(row=top + g.first_row, column=g.first_col, value=g.text)
        if (g.first_col, g.first_row) != (g.last_col, g.last_row):
            ws.merge_cells(start_row=top + g.first_row, start_column=g.first_col,
                           end_row=top + g.last_row, end_column=g.last_col)
    for col, text in enumerate(headings, start=1):
        if ws.cell(row=top + 2, column=col).coordinate not in ws.merged_cells:
            ws.cell(row=top + 2, column=col, value=text)
    for i, r in enumerate(rows, start=top + 3):
        for col, value in enumerate(r, start=1):
            cell = ws.cell(row=i, column=col, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text such as a beneficiary is never a formula


def aef_xlsx(tables: AefTables, layout: aef6.AefLayout = aef6.AefLayout.cma4) -> bytes:
    """Return the submission as a workbook.

    Decision 6/CMA.4: laid out like its AEF template — sheet *Actions* with Table 1:
    Heading (A2–B4) and Table 2: Actions (header rows 8–10, rows from 11); sheet
    *Holdings* with Table 3 (header rows 4–6, rows from 7). Decision 4/CMA.6 (no official
    spreadsheet): one sheet per table, its title in A1, the headings in row 2, rows from 3.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    if layout is aef6.AefLayout.cma6:
        five = aef6_tables(tables)
        for i, (name, (title, headings)) in enumerate(aef6.TABLES.items()):
            sheet = ws if i == 0 else wb.create_sheet()
            sheet.title = title.split(": ", 1)[1]
            sheet["A1"] = title
            _plain_sheet(sheet, headings, aef6.rows(five, name))
    else:
        h = tables.heading
        ws.title = "Actions"
        ws["A2"] = aef.HEADING_TITLE
        ws["A3"], ws["B3"] = "Party", h.party
        ws["A4"], ws["B4"] = "Reported year", h.reported_year
        ws["A7"] = aef.ACTIONS_TITLE
        _template_sheet(ws, 8, aef.ACTION_GROUPS, aef.columns(aef.AefAction),
                        [aef.cells(r) for r in tables.actions])
        hs = wb.create_sheet("Holdings")
        hs["A3"] = aef.HOLDINGS_TITLE
        _template_sheet(hs, 4, aef.HOLDING_GROUPS, aef.columns(aef.AefHolding),
                        [aef.cells(r) for r in tables.holdings])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _plain_sheet(ws: Any, headings: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Write ``headings`` in row 2 of ``ws`` and ``rows`` from row 3 (text never a formula)."""
    for col, text in enumerate(headings, start=1):
        ws.cell(row=2, column=col, value=text)
    for i, r in enumerate(rows, start=3):
        for col, value in enumerate(r, start=1):
            cell = ws.cell(row=i, column=col, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"


def write_aef(tables: AefTables, out_dir: str | Path, *, overwrite: bool = False,
              layout: aef6.AefLayout = aef6.AefLayout.cma4) -> tuple[Path, ...]:
    """Write the submission's CSV files and ``aef.xlsx`` into ``out_dir``.

    Decision 6/CMA.4: ``aef_actions.csv`` and ``aef_holdings.csv``; decision 4/CMA.6:
    ``aef_<table>.csv`` for each of its five tables. The CSV files are UTF-8 with a
    byte-order mark, so that Excel reads them right; the workbook is :func:`aef_xlsx`.
    All are written or none.
    """
    names = tuple(aef6.TABLES) if layout is aef6.AefLayout.cma6 else ("actions", "holdings")
    with OutputSet("registry export aef", directory=out_dir, overwrite=overwrite,
                   label="--out") as outs:
        planned = [(outs.file(f"aef_{name}.csv", "csv"), name) for name in names]
        book = outs.file("aef.xlsx", "xlsx")
        for out, name in planned:
            out.tmp.write_text(aef_csv(tables, name, layout), encoding="utf-8-sig",
                               newline="")
        book.tmp.write_bytes(aef_xlsx(tables, layout))
    return outs.published


def cadt_rows(export: cadt.CadtExport) -> dict[str, tuple[list[str], list[list[object]]]]:
    """Return the export as flat tables (header, rows).

    Projects (without their locations), project locations (with ``warehouseProjectId``),
    issuances and units.
    """
    def table(kind: type, rows: Sequence[Any], drop: tuple[str, ...] = ()
              ) -> tuple[list[str], list[list[object]]]:
        names = [f.name for f in fields(kind) if f.name not in drop]
        return names, [[asdict(r)[n] for n in names] for r in rows]

    loc_names = ["warehouseProjectId", *(f.name for f in fields(cadt.CadtLocation))]
    locations = [[p.warehouseProjectId, *(asdict(loc)[n] for n in loc_names[1:])]
                 for p in export.projects for loc in p.projectLocations]
    return {"projects": table(cadt.CadtProject, export.projects, ("projectLocations",)),
            "project_locations": (loc_names, locations),
            "issuances": table(cadt.CadtIssuance, export.issuances),
            "units": table(cadt.CadtUnit, export.units)}


def write_cadt(export: cadt.CadtExport, out_dir: str | Path, *, overwrite: bool = False
               ) -> tuple[Path, ...]:
    """Write ``cadt.json`` and one CSV per table (:func:`cadt_rows`) into ``out_dir``.

    ``cadt.json`` holds the projects with their locations, issuances and units; all files
    are written or none. CSV cells are neutralised as in :func:`csv_cell`.
    """
    from hesuan.io.jsonout import write_json

    with OutputSet("registry export cadt", directory=out_dir, overwrite=overwrite,
                   label="--out") as outs:
        doc = outs.file("cadt.json", "json")
        tables = cadt_rows(export)
        planned = [(outs.file(f"cadt_{name}.csv", "csv"), header, rows)
                   for name, (header, rows) in tables.items()]
        write_json(doc.tmp, export.as_dict())
        for out, header, rows in planned:
            _write_csv(out.tmp, header, rows)
    return outs.published
