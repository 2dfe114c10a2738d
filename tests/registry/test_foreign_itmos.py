"""ITMOs acquired from another Party's registry: recorded (journaled, replayed by
``verify``), refused by name when wrong, and reported in the AEF — on SQLite and
PostgreSQL.

A block that reached a holder's account from another registry keeps the identifier its
registry gave it: cooperative approach, originating Party ITMO registry, first
transferring Party, serial and vintage (decision 6/CMA.4, annex I, para. 5). The holder's
country reports it as an *Acquisition* (decision 2/CMA.3, annex, para. 20(a)) and holds it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from hesuan.registry.db import tables as t
from hesuan.registry.domain import aef, aef6
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import canonical_json
from hesuan.registry.service import exports

from .conftest import World, assert_sound, build_world

TODAY = datetime.now(UTC).date().isoformat()
YEAR = int(TODAY[:4])
TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
SWISS = {"registry_id": "CHE01", "approach_id": "CA0001", "first_transferring_party": "CH",
         "first_id": 1001, "last_id": 1100, "vintage": 2023,
         "authorization_id": "CH-LoA-2024-7", "authorised_on": "2024-01-05",
         "purposes": "NDC", "sector": "Energy", "transferring_party": "CH",
         "acquired_on": TODAY}


def _record(w: World, account: int, *records: dict[str, Any], actor: Any = None
            ) -> dict[str, Any]:
    return w.reg.record_foreign_itmos(actor or w.admin, w.key(), account_id=account,
                                      records=list(records))


def _aef(w: World, party: str, year: int = YEAR) -> exports.AefTables:
    with w.reg.read() as s, s.begin():
        return exports.aef_tables(s, approach_id="CA0004", party=party, year=year)


def test_acquired_itmos_are_held_under_their_original_identifiers(world: World) -> None:
    w = world
    out = _record(w, w.holder_account, SWISS)
    assert (out["recorded"], out["quantity"]) == (1, 100)
    de = _aef(w, "DE")
    assert [(a.action_type, a.transferring_party, a.acquiring_party, a.quantity_t_co2e,
             a.first_unique_identifier, a.last_unique_identifier, a.action_date)
            for a in de.actions] == [("Acquisition", "CH", "DE", 100,
                                      "CA0001-CHE01-CHE-1001-2023",
                                      "CA0001-CHE01-CHE-1100-2023", TODAY)]
    assert [(h.first_unique_identifier, h.first_transferring_party, h.vintage,
             h.authorization_id, h.sector) for h in de.holdings] == [
        ("CA0001-CHE01-CHE-1001-2023", "CH", 2023, "CH-LoA-2024-7", "Energy")]
    assert [(b.start, b.acquired, b.end) for b in de.balance] == [(0, 100, 100)]
    # held again next year, no longer acquired: start 100, end 100
    nxt = _aef(w, "DE", YEAR + 1)
    assert nxt.actions == () and [(b.start, b.acquired, b.end) for b in nxt.balance] == \
        [(100, 0, 100)]
    assert _aef(w, "DE", YEAR - 1).holdings == ()  # not there before it arrived
    assert _aef(w, "FR").holdings == () == _aef(w, "KE").holdings  # only the holder's Party
    five = exports.aef6_tables(de)
    assert [(a.action_type, a.transferring_party, a.block.first_transferring_party,
             a.block.first_id, a.block.last_id) for a in five.actions] == \
        [("Acquisition", "CHE", "CHE", 1001, 1100)]
    # the public journal does not say which account they reached
    with w.reg.read() as s, s.begin():
        ev = s.execute(select(t.events.c.payload).where(
            t.events.c.type == "foreign_itmos_acquired")).scalar_one()
    assert "account_id" not in json.loads(ev) and json.loads(ev)["records"][0]["first_id"] == 1001
    assert_sound(w.reg)


def test_a_backdated_import_does_not_rewrite_a_reported_year(world: World) -> None:
    """A block typed as arrived in an earlier year but recorded today is reported as
    acquired today: last year's submission (already made) stays as it was, and this year's
    balance starts from zero and acquires it (decision 2/CMA.3, annex, para. 20(a): the
    actions of the reported year). The typed day is kept as typed."""
    w = world
    last_year = f"{YEAR - 1}-03-01"
    _record(w, w.holder_account, {**SWISS, "acquired_on": last_year})
    before = _aef(w, "DE", YEAR - 1)
    assert (before.actions, before.holdings, before.balance) == ((), (), ())
    now = _aef(w, "DE")
    assert [(a.action_type, a.action_date) for a in now.actions] == [("Acquisition", TODAY)]
    assert [(b.start, b.acquired, b.end) for b in now.balance] == [(0, 100, 100)]
    with w.reg.read() as s, s.begin():
        assert s.execute(select(t.foreign_itmos.c.acquired_on)).scalar_one() == last_year
    assert_sound(w.reg)


def test_a_changed_row_is_found_by_verify(world: World) -> None:
    w = world
    _record(w, w.holder_account, SWISS)
    with w.reg.engine.begin() as conn:
        conn.execute(update(t.foreign_itmos).values(last_id=5000))
    report = w.reg.verify()
    assert not report["ok"]
    assert any("foreign_itmos" in p and "last_id" in p for p in report["problems"]), \
        report["problems"]


@pytest.mark.parametrize(("code", "change"), [
    (Rejection.role_must_permit_operation, {"actor": "holder"}),
    (Rejection.account_must_exist, {"account": 999_999}),
    (Rejection.foreign_itmos_must_reach_a_holder_of_another_party, {"account": "buffer"}),
    (Rejection.foreign_export_must_be_readable, {"approach_id": "CA1"}),
    (Rejection.foreign_export_must_be_readable, {"first_id": 10, "last_id": 9}),
    (Rejection.foreign_export_must_be_readable, {"acquired_on": "2025-13-01"}),
    (Rejection.foreign_export_must_be_readable, {"sector": "Tourism"}),
    (Rejection.foreign_export_must_be_readable, {"first_transferring_party": "XX"}),
    (Rejection.foreign_registry_must_not_be_this_registry, {"registry_id": "HSN"}),
    (Rejection.foreign_itmos_must_reach_a_holder_of_another_party,
     {"transferring_party": "DE"}),
    (Rejection.foreign_itmos_must_not_overlap_recorded_ones, {"twice": True}),
    (Rejection.foreign_itmos_must_not_be_acquired_in_the_future, {"acquired_on": TOMORROW}),
])
def test_refusals(world: World, code: Rejection, change: dict[str, Any]) -> None:
    w = world
    account = w.holder_account
    if "account" in change:
        account = w.meta["buffer"] if change["account"] == "buffer" else change["account"]
    actor = w.holder if change.get("actor") == "holder" else None
    block = {**SWISS, **{k: v for k, v in change.items()
                         if k not in ("actor", "account", "twice")}}
    if change.get("twice"):
        _record(w, w.holder_account, SWISS)
        block = {**SWISS, "first_id": 1100, "last_id": 1200}  # shares ITMO 1100
    with pytest.raises(RegistryRejection) as err:
        _record(w, int(account), block, actor=actor)
    assert err.value.code is code, err.value
    assert_sound(w.reg)


def _cli_world(tmp_path: Path) -> tuple[Path, str, int]:
    """A registry file with the test world: its path, the admin's token, the holder's account."""
    from hesuan.registry.engine import Registry

    db = tmp_path / "r.db"
    reg = Registry.open(f"sqlite:///{db}")
    try:
        w = build_world(reg)
        return db, w.tokens["admin"], w.holder_account
    finally:
        reg.close()


def test_import_itmos_from_the_cli(tmp_path: Path) -> None:
    from hesuan.cli.registry import app

    db, token, account = _cli_world(tmp_path)
    csv_file = tmp_path / "arrivals.csv"
    csv_file.write_text(",".join(SWISS) + "\n" + ",".join(str(v) for v in SWISS.values())
                        + "\n", encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["import-itmos", str(csv_file), "--account", str(account), "--db",
                            str(db), "--token", token, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["quantity"] == 100
    r = runner.invoke(app, ["export", "aef", "--approach-id", "CA0004", "--party", "DE",
                            "--year", str(YEAR), "--layout", aef6.AefLayout.cma6.value,
                            "--out", str(tmp_path / "aef"), "--db", str(db)])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "aef" / "aef_holdings.csv").read_text(encoding="utf-8-sig")
    assert "CA0001,CH-LoA-2024-7,CHE,HSN,1001,1100," in text  # its approach; held here


@pytest.mark.parametrize(("change", "expect"), [
    ({"transferring_party": "DE"}, "the holder's own country"),
    ({"registry_id": "HSN"}, "is this registry"),
    ({"first_id": 1050, "last_id": 1150}, "overlap"),
    ({"first_transferring_party": "XX"}, "ISO 3166-1 alpha-2"),
    ({"acquired_on": "9999-01-01"}, "after the day it is recorded"),
])
def test_verify_rechecks_an_imported_block(world: World, url: str, change: dict[str, Any],
                                           expect: str) -> None:
    """A journaled import rewritten (with its stored row and the chain re-hashed, so that
    rows, journal and hashes agree) to a block the write path refuses: a fresh ``verify``
    re-applies the write path's rules to the event and reports it."""
    from hesuan.registry.engine import Registry

    from .test_tamper import _drop_guards, _rehash_from

    w = world
    _record(w, w.holder_account, SWISS)
    _record(w, w.holder_account, {**SWISS, "first_id": 2001, "last_id": 2100})
    with w.reg.engine.begin() as conn:
        _drop_guards(conn)
        ev = conn.execute(select(t.events).where(t.events.c.type == "foreign_itmos_acquired")
                          .order_by(t.events.c.seq.desc())).first()
        assert ev is not None
        payload = json.loads(ev.payload)
        payload["records"][0].update(change)
        conn.execute(update(t.events).where(t.events.c.seq == ev.seq)
                     .values(payload=canonical_json(payload)))
        conn.execute(update(t.foreign_itmos).where(t.foreign_itmos.c.event_seq == ev.seq)
                     .values(**change))
        _rehash_from(conn, ev.seq)
    fresh = Registry.open(url, pool_size=2)
    try:
        report = fresh.verify()
    finally:
        fresh.close()
    assert not report["ok"]
    assert any(f"event {ev.seq}:" in p and expect in p for p in report["problems"]), \
        report["problems"]


