"""IPCC Tier 1 equations for biomass and mineral-soil carbon: one equation, one function.

Every function takes and returns plain floats or NumPy arrays (broadcasting) in the units
its docstring states; none reads factors itself (see :mod:`hesuan.land.ipcc.factors`).
Signs follow the IPCC: a positive stock change is a gain of carbon (a removal from the
atmosphere); :func:`co2_emission_t` turns a stock change into a CO2 emission, negative for
removals, as inventories report it.

References
----------
IPCC 2006, 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 4 (AFOLU),
Ch. 2 "Generic methodologies applicable to multiple land-use categories", Equations 2.7-2.14
(biomass) and 2.25 (mineral soils); the 2019 Refinement, Vol. 4 Ch. 2, keeps these equation
forms (it changes default tables, not these equations).
"""

from __future__ import annotations

from typing import TypeVar, cast

import numpy as np
from numpy.typing import NDArray

Number = TypeVar("Number", float, NDArray[np.float64])

#: CO2 per carbon mass, exactly 44/12 [t CO2 / t C] (IPCC 2006 Vol. 4 Ch. 2, Section 2.2.3,
#: conversion of C stock changes to CO2; molar masses of CO2 and C rounded to 44 and 12).
#: Not "Eq. 2.2": that equation sums a land-use category's strata (ΔC_LU = Σ ΔC_LU,i).
CO2_PER_C = 44.0 / 12.0

DEFAULT_SOC_TRANSITION_YEARS = 20.0
"""Default time dependence D of the stock change factors [yr], IPCC 2006 Vol. 4 Ch. 2,
Eq. 2.25 and Section 2.3.3.1 (20 years); unchanged in the 2019 Refinement."""


def co2_emission_t(carbon_stock_change_t_c: Number) -> Number:
    """CO2 emission from a carbon stock change: ``−ΔC × 44/12``.

    Parameters
    ----------
    carbon_stock_change_t_c : [t C] or [t C / yr]
        Stock change, positive for a gain (removal from the atmosphere).

    Returns
    -------
    [t CO2] or [t CO2 / yr]: positive for an emission, negative for a removal.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Section 2.2.3 (conversion of C stock changes to CO2 by 44/12;
    removals reported as negative emissions); the same sign convention as Vol. 4 Ch. 12,
    Eq. 12A.1 (CO2 = −44/12 × ΔC).
    """
    # "+ 0.0" turns the -0.0 of an unchanged stock into 0.0 in written outputs.
    return -carbon_stock_change_t_c * CO2_PER_C + 0.0


def total_growth_from_net_growth_t_dm_per_ha_yr(
    net_growth_t_dm_per_ha_yr: Number, root_shoot_ratio: Number
) -> Number:
    """Total (above- and below-ground) biomass growth at Tier 1: ``G_TOTAL = G_W × (1 + R)``.

    Parameters
    ----------
    net_growth_t_dm_per_ha_yr : [t d.m. / ha / yr]
        G_W, above-ground net biomass growth (Tables 4.9, 4.10).
    root_shoot_ratio : [dimensionless]
        R, below- to above-ground biomass (Table 4.4).

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.10 (Tier 1 form).
    """
    return net_growth_t_dm_per_ha_yr * (1.0 + root_shoot_ratio)


def total_growth_from_increment_t_dm_per_ha_yr(
    increment_m3_per_ha_yr: Number, bcef_i_t_dm_per_m3: Number, root_shoot_ratio: Number
) -> Number:
    """Total biomass growth from the net annual increment: ``G_TOTAL = I_V × BCEF_I × (1 + R)``.

    Parameters
    ----------
    increment_m3_per_ha_yr : [m3 / ha / yr]
        I_V, average net annual increment of growing-stock volume.
    bcef_i_t_dm_per_m3 : [t d.m. / m3]
        BCEF_I (Table 4.5). Not a BEF: ``BCEF = BEF × D`` (wood density, t d.m./m3).
    root_shoot_ratio : [dimensionless]
        R (Table 4.4).

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.10 (Tier 2 form, also usable with Tier 1 defaults).
    """
    return increment_m3_per_ha_yr * bcef_i_t_dm_per_m3 * (1.0 + root_shoot_ratio)


def biomass_gain_t_c_per_yr(
    area_ha: Number, total_growth_t_dm_per_ha_yr: Number, carbon_fraction_t_c_per_t_dm: Number
) -> Number:
    """Annual increase in biomass carbon: ``ΔC_G = A × G_TOTAL × CF``.

    Parameters
    ----------
    area_ha : [ha]
    total_growth_t_dm_per_ha_yr : [t d.m. / ha / yr]
        G_TOTAL (Eq. 2.10).
    carbon_fraction_t_c_per_t_dm : [t C / t d.m.]
        CF (Table 4.3; default 0.47).

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.9 (one land-use/climate stratum; sum over strata).
    """
    return area_ha * total_growth_t_dm_per_ha_yr * carbon_fraction_t_c_per_t_dm


