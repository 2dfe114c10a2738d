"""``hesuan land seea supply-use`` fed by the files the engines' commands write.

The CLI path (``--carbon-summary``, ``--ipcc-summary``, ``--gep-rows``) must give exactly
the tables of the Python API path (:func:`flows_from_carbon`, :func:`flows_from_ipcc`,
:func:`flows_from_gep`) on the bundled examples: the land carbon example (InVEST parity in
``tests/land/test_parity.py``), the IPCC 2006 forest strata (6 439 t C/yr for the young
rainforest, IPCC 2006 Vol. 4 Table 4.9) and the GEP county (``examples/gep``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hesuan.errors import InputError
from hesuan.examples import path as example
from hesuan.land.seea import (
    flows_from_carbon,
    flows_from_gep,
    flows_from_ipcc,
    read_allocation,
    supply_use_table,
)

USERS = example("seea", "users.csv")
PRICE = (50.0, "CNY", 2020)
STRATA = {"young_rainforest_africa": "tropical_forest", "pine_continental": "temperate_forest"}


def _run(argv, capsys):
    from hesuan.cli import main

    with pytest.raises(SystemExit) as ex:
        main(argv)
    captured = capsys.readouterr()
    return ex.value.code, captured.out, captured.err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three engines run once: their files (CLI path) and results (API path)."""
    from hesuan.cli import main
    from hesuan.land.carbon import run as carbon_run
    from hesuan.land.gep.raster import ClimateParameters
    from hesuan.land.gep.run import run as gep_run
    from hesuan.land.ipcc.tables import forest_gain_loss

    root = tmp_path_factory.mktemp("engines")
    for argv in (["land", "carbon", "--lulc", str(example("land", "lulc_2020.tif")),
                  "--pools", str(example("land", "pools.csv")), "--alt",
                  str(example("land", "lulc_2030.tif")), "--mc-samples", "0",
                  "--no-rasters", "--no-report", "--out", str(root / "carbon")],
                 ["land", "ipcc", "forest-gain-loss",
                  str(example("land", "ipcc", "forest_strata_2006.csv")), "--edition", "2006",
                  "--out", str(root / "ipcc" / "fgl.csv")]):
        with pytest.raises(SystemExit) as ex:
            main(argv)
        assert ex.value.code == 0, argv
    carbon = carbon_run(example("land", "lulc_2020.tif"), example("land", "pools.csv"),
                        root / "api", alt=example("land", "lulc_2030.tif"), mc_samples=0,
                        write_rasters=False)
    gep = gep_run("gep_garze2010@2017", root / "gep", overwrite=True,
                  quantities=example("gep", "quantities.csv"),
                  layers=example("gep", "layers.csv"), types=example("gep", "types.csv"),
                  whole_map="county", price_index=example("gep", "price_index.csv"),
                  constant_year=2020, gdp=example("gep", "gdp.csv"),
                  climate=ClimateParameters(ac_days=90, ac_efficiency=3.0,
                                            source="example (illustrative)"))
    ipcc = forest_gain_loss(example("land", "ipcc", "forest_strata_2006.csv"), "2006")
    return root, carbon, gep.account, ipcc


def _api_tables(carbon, account, ipcc):
    alloc = read_allocation(USERS)
    seq = carbon.accounts.by_class["sequestration_t_c"]
    keep = seq > 0
    flows = flows_from_gep(account, alloc, year=2020)
    flows += flows_from_carbon([n for n, k in zip(carbon.pools.names, keep, strict=True)
                                if k], seq[keep], alloc, price_per_t_co2=PRICE)
    flows += flows_from_ipcc(ipcc.filter(ipcc["co2_t_per_yr"] < 0), alloc,
                             ecosystem_of=STRATA, price_per_t_co2=PRICE)
    return supply_use_table(flows, "physical"), supply_use_table(flows, "monetary")


def _cli_args(root, out, *extra):
    return ["land", "seea", "supply-use", "--gep-rows", str(root / "gep" / "gep_rows.csv"),
            "--year", "2020", "--carbon-summary", str(root / "carbon" / "summary.json"),
            "--ipcc-summary", str(root / "ipcc" / "fgl.json"),
            *(x for s, t in STRATA.items() for x in ("--ipcc-ecosystem", f"{s}={t}")),
            "--allocation", str(USERS), "--co2-price", "50:CNY:2020", "--out", str(out),
            *extra]


