"""Reference test: the Garzê Tibetan Autonomous Prefecture GEP of 2010.

Source: 白玛卓嘎 (Pema Dolkar), 肖燚, 欧阳志云, 王莉雁. 甘孜藏族自治州生态系统生产总值核算研究.
生态学报 (Acta Ecologica Sinica) 2017, 37(19): 6302–6312, doi:10.5846/stxb201607011362 —
Table 1 (areas), Table 3 (quantity, price and value of every indicator), Table 4 (values by
ecosystem type) and Sections 3.1–3.4; full text read on the ChinaXiv mirror
(DreamBlooms/ChinaXiv-201601-to-202209, md/ChinaXiv-201711.00120V1.md). The printed rows are
in ``cases/garze2010/`` (SOURCE.md lists every inconsistency the recomputation finds).

Every row of Table 3 is recomputed as quantity × price with the shipped study preset
``gep_garze2010@2017`` through :func:`hesuan.land.gep.compute_account`. Table 3 prints its
quantities rounded (10.03 亿 m³ …) and its values to 4 decimals from the unrounded
quantities, so a row agrees "to the paper's printed precision" when the value interval of the
printed quantity (± half its last digit) × price meets the printed value ± half its last digit.
"""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from pathlib import Path

import pytest

from hesuan.land.gep import QuantityRow, compute_account, equations
from hesuan.standards.gep_editions import load_gep_edition
from hesuan.units import convert

CASE = Path(__file__).parent / "cases" / "garze2010"
YI = 1e8


def _half_ulp(text: str) -> float:
    exponent = Decimal(text).as_tuple().exponent
    assert isinstance(exponent, int)
    return 0.5 * 10.0 ** exponent


@pytest.fixture(scope="module")
def edition():
    return load_gep_edition("gep_garze2010", "2017")