def wood_removal_loss_t_c_per_yr(
    removals_m3_per_yr: Number,
    bcef_r_t_dm_per_m3: Number,
    root_shoot_ratio: Number,
    carbon_fraction_t_c_per_t_dm: Number,
) -> Number:
    """Carbon lost with wood removals: ``L = H × BCEF_R × (1 + R) × CF``.

    Parameters
    ----------
    removals_m3_per_yr : [m3 / yr]
        H, roundwood removals (merchantable volume).
    bcef_r_t_dm_per_m3 : [t d.m. / m3]
        BCEF_R (Table 4.5).
    root_shoot_ratio : [dimensionless]
    carbon_fraction_t_c_per_t_dm : [t C / t d.m.]

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.12.
    """
    return removals_m3_per_yr * bcef_r_t_dm_per_m3 * (1.0 + root_shoot_ratio) * (
        carbon_fraction_t_c_per_t_dm
    )


def fuelwood_loss_t_c_per_yr(
    fuelwood_trees_m3_per_yr: Number,
    fuelwood_parts_m3_per_yr: Number,
    bcef_r_t_dm_per_m3: Number,
    root_shoot_ratio: Number,
    wood_density_t_dm_per_m3: Number,
    carbon_fraction_t_c_per_t_dm: Number,
) -> Number:
    """Carbon lost with fuelwood: ``L = [FG_trees × BCEF_R × (1 + R) + FG_part × D] × CF``.

    Parameters
    ----------
    fuelwood_trees_m3_per_yr : [m3 / yr]
        FG_trees, whole trees removed for fuelwood.
    fuelwood_parts_m3_per_yr : [m3 / yr]
        FG_part, parts of trees (branches …) removed for fuelwood.
    bcef_r_t_dm_per_m3 : [t d.m. / m3]
    root_shoot_ratio : [dimensionless]
    wood_density_t_dm_per_m3 : [t d.m. / m3]
        D, basic wood density.
    carbon_fraction_t_c_per_t_dm : [t C / t d.m.]

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.13.
    """
    return (
        fuelwood_trees_m3_per_yr * bcef_r_t_dm_per_m3 * (1.0 + root_shoot_ratio)
        + fuelwood_parts_m3_per_yr * wood_density_t_dm_per_m3
    ) * carbon_fraction_t_c_per_t_dm


def disturbance_loss_t_c_per_yr(
    disturbed_area_ha_per_yr: Number,
    above_ground_biomass_t_dm_per_ha: Number,
    root_shoot_ratio: Number,
    carbon_fraction_t_c_per_t_dm: Number,
    fraction_lost: Number,
) -> Number:
    """Carbon lost to disturbances: ``L = A_dist × B_W × (1 + R) × CF × fd``.

    Parameters
    ----------
    disturbed_area_ha_per_yr : [ha / yr]
        A_disturbance.
    above_ground_biomass_t_dm_per_ha : [t d.m. / ha]
        B_W of the disturbed area.
    root_shoot_ratio : [dimensionless]
    carbon_fraction_t_c_per_t_dm : [t C / t d.m.]
    fraction_lost : [dimensionless]
        fd, fraction of biomass lost (1 for stand-replacing disturbance).

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.14.
    """
    return (
        disturbed_area_ha_per_yr * above_ground_biomass_t_dm_per_ha * (1.0 + root_shoot_ratio)
        * carbon_fraction_t_c_per_t_dm * fraction_lost
    )


def biomass_loss_t_c_per_yr(
    wood_removal_t_c_per_yr: Number, fuelwood_t_c_per_yr: Number, disturbance_t_c_per_yr: Number
) -> Number:
    """Annual decrease in biomass carbon: ``ΔC_L = L_wood-removals + L_fuelwood + L_disturbance``.

    Parameters
    ----------
    wood_removal_t_c_per_yr, fuelwood_t_c_per_yr, disturbance_t_c_per_yr : [t C / yr]
        Eqs. 2.12, 2.13, 2.14.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.11.
    """
    return wood_removal_t_c_per_yr + fuelwood_t_c_per_yr + disturbance_t_c_per_yr


