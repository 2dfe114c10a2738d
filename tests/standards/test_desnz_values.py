"""``desnz_ghg@2025`` checked against a *second* published statement of its numbers.

The values were read from the DESNZ 2025 full-set workbook. Here they are compared with what
other publications — or other, independently stated tables of the same publication — say
about them, never with themselves:

* DESNZ, "2025 Government greenhouse gas conversion factors for company reporting:
  Methodology paper" (June 2025) — cited below as "methodology paper", with section/table.
* IPCC 2006 Guidelines for National GHG Inventories, Vol. 2, Ch. 1, Table 1.4.
* Statements printed in the workbook's own guidance text (FAQ, 'Introduction' sheet) and
  its separate 'Fuel properties' table.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict

import pytest

from hesuan.standards import DATA_ROOT, FACTOR_COLUMNS, load_dataset
from hesuan.units import parse_unit

YEAR = "2025"
FOLDER = DATA_ROOT / "desnz_ghg" / YEAR

HGV = "freight.road.hgv_all_diesel"
REEFER = "freight.road.hgv_refrigerated_all_diesel"
HGV_CLASSES = (
    "rigid_3p5_7p5t",
    "rigid_7p5_17t",
    "rigid_gt17t",
    "all_rigids",
    "articulated_3p5_33t",
    "articulated_gt33t",
    "all_artics",
    "all_hgvs",
)
LOADS = ("laden_0", "laden_50", "laden_100", "average_laden")


@pytest.fixture(scope="module")
def ds():
    return load_dataset("desnz_ghg", YEAR)


def v(ds, factor_id: str) -> float:
    return ds.get(factor_id).value


# --------------------------------------------------------------------------- file format


def test_every_row_parses():
    with (FOLDER / "factors.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert tuple(header) == FACTOR_COLUMNS
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "ids must be unique"
    units = set()
    for r in rows:
        assert len(r) == len(header)
        row = dict(zip(header, r, strict=True))
        value = float(row["value"])
        assert math.isfinite(value) and value >= 0, row["id"]
        assert "e" not in row["value"].lower(), row["id"]  # plain decimal notation
        assert row["region"] == "GB" and row["valid_year"] == YEAR
        assert row["source"] and row["locator"].startswith("sheet '"), row["id"]
        units.add(row["unit"])
    for unit in units:
        parse_unit(unit)  # raises on anything pint + hesuan units cannot read
    assert units >= {
        "kg CO2e / tkm",
        "kg CO2e / L",
        "kg CO2e / kWh",
        "kg CO2e / t",
        "GJ / t",
        "kg / m**3",
    }


def test_manifest_licence_and_citation(ds):
    info = ds.info
    assert info.licence == "OGL-UK-3.0"
    assert info.redistributable is True
    assert info.attribution == (
        "Contains public sector information licensed under the Open Government Licence v3.0."
    )
    assert info.citation.startswith(
        "Department for Energy Security and Net Zero (2025). "
        "Greenhouse gas reporting: conversion factors 2025."
    )
    assert info.gwp_set == "AR5"


def test_record_api(ds):
    r = ds.get(f"{HGV}.articulated_gt33t.average_laden.ttw")
    assert r.unit == "kg CO2e / tkm"
    assert (r.gas, r.scope, r.parameter, r.distance_basis) == (
        "CO2e",
        "TTW",
        "emission_factor",
        "actual",
    )
    wtt = ds.get("fuel.diesel_average_biofuel_blend.per_kwh_net_cv.wtt")
    assert (wtt.scope, wtt.unit) == ("WTT", "kg CO2e / kWh")
    assert ds.get("fuel.diesel_average_biofuel_blend.net_cv").parameter == "net_calorific_value"


# ----------------------------------------------------------------- GWP and distance basis


def test_gwp_sets_follow_methodology_table_1(ds):
    # Methodology paper §1.17 Table 1: fuels, WTT fuels, electricity, T&D, freight land/sea/air
    # and their WTT are on an AR5 basis; Bioenergy and WTT Bioenergy are still AR4 (footnote 6).
    # The workbook's 'Introduction' sheet: "The GWPs used ... are based on ... AR5".
    bio = {"bioethanol", "biodiesel_me", "biodiesel_hvo", "wood_pellets", "biogas"}
    for r in ds:
        if r.parameter != "emission_factor":
            assert r.gwp_set == ""
            continue
        fuel = r.activity.split("/")[1] if r.activity.startswith("fuel/") else ""
        if fuel in bio:
            assert r.gwp_set == "AR4", r.id
        elif r.activity.startswith(("freight/", "electricity/")) or fuel == "diesel_100pct_mineral":
            assert r.gwp_set == "AR5", r.id


def test_distance_basis(ds):
    # Methodology paper §8.38-8.39 and the 'Freighting goods' FAQ: air freight factors already
    # include an 8 % uplift over great-circle distance, so they apply to GCD. Road (DfT survey
    # tkm/vkm), rail and sea (IMO) factors are per actual distance travelled.
    for r in ds.find(activity="freight"):
        if r.unit.endswith("/ tkm"):
            expected = "gcd" if r.activity.startswith("freight/air/") else "actual"
            assert r.distance_basis == expected, r.id
        else:  # per vehicle-km: not a t·km intensity
            assert r.unit == "kg CO2e / km" and r.distance_basis == "", r.id


# --------------------------------------------------------------------------- coverage


def test_every_freight_ttw_factor_has_its_wtt_partner(ds):
    ttw = [r.id for r in ds.find(activity="freight", scope="TTW", gas="CO2e")]
    assert len(ttw) >= 200
    missing = [i for i in ttw if i[: -len(".ttw")] + ".wtt" not in ds]
    assert not missing


REQUIRED = (
    *(f"{HGV}.{c}.{load}.ttw" for c in HGV_CLASSES for load in LOADS[1:]),
    *(f"{REEFER}.{c}.{load}.wtt" for c in HGV_CLASSES for load in LOADS[1:]),
    *(
        f"freight.air.{h}.{rf}.ttw"
        for h in ("domestic", "short_haul", "long_haul", "international_non_uk")
        for rf in ("with_rf", "without_rf")
    ),
    "freight.rail.freight_train.ttw",
    "freight.road.van_diesel.class_i.ttw",
    "freight.road.van_petrol.average.wtt",
    "freight.road.van_bev.class_iii.ttw",
    "freight.road.van_cng.average.ttw",
    "freight.road.van_lpg.average.ttw",
    "freight.road.van_phev.class_iii.ttw",
    "freight.sea.cargo_ship.container_ship.8000plus_teu.ttw",
    "freight.sea.cargo_ship.container_ship.0_to_999_teu.wtt",
    "freight.sea.cargo_ship.bulk_carrier.average.ttw",
    "freight.sea.cargo_ship.general_cargo.average.ttw",
    "freight.sea.cargo_ship.vehicle_transport.average.ttw",
    "freight.sea.cargo_ship.roro_ferry.average.ttw",
    "freight.sea.cargo_ship.large_ropax_ferry.average.ttw",
    "freight.sea.cargo_ship.refrigerated_cargo.all_dwt.ttw",
    "freight.sea.tanker.crude_tanker.average.ttw",
    "freight.sea.tanker.products_tanker.average.ttw",
    "freight.sea.tanker.chemical_tanker.average.wtt",
    "freight.sea.tanker.lng_tanker.average.ttw",
    "freight.sea.tanker.lpg_tanker.average.ttw",
    *(
        f"fuel.{f}.{u}.{s}"
        for f in (
            "diesel_average_biofuel_blend",
            "diesel_100pct_mineral",
            "petrol_average_biofuel_blend",
            "petrol_100pct_mineral",
            "cng",
            "lng",
            "lpg",
            "aviation_turbine_fuel",
            "fuel_oil",
            "gas_oil",
            "marine_gas_oil",
            "marine_fuel_oil",
            "burning_oil",
        )
        for u in ("per_litre", "per_tonne", "per_kwh_net_cv", "per_kwh_gross_cv")
        for s in ("ttw", "wtt")
    ),
    "fuel.biodiesel_hvo.per_litre.ttw",
    "fuel.biodiesel_hvo.per_litre.wtt",
    "fuel.biodiesel_me.per_litre.ttw",
    "fuel.biodiesel_hvo.net_cv",
    "electricity.grid.ttw",
    "electricity.grid.wtt",
    "electricity.grid.td_losses.ttw",
    "electricity.grid.td_losses.wtt",
)


def test_required_factors_present(ds):
    # Every class the 'Freighting goods' / 'WTT- delivery vehs & freight' sheets tabulate, and
    # the fuels the brief names, per unit and for both TTW and WTT.
    assert [i for i in REQUIRED if i not in ds] == []


# --------------------------------------------------------------------------- freight: road


# Methodology paper §6.3 Table 29 "Change in CO2 emissions caused by +/- 50% change in load
# from the average loading factor of 50%" (EU-ARTEMIS): rigid <7.5t ±8 %, 7.5-17t ±12.5 %,
# >17t ±18 %; articulated <33t ±20 %, >33t ±25 %.
TABLE_29 = {
    "rigid_3p5_7p5t": 0.08,
    "rigid_7p5_17t": 0.125,
    "rigid_gt17t": 0.18,
    "articulated_3p5_33t": 0.20,
    "articulated_gt33t": 0.25,
}


@pytest.mark.parametrize("vehicle", [HGV, REEFER])
@pytest.mark.parametrize(("size", "swing"), sorted(TABLE_29.items()))
def test_hgv_load_effect_matches_methodology_table_29(ds, vehicle, size, swing):
    b = f"{vehicle}.{size}"
    half = v(ds, f"{b}.laden_50.per_vkm.ttw.co2")
    assert v(ds, f"{b}.laden_100.per_vkm.ttw.co2") / half == pytest.approx(1 + swing, abs=2e-4)
    assert v(ds, f"{b}.laden_0.per_vkm.ttw.co2") / half == pytest.approx(1 - swing, abs=2e-4)
    # per t·km the payload doubles from 50 % to 100 % laden: ratio (1 + swing) / 2
    assert v(ds, f"{b}.laden_100.ttw.co2") / v(ds, f"{b}.laden_50.ttw.co2") == pytest.approx(
        (1 + swing) / 2, abs=2e-4
    )


@pytest.mark.parametrize("vehicle", [HGV, REEFER])
@pytest.mark.parametrize("scope", ["ttw", "wtt"])
def test_hgv_factors_linear_in_load(ds, vehicle, scope):
    # Methodology paper §6.6: "the effect of vehicle loading on CO2 emissions is linear with
    # load ... these factors can be linearly interpolated", so 50 % = mean(0 %, 100 %) per km;
    # the fleet-average load (35-80 %, §6.3) lies between empty and full.
    for size in HGV_CLASSES:
        b = f"{vehicle}.{size}"
        empty, half, full, avg = (v(ds, f"{b}.{load}.per_vkm.{scope}") for load in LOADS)
        assert half == pytest.approx((empty + full) / 2, abs=2e-5), size
        assert empty < avg < full, size


@pytest.mark.parametrize(
    ("size", "uplift"),
    [
        ("rigid_3p5_7p5t", 0.193),
        ("rigid_7p5_17t", 0.193),
        ("rigid_gt17t", 0.193),
        ("all_rigids", 0.193),
        ("articulated_3p5_33t", 0.159),
        ("articulated_gt33t", 0.159),
        ("all_artics", 0.159),
        ("all_hgvs", 0.173),
    ],
)
def test_refrigerated_hgv_uplift_matches_methodology(ds, size, uplift):
    # Methodology paper §6.4: refrigerated HGVs carry a 19.3 % (rigid) and 15.9 % (artic)
    # uplift, 17.3 % for the average factors.
    for load in LOADS:
        ratio = v(ds, f"{REEFER}.{size}.{load}.per_vkm.ttw.co2") / v(
            ds, f"{HGV}.{size}.{load}.per_vkm.ttw.co2"
        )
        assert ratio == pytest.approx(1 + uplift, abs=6e-4), load


def test_hgv_wtt_scales_with_diesel_wtt(ds):
    # Methodology paper §6.25: WTT factors for vans and HGVs apply the ratio of the fuel's WTT
    # factor to its direct CO2 factor ('Fuels' / 'WTT- fuels') to the vehicle's direct CO2.
    fuel_ratio = v(ds, "fuel.diesel_average_biofuel_blend.per_litre.wtt") / v(
        ds, "fuel.diesel_average_biofuel_blend.per_litre.ttw.co2"
    )
    for vehicle in (HGV, REEFER):
        for size in HGV_CLASSES:
            for load in LOADS:
                b = f"{vehicle}.{size}.{load}.per_vkm"
                ratio = v(ds, f"{b}.wtt") / v(ds, f"{b}.ttw.co2")
                assert ratio == pytest.approx(fuel_ratio, rel=0.015), b


def test_hgv_class_averages_lie_within_their_classes(ds):
    # 'All rigids' / 'All artics' / 'All HGVs' are fleet averages of the classes (§6.8-6.9).
    for load in LOADS:
        rig = [v(ds, f"{HGV}.{c}.{load}.per_vkm.ttw") for c in HGV_CLASSES[:3]]
        art = [v(ds, f"{HGV}.{c}.{load}.per_vkm.ttw") for c in HGV_CLASSES[4:6]]
        all_rig = v(ds, f"{HGV}.all_rigids.{load}.per_vkm.ttw")
        all_art = v(ds, f"{HGV}.all_artics.{load}.per_vkm.ttw")
        assert min(rig) <= all_rig <= max(rig)
        assert min(art) <= all_art <= max(art)
        assert (
            min(all_rig, all_art)
            <= v(ds, f"{HGV}.all_hgvs.{load}.per_vkm.ttw")
            <= max(all_rig, all_art)
        )


# --------------------------------------------------------------------------- freight: air


# Methodology paper §8.33 Table 46 "Final average CO2, CH4 and N2O conversion factors for air
# freight transport for 2025 (excluding distance and RF uplifts)", All Air Freight, kg CO2/tkm.
TABLE_46_CO2 = {"domestic": 2.49, "short_haul": 0.69, "long_haul": 0.49}


@pytest.mark.parametrize(("haul", "co2_ex_uplift"), sorted(TABLE_46_CO2.items()))
def test_air_freight_matches_table_46_with_8pct_distance_uplift(ds, haul, co2_ex_uplift):
    # §8.39: the 8 % great-circle uplift "is applied already to the conversion factors".
    without_rf = v(ds, f"freight.air.{haul}.without_rf.ttw.co2")
    assert round(without_rf / 1.08, 2) == pytest.approx(co2_ex_uplift)


@pytest.mark.parametrize("haul", ["domestic", "short_haul", "long_haul", "international_non_uk"])
def test_air_freight_radiative_forcing_multiplier(ds, haul):
    # §8.43-8.44 and the 'Freighting goods' guidance: RF multiplier 1.7 applied to the CO2
    # component only ("an increase of 70 %"), not to CH4 and N2O.
    b = f"freight.air.{haul}"
    assert v(ds, f"{b}.with_rf.ttw.co2") == pytest.approx(
        1.7 * v(ds, f"{b}.without_rf.ttw.co2"), rel=2e-5
    )
    for gas in ("ch4", "n2o"):
        assert v(ds, f"{b}.with_rf.ttw.{gas}") == v(ds, f"{b}.without_rf.ttw.{gas}")
    assert v(ds, f"{b}.with_rf.ttw") > v(ds, f"{b}.without_rf.ttw")


def test_international_air_freight_equals_long_haul(ds):
    # 'Freighting goods' FAQ: international (non-UK) freight factors "have been set equal to the
    # current UK, long-haul freight factors".
    for suffix in ("with_rf.ttw", "without_rf.ttw", "with_rf.wtt", "without_rf.wtt"):
        assert v(ds, f"freight.air.international_non_uk.{suffix}") == v(
            ds, f"freight.air.long_haul.{suffix}"
        )


# --------------------------------------------------------------------------- freight: sea


@pytest.mark.parametrize(
    "ship",
    [
        "tanker.crude_tanker",
        "tanker.products_tanker",
        "tanker.chemical_tanker",
        "tanker.lng_tanker",
        "tanker.lpg_tanker",
        "cargo_ship.bulk_carrier",
        "cargo_ship.general_cargo",
        "cargo_ship.container_ship",
        "cargo_ship.vehicle_transport",
        "cargo_ship.roro_ferry",
    ],
)
@pytest.mark.parametrize("scope", ["ttw", "wtt"])
def test_ship_average_lies_within_its_size_classes(ds, ship, scope):
    # An 'Average' row (IMO 2009 fleet average, methodology paper §7.12) is a weighted mean of
    # the size classes tabulated with it.
    prefix = f"freight/sea/{ship.replace('.', '/')}"
    sizes = [
        r.value
        for r in ds.find(activity=prefix, scope=scope.upper(), gas="CO2e")
        if not r.activity.endswith("/average")
    ]
    assert len(sizes) >= 2
    assert min(sizes) <= v(ds, f"freight.sea.{ship}.average.{scope}") <= max(sizes)


# --------------------------------------------------------------------------- gas split


def test_gas_components_sum_to_co2e(ds):
    # Workbook 'Introduction': the CO2, CH4 and N2O factors "sum to the total kg CO2e; however
    # ... some kg CO2e values may not align with the sum of the constituent GHGs due to
    # rounding".
    parts: dict[str, dict[str, float]] = defaultdict(dict)
    for r in ds:
        if r.parameter == "emission_factor":
            base = r.id[:-4] if r.id.endswith((".co2", ".ch4", ".n2o")) else r.id
            parts[base][r.gas] = r.value
    checked = 0
    for base, gases in parts.items():
        if {"CO2", "CH4", "N2O"} <= set(gases):
            total = gases["CO2"] + gases["CH4"] + gases["N2O"]
            assert total == pytest.approx(gases["CO2e"], rel=1e-4, abs=2e-5), base
            checked += 1
    assert checked > 300


# --------------------------------------------------------------------------- fuels


LIQUIDS = (
    "diesel_average_biofuel_blend",
    "diesel_100pct_mineral",
    "petrol_average_biofuel_blend",
    "petrol_100pct_mineral",
    "aviation_turbine_fuel",
    "aviation_spirit",
    "burning_oil",
    "fuel_oil",
    "gas_oil",
    "lpg",
    "lng",
    "cng",
    "butane",
    "propane",
    "other_petroleum_gas",
    "lubricants",
    "naphtha",
    "waste_oils",
)


def kwh_per_kg(ds, fuel: str, basis: str) -> float:
    return ds.get(f"fuel.{fuel}.{basis}_cv").value_in("kWh / kg")


@pytest.mark.parametrize("fuel", LIQUIDS)
@pytest.mark.parametrize("basis", ["net", "gross"])
def test_fuel_units_consistent_with_fuel_properties(ds, fuel, basis):
    # The 'Fuel properties' table (net/gross CV, density) is what DESNZ uses to express the
    # GHGI factors per kWh, tonne and litre (methodology paper §2.2, §2.7): per tonne =
    # per kWh × CV, per litre = per kWh × CV × density.
    per_kwh = v(ds, f"fuel.{fuel}.per_kwh_{basis}_cv.ttw")
    cv = kwh_per_kg(ds, fuel, basis)
    assert per_kwh * cv * 1000 == pytest.approx(v(ds, f"fuel.{fuel}.per_tonne.ttw"), rel=1e-3)
    density = ds.get(f"fuel.{fuel}.density").value_in("kg / L")
    assert per_kwh * cv * density == pytest.approx(v(ds, f"fuel.{fuel}.per_litre.ttw"), rel=1e-3)


@pytest.mark.parametrize(
    "fuel",
    [
        "diesel_average_biofuel_blend",
        "petrol_average_biofuel_blend",
        "natural_gas",
        "cng",
        "lng",
        "lpg",
        "gas_oil",
        "coking_coal",
    ],
)
def test_wtt_fuel_per_tonne_consistent_with_net_cv(ds, fuel):
    # Same unit relation for the 'WTT- fuels' sheet. Looser: some WTT factors are held from
    # earlier releases (methodology paper §1.16) and were converted with older properties.
    per_kwh = v(ds, f"fuel.{fuel}.per_kwh_net_cv.wtt")
    assert per_kwh * kwh_per_kg(ds, fuel, "net") * 1000 == pytest.approx(
        v(ds, f"fuel.{fuel}.per_tonne.wtt"), rel=6e-3
    )


# IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4, default CO2 emission factors for combustion,
# kg CO2/TJ on a net calorific value basis; compared with DESNZ kg CO2 per kWh (net CV).
IPCC_2006_KG_CO2_PER_TJ = {
    "diesel_100pct_mineral": 74_100,  # gas/diesel oil
    "gas_oil": 74_100,  # gas/diesel oil
    "petrol_100pct_mineral": 69_300,  # motor gasoline
    "aviation_turbine_fuel": 71_500,  # jet kerosene
    "aviation_spirit": 70_000,  # aviation gasoline
    "burning_oil": 71_900,  # other kerosene
    "fuel_oil": 77_400,  # residual fuel oil
    "lpg": 63_100,  # liquefied petroleum gases
    "natural_gas": 56_100,  # natural gas
    "petroleum_coke": 97_500,  # petroleum coke
}


@pytest.mark.parametrize(("fuel", "ipcc"), sorted(IPCC_2006_KG_CO2_PER_TJ.items()))
def test_fuel_co2_per_net_kwh_agrees_with_ipcc_2006(ds, fuel, ipcc):
    # DESNZ uses UK GHGI country-specific factors (methodology paper §2.5-2.6), which differ
    # from IPCC defaults by a few percent at most.
    desnz = ds.get(f"fuel.{fuel}.per_kwh_net_cv.ttw.co2").value_in("kg CO2e / TJ")
    assert desnz == pytest.approx(ipcc, rel=0.025)


# --------------------------------------------------------------------------- electricity


def test_uk_electricity_matches_methodology_table_9(ds):
    # Methodology paper Table 9 "Base electricity generation emissions factors (including
    # imported electricity)", data year 2023 (the basis of the 2025 factors), kg CO2e/kWh:
    # generated CO2 0.17489, CH4 0.00090, N2O 0.00122, total 0.17700; T&D losses CO2 0.01834,
    # CH4 0.00008, N2O 0.00011, total 0.01853; consumed total 0.19553.
    gen = {
        g: v(ds, f"electricity.grid.ttw{s}")
        for g, s in (("CO2e", ""), ("CO2", ".co2"), ("CH4", ".ch4"), ("N2O", ".n2o"))
    }
    td = {
        g: v(ds, f"electricity.grid.td_losses.ttw{s}")
        for g, s in (("CO2e", ""), ("CO2", ".co2"), ("CH4", ".ch4"), ("N2O", ".n2o"))
    }
    assert gen == pytest.approx({"CO2e": 0.17700, "CO2": 0.17489, "CH4": 0.00090, "N2O": 0.00122})
    assert td == pytest.approx({"CO2e": 0.01853, "CO2": 0.01834, "CH4": 0.00008, "N2O": 0.00011})
    # Table 9 note: EF(consumed) = EF(generated) + EF(losses)
    assert gen["CO2e"] + td["CO2e"] == pytest.approx(0.19553, abs=1e-5)
    for r in (ds.get("electricity.grid.wtt"), ds.get("electricity.grid.td_losses.wtt")):
        assert r.scope == "WTT" and 0 < r.value < gen["CO2e"]
