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
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.domain import aef
from hesuan.registry.service import exports

from .conftest import World, assert_sound, build_world

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


def _tables(w: World, party: str, year: int) -> exports.AefTables:
    with w.reg.read() as s, s.begin():
        return exports.aef_tables(s, approach_id=APPROACH, party=party, year=year)


def _terms(tables: exports.AefTables) -> tuple[int, ...]:
    """The Party's balance summed over its blocks: start, came into being, acquired,
    transferred, used or cancelled, end — and the end equals its Holdings rows."""
    out = tuple(sum(getattr(b, k) for b in tables.balance) for k in (
        "start", "issued", "acquired", "transferred", "used_or_cancelled", "end"))
    assert out[-1] == sum(h.quantity_t_co2e for h in tables.holdings)
    return out


def _row(a: aef.AefAction) -> tuple[object, ...]:
    return (a.action_type, a.transferring_party, a.acquiring_party,
            a.underlying_unit_block_start, a.underlying_unit_block_end)


def test_transfer_of_units_not_authorised_is_no_action(world: World) -> None:
    """Units moved abroad before their authorisation become ITMOs held abroad when
    authorised: Kenya reports their Transfer to Germany and Germany their Acquisition,
    dated the day they became ITMOs, so both Parties' Holdings follow from their Actions
    (hesuan's rule, ``docs/registry.md``; decision 2/CMA.3, annex, paras. 20(a), 33(a))."""
    w = world
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    year = _last_event_year(w)
    assert _moves(w, "KE", year) == [] and _moves(w, "DE", year) == []  # no ITMOs yet
    _authorise(w)  # dated 2025-02-01, before the issuance: effective the day it is recorded
    w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                   to_account=w.holder2_account, quantity=10)
    with w.reg.read() as s, s.begin():
        moved = exports.international_transfers(s, year=year, party="DE")
        issued, recorded = s.execute(
            select(t.issuances.c.created_at, t.events.c.at)
            .join(t.authorisations, t.authorisations.c.issuance_id == t.issuances.c.id)
            .join(t.events, t.events.c.seq == t.authorisations.c.event_seq)).one()
    assert [(m.transferring_party, m.acquiring_party, m.serial_end - m.serial_start + 1)
            for m in moved] == [("DE", "FR", 10)]  # the earlier transfer moved no ITMO
    effective = max("2025-02-01", issued[:10], recorded[:10])
    ke, de, fr = (_tables(w, p, year) for p in ("KE", "DE", "FR"))
    assert [_row(a) for a in ke.actions if a.action_type in MOVES] == [
        ("Transfer", "KE", "DE", 431, 730)]
    assert [_row(a) for a in de.actions if a.action_type in MOVES] == [
        ("Acquisition", "KE", "DE", 431, 730), ("Transfer", "DE", "FR", 721, 730)]
    assert [_row(a) for a in fr.actions if a.action_type in MOVES] == [
        ("Acquisition", "DE", "FR", 721, 730)]
    born = [a for a in (*ke.actions, *de.actions) if a.underlying_unit_block_end == 730
            and a.underlying_unit_block_start == 431]
    assert {(a.action_date, a.authorization_date, a.first_transfer) for a in born} == {
        (effective, "2025-02-01", "No")}
    assert (born[0].first_unique_identifier, born[0].last_unique_identifier) == \
        _ids(w, 431, 730)
    # the host's own rows of the issuance stay: its authorisation and first transfer
    assert [a.action_type for a in ke.actions if a.underlying_unit_block_start == 1] == [
        "First Transfer"]  # at issuance; the Authorization row is dated 2025-02-01
    # Kenya: 1000 came into being, 300 went to Germany, 20 cancelled (OMGE), 680 held;
    # Germany: 300 acquired, 10 passed on, 290 held; France 10
    assert _terms(ke) == (0, 1000, 0, 300, 20, 680)
    assert _terms(de) == (0, 0, 300, 10, 0, 290)
    assert _terms(fr) == (0, 0, 10, 0, 0, 10)
    assert_sound(w.reg)


