"""The worked examples of the CLECAT/UBA practical guide to ISO 14083 (2024), recomputed.

Source of every expected number: *Treibhausgasemissionen im Transportsektor — a practical
guide to ISO 14083*, CLECAT with the German Environment Agency (UBA), 2024 ("CLECAT guide"),
as quoted in tests/transport/SOURCE.md with page numbers.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from hesuan.cli import main
from hesuan.transport import calculate
from hesuan.transport.intensity import intensity_g_per_tkm
from hesuan.transport.refrigerant import (
    leakage_emissions_kg,
    refrigerant_gwp,
    road_reefer_default_leak_kg_per_year,
)

CASES = Path(__file__).parent / "cases"
CLECAT = str(CASES / "clecat_examples")


def leg(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"shipment_id": "S1", "leg_id": "L1", "mode": "road",
                               "mass_t": 10.0}
    base.update(kw)
    return base


def test_case_a_road_actual_intensity_to_sfd() -> None:
    # CLECAT Case A, pp. 25, 44, 48: 10 t, SFD 50 km, 143 g per ACTUAL t·km →
    # 500 t·km; 150.15 g per SFD t·km; 75.1 kg CO2e.
    r = calculate(pl.DataFrame([leg(distance_km=50.0, intensity_wtw_g_per_tkm=143.0,
                                    intensity_basis="actual")]))
    row = r.legs_frame().row(0, named=True)
    assert row["tkm"] == pytest.approx(500.0)
    assert row["intensity_wtw_g_per_tkm"] == pytest.approx(150.15)
    assert row["wtw_kg_co2e"] == pytest.approx(75.1, abs=0.05)


def test_case_b_bus_toc_energy_based() -> None:
    # CLECAT Case B, pp. 45–46: 14 buses × 55,000 km × 14.1 MJ/km, diesel B6.3 at 93.8 g/MJ
    # total and 70.6 operation; 90 places at 18 % occupancy → 1,018,387 kg total,
    # 766,504 kg operation, 12,474,000 p·km. Passengers stand in for tonnes (mass_t = 16.2
    # occupied places) so that t·km reads as p·km.
    energy_mj = 14 * 55_000 * 14.1
    r = calculate(pl.DataFrame([leg(mass_t=90 * 0.18, distance_km=14 * 55_000.0,
                                    fuel="diesel_b6_3", fuel_amount=energy_mj, fuel_unit="MJ")]),
                  factors=CLECAT)
    row = r.legs_frame().row(0, named=True)
    assert row["tkm"] == pytest.approx(12_474_000)
    assert row["wtw_kg_co2e"] == pytest.approx(1_018_387, abs=1)
    assert row["ttw_kg_co2e"] == pytest.approx(766_504, abs=1)
    assert row["method"] == "fuel" and row["data_type"] == "primary"


def test_example_1_station_hoc() -> None:
    # CLECAT Example 1, p. 31: 114,489,327 passengers; 2,121,094 kWh electricity at 493.96
    # g/kWh provision; 121,495 kWh natural gas at 198.26 operation + 64.77 provision;
    # 703,125 kWh district heat at 382.02 → operation 24,088 kg, provision ≈ 1,324,213 kg,
    # 11.78 g/passenger. Passengers stand in for tonnes leaving the hub. refrigerant_kg = 0:
    # the example has no refrigerant, so no default is added.
    hubs = pl.DataFrame({
        "shipment_id": ["P", "P", "P"], "hub_id": ["station"] * 3,
        "hub_type": ["transhipment"] * 3, "mass_t": [114_489_327.0, 0.0, 0.0],
        "fuel": ["natural_gas_station", "district_heat", None],
        "fuel_amount": [121_495.0, 703_125.0, None], "fuel_unit": ["kWh", "kWh", None],
        "electricity_kwh": [None, None, 2_121_094.0], "region": ["DE"] * 3,
        "refrigerant_kg": [0.0, None, None],
    })
    legs = pl.DataFrame([leg(distance_km=1.0, intensity_wtw_g_per_tkm=0.0)])
    r = calculate(legs, hubs, factors=CLECAT)
    h = r.hubs
    assert h["ttw_kg_co2e"].sum() == pytest.approx(24_088, abs=1)
    assert h["wtt_kg_co2e"].sum() == pytest.approx(1_324_213, abs=2)
    g_per_passenger = h["wtw_kg_co2e"].sum() * 1000 / 114_489_327
    assert g_per_passenger == pytest.approx(11.78, abs=0.005)
    assert r.summary.per_hoc[0].intensity_wtw_kg_per_t * 1000 == pytest.approx(
        11.78, abs=0.005)


def _car_train(**trip: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    # three freight legs of 10 cars each (1.5 t a car) on one trip; the trip's energy and its
    # passengers in the trips table
    legs = pl.DataFrame([leg(leg_id=f"C{i}", mode="rail", mass_t=15.0, distance_km=300.0,
                             trip_id="T", freight_units=10.0, unit_passenger_equivalents=1.3)
                         for i in range(3)])
    trips = pl.DataFrame([{"trip_id": "T", "fuel": "diesel_b6_3", "fuel_amount": 500_000.0,
                           "fuel_unit": "MJ", **trip}])
    return legs, trips


def test_example_2_car_train_passenger_equivalents() -> None:
    # CLECAT Example 2, pp. 32–33 (ISO 14083 Table G.5): 150 passengers + 30 cars at 1.3
    # passenger-equivalents → the cars carry 39/189 = 20.6 % of the trip's emissions.
    legs, trips = _car_train(passengers=150.0)
    r = calculate(legs, trips=trips, factors=CLECAT)
    whole = calculate(*_car_train()[:1], trips=_car_train()[1], factors=CLECAT)
    share = r.legs_frame()["wtw_kg_co2e"].sum() / whole.legs_frame()["wtw_kg_co2e"].sum()
    assert share == pytest.approx(0.206, abs=0.0005)
    assert share == pytest.approx(39 / 189, rel=1e-12)
    # the trip's full energy: 500,000 MJ × 93.8 g/MJ (Case B factors, pp. 45–46)
    assert whole.summary.wtw_t_co2e == pytest.approx(500_000 * 93.8 / 1e6, rel=1e-12)
    # the freight part is shared by t·km (equal legs: equal parts), all of it primary fuel
    f = r.legs_frame()
    assert f["wtw_kg_co2e"].to_list() == pytest.approx([f["wtw_kg_co2e"][0]] * 3, rel=1e-12)
    assert set(f["method"]) == {"fuel"}


def _container_ship() -> pl.DataFrame:
    # 5,050 ambient and 950 reefer TEU; legs by the t·km of their containers (10 t a TEU);
    # the trip's energy on the first row, its containers on another
    rows = [leg(shipment_id=f"A{i}", leg_id="sea", mode="sea", mass_t=tonnes,
                distance_km=8000.0, trip_id="V1") for i, tonnes in enumerate((20_000, 30_500))]
    rows += [leg(shipment_id=f"R{i}", leg_id="sea", mode="sea", mass_t=tonnes,
                 distance_km=8000.0, trip_id="V1", temperature_control="reefer")
             for i, tonnes in enumerate((4_000, 5_500))]
    rows[0] |= {"fuel": "diesel_b6_3", "fuel_amount": 88_090_000.0, "fuel_unit": "MJ"}
    rows[1] |= {"trip_teu": 6000.0, "reefer_teu": 950.0}
    return pl.DataFrame(rows)


def test_example_4_container_ship_reefer_split() -> None:
    # CLECAT Example 4, pp. 34–35: 6,000 TEU of which 950 reefer at 1.17 ambient
    # TEU-equivalents (the default factor); 88,090,000 MJ → ambient 72,199,059 MJ, reefer
    # 15,890,941 MJ.
    f = calculate(_container_ship(), factors=CLECAT).legs_frame()
    g_per_mj = 93.8  # diesel B6.3 total factor of the same dataset (Case B, pp. 45–46)
    mj = f.group_by("temperature_control").agg(pl.col("wtw_kg_co2e").sum() * 1000 / g_per_mj)
    energy = dict(mj.iter_rows())
    assert energy["ambient"] == pytest.approx(72_199_059, abs=1)
    assert energy["reefer"] == pytest.approx(15_890_941, abs=1)
    assert energy["ambient"] + energy["reefer"] == pytest.approx(88_090_000, rel=1e-12)
    # within each kind, by t·km: the two reefer legs 4,000 : 5,500
    reefer = f.filter(pl.col("temperature_control") == "reefer").sort("shipment_id")
    assert reefer["wtw_kg_co2e"][0] / reefer["wtw_kg_co2e"][1] == pytest.approx(4 / 5.5)


def test_example_4_across_batches_and_engines(tmp_path: Path) -> None:
    # the trip's fuel and TEU in one file, its reefer legs in another: both engines add the
    # trip's partial sums across batches and give Example 4's split (pp. 34–35)
    from hesuan.transport.dask_engine import calculate_dask

    legs = _container_ship().with_columns(pl.col(pl.Float64).cast(pl.String))
    parts = tmp_path / "legs"
    parts.mkdir()
    legs.slice(0, 2).write_parquet(parts / "part-0.parquet")
    legs.slice(2).write_parquet(parts / "part-1.parquet")
    single = calculate(parts, factors=CLECAT, batch_size=1).legs_frame()
    dasked = calculate_dask(parts, factors=CLECAT, processes=False, n_workers=2).legs_frame()
    for f in (single, dasked):
        reefer_kg = f.filter(pl.col("temperature_control") == "reefer")["wtw_kg_co2e"].sum()
        assert reefer_kg * 1000 / 93.8 == pytest.approx(15_890_941, abs=1)
    assert single["wtw_kg_co2e"].to_list() == pytest.approx(dasked["wtw_kg_co2e"].to_list(),
                                                            rel=1e-12)


def test_example_4_through_the_cli(tmp_path: Path) -> None:
    # the same trip from CSV through `hesuan transport calculate`, the factor given explicitly
    legs = tmp_path / "legs.csv"
    _container_ship().with_columns(reefer_teu_factor=pl.lit(1.17)).write_csv(legs)
    with pytest.raises(SystemExit) as exit_:
        main(["transport", "calculate", str(legs), "--factors", CLECAT,
              "--out", str(tmp_path / "legs.parquet")])
    assert exit_.value.code == 0
    out = pl.read_parquet(tmp_path / "legs.parquet")
    reefer_kg = out.filter(pl.col("temperature_control") == "reefer")["wtw_kg_co2e"].sum()
    assert reefer_kg * 1000 / 93.8 == pytest.approx(15_890_941, abs=1)


def test_example_5_chilled_vs_ambient_hubs_enter_chain_without_tonnes() -> None:
    # CLECAT Example 5, pp. 35–36: HOC intensities chilled 12.75 kg CO2e/t, ambient
    # 1.19 kg/t. (The example's energy inputs are not quoted in SOURCE.md, so the HOC
    # intensities are given as inputs.) ISO 14083 chain rule (CLECAT pp. 19–20, 47): hub
    # emissions count in the chain total, hub tonnes not in its t·km.
    hubs = pl.DataFrame({"shipment_id": ["S1", "S1"], "hub_id": ["cold", "dry"],
                         "hub_type": ["storage", "storage"], "mass_t": [10.0, 10.0],
                         "temperature_control": ["chilled", "ambient"],
                         "intensity_wtw_kg_per_t": [12.75, 1.19]})
    legs = pl.DataFrame([leg(distance_km=50.0, intensity_wtw_g_per_tkm=143.0,
                             intensity_basis="actual")])
    r = calculate(legs, hubs)
    hoc = {h.hoc: h for h in r.summary.per_hoc}
    assert hoc["storage/temperature_controlled"].intensity_wtw_kg_per_t == pytest.approx(12.75)
    assert hoc["storage/ambient"].intensity_wtw_kg_per_t == pytest.approx(1.19)
    total_kg = 75.075 + 127.5 + 11.9
    assert r.summary.wtw_t_co2e * 1000 == pytest.approx(total_kg)
    assert r.summary.tkm == pytest.approx(500.0)  # hub tonnes not added
    assert r.summary.intensity_g_co2e_per_tkm == pytest.approx(total_kg * 1000 / 500)


def test_example_8_truck_refrigerant() -> None:
    # CLECAT Example 8, pp. 40–41: refills 1.700 and 1.805 kg, weighting 3/12 and 9/12 →
    # 1.7788 kg; × 2,292 (R-452A) ≈ 4,077 kg; over 1,800,000 t·km → +2.26 g/t·km.
    refill = 1.700 * 3 / 12 + 1.805 * 9 / 12  # the guide's calendar weighting, as input
    assert refill == pytest.approx(1.7788, abs=0.0001)
    emitted = pl.select(leakage_emissions_kg(pl.lit(refill), pl.lit(2292.0))).item()
    assert emitted == pytest.approx(4077, abs=1)
    gwp, _ = refrigerant_gwp("R-452A", "AR6")  # 2,291.6 (CLECAT p. 42)
    r = calculate(pl.DataFrame([leg(mass_t=18.0, distance_km=100_000.0,
                                    intensity_wtw_g_per_tkm=0.0, intensity_ttw_g_per_tkm=0.0,
                                    refrigerant="R-452A", refrigerant_kg=refill,
                                    temperature_control="reefer")]))
    row = r.legs_frame().row(0, named=True)
    assert row["refrigerant_kg_co2e"] == pytest.approx(4077, abs=2)
    assert row["intensity_wtw_g_per_tkm"] == pytest.approx(2.26, abs=0.005)
    assert gwp == pytest.approx(2291.6, abs=0.05)


@pytest.mark.parametrize(("name", "expected"), [("R-410A", 2255.5), ("R-404A", 4728.0),
                                                ("R-452A", 2291.6), ("R-134a", 1530),
                                                ("R-32", 771), ("R-744", 1)])
def test_ar6_refrigerant_gwps_quoted_by_the_guide(name: str, expected: float) -> None:
    # AR6 GWPs quoted by the CLECAT guide p. 42 (tests/transport/SOURCE.md, "Refrigerants").
    assert refrigerant_gwp(name, "AR6")[0] == pytest.approx(expected, abs=0.05)


def test_road_reefer_default_leak() -> None:
    # CLECAT pp. 40–41: no data → 5.5 kg charge × 32.5 % yearly loss.
    assert road_reefer_default_leak_kg_per_year() == pytest.approx(1.7875)


def test_hub_refrigerant_defaults() -> None:
    # CLECAT p. 42: hubs without data: 0.5 g R-404A per t ambient, 1.2 g/t
    # temperature-controlled; R-404A AR6 4,728.0 (p. 42).
    hubs = pl.DataFrame({"shipment_id": ["A", "B"], "hub_id": ["h1", "h2"],
                         "hub_type": ["storage", "storage"], "mass_t": [1000.0, 1000.0],
                         "temperature_control": ["ambient", "chilled"],
                         "electricity_kwh": [0.0, 0.0]})
    r = calculate(pl.DataFrame([leg(distance_km=1.0, intensity_wtw_g_per_tkm=0.0)]), hubs)
    refr = dict(zip(r.hubs["hub_id"], r.hubs["refrigerant_kg_co2e"], strict=True))
    assert refr["h1"] == pytest.approx(1000 * 0.5e-3 * 4728.0)
    assert refr["h2"] == pytest.approx(1000 * 1.2e-3 * 4728.0)


def test_toc_intensity_is_total_over_tkm() -> None:
    # ISO 14083 g_TOC = G_TOC / T_TOC (CLECAT pp. 19–20): Case B 1,018,387 kg / 12,474,000.
    assert intensity_g_per_tkm(1_018_387.0, 12_474_000.0) == pytest.approx(81.64, abs=0.005)
    g = pl.select(intensity_g_per_tkm(pl.lit(1_018_387.0), pl.lit(12_474_000.0))).item()
    assert g == pytest.approx(81.64, abs=0.005)


def test_wtw_only_user_intensity_is_not_counted_as_zero_operation() -> None:
    # CLECAT Case A leg (WTW only, 75.075 kg on 500 SFD t·km) beside a leg whose user gives
    # both figures (WTW 100, TTW 80 g/t·km on 10 t × 100 km = 1000 t·km → 100 / 80 kg).
    # ISO 14083 reports total and operation emissions: the first leg has no operation figure,
    # so TTW/WTT totals must say they leave it out rather than count it as zero.
    legs = pl.DataFrame([
        leg(distance_km=50.0, intensity_wtw_g_per_tkm=143.0, intensity_basis="actual"),
        leg(leg_id="L2", distance_km=100.0, intensity_wtw_g_per_tkm=100.0,
            intensity_ttw_g_per_tkm=80.0),
    ])
    s = calculate(legs).summary
    assert s.wtw_t_co2e == pytest.approx((75.075 + 100.0) / 1000)
    assert s.ttw_t_co2e == pytest.approx(80.0 / 1000)
    assert s.n_legs_without_ttw_wtt_split == 1
    assert s.wtw_without_ttw_wtt_split_t_co2e == pytest.approx(75.075 / 1000)
    assert s.intensity_ttw_g_co2e_per_tkm is None
    (road,) = s.per_mode
    assert road.intensity_ttw_g_per_tkm is None


@pytest.mark.parametrize(("g_per_mj", "kg_per_l"), [(75.26, 2.680), (97.82, 3.483)])
def test_diesel_per_energy_to_per_litre(g_per_mj: float, kg_per_l: float) -> None:
    # CLECAT fuel table (pp. 53–54; tests/transport/SOURCE.md): LHV 42.8 MJ/kg, density
    # 0.832 kg/L, 75.26 g CO2e/MJ operation and 97.82 total → 2.680 and 3.483 kg CO2e/L. The
    # conversion the engine runs for a fuel amount in litres is factors.per_user_unit.
    from hesuan.standards.records import FactorRecord
    from hesuan.transport.factors import per_user_unit

    record = FactorRecord(
        dataset="clecat_guide", version="2024", id="diesel", activity="fuel/diesel",
        region="EU", scope="WTW", gas="CO2e", parameter="ef", value=g_per_mj,
        unit="g CO2e / MJ", gwp_set="AR5", distance_basis="", valid_year=2024,
        source="CLECAT guide", locator="pp. 53-54", notes="")
    assert per_user_unit(record, "CO2e", "L", 0.832, 42.8) == pytest.approx(kg_per_l, abs=5e-4)
