"""Public exports of the registry: Article 6.2 AEF tables and the CAD Trust data model.

Each export is built in **one** read-only transaction (:meth:`Registry.read`: one snapshot,
REPEATABLE READ READ ONLY on PostgreSQL), so its tables agree with each other. Only what is
public leaves (``docs/registry.md``, "Privacy"): projects, issuances, authorisations,
retirements, cancellations and block status — never which holding account holds a block.

- :func:`aef_tables` — the Actions and Holdings tables of a Party's agreed-electronic-format
  submission (:mod:`hesuan.registry.domain.aef`) for the authorised issuances of projects
  the Party hosts.
- :func:`cadt_records` — projects, issuances and units in the Climate Action Data Trust
  data model (:mod:`hesuan.registry.domain.cadt`).
- :func:`write_aef` / :func:`write_cadt` — those, written as CSV/.xlsx or JSON/CSV through
  one :class:`~hesuan.io.outputs.OutputSet` (checked first, published together).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hesuan.io.outputs import OutputSet
from hesuan.registry.db import tables as t
from hesuan.registry.domain import aef, cadt
from hesuan.registry.domain.model import AccountKind, cad_unit_status
from hesuan.registry.domain.serials import BlockSerial, format_serial


@dataclass(frozen=True)
class AefTables:
    """One Party's AEF submission for one reporting year."""

    heading: aef.AefHeading
    actions: tuple[aef.AefAction, ...]
    holdings: tuple[aef.AefHolding, ...]


def aef_tables(session: Session, *, party: str, year: int) -> AefTables:
    """Return the AEF Actions and Holdings tables of ``party`` (ISO 3166-1 alpha-2) for ``year``.

    Rows cover the issuances the Party's host authority authorised (Decision 2/CMA.3, annex,
    chapter I). Actions of ``year``: the authorisation; the first transfer, on the date its
    authorisation's first-transfer rule names (authorisation, issuance, or each use or
    cancellation); each retirement (``Use``, its purpose and beneficiary) and cancellation
    (overall mitigation in global emissions as ``Cancellation for OMGE``). Holdings: every
    block of those issuances with its status in the read snapshot.
    """
    code = session.execute(select(t.registry_meta.c.registry_code)).scalar_one()
    rows = session.execute(
        select(t.authorisations, t.issuances.c.project_id, t.issuances.c.vintage,
               t.issuances.c.serial_start, t.issuances.c.serial_end,
               t.issuances.c.created_at.label("issued_at"), t.projects.c.sector,
               t.projects.c.methodology_id, t.projects.c.methodology_version,
               t.projects.c.host_country)
        .join(t.issuances, t.issuances.c.id == t.authorisations.c.issuance_id)
        .join(t.projects, t.projects.c.id == t.issuances.c.project_id)
        .where(t.projects.c.host_country == party)
        .order_by(t.issuances.c.serial_start)).all()
    retirements = session.execute(select(t.retirements).order_by(t.retirements.c.id)).all()
    cancellations = session.execute(select(t.cancellations)
                                    .order_by(t.cancellations.c.id)).all()
    meta = session.execute(select(t.registry_meta.c.cancellation_account_id)).one()
    actions: list[aef.AefAction] = []
    holdings: list[aef.AefHolding] = []
    for a in rows:
        def block(start: int, end: int, a: Any = a) -> dict[str, Any]:
            return {
                "first_unique_identifier": aef.itmo_identifier(
                    code, a.host_country, a.project_id, a.vintage, start),
                "last_unique_identifier": aef.itmo_identifier(
                    code, a.host_country, a.project_id, a.vintage, end),
                "underlying_unit_block_start": start, "underlying_unit_block_end": end,
                "metric": aef.METRIC, "quantity": end - start + 1,
                "quantity_t_co2e": (end - start + 1) * aef.CONVERSION_FACTOR,
                "conversion_factor": aef.CONVERSION_FACTOR,
                "first_transferring_party": a.host_country, "vintage": a.vintage,
                "sector": a.sector,
                "activity_type": f"{a.methodology_id} {a.methodology_version}",
                "authorization_date": a.authorised_on, "authorization_id": a.reference,
                "purposes_for_authorization": "; ".join(aef.USE_TEXT[u]
                                                        for u in a.uses.split(",")),
                "first_transfer_definition": aef.FIRST_TRANSFER_TEXT[a.first_transfer],
            }

        whole = block(a.serial_start, a.serial_end)
        if aef.in_year(a.authorised_on, year):
            actions.append(aef.AefAction(**whole, action_date=a.authorised_on,
                                         action_type=aef.ActionType.authorization.value,
                                         transferring_party=party))
        first_at = {"authorisation": a.authorised_on, "issuance": a.issued_at[:10]}.get(
            a.first_transfer)
        if first_at is not None and aef.in_year(first_at, year):
            actions.append(aef.AefAction(**whole, action_date=first_at,
                                         action_type=aef.ActionType.first_transfer.value,
                                         transferring_party=party))
        by_use = a.first_transfer == "use_or_cancellation"

        def inside(b: dict[str, Any], a: Any = a) -> bool:
            return bool(a.serial_start <= b["serial_start"] <= a.serial_end)

        cancelled_by_record: set[tuple[int, int]] = set()
        uses: list[tuple[str, aef.ActionType, dict[str, Any], str, str]] = []
        for r in retirements:
            for b in json.loads(r.blocks_json):
                if inside(b):
                    uses.append((r.created_at[:10], aef.ActionType.use, b,
                                 aef.PURPOSE_TEXT[r.purpose], r.beneficiary))
        for c in cancellations:
            for b in json.loads(c.blocks_json):
                if inside(b):
                    cancelled_by_record.add((b["serial_start"], b["serial_end"]))
                    uses.append((c.created_at[:10], aef.ActionType.cancellation, b,
                                 f"Cancellation ({c.kind})", ""))
        blocks = session.execute(
            select(t.blocks.c.serial_start, t.blocks.c.serial_end, t.accounts.c.kind,
                   t.blocks.c.account_id)
            .join(t.accounts, t.accounts.c.id == t.blocks.c.account_id)
            .where(t.blocks.c.issuance_id == a.issuance_id)
            .order_by(t.blocks.c.serial_start)).all()
        for b in blocks:
            if b.account_id == meta.cancellation_account_id and \
                    (b.serial_start, b.serial_end) not in cancelled_by_record:
                # moved to the cancellation account at issuance: overall mitigation
                uses.append((a.issued_at[:10], aef.ActionType.omge_cancellation,
                             {"serial_start": b.serial_start, "serial_end": b.serial_end},
                             "Overall mitigation in global emissions", ""))
            holdings.append(aef.AefHolding(**block(b.serial_start, b.serial_end),
                                           status=cad_unit_status(AccountKind(b.kind))))
        for day, kind, b, purpose, entity in sorted(uses, key=lambda u: (u[0], u[2][
                "serial_start"])):
            if not aef.in_year(day, year):
                continue
            cells = block(b["serial_start"], b["serial_end"])
            if by_use:
                actions.append(aef.AefAction(**cells, action_date=day,
                                             action_type=aef.ActionType.first_transfer.value,
                                             transferring_party=party))
            actions.append(aef.AefAction(**cells, action_date=day, action_type=kind.value,
                                         transferring_party=party,
                                         purposes_for_cancellation=purpose,
                                         using_party_or_entity=entity))
    actions.sort(key=lambda r: (r.action_date, r.underlying_unit_block_start))
    return AefTables(aef.AefHeading(party, year, code), tuple(actions), tuple(holdings))


