"""Article 6.2 AEF and CAD Trust exports, on SQLite and PostgreSQL, checked against their
published layouts.

- AEF: the layout of the agreed-electronic-format template spreadsheet (Decision 6/CMA.4,
  annex II: Table 1 Heading, Table 2 Actions, Table 3 Holdings), described in
  ``data/aef_template_6cma4.json`` (source in ``SOURCE.md``): titles, group cells with their
  merged ranges, column headings in order, the template's lists of values.
- CAD Trust: the JSON Schema of the CAD Trust data model v1
  (``hesuan/registry/domain/cadt_v1.schema.json``, derived from ``Chia-Network/cadt``; its
  description names the files), applied with ``jsonschema_rs``.

Expected quantities come from the world of ``conftest.py``: 1000 units issued with 20 %
buffer, 5 % share of proceeds and 2 % overall mitigation → 200 / 50 / 20 / 730 (the
worked example of ``docs/registry.md``; deductions per Decision 3/CMA.3, annex).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from openpyxl import load_workbook

from hesuan.io.tables import read_table
from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.domain import aef, cadt
from hesuan.registry.service import exports

from .conftest import VERIFIER_PUBLIC_KEY, World, assert_sound, attestation, fresh_summary

TEMPLATE = json.loads((Path(__file__).parent / "data" / "aef_template_6cma4.json")
                      .read_text(encoding="utf-8"))
#: the template's headings with the outer whitespace trimmed (one has a trailing space)
ACTION_COLUMNS = [c.strip() for c in TEMPLATE["actions_sheet"]["columns"]]
HOLDING_COLUMNS = [c.strip() for c in TEMPLATE["holdings_sheet"]["columns"]]
LINK = "https://registry.example.org"
APPROACH = "CA0004"  # a cooperative approach ID in the common nomenclatures' form CANNNN


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
        tables = exports.aef_tables(s, approach_id=APPROACH, party="KE", year=year)
        other = exports.aef_tables(s, approach_id=APPROACH, party="DE", year=year)
    # Germany hosts nothing; its holder acquired 300 ITMOs from Kenya's proponent and
    # retired 120 of them: an Acquisition and a Use, and 180 held — with their original
    # unique identifiers and Kenya as the first transferring Party
    assert [(a.action_type, a.quantity_t_co2e, a.transferring_party, a.acquiring_party)
            for a in other.actions] == [("Acquisition", 300, "KE", "DE"), ("Use", 120, "DE", "")]
    assert sum(h.quantity_t_co2e for h in other.holdings) == 300 - 120
    assert {h.first_transferring_party for h in other.holdings} == {"KE"}
    assert [h.first_unique_identifier for h in other.holdings] == \
        [f"{APPROACH}-HSN-KEN-431-2024"]  # 431-730 acquired, 611-730 retired
    uses = [a for a in other.actions if a.action_type == "Use"]
    assert {u.using_party_or_entity for u in uses} == {"Acme Airlines passengers 2024"}
    assert {u.purposes_for_cancellation for u in uses} == {"OIMP (CORSIA)"}
    # Kenya: 1000 issued less 300 transferred to Germany and 20 cancelled (OMGE) — the
    # buffer (200), share of proceeds (50) and the proponent's 430 are held
    assert sum(h.quantity_t_co2e for h in tables.holdings) == 1000 - 300 - 20
    assert [a.action_type for a in tables.actions if a.action_type == "Use"] == []
    omge = [a for a in tables.actions if a.action_type == "Cancellation"]
    assert year == _issued_year(world)  # issued and retired in the same year
    assert sum(o.quantity_t_co2e for o in omge) == 20
    assert {o.purposes_for_cancellation for o in omge} == {"OMGE"}
    # each block balances: start + came into being + acquired − transferred − used = end
    assert [(b.start, b.issued, b.acquired, b.transferred, b.used_or_cancelled, b.end)
            for b in tables.balance] == [(0, 1000, 0, 300, 20, 680)]
    assert [(b.start, b.issued, b.acquired, b.transferred, b.used_or_cancelled, b.end)
            for b in other.balance] == [(0, 0, 300, 0, 120, 180)]
    first = tables.holdings[0]
    # decision 6/CMA.4, annex I, para. 5: approach, originating registry, first
    # transferring Party, serial, vintage
    assert first.first_unique_identifier == \
        f"{APPROACH}-HSN-KEN-{first.underlying_unit_block_start}-2024"
    assert (first.purposes_for_authorization, first.oimp_authorized, first.sector,
            first.metric, first.first_transfer_definition) == \
        ("NDC and OIMP", "CORSIA", "AFOLU", "GHG", "Authorization")
    # an authorised-in-2025 export holds the authorisation action
    with world.reg.read() as s, s.begin():
        in_2025 = exports.aef_tables(s, approach_id=APPROACH, party="KE", year=2025)
    assert [(a.action_type, a.quantity_t_co2e, a.first_transfer) for a in in_2025.actions
            if a.action_type in ("Authorization", "First Transfer")] == \
        [("Authorization", 1000, "No"), ("First Transfer", 1000, "Yes")]

    written = exports.write_aef(tables, tmp_path / "aef")
    assert {p.name for p in written} == {"aef_actions.csv", "aef_holdings.csv", "aef.xlsx"}
    back = read_table(tmp_path / "aef" / "aef_holdings.csv", aef.HOLDINGS_SPEC)
    assert back.frame.height == len(tables.holdings)
    assert back.frame[aef.HEADINGS["quantity_t_co2e"]].sum() == 680
    acts = read_table(tmp_path / "aef" / "aef_actions.csv", aef.ACTIONS_SPEC)
    assert acts.frame.height == len(tables.actions)
    wb = load_workbook(tmp_path / "aef" / "aef.xlsx")
    assert wb.sheetnames == ["Actions", "Holdings"]
    assert wb["Actions"]["B3"].value == "KE" and wb["Actions"]["B4"].value == year
    assert wb["Actions"]["C11"].value == tables.actions[0].first_unique_identifier
    assert wb["Holdings"]["I7"].value == tables.holdings[0].quantity_t_co2e
    assert_sound(world.reg)


def _check_sheet(ws: Any, spec: dict[str, Any], exact_positions: bool) -> None:
    for cell, text in spec["cells"].items():
        assert ws[cell].value == text.strip(), cell
    merged = {str(r) for r in ws.merged_cells.ranges}
    heading_row = spec["heading_row"]
    for row in spec["group_rows"]:
        for cell, (text, span) in row.items():
            assert ws[cell].value == text.strip(), cell
            if ":" in span and span.split(":")[0] != span.split(":")[1]:
                assert span in merged, span
    got = [c.value for c in ws[heading_row] if c.value is not None]
    # the headings row holds the column headings not covered by a merged group cell
    covered = {g[0] for row in spec["group_rows"] for g in row.values()
               if g[1].endswith(str(heading_row))}
    assert got == [c.strip() for c in spec["columns"] if c not in covered]
    if exact_positions:
        for col, text in enumerate(spec["columns"], start=1):
            top = ws.cell(row=heading_row, column=col).value
            assert top in (text.strip(), None), (col, top)


def test_aef_layout_matches_the_template(world: World, tmp_path: Path) -> None:
    """Column for column against the AEF template spreadsheet (data/aef_template_6cma4.json):
    the CSV headings, the workbook's titles, group cells, merged ranges and headings, and the
    codes used against the template's lists."""
    _authorise_and_retire(world)
    with world.reg.read() as s, s.begin():
        tables = exports.aef_tables(s, approach_id=APPROACH, party="KE", year=_year(world))
    assert list(aef.columns(aef.AefAction)) == ACTION_COLUMNS
    assert list(aef.columns(aef.AefHolding)) == HOLDING_COLUMNS
    for name, columns in (("actions", ACTION_COLUMNS), ("holdings", HOLDING_COLUMNS)):
        header = next(csv.reader(io.StringIO(exports.aef_csv(tables, name))))
        assert header == columns
    wb = load_workbook(io.BytesIO(exports.aef_xlsx(tables)))
    assert wb.sheetnames == [TEMPLATE["actions_sheet"]["name"], TEMPLATE["holdings_sheet"]["name"]]
    _check_sheet(wb["Actions"], TEMPLATE["actions_sheet"], exact_positions=True)
    _check_sheet(wb["Holdings"], TEMPLATE["holdings_sheet"], exact_positions=True)
    lists = TEMPLATE["lists"]
    assert set(aef.COOPERATIVE_APPROACHES) == set(lists["Cooperative approach"])
    assert set(aef.SECTORS) == set(lists["Sector(s)"])
    assert [a.value for a in aef.ActionType] == TEMPLATE["action_types"]["values"]
    rows = [*tables.actions, *tables.holdings]
    assert {r.purposes_for_authorization for r in rows} <= \
        set(lists["Purposes for authorization"])
    assert {r.first_transfer_definition for r in rows} - {""} <= \
        set(lists["First transfer definition"])
    assert {r.action_type for r in tables.actions} <= set(TEMPLATE["action_types"]["values"])
    assert {r.sector for r in rows} <= set(lists["Sector(s)"])


