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
from hesuan.registry.domain import aef, cadt
from hesuan.registry.domain.events import merged_payload
from hesuan.registry.domain.model import AccountKind, cad_unit_status
from hesuan.registry.domain.serials import BlockSerial, format_serial


@dataclass(frozen=True)
class AefTables:
    """One Party's AEF submission for one reported year."""

    heading: aef.AefHeading
    actions: tuple[aef.AefAction, ...]
    holdings: tuple[aef.AefHolding, ...]


#: Registry cancellation kinds → AEF *Purposes for cancellation*.
_CANCELLATION_PURPOSE = {"administrative": "Administrative cancellation",
                         "buffer_reversal": "Cancellation for a reversal (buffer)"}


def aef_tables(session: Session, *, party: str, year: int,
               cooperative_approach: str = aef.COOPERATIVE_APPROACHES[0]) -> AefTables:
    """Return the AEF Tables 1–3 of ``party`` (ISO 3166-1 alpha-2) for the reported ``year``.

    Rows cover the issuances the Party's host authority authorised (Decision 2/CMA.3, annex,
    chapter I). Actions of ``year``: the authorisation; the first transfer, on the date its
    authorisation's first-transfer rule names (authorisation, issuance, or each use or
    cancellation); each retirement (a *Use* towards an NDC or OIMP, or a voluntary
    *Cancellation*, with its purpose and beneficiary) and cancellation (overall mitigation
    in global emissions at issuance as a *Cancellation* for OMGE). Holdings: the blocks of
    those issuances still held (not retired or cancelled) in the read snapshot.

    International transfers (:func:`international_transfers`) of any authorised issuance,
    whoever hosts it, are reported by both Parties: a *Transfer* by the Party the units
    left (with the acquiring Party) and an *Acquisition* by the Party they reached (with
    the transferring Party). ``cooperative_approach`` is the approach's name/ID (default:
    the template's generic "Cooperative approach").
    """
    if not cooperative_approach.strip() or len(cooperative_approach) > 200:
        raise aef.AefExportError("cooperative approach: expected its name or ID (1-200 "
                                 "characters), e.g. 'Article 6.4 mechanism'")
    code = session.execute(select(t.registry_meta.c.registry_code)).scalar_one()
    rows = session.execute(
        select(t.authorisations, t.issuances.c.project_id, t.issuances.c.vintage,
               t.issuances.c.serial_start, t.issuances.c.serial_end,
               t.issuances.c.created_at.label("issued_at"), t.projects.c.sector,
               t.projects.c.methodology_id, t.projects.c.methodology_version,
               t.projects.c.host_country)
        .join(t.issuances, t.issuances.c.id == t.authorisations.c.issuance_id)
        .join(t.projects, t.projects.c.id == t.issuances.c.project_id)
        .order_by(t.issuances.c.serial_start)).all()
    moved: dict[int, list[InternationalTransfer]] = {}
    for m in international_transfers(session, year=year, party=party):
        moved.setdefault(m.issuance_id, []).append(m)
    rows = [a for a in rows if a.host_country == party or a.issuance_id in moved]
    hosted = any(a.host_country == party for a in rows)
    retirements = session.execute(select(t.retirements).order_by(t.retirements.c.id)
                                  ).all() if hosted else []
    cancellations = session.execute(select(t.cancellations).order_by(t.cancellations.c.id)
                                    ).all() if hosted else []
    meta = session.execute(select(t.registry_meta.c.cancellation_account_id)).one()
    actions: list[aef.AefAction] = []
    holdings: list[aef.AefHolding] = []
    for a in rows:
        issuance = _AefIssuance.of(a, code, cooperative_approach)
        actions += _transfer_actions(issuance, moved.get(a.issuance_id, []), party)
        if a.host_country != party:
            continue
        whole = issuance.cells(a.serial_start, a.serial_end)
        if aef.in_year(a.authorised_on, year):
            actions.append(_aef_action(whole, a.authorised_on, aef.ActionType.authorization,
                                       party))
        first_at = {"authorisation": a.authorised_on, "issuance": a.issued_at[:10]}.get(
            a.first_transfer)
        if first_at is not None and aef.in_year(first_at, year):
            actions.append(_aef_action(whole, first_at, aef.ActionType.first_transfer, party))
        used, cancelled_by_record = _retirement_uses(a, retirements, cancellations)
        holdings += _held_blocks(session, issuance, meta.cancellation_account_id,
                                 cancelled_by_record, used)
        actions += _use_actions(issuance, used, year, party,
                                by_use=a.first_transfer == "use_or_cancellation")
    actions.sort(key=lambda r: (r.action_date, r.underlying_unit_block_start))
    return AefTables(aef.AefHeading(party, year, code), tuple(actions), tuple(holdings))


