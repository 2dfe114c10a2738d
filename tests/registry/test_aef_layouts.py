"""Article 6.2 AEF: the decision 4/CMA.6 layout, year-end holdings from the journal, and the
Actions/Holdings balance — on SQLite and PostgreSQL.

- The five tables of decision 4/CMA.6, annex II (Submission, Authorizations, Actions,
  Holdings, Authorized entities) are checked, title for title and column for column,
  against ``data/aef_layout_4cma6.json`` (transcribed from the field specification UNDP's
  National Carbon Registry developers keep of the secretariat's
  ``AEF_CMA6_second_iteration.csv`` and the common nomenclatures of 17 February 2026;
  ``SOURCE.md``).
- Holdings (decision 6/CMA.4 Table 3; decision 4/CMA.6 Table 4) are the ITMOs held at the
  end of the reported year, replayed from the journal, per Party — ITMOs acquired from
  another Party included, with their original identifiers; each block's balance (start +
  came into being + acquired − transferred − used or cancelled = end) is checked before
  output (decision 2/CMA.3, annex, paras. 20(a) and 33(a)).

The world of ``conftest.py``: Kenya's project issues 1000 units (200 buffer, 50 share of
proceeds, 20 cancelled for overall mitigation, 730 to the proponent); a transfer moves the
tail of the proponent's block (431–730) and a retirement the tail of the holder's.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.domain import aef, aef6
from hesuan.registry.service import exports

from .conftest import World, assert_sound, build_world

LAYOUT = json.loads((Path(__file__).parent / "data" / "aef_layout_4cma6.json")
                    .read_text(encoding="utf-8"))
APPROACH = "CA0004"
LINK = "https://registry.example.org"


def _authorise_transfer_retire(w: World) -> None:
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["corsia", "ndc"],
                    first_transfer="authorisation", reference="KE-CCD-LoA-2025-001",
                    authorised_on="2025-02-01")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=120,
                 beneficiary="Acme Airlines passengers 2024", purpose="corsia",
                 claim_start="2024-01-01", claim_end="2024-12-31")


def _tables(w: World, party: str, year: int, **kw: Any) -> exports.AefTables:
    with w.reg.read() as s, s.begin():
        return exports.aef_tables(s, approach_id=APPROACH, party=party, year=year, **kw)


def _now_year() -> int:
    return datetime.now(UTC).year


def test_cma6_layout_matches_the_source(world: World, tmp_path: Path) -> None:
    """Titles, headings and their order, each CSV's heading row and each sheet, against
    data/aef_layout_4cma6.json; the codes used against its lists and patterns."""
    w = world
    _authorise_transfer_retire(w)
    year = _now_year()
    assert {k: (v[0], list(v[1])) for k, v in aef6.TABLES.items()} == \
        {k: (v["title"], v["columns"]) for k, v in LAYOUT["tables"].items()}
    assert {k: len(v[1]) for k, v in aef6.TABLES.items()} == LAYOUT["counts"]
    w.reg.set_itmo_registry_id(w.admin, w.key(), itmo_registry_id="KEN01")
    ke, de = _tables(w, "KE", year, registry_id="KEN01"), _tables(w, "DE", year)
    for name, spec in LAYOUT["tables"].items():
        header = next(csv.reader(io.StringIO(exports.aef_csv(ke, name, aef6.AefLayout.cma6))))
        assert header == spec["columns"], name
    wb = load_workbook(io.BytesIO(exports.aef_xlsx(ke, aef6.AefLayout.cma6)))
    assert wb.sheetnames == [v["title"].split(": ")[1] for v in LAYOUT["tables"].values()]
    for sheet, spec in zip(wb.worksheets, LAYOUT["tables"].values(), strict=True):
        assert sheet["A1"].value == spec["title"]
        assert [c.value for c in sheet[2]] == spec["columns"]
    lists, patterns = LAYOUT["lists"], LAYOUT["patterns"]
    five_ke, five_de = exports.aef6_tables(ke), exports.aef6_tables(de)
    assert set(aef6.SECTORS) == set(lists["Sector(s)"])
    assert set(aef6.MITIGATION_TYPES) == set(lists["Mitigation type"])
    assert set(aef6.FIRST_TRANSFER_DEFINITIONS.values()) == \
        set(lists["First transfer definition for OIMP"])
    for five in (five_ke, five_de):
        assert {a.action_type for a in five.actions} <= set(lists["Action type"])
        assert {a.action_subtype for a in five.actions} - {""} <= set(lists["Action subtype"])
        blocks = [*(a.block for a in five.actions), *five.holdings]
        assert {b.mitigation_type for b in blocks} == {"Removals"}  # a forest project
        for b in blocks:
            assert b.cooperative_approach_id == APPROACH
            for field, value in (("Cooperative approach ID", b.cooperative_approach_id),
                                 ("Party", b.first_transferring_party)):
                assert re.fullmatch(patterns[field], value), (field, value)
    assert {b.registry_id for b in five_ke.holdings} == {"KEN01"}
    assert re.fullmatch(patterns["Party ITMO registry ID"], "KEN01")
    assert five_ke.submission == aef6.Submission("KEN", "1.0", year)
    # Kenya: the transfer to Germany (acquiring Party DEU) and the OMGE cancellation
    assert [(a.action_type, a.action_subtype, a.block.quantity_t_co2e, a.acquiring_party,
             a.transferring_party) for a in five_ke.actions] == [
        ("Transfer", "", 300, "DEU", "NA"),
        ("Cancellation", "Mandatory cancellation to deliver OMGE", 20, "NA", "NA")]
    assert sum(h.quantity_t_co2e for h in five_ke.holdings) == 680
    # Germany: the acquisition from KEN and the use for CORSIA, by DEU; 180 held, each
    # block still KEN's as first transferring Party, its serials the First/Last IDs
    assert [(a.action_type, a.transferring_party, a.oimp_purpose, a.using_party,
             a.block.first_id, a.block.last_id) for a in five_de.actions] == [
        ("Acquisition", "KEN", "NA", "NA", 431, 730), ("Use", "NA", "CORSIA", "DEU", 611, 730)]
    assert five_de.actions[1].additional_information == \
        "Beneficiary: Acme Airlines passengers 2024"
    assert [(h.first_transferring_party, h.registry_id, h.first_id, h.last_id, h.vintage)
            for h in five_de.holdings] == [("KEN", "KEN01", 431, 610, 2024)]
    # Table 2 lists the authorisations dated in the reported year: 2025
    five_2025 = exports.aef6_tables(_tables(w, "KE", 2025))
    assert [(x.authorization_id, x.date_of_authorization, x.cooperative_approach_id,
             x.authorized_quantity, x.sectors, x.purposes_for_authorization,
             x.oimp_authorized, x.first_transfer_definition)
            for x in five_2025.authorizations] == [
        ("KE-CCD-LoA-2025-001", "01/02/2025", APPROACH, 1000, "Forestry and land use",
         "NDC and OIMP", "CORSIA", "Authorisation")]
    assert [(a.action_type, a.action_subtype) for a in five_2025.actions] == [
        ("Authorization", ""), ("First transfer", "Authorization")]
    assert five_ke.authorized_entities == ()
    written = exports.write_aef(ke, tmp_path / "aef6", layout=aef6.AefLayout.cma6)
    assert {p.name for p in written} == {f"aef_{n}.csv" for n in LAYOUT["tables"]} | \
        {"aef.xlsx"}
    assert_sound(w.reg)


def test_cma6_over_rest_and_cli(world: World, tmp_path: Path) -> None:
    w = world
    _authorise_transfer_retire(w)
    year = _now_year()
    base = {"approach_id": APPROACH, "party": "DE", "year": year, "layout": "4/CMA.6"}
    with httpx.Client(transport=InProcessTransport(create_app(w.reg)), base_url=LINK) as c:
        r = c.get("/exports/aef", params=base)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["layout"] == "4/CMA.6"
        assert body["columns"] == {k: v["columns"] for k, v in LAYOUT["tables"].items()}
        assert [a["action_type"] for a in body["actions"]] == ["Acquisition", "Use"]
        assert body["holdings"][0]["first_transferring_party"] == "KEN"
        r = c.get("/exports/aef", params={**base, "format": "csv", "table": "holdings"})
        assert r.status_code == 200
        rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert [(x["First ID"], x["Last ID"], x["Party ITMO registry ID"]) for x in rows] == \
            [("431", "610", "HSN")]
        r = c.get("/exports/aef", params={**base, "format": "xlsx"})
        assert r.status_code == 200
        assert load_workbook(io.BytesIO(r.content)).sheetnames[0] == "Submission"
        for bad in ({"layout": "5/CMA.5"}, {"format": "csv", "table": "ledger"}):
            r = c.get("/exports/aef", params={**base, **bad})
            assert 400 <= r.status_code < 500, (bad, r.status_code)
        # a table of the later layout asked of the 6/CMA.4 one: refused, naming the layout
        r = c.get("/exports/aef", params={**base, "layout": "6/CMA.4", "format": "csv",
                                          "table": "submission"})
        assert r.status_code == 422 and "layout 6/CMA.4" in r.json()["message"]


def test_cma6_from_the_cli(tmp_path: Path) -> None:
    from hesuan.cli.registry import app
    from hesuan.registry.engine import Registry

    db = tmp_path / "r.db"
    reg = Registry.open(f"sqlite:///{db}")
    try:
        _authorise_transfer_retire(build_world(reg))
    finally:
        reg.close()
    runner = CliRunner()
    args = ["export", "aef", "--approach-id", APPROACH, "--party", "DE", "--year",
            str(_now_year()), "--db", str(db)]
    r = runner.invoke(app, [*args, "--layout", "4/CMA.6", "--out", str(tmp_path / "out"),
                            "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["layout"] == "4/CMA.6"
    assert sorted(p.name for p in (tmp_path / "out").glob("aef_*.csv")) == \
        sorted(f"aef_{n}.csv" for n in LAYOUT["tables"])
    r = runner.invoke(app, [*args, "--layout", "cma6", "--out", str(tmp_path / "bad")])
    assert r.exit_code != 0 and "--layout" in str(r.exception)
    assert not (tmp_path / "bad").exists()


def _clock(start: datetime) -> Any:
    ticks = itertools.count()
    return lambda: (start + timedelta(microseconds=next(ticks))).isoformat(
        timespec="microseconds")


def test_holdings_at_year_end_follow_from_the_journal(registry: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Events of last year, then of this year: each year's holdings are those at its end,
    replayed from the journal (not the state now), and every Party's blocks balance."""
    last = _now_year() - 1
    clock = _clock(datetime(last, 6, 1, tzinfo=UTC))
    for module in ("hesuan.registry.service.tx", "hesuan.registry.service.units",
                   "hesuan.registry.service.parties", "hesuan.registry.engine.group"):
        monkeypatch.setattr(f"{module}.utc_now", clock)
    w = build_world(registry)
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                    first_transfer="issuance", reference="KE-LoA-7",
                    authorised_on=f"{last}-02-01")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    monkeypatch.undo()  # this year
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=120,
                 beneficiary="Buyer", purpose="ndc", claim_start="2024-01-01",
                 claim_end="2024-12-31")
    w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                   to_account=w.holder2_account, quantity=50)

    def line(party: str, year: int) -> tuple[int, ...]:
        t = _tables(w, party, year)
        assert sum(h.quantity_t_co2e for h in t.holdings) == sum(b.end for b in t.balance)
        return tuple(sum(getattr(b, k) for b in t.balance) for k in (
            "start", "issued", "acquired", "transferred", "used_or_cancelled", "end"))

    # last year: Kenya 1000 came into being, 300 to Germany, 20 OMGE; Germany holds 300
    assert line("KE", last) == (0, 1000, 0, 300, 20, 680)
    assert line("DE", last) == (0, 0, 300, 0, 0, 300)
    # this year: Germany starts with 300, uses 120, passes 50 to France
    assert line("DE", last + 1) == (300, 0, 0, 50, 120, 130)
    assert line("FR", last + 1) == (0, 0, 50, 0, 0, 50)
    assert line("KE", last + 1) == (680, 0, 0, 0, 0, 680)
    de_last = _tables(w, "DE", last)
    assert [(h.underlying_unit_block_start, h.underlying_unit_block_end)
            for h in de_last.holdings] == [(431, 730)]  # what Germany held on 31 December
    assert_sound(w.reg)


