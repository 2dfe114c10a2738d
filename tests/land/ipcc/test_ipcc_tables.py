"""Strata tables: the bundled examples give the hand-checked numbers; bad rows are named."""

from __future__ import annotations

import pytest

from hesuan.errors import InputError
from hesuan.examples import path
from hesuan.land.ipcc.tables import (
    forest_gain_loss,
    forest_stock_difference,
    read_stocks,
    soc_change,
)


def test_forest_example_2006():
    frame = forest_gain_loss(path("land", "ipcc", "forest_strata_2006.csv"), "2006")
    rows = {r["stratum"]: r for r in frame.iter_rows(named=True)}
    young = rows["young_rainforest_africa"]
    # 1000 ha x G_W 10 (Table 4.9 Africa <=20 y) x (1 + R 0.37) x CF 0.47 = 6439 t C/yr
    assert young["gain_t_c_per_yr"] == pytest.approx(6439.0)
    assert young["co2_t_per_yr"] == pytest.approx(-6439.0 * 44 / 12)
    assert young["growth_source"] == "ipcc2006_afolu@2006:gw.tropical.rainforest.africa.le20"
    pine = rows["pine_continental"]
    # gain 5000 x 4.0 x 1.29 x 0.47 = 12 126; loss 10 000 x 0.77 x 1.29 x 0.47 = 4668.51
    assert pine["gain_t_c_per_yr"] == pytest.approx(12_126.0)
    assert pine["loss_t_c_per_yr"] == pytest.approx(4668.51)
    assert pine["change_t_c_per_yr"] == pytest.approx(7457.49)
    assert set(frame["edition"]) == {"2006"}


def test_forest_example_2019_names_edition_and_factors():
    frame = forest_gain_loss(path("land", "ipcc", "forest_strata_2019.csv"), "2019")
    young = frame.row(0, named=True)
    # 1000 ha x 7.6 x (1 + 0.532) x 0.47 = 5472.304 t C/yr (2019 Tables 4.9, 4.4; 2006 CF)
    assert young["gain_t_c_per_yr"] == pytest.approx(5472.304)
    assert young["root_shoot_source"].startswith("ipcc2019_afolu@2019:r.tropical.rainforest")
    assert young["carbon_fraction_source"] == "ipcc2006_afolu@2006:cf.all.all"


@pytest.mark.parametrize(
    ("edition", "notill", "paddy"),
    [
        # notill: 1000 ha x SOC_REF x 0.69 x (F_MG no-till - 1) / 20 yr
        #   2006: 88 x 0.69 x 0.15 x 1000 / 20 = 455.4;  2019: 64 x 0.69 x 0.10 x 1000 / 20 = 220.8
        # paddy from native over 30 yr (> D = 20, so / 30): 500 x SOC_REF x (F_LU - 1) / 30
        #   2006: 500 x 47 x 0.10 / 30 = 78.333;  2019: 500 x 38 x 0.35 / 30 = 221.667
        ("2006", 455.4, 78.3333333),
        ("2019", 220.8, 221.6666667),
    ],
)
def test_soc_example_edition_switch(edition, notill, paddy):
    frame = soc_change(path("land", "ipcc", "soc_strata.csv"), edition)
    rows = {r["stratum"]: r for r in frame.iter_rows(named=True)}
    assert rows["notill_maize"]["change_t_c_per_yr"] == pytest.approx(notill)
    assert rows["paddy_from_native"]["change_t_c_per_yr"] == pytest.approx(paddy)
    assert rows["paddy_from_native"]["transition_years"] == 20
    assert all(r["edition"] == edition for r in rows.values())


