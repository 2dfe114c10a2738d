"""IPCC Tier 1 land carbon: gain-loss and stock-difference biomass, mineral-soil carbon,
land-use-change matrices, with the 2006 Guidelines or the 2019 Refinement defaults.

The edition is always an explicit argument and every result names it. Equations:
:mod:`hesuan.land.ipcc.equations`; default look-ups: :mod:`hesuan.land.ipcc.factors`;
tables of strata: :mod:`hesuan.land.ipcc.tables`; rasters: :mod:`hesuan.land.ipcc.transitions`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hesuan.land.ipcc.equations import (
        CO2_PER_C,
        DEFAULT_SOC_TRANSITION_YEARS,
        biomass_carbon_stock_t_c,
        biomass_gain_t_c_per_yr,
        biomass_loss_t_c_per_yr,
        co2_emission_t,
        disturbance_loss_t_c_per_yr,
        fuelwood_loss_t_c_per_yr,
        gain_loss_biomass_change_t_c_per_yr,
        soc_change_t_c_per_yr,
        soc_stock_t_c,
        stock_difference_change_t_c_per_yr,
        total_growth_from_increment_t_dm_per_ha_yr,
        total_growth_from_net_growth_t_dm_per_ha_yr,
        wood_removal_loss_t_c_per_yr,
    )
    from hesuan.land.ipcc.factors import (
        CLIMATE_ZONES,
        EDITIONS,
        SOIL_TYPES,
        Edition,
        bcef,
        carbon_fraction,
        net_growth,
        plantation_growth,
        root_shoot_ratio,
        soc_reference,
        stock_change_factor,
    )
    from hesuan.land.ipcc.transitions import (
        TransitionAnalysis,
        TransitionEmissions,
        TransitionMatrix,
        analyse_transitions,
        transition_emissions,
        transition_matrix,
    )

_HOME = {
    "CO2_PER_C": "equations",
    "DEFAULT_SOC_TRANSITION_YEARS": "equations",
    "biomass_carbon_stock_t_c": "equations",
    "biomass_gain_t_c_per_yr": "equations",
    "biomass_loss_t_c_per_yr": "equations",
    "co2_emission_t": "equations",
    "disturbance_loss_t_c_per_yr": "equations",
    "fuelwood_loss_t_c_per_yr": "equations",
    "gain_loss_biomass_change_t_c_per_yr": "equations",
    "soc_change_t_c_per_yr": "equations",
    "soc_stock_t_c": "equations",
    "stock_difference_change_t_c_per_yr": "equations",
    "total_growth_from_increment_t_dm_per_ha_yr": "equations",
    "total_growth_from_net_growth_t_dm_per_ha_yr": "equations",
    "wood_removal_loss_t_c_per_yr": "equations",
    "CLIMATE_ZONES": "factors",
    "EDITIONS": "factors",
    "SOIL_TYPES": "factors",
    "Edition": "factors",
    "bcef": "factors",
    "carbon_fraction": "factors",
    "net_growth": "factors",
    "plantation_growth": "factors",
    "root_shoot_ratio": "factors",
    "soc_reference": "factors",
    "stock_change_factor": "factors",
    "TransitionAnalysis": "transitions",
    "TransitionEmissions": "transitions",
    "TransitionMatrix": "transitions",
    "analyse_transitions": "transitions",
    "transition_emissions": "transitions",
    "transition_matrix": "transitions",
}
"""Where each public name lives: imported on first use, so that the column declarations
(:mod:`hesuan.land.ipcc.columns`) load without NumPy, Polars or rasterio."""

__all__ = [
    "CLIMATE_ZONES", "CO2_PER_C", "DEFAULT_SOC_TRANSITION_YEARS", "EDITIONS", "SOIL_TYPES",
    "Edition", "TransitionAnalysis", "TransitionEmissions", "TransitionMatrix",
    "analyse_transitions", "bcef", "biomass_carbon_stock_t_c",
    "biomass_gain_t_c_per_yr", "biomass_loss_t_c_per_yr", "carbon_fraction",
    "co2_emission_t", "disturbance_loss_t_c_per_yr", "fuelwood_loss_t_c_per_yr",
    "gain_loss_biomass_change_t_c_per_yr", "net_growth", "plantation_growth",
    "root_shoot_ratio",
    "soc_change_t_c_per_yr", "soc_reference", "soc_stock_t_c", "stock_change_factor",
    "stock_difference_change_t_c_per_yr", "total_growth_from_increment_t_dm_per_ha_yr",
    "total_growth_from_net_growth_t_dm_per_ha_yr", "transition_emissions",
    "transition_matrix", "wood_removal_loss_t_c_per_yr",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"hesuan.land.ipcc.{_HOME[name]}"), name)
    raise AttributeError(f"module 'hesuan.land.ipcc' has no attribute {name!r}")
