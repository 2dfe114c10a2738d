"""IPCC AFOLU default tables checked against a SECOND published statement of each number.

The shipped values were read from the IPCC Emission Factor Database (EFDB). Here they are
compared with independent transcriptions of the same IPCC tables, never with themselves:

- JRC forest_puller (github.com/xapple/forest_puller, forest_puller/extra_data/
  ipcc_bcef_*.csv and ipcc_root_to_shoot_ratio.csv): 2006 Table 4.5 and Table 4.4;
  tree_species_info.csv (its transcription of 2006 Table 4.14, "See page 71"): basic wood
  density D of temperate and boreal taxa.
- FAO EX-ACT (github.com/un-fao/exact-django-webapp, djangoexact/ipcc/fixtures/*.json, 2019
  defaults; values read, nothing copied): croplandflu/fludata, croplandfmg, croplandfi,
  forestmanagementagbgrowth, grasslandstockexchangefactor.
- The edition changes listed in the project's reference notes (reference/land.md, from the
  2019 Refinement): SOC_REF warm temperate moist HAC 88 -> 64, cropland F_LU tropical moist
  0.48 -> 0.83, paddy rice 1.10 -> 1.35, no-till temperate moist 1.15 -> 1.10.
"""

from __future__ import annotations

import pytest

from hesuan.standards import load_dataset


@pytest.fixture(scope="module")
def ds06():
    return load_dataset("ipcc2006_afolu", "2006")


@pytest.fixture(scope="module")
def ds19():
    return load_dataset("ipcc2019_afolu", "2019")


# forest_puller ipcc_bcef_{boreal,temperate,mediterranean}.csv (IPCC 2006 Table 4.5).
@pytest.mark.parametrize(
    ("factor_id", "expected"),
    [
        ("bcef_s.boreal.pines.gs_0_20", 1.2),
        ("bcef_i.boreal.pines.gs_100_inf", 0.463),
        ("bcef_r.boreal.larch.gs_0_20", 1.35),
        ("bcef_s.boreal.firs_and_spruces.gs_50_100", 0.58),
        ("bcef_s.temperate.hardwoods.gs_0_20", 3.0),
        ("bcef_s.temperate.pines.gs_100_200", 0.7),
        ("bcef_i.temperate.pines.gs_100_200", 0.67),
        ("bcef_r.temperate.other_conifers.gs_200_inf", 0.77),
        ("bcef_s.mediterranean_dry_tropical_subtropical.conifers.gs_0_20", 6.0),
        ("bcef_i.mediterranean_dry_tropical_subtropical.conifers.gs_20_40", 0.4),
        ("bcef_r.mediterranean_dry_tropical_subtropical.hardwoods.gs_80_inf", 0.73),
    ],
)
def test_2006_bcef_matches_forest_puller(ds06, factor_id, expected):
    record = ds06.get(factor_id)
    assert record.value == pytest.approx(expected, abs=1e-12)
    assert record.unit == "t dm / m**3"  # BCEF, not a dimensionless BEF


# forest_puller ipcc_root_to_shoot_ratio.csv (IPCC 2006 Table 4.4).
@pytest.mark.parametrize(
    ("factor_id", "expected"),
    [
        ("r.temperate.oceanic.conifers.agb_0_50", 0.40),
        ("r.temperate.continental.conifers.agb_50_150", 0.29),
        ("r.temperate.mountain.conifers.agb_150_inf", 0.20),
        ("r.temperate.oceanic.quercus.agb_70_inf", 0.30),
        ("r.temperate.oceanic.eucalyptus.agb_0_50", 0.44),
        ("r.temperate.oceanic.other_broadleaf.agb_75_150", 0.23),
        ("r.boreal.coniferous.all.agb_0_75", 0.39),
        ("r.boreal.tundra_woodland.all.agb_75_inf", 0.24),
        ("r.subtropical.dry.all.agb_0_20", 0.56),
        ("r.subtropical.dry.all.agb_20_inf", 0.28),
    ],
)
def test_2006_root_shoot_matches_forest_puller(ds06, factor_id, expected):
    assert ds06.get(factor_id).value == pytest.approx(expected, abs=1e-12)


# forest_puller extra_data/tree_species_info.csv (IPCC 2006 Vol. 4 Table 4.14, p. 4.71); where
# forest_puller gives a genus (larix, picea, fagus) the IPCC row is its species.
@pytest.mark.parametrize(
    ("factor_id", "expected"),
    [
        ("wd.abies", 0.40), ("wd.acer", 0.52), ("wd.alnus", 0.45), ("wd.betula", 0.51),
        ("wd.fagus_sylvatica", 0.58), ("wd.fraxinus", 0.57), ("wd.larix_decidua", 0.46),
        ("wd.picea_abies", 0.40), ("wd.pinus_pinaster", 0.44), ("wd.pinus_radiata", 0.38),
        ("wd.pinus_strobus", 0.32), ("wd.pinus_sylvestris", 0.42), ("wd.populus", 0.35),
        ("wd.prunus", 0.49), ("wd.pseudotsuga_menziesii", 0.45), ("wd.quercus", 0.58),
        ("wd.salix", 0.45), ("wd.tilia", 0.43),
    ],
)
def test_2006_wood_density_matches_forest_puller(ds06, factor_id, expected):
    record = ds06.get(factor_id)
    assert record.value == pytest.approx(expected, abs=1e-12)
    assert record.parameter == "wood_density" and record.unit == "t dm / m**3"
    assert "Table 4.14" in record.locator and "p. 4.71" in record.locator