def test_balance_check_names_the_block_and_every_term() -> None:
    ok = aef.BalanceLine("CA0004-HSN-KEN-1-2024", 10, 5, 3, 4, 2, 12)
    aef.check_balance("KE", 2025, [ok])
    bad = aef.BalanceLine("CA0004-HSN-KEN-1-2024", 10, 5, 3, 4, 2, 13)
    with pytest.raises(aef.AefExportError) as err:
        aef.check_balance("KE", 2025, [ok, bad])
    text = str(err.value)
    assert "KE 2025" in text and "CA0004-HSN-KEN-1-2024" in text
    assert "held at the start 10 + came into being 5 + acquired 3 − transferred 4 − used " \
           "or cancelled 2 = 12, but 13 are held at the end" in text


def test_itmo_identifier_elements() -> None:
    """Decision 6/CMA.4, annex I, para. 5: cooperative approach, originating Party registry,
    first transferring Party, serial number, vintage — in the secretariat's order."""
    ident = aef.itmo_identifier("CA0004", "KEN01", aef.alpha3("KE"), 431, 2024)
    assert ident == "CA0004-KEN01-KEN-431-2024"
    assert re.fullmatch(aef.ITMO_ID_PATTERN, ident)
    assert re.fullmatch(aef.ITMO_ID_PATTERN, "CA0004-HSN-KEN-1-2024")
    assert not re.fullmatch(aef.ITMO_ID_PATTERN, "HSN-KE-1-2024-431")  # the old form
    with pytest.raises(aef.AefExportError, match="alpha-2"):
        aef.alpha3("XX")
