"""hesuan against the numerical examples printed in the IPCC 2006 Guidelines.

Source: IPCC 2006, 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 4
(AFOLU), Ch. 5 "Cropland" (V4_05_Ch5_Cropland.pdf): Example 1 of Section 5.2.1.4 (p. 5.11),
the Example of Section 5.2.3.4 (p. 5.22) and the Example of Section 5.3.3.4 (p. 5.39). Inputs,
printed results, tolerances (half a unit of the last printed digit) and locators are in
``cases/ipcc2006_ch5_examples/`` (see its SOURCE.md). Each example is recomputed twice where
it can be: through hesuan's table / raster API with its shipped 2006 defaults (so the factor
look-ups are checked too), and through the bare equations with the factors the example prints.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from hesuan.land.ipcc import equations as eq
from hesuan.land.ipcc import factors as fx
from hesuan.land.ipcc.tables import read_stocks, soc_change
from hesuan.land.ipcc.transitions import transition_emissions, transition_matrix

CASES = Path(__file__).parent / "cases" / "ipcc2006_ch5_examples"


def _expected() -> dict[tuple[str, str], tuple[float, float]]:
    with (CASES / "expected.csv").open(newline="", encoding="utf-8") as handle:
        return {(r["example"], r["quantity"]): (float(r["printed"]), float(r["tolerance"]))
                for r in csv.DictReader(handle)}


EXPECTED = _expected()


def printed(example: str, quantity: str) -> object:
    """The printed value as ``pytest.approx`` with the tolerance its digits imply."""
    value, tolerance = EXPECTED[(example, quantity)]
    return pytest.approx(value, abs=tolerance, rel=0)


# --- Section 5.2.3.4, p. 5.22: Cropland Remaining Cropland, mineral soils (Eq. 2.25) -------

def test_cropland_remaining_cropland_soc_table_matches_ipcc_example():
    """IPCC 2006 Vol. 4 Ch. 5 Section 5.2.3.4, Example (p. 5.22): 1 Mha of annual cropland,
    warm temperate moist (printed 'wet'), Mollisols (HAC), 1990 -> 2000: 58.78 and 64.06
    million t C, 5.28 Mt / 20 yr = 264 000 t C/yr. Through ``soc_change`` with the shipped
    2006 Table 2.3 and Table 5.5 defaults."""
    frame = soc_change(CASES / "cropland_remaining_cropland_soc.csv", "2006")
    assert frame["area_ha"].sum() == pytest.approx(1_000_000.0)
    assert frame["soc_before_t_c"].sum() == printed("5.2.3.4", "soc_before_t_c")
    assert frame["soc_now_t_c"].sum() == printed("5.2.3.4", "soc_now_t_c")
    change_t_c = frame["soc_now_t_c"].sum() - frame["soc_before_t_c"].sum()
    assert change_t_c == printed("5.2.3.4", "soc_change_t_c")
    # T = 10 yr < D = 20 yr: the example divides by 20, as hesuan's max(D, T) does.
    assert set(frame["inventory_years"]) == {10.0}
    assert set(frame["transition_years"]) == {20.0}
    assert frame["change_t_c_per_yr"].sum() == printed("5.2.3.4", "change_t_c_per_yr")
    # The defaults the example prints are the ones hesuan looked up.
    assert set(frame["soc_ref_t_c_per_ha"]) == {88.0}
    assert set(frame["soc_ref_source"]) == {"ipcc2006_afolu@2006:soc_ref.warm_temperate_moist.hac"}
    factors = dict(zip(frame["stratum"], zip(frame["factors_before"], frame["factors_now"],
                                             strict=True), strict=True))
    assert factors["low_full_stays"] == (pytest.approx(0.69 * 0.92), pytest.approx(0.69 * 0.92))
    assert factors["medium_full_to_reduced_medium"] == (pytest.approx(0.69),
                                                         pytest.approx(0.69 * 1.08))
    assert factors["medium_full_to_notill_medium"][1] == pytest.approx(0.69 * 1.15)


def test_cropland_remaining_cropland_soc_equations_with_printed_factors():
    """Same example (IPCC 2006 Vol. 4 Ch. 5, p. 5.22) through Eq. 2.25 alone, with the factors
    as printed in the example: 88 t C/ha, F_LU 0.69, F_I low 0.92, F_MG reduced 1.08 and
    no-till 1.15."""
    before = (eq.soc_stock_t_c(88.0, 0.69, 1.0, 0.92, 400_000.0)
              + eq.soc_stock_t_c(88.0, 0.69, 1.0, 1.0, 600_000.0))
    now = (eq.soc_stock_t_c(88.0, 0.69, 1.0, 0.92, 200_000.0)
           + eq.soc_stock_t_c(88.0, 0.69, 1.08, 1.0, 700_000.0)
           + eq.soc_stock_t_c(88.0, 0.69, 1.15, 1.0, 100_000.0))
    assert before == printed("5.2.3.4", "soc_before_t_c")
    assert now == printed("5.2.3.4", "soc_now_t_c")
    assert eq.soc_change_t_c_per_yr(now, before, 10.0) == printed("5.2.3.4", "change_t_c_per_yr")
    assert eq.DEFAULT_SOC_TRANSITION_YEARS == 20.0  # "20 years is the time dependence"


# --- Section 5.3.3.4, p. 5.39: Forest Land converted to Cropland, mineral soils -------------

def test_forest_to_cropland_soc_table_matches_ipcc_example():
    """IPCC 2006 Vol. 4 Ch. 5 Section 5.3.3.4, Example (p. 5.39): forest on volcanic soil,
    tropical moist, SOC_REF 70; to annual cropland with full tillage and low input:
    70 x 0.48 x 1 x 0.92 = 30.9 t C/ha; (30.9 - 70) / 20 = -2.0 t C/ha/yr."""
    row = soc_change(CASES / "forest_to_cropland_soc.csv", "2006").row(0, named=True)
    assert row["area_ha"] == 1.0
    assert row["soc_before_t_c"] == printed("5.3.3.4", "soc_before_t_c_per_ha")
    assert row["soc_now_t_c"] == printed("5.3.3.4", "soc_now_t_c_per_ha")
    assert row["change_t_c_per_yr"] == printed("5.3.3.4", "change_t_c_per_ha_yr")
    assert row["soc_ref_source"] == "ipcc2006_afolu@2006:soc_ref.tropical_moist.volcanic"
    assert row["factors_before_sources"] == "native: F_LU = F_MG = F_I = 1"
    # A loss of soil carbon is a CO2 emission (positive).
    assert row["co2_t_per_yr"] == pytest.approx(-row["change_t_c_per_yr"] * 44.0 / 12.0)
    assert row["co2_t_per_yr"] > 0


def test_forest_to_cropland_factor_lookups_are_the_printed_ones():
    """The three defaults of the p. 5.39 example, looked up as hesuan does (Tables 2.3, 5.5)."""
    assert fx.soc_reference("2006", "tropical_moist", "volcanic").value == 70.0
    lookups = {("f_lu", "long_term_cultivated"): 0.48, ("f_mg", "full_tillage"): 1.0,
               ("f_i", "low"): 0.92}
    for (factor, level), value in lookups.items():
        rec = fx.stock_change_factor("2006", "cropland", factor, level, "tropical_moist")
        assert rec.value == value, rec.key


def _write(path: Path, array: np.ndarray) -> Path:
    # 100 m pixels in a metric CRS: each pixel is exactly 1 ha.
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0],
                       count=1, dtype=array.dtype, crs="EPSG:32650", nodata=255,
                       transform=Affine(100, 0, 500000, 0, -100, 3000000)) as dst:
        dst.write(array, 1)
    return path


def _forest_to_cropland_maps(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The p. 5.39 example as maps: 3 of 4 one-hectare pixels go from forest (class 1) to
    annual cropland (class 2); the stock table gives the soil factors of the example."""
    before = _write(tmp_path / "before.tif", np.array([[1, 1], [1, 1]], dtype=np.uint8))
    after = _write(tmp_path / "after.tif", np.array([[1, 2], [2, 2]], dtype=np.uint8))
    table = tmp_path / "stocks.csv"
    table.write_text("class,name,carbon_t_c_per_ha,soil_land_use,soil_f_lu,soil_f_mg,soil_f_i\n"
                     "1,forest,0,native,,,\n"
                     "2,annual crop,0,cropland,long_term_cultivated,full_tillage,low\n",
                     encoding="utf-8")
    return before, after, table