def test_cli_gives_the_python_api_tables(runs, capsys):
    root, carbon, account, ipcc = runs
    code, _, err = _run(_cli_args(root, root / "sut"), capsys)
    assert code == 0, err
    for api in _api_tables(carbon, account, ipcc):
        layout = [[str(x) for x in row] for row in api.layout()]
        text = (root / "sut" / f"supply_use_{api.terms}.csv").read_text(encoding="utf-8")
        import csv
        import io

        got = [row for row in csv.reader(io.StringIO(text))]
        assert [r[:len(e)] for r, e in zip(got, layout, strict=True)] == layout, api.terms
        # supply = use still holds in the written table, service by service
        assert np.allclose(api.total_supply, api.total_use, rtol=1e-12, atol=0)
    summary = json.loads((root / "sut" / "summary.json").read_text(encoding="utf-8"))
    physical, _ = _api_tables(carbon, account, ipcc)
    assert summary["total_supply"]["physical"]["global_climate_regulation"] == \
        physical.total_supply[[s for _, s, _ in physical.services].index(
            "global_climate_regulation")]
    # the IPCC removals are the Table 4.9 young rainforest, booked as CO2 by the engine
    assert physical.supply_of("global_climate_regulation", "tropical_forest") == \
        pytest.approx(6439.0 * 44 / 12, rel=1e-12)
    assert (summary["currency"], summary["price_year"]) == ("CNY", 2020)
    assert {x["name"] for x in summary["left_out"]} == {
        n for n, s in zip(carbon.pools.names, carbon.accounts.by_class["sequestration_t_c"],
                          strict=True) if s < 0}
    roles = {i["role"]: i for i in summary["provenance"]["inputs"]}
    assert set(roles) == {"allocation", "gep_rows", "carbon_summary", "carbon_classes",
                          "ipcc_summary", "ipcc_table"}
    from hesuan.io.outputs import sha256_file

    for item in roles.values():
        assert item["sha256"] == sha256_file(Path(item["name"]))


def _copy_carbon(root, tmp_path, edit=None, classes=None):
    folder = tmp_path / "carbon"
    folder.mkdir()
    text = (root / "carbon" / "summary.json").read_text(encoding="utf-8")
    (folder / "summary.json").write_text(edit(text) if edit else text, encoding="utf-8")
    rows = (root / "carbon" / "classes.csv").read_text(encoding="utf-8")
    (folder / "classes.csv").write_text(classes(rows) if classes else rows, encoding="utf-8")
    return folder / "summary.json"


def _refused(argv, capsys, *fragments):
    code, out, err = _run(argv, capsys)
    assert code == 2, out + err
    for f in fragments:
        assert f in out + err, (f, out + err)
    assert "Traceback" not in out + err