def test_aef_workbook_never_turns_text_into_a_formula(world: World) -> None:
    """A retirement beneficiary is free text; in the workbook it stays text."""
    w = world
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                    first_transfer="issuance", reference="KE-LoA-3", authorised_on="2025-01-02")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=5)
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=5,
                 beneficiary='=HYPERLINK("http://x.example","y")', purpose="ndc",
                 claim_start="2024-01-01", claim_end="2024-12-31")
    with w.reg.read() as s, s.begin():  # the Use is Germany's, whose holder retired
        tables = exports.aef_tables(s, approach_id=APPROACH, party="DE", year=_year(w))
    wb = load_workbook(io.BytesIO(exports.aef_xlsx(tables)))
    cells = [c for row in wb["Actions"].iter_rows(min_row=11) for c in row
             if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_aef_refuses_what_it_cannot_write(world: World) -> None:
    w = world
    with pytest.raises(aef.AefExportError, match="sector 'Tourism'"):
        aef.sector(7, "Tourism")
    assert aef.sector(1, "Energy industries") == "Energy" and aef.sector(2, "LULUCF") == "AFOLU"
    with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError,
                                                    match="cooperative approach"):
        exports.aef_tables(s, approach_id=APPROACH, party="KE", year=2025,
                           cooperative_approach=" ")
    for bad in ("CA4", "ca0004", "Cooperative approach", "CA0004-1"):
        with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError,
                                                        match="CA and four digits"):
            exports.aef_tables(s, approach_id=bad, party="KE", year=2025)
    with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError, match="KEN01"):
        exports.aef_tables(s, approach_id=APPROACH, registry_id="ken-1", party="KE", year=2025)


