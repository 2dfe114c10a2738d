"""Default look-ups: the edition is explicit, class bounds and climate classes as declared."""

from __future__ import annotations

import pytest

from hesuan.errors import FactorNotFoundError, InputError
from hesuan.land.ipcc import factors as fx


def test_edition_switch_changes_soc_reference():
    # IPCC 2006 Table 2.3 vs 2019 Refinement Table 2.3 (warm temperate moist, HAC).
    assert fx.soc_reference("2006", "warm_temperate_moist", "hac").value == 88
    assert fx.soc_reference("2019", "warm_temperate_moist", "hac").value == 64
    assert fx.soc_reference("2019", "warm_temperate_moist", "hac").dataset == "ipcc2019_afolu"


def test_boreal_zones_use_the_single_boreal_column():
    for zone in ("boreal_dry", "boreal_moist"):
        assert fx.soc_reference("2006", zone, "sandy").value == 10
        assert fx.soc_reference("2019", zone, "spodic").value == 117


@pytest.mark.parametrize(
    ("edition", "zone", "expected"),
    [
        ("2006", "cool_temperate_moist", 1.15),   # Temperate/Boreal moist
        ("2006", "warm_temperate_moist", 1.15),   # same printed class in 2006
        ("2019", "cool_temperate_moist", 1.09),   # Cool temperate/Boreal moist
        ("2019", "warm_temperate_moist", 1.10),   # Warm temperate moist
        ("2006", "tropical_wet", 1.22),           # Tropical moist/wet
        ("2006", "tropical_montane", 1.16),
    ],
)
def test_no_till_climate_classes(edition, zone, expected):
    record = fx.stock_change_factor(edition, "cropland", "f_mg", "no_till", zone)
    assert record.value == pytest.approx(expected)


def test_all_climate_rows_apply_everywhere():
    for zone in ("boreal_dry", "tropical_montane", "warm_temperate_moist"):
        assert fx.stock_change_factor("2019", "cropland", "f_lu", "paddy_rice", zone).value == 1.35
        assert fx.stock_change_factor("2006", "cropland", "f_mg", "full_tillage", zone).value == 1


def test_root_shoot_boundary_falls_in_lower_class():
    # 2006 Table 4.4 temperate conifers "<50" 0.40, "50-150" 0.29, ">150" 0.20.
    r = fx.root_shoot_ratio
    assert r("2006", "temperate", "oceanic", 50.0, vegetation="conifers").value == 0.40
    assert r("2006", "temperate", "oceanic", 50.001, vegetation="conifers").value == 0.29
    assert r("2006", "temperate", "oceanic", 150.0, vegetation="conifers").value == 0.29
    assert r("2006", "temperate", "oceanic", 151.0, vegetation="conifers").value == 0.20
    assert r("2006", "temperate", "oceanic", 0.0, vegetation="conifers").value == 0.40
    # 2019 prints "<=125" / ">125": 125 is in the lower class, as printed.
    assert r("2019", "tropical", "moist_deciduous", 125.0, continent="asia",
             origin="natural").value == pytest.approx(0.323)
    assert r("2019", "tropical", "moist_deciduous", 125.5, continent="asia",
             origin="natural").value == pytest.approx(0.246)


def test_bcef_overlapping_growing_stock_classes():
    # 2006 Table 4.5 temperate pines BCEF_S: "41-100" 0.75, "100-200" 0.7, "21-40" 1.0.
    assert fx.bcef("2006", "s", "temperate", "pines", 100.0).value == 0.75
    assert fx.bcef("2006", "s", "temperate", "pines", 100.5).value == 0.7
    assert fx.bcef("2006", "s", "temperate", "pines", 20.5).value == 1.0
    assert fx.bcef("2006", "s", "temperate", "pines", 40.5).value == 0.75


def test_2019_reads_unchanged_tables_from_2006_and_says_so():
    assert fx.carbon_fraction("2019").key == "ipcc2006_afolu@2006:cf.all.all"
    assert fx.bcef("2019", "r", "boreal", "larch", 10).dataset == "ipcc2006_afolu"


def test_growth_age_classes_differ_by_edition():
    assert fx.net_growth("2006", "tropical", "rainforest", "africa", "le20").value == 10
    assert fx.net_growth("2019", "tropical", "rainforest", "africa", "secondary_le20").value == 7.6
    # A row with no age split falls back to its "all" row.
    assert fx.net_growth("2006", "temperate", "oceanic", "europe", "gt20").value == 2.3


def test_bad_edition_zone_soil_level():
    with pytest.raises(InputError, match="2006 or 2019"):
        fx.soc_reference("2013", "boreal_dry", "hac")
    with pytest.raises(InputError, match="climate_zone"):
        fx.soc_reference("2006", "temperate", "hac")
    with pytest.raises(InputError, match="hac, lac"):
        fx.soc_reference("2006", "boreal_dry", "clay")
    with pytest.raises(InputError, match="long_term_cultivated") as err:
        fx.stock_change_factor("2006", "cropland", "f_lu", "orchard", "tropical_dry")
    assert "f_lu" in str(err.value)


def test_cells_printed_na_or_not_shipped_raise_a_named_error():
    # 2006 Table 2.3 prints NA for spodic soils outside boreal/cool temperate moist.
    with pytest.raises(FactorNotFoundError, match="NA"):
        fx.soc_reference("2006", "tropical_wet", "spodic")
    # The suspect 2019 R of 0.825 is not shipped: the lookup says so instead of guessing.
    with pytest.raises(FactorNotFoundError, match="R for tropical/rainforest/africa"):
        fx.root_shoot_ratio("2019", "tropical", "rainforest", 100.0, continent="africa",
                            origin="natural")
    with pytest.raises(FactorNotFoundError):
        fx.soc_reference("2006", "polar_dry", "hac")


def test_plantation_growth_by_species_and_age():
    # 2006 Table 4.10 tropical dry forest, Africa, Pinus: >20 y 10, <=20 y 8; 2019: 9 and 6.
    g = fx.plantation_growth
    assert g("2006", "tropical", "dry", "africa", "pinus", "gt20").value == 10
    assert g("2006", "tropical", "dry", "africa", "pinus", "le20").value == 8
    assert g("2019", "tropical", "dry", "africa", "pinus", "gt20").value == 9
    assert g("2019", "tropical", "dry", "africa", "pinus", "le20").value == 6
    # Americas rows print no age split: the "all" row is used for any age.
    assert g("2006", "tropical", "rainforest", "americas", "tectona_grandis", "le20").value == 15
    # Asian moist deciduous prints no species: "all".
    assert g("2006", "tropical", "moist_deciduous", "asia", "eucalyptus", "gt20").value == 8
    with pytest.raises(FactorNotFoundError, match="plantation"):
        g("2006", "tropical", "rainforest", "europe", "pinus", "le20")


def test_2019_combined_zone_rows_accept_2006_zone_names():
    # 2019 Table 4.4 prints one row for boreal coniferous, tundra woodland and mountain.
    r = fx.root_shoot_ratio
    assert r("2019", "boreal", "tundra_woodland", 80.0).value == pytest.approx(0.24)
    assert r("2019", "boreal", "coniferous", 75.0).value == pytest.approx(0.39)
    assert r("2019", "temperate", "continental", 100.0, continent="asia", origin="natural",
             vegetation="conifers").value == pytest.approx(0.243)
