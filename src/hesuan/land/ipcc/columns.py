"""The columns of the IPCC strata tables (what :mod:`hesuan.land.ipcc.tables` reads).

They are plain data: ``hesuan land ipcc … --help`` prints them without importing the
calculators.
"""

from __future__ import annotations

from hesuan.land.ipcc.factors import CLIMATE_ZONES, SOIL_TYPES

FOREST_COLUMNS: dict[str, str] = {
    "stratum": "name of the stratum (text)",
    "area_ha": "[ha] forest area remaining forest",
    "domain": "tropical | subtropical | temperate | boreal",
    "ecological_zone": "Table 4.9 zone, e.g. rainforest, moist_deciduous, dry, oceanic",
    "continent": "Table 4.9 continent, e.g. africa, americas, asia_continental, europe",
    "age_class": "2006: le20 | gt20 | all; 2019: primary | secondary_le20 | secondary_gt20 | all",
    "above_ground_biomass_t_dm_per_ha": "[t d.m./ha] selects the R class of Table 4.4 "
                                        "(and is B_W of disturbed areas, Eq. 2.14)",
}

FOREST_OPTIONAL: dict[str, str] = {
    "forest_origin": "natural (Table 4.9, default) | plantation (Table 4.10)",
    "species": "plantations: eucalyptus | pinus | tectona_grandis | other_broadleaf | other",
    "r_ecological_zone": "Table 4.4 zone if it differs from ecological_zone (e.g. 2019 boreal)",
    "r_continent": "2019 Table 4.4 continent (africa, americas, asia, europe, oceania)",
    "r_origin": "2019 Table 4.4 origin (natural, planted, all); default natural",
    "vegetation": "Table 4.4 vegetation (all, conifers, quercus, eucalyptus, other_broadleaf)",
    "growth_t_dm_per_ha_yr": "[t d.m./ha/yr] G_W if known (overrides Table 4.9)",
    "root_shoot_ratio": "R if known (overrides Table 4.4)",
    "carbon_fraction": "[t C/t d.m.] CF if known (default Table 4.3: 0.47)",
    "removals_m3_per_yr": "[m3/yr] H, wood removals (default 0)",
    "fuelwood_trees_m3_per_yr": "[m3/yr] FG_trees (default 0)",
    "fuelwood_parts_m3_per_yr": "[m3/yr] FG_part (default 0)",
    "bcef_r_t_dm_per_m3": "[t d.m./m3] BCEF_R, required when removals or fuelwood trees > 0",
    "wood_density_t_dm_per_m3": "[t d.m./m3] D, required when fuelwood parts > 0",
    "disturbed_area_ha_per_yr": "[ha/yr] A_disturbance (default 0)",
    "disturbance_fraction": "fd, fraction of biomass lost (default 1)",
}

SOC_COLUMNS: dict[str, str] = {
    "stratum": "name of the stratum (text)",
    "area_ha": "[ha]",
    "climate_zone": ", ".join(CLIMATE_ZONES),
    "soil_type": ", ".join(SOIL_TYPES),
    "year_start": "first year of the inventory period",
    "year_end": "last year (T = year_end - year_start)",
    "before_land_use": "native | cropland | grassland (native: factors 1)",
    "before_f_lu": "level, e.g. long_term_cultivated (empty for native)",
    "before_f_mg": "level, e.g. full_tillage, improved (empty for native)",
    "before_f_i": "level, e.g. medium, high (empty for native)",
    "now_land_use": "native | cropland | grassland",
    "now_f_lu": "level", "now_f_mg": "level", "now_f_i": "level",
}

STOCK_DIFF_COLUMNS: dict[str, str] = {
    "stratum": "name of the stratum (text)",
    "area_ha": "[ha]",
    "year_t1": "year of the first inventory",
    "year_t2": "year of the second inventory (later)",
    "growing_stock_t1_m3_per_ha": "[m3/ha] V at t1",
    "growing_stock_t2_m3_per_ha": "[m3/ha] V at t2",
    "bcef_zone": "Table 4.5 zone: boreal | temperate | mediterranean_dry_tropical_subtropical "
                 "| humid_tropical",
    "forest_type": "Table 4.5 type, e.g. pines, larch, firs_and_spruces, hardwoods, "
                   "other_conifers, conifers, natural_forests",
    "domain": "Table 4.4 domain: tropical | subtropical | temperate | boreal",
    "ecological_zone": "Table 4.4 zone, e.g. oceanic, continental, coniferous",
}

STOCK_DIFF_OPTIONAL: dict[str, str] = {
    "vegetation": "Table 4.4 vegetation (all, conifers, quercus, eucalyptus, other_broadleaf)",
    "r_continent": "2019 Table 4.4 continent", "r_origin": "2019 Table 4.4 origin",
    "carbon_fraction": "[t C/t d.m.] CF if known (default Table 4.3: 0.47)",
}