@pytest.mark.parametrize("years", [10.0, 20.0])
def test_forest_to_cropland_through_transition_matrix(tmp_path, years):
    """The p. 5.39 example (IPCC 2006 Vol. 4 Ch. 5 Section 5.3.3.4) on a land-use change map:
    3 ha of forest (class 1) become annual cropland (class 2), 1 ha stays forest. The soil pool
    comes from the IPCC defaults via ``read_stocks``; spread over max(D = 20, T) years, the
    rate is the example's -2.0 t C/ha/yr for any map interval T <= 20."""
    before, after, table = _forest_to_cropland_maps(tmp_path)
    stocks = read_stocks(table, edition="2006", climate_zone="tropical_moist",
                         soil_type="volcanic")
    assert stocks.soc_t_c_per_ha is not None
    assert stocks.soc_t_c_per_ha[1] == printed("5.3.3.4", "soc_before_t_c_per_ha")
    assert stocks.soc_t_c_per_ha[2] == printed("5.3.3.4", "soc_now_t_c_per_ha")
    matrix = transition_matrix(before, after, (1, 2))
    em = transition_emissions(matrix, stocks.carbon_t_c_per_ha, years,
                              soc_t_c_per_ha=stocks.soc_t_c_per_ha)
    pairs = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(em.from_class, em.to_class,
                                                                strict=True))}
    i = pairs[(1, 2)]
    assert em.area_ha[i] == pytest.approx(3.0)
    assert em.soc_change_t_c_per_yr[i] / em.area_ha[i] == printed("5.3.3.4",
                                                                   "change_t_c_per_ha_yr")
    assert em.soc_change_t_c_per_yr[pairs[(1, 1)]] == 0.0