@pytest.fixture(scope="module")
def table3():
    with (CASE / "table3.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def printed_totals():
    with (CASE / "totals.csv").open(encoding="utf-8") as f:
        return {r["key"]: float(r["printed_yi_cny"]) for r in csv.DictReader(f)}


def _row(edition, r, quantity: float) -> QuantityRow:
    """The quantity row of Table 3 as printed (the sand mass in 万 t becomes the valued area
    inside the account, Eq. 6, with the preset's ρ and h)."""
    return QuantityRow("garze", 2010, r["ecosystem_type"], r["indicator"], quantity,
                       r["printed_unit"])


def _values(edition, table3, shift: float) -> dict[tuple[str, str], float]:
    """Recomputed values [亿元] with every printed quantity moved by ``shift`` half-ulps."""
    rows = [_row(edition, r, float(r["printed_quantity"])
                 + shift * _half_ulp(r["printed_quantity"])) for r in table3]
    account = compute_account(edition, rows)
    assert account.edition == "gep_garze2010@2017"
    return {(v.indicator, v.ecosystem_type): v.value_current.amount / YI for v in account.rows}


def test_every_row_of_table_3_is_quantity_times_price(edition, table3):
    low = _values(edition, table3, -1.0)
    high = _values(edition, table3, +1.0)
    central = _values(edition, table3, 0.0)
    for r in table3:
        key = (r["indicator"], r["ecosystem_type"])
        printed = float(r["printed_value_yi_cny"])
        tol = _half_ulp(r["printed_value_yi_cny"])
        assert low[key] - tol <= printed <= high[key] + tol, (key, low[key], printed, high[key])
        # and the recomputation from the rounded quantity is close in relative terms
        assert central[key] == pytest.approx(printed, rel=0.011, abs=0.0035), key


def test_rows_that_are_exact(edition, table3):
    """Rows whose printed quantity carries all the digits of the value are exact."""
    central = _values(edition, table3, 0.0)
    exact = {
        "provisioning.water_supply.agricultural": 17.31 * 0.07,
        "provisioning.hydropower.generation": 95.30 * 0.53,
        "regulating.air_purification.so2": 1137 * 1200 / YI,
        "regulating.air_purification.nox": 2772 * 630 / YI,
        "regulating.water_purification.cod": 5424 * 700 / YI,
        "regulating.water_purification.ammonia_n": 625 * 875 / YI,
    }
    for indicator, value in exact.items():
        assert central[(indicator, "")] == pytest.approx(value, rel=1e-12)
    assert central[("regulating.pest_control.area", "forest")] == pytest.approx(5.925, rel=1e-12)
    # sand: 779.42 万 t / (1.28 t/m³ · 0.1 m) = 60.89 km² (Section 3.2.3) × 3.75 元/m²
    assert central[("regulating.sand_fixation.area", "")] == pytest.approx(2.2835, abs=5e-5)
    sand = compute_account(edition, [_row(edition, {"ecosystem_type": "", "printed_unit":
                                                    "wan t", "indicator":
                                                    "regulating.sand_fixation.area"},
                                          779.42)]).rows[0]
    assert sand.net_quantity == pytest.approx(equations.sand_fixation_area_m2(
        779.42e4, 1.28, 0.1))
    assert convert(sand.net_quantity, "m**2", "km**2") == pytest.approx(60.89, abs=0.005)


def test_category_totals_and_gep(edition, table3, printed_totals):
    """Category totals from the printed 4-decimal row values, against the printed totals.

    Regulating, cultural and every service total agree to 2 decimals; provisioning and GEP
    do not (SOURCE.md, inconsistencies 1 and 2): the rows add up to 632.6488 and 7545.598,
    printed 632.64 and 7545.59 (the GEP printed is the sum of the printed category totals).
    """
    account = compute_account(edition, [_row(edition, r, float(r["printed_value_yi_cny"]))
                                        if r["printed_unit"] == "yi CNY"
                                        else _row(edition, r, float(r["printed_quantity"]))
                                        for r in table3])
    printed_rows = {(r["indicator"], r["ecosystem_type"]): float(r["printed_value_yi_cny"])
                    for r in table3}
    sums: dict[str, float] = {}
    for v in account.rows:
        p = printed_rows[(v.indicator, v.ecosystem_type)]
        for key in (v.category, "gep", v.service):
            sums[key] = sums.get(key, 0.0) + p
    sums["carbon_oxygen"] = sums["carbon_sequestration"] + sums["oxygen_release"]
    mismatched = {k for k, printed in printed_totals.items()
                  if abs(round(sums[k], 2) - printed) > 0.005}
    assert mismatched == {"provisioning", "gep"}
    assert sums["provisioning"] == pytest.approx(632.6488, abs=1e-9)
    assert sums["gep"] == pytest.approx(7545.598, abs=1e-9)
    assert round(sums["regulating"], 2) == 6842.28  # only with pest control among them
    assert sums["regulating"] - sums["pest_control"] == pytest.approx(6828.357, abs=1e-9)
    # the GEP the paper prints is the sum of its rounded category totals
    assert printed_totals["provisioning"] + printed_totals["regulating"] + \
        printed_totals["cultural"] == pytest.approx(printed_totals["gep"], abs=1e-9)
    # the livestock row: 22.0760 is printed 22.08 in Table 3 (as here) but 22.07 in the text
    # and in Table 4 (SOURCE.md, inconsistency 5)
    assert round(sums["livestock_products"], 2) == printed_totals["livestock_products"] == 22.08


def test_gep_recomputed_from_rounded_quantities_within_their_rounding(edition, table3):
    """GEP from the printed (rounded) quantities lies within the propagated rounding bound
    of the printed GEP, and the account carries the edition, currency and price year."""
    low = sum(_values(edition, table3, -1.0).values())
    high = sum(_values(edition, table3, +1.0).values())
    assert low - 0.005 <= 7545.59 <= high + 0.005
    rows = [_row(edition, r, float(r["printed_quantity"])) for r in table3]
    account = compute_account(edition, rows)
    gep = account.total("gep", "garze", 2010)
    assert gep.current.currency == "CNY" and gep.current.price_year == 2010
    assert gep.current.amount / YI == pytest.approx(7545.59, rel=2e-3)
    shares = {t.key: t.current.amount / gep.current.amount for t in account.by_category
              if t.key != "gep"}
    assert shares["regulating"] == pytest.approx(0.9068, abs=1e-3)   # 90.68 % (abstract)
    assert shares["provisioning"] == pytest.approx(0.0838, abs=1e-3)  # 8.38 %
    assert shares["cultural"] == pytest.approx(0.0094, abs=1e-3)      # 0.94 %


def test_carbon_price_basis_both_ways(edition):
    """The 380 元/t carbon price reproduces Table 3 only per t CO2 (the quantity is labelled
    固碳(CO2), Section 3.2.7). Valued per t C instead, the same 0.308828 亿 t CO2 (the quantity
    implied by the printed 117.3548) would be worth 32.0 亿元: the basis must be explicit."""
    co2_t = 117.3548 * YI / 380
    per_co2 = compute_account(edition, [QuantityRow(
        "garze", 2010, "", "regulating.carbon_sequestration.co2", co2_t, "t CO2")])
    assert per_co2.rows[0].value.amount / YI == pytest.approx(117.3548, abs=1e-9)
    # the same quantity given in t C converts through the carbon context, 44/12
    carbon_t = co2_t * 12 / 44
    as_c = compute_account(edition, [QuantityRow(
        "garze", 2010, "", "regulating.carbon_sequestration.co2", carbon_t, "t C")])
    assert as_c.rows[0].value.amount == pytest.approx(per_co2.rows[0].value.amount, rel=1e-12)
    # the alternative reading (380 元 per t C)
    per_c_value = carbon_t * 380 / YI
    assert per_c_value == pytest.approx(32.006, abs=1e-3)
    assert abs(per_c_value - 117.35) > 80


def test_physical_quantities_from_section_3(edition):
    """Section 3's derivations, recomputed with the shipped coefficients and equations."""
    c = edition.coefficient
    soil_t = 38.86 * YI  # 土壤保持总量 38.86 亿 t (Section 3.2.2)
    sediment = equations.sediment_volume_m3(soil_t, c("sediment_deposition_ratio").value,
                                            c("soil_bulk_density").value)
    assert sediment / YI == pytest.approx(10.03, abs=0.005)
    for element, printed in (("soil_n_content", 1437.94), ("soil_p_content", 419.72)):
        lo = equations.nutrient_retained_t(38.855 * YI, c(element).value) / 1e4
        hi = equations.nutrient_retained_t(38.865 * YI, c(element).value) / 1e4
        assert lo <= printed <= hi
    area = equations.sand_fixation_area_m2(779.42e4, c("sand_bulk_density").value,
                                           c("sand_cover_depth").value)
    assert area / 1e6 == pytest.approx(60.89, abs=0.005)  # 60.89 km²
    # reservoirs: total capacity ≈ 0.03 亿 m³ × 0.35 ≈ 0.01 亿 m³
    assert equations.reservoir_flood_capacity_m3(0.03 * YI, c("reservoir_flood_share").value) \
        / YI == pytest.approx(0.01, abs=0.005)
    # marshes: 6.00 亿 m³ at 0.3 m is ≈ 2000 km², ≈ 70 % of the wetland's 2864.27 km²
    marsh_km2 = 42.3436 / 7.06 * YI / (c("marsh_storage_depth").value * 1e6)
    assert equations.marsh_flood_capacity_m3(marsh_km2, 0.3) / YI == pytest.approx(5.9977,
                                                                                  abs=1e-4)
    assert marsh_km2 / 2864.27 == pytest.approx(0.70, abs=0.005)


def test_documented_inconsistencies_of_the_paper():
    """Each inconsistency SOURCE.md lists, shown from the printed numbers."""
    # 3. O2 released is 8.1 × the CO2 fixed; photosynthesis releases 32/44 t O2 per t CO2
    o2 = 1821.9182 / 727
    co2 = 117.3548 / 380
    assert o2 / co2 == pytest.approx(8.115, abs=1e-3)
    assert equations.oxygen_from_co2_t(co2) / o2 < 0.1
    # 4. grassland pest-control area 711.13 万 hm² is Table 1's grassland 71 113.87 km²
    #    = 711.1387 万 hm², truncated (711.14 if rounded); 8.0003 uses the full area
    assert pytest.approx(711.1387) == 71113.87 / 100 / 1e4 * 1e4
    assert round(711.1387 * 112.5 / 1e4, 4) == 8.0003
    assert round(711.13 * 112.5 / 1e4, 4) == 8.0002
    # 5. text vs table: water supply 545.35 (Section 3.1) vs 545.36 (Table 3)
    assert round(3.5400 + 540.6113 + 1.2117, 2) == 545.36
    # 6. lake value 17.15 (Section 3.2.4) vs 17.1430 (Table 3)
    assert round(17.1430, 2) == 17.14
    # 7. Table 4's wetland provisioning 595.90: water + hydropower + fishery = 595.9076
    assert round(545.363 + 50.509 + 0.0356, 2) == 595.91
    # 8. area: 15.26 万 km² in Section 1, 149 687.70 km² mapped in Table 1 (2 % less)
    areas = [31920.60, 32283.46, 71113.87, 2864.27, 1707.87, 74.53, 1259.91, 8463.19]
    assert math.fsum(areas) == pytest.approx(149687.70, abs=1e-6)
    assert pytest.approx(0.0195, abs=1e-3) == 152600 / 149687.70 - 1
    # 9. recreation: 70.6669 亿元 for 358.68 万 visits = 1970.2 元 per visit, 3.0 × the
    #    tourism revenue per visit (23.56 亿元 / 358.68 万 = 656.9 元): not recomputable
    assert pytest.approx(1970.2, abs=0.1) == 70.6669e8 / 358.68e4
    assert pytest.approx(656.9, abs=0.1) == 23.56e8 / 358.68e4