def _issued_year(w: World) -> int:
    with w.reg.read() as s, s.begin():
        from sqlalchemy import select

        from hesuan.registry.db import tables as t
        return int(s.execute(select(t.issuances.c.created_at)).scalar_one()[:4])


def _cadt_validator() -> Any:
    return jsonschema_rs.validator_for(cadt.schema())


def test_cadt_export(world: World, tmp_path: Path) -> None:
    _authorise_and_retire(world)
    with world.reg.read() as s, s.begin():
        export = exports.cadt_records(s, registry_link=LINK + "/")
    assert len(export.projects) == 1 and len(export.issuances) == 1
    assert sum(u.unitCount for u in export.units) == 1000
    doc = export.as_dict()
    validator = _cadt_validator()
    errors = [e.message for e in validator.iter_errors(doc)]
    assert errors == []
    for u in export.units:
        assert u.correspondingAdjustmentDeclaration == "Committed"
        assert u.unitOwner is None  # holdings are private
        assert u.countryJurisdictionOfOwner == "Kenya"
        assert u.unitRegistryLink == f"{LINK}/serials/{u.unitBlockStart}/trace"
    [p] = export.projects
    assert p.projectLink == f"{LINK}/projects/{world.project_id}"
    assert (p.projectLocations[0].country, p.projectStatus) == ("Kenya", "Registered")
    statuses = {u.unitStatus for u in export.units}
    assert statuses == {"Held", "Retired", "Cancelled", "Buffer"}
    # the schema is not a rubber stamp: what CAD Trust would refuse, it refuses
    bad_unit = {**doc["units"][0], "unitStatus": "Sold"}
    assert not validator.is_valid({**doc, "units": [bad_unit]})
    no_reason = {**next(u for u in doc["units"] if u["unitStatus"] == "Retired"),
                 "unitStatusReason": None}
    assert not validator.is_valid({**doc, "units": [no_reason]})
    int_block = {**doc["units"][0], "unitBlockStart": 1}
    assert not validator.is_valid({**doc, "units": [int_block]})
    extra = {**doc["projects"][0], "countryJurisdiction": "KE"}
    assert not validator.is_valid({**doc, "projects": [extra]})
    empty_link = {**doc["projects"][0], "projectLink": ""}
    assert not validator.is_valid({**doc, "projects": [empty_link]})
    written = exports.write_cadt(export, tmp_path / "cadt")
    assert len(written) == 5
    back = json.loads((tmp_path / "cadt" / "cadt.json").read_text())
    assert validator.is_valid(back)
    assert sum(u["unitCount"] for u in back["units"]) == 1000
    # the holder's account id appears nowhere in the export
    text = (tmp_path / "cadt" / "cadt.json").read_text()
    assert f'"{world.holder_account}"' not in text
    with world.reg.read() as s, s.begin(), pytest.raises(cadt.CadtExportError,
                                                         match="registry link"):
        exports.cadt_records(s, registry_link="")