# --- Section 5.2.1.4, Example 1, p. 5.11: perennial woody cropland, gain-loss (Eq. 2.7) ----

def test_perennial_woody_cropland_gain_loss_matches_ipcc_example():
    """IPCC 2006 Vol. 4 Ch. 5 Section 5.2.1.4, Example 1 (p. 5.11): 90 000 ha of perennial
    woody crops, tropical moist, accumulate G = 2.6 t C/ha/yr; 10 000 ha harvested lose
    L = 21 t C/ha (Table 5.1, p. 5.9): 234 000 t C gained, 210 000 lost, net 24 000 t C/yr
    by Eq. 2.7. The Table 5.1 rates are already carbon, so CF = 1 and R = 0 (the example
    counts above-ground biomass only); the harvest is a stand-replacing loss (Eq. 2.14,
    fd = 1)."""
    gain = eq.biomass_gain_t_c_per_yr(90_000.0, 2.6, 1.0)
    loss = eq.biomass_loss_t_c_per_yr(0.0, 0.0, eq.disturbance_loss_t_c_per_yr(
        10_000.0, 21.0, 0.0, 1.0, 1.0))
    assert gain == printed("5.2.1.4", "gain_t_c_per_yr")
    assert loss == printed("5.2.1.4", "loss_t_c_per_yr")
    assert eq.gain_loss_biomass_change_t_c_per_yr(gain, loss) == printed("5.2.1.4",
                                                                         "change_t_c_per_yr")


def test_forest_to_cropland_through_analyse_transitions(tmp_path):
    """The p. 5.39 example (IPCC 2006 Vol. 4 Ch. 5 Section 5.3.3.4) through
    ``analyse_transitions``, the API behind ``hesuan land ipcc transitions``: 3 ha of forest
    on tropical moist volcanic soil become annual cropland (full tillage, low input) between
    maps 10 years apart; soil change -2.0 t C/ha/yr, reported as a CO2 emission."""
    from hesuan.land.ipcc import analyse_transitions

    before, after, table = _forest_to_cropland_maps(tmp_path)
    result = analyse_transitions(before, after, table, (2000, 2010), edition="2006",
                                 climate_zone="tropical_moist", soil_type="volcanic")
    s = result.summary
    assert s.changed_area_ha == pytest.approx(3.0)
    assert s.soc_change_t_c_per_yr / 3.0 == printed("5.3.3.4", "change_t_c_per_ha_yr")
    assert s.co2_t_per_yr == pytest.approx(-s.soc_change_t_c_per_yr * 44.0 / 12.0)
    assert s.soil_pool is not None
    assert s.soil_pool.sources["1"].startswith(
        "ipcc2006_afolu@2006:soc_ref.tropical_moist.volcanic")
    row = result.emissions_frame.filter(result.emissions_frame["to_class"] == 2).row(
        0, named=True)
    assert row["soc_to_t_c_per_ha"] == printed("5.3.3.4", "soc_now_t_c_per_ha")
    assert row["from_name"] == "forest" and row["to_name"] == "annual crop"
    assert result.matrix_frame["to_2"].to_list() == [pytest.approx(3.0), pytest.approx(0.0)]


