"""Fuel × factor and default intensities against the values the datasets publish."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hesuan.standards import load_dataset
from hesuan.transport import calculate
from hesuan.transport.factors import resolve

DESNZ = load_dataset("desnz_ghg", "2025")
CASES = Path(__file__).parent / "cases"


def one(**kw: object) -> dict:
    row = {"shipment_id": "S", "leg_id": "1", "mode": "road", "mass_t": 10.0,
           "distance_km": 100.0}
    row.update(kw)
    # gwp AR5: the set DESNZ publishes in, so its printed values apply unchanged
    return calculate(pl.DataFrame([row]), gwp="AR5").legs_frame().row(0, named=True)


def test_diesel_litres_times_published_factor() -> None:
    # DESNZ 2025 'Fuels' / 'WTT- fuels': diesel (100 % mineral) per litre.
    row = one(fuel="diesel", fuel_amount=100.0, fuel_unit="L")
    assert row["ttw_kg_co2e"] == pytest.approx(
        100 * DESNZ.get("fuel.diesel_100pct_mineral.per_litre.ttw").value)
    assert row["wtt_kg_co2e"] == pytest.approx(
        100 * DESNZ.get("fuel.diesel_100pct_mineral.per_litre.wtt").value)
    # IPCC 2006 Vol. 2 Table 1.4 (74,100 kg CO2/TJ) × NCV (SOURCE.md) gives 3.186 kg CO2/kg
    # at the IPCC NCV 43.0; hesuan converts litres with DESNZ's density and NCV.
    kg = 100 * DESNZ.get("fuel.diesel_100pct_mineral.density").value / 1000
    assert row["co2_combustion_kg"] / kg == pytest.approx(3.186, rel=0.002)


def test_unit_conversion_matches_the_publishers_other_columns() -> None:
    # Converting litres → kWh with DESNZ's density and NCV must reproduce DESNZ's own
    # per-kWh (net CV) and per-tonne columns within their rounding.
    f = resolve((), "AR5").fuels.filter(pl.col("fuel") == "diesel")
    per = dict(zip(f["fuel_unit"], f["f_ttw_kg_per_unit"], strict=True))
    assert per["kWh"] == pytest.approx(
        DESNZ.get("fuel.diesel_100pct_mineral.per_kwh_net_cv.ttw").value, rel=0.001)
    assert per["kg"] * 1000 == pytest.approx(
        DESNZ.get("fuel.diesel_100pct_mineral.per_tonne.ttw").value, rel=0.001)


def test_gwp_set_reweights_factors_published_with_a_per_gas_split() -> None:
    """DESNZ publishes CO2e in AR5 with each gas's share ("kg CO2e of CO2 / CH4 / N2O per
    unit"); in AR6 the CH4 and N2O shares scale by GWP_AR6/GWP_AR5 (IPCC AR6 WG1 Table
    7.SM.7: CH4 27.9, N2O 273; AR5 WG1 Table 8.A.1: 28, 265). WTT factors have no split and
    keep AR5, which the summary records."""
    fid = "fuel.diesel_100pct_mineral.per_litre.ttw"
    co2e, ch4, n2o = (DESNZ.get(f"{fid}{s}").value for s in ("", ".ch4", ".n2o"))
    ar6 = calculate(pl.DataFrame([{"shipment_id": "S", "leg_id": "1", "mode": "road",
                                   "mass_t": 10.0, "distance_km": 100.0, "fuel": "diesel",
                                   "fuel_amount": 100.0, "fuel_unit": "L"}]), gwp="AR6")
    row = ar6.legs_frame().row(0, named=True)
    assert row["ttw_kg_co2e"] == pytest.approx(
        100 * (co2e + ch4 * (27.9 / 28 - 1) + n2o * (273 / 265 - 1)), rel=1e-12)
    assert row["ttw_kg_co2e"] != pytest.approx(100 * co2e, rel=1e-6)  # it did change
    assert row["wtt_kg_co2e"] == pytest.approx(
        100 * DESNZ.get("fuel.diesel_100pct_mineral.per_litre.wtt").value)
    assert {"AR5", "AR6"} <= set(ar6.summary.factor_gwp_sets)
    assert ar6.summary.gwp_set == "AR6"


def test_hvo100_has_no_fossil_combustion_co2() -> None:
    row = one(fuel="hvo100", fuel_amount=100.0, fuel_unit="L")
    assert row["co2_combustion_kg"] == 0.0
    assert row["ttw_kg_co2e"] == pytest.approx(
        100 * DESNZ.get("fuel.biodiesel_hvo.per_litre.ttw").value)


def test_marine_fuel_fossil_co2_uses_fueleu_cf() -> None:
    # FuelEU Maritime Annex II Cf(CO2) of MGO: 3.206 g CO2 / g fuel.
    row = one(mode="sea", fuel="mgo", fuel_amount=1000.0, fuel_unit="kg")
    assert row["co2_combustion_kg"] == pytest.approx(3206.0)


def test_electricity_is_energy_provision_only() -> None:
    # ISO 14083: electric traction has no operation emissions; DESNZ grid generation,
    # T&D losses and their WTT make up the provision factor.
    row = one(mode="rail", fuel="electricity", fuel_amount=1000.0, fuel_unit="kWh")
    expected = sum(DESNZ.get(i).value for i in (
        "electricity.grid.ttw", "electricity.grid.wtt", "electricity.grid.td_losses.ttw",
        "electricity.grid.td_losses.wtt"))
    assert row["ttw_kg_co2e"] == 0.0
    assert row["wtt_kg_co2e"] == pytest.approx(1000 * expected)


def test_default_road_intensity_is_desnz_per_actual_converted_to_sfd() -> None:
    # DESNZ freight factors are per actual t·km: × 1.05 per SFD t·km (CLECAT Table 3).
    row = one(vehicle="hgv_artic_gt33t")
    ttw = DESNZ.get("freight.road.hgv_all_diesel.articulated_gt33t.average_laden.ttw")
    wtt = DESNZ.get("freight.road.hgv_all_diesel.articulated_gt33t.average_laden.wtt")
    assert ttw.distance_basis == "actual"
    assert row["wtw_kg_co2e"] == pytest.approx(1000 * (ttw.value + wtt.value) * 1.05)
    assert row["data_type"] == "default" and row["method"] == "default_intensity"
    assert row["factor_ttw"] == ttw.key


def test_user_dataset_in_glec_format_with_made_up_numbers() -> None:
    # cases/glec_format_madeup: INVENTED numbers in the layout of a GLEC default table.
    legs = pl.DataFrame({
        "shipment_id": ["S", "S", "S"], "leg_id": ["1", "2", "3"],
        "mode": ["road", "inland_waterway", "air"], "mass_t": [10.0, 10.0, 1.0],
        "distance_km": [100.0, 200.0, 905.0],
        "vehicle": ["madeup_artic_40t", "madeup_barge", "madeup_freighter"]})
    r = calculate(legs, factors=str(CASES / "glec_format_madeup"))
    rows = r.legs_frame().sort("leg_id").to_dicts()
    assert rows[0]["wtw_kg_co2e"] == pytest.approx(1000 * 75 / 1000)   # sfd: used as is
    assert rows[0]["ttw_kg_co2e"] == pytest.approx(1000 * 60 / 1000)
    assert rows[1]["wtw_kg_co2e"] == pytest.approx(2000 * 31 / 1000)   # IWW: no DAF
    assert rows[2]["wtw_kg_co2e"] == pytest.approx(905 * 600 * 1000 / 905 / 1000)
    assert any(d.dataset == "glec_format_madeup@test" for d in r.summary.factor_datasets)


def test_summary_records_versions_and_gwp() -> None:
    r = calculate(pl.DataFrame([{"shipment_id": "S", "leg_id": "1", "mode": "rail",
                                 "mass_t": 1.0, "distance_km": 10.0}]), gwp="ar5")
    s = r.summary
    assert s.gwp_set == "AR5"
    assert "desnz_ghg@2025" in {d.dataset for d in s.factor_datasets}
    assert "AR5" in s.factor_gwp_sets
    assert "Open Government Licence" in " ".join(d.attribution for d in s.factor_datasets)