def test_a_refusal_names_the_item_and_its_field(world: World) -> None:
    """Through the service (the API's body), a refused block is named by its index in
    ``records`` and the field that breaks the rule, with what was expected."""
    w = world
    with pytest.raises(RegistryRejection) as err:
        _record(w, w.holder_account, SWISS, {**SWISS, "first_id": 2001, "last_id": 2100,
                                             "sector": "Tourism"})
    assert err.value.message.startswith("records[1], field 'sector': 'Tourism' (expected "), \
        err.value.message
    with pytest.raises(RegistryRejection) as err:
        _record(w, w.holder_account, SWISS, {**SWISS, "first_id": 1100, "last_id": 1200})
    assert err.value.message.startswith("records[1], fields 'first_id'-'last_id': ITMOs "
                                        "1100-1200 of CA0001/CHE01/CH/2023 overlap 1001-1100, "
                                        "already listed at records[0]"), err.value.message


@pytest.mark.parametrize(("second", "expect"), [
    ({"sector": "Tourism"}, "row 3, field 'sector': 'Tourism' (expected one of"),
    ({"transferring_party": "DE"}, "row 3, field 'transferring_party': DE is the holder's"),
    ({"acquired_on": "9999-01-01"}, "row 3, field 'acquired_on': 9999-01-01 is after"),
    ({"first_id": 1100, "last_id": 1200},
     "row 3, fields 'first_id'-'last_id': ITMOs 1100-1200 of CA0001/CHE01/CH/2023 overlap "
     "1001-1100, already listed at {csv}, row 2"),
])
def test_import_itmos_names_the_file_row_and_field(tmp_path: Path, second: dict[str, Any],
                                                   expect: str) -> None:
    """``hesuan registry import-itmos FILE`` names the file and the row (the header is row
    1) and the field of a refused block, and records nothing."""
    from hesuan.cli.registry import app
    from hesuan.registry.engine import Registry

    db, token, account = _cli_world(tmp_path)
    csv_file = tmp_path / "arrivals.csv"
    rows = [SWISS, {**SWISS, "first_id": 2001, "last_id": 2100, **second}]
    csv_file.write_text("\n".join([",".join(SWISS), *(",".join(str(v) for v in r.values())
                                                      for r in rows)]) + "\n",
                        encoding="utf-8")
    r = CliRunner().invoke(app, ["import-itmos", str(csv_file), "--account", str(account),
                                 "--db", str(db), "--token", token, "--json"])
    assert r.exit_code != 0
    assert isinstance(r.exception, RegistryRejection), r.output
    assert f"{csv_file}, {expect.format(csv=csv_file)}" in r.exception.message, \
        r.exception.message
    reg = Registry.open(f"sqlite:///{db}")
    try:
        with reg.read() as s, s.begin():
            assert s.execute(select(t.foreign_itmos)).all() == []
    finally:
        reg.close()


