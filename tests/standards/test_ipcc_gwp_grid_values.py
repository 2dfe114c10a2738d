"""Shipped IPCC and China-grid values checked against a *second* published statement.

Each test compares dataset values with a number printed somewhere else than the table the
value was read from (an IPCC worked example, a regulator's table, a news report of the
announcement) or with an identity the source itself states (Table 1.4 derived from
Table 1.3; Table 3.2.1 taken from Table 1.4; blends as mass-weighted sums). No test reads a
cell and compares it with itself.
"""

from __future__ import annotations

import pytest

from hesuan.standards import load_dataset


def _v(dataset: str, version: str, factor_id: str) -> float:
    return load_dataset(dataset, version).get(factor_id).value


# ----------------------------------------------------------------------------- IPCC 2006


def test_diesel_co2_per_kg_matches_ipcc_worked_value():
    # IPCC 2006 Vol. 2: 74 100 kg CO2/TJ (Table 1.4) x 43.0 TJ/Gg (Table 1.2)
    # = 3.186 kg CO2 per kg of gas/diesel oil — the figure widely quoted from the Guidelines.
    ef = _v("ipcc2006_energy", "2006", "co2.combustion.gas_diesel_oil")  # kg CO2 / TJ
    ncv = _v("ipcc2006_energy", "2006", "ncv.gas_diesel_oil")  # TJ / Gg = MJ / kg
    assert ef * ncv / 1e6 == pytest.approx(3.186, abs=0.0005)


@pytest.mark.parametrize(
    "fuel",
    ["motor_gasoline", "gas_diesel_oil", "jet_kerosene", "aviation_gasoline", "lpg",
     "natural_gas", "residual_fuel_oil", "other_bituminous_coal", "lignite"],
)
def test_table_1_4_co2_equals_table_1_3_carbon_times_44_over_12(fuel):
    # Vol. 2 Ch. 1 Sec. 1.4.2.1: the default CO2 factors of Table 1.4 are the carbon contents
    # of Table 1.3 x 44/12 (oxidation factor 1), rounded to three significant figures.
    carbon = _v("ipcc2006_energy", "2006", f"carbon_content.{fuel}")  # kg C / GJ
    co2 = _v("ipcc2006_energy", "2006", f"co2.combustion.{fuel}")  # kg CO2 / TJ
    assert co2 == pytest.approx(carbon * 44 / 12 * 1000, rel=0.005)


@pytest.mark.parametrize(
    ("road", "chapter1"),
    [("motor_gasoline", "motor_gasoline"), ("gas_diesel_oil", "gas_diesel_oil"),
     ("lpg", "lpg"), ("kerosene", "other_kerosene"), ("lubricants", "lubricants"),
     ("cng", "natural_gas"), ("lng", "natural_gas")],
)
def test_road_table_3_2_1_equals_chapter_1_table_1_4(road, chapter1):
    # Vol. 2 Ch. 3 Sec. 3.2.1: road CO2 factors assume full oxidation "for consistency with
    # the Stationary Combustion Chapter" and are the fuel carbon content x 44/12, i.e. the
    # Chapter 1 defaults. The two were read from different transcriptions
    # (transitionelements.org for Table 3.2.1, the IPCC EFDB for Table 1.4).
    assert _v("ipcc2006_energy", "2006", f"road.co2.{road}") == _v(
        "ipcc2006_energy", "2006", f"co2.combustion.{chapter1}"
    )


def test_energy_units_and_gases():
    ds = load_dataset("ipcc2006_energy", "2006")
    assert ds.get("ncv.jet_kerosene").unit == "TJ / Gg"
    assert ds.get("road.n2o.gas_diesel_oil").gas == "N2O"
    assert ds.get("aviation.ch4.jet_kerosene").parameter == "emission_factor"
    assert ds.get("co2.combustion.jet_kerosene").value_in("g CO2 / MJ") == pytest.approx(71.5)


# ----------------------------------------------------------------------------- GWP-100