def test_cadt_country_names_follow_the_picklist() -> None:
    assert cadt.country_name("KE", "p") == "Kenya"
    assert cadt.country_name("TR", "p") == "Turkey"  # the picklist's spelling
    assert all(cadt.country_name(c, "p") in cadt.COUNTRIES for c in ("DE", "FR", "BR", "CI"))
    with pytest.raises(cadt.CadtExportError, match="country 'AQ'"):
        cadt.country_name("AQ", "project 3")


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
    r = runner.invoke(app, ["export", "aef", "--approach-id", APPROACH, "--party", "KE",
                            "--year", str(year), "--out", str(tmp_path / "aef"), "--db", str(db),
                            "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["holdings"] == len(read_table(tmp_path / "aef" / "aef_holdings.csv",
                                             aef.HOLDINGS_SPEC).frame)
    assert (tmp_path / "aef" / "hesuan-manifest.json").exists()
    r = runner.invoke(app, ["export", "cadt", "--out", str(tmp_path / "cadt"), "--db",
                            str(db), "--registry-link", LINK, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["projects"] == 1
    # a second export into the same folder is refused without --overwrite, and nothing moves
    r = runner.invoke(app, ["export", "cadt", "--out", str(tmp_path / "cadt"), "--db",
                            str(db), "--registry-link", LINK, "--json"])
    assert r.exit_code != 0
    r = runner.invoke(app, ["export", "aef", "--approach-id", APPROACH, "--party", "kenya",
                            "--year", "2025", "--out", str(tmp_path / "x"), "--db", str(db)])
    assert r.exit_code != 0 and "--party" in str(r.exception)
    r = runner.invoke(app, ["export", "cadt", "--out", str(tmp_path / "y"), "--db", str(db),
                            "--registry-link", "ftp://registry"])
    assert r.exit_code != 0 and "registry link" in str(r.exception)
    assert not (tmp_path / "y" / "cadt.json").exists()
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
        tables = exports.aef_tables(s, approach_id=APPROACH, party="KE", year=year)
    first = [a for a in tables.actions if a.action_type == "First Transfer"]
    assert sum(a.quantity_t_co2e for a in first) == 120 + 20
    assert {a.first_transfer for a in first} == {"Yes"}
    assert {a.first_transfer_definition for a in tables.actions} == {"Use or cancellation"}
    assert {a.purposes_for_authorization for a in tables.actions} == {"OIMP"}
    assert {a.oimp_authorized for a in tables.actions} == \
        {"Other international mitigation purposes"}


@pytest.fixture
def api(world: World) -> Any:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url=LINK) as c:
        yield c


def test_exports_over_rest(world: World, api: httpx.Client) -> None:
    """GET /exports/aef (JSON, CSV per table, .xlsx) and GET /exports/cadt: public, the same
    tables as the CLI's, typed in the OpenAPI document, and no holder named."""
    _authorise_and_retire(world)
    year = _year(world)
    with world.reg.read() as s, s.begin():
        tables = exports.aef_tables(s, approach_id=APPROACH, party="KE", year=year)
    r = api.get("/exports/aef", params={"approach_id": APPROACH, "party": "KE", "year": year})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["heading"] == {"party": "KE", "reported_year": year, "registry": "HSN"}
    assert body["columns"]["actions"] == ACTION_COLUMNS
    assert [(b["start"], b["issued"], b["transferred"], b["used_or_cancelled"], b["end"])
            for b in body["balance"]] == [(0, 1000, 300, 20, 680)]
    assert len(body["actions"]) == len(tables.actions)
    assert sum(h["quantity_t_co2e"] for h in body["holdings"]) == 680
    r = api.get("/exports/aef", params={"approach_id": APPROACH, "party": "KE", "year": year,
                                        "format": "csv", "table": "holdings"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text == exports.aef_csv(tables, "holdings")
    r = api.get("/exports/aef", params={"approach_id": APPROACH, "party": "KE", "year": year,
                                        "format": "xlsx",
                                        "cooperative_approach": "Article 6.4 mechanism"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    _check_sheet(wb["Actions"], TEMPLATE["actions_sheet"], exact_positions=True)
    assert wb["Actions"]["B11"].value == "Article 6.4 mechanism"
    for bad in ({"party": "ke", "year": year}, {"party": "KE", "year": 12},
                {"party": "KE", "year": year, "format": "pdf"}, {"approach_id": "CA12"},
                {"approach_id": None}, {"registry_id": "ken-01"}):
        r = api.get("/exports/aef", params={k: v for k, v in {
            "approach_id": APPROACH, "party": "KE", "year": year, **bad}.items()
            if v is not None})
        assert 400 <= r.status_code < 500, (bad, r.status_code)
    r = api.get("/exports/cadt")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert _cadt_validator().is_valid(doc)
    assert doc["projects"][0]["projectLink"] == f"{LINK}/projects/{world.project_id}"
    # nothing names a holder: neither account ids nor the holders' party names
    aef_json = api.get("/exports/aef", params={"approach_id": APPROACH, "party": "KE",
                                               "year": year}).text
    for text in (r.text, aef_json):
        assert f'"{world.holder_account}"' not in text
        assert "party-holder" not in text and '"Holder"' not in text
    spec = api.get("/openapi.json").json()
    for path, models in (("/exports/aef", ("AefSubmission", "Aef6Submission")),
                         ("/exports/cadt", ("CadtDocument",))):
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        refs = [x["$ref"] for x in ok["schema"].get("anyOf", [ok["schema"]])]
        assert [r.rsplit("/", 1)[1] for r in refs] == list(models)
    assert set(spec["components"]["schemas"]["AefAction"]["properties"]) == \
        {f.name for f in __import__("dataclasses").fields(aef.AefAction)}
    assert_sound(world.reg)


def test_rest_export_refusal_is_a_4xx(world: World, api: httpx.Client) -> None:
    """A record the format cannot hold (a sector outside the AEF's list) is a 422 naming
    the project and the field, not a 5xx."""
    w = world
    w.reg.accredit_verifier(w.admin, w.key(), party_id=w.verifier.party_id, sector="Tourism",
                            public_key=VERIFIER_PUBLIC_KEY)
    proj = w.reg.create_project(w.proponent, w.key(), name="Tourism lodge",
                                methodology_id="CCER-14-001", methodology_version="V01",
                                host_country="KE", host_region="Coast", sector="Tourism",
                                crediting_start="2020-01-01", crediting_end="2030-12-31",
                                buffer_pct="0")
    pid = proj["project_id"]
    w.reg.transition_project(w.verifier, w.key(), project_id=pid, status="validated")
    w.reg.transition_project(w.admin, w.key(), project_id=pid, status="registered")
    rep = w.reg.submit_report(w.proponent, w.key(), project_id=pid, period_start="2024-01-01",
                              period_end="2024-12-31", reported_quantity=10,
                              quantification=(text := fresh_summary()))
    w.reg.verify_report(w.verifier, w.key(), report_id=rep["report_id"], verified_quantity=10,
                        attestation=attestation(text, 10))
    iss = w.reg.issue(w.admin, w.key(), report_id=rep["report_id"], quantity=10)
    w.reg.authorise(w.authority, w.key(), issuance_id=iss["issuance_id"], uses=["ndc"],
                    first_transfer="issuance", reference="KE-LoA-9", authorised_on="2025-01-05")
    r = api.get("/exports/aef", params={"approach_id": APPROACH, "party": "KE", "year": 2025})
    assert r.status_code == 422
    assert r.json()["code"] == "export_not_possible"
    assert f"project {pid}" in r.json()["message"] and "Tourism" in r.json()["message"]


def test_exports_read_one_snapshot_under_writes(world: World, api: httpx.Client) -> None:
    """While issuances of 10 units commit, every CAD Trust and AEF export over REST agrees
    with itself: the units sum to the issuances it lists (1000 + 10 per later issuance)
    and no block is listed twice — its statements see one snapshot."""
    import threading

    w = world
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                    first_transfer="issuance", reference="KE-LoA-1", authorised_on="2025-01-02")
    done = threading.Event()
    failures: list[BaseException] = []

    def issue() -> None:
        try:
            for _ in range(15):
                w.reg.issue(w.admin, w.key(), report_id=w.report_id, quantity=10)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=issue)
    thread.start()
    seen = 0
    while not done.is_set() or seen < 3:
        r = api.get("/exports/cadt")
        assert r.status_code == 200, r.text
        doc = r.json()
        assert sum(u["unitCount"] for u in doc["units"]) == 1000 + 10 * (len(doc["issuances"]) - 1)
        starts = [int(u["unitBlockStart"]) for u in doc["units"]]
        assert len(starts) == len(set(starts))
        a = api.get("/exports/aef", params={"approach_id": APPROACH, "party": "KE", "year": 2025})
        assert a.status_code == 200, a.text
        seen += 1
    thread.join()
    assert not failures, failures
    assert len(api.get("/exports/cadt").json()["issuances"]) == 16
    assert_sound(w.reg)