# --- Table 5.5 (pp. 5.17-5.18) as printed, against the shipped 2006 records -----------------

#: IPCC 2006 Vol. 4 Ch. 5 Table 5.5, "Relative stock change factors (F_LU, F_MG and F_I) (over
#: 20 years) for different management activities on cropland", pp. 5.17-5.18, read from the
#: PDF named in cases/ipcc2006_ch5_examples/SOURCE.md: (factor, level, printed climate class)
#: -> IPCC default. A hesuan climate zone stands for each printed class.
TABLE_5_5_PRINTED: dict[tuple[str, str, str], float] = {
    ("f_lu", "long_term_cultivated", "cool_temperate_dry"): 0.80,   # Temperate/Boreal, dry
    ("f_lu", "long_term_cultivated", "warm_temperate_moist"): 0.69,  # Temperate/Boreal, moist
    ("f_lu", "long_term_cultivated", "tropical_dry"): 0.58,
    ("f_lu", "long_term_cultivated", "tropical_wet"): 0.48,         # Tropical, moist/wet
    ("f_lu", "long_term_cultivated", "tropical_montane"): 0.64,
    ("f_lu", "paddy_rice", "boreal_moist"): 1.10,                   # All
    ("f_lu", "perennial_tree_crop", "tropical_dry"): 1.00,          # All
    ("f_lu", "set_aside", "boreal_dry"): 0.93,                      # Temp./Boreal and Tropical, dry
    ("f_lu", "set_aside", "tropical_moist"): 0.82,                  # ... moist/wet
    ("f_lu", "set_aside", "tropical_montane"): 0.88,
    ("f_mg", "full_tillage", "warm_temperate_dry"): 1.00,           # All
    ("f_mg", "reduced_tillage", "warm_temperate_dry"): 1.02,
    ("f_mg", "reduced_tillage", "cool_temperate_moist"): 1.08,
    ("f_mg", "reduced_tillage", "tropical_dry"): 1.09,
    ("f_mg", "reduced_tillage", "tropical_moist"): 1.15,
    ("f_mg", "reduced_tillage", "tropical_montane"): 1.09,
    ("f_mg", "no_till", "boreal_dry"): 1.10,
    ("f_mg", "no_till", "boreal_moist"): 1.15,
    ("f_mg", "no_till", "tropical_dry"): 1.17,
    ("f_mg", "no_till", "tropical_wet"): 1.22,
    ("f_mg", "no_till", "tropical_montane"): 1.16,
    ("f_i", "low", "cool_temperate_dry"): 0.95,
    ("f_i", "low", "warm_temperate_moist"): 0.92,
    ("f_i", "low", "tropical_dry"): 0.95,
    ("f_i", "low", "tropical_moist"): 0.92,
    ("f_i", "low", "tropical_montane"): 0.94,
    ("f_i", "medium", "tropical_montane"): 1.00,                    # All
    ("f_i", "high_without_manure", "warm_temperate_dry"): 1.04,     # Temp./Boreal and Tropical
    ("f_i", "high_without_manure", "tropical_wet"): 1.11,
    ("f_i", "high_without_manure", "tropical_montane"): 1.08,
    ("f_i", "high_with_manure", "tropical_dry"): 1.37,
    ("f_i", "high_with_manure", "boreal_moist"): 1.44,
    ("f_i", "high_with_manure", "tropical_montane"): 1.41,
}


def test_table_5_5_printed_values_are_the_shipped_defaults():
    """Every numeric cell of IPCC 2006 Vol. 4 Ch. 5 Table 5.5 (33 values, pp. 5.17-5.18),
    looked up through ``stock_change_factor`` for a climate zone of its printed class."""
    assert len(TABLE_5_5_PRINTED) == 33
    wrong = {}
    for (factor, level, zone), value in TABLE_5_5_PRINTED.items():
        rec = fx.stock_change_factor("2006", "cropland", factor, level, zone)
        if rec.value != value:
            wrong[rec.key] = (rec.value, value)
    assert not wrong, f"shipped vs printed: {wrong}"
    # And no cropland record is shipped that the printed table does not have.
    shipped = [r for r in fx.dataset("2006") if r.id.startswith("cropland.")]
    assert len(shipped) == 33