def test_own_itmos_are_refused_under_the_party_itmo_registry_id(world: World) -> None:
    """The export names this registry's ITMOs by its Party ITMO registry ID (a setting,
    journaled): a block of that registry is its own and is refused on import, so it is not
    counted twice; the ID is set once, of its form, and ``verify`` rebuilds it."""
    w = world
    out = w.reg.set_itmo_registry_id(w.admin, w.key(), itmo_registry_id="KEN01")
    assert out["itmo_registry_id"] == "KEN01"
    with pytest.raises(RegistryRejection) as err:
        _record(w, w.holder_account, {**SWISS, "registry_id": "KEN01"})
    assert err.value.code is Rejection.foreign_registry_must_not_be_this_registry
    assert err.value.message.startswith("records[0], field 'registry_id': KEN01 is this")
    with w.reg.read() as s, s.begin():
        assert _aef(w, "DE").registry_id == "KEN01"
        with pytest.raises(aef.AefExportError, match="expected this registry's Party ITMO"):
            exports.aef_tables(s, approach_id="CA0004", party="KE", year=YEAR,
                               registry_id="KEN02")
    assert_sound(w.reg)


@pytest.mark.parametrize(("code", "value", "first"), [
    (Rejection.itmo_registry_id_must_be_set_once, "KEN02", "KEN01"),
    (Rejection.itmo_registry_id_must_be_well_formed, "ken-1", None),
    (Rejection.foreign_registry_must_not_be_this_registry, "CHE01", None),
    (Rejection.role_must_permit_operation, "KEN01", "holder"),
])
def test_itmo_registry_id_refusals(world: World, code: Rejection, value: str,
                                   first: str | None) -> None:
    w = world
    actor = w.admin
    if first == "holder":
        actor = w.holder
    elif first is not None:
        w.reg.set_itmo_registry_id(w.admin, w.key(), itmo_registry_id=first)
    if code is Rejection.foreign_registry_must_not_be_this_registry:
        _record(w, w.holder_account, SWISS)  # CHE01's ITMOs are here: CHE01 is not us
    with pytest.raises(RegistryRejection) as err:
        w.reg.set_itmo_registry_id(actor, w.key(), itmo_registry_id=value)
    assert err.value.code is code, err.value
    assert_sound(w.reg)


def test_a_changed_itmo_registry_id_is_found_by_verify(world: World) -> None:
    w = world
    w.reg.set_itmo_registry_id(w.admin, w.key(), itmo_registry_id="KEN01")
    with w.reg.engine.begin() as conn:
        conn.execute(update(t.registry_meta).values(itmo_registry_id="KEN02"))
    report = w.reg.verify()
    assert not report["ok"]
    assert any("registry_meta" in p and "itmo_registry_id" in p for p in report["problems"]), \
        report["problems"]