def cadt_records(session: Session, *, registry_link: str = "") -> cadt.CadtExport:
    """Projects, issuances and units (one per block, with its status) in the CAD Trust data model.

    A block's holder is not exported (holdings are private).
    """
    code = session.execute(select(t.registry_meta.c.registry_code)).scalar_one()
    proponents = {r.id: r.name for r in session.execute(
        select(t.parties.c.id, t.parties.c.name)).all()}
    projects = session.execute(select(t.projects).order_by(t.projects.c.id)).all()
    out_projects = tuple(cadt.project_record(code, p, proponents.get(p.proponent_id, ""),
                                             registry_link) for p in projects)
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
                                      sector[b.project_id], i.ca_declaration,
                                      i.ca_status, registry_link))
    return cadt.CadtExport(out_projects, out_iss, tuple(units))


# -- writing ---------------------------------------------------------------------------

def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    # UTF-8 with a byte-order mark, so that Excel opens it with the right encoding
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(header)
        w.writerows(rows)


def write_aef(tables: AefTables, out_dir: str | Path, *, overwrite: bool = False
              ) -> tuple[Path, ...]:
    """Write ``aef_actions.csv``, ``aef_holdings.csv`` and ``aef.xlsx`` into ``out_dir``.

    All or none; the workbook has the heading, Actions and Holdings sheets.
    """
    from openpyxl import Workbook

    h = tables.heading
    heading_rows = [("Party", h.party), ("Reporting year", h.reporting_year),
                    ("Registry", h.registry),
                    ("Column headings checked against the UNFCCC AEF template",
                     "yes" if h.template_verified else "no")]
    with OutputSet("registry export aef", directory=out_dir, overwrite=overwrite,
                   label="--out") as outs:
        actions = outs.file("aef_actions.csv", "csv")
        holdings = outs.file("aef_holdings.csv", "csv")
        book = outs.file("aef.xlsx", "xlsx")
        a_cols, h_cols = aef.columns(aef.AefAction), aef.columns(aef.AefHolding)
        a_rows = [aef.cells(r) for r in tables.actions]
        h_rows = [aef.cells(r) for r in tables.holdings]
        _write_csv(actions.tmp, a_cols, a_rows)
        _write_csv(holdings.tmp, h_cols, h_rows)
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "Heading"
        for row in heading_rows:
            ws.append(list(row))
        for title, cols, rows in (("Actions", a_cols, a_rows), ("Holdings", h_cols, h_rows)):
            sheet = wb.create_sheet(title)
            sheet.append(list(cols))
            for r in rows:
                sheet.append(list(r))
        wb.save(book.tmp)
    return outs.published


def write_cadt(export: cadt.CadtExport, out_dir: str | Path, *, overwrite: bool = False
               ) -> tuple[Path, ...]:
    """Write ``cadt.json`` and one CSV per table into ``out_dir``, all or none.

    ``cadt.json`` holds projects, issuances and units.
    """
    from hesuan.io.jsonout import write_json

    with OutputSet("registry export cadt", directory=out_dir, overwrite=overwrite,
                   label="--out") as outs:
        doc = outs.file("cadt.json", "json")
        planned = [(outs.file(f"cadt_{name}.csv", "csv"), kind, rows)
                   for name, kind, rows in (("projects", cadt.CadtProject, export.projects),
                                            ("issuances", cadt.CadtIssuance, export.issuances),
                                            ("units", cadt.CadtUnit, export.units))]
        write_json(doc.tmp, export.as_dict())
        for out, kind, rows in planned:
            names = [f.name for f in fields(kind)]
            _write_csv(out.tmp, names, [[asdict(r)[n] for n in names] for r in rows])
    return outs.published