def test_2006_wood_density_tables_are_complete_and_plausible(ds06):
    wd = [r for r in ds06 if r.parameter == "wood_density"]
    temperate = [r for r in wd if "Table 4.14" in r.locator]
    tropical = [r for r in wd if "Table 4.13" in r.locator]
    # EFDB lists 25 taxa for Table 4.14 (GPG-LULUCF Table 3A.1.9-1's 24 and Pinus radiata)
    assert len(temperate) == 25 and len(tropical) + len(temperate) == len(wd)
    assert all(r.id.endswith((".tropical_asia", ".tropical_america", ".tropical_africa"))
               for r in tropical)
    # basic densities of stemwood lie in 0.2-1.2 t d.m. per green m3 (Table 4.13's range)
    assert all(0.2 <= r.value <= 1.2 for r in wd)
    # the notes claim a second transcription for exactly the 18 rows tested above
    confirmed = {r.id for r in temperate if "no second transcription" not in r.notes}
    assert len(confirmed) == 18 and "wd.larix_kaempferi" not in confirmed
    # a cell printed with several values is not shipped (dataset notes, "Wood density")
    assert "wd.tectona_grandis.tropical_asia" not in ds06
    assert "Tectona grandis, Asia '0.50,0.55'" in ds06.info.notes


# EX-ACT fixtures of 2019 defaults (IPCC 2019 Refinement Tables 5.5, 6.2, 4.9).
@pytest.mark.parametrize(
    ("factor_id", "expected", "exact"),
    [
        ("cropland.f_lu.long_term_cultivated.cool_temperate_boreal_dry", 0.77, "croplandflu"),
        ("cropland.f_lu.long_term_cultivated.cool_temperate_boreal_moist", 0.70, "croplandflu"),
        ("cropland.f_lu.long_term_cultivated.warm_temperate_dry", 0.76, "fludata"),
        ("cropland.f_lu.long_term_cultivated.warm_temperate_moist", 0.69, "fludata"),
        ("cropland.f_lu.long_term_cultivated.tropical_moist", 0.83, "fludata"),
        ("cropland.f_lu.paddy_rice.all", 1.35, "croplandflu"),
        ("cropland.f_mg.reduced_tillage.cool_temperate_boreal_dry", 0.98, "croplandfmg"),
        ("cropland.f_mg.no_till.cool_temperate_boreal_moist", 1.09, "croplandfmg"),
        ("cropland.f_mg.no_till.warm_temperate_moist", 1.10, "croplandfmg"),
        ("cropland.f_i.high_with_manure.temperate_boreal_tropical_moist", 1.44, "croplandfi"),
        ("grassland.f_mg.improved.temperate_boreal", 1.14, "grasslandstockexchangefactor"),
        ("grassland.f_mg.improved.tropical", 1.17, "grasslandstockexchangefactor"),
        ("grassland.f_mg.improved.tropical_montane", 1.16, "grasslandstockexchangefactor"),
        ("grassland.f_i.high.all", 1.11, "grasslandstockexchangefactor"),
        ("gw.tropical.rainforest.africa.secondary_le20", 7.6, "forestmanagementagbgrowth"),
        ("gw.tropical.rainforest.africa.secondary_gt20", 3.5, "forestmanagementagbgrowth"),
    ],
)
def test_2019_values_match_exact(ds19, factor_id, expected, exact):
    assert ds19.get(factor_id).value == pytest.approx(expected, abs=1e-12), exact


# reference/land.md: the 2019 Refinement changed these defaults (edition is an input).
@pytest.mark.parametrize(
    ("factor_id_2006", "value_2006", "factor_id_2019", "value_2019"),
    [
        ("soc_ref.warm_temperate_moist.hac", 88, "soc_ref.warm_temperate_moist.hac", 64),
        ("cropland.f_lu.long_term_cultivated.tropical_moist", 0.48,
         "cropland.f_lu.long_term_cultivated.tropical_moist", 0.83),
        ("cropland.f_lu.paddy_rice.all", 1.10, "cropland.f_lu.paddy_rice.all", 1.35),
        ("cropland.f_mg.no_till.temperate_boreal_moist", 1.15,
         "cropland.f_mg.no_till.warm_temperate_moist", 1.10),
    ],
)
def test_edition_changes(ds06, ds19, factor_id_2006, value_2006, factor_id_2019, value_2019):
    assert ds06.get(factor_id_2006).value == pytest.approx(value_2006)
    assert ds19.get(factor_id_2019).value == pytest.approx(value_2019)


def test_default_carbon_fraction_is_047(ds06):
    # IPCC 2006 Vol. 4 Ch. 4 Table 4.3 default CF, also stated in reference/land.md.
    assert ds06.get("cf.all.all").value == pytest.approx(0.47)
    assert ds06.get("cf.all.all").unit == "t C / t dm"


def test_suspect_rows_are_not_shipped(ds19):
    # The root-to-shoot 0.825 (2019 Table 4.4, Africa tropical rainforest <=125) is flagged,
    # not shipped; no R in the dataset is that value.
    assert all(r.value != 0.825 for r in ds19 if r.parameter == "root_shoot_ratio")
    assert "0.825" in ds19.info.notes


def test_every_record_names_table_and_efdb_id(ds06, ds19):
    for ds in (ds06, ds19):
        for record in ds:
            assert "Table" in record.locator
            assert "EF ID" in record.notes
            assert record.valid_year == int(ds.info.version)