def test_units_back_home_before_authorisation_move_no_itmo(world: World) -> None:
    """Units that went abroad and came back before the authorisation are the host's when
    they become ITMOs: no Transfer or Acquisition, and both exports balance."""
    w = world
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                   to_account=w.proponent_account, quantity=300)
    _authorise(w)
    year = _last_event_year(w)
    ke, de = _tables(w, "KE", year), _tables(w, "DE", year)
    assert [a for a in (*ke.actions, *de.actions) if a.action_type in MOVES] == []
    assert _terms(ke) == (0, 1000, 0, 0, 20, 980)
    assert de.holdings == () and _terms(de)[-1] == 0
    assert_sound(w.reg)


def test_units_used_abroad_on_the_effective_day_were_acquired(world: World) -> None:
    """A voluntary cancellation abroad journaled before the authorisation but on the day
    the units became ITMOs is Germany's cancellation of ITMOs: the block counts as held by
    Germany then, so Kenya reports its Transfer and Germany its Acquisition and its
    Cancellation."""
    w = world
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    w.reg.retire(w.holder, w.key(), from_account=w.holder_account, quantity=100,
                 beneficiary="Buyer", purpose="voluntary", claim_start="2024-01-01",
                 claim_end="2024-12-31")
    _authorise(w)
    year = _last_event_year(w)
    ke, de = _tables(w, "KE", year), _tables(w, "DE", year)
    assert sum(a.quantity_t_co2e for a in ke.actions if a.action_type == "Transfer") == 300
    assert sum(a.quantity_t_co2e for a in de.actions if a.action_type == "Acquisition") == 300
    assert [(a.quantity_t_co2e, a.purposes_for_cancellation) for a in de.actions
            if a.action_type == "Cancellation"] == [(100, "Voluntary cancellation")]
    assert _terms(ke) == (0, 1000, 0, 300, 20, 680)
    assert _terms(de) == (0, 0, 300, 0, 100, 200)


def test_authorisation_dated_in_the_past_takes_effect_when_recorded(
        registry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issued and moved abroad last year, authorised this year with a date of last year:
    last year's holdings and transfers stay as they were (no ITMOs yet; only the
    Authorization and First Transfer rows the authorisation dates there), and this year's
    exports carry the Transfer and the Acquisition on the day the authorisation was
    recorded, with the authorisation's own date in *Date of authorization*."""
    last = datetime.now(UTC).year - 1
    ticks = itertools.count()
    start = datetime(last, 6, 1, tzinfo=UTC)

    def clock() -> str:
        return (start + timedelta(microseconds=next(ticks))).isoformat(timespec="microseconds")

    for module in ("hesuan.registry.service.tx", "hesuan.registry.service.units",
                   "hesuan.registry.service.parties", "hesuan.registry.engine.group"):
        monkeypatch.setattr(f"{module}.utc_now", clock)
    w = build_world(registry)
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    monkeypatch.undo()  # this year
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                    first_transfer="issuance", reference="KE-LoA-P1",
                    authorised_on=f"{last}-03-01")
    year = _last_event_year(w)
    for party in ("KE", "DE"):
        before = _tables(w, party, last)
        assert (before.holdings, _terms(before)) == ((), (0,) * 6)
        assert [(a.action_type, a.action_date) for a in before.actions] == (
            [("Authorization", f"{last}-03-01"), ("First Transfer", f"{last}-06-01"),
             ("Cancellation", f"{last}-06-01")]  # the OMGE, outside the balance
            if party == "KE" else [])
    ke, de = _tables(w, "KE", year), _tables(w, "DE", year)
    assert [_row(a) for a in ke.actions if a.action_type in MOVES] == [
        ("Transfer", "KE", "DE", 431, 730)]
    assert [(_row(a), a.action_date[:4], a.authorization_date) for a in de.actions] == [
        (("Acquisition", "KE", "DE", 431, 730), str(year), f"{last}-03-01")]
    assert _terms(ke) == (0, 980, 0, 300, 0, 680)  # the OMGE of last year: units
    assert _terms(de) == (0, 0, 300, 0, 0, 300)
    assert_sound(w.reg)


