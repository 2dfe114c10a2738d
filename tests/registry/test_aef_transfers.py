"""International transfers of ITMOs in the Article 6.2 AEF export, on SQLite and PostgreSQL.

Decision 2/CMA.3, annex, para. 20(a) asks each participating Party to report the ITMOs it
transfers and acquires; the AEF template (Decision 6/CMA.4, annex II, Table 2) records a
*Transfer* with the *Acquiring participating Party* and an *Acquisition* with the
*Transferring participating Party* (action types of the CAD Trust's AEF picklist). The
world of ``conftest.py`` is the worked example of ``docs/registry.md``: the proponent
(Kenya) holds serials 1–730 in its forward account, and a transfer of 300 units moves the
tail of that block, 431–730 (the sender keeps the head; UNDP NCR's rule).

Also here: CSV cells that a spreadsheet would evaluate as a formula get a leading
apostrophe (OWASP, "CSV Injection"), in the AEF and CAD Trust CSV files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.domain import aef
from hesuan.registry.service import exports

from .conftest import World, assert_sound

LINK = "https://registry.example.org"
APPROACH = "CA0004"  # a cooperative approach ID in the common nomenclatures' form CANNNN
MOVES = {"Transfer", "Acquisition"}


def _authorise(w: World, first_transfer: str = "issuance") -> None:
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc", "corsia"],
                    first_transfer=first_transfer, reference="KE-LoA-T1",
                    authorised_on="2025-02-01")


def _last_event_year(w: World) -> int:
    with w.reg.read() as s, s.begin():
        return int(s.execute(select(func.max(t.events.c.at))).scalar_one()[:4])


def _moves(w: World, party: str, year: int) -> list[aef.AefAction]:
    with w.reg.read() as s, s.begin():
        tables = exports.aef_tables(s, approach_id=APPROACH, party=party, year=year)
    return [a for a in tables.actions if a.action_type in MOVES]


def _holder(w: World, name: str, country: str | None) -> tuple[object, int]:
    out = w.reg.create_party(w.admin, w.key(), name=name, role="holder", country=country)
    actor = w.reg.authenticate(out["token"])
    return actor, w.reg.open_account(actor, w.key())["account_id"]


def _ids(w: World, start: int, end: int) -> tuple[str, str]:
    return (f"{APPROACH}-HSN-KEN-{start}-2024", f"{APPROACH}-HSN-KEN-{end}-2024")


def test_two_countries_give_one_transfer_and_one_acquisition(world: World) -> None:
    w = world
    _authorise(w)
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    year = _last_event_year(w)
    first, last = _ids(w, 431, 730)
    common = dict(first_unique_identifier=first, last_unique_identifier=last,
                  underlying_unit_block_start=431, underlying_unit_block_end=730,
                  quantity_t_co2e=300, quantity_in_metric=300, metric="GHG", vintage=2024,
                  sector="AFOLU", first_transferring_party="KE", first_transfer="No",
                  authorization_id="KE-LoA-T1", purposes_for_cancellation="",
                  using_party_or_entity="")

    def picked(a: aef.AefAction) -> dict[str, object]:
        return {k: getattr(a, k) for k in (*common, "action_type", "transferring_party",
                                           "acquiring_party")}

    ke, de = _moves(w, "KE", year), _moves(w, "DE", year)
    assert [picked(a) for a in ke] == [{**common, "action_type": "Transfer",
                                       "transferring_party": "KE", "acquiring_party": "DE"}]
    assert [picked(a) for a in de] == [{**common, "action_type": "Acquisition",
                                       "transferring_party": "KE", "acquiring_party": "DE"}]
    assert ke[0].action_date == de[0].action_date and ke[0].action_date[:4] == str(year)
    assert _moves(w, "FR", year) == []
    # the block moved is the one the holder's account holds now
    with w.reg.read() as s, s.begin():
        held = s.execute(select(t.blocks.c.serial_start, t.blocks.c.serial_end)
                         .where(t.blocks.c.account_id == w.holder_account)).all()
    assert [tuple(b) for b in held] == [(431, 730)]
    # Germany's holder passes 100 on to France: Germany reports a Transfer, France an
    # Acquisition; Kenya, the host, reports neither
    w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                   to_account=w.holder2_account, quantity=100)
    onward = _ids(w, 631, 730)
    de = _moves(w, "DE", year)
    assert [(a.action_type, a.transferring_party, a.acquiring_party,
             (a.first_unique_identifier, a.last_unique_identifier)) for a in de] == [
        ("Acquisition", "KE", "DE", (first, last)), ("Transfer", "DE", "FR", onward)]
    assert [(a.action_type, a.transferring_party, a.acquiring_party)
            for a in _moves(w, "FR", year)] == [("Acquisition", "DE", "FR")]
    assert len(_moves(w, "KE", year)) == 1
    assert _moves(w, "DE", year - 1) == []  # another reported year
    assert_sound(w.reg)


def test_domestic_transfer_is_no_action(world: World) -> None:
    w = world
    _authorise(w)
    _, kenyan = _holder(w, "Nairobi buyer", "KE")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account, to_account=kenyan,
                   quantity=50)
    year = _last_event_year(w)
    with w.reg.read() as s, s.begin():
        tables = exports.aef_tables(s, approach_id=APPROACH, party="KE", year=year)
        assert exports.international_transfers(s, year=year) == []
    assert [a for a in tables.actions if a.action_type in MOVES] == []
    assert {a.acquiring_party for a in tables.actions} == {""}


def test_transfer_of_units_not_authorised_is_no_action(world: World) -> None:
    w = world
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    year = _last_event_year(w)
    assert _moves(w, "KE", year) == [] and _moves(w, "DE", year) == []
    # authorised afterwards: the earlier transfer moved no ITMO, a later one does
    _authorise(w)
    w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                   to_account=w.holder2_account, quantity=10)
    with w.reg.read() as s, s.begin():
        moved = exports.international_transfers(s, year=year, party="DE")
    assert [(m.transferring_party, m.acquiring_party, m.serial_end - m.serial_start + 1)
            for m in moved] == [("DE", "FR", 10)]
    # but Germany's holder held 300 of the units when they became ITMOs, with no action
    # that brought them there: the holdings do not follow from the actions, and the
    # export refuses (naming the block and every term) rather than report them
    for party, held in (("KE", 680), ("DE", 290)):
        with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError,
                                                        match="do not balance") as err:
            exports.aef_tables(s, approach_id=APPROACH, party=party, year=year)
        assert f"{held} are held at the end" in str(err.value)
        assert f"{APPROACH}-HSN-KEN-1-2024" in str(err.value)


def test_holder_without_country_fails_closed(world: World) -> None:
    """Whether a transfer to a holder registered without a country is international cannot
    be decided: the export refuses rather than leave it out, naming no holder or account."""
    w = world
    _authorise(w)
    _, nowhere = _holder(w, "Stateless fund", None)
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=nowhere, quantity=5)
    year = _last_event_year(w)
    with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError) as err:
        exports.aef_tables(s, approach_id=APPROACH, party="KE", year=year)
    text = str(err.value)
    assert "receiving account has no country" in text and "726-730" in text
    assert "Stateless" not in text and f"account {nowhere}" not in text


def test_rest_export_names_parties_not_holders(world: World) -> None:
    w = world
    _authorise(w)
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    year = _last_event_year(w)
    with httpx.Client(transport=InProcessTransport(create_app(w.reg)), base_url=LINK) as c:
        r = c.get("/exports/aef", params={"approach_id": APPROACH, "party": "DE", "year": year,
                                          "format": "csv", "table": "actions"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [(x["Action type"], x["Transferring participating Party"],
             x["Acquiring participating Party"], x["Quantity (t\u00a0CO2\u00a0eq)"])
            for x in rows] == [("Acquisition", "KE", "DE", "300")]
    assert "Holder" not in r.text and "acc-h1" not in r.text


@pytest.mark.parametrize(("text", "written"), [
    ("=HYPERLINK(\"http://x.example\",\"y\")", "'=HYPERLINK(\"http://x.example\",\"y\")"),
    ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("Acme Airlines", "Acme Airlines"), ("2025-02-01", "2025-02-01"), ("a=b", "a=b")])
def test_csv_cell_never_a_formula(text: str, written: str) -> None:
    assert exports.csv_cell(text) == written
    assert exports.csv_cell(-5) == -5  # numbers are not text cells


def test_aef_and_cadt_csv_neutralise_formulas(world: World, tmp_path: Path) -> None:
    w = world
    _authorise(w)
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=5)
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=5,
                 beneficiary="@SUM(1+1)*cmd|' /C calc'!A0", purpose="ndc",
                 claim_start="2024-01-01", claim_end="2024-12-31")
    w.reg.create_project(w.proponent, w.key(), name="=1+2", methodology_id="CCER-14-001",
                         methodology_version="V01", host_country="KE", host_region="-Coast",
                         sector="AFOLU", crediting_start="2020-01-01",
                         crediting_end="2030-12-31", buffer_pct="0")
    year = _last_event_year(w)
    with w.reg.read() as s, s.begin():  # Germany's holder retired: the Use is Germany's
        tables = exports.aef_tables(s, approach_id=APPROACH, party="DE", year=year)
        cadt_export = exports.cadt_records(s, registry_link=LINK)
    use = next(a for a in tables.actions if a.action_type == "Use")
    assert use.using_party_or_entity.startswith("@")  # the record keeps the text
    cells = [c for row in csv.reader(io.StringIO(exports.aef_csv(tables, "actions")))
             for c in row]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not any(c.startswith(exports.FORMULA_STARTS) for c in cells)
    exports.write_cadt(cadt_export, tmp_path / "cadt")
    for path in (tmp_path / "cadt").glob("*.csv"):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert not any(c.startswith(exports.FORMULA_STARTS) for r in rows for c in r), path
    projects = (tmp_path / "cadt" / "cadt_projects.csv").read_text(encoding="utf-8-sig")
    assert "'=1+2" in projects