def test_carbon_summary_errors(runs, tmp_path, capsys):
    root = runs[0]
    base = ["land", "seea", "supply-use", "--allocation", str(USERS), "--out",
            str(tmp_path / "sut"), "--carbon-summary"]
    truncated = _copy_carbon(root, tmp_path, edit=lambda t: t[: len(t) // 2])
    _refused([*base, str(truncated)], capsys, "summary.json", "not JSON (truncated?)")
    (tmp_path / "carbon" / "summary.json").unlink()
    (tmp_path / "carbon" / "classes.csv").unlink()
    (tmp_path / "carbon").rmdir()
    no_seq = _copy_carbon(root, tmp_path, edit=lambda t: json.dumps(
        {k: v for k, v in json.loads(t).items() if k != "sequestration_t_c"}))
    _refused([*base, str(no_seq)], capsys, "field 'sequestration_t_c'", "with --alt")
    wrong_kind = root / "ipcc" / "fgl.json"
    _refused([*base, str(wrong_kind)], capsys, "fgl.json", "field 'schema_id'",
             "hesuan.land.ipcc.table/1", "hesuan.land.carbon/1")
    assert not (tmp_path / "sut").exists()


def test_carbon_summary_with_a_bad_field_or_short_table(runs, tmp_path, capsys):
    root = runs[0]
    bad = _copy_carbon(root, tmp_path, edit=lambda t: t.replace(
        '"pixel_area_ha": ', '"pixel_area_ha": "many", "x": '))
    code, out, err = _run(["land", "seea", "supply-use", "--allocation", str(USERS),
                           "--out", str(tmp_path / "sut"), "--carbon-summary", str(bad)],
                          capsys)
    assert code == 2 and "pixel_area_ha" in out + err and "summary.json" in out + err


def test_carbon_classes_table_must_match_the_summary(runs, tmp_path, capsys):
    root = runs[0]
    lines = (root / "carbon" / "classes.csv").read_text(encoding="utf-8").splitlines()
    short = _copy_carbon(root, tmp_path, classes=lambda t: "\n".join(lines[:2]) + "\n")
    _refused(["land", "seea", "supply-use", "--allocation", str(USERS), "--out",
              str(tmp_path / "sut"), "--carbon-summary", str(short)], capsys,
             "classes.csv", "field 'sequestration_t_c'", "truncated or replaced")


def test_ipcc_summary_errors(runs, tmp_path, capsys):
    root = runs[0]
    base = ["land", "seea", "supply-use", "--allocation", str(USERS), "--out",
            str(tmp_path / "sut")]
    _refused([*base, "--ipcc-summary", str(root / "carbon" / "summary.json")], capsys,
             "field 'schema_id'", "hesuan.land.carbon/1", "hesuan.land.ipcc.table/1")
    lonely = tmp_path / "fgl.json"
    lonely.write_text((root / "ipcc" / "fgl.json").read_text(encoding="utf-8"),
                      encoding="utf-8")
    _refused([*base, "--ipcc-summary", str(lonely)], capsys, "no table fgl.csv",
             "field 'output'")
    (tmp_path / "fgl.csv").write_text("\n".join((root / "ipcc" / "fgl.csv").read_text(
        encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    _refused([*base, "--ipcc-summary", str(lonely)], capsys, "1 strata, the summary says 2")
    (tmp_path / "fgl.csv").write_text((root / "ipcc" / "fgl.csv").read_text(
        encoding="utf-8"), encoding="utf-8")
    _refused([*base, "--ipcc-summary", str(lonely), "--ipcc-ecosystem", "oak=forest"],
             capsys, "strata not in the table: ['oak']", "field '--ipcc-ecosystem'")
    _refused([*base, "--ipcc-summary", str(lonely), "--co2-price", "50CNY"], capsys,
             "field '--co2-price'", "PRICE:CURRENCY:YEAR")
    assert not (tmp_path / "sut").exists()


def test_engine_flows_are_the_api_functions_output(runs):
    """The file readers return what flows_from_carbon / flows_from_ipcc return, no copy."""
    from hesuan.land.seea.engine_files import carbon_flows_from_summary, ipcc_flows_from_summary

    root, carbon, _, ipcc = runs
    alloc = read_allocation(USERS)
    seq = carbon.accounts.by_class["sequestration_t_c"]
    keep = seq > 0
    api = flows_from_carbon([n for n, k in zip(carbon.pools.names, keep, strict=True) if k],
                            seq[keep], alloc)
    got = carbon_flows_from_summary(root / "carbon" / "summary.json", alloc)
    assert [(f.party, f.side, f.quantity) for f in got.flows] == [
        (f.party, f.side, f.quantity) for f in api]
    got_i = ipcc_flows_from_summary(root / "ipcc" / "fgl.json", alloc)
    api_i = flows_from_ipcc(ipcc.filter(ipcc["co2_t_per_yr"] < 0), alloc)
    assert [(f.party, f.quantity) for f in got_i.flows] == [(f.party, f.quantity)
                                                            for f in api_i]
    with pytest.raises(InputError, match="no user for service"):
        carbon_flows_from_summary(root / "carbon" / "summary.json",
                                  read_allocation_without_climate(alloc))


def read_allocation_without_climate(alloc):
    from hesuan.land.seea import UseAllocation

    return UseAllocation({k: v for k, v in alloc.shares.items()
                          if k != "global_climate_regulation"})


@pytest.fixture(scope="module")
def asset_runs(runs):
    """Supply-use runs of the GEP county for 2015 and 2020 and the extent account between."""
    from hesuan.cli import main

    root = runs[0]
    for argv in ([["land", "seea", "supply-use", "--gep-rows", str(root / "gep" / "gep_rows.csv"),
                   "--year", str(y), "--allocation", str(USERS), "--out", str(root / f"sut{y}")]
                  for y in (2015, 2020)]
                 + [["land", "seea", "extent", "--opening", str(example("gep",
                                                                        "ecosystem_2015.tif")),
                     "--closing", str(example("gep", "ecosystem_2020.tif")), "--types",
                     str(example("gep", "types.csv")), "--managed", "5:1", "--managed", "3:6",
                     "--out", str(root / "extent")]]):
        with pytest.raises(SystemExit) as ex:
            main(argv)
        assert ex.value.code == 0, argv
    return root


def test_asset_account_from_supply_use_runs(runs, asset_runs, tmp_path, capsys):
    """The asset command reads two supply-use runs as the expected flows table would give them.

    Reference: the same account from an expected-flows table written straight from the GEP
    account's counted rows (value at current prices) and the extent account's areas.
    """
    import csv

    root, _, account, _ = runs
    areas = {}
    with (root / "extent" / "extent_account.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    names = rows[0][1:-1]
    for r in rows:
        if r[0] in ("Opening extent", "Closing extent"):
            areas[r[0]] = dict(zip(names, map(float, r[1:-1]), strict=False))
    flows: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    for r in account.rows:
        if r.counted and r.region == "county":
            q, v = flows.setdefault((r.ecosystem_type, r.indicator), {}).get(r.year, (0.0, 0.0))
            flows[(r.ecosystem_type, r.indicator)][r.year] = (q + r.net_quantity,
                                                             v + r.value_current.amount)
    table = tmp_path / "expected.csv"
    with table.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ecosystem_type", "service", "area_opening", "area_closing", "flow_opening",
                    "flow_closing", "value_opening", "value_closing"])
        for (et, s), by_year in flows.items():
            o, c = by_year.get(2015, (0.0, 0.0)), by_year.get(2020, (0.0, 0.0))
            w.writerow([et, s, areas["Opening extent"][et], areas["Closing extent"][et],
                        repr(o[0]), repr(c[0]), repr(o[1]), repr(c[1])])
    terms = ["--rate", "0.02", "--years", "100", "--json"]
    code, ref, err = _run(["land", "seea", "asset", "--flows", str(table), "--currency", "CNY",
                           "--price-year", "2020", "--out", str(tmp_path / "ref"), *terms],
                          capsys)
    assert code == 0, err
    code, got, err = _run(["land", "seea", "asset", "--opening-supply",
                           str(asset_runs / "sut2015"), "--closing-supply",
                           str(asset_runs / "sut2020"), "--extent",
                           str(asset_runs / "extent" / "extent_account.csv"), "--out",
                           str(tmp_path / "got"), *terms], capsys)
    assert code == 0, err
    ref_doc, got_doc = json.loads(ref), json.loads(got)
    assert got_doc["currency"] == "CNY" and got_doc["price_year"] == 2020
    assert set(got_doc["types"]) == set(ref_doc["types"])
    for row, values in ref_doc["rows"].items():
        by_type = dict(zip(ref_doc["types"], values, strict=True))
        mine = dict(zip(got_doc["types"], got_doc["rows"][row], strict=True))
        for et, v in by_type.items():
            assert mine[et] == pytest.approx(v, rel=1e-9, abs=1e-3), (row, et)
    # opening + changes = closing, type by type (checked in code; here on the output)
    rows = got_doc["rows"]
    for i in range(len(got_doc["types"])):
        assert rows["Opening value"][i] + rows["Net change in value"][i] == pytest.approx(
            rows["Closing value"][i], rel=1e-12)


def test_asset_from_supply_use_bad_inputs(runs, asset_runs, tmp_path, capsys):
    root = runs[0]
    base = ["land", "seea", "asset", "--rate", "0.02", "--years", "100", "--out",
            str(tmp_path / "asset")]
    extent = str(asset_runs / "extent" / "extent_account.csv")
    _refused([*base, "--opening-supply", str(tmp_path), "--closing-supply",
              str(asset_runs / "sut2020"), "--extent", extent], capsys, "no summary.json",
             "field '--opening-supply'")
    _refused([*base, "--opening-supply", str(asset_runs / "sut2015"), "--extent", extent],
             capsys, "field '--closing-supply'")
    # a run without a monetary table (carbon flows not valued)
    code, _, err = _run(["land", "seea", "supply-use", "--carbon-summary",
                         str(root / "carbon" / "summary.json"), "--allocation", str(USERS),
                         "--out", str(tmp_path / "physical")], capsys)
    assert code == 0, err
    _refused([*base, "--opening-supply", str(tmp_path / "physical"), "--closing-supply",
              str(asset_runs / "sut2020"), "--extent", extent], capsys,
             "the run has no monetary table", "field 'currency'")
    short = tmp_path / "extent.csv"
    short.write_text("\n".join(line.rsplit(",", 2)[0] for line in Path(extent).read_text(
        encoding="utf-8").splitlines()) + "\n", encoding="utf-8")
    _refused([*base, "--opening-supply", str(asset_runs / "sut2015"), "--closing-supply",
              str(asset_runs / "sut2020"), "--extent", str(short)], capsys,
             "have no extent: ['town']", "extent.csv")
    _refused([*base, "--opening-supply", str(asset_runs / "sut2015"), "--closing-supply",
              str(asset_runs / "sut2020"), "--extent", extent, "--price-year", "2015"],
             capsys, "field '--price-year'", "the closing run's is 2020")
    assert not (tmp_path / "asset").exists()
