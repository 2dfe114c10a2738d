"""``hesuan land ipcc`` commands on the bundled examples; errors name file, line, column."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from hesuan.cli.land_ipcc import app, run_demo
from hesuan.errors import InputError
from hesuan.examples import path

runner = CliRunner()


def test_help_has_examples():
    for command in ("transitions", "forest-gain-loss", "forest-stock-difference", "soc"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "Example: hesuan land ipcc " + command in " ".join(result.output.split())


def test_transitions_command(tmp_path):
    result = runner.invoke(app, [
        "transitions", "--from", str(path("land", "ipcc", "lulc_2010.tif")),
        "--to", str(path("land", "ipcc", "lulc_2020.tif")),
        "--stocks", str(path("land", "ipcc", "stocks.csv")), "--years", "2010", "2020",
        "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "transitions.json").read_text())
    # 90 ha forest -> cropland (180 -> 60), 9 ha cropland -> settlement (60 -> 20),
    # 90 ha grassland -> forest (75 -> 180), over 10 years:
    # (-10 800 - 360 + 9450) / 10 = -171 t C/yr; CO2 = 171 x 44/12 = 627 t CO2/yr.
    assert summary["carbon_change_t_c_per_yr"] == pytest.approx(-171.0)
    assert summary["co2_t_per_yr"] == pytest.approx(627.0)
    assert summary["changed_area_ha"] == pytest.approx(189.0)
    assert summary["nodata_pixels"] == 1
    matrix = pl.read_csv(tmp_path / "transition_matrix.csv")
    assert matrix.filter(pl.col("from_class") == 1)["to_2"][0] == pytest.approx(90.0)
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_soc_and_forest_commands(tmp_path):
    out = tmp_path / "soc.csv"
    result = runner.invoke(app, ["soc", str(path("land", "ipcc", "soc_strata.csv")),
                                 "--edition", "2019", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["edition"] == "2019"
    assert summary["factor_datasets"] == ["ipcc2019_afolu@2019"]
    assert len(summary["input_sha256"]) == 64
    out = tmp_path / "forest.csv"
    result = runner.invoke(app, ["forest-gain-loss",
                                 str(path("land", "ipcc", "forest_strata_2006.csv")),
                                 "--edition", "2006", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).height == 2
    out = tmp_path / "forest19.csv"
    result = runner.invoke(app, ["forest-gain-loss",
                                 str(path("land", "ipcc", "forest_strata_2019.csv")),
                                 "--edition", "2019", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # The 2019 run also read the 2006 carbon fraction (Table 4.3 was not re-published).
    assert json.loads(out.with_suffix(".json").read_text())["factor_datasets"] == [
        "ipcc2006_afolu@2006", "ipcc2019_afolu@2019"]


def test_edition_is_required_and_checked(tmp_path):
    result = runner.invoke(app, ["soc", str(path("land", "ipcc", "soc_strata.csv")),
                                 "--out", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "--edition" in result.output
    result = runner.invoke(app, ["soc", str(path("land", "ipcc", "soc_strata.csv")),
                                 "--edition", "1996", "--out", str(tmp_path / "x.csv")])
    assert isinstance(result.exception, InputError)
    assert "2006 or 2019" in str(result.exception)
    assert not (tmp_path / "x.csv").exists()


def test_bad_years(tmp_path):
    result = runner.invoke(app, [
        "transitions", "--from", str(path("land", "ipcc", "lulc_2010.tif")),
        "--to", str(path("land", "ipcc", "lulc_2020.tif")),
        "--stocks", str(path("land", "ipcc", "stocks.csv")), "--years", "2020", "2010",
        "--out", str(tmp_path)])
    assert isinstance(result.exception, InputError)
    assert "--years" in str(result.exception)


def test_run_demo(tmp_path):
    paths = run_demo(tmp_path)
    assert len(paths) == 10 and all(p.exists() for p in paths)


def test_forest_stock_difference_command(tmp_path):
    out = tmp_path / "stock.csv"
    result = runner.invoke(app, ["forest-stock-difference",
                                 str(path("land", "ipcc", "forest_inventory.csv")),
                                 "--edition", "2006", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # 797.026 + 485.04 t C/yr (see test_ipcc_tables.py::test_stock_difference_example)
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["change_t_c_per_yr"] == pytest.approx(1282.066)


@pytest.mark.parametrize(("edition", "soc_per_yr"), [("2006", -132.084), ("2019", -91.152)])
def test_transitions_with_ipcc_soil_pool(tmp_path, edition, soc_per_yr):
    result = runner.invoke(app, [
        "transitions", "--from", str(path("land", "ipcc", "lulc_2010.tif")),
        "--to", str(path("land", "ipcc", "lulc_2020.tif")),
        "--stocks", str(path("land", "ipcc", "stocks_with_soil.csv")), "--years", "2010", "2020",
        "--edition", edition, "--climate-zone", "warm_temperate_moist", "--soil-type", "hac",
        "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "transitions.json").read_text())
    # Soil (warm temperate moist, HAC): forest native = SOC_REF (2006: 88, 2019: 64);
    # cropland = SOC_REF x 0.69 (F_LU long-term cultivated; full tillage, medium input 1);
    # settlement: user 40. 90 ha forest -> cropland and 9 ha cropland -> settlement, spread
    # over D = 20 yr: 2006: (90 x (60.72 - 88) + 9 x (40 - 60.72)) / 20 = -132.084 t C/yr;
    # 2019: (90 x (44.16 - 64) + 9 x (40 - 44.16)) / 20 = -91.152 t C/yr.
    assert summary["soc_change_t_c_per_yr"] == pytest.approx(soc_per_yr)
    # Other pools: (90 x (5 - 120) + 9 x (2 - 5) + 90 x (120 - 6)) / 10 = -11.7 t C/yr
    assert summary["carbon_change_t_c_per_yr"] == pytest.approx(-11.7)
    assert summary["co2_t_per_yr"] == pytest.approx(-(soc_per_yr - 11.7) * 44 / 12)
    assert summary["soil_pool"]["edition"] == edition


def test_soil_pool_needs_edition_and_a_value_per_class(tmp_path):
    common = ["transitions", "--from", str(path("land", "ipcc", "lulc_2010.tif")),
              "--to", str(path("land", "ipcc", "lulc_2020.tif")), "--years", "2010", "2020",
              "--out", str(tmp_path)]
    result = runner.invoke(app, [*common, "--stocks",
                                 str(path("land", "ipcc", "stocks_with_soil.csv"))])
    assert isinstance(result.exception, InputError)
    assert "--edition" in str(result.exception) and "soil_land_use" in str(result.exception)
    bad = tmp_path / "s.csv"
    bad.write_text("class,carbon_t_c_per_ha,soil_land_use,soil_t_c_per_ha\n1,10,,\n")
    result = runner.invoke(app, [*common, "--stocks", str(bad)])
    assert isinstance(result.exception, InputError)
    assert "line 2, field 'soil_land_use'" in str(result.exception)
