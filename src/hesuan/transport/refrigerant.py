"""Refrigerant leakage: operation emissions = refilled (leaked) refrigerant mass × GWP."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import polars as pl

from hesuan.errors import FactorNotFoundError

BLENDS = Path(__file__).with_name("refrigerant_blends.csv")

ROAD_REEFER_CHARGE_KG = 5.5
"""Refrigerant charge of a road reefer unit when no data exist [kg] (CLECAT/UBA guide to
ISO 14083, 2024, pp. 40–41)."""

ROAD_REEFER_ANNUAL_LOSS = 0.325
"""Yearly loss of that charge, 32.5 % (conservative: 50 %) [-] (CLECAT guide pp. 40–41)."""

HUB_DEFAULT_G_PER_T = {"ambient": 0.5, "temperature_controlled": 1.2}
"""Hub refrigerant default without data: g R-404A per tonne of throughput, ambient and
temperature-controlled [g / t] (CLECAT/UBA guide to ISO 14083, 2024, p. 42)."""

HUB_DEFAULT_REFRIGERANT = "R-404A"
"""The refrigerant the hub defaults are stated in (CLECAT guide p. 42)."""


def leakage_emissions_kg(refilled_kg: pl.Expr, gwp: pl.Expr) -> pl.Expr:
    """Operation emissions of refrigerant leakage: ``G = m_refilled × GWP``.

    Parameters
    ----------
    refilled_kg : [kg] refrigerant refilled (= leaked) in the period
    gwp : [kg CO2e / kg] GWP-100 of the refrigerant

    Returns
    -------
    emissions_kg : [kg CO2e]

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), pp. 40–42, Example 8 (1.7788 kg × 2,292 ≈
    4,077 kg CO2e).
    """
    return refilled_kg * gwp


def road_reefer_default_leak_kg_per_year(
    charge_kg: float = ROAD_REEFER_CHARGE_KG, loss: float = ROAD_REEFER_ANNUAL_LOSS
) -> float:
    """Yearly refrigerant leak of a road reefer without data: ``charge × loss`` [kg / yr].

    References
    ----------
    CLECAT/UBA guide (2024), pp. 40–41 (5.5 kg × 32.5 % = 1.7875 kg per year).
    """
    return charge_kg * loss


def road_reefer_default_emissions_kg(tkm: pl.Expr, gwp: float,
                                     reefer_tkm_per_year: float) -> pl.Expr:
    """Return the default leakage [kg CO2e] of a road reefer leg without refrigerant data.

    By its share of the reefer's annual activity: ``G = T × (charge × loss × GWP / T_year)``.

    Parameters
    ----------
    tkm : [t·km] the leg's activity
    gwp : [kg CO2e / kg] of the default refrigerant (R-404A)
    reefer_tkm_per_year : [t·km / yr] the reefer's annual activity

    Returns
    -------
    emissions_kg : [kg CO2e]

    References
    ----------
    CLECAT/UBA guide (2024), pp. 40–41 (5.5 kg charge, 32.5 % yearly loss; Example 8 shares
    a year's leak over 1,800,000 t·km).
    """
    return tkm * (road_reefer_default_leak_kg_per_year() * gwp / reefer_tkm_per_year)


def hub_default_leak_kg(tonnes: pl.Expr, temperature_controlled: pl.Expr) -> pl.Expr:
    """Default refrigerant leak of hub operations without data [kg R-404A].

    Parameters
    ----------
    tonnes : [t] throughput (tonnes leaving the hub)
    temperature_controlled : bool per row

    Returns
    -------
    leak_kg : [kg]

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), p. 42: 0.5 g/t ambient, 1.2 g/t
    temperature-controlled.
    """
    g_per_t = (pl.when(temperature_controlled)
               .then(HUB_DEFAULT_G_PER_T["temperature_controlled"])
               .otherwise(HUB_DEFAULT_G_PER_T["ambient"]))
    return tonnes * g_per_t / 1000.0


@lru_cache(maxsize=1)
def _blends() -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = {}
    with BLENDS.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            out.setdefault(row["refrigerant"].upper(), []).append(
                (row["component"], float(row["mass_fraction"])))
    return out


def known_refrigerants() -> tuple[str, ...]:
    """Refrigerant names hesuan can give a GWP for (blends and single gases)."""
    return tuple(sorted(_blends()))


@lru_cache(maxsize=256)
def refrigerant_gwp(name: str, gwp_set: str) -> tuple[float, str]:
    """GWP-100 of a refrigerant in ``gwp_set``, and how it was obtained.

    The dataset ``ipcc_gwp100@<set>`` is asked first for ``gwp.<name>``; otherwise the
    mass-weighted sum of its components' GWPs (``refrigerant_blends.csv``, ASHRAE 34-2019)
    is used — the rule IPCC and the F-gas regulations use for blends.

    Returns
    -------
    (gwp, source) : ([kg CO2e / kg], a ``dataset@version:id`` reference or a formula)

    Raises
    ------
    FactorNotFoundError
        If neither the blend nor all of its components are known.
    """
    from hesuan.standards import load_dataset

    ds = load_dataset("ipcc_gwp100", gwp_set)
    fid = f"gwp.{name.lower()}"
    if fid in ds:
        return ds.get(fid).value_in("kg CO2e / kg"), ds.get(fid).key
    parts = _blends().get(name.upper())
    if not parts:
        raise FactorNotFoundError(
            f"no GWP for refrigerant {name!r}; known: {', '.join(known_refrigerants())}")
    total = 0.0
    for component, fraction in parts:
        cid = f"gwp.{component.lower()}"
        if cid not in ds:
            raise FactorNotFoundError(
                f"no {gwp_set} GWP for {component}, a component of {name}")
        total += fraction * ds.get(cid).value_in("kg CO2e / kg")
    formula = " + ".join(f"{f:g}×{c}" for c, f in parts)
    return total, f"ipcc_gwp100@{gwp_set}: {formula} (ASHRAE 34-2019 composition)"