# Mass shares (%), ANSI/ASHRAE Standard 34-2019 as transcribed in openscm-units
# (src/openscm_units/data/mixtures.py).
BLENDS = {
    "R-404A": {"HFC-125": 44, "HFC-143a": 52, "HFC-134a": 4},
    "R-407C": {"HFC-32": 23, "HFC-125": 25, "HFC-134a": 52},
    "R-410A": {"HFC-32": 50, "HFC-125": 50},
    "R-452A": {"HFC-32": 11, "HFC-125": 59, "HFO-1234yf": 30},
    "R-507A": {"HFC-125": 50, "HFC-143a": 50},
}


def _blend(version: str, blend: str) -> float:
    ds = load_dataset("ipcc_gwp100", version)
    return sum(ds.get(f"gwp.{gas.lower()}").value * share / 100
               for gas, share in BLENDS[blend].items())


@pytest.mark.parametrize(
    ("blend", "quoted"),
    # ISO 14083 practical guide, AR6 GWP-100 values quoted for refrigerants.
    [("R-410A", 2255.5), ("R-404A", 4728.0), ("R-452A", 2291.6)],
)
def test_ar6_blends_from_components_match_iso14083_guide(blend, quoted):
    assert _blend("AR6", blend) == pytest.approx(quoted, abs=0.05)


@pytest.mark.parametrize(
    ("gas", "quoted"),
    # ISO 14083 practical guide: R-134a 1530, R-32 771, R-744 1 (AR6).
    [("HFC-134a", 1530), ("HFC-32", 771), ("R-744", 1)],
)
def test_ar6_single_gases_match_iso14083_guide(gas, quoted):
    assert _v("ipcc_gwp100", "AR6", f"gwp.{gas.lower()}") == quoted


@pytest.mark.parametrize("blend", ["R-404A", "R-410A", "R-507A"])
def test_ar4_blend_rows_equal_mass_weighted_components(blend):
    # The shipped AR4 blend GWPs (GOV.UK F-gas table) against the components' AR4 GWPs
    # (IPCC AR4 Table 2.14 via the GHG Protocol table) weighted by the ASHRAE 34 shares.
    shipped = _v("ipcc_gwp100", "AR4", f"gwp.{blend.lower()}")
    assert shipped == pytest.approx(_blend("AR4", blend), rel=0.01)


@pytest.mark.parametrize(
    ("gas", "quoted"),
    # GOV.UK "Calculate the carbon dioxide equivalent quantity of an F gas" table (AR4):
    # SF6 22,800; HFC 23 14,800; HFC 143a 4,470; HFC 125 3,500; HFC 227ea 3,220.
    # NetRegs (SEPA/NIEA) F-gas page: CH4 25, N2O 298, HFC-134a 1,430, PFC-14 7,390.
    [("SF6", 22800), ("HFC-23", 14800), ("HFC-143a", 4470), ("HFC-125", 3500),
     ("HFC-227ea", 3220), ("CH4", 25), ("N2O", 298), ("HFC-134a", 1430), ("CF4", 7390)],
)
def test_ar4_values_match_uk_regulator_tables(gas, quoted):
    assert _v("ipcc_gwp100", "AR4", f"gwp.{gas.lower()}") == quoted


@pytest.mark.parametrize(
    ("gas", "quoted"),
    # Australia, National Greenhouse and Energy Reporting Regulations 2008, reg. 2.02
    # (AR5 GWPs): CH4 28, N2O 265, SF6 23,500, HFC-23 12,400, HFC-32 677, HFC-125 3,170,
    # HFC-134a 1,300, HFC-143a 4,800, HFC-152a 138, HFC-227ea 3,350, CF4 6,630.
    [("CH4", 28), ("N2O", 265), ("SF6", 23500), ("HFC-23", 12400), ("HFC-32", 677),
     ("HFC-125", 3170), ("HFC-134a", 1300), ("HFC-143a", 4800), ("HFC-152a", 138),
     ("HFC-227ea", 3350), ("CF4", 6630)],
)
def test_ar5_values_match_australian_nger_regulation(gas, quoted):
    assert _v("ipcc_gwp100", "AR5", f"gwp.{gas.lower()}") == quoted


