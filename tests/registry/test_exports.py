"""Article 6.2 AEF and CAD Trust exports, on SQLite and PostgreSQL.

Expected quantities come from the world of ``conftest.py``: 1000 units issued with 20 %
buffer, 5 % share of proceeds and 2 % overall mitigation → 200 / 50 / 20 / 730 (the
worked example of ``docs/registry.md``; deductions per Decision 3/CMA.3, annex). The written
tables are read back with hesuan's one table reader against their declared column schema
(``aef.ACTIONS_SPEC`` / ``aef.HOLDINGS_SPEC``), and the CAD Trust records are checked against
the field names and allowed values of the CAD Trust data model
(``Chia-Network/cadt``, ``src/models/units/units.modeltypes.cjs``).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from openpyxl import load_workbook

from hesuan.io.tables import read_table
from hesuan.registry.domain import aef, cadt
from hesuan.registry.service import exports

from .conftest import World, assert_sound

CADT_UNIT_FIELDS = {  # units.modeltypes.cjs (Chia-Network/cadt), minus the ones not exported
    "warehouseUnitId", "issuanceId", "unitOwner", "serialNumberBlock", "vintageYear",
    "unitType", "unitStatus", "unitStatusReason", "unitRegistryLink",
    "correspondingAdjustmentDeclaration", "correspondingAdjustmentStatus"}


def _authorise_and_retire(w: World) -> None:
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["corsia", "ndc"],
                    first_transfer="authorisation", reference="KE-CCD-LoA-2025-001",
                    authorised_on="2025-02-01")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=120,
                 beneficiary="Acme Airlines passengers 2024", purpose="corsia",
                 claim_start="2024-01-01", claim_end="2024-12-31")


def _year(w: World) -> int:
    with w.reg.read() as s, s.begin():
        from sqlalchemy import select

        from hesuan.registry.db import tables as t
        return int(s.execute(select(t.retirements.c.created_at)).scalar_one()[:4])


def test_aef_tables(world: World, tmp_path: Path) -> None:
    _authorise_and_retire(world)
    year = _year(world)
    with world.reg.read() as s, s.begin():
        tables = exports.aef_tables(s, party="KE", year=year)
        other = exports.aef_tables(s, party="DE", year=year)
    assert other.actions == () and other.holdings == ()
    # holdings: every unit of the authorised issuance once, by status
    held = sum(h.quantity for h in tables.holdings)
    assert held == 1000
    by_status: dict[str, int] = {}
    for h in tables.holdings:
        by_status[h.status] = by_status.get(h.status, 0) + h.quantity
    assert by_status == {"Buffer": 200, "Cancelled": 20, "Retired": 120, "Held": 660}
    uses = [a for a in tables.actions if a.action_type == "Use"]
    assert sum(u.quantity for u in uses) == 120
    assert {u.using_party_or_entity for u in uses} == {"Acme Airlines passengers 2024"}
    omge = [a for a in tables.actions if a.action_type == "Cancellation for OMGE"]
    assert year == _issued_year(world)  # issued and retired in the same year
    assert sum(o.quantity for o in omge) == 20
    first = tables.holdings[0]
    assert first.first_unique_identifier == f"HSN-KE-{world.project_id}-2024-" \
        f"{first.underlying_unit_block_start}"
    assert first.purposes_for_authorization == \
        "OIMP (CORSIA); Use towards achievement of an NDC"
    # an authorised-in-2025 export holds the authorisation action
    with world.reg.read() as s, s.begin():
        in_2025 = exports.aef_tables(s, party="KE", year=2025)
    assert [a.quantity for a in in_2025.actions
            if a.action_type in ("Authorization", "First transfer")] == [1000, 1000]

    written = exports.write_aef(tables, tmp_path / "aef")
    assert {p.name for p in written} == {"aef_actions.csv", "aef_holdings.csv", "aef.xlsx"}
    back = read_table(tmp_path / "aef" / "aef_holdings.csv", aef.HOLDINGS_SPEC)
    assert back.frame.height == len(tables.holdings)
    assert back.frame[aef.HEADINGS["quantity"]].sum() == 1000
    acts = read_table(tmp_path / "aef" / "aef_actions.csv", aef.ACTIONS_SPEC)
    assert acts.frame.height == len(tables.actions)
    wb = load_workbook(tmp_path / "aef" / "aef.xlsx")
    assert wb.sheetnames == ["Heading", "Actions", "Holdings"]
    assert [c.value for c in wb["Holdings"][1]] == list(aef.columns(aef.AefHolding))
    assert wb["Heading"]["B1"].value == "KE" and wb["Heading"]["B2"].value == year
    assert_sound(world.reg)


def _issued_year(w: World) -> int:
    with w.reg.read() as s, s.begin():
        from sqlalchemy import select

        from hesuan.registry.db import tables as t
        return int(s.execute(select(t.issuances.c.created_at)).scalar_one()[:4])


def test_cadt_export(world: World, tmp_path: Path) -> None:
    _authorise_and_retire(world)
    with world.reg.read() as s, s.begin():
        export = exports.cadt_records(s)
    assert len(export.projects) == 1 and len(export.issuances) == 1
    assert sum(u.unitCount for u in export.units) == 1000
    names = {f.name for f in fields(cadt.CadtUnit)}
    assert names >= CADT_UNIT_FIELDS
    for u in export.units:
        assert u.unitStatus in cadt.UNIT_STATUSES
        assert u.unitType in cadt.UNIT_TYPES
        assert u.correspondingAdjustmentDeclaration == "Committed"
        assert u.correspondingAdjustmentStatus in cadt.CA_STATUSES
        assert u.unitOwner == ""  # holdings are private
    statuses = {u.unitStatus for u in export.units}
    assert statuses == {"Held", "Retired", "Cancelled", "Buffer"}
    written = exports.write_cadt(export, tmp_path / "cadt")
    assert len(written) == 4
    doc = json.loads((tmp_path / "cadt" / "cadt.json").read_text())
    assert sum(u["unitCount"] for u in doc["units"]) == 1000
    # the holder's account id appears nowhere in the export
    text = (tmp_path / "cadt" / "cadt.json").read_text()
    assert f'"{world.holder_account}"' not in text


def test_cli_exports(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hesuan.cli.registry import app
    from hesuan.registry.engine import Registry

    from .conftest import build_world

    db = tmp_path / "r.db"
    reg = Registry.open(f"sqlite:///{db}")
    try:
        w = build_world(reg)
        _authorise_and_retire(w)
        year = _year(w)
    finally:
        reg.close()
    runner = CliRunner()
    r = runner.invoke(app, ["export", "aef", "--party", "KE", "--year", str(year),
                            "--out", str(tmp_path / "aef"), "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["holdings"] == len(read_table(tmp_path / "aef" / "aef_holdings.csv",
                                             aef.HOLDINGS_SPEC).frame)
    assert (tmp_path / "aef" / "hesuan-manifest.json").exists()
    r = runner.invoke(app, ["export", "cadt", "--out", str(tmp_path / "cadt"), "--db",
                            str(db), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["projects"] == 1
    # a second export into the same folder is refused without --overwrite, and nothing moves
    r = runner.invoke(app, ["export", "cadt", "--out", str(tmp_path / "cadt"), "--db",
                            str(db), "--json"])
    assert r.exit_code != 0
    r = runner.invoke(app, ["export", "aef", "--party", "kenya", "--year", "2025", "--out",
                            str(tmp_path / "x"), "--db", str(db)])
    assert r.exit_code != 0 and "--party" in str(r.exception)
    r = runner.invoke(app, ["export", "aef", "--help"])
    assert "Example: hesuan registry export aef" in r.stdout


def test_aef_first_transfer_at_use_or_cancellation(world: World) -> None:
    """With first transfer at use or cancellation (Decision 2/CMA.3, annex, para. 2(b)),
    each used or cancelled block is first transferred when it is used or cancelled: the
    120 retired and the 20 cancelled for overall mitigation, not the whole issuance."""
    w = world
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["oimp"],
                    first_transfer="use_or_cancellation", reference="KE-LoA-2",
                    authorised_on="2025-03-01")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=120,
                 beneficiary="Buyer", purpose="oimp", claim_start="2024-01-01",
                 claim_end="2024-12-31")
    year = _year(w)
    with w.reg.read() as s, s.begin():
        tables = exports.aef_tables(s, party="KE", year=year)
    first = [a for a in tables.actions if a.action_type == "First transfer"]
    assert sum(a.quantity for a in first) == 120 + 20
    assert {a.first_transfer_definition for a in tables.actions} == {"Use or cancellation"}
    assert {a.purposes_for_authorization for a in tables.actions} == \
        {"Other international mitigation purposes"}