def gain_loss_biomass_change_t_c_per_yr(gain_t_c_per_yr: Number, loss_t_c_per_yr: Number) -> Number:
    """Biomass carbon stock change by the gain-loss method: ``ΔC_B = ΔC_G − ΔC_L``.

    Parameters
    ----------
    gain_t_c_per_yr : [t C / yr]
        ΔC_G (Eq. 2.9).
    loss_t_c_per_yr : [t C / yr]
        ΔC_L (Eq. 2.11).

    Returns
    -------
    [t C / yr], positive for a net gain.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.7.
    """
    return gain_t_c_per_yr - loss_t_c_per_yr


def biomass_carbon_stock_t_c(
    area_ha: Number,
    growing_stock_m3_per_ha: Number,
    bcef_s_t_dm_per_m3: Number,
    root_shoot_ratio: Number,
    carbon_fraction_t_c_per_t_dm: Number,
) -> Number:
    """Biomass carbon stock from growing stock: ``C = A × V × BCEF_S × (1 + R) × CF``.

    Parameters
    ----------
    area_ha : [ha]
    growing_stock_m3_per_ha : [m3 / ha]
        V, merchantable growing-stock volume.
    bcef_s_t_dm_per_m3 : [t d.m. / m3]
        BCEF_S (Table 4.5), chosen by the growing-stock class of V.
    root_shoot_ratio : [dimensionless]
    carbon_fraction_t_c_per_t_dm : [t C / t d.m.]

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.8 (second part).
    """
    return area_ha * growing_stock_m3_per_ha * bcef_s_t_dm_per_m3 * (1.0 + root_shoot_ratio) * (
        carbon_fraction_t_c_per_t_dm
    )


def stock_difference_change_t_c_per_yr(
    stock_t1_t_c: Number, stock_t2_t_c: Number, year_t1: Number, year_t2: Number
) -> Number:
    """Stock change by the stock-difference method: ``ΔC_B = (C_t2 − C_t1) / (t2 − t1)``.

    Parameters
    ----------
    stock_t1_t_c, stock_t2_t_c : [t C]
        Carbon stocks at the two inventory times.
    year_t1, year_t2 : [yr]
        The times; ``year_t2`` must be later than ``year_t1``.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.8 (first part).
    """
    span = np.asarray(year_t2, dtype=float) - np.asarray(year_t1, dtype=float)
    if np.any(span <= 0):
        raise ValueError("year_t2 must be later than year_t1")
    return cast(Number, (stock_t2_t_c - stock_t1_t_c) / span)


def soc_stock_t_c(
    soc_ref_t_c_per_ha: Number,
    f_lu: Number,
    f_mg: Number,
    f_i: Number,
    area_ha: Number,
) -> Number:
    """Mineral-soil organic carbon stock: ``SOC = SOC_REF × F_LU × F_MG × F_I × A``.

    Parameters
    ----------
    soc_ref_t_c_per_ha : [t C / ha]
        Reference stock, 0-30 cm (Table 2.3).
    f_lu, f_mg, f_i : [dimensionless]
        Stock change factors for land use, management and input (Tables 5.5, 6.2; 1 for
        native land).
    area_ha : [ha]

    Returns
    -------
    [t C] (one climate/soil/management stratum; sum over strata).

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.25 (the SOC term).
    """
    return soc_ref_t_c_per_ha * f_lu * f_mg * f_i * area_ha


def soc_change_t_c_per_yr(
    soc_now_t_c: Number,
    soc_before_t_c: Number,
    inventory_years: Number,
    transition_years: float = DEFAULT_SOC_TRANSITION_YEARS,
) -> Number:
    """Annual change in mineral-soil carbon: ``ΔC = (SOC_0 − SOC_(0−T)) / D``.

    The change is spread over D years (default 20). Where the inventory period T is longer
    than D, the IPCC says to divide by T instead, so the divisor is ``max(D, T)``.

    Parameters
    ----------
    soc_now_t_c : [t C]
        SOC_0, stock in the last year of the inventory period.
    soc_before_t_c : [t C]
        SOC_(0−T), stock at its beginning.
    inventory_years : [yr]
        T, length of the inventory period (> 0).
    transition_years : [yr]
        D, time dependence of the stock change factors (default 20).

    Returns
    -------
    [t C / yr], positive for a gain.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Eq. 2.25 and the text below it ("If T exceeds D, use the value
    for T"); D = 20 yr default. Vol. 4 Ch. 5, Section 5.2.3.4, Step 8 (p. 5.22) states the
    same rule (divide by 20 years; by the period when it is longer than 20 years), and the
    chapter's Examples on pp. 5.22 and 5.39 are reproduced in the tests.
    """
    period = np.asarray(inventory_years, dtype=float)
    if np.any(period <= 0) or transition_years <= 0:
        raise ValueError("inventory_years and transition_years must be positive")
    divisor = np.maximum(period, transition_years)
    return cast(Number, (soc_now_t_c - soc_before_t_c) / divisor)