_Use = tuple[str, aef.ActionType, dict[str, Any], str, str]
"""A use of a block: (day, action type, block ``{"serial_start", "serial_end"}``, purpose for
cancellation, using party or entity)."""


@dataclass(frozen=True)
class _AefIssuance:
    """An authorised issuance (a row of :func:`aef_tables`'s query) and its AEF cells."""

    a: Any
    code: str
    cooperative_approach: str
    uses: list[str]
    oimp: str
    sector: str

    @classmethod
    def of(cls, a: Any, code: str, cooperative_approach: str) -> _AefIssuance:
        """Return the issuance of row ``a``, with its authorised uses, OIMP cell and sector.

        Raises
        ------
        AefExportError
            The project's sector names none of the AEF sectors.
        """
        uses = a.uses.split(",")
        oimp = aef.oimp_authorized(uses)
        return cls(a, code, cooperative_approach, uses, oimp, aef.sector(a.project_id, a.sector))

    def cells(self, start: int, end: int) -> dict[str, Any]:
        """Return the cells of the block of serials ``start``–``end`` common to both tables."""
        a, oimp = self.a, self.oimp
        return {
            "article6_record_id": "", "cooperative_approach": self.cooperative_approach,
            "first_unique_identifier": aef.itmo_identifier(
                self.code, a.host_country, a.project_id, a.vintage, start),
            "last_unique_identifier": aef.itmo_identifier(
                self.code, a.host_country, a.project_id, a.vintage, end),
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


def _retirement_uses(a: Any, retirements: Sequence[Any], cancellations: Sequence[Any],
                     ) -> tuple[list[_Use], set[tuple[int, int]]]:
    """Return the retirements and cancellations of the blocks of issuance ``a``.

    Also returns the (first, last) serials of the blocks a cancellation record cancelled.
    """
    def inside(b: dict[str, Any]) -> bool:
        return bool(a.serial_start <= b["serial_start"] <= a.serial_end)

    cancelled_by_record: set[tuple[int, int]] = set()
    used: list[_Use] = []
    for r in retirements:
        kind, purpose = aef.RETIREMENT_ACTION[r.purpose]
        for b in json.loads(r.blocks_json):
            if inside(b):
                used.append((r.created_at[:10], kind, b, purpose, r.beneficiary))
    for c in cancellations:
        for b in json.loads(c.blocks_json):
            if inside(b):
                cancelled_by_record.add((b["serial_start"], b["serial_end"]))
                used.append((c.created_at[:10], aef.ActionType.cancellation, b,
                             _CANCELLATION_PURPOSE.get(c.kind, c.kind), ""))
    return used, cancelled_by_record


def _held_blocks(session: Session, issuance: _AefIssuance, cancellation_account_id: int,
                 cancelled_by_record: set[tuple[int, int]],
                 used: list[_Use]) -> list[aef.AefHolding]:
    """Return the Table 3 holdings of an issuance's blocks still held (or in the buffer).

    A block in the cancellation account that no cancellation record cancelled went there at
    issuance (overall mitigation): its cancellation for OMGE is appended to ``used``.
    """
    a = issuance.a
    blocks = session.execute(
        select(t.blocks.c.serial_start, t.blocks.c.serial_end, t.accounts.c.kind,
               t.blocks.c.account_id)
        .join(t.accounts, t.accounts.c.id == t.blocks.c.account_id)
        .where(t.blocks.c.issuance_id == a.issuance_id)
        .order_by(t.blocks.c.serial_start)).all()
    holdings: list[aef.AefHolding] = []
    for b in blocks:
        if b.account_id == cancellation_account_id and \
                (b.serial_start, b.serial_end) not in cancelled_by_record:
            # moved to the cancellation account at issuance: overall mitigation
            used.append((a.issued_at[:10], aef.ActionType.cancellation,
                         {"serial_start": b.serial_start, "serial_end": b.serial_end},
                         aef.OMGE_PURPOSE, ""))
        if cad_unit_status(AccountKind(b.kind)) in ("Held", "Buffer"):
            holdings.append(aef.AefHolding(**issuance.cells(b.serial_start, b.serial_end)))
    return holdings


def _use_actions(issuance: _AefIssuance, used: list[_Use], year: int, party: str, *,
                 by_use: bool) -> list[aef.AefAction]:
    """Return the Table 2 actions of the uses in ``year``, by day and first serial.

    With ``by_use`` (first transfer at each use or cancellation) each is preceded by its
    first transfer.
    """
    actions: list[aef.AefAction] = []
    for day, kind, b, purpose, entity in sorted(used, key=lambda u: (u[0], u[2][
            "serial_start"])):
        if not aef.in_year(day, year):
            continue
        cells = issuance.cells(b["serial_start"], b["serial_end"])
        if by_use:
            actions.append(_aef_action(cells, day, aef.ActionType.first_transfer, party))
        actions.append(_aef_action(cells, day, kind, party, purpose, entity))
    return actions


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
    issuance, journaled after its authorisation, from an account whose holder's country is
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
    events = session.execute(
        select(t.events.c.seq, t.events.c.at, t.events.c.payload, t.events.c.private,
               t.issuances.c.id.label("issuance_id"))
        .join(t.issuances, and_(t.events.c.serial_start >= t.issuances.c.serial_start,
                                t.events.c.serial_start <= t.issuances.c.serial_end))
        .join(t.authorisations, t.authorisations.c.issuance_id == t.issuances.c.id)
        .where(t.events.c.type == "units_moved", t.events.c.seq > t.authorisations.c.event_seq,
               t.events.c.at >= start, t.events.c.at < end)
        .order_by(t.events.c.seq)).all()
    moves = []
    for e in events:
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


def aef_csv(tables: AefTables, table: str) -> str:
    """Return Table 2 (``table="actions"``) or Table 3 (``"holdings"``) as CSV text.

    One heading row with the template's column headings, then one row per block; a text
    cell that a spreadsheet would read as a formula is neutralised (:func:`csv_cell`).
    """
    if table == "actions":
        cols, rows = aef.columns(aef.AefAction), [aef.cells(r) for r in tables.actions]
    elif table == "holdings":
        cols, rows = aef.columns(aef.AefHolding), [aef.cells(r) for r in tables.holdings]
    else:
        raise aef.AefExportError(f"table {table!r}: expected 'actions' or 'holdings'")
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


def aef_xlsx(tables: AefTables) -> bytes:
    """Return the submission as a workbook laid out like the AEF template (Decision 6/CMA.4).

    Sheet *Actions* with Table 1: Heading (A2–B4) and Table 2: Actions (header rows 8–10,
    rows from 11); sheet *Holdings* with Table 3 (header rows 4–6, rows from 7).
    """
    from openpyxl import Workbook

    h = tables.heading
    wb = Workbook()
    ws = wb.active
    assert ws is not None
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


def write_aef(tables: AefTables, out_dir: str | Path, *, overwrite: bool = False
              ) -> tuple[Path, ...]:
    """Write ``aef_actions.csv``, ``aef_holdings.csv`` and ``aef.xlsx`` into ``out_dir``.

    The CSV files are UTF-8 with a byte-order mark, so that Excel reads them right; the
    workbook is :func:`aef_xlsx`. All are written or none.
    """
    with OutputSet("registry export aef", directory=out_dir, overwrite=overwrite,
                   label="--out") as outs:
        actions = outs.file("aef_actions.csv", "csv")
        holdings = outs.file("aef_holdings.csv", "csv")
        book = outs.file("aef.xlsx", "xlsx")
        actions.tmp.write_text(aef_csv(tables, "actions"), encoding="utf-8-sig", newline="")
        holdings.tmp.write_text(aef_csv(tables, "holdings"), encoding="utf-8-sig",
                                newline="")
        book.tmp.write_bytes(aef_xlsx(tables))
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
