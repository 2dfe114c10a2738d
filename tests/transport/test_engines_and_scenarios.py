"""Same numbers from the single-process and the Dask engine; scenario rules; CLI outputs."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from hesuan.cli import main
from hesuan.examples import path as example
from hesuan.standards import load_dataset
from hesuan.transport import calculate

DESNZ = load_dataset("desnz_ghg", "2025")


def test_dask_engine_matches_single_engine(tmp_path: Path) -> None:
    from hesuan.transport.dask_engine import calculate_dask

    legs = pl.read_csv(example("transport", "legs.csv"), infer_schema=False)
    # partitioned dataset: the shared trips TRIP-A and TRIP-R span two files
    parts = tmp_path / "legs"
    parts.mkdir()
    legs.slice(0, 5).write_parquet(parts / "part-0.parquet")
    legs.slice(5).write_parquet(parts / "part-1.parquet")
    hubs = example("transport", "hubs.csv")
    single = calculate(parts, hubs, out=tmp_path / "a.parquet")
    dasked = calculate_dask(parts, hubs, processes=False, n_workers=2,
                            out=tmp_path / "b.parquet")
    a = single.legs_frame()
    b = dasked.legs_frame()
    assert a.columns == b.columns
    for col in ("tkm", "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "co2_combustion_kg"):
        assert a[col].fill_null(float("nan")).to_list() == pytest.approx(
            b[col].fill_null(float("nan")).to_list(), rel=1e-12, nan_ok=True)
    assert a["method"].to_list() == b["method"].to_list()
    assert single.summary.wtw_t_co2e == pytest.approx(dasked.summary.wtw_t_co2e,
                                                         rel=1e-12)


def test_dask_engine_refuses_an_input_without_legs(tmp_path: Path) -> None:
    from hesuan.errors import InputError
    from hesuan.transport.dask_engine import calculate_dask

    path = tmp_path / "legs.parquet"
    pl.DataFrame({c: pl.Series([], dtype=pl.String) for c in
                  ("shipment_id", "leg_id", "mode", "mass_t", "distance_km")}).write_parquet(path)
    with pytest.raises(InputError, match="no data rows"):
        calculate_dask(path, processes=False, n_workers=1, out=tmp_path / "r.parquet")
    assert not list(tmp_path.glob("r*"))


def test_scenario_diesel_to_hvo100() -> None:
    legs = pl.DataFrame({"shipment_id": ["S"], "leg_id": ["1"], "mode": ["road"],
                         "mass_t": [10.0], "distance_km": [100.0], "fuel": ["diesel"],
                         "fuel_amount": [30.0], "fuel_unit": ["L"]})
    base = calculate(legs, gwp="AR5").legs_frame().row(0, named=True)  # DESNZ's own set
    alt = calculate(legs, scenario="fuel=diesel -> fuel=hvo100",
                    gwp="AR5").legs_frame().row(0, named=True)
    assert base["ttw_kg_co2e"] == pytest.approx(
        30 * DESNZ.get("fuel.diesel_100pct_mineral.per_litre.ttw").value)
    assert alt["ttw_kg_co2e"] == pytest.approx(30 * DESNZ.get(
        "fuel.biodiesel_hvo.per_litre.ttw").value)
    assert alt["co2_combustion_kg"] == 0.0
    assert alt["scenario_rule"] == "fuel=diesel -> fuel=hvo100"


def test_scenario_long_road_legs_to_rail() -> None:
    legs = pl.DataFrame({"shipment_id": ["S", "S"], "leg_id": ["1", "2"],
                         "mode": ["road", "road"], "mass_t": [10.0, 10.0],
                         "distance_km": [800.0, 100.0], "vehicle": ["hgv", "hgv"]})
    alt = calculate(legs, scenario="mode=road & distance_km>500 -> mode=rail, "
                                   "vehicle=freight_train",
                    gwp="AR5").legs_frame().sort("leg_id")
    assert alt["mode"].to_list() == ["rail", "road"]
    rail = DESNZ.get("freight.rail.freight_train.ttw").value + DESNZ.get(
        "freight.rail.freight_train.wtt").value
    assert alt["wtw_kg_co2e"][0] == pytest.approx(8000 * rail)  # rail: actual = SFD


def test_cli_calculate_and_scenario_outputs(tmp_path: Path) -> None:
    legs, hubs = str(example("transport", "legs.csv")), str(example("transport", "hubs.csv"))
    with pytest.raises(SystemExit) as exit_:
        main(["transport", "calculate", legs, "--hubs", hubs, "--out",
              str(tmp_path / "r.parquet"), "--summary", str(tmp_path / "s.json"), "--report",
              str(tmp_path / "r.html"), "--gwp", "ar6"])
    assert exit_.value.code == 0
    s = json.loads((tmp_path / "s.json").read_text())
    for key in ("wtw_t_co2e", "ttw_t_co2e", "wtt_t_co2e", "tkm", "intensity_g_co2e_per_tkm",
                "hub_t", "per_mode", "per_toc", "per_hoc", "primary_data_share", "n_legs",
                "n_shipments", "factor_datasets", "gwp_set"):
        assert key in s
    assert s["gwp_set"] == "AR6"
    assert s["wtw_t_co2e"] == pytest.approx(s["ttw_t_co2e"] + s["wtt_t_co2e"]
                                            + s["legs_wtw_t_co2e"] - sum(
        r["ttw_kg_co2e"] + r["wtt_kg_co2e"] for r in s["per_mode"]) / 1000, rel=1e-9)
    html = (tmp_path / "r.html").read_text()
    assert "ISO 14083:2023" in html and "Open Government Licence" in html
    ships = pl.read_parquet(tmp_path / "r.shipments.parquet")
    legs_out = pl.read_parquet(tmp_path / "r.parquet")
    hubs_out = pl.read_parquet(tmp_path / "r.hubs.parquet")
    assert ships["wtw_kg_co2e"].sum() == pytest.approx(
        legs_out["wtw_kg_co2e"].sum() + hubs_out["wtw_kg_co2e"].sum())
    with pytest.raises(SystemExit) as exit_:
        main(["transport", "scenario", legs, "--rule", "fuel=diesel -> fuel=hvo100",
              "--summary", str(tmp_path / "sc.json")])
    assert exit_.value.code == 0
    diff = json.loads((tmp_path / "sc.json").read_text())["difference"]
    assert diff["wtw_t_co2e_difference"] < 0


def test_demo_runs(tmp_path: Path) -> None:
    from hesuan.cli.transport import run_demo

    outputs = run_demo(tmp_path)
    assert all(p.exists() for p in outputs)
