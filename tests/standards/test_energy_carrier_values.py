"""Energy-carrier datasets checked against a *second* published statement of each number.

``eu_fueleu_maritime@2023`` (FuelEU Maritime Annex II) and ``eu_red2@2018`` (RED II Annex III,
Annex V Part C) are compared with independent publications — IPCC 2006 default tables, the IMO
CO2 conversion factors, fuel standards, molar masses — never with themselves.
"""

from __future__ import annotations

import pytest

from hesuan.standards import load_dataset


@pytest.fixture(scope="module")
def fueleu():
    return load_dataset("eu_fueleu_maritime", "2023")


@pytest.fixture(scope="module")
def red2():
    return load_dataset("eu_red2", "2018")


def ttw_co2_g_per_mj(ds, key: str, lcv_key: str | None = None) -> float:
    """Cf CO2 (g CO2/g fuel) divided by LCV (MJ/g fuel): direct CO2 per MJ."""
    cf = ds.get(f"fuel.{key}.cf_co2").value_in("g CO2 / g")
    lcv = ds.get(f"fuel.{lcv_key or key}.lcv").value_in("MJ / g")
    return cf / lcv


# IPCC 2006 Guidelines, Vol. 2 (Energy), Ch. 1, Table 1.4 "Default CO2 emission factors for
# combustion" (kg CO2/TJ = g CO2/GJ; /1000 -> g CO2/MJ): residual fuel oil 77 400,
# gas/diesel oil 74 100, natural gas 56 100, liquefied petroleum gases 63 100.
@pytest.mark.parametrize(
    ("key", "ipcc_g_per_mj", "rel_tol"),
    [
        ("hfo", 77.4, 0.01),
        ("mgo", 74.1, 0.015),
        ("lng", 56.1, 0.01),
        ("lpg_propane", 63.1, 0.04),
    ],
)
def test_fueleu_cf_over_lcv_agrees_with_ipcc_2006(fueleu, key, ipcc_g_per_mj, rel_tol):
    # e.g. HFO: 3.114 g CO2/g ÷ 0.0405 MJ/g = 76.9 g CO2/MJ vs IPCC 77.4 (−0.7 %).
    assert ttw_co2_g_per_mj(fueleu, key) == pytest.approx(ipcc_g_per_mj, rel=rel_tol)


# IMO MEPC.308(73) / MEPC.364(79) (EEDI calculation guidelines), para 2.2.1 table of CF
# (t CO2 / t fuel): the same conversion factors as FuelEU Cf CO2, published by another body.
@pytest.mark.parametrize(
    ("key", "imo_cf"),
    [
        ("hfo", 3.114),
        ("lfo", 3.151),
        ("mgo", 3.206),
        ("lng", 2.750),
        ("lpg_propane", 3.000),
        ("lpg_butane", 3.030),
        ("methanol_fossil", 1.375),
        ("ethanol", 1.913),
    ],
)
def test_fueleu_cf_co2_equals_imo_cf(fueleu, key, imo_cf):
    assert fueleu.get(f"fuel.{key}.cf_co2").value_in("t CO2 / t") == pytest.approx(imo_cf, abs=5e-4)


# Stoichiometry (IUPAC standard atomic weights: C 12.011, H 1.008, O 15.999): complete
# combustion of a pure compound gives n_C × M(CO2) / M(fuel) g CO2 per g.
M_C, M_H, M_O = 12.011, 1.008, 15.999
M_CO2 = M_C + 2 * M_O


def stoich_cf(c: int, h: int, o: int) -> float:
    return c * M_CO2 / (c * M_C + h * M_H + o * M_O)


@pytest.mark.parametrize(
    ("key", "formula"),
    [
        ("lpg_propane", (3, 8, 0)),
        ("lpg_butane", (4, 10, 0)),
        ("methanol_fossil", (1, 4, 1)),
        ("methanol_bio", (1, 4, 1)),
        ("ethanol", (2, 6, 1)),
    ],
)
def test_fueleu_cf_co2_matches_stoichiometry(fueleu, key, formula):
    assert fueleu.get(f"fuel.{key}.cf_co2").value_in("g CO2 / g") == pytest.approx(
        stoich_cf(*formula), rel=0.003
    )


# IPCC 2006 Vol. 2, Ch. 1, Table 1.2 default net calorific values (TJ/Gg = MJ/kg):
# residual fuel oil 40.4, gas/diesel oil 43.0, natural gas 48.0, LPG 47.3.
@pytest.mark.parametrize(
    ("key", "ipcc_mj_per_kg", "rel_tol"),
    [("hfo", 40.4, 0.005), ("mgo", 43.0, 0.01), ("lng", 48.0, 0.03), ("lpg_propane", 47.3, 0.03)],
)
def test_fueleu_lcv_agrees_with_ipcc_ncv(fueleu, key, ipcc_mj_per_kg, rel_tol):
    assert fueleu.get(f"fuel.{key}.lcv").value_in("MJ / kg") == pytest.approx(
        ipcc_mj_per_kg, rel=rel_tol
    )


def gwp(red2, gas: str) -> float:
    return red2.get(f"gwp.{gas.lower()}").value_in("kg CO2e / kg")