def write(tmp_path, text, name="in.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


SOC_HEADER = ("stratum,area_ha,climate_zone,soil_type,year_start,year_end,before_land_use,"
              "before_f_lu,before_f_mg,before_f_i,now_land_use,now_f_lu,now_f_mg,now_f_i\n")


def test_soc_bad_rows_named(tmp_path):
    p = write(tmp_path, SOC_HEADER
              + "a,ten,warm_temperate_moist,hac,2010,2020,native,,,,cropland,"
                "long_term_cultivated,full_tillage,medium\n"
              + "b,5,warm_temperate_moist,hac,2020,2010,native,,,,cropland,"
                "long_term_cultivated,full_tillage,medium\n"
              + "c,5,arctic,hac,2010,2020,native,,,,cropland,long_term_cultivated,"
                "full_tillage,medium\n"
              + "d,5,tropical_dry,hac,2010,2020,native,,,,cropland,long_term_cultivated,"
                "zero_till,medium\n")
    with pytest.raises(InputError) as err:
        soc_change(p, "2019")
    text = str(err.value)
    assert "line 2, field 'area_ha'" in text
    assert "line 3, field 'year_end'" in text
    assert "line 4, field 'climate_zone/soil_type'" in text
    assert "line 5, field 'now_f_mg'" in text and "no_till" in text


def test_missing_and_unknown_columns(tmp_path):
    with pytest.raises(InputError, match=r"soil_type': missing column"):
        soc_change(write(tmp_path, "stratum,area_ha,climate_zone\na,1,boreal_dry\n"), "2006")
    with pytest.raises(InputError, match=r"unknown column.*colour"):
        soc_change(write(tmp_path, SOC_HEADER.strip() + ",colour\n"), "2006")
    with pytest.raises(InputError, match="2006 or 2019"):
        soc_change(path("land", "ipcc", "soc_strata.csv"), "2013")
    with pytest.raises(InputError, match="line 2: 3 fields, the header has 2"):
        read_stocks(write(tmp_path, "class,carbon_t_c_per_ha\n1,2,3\n", "s.csv"))
    with pytest.raises(InputError, match="no data rows"):
        read_stocks(write(tmp_path, "class,carbon_t_c_per_ha\n", "e.csv"))


def test_forest_bad_rows_named(tmp_path):
    header = ("stratum,area_ha,domain,ecological_zone,continent,age_class,"
              "above_ground_biomass_t_dm_per_ha,removals_m3_per_yr\n")
    p = write(tmp_path, header
              + "a,10,tropical,rainforest,africa,le20,100,500\n"
              + "b,-1,tropical,rainforest,africa,le20,100,0\n"
              + "c,10,tropical,rainforest,mars,le20,100,0\n")
    with pytest.raises(InputError) as err:
        forest_gain_loss(p, "2006")
    text = str(err.value)
    assert "line 2, field 'bcef_r_t_dm_per_m3'" in text and "BCEF_R" in text
    assert "line 3, field 'area_ha'" in text
    assert "line 4, field 'ecological_zone/continent/age_class'" in text


def test_stocks_table(tmp_path):
    table = read_stocks(path("land", "ipcc", "stocks.csv"))
    assert table.carbon_t_c_per_ha[1] == 180 and table.names[4] == "settlement"
    assert table.soc_t_c_per_ha is None
    with pytest.raises(InputError) as err:
        read_stocks(write(tmp_path, "class,carbon_t_c_per_ha\nx,1\n2,abc\n2,3\n"))
    text = str(err.value)
    assert "line 2, field 'class'" in text and "line 3, field 'carbon_t_c_per_ha'" in text
    assert "line 4, field 'class'" in text and "twice" in text


def test_forest_plantation_rows(tmp_path):
    p = write(tmp_path, "stratum,area_ha,domain,ecological_zone,continent,age_class,"
              "above_ground_biomass_t_dm_per_ha,forest_origin,species\n"
              "teak,100,tropical,dry,americas,all,60,plantation,tectona_grandis\n"
              "x,100,tropical,dry,americas,all,60,orchard,\n")
    with pytest.raises(InputError, match="line 3, field 'forest_origin'"):
        forest_gain_loss(p, "2006")
    p = write(tmp_path, "stratum,area_ha,domain,ecological_zone,continent,age_class,"
              "above_ground_biomass_t_dm_per_ha,forest_origin,species\n"
              "teak,100,tropical,dry,americas,all,60,plantation,tectona_grandis\n", "p.csv")
    row = forest_gain_loss(p, "2006").row(0, named=True)
    # 100 ha x G_W 8 (Table 4.10 teak, Americas, tropical dry) x (1 + 0.28: Table 4.4 tropical
    # dry, AGB > 20) x 0.47 = 481.28 t C/yr
    assert row["growth_t_dm_per_ha_yr"] == 8
    assert row["gain_t_c_per_yr"] == pytest.approx(481.28)


@pytest.mark.parametrize(("edition", "pine_r", "pine_change"), [("2006", 0.29, 485.04),
                                                                 ("2019", 0.34, 503.84)])
def test_stock_difference_example(edition, pine_r, pine_change):
    frame = forest_stock_difference(path("land", "ipcc", "forest_inventory.csv"), edition)
    rows = {r["stratum"]: r for r in frame.iter_rows(named=True)}
    spruce = rows["spruce_boreal"]
    # V 90 m3/ha: Table 4.5 boreal firs/spruces 51-100 BCEF_S 0.58, AGB 52.2 -> R 0.39 (<75);
    # C1 = 2000 x 90 x 0.58 x 1.39 x 0.47 = 68 204.52 t C. V 110: >100 class 0.53, AGB 58.3;
    # C2 = 2000 x 110 x 0.53 x 1.39 x 0.47 = 76 174.78; (C2 - C1) / 10 = 797.026 t C/yr.
    assert spruce["stock_t1_t_c"] == pytest.approx(68_204.52)
    assert spruce["stock_t2_t_c"] == pytest.approx(76_174.78)
    assert spruce["change_t_c_per_yr"] == pytest.approx(797.026)
    pine = rows["pine_temperate"]
    # V = 100 m3/ha lies on the printed bound of "41-100" and "100-200": the lower class
    # (0.75) is used, as declared; 130 m3/ha uses 0.7. 2006 R 0.29 (conifers 50-150 t/ha);
    # 2019 R 0.34 (Europe, planted conifers <= 125 t/ha).
    assert pine["bcef_s_t1"] == 0.75 and pine["bcef_s_t2"] == 0.7
    assert pine["root_shoot_ratio_t1"] == pytest.approx(pine_r)
    assert pine["change_t_c_per_yr"] == pytest.approx(pine_change)


def test_stock_difference_bad_rows(tmp_path):
    header = ("stratum,area_ha,year_t1,year_t2,growing_stock_t1_m3_per_ha,"
              "growing_stock_t2_m3_per_ha,bcef_zone,forest_type,domain,ecological_zone\n")
    p = write(tmp_path, header
              + "a,10,2020,2010,90,110,boreal,firs_and_spruces,boreal,coniferous\n"
              + "b,10,2010,2020,90,110,boreal,oaks,boreal,coniferous\n")
    with pytest.raises(InputError) as err:
        forest_stock_difference(p, "2006")
    text = str(err.value)
    assert "line 2, field 'year_t2'" in text
    assert "line 3, field 'growing_stock_t1_m3_per_ha'" in text and "BCEF_S" in text
