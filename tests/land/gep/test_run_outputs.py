"""The whole run on the bundled county: outputs, their schema, prices and the report."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import polars as pl
import pytest
from pydantic import TypeAdapter

from hesuan.examples import path as example
from hesuan.land.gep.accounts import GepAccount
from hesuan.land.gep.raster import ClimateParameters
from hesuan.land.gep.run import run
from hesuan.report.gep import write_gep_report

SCHEMA = Path(__file__).parents[3] / "docs" / "schemas" / "gep_account.schema.json"


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    out = tmp_path_factory.mktemp("gep")
    result = run("gep_garze2010@2017", out, quantities=example("gep", "quantities.csv"),
                 layers=example("gep", "layers.csv"), types=example("gep", "types.csv"),
                 whole_map="county", price_index=example("gep", "price_index.csv"),
                 constant_year=2020, gdp=example("gep", "gdp.csv"),
                 climate=ClimateParameters(ac_days=90, ac_efficiency=3.0),
                 report=write_gep_report)
    return out, result


def test_outputs_written_and_no_staging_left(county):
    out, result = county
    for name in ("gep_rows.csv", "gep_rows.parquet", "gep_by_category.csv",
                 "gep_by_service.csv", "gep_by_ecosystem.csv", "gep.json", "gep.xlsx",
                 "report.html", "maps/2015/water_conservation_m3.tif",
                 "maps/2020/carbon_sequestration_t_co2.tif"):
        assert (out / name).is_file(), name
    assert (out / "hesuan-manifest.json").is_file()
    assert not list(out.rglob(".*hesuan-tmp*"))
    rows = pl.read_parquet(out / "gep_rows.parquet")
    assert rows.height == len(result.account.rows)
    assert set(rows["currency"]) == {"CNY"}


def test_maps_are_cloud_optimised(county):
    import rasterio

    out, result = county
    path = result.regulating[2020].maps["water_conservation_m3"]
    assert path == str(out / "maps" / "2020" / "water_conservation_m3.tif")
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.tags(1)["units"] == "m3/ha"
        assert ds.overviews(1) or min(ds.width, ds.height) <= 512


def test_json_follows_the_published_schema(county):
    out, _ = county
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    generated = TypeAdapter(GepAccount).json_schema()
    assert {k: v for k, v in schema.items() if k not in ("$schema", "title")} == \
        {k: v for k, v in generated.items() if k != "title"}
    doc = json.loads((out / "gep.json").read_text(encoding="utf-8"))
    jsonschema_rs.validator_for(schema).validate(doc["account"])
    assert doc["account"]["edition"] == "gep_garze2010@2017"
    assert doc["provenance"]["prices"] and doc["provenance"]["coefficients"]


def test_current_and_constant_prices(county):
    _, result = county
    a = result.account
    ratio = 127.5 / 114.2  # the example's index, 2020 over 2015
    for r in a.rows:
        assert r.value_constant is not None and r.value_constant.price_year == 2020
        if r.year == 2015:
            assert r.value_current.price_year == 2015
            assert r.value_constant.amount == pytest.approx(r.value_current.amount * ratio)
        else:
            assert r.value_constant.amount == pytest.approx(r.value_current.amount)
    gep15 = a.total("gep", "county", 2015)
    assert gep15.constant is not None
    assert gep15.constant.amount == pytest.approx(gep15.current.amount * ratio)
    gdp = dict(((r, y), m.amount) for r, y, m in a.gdp)
    for region, year, value in a.gdp_ratio:
        assert value == pytest.approx(a.total("gep", region, year).current.amount
                                      / gdp[(region, year)])


def test_raster_services_reach_the_account(county):
    _, result = county
    a = result.account
    services = {r.service for r in a.rows if r.source.startswith(str(example("gep",
                                                                             "layers.csv")))}
    assert {"water_conservation", "soil_retention", "carbon_sequestration",
            "oxygen_release", "climate_regulation"} <= services
    co2 = sum(r.net_quantity for r in a.rows
              if r.indicator == "regulating.carbon_sequestration.co2" and r.year == 2015)
    total = result.regulating[2015].totals["carbon_sequestration_t_co2"].sum()
    assert co2 == pytest.approx(total)


def test_report_and_workbook(county):
    out, _ = county
    html = (out / "report.html").read_text(encoding="utf-8")
    for text in ("gep_garze2010@2017", "Service shares", "at constant 2020 prices",
                 "Provenance: prices", "sediment_deposition_ratio"):
        assert text in html, text
    from openpyxl import load_workbook

    wb = load_workbook(out / "gep.xlsx", read_only=True)
    assert wb.sheetnames == ["实物量 Physical", "价值量 Monetary", "汇总 Totals",
                             "价格与参数 Provenance"]