def test_authorisation_dated_ahead_takes_effect_on_its_date(world: World) -> None:
    """An authorisation dated 31 December of this year: a transfer before that day moves
    units, not ITMOs; on that day the block Germany holds becomes its Acquisition."""
    w = world
    year = _last_event_year(w)
    w.reg.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["ndc"],
                    first_transfer="issuance", reference="KE-LoA-F1",
                    authorised_on=f"{year}-12-31")
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=300)
    ke, de = _tables(w, "KE", year), _tables(w, "DE", year)
    assert [(_row(a), a.action_date) for a in ke.actions if a.action_type in MOVES] == [
        (("Transfer", "KE", "DE", 431, 730), f"{year}-12-31")]
    assert [(_row(a), a.action_date) for a in de.actions] == [
        (("Acquisition", "KE", "DE", 431, 730), f"{year}-12-31")]
    assert _terms(de) == (0, 0, 300, 0, 0, 300)
    assert _terms(ke)[1:] == (980, 0, 300, 0, 680)  # the OMGE cancelled units, not ITMOs


def test_units_abroad_with_a_holder_without_country_fail_closed(world: World) -> None:
    """Units held, when they become ITMOs, by a holder registered without a country: which
    Party acquired them cannot be decided, and the export refuses for every Party."""
    w = world
    _, nowhere = _holder(w, "Stateless fund", None)
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=nowhere, quantity=5)
    _authorise(w)
    year = _last_event_year(w)
    for party in ("KE", "DE"):
        with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError) as err:
            exports.aef_tables(s, approach_id=APPROACH, party=party, year=year)
        text = str(err.value)
        assert "726-730 when they became ITMOs" in text and "has no country" in text
        assert "Stateless" not in text


def test_authorisation_without_its_event_fails_closed(world: World) -> None:
    """An authorisation row whose journal event is gone (a direct database edit): the day
    its units became ITMOs cannot be decided, so the export refuses rather than leave the
    issuance out."""
    from sqlalchemy import text, update

    from .test_tamper import _drop_guards

    w = world
    _authorise(w)
    year = _last_event_year(w)
    with w.reg.engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(update(t.authorisations).values(event_seq=10**9))
        assert conn.execute(text("SELECT count(*) FROM authorisations")).scalar_one() == 1
    with w.reg.read() as s, s.begin(), pytest.raises(aef.AefExportError,
                                                    match="is not in the journal"):
        exports.aef_tables(s, approach_id=APPROACH, party="KE", year=year)


def test_transfers_at_effective_date_rule() -> None:
    held = [aef.HeldBlock(431, 730, "DE"), aef.HeldBlock(1, 430, "KE"),
            aef.HeldBlock(900, 909, "FR")]
    assert aef.transfers_at_effective_date("KE", held) == (
        aef.HeldBlock(431, 730, "DE"), aef.HeldBlock(900, 909, "FR"))
    assert aef.transfers_at_effective_date("KE", held[1:2]) == ()
    with pytest.raises(aef.AefExportError, match="431-730 and 700-709"):
        aef.transfers_at_effective_date("KE", [*held, aef.HeldBlock(700, 709, "FR")])
    assert aef.effective_day("2025-02-01", "2026-03-04T10:00:00+00:00",
                             "2026-05-06T00:00:01+00:00") == "2026-05-06"
    assert aef.effective_day("2027-01-01", "2026-03-04T10:00:00", "2026-05-06T00:00") == \
        "2027-01-01"


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
