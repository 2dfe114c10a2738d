"""Energy-based (primary-data) emissions: fuel or electricity × operation/provision factors.

``G = Σ energy_i × (ef_operation_i + ef_provision_i)`` (ISO 14083:2023 clause 9; CLECAT
guide pp. 19–20, 30). Factors are resolved by :mod:`hesuan.transport.factors` to *kg per unit
the user gave* (L, kg, kWh, MJ), so that these functions are one multiplication each.
"""

from __future__ import annotations

import polars as pl

MJ_PER_KWH = 3.6
"""1 kWh = 3.6 MJ exactly (SI definition of the watt-hour)."""


def fuel_emissions_kg(amount: pl.Expr, factor_kg_per_unit: pl.Expr) -> pl.Expr:
    """Emissions of consumed energy: ``G_i = E_i × ef_i`` (one scope or gas at a time).

    Parameters
    ----------
    amount : [unit] fuel or electricity consumed (L, kg, kWh or MJ)
    factor_kg_per_unit : [kg CO2e / unit] or [kg CO2 / unit] in the same unit

    Returns
    -------
    emissions_kg : [kg]

    References
    ----------
    ISO 14083:2023 clause 9 (energy-based TOC emissions); CLECAT/UBA guide (2024) pp. 19–20.
    """
    return amount * factor_kg_per_unit


def combustion_co2_kg(amount: pl.Expr, fossil_co2_kg_per_unit: pl.Expr) -> pl.Expr:
    """CO2 from burning the fossil part of a fuel (the figure GB/T 46531-2025 counts).

    Parameters
    ----------
    amount : [unit] fuel consumed
    fossil_co2_kg_per_unit : [kg CO2 / unit], e.g. IPCC 2006 Vol. 2 Table 1.4 (kg CO2/TJ)
        × NCV (Table 1.2), or a FuelEU Annex II Cf (g CO2/g fuel); 0 for biogenic fuels

    Returns
    -------
    co2_kg : [kg CO2]

    References
    ----------
    GB/T 46531-2025 (fossil-fuel combustion CO2 of commercial road and waterway transport);
    2006 IPCC Guidelines Vol. 2, Ch. 1, Eq. 1.1 and Tables 1.2, 1.4.
    """
    return amount * fossil_co2_kg_per_unit
