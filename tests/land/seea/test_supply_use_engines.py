"""Supply and use tables fed by hesuan's engines: the numbers must be the engines' own.

- GEP: the Garzê 2010 study preset (``gep_garze2010@2017``; 白玛卓嘎 et al. 2017, 生态学报
  37(19), Table 3) through :func:`hesuan.land.gep.compute_account`;
- carbon: the bundled land example (``examples/land``) through :func:`hesuan.land.carbon.run`
  (parity with InVEST 3.20.2 in ``tests/land/test_parity.py``);
- IPCC Tier 1: the bundled forest strata (2006 Guidelines) through
  :func:`hesuan.land.ipcc.tables.forest_gain_loss` (6 439 t C/yr for the young rainforest,
  IPCC 2006 Vol. 4 Table 4.9, checked in ``tests/land/ipcc/test_ipcc_tables.py``).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from hesuan.errors import InputError
from hesuan.examples import path as example
from hesuan.land.seea import (
    SupplyUseMismatchError,
    UseAllocation,
    flows_from_carbon,
    flows_from_gep,
    flows_from_ipcc,
    read_allocation,
    supply_use_table,
)
from hesuan.land.seea.supply_use import ServiceFlow

GARZE = Path(__file__).parents[1] / "gep" / "cases" / "garze2010" / "table3.csv"


@pytest.fixture(scope="module")
def garze_account():
    from hesuan.land.gep import QuantityRow, compute_account
    from hesuan.standards.gep_editions import load_gep_edition

    with GARZE.open(encoding="utf-8") as f:
        rows = [QuantityRow("garze", 2010, r["ecosystem_type"], r["indicator"],
                            float(r["printed_quantity"]), r["printed_unit"])
                for r in csv.DictReader(f)]
    return compute_account(load_gep_edition("gep_garze2010", "2017"), rows)


def test_gep_supply_equals_the_accounts_values(garze_account):
    indicators = {r.indicator for r in garze_account.rows if r.counted}
    alloc = UseAllocation.single(indicators, "government", "society")
    flows = flows_from_gep(garze_account, alloc)
    table = supply_use_table(flows, "monetary")
    gep = garze_account.total("gep", "garze", 2010).current
    assert table.supply.sum() == pytest.approx(gep.amount, rel=1e-12)
    assert table.use.sum() == pytest.approx(gep.amount, rel=1e-12)
    assert (table.currency, table.price_year) == (gep.currency, gep.price_year)
    for i, (_, name, _) in enumerate(table.services):
        expected = math.fsum(r.value_current.amount for r in garze_account.rows
                             if r.counted and r.indicator == name)
        assert table.total_supply[i] == pytest.approx(expected, rel=1e-12), name
    by_type = {t.key: t.current.amount for t in garze_account.by_ecosystem}
    for j, (_, et) in enumerate(table.suppliers):
        assert table.supply[:, j].sum() == pytest.approx(by_type[et], rel=1e-12), et


def test_gep_physical_table_keeps_the_price_units(garze_account):
    counted = [r for r in garze_account.rows if r.counted]
    flows = flows_from_gep(garze_account, UseAllocation.single(
        {r.indicator for r in counted}, "household", "hh"))
    table = supply_use_table(flows, "physical")
    assert {name: unit for _, name, unit in table.services} == {
        r.indicator: r.price.per for r in counted}
    for i, (_, name, _) in enumerate(table.services):
        assert table.total_supply[i] == pytest.approx(math.fsum(
            r.net_quantity for r in counted if r.indicator == name), rel=1e-12)
    with pytest.raises(InputError, match="level='indicator'"):
        flows_from_gep(garze_account, UseAllocation.single(
            {r.service for r in counted}, "household", "hh"), level="service")


def test_carbon_run_feeds_global_climate_regulation(tmp_path):
    from hesuan.land.carbon import run

    res = run(example("land", "lulc_2020.tif"), example("land", "pools.csv"), tmp_path,
              alt=example("land", "lulc_2030.tif"), mc_samples=0, write_rasters=False)
    seq = res.accounts.by_class["sequestration_t_c"]
    names = res.pools.names
    keep = seq > 0
    alloc = UseAllocation.single(["global_climate_regulation"], "government", "global")
    flows = flows_from_carbon([n for n, k in zip(names, keep, strict=True) if k], seq[keep],
                              alloc, price_per_t_co2=(50.0, "CNY", 2020))
    table = supply_use_table(flows, "physical")
    assert table.total_supply[0] == pytest.approx(float(seq[keep].sum()) * 44 / 12, rel=1e-12)
    money = supply_use_table(flows, "monetary")
    assert money.use.sum() == pytest.approx(float(seq[keep].sum()) * 44 / 12 * 50, rel=1e-12)
    assert keep.any()
    with pytest.raises(InputError, match="net carbon loss"):
        flows_from_carbon(["cleared forest"], [-1.0], alloc)


def test_ipcc_removals_feed_global_climate_regulation():
    from hesuan.land.ipcc.tables import forest_gain_loss

    frame = forest_gain_loss(example("land", "ipcc", "forest_strata_2006.csv"), "2006")
    removing = frame.filter(frame["co2_t_per_yr"] < 0)
    alloc = UseAllocation({"global_climate_regulation": (("government", "national", 0.6),
                                                         ("exports", "rest of world", 0.4))})
    flows = flows_from_ipcc(removing, alloc, ecosystem_of={"young_rainforest_africa":
                                                           "T1.1 rainforest"})
    table = supply_use_table(flows, "physical")
    total = -float(removing["co2_t_per_yr"].sum())
    assert table.total_supply[0] == pytest.approx(total, rel=1e-12)
    assert table.supply_of("global_climate_regulation", "T1.1 rainforest") == pytest.approx(
        6439.0 * 44 / 12)
    assert table.use_of("global_climate_regulation", "rest of world") == pytest.approx(
        0.4 * total)


def test_allocation_shares_must_add_up_to_one(tmp_path):
    p = tmp_path / "alloc.csv"
    p.write_text("service,user,user_group,share\nrecreation,hh,household,0.7\n"
                 "recreation,visitors,exports,0.2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"add up to 0\.9"):
        read_allocation(p)
    p.write_text("service,user,user_group,share\nrecreation,hh,households,1\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2.*user_group"):
        read_allocation(p)


def test_a_service_without_a_user_is_named():
    supply = [ServiceFlow("recreation", "cultural", "visits", "supply", "forest", "ecosystem",
                          10.0)]
    with pytest.raises(InputError, match="no user for service 'recreation'"):
        UseAllocation({}).allocate(supply)


def test_mismatch_names_every_unbalanced_service():
    flows = [ServiceFlow("a", "regulating", "t", "supply", "forest", "ecosystem", 1.0),
             ServiceFlow("a", "regulating", "t", "use", "gov", "government", 2.0),
             ServiceFlow("b", "cultural", "visits", "supply", "lake", "ecosystem", 3.0)]
    with pytest.raises(SupplyUseMismatchError) as err:
        supply_use_table(flows)
    text = str(err.value)
    assert "a: supply 1 ≠ use 2" in text and "b: supply 3 ≠ use 0" in text


def test_gep_rows_table_gives_the_same_flows(garze_account, tmp_path):
    """The ``gep_rows.csv`` that ``hesuan land gep`` writes feeds the same table."""
    from hesuan.land.seea.supply_use import flows_from_gep_table

    path = tmp_path / "gep_rows.csv"
    garze_account.to_frame().write_csv(path)
    indicators = {r.indicator for r in garze_account.rows if r.counted}
    alloc = UseAllocation.single(indicators, "government", "society")
    a = supply_use_table(flows_from_gep(garze_account, alloc), "monetary")
    b = supply_use_table(flows_from_gep_table(path, alloc), "monetary")
    assert a.services == b.services and a.suppliers == b.suppliers
    assert (a.supply == b.supply).all() and (a.use == b.use).all()


def test_layout_places_imports_exports_and_intermediate_use():
    """SEEA EA Table 7.1 columns: imports on the supply side; exports and intermediate use
    by ecosystem types on the use side, each with its subtotal."""
    f = [ServiceFlow("water_purification", "regulating", "t N", "supply", "wetland",
                     "ecosystem", 7.0),
         ServiceFlow("water_purification", "regulating", "t N", "supply", "upstream basin",
                     "imports", 3.0),
         ServiceFlow("water_purification", "regulating", "t N", "use", "Water supply",
                     "industry", 4.0),
         ServiceFlow("water_purification", "regulating", "t N", "use", "downstream",
                     "exports", 1.0),
         ServiceFlow("water_purification", "regulating", "t N", "use", "cropland",
                     "ecosystem", 5.0)]
    layout = supply_use_table(f).layout()
    supply_head, supply_row = layout[0], layout[2]
    assert supply_head[3:] == ["wetland", "Total supply by resident ecosystem assets",
                               "Imports: upstream basin", "TOTAL SUPPLY"]
    assert supply_row[3:] == [7.0, 7.0, 3.0, 10.0]
    use_head = next(r for r in layout if r and r[0] == "USE")
    use_row = layout[-1]
    assert dict(zip(use_head[3:], use_row[3:], strict=True)) == {
        "Water supply": 4.0, "Total industry": 4.0,
        "Total use by resident economic units": 4.0, "downstream": 1.0,
        "Total use by economic units": 5.0, "cropland": 5.0,
        "Total use by ecosystem assets": 5.0, "TOTAL USE": 10.0}


def test_cli_supply_use_from_gep_rows(garze_account, tmp_path, capsys):
    from hesuan.cli import main

    rows = tmp_path / "gep_rows.csv"
    garze_account.to_frame().write_csv(rows)
    alloc = tmp_path / "users.csv"
    lines = ["service,user,user_group,share"]
    for ind in sorted({r.indicator for r in garze_account.rows if r.counted}):
        lines += [f"{ind},households,household,0.25", f"{ind},government,government,0.75"]
    alloc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "supply-use", "--gep-rows", str(rows), "--allocation",
              str(alloc), "--out", str(tmp_path / "sut"), "--json"])
    assert ex.value.code == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    gep = garze_account.total("gep", "garze", 2010).current.amount
    assert sum(doc["monetary"].values()) == pytest.approx(gep, rel=1e-12)
    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "supply-use", "--gep-rows", str(rows), "--out",
              str(tmp_path / "x")])
    assert ex.value.code == 2
    assert "--gep-rows needs --allocation" in capsys.readouterr().err