def fueleu_wtw(fueleu, red2, key: str) -> float:
    """Annex I of FuelEU: WtW = WtT + (Cf_CO2 + GWP_CH4·Cf_CH4 + GWP_N2O·Cf_N2O) / LCV."""
    lcv = fueleu.get(f"fuel.{key}.lcv").value_in("MJ / g")
    ttw = (
        fueleu.get(f"fuel.{key}.cf_co2").value_in("g CO2 / g")
        + gwp(red2, "CH4") * fueleu.get(f"fuel.{key}.cf_ch4").value_in("g CH4 / g")
        + gwp(red2, "N2O") * fueleu.get(f"fuel.{key}.cf_n2o").value_in("g N2O / g")
    ) / lcv
    return fueleu.get(f"fuel.{key}.wtt").value_in("g CO2e / MJ") + ttw


def test_fueleu_reference_intensity_lies_between_oil_fuels(fueleu, red2):
    # FuelEU Art. 4(2): the 2020 fleet reference intensity is 91.16 g CO2e/MJ. A fleet burning
    # almost only HFO/VLSFO and MDO/MGO must average between the oils' default WtW intensities.
    intensities = [fueleu_wtw(fueleu, red2, k) for k in ("hfo", "lfo", "mgo")]
    assert min(intensities) < 91.16 < max(intensities)


def test_fueleu_lng_slip_ordering(fueleu):
    # Sanity check of the transcription, not a second statement of the values: low-pressure
    # Otto-cycle engines slip more methane than high-pressure diesel-cycle ones.
    slip = {k: fueleu.get(f"fuel.lng_{k}.cslip").value_in("percent")
            for k in ("otto_medium_speed", "lbsi", "otto_slow_speed", "diesel_slow_speed")}
    assert slip["otto_medium_speed"] > slip["lbsi"] > slip["otto_slow_speed"] > slip[
        "diesel_slow_speed"]


def test_fueleu_units_are_the_printed_ones(fueleu):
    r = fueleu.get("fuel.lng.lcv")
    assert (r.unit, r.parameter, r.gas, r.scope) == ("MJ / g", "net_calorific_value", "", "")
    w = fueleu.get("fuel.lng.wtt")
    assert (w.unit, w.scope, w.gas, w.gwp_set) == ("g CO2e / MJ", "WTT", "CO2e", "AR4")
    c = fueleu.get("fuel.hfo.cf_co2")
    assert (c.unit, c.scope, c.gas) == ("g CO2 / g", "TTW", "CO2")


def test_fueleu_vlsfo_penalty_equivalence_is_an_oil_lcv(fueleu):
    # 41 000 MJ/t sits between the LFO and MDO/MGO default LCVs of Annex II.
    v = fueleu.get("fuel.vlsfo.penalty_energy_equivalence").value_in("MJ / kg")
    assert fueleu.get("fuel.hfo.lcv").value_in("MJ / kg") < v <= fueleu.get(
        "fuel.lfo.lcv").value_in("MJ / kg")


# RED II Annex III (read in the OJ) prints the same hydrogen LCV (120 MJ/kg) as FuelEU Annex II.
def test_red2_hydrogen_lcv_equals_fueleu(fueleu, red2):
    assert red2.get("fuel.hydrogen_renewable.lcv").value_in("MJ / kg") == pytest.approx(
        fueleu.get("fuel.hydrogen_fossil.lcv").value_in("MJ / kg"))


# IPCC 2006 Vol. 2, Ch. 1, Table 1.2: gas/diesel oil 43.0 TJ/Gg, motor gasoline 44.3 TJ/Gg.
@pytest.mark.parametrize(
    ("key", "ipcc", "rel_tol"), [("diesel", 43.0, 0.005), ("gasoline", 44.3, 0.035)]
)
def test_red2_fossil_lcv_agrees_with_ipcc(red2, key, ipcc, rel_tol):
    assert red2.get(f"fuel.{key}.lcv").value_in("MJ / kg") == pytest.approx(ipcc, rel=rel_tol)


# Density implied by RED II (MJ/l ÷ MJ/kg) must fall inside the density limits at 15 °C of the
# fuel standards: EN 590 diesel 820–845 kg/m3, EN 228 petrol 720–775, EN 14214 FAME 860–900,
# EN 15940 paraffinic diesel (HVO) class A 765–800. RED II rounds to 2 significant figures, so
# allow ±1.5 % around the limits.
@pytest.mark.parametrize(
    ("key", "low", "high"),
    [("diesel", 0.820, 0.845), ("gasoline", 0.720, 0.775), ("biodiesel_fame", 0.860, 0.900),
     ("hvo100", 0.765, 0.800)],
)
def test_red2_implied_density_within_fuel_standard(red2, key, low, high):
    per_l = red2.get(f"fuel.{key}.lcv_vol").value_in("MJ / L")
    per_kg = red2.get(f"fuel.{key}.lcv").value_in("MJ / kg")
    density = per_l / per_kg
    assert low * 0.985 <= density <= high * 1.015


def test_red2_gwp_are_ipcc_ar4(red2):
    # IPCC AR4 WG1 (2007) Table 2.14, GWP 100-yr: CH4 25, N2O 298.
    assert gwp(red2, "CH4") == 25
    assert gwp(red2, "N2O") == 298
    assert gwp(red2, "CO2") == 1
    assert red2.get("gwp.ch4").gwp_set == "AR4"


@pytest.mark.parametrize(
    ("ds_id", "version"), [("eu_fueleu_maritime", "2023"), ("eu_red2", "2018")]
)
def test_every_record_cites_a_locator_and_is_redistributable(ds_id, version):
    ds = load_dataset(ds_id, version)
    assert ds.info.redistributable and ds.info.licence == "EU-reuse-2011/833"
    for r in ds:
        assert r.source and r.locator and r.activity.startswith(("fuel/", "gwp/"))
        assert r.activity.split("/")[1]  # the fuel key hesuan uses