def test_gwp_records_are_co2e_per_kg_and_tagged():
    for version in ("AR4", "AR5", "AR6"):
        for record in load_dataset("ipcc_gwp100", version):
            assert record.parameter == "gwp"
            assert record.unit == "kg CO2e / kg"
            assert record.gwp_set == version
            assert record.scope == ""
    ar6 = load_dataset("ipcc_gwp100", "AR6")
    # AR6 Table 7.15: fossil methane above non-fossil (CO2 from oxidation of fossil carbon).
    assert ar6.get("gwp.ch4_fossil").value > ar6.get("gwp.ch4_non_fossil").value


# ----------------------------------------------------------------------------- China grid


def test_cn_national_average_2022_and_2021():
    # Beijing News (新京报), 26 Dec 2024, on the MEE/NBS announcement: 2022 national average
    # 0.5366 kgCO2/kWh, "0.0202 lower than 2021's 0.5568, a fall of 3.6 %".
    v2022 = load_dataset("cn_grid", "2024-12").get("grid.average.CN")
    v2021 = load_dataset("cn_grid", "2024-04").get("grid.average.CN")
    assert (v2022.valid_year, v2021.valid_year) == (2022, 2021)
    assert v2022.value == 0.5366 and v2021.value == 0.5568
    assert v2021.value - v2022.value == pytest.approx(0.0202, abs=1e-9)
    assert 1 - v2022.value / v2021.value == pytest.approx(0.036, abs=0.0005)


@pytest.mark.parametrize(
    ("region", "quoted"),
    # Beijing News report on the 2022 factors: North 0.6776 (highest), Southwest 0.2268
    # (lowest), Northwest 0.5857, East 0.5617, Northeast 0.5564, Central 0.5395,
    # South 0.3869; Hebei 0.7252, Shanxi 0.7096, Tianjin 0.7041, Inner Mongolia 0.6849,
    # Anhui 0.6782 (top five), Fujian 0.4092, Guangxi 0.4044, Qinghai 0.1567,
    # Sichuan 0.1404, Yunnan 0.1073 (bottom five).
    [("CN-north", 0.6776), ("CN-southwest", 0.2268), ("CN-northwest", 0.5857),
     ("CN-east", 0.5617), ("CN-northeast", 0.5564), ("CN-central", 0.5395),
     ("CN-south", 0.3869), ("CN-HE", 0.7252), ("CN-SX", 0.7096), ("CN-TJ", 0.7041),
     ("CN-NM", 0.6849), ("CN-AH", 0.6782), ("CN-FJ", 0.4092), ("CN-GX", 0.4044),
     ("CN-QH", 0.1567), ("CN-SC", 0.1404), ("CN-YN", 0.1073)],
)
def test_cn_2022_regions_and_provinces_match_news_report(region, quoted):
    assert load_dataset("cn_grid", "2024-12").get(f"grid.average.{region}").value == quoted


def test_cn_2022_provincial_ranking_matches_news_report():
    # The same report: Hebei highest and Yunnan lowest of the provinces, Yunnan < 14.8 % of Hebei.
    provinces = [r for r in load_dataset("cn_grid", "2024-12")
                 if r.activity == "electricity/grid/average/provincial"]
    assert len(provinces) == 30
    ranked = sorted(provinces, key=lambda r: r.value)
    assert (ranked[0].region, ranked[-1].region) == ("CN-YN", "CN-HE")
    assert ranked[0].value / ranked[-1].value < 0.148


def test_cn_grid_rows_are_co2_only_without_scope():
    for version in ("2023", "2024-04", "2024-12"):
        for record in load_dataset("cn_grid", version):
            assert record.gas == "CO2"
            assert record.scope == ""
            assert "not WTW CO2e" in record.notes
    ets = load_dataset("cn_grid", "2023").get("grid.ets_reporting.CN")
    assert ets.value_in("kg CO2 / kWh") == pytest.approx(0.5703)
