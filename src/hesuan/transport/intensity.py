"""Transport activity, emission intensities and activity-based emissions (ISO 14083:2023).

An intensity per *actual* t·km is converted to the standard's basis before it multiplies an
activity on that basis; an intensity per SFD/GCD t·km is used as it is (adding the 5 % or
95 km again would count the detour twice).

Each equation is one function over Polars expressions (the engine, :mod:`chain`, calls
them); :func:`intensity_g_per_tkm` and :func:`chain_intensity_g_per_tkm` also take plain
floats (the summary's totals).
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from hesuan.transport.distance import AIR_DAF_KM, ROAD_DAF, SEA_DAF

Value = TypeVar("Value", pl.Expr, float)
"""A Polars expression (per row or per group) or a plain number (a run's totals)."""


def tonne_km(mass_t: pl.Expr, distance_km: pl.Expr) -> pl.Expr:
    """Transport activity of a TCE: ``T = m × d``.

    Parameters
    ----------
    mass_t : [t] freight mass (goods with the shipper's packaging)
    distance_km : [km] on the standard's basis (SFD, or GCD for air)

    Returns
    -------
    tkm : [t·km]

    References
    ----------
    ISO 14083:2023 clause 7.2 (transport activity); CLECAT/UBA guide (2024) pp. 21–23.
    """
    return mass_t * distance_km


def intensity_to_standard_basis(intensity_g_per_tkm: pl.Expr, basis: pl.Expr, mode: pl.Expr,
                                distance_km: pl.Expr) -> pl.Expr:
    """Convert an intensity per *actual* t·km to one per standard-basis t·km.

    ``g_std = g_actual × actual / std``: road × 1.05; sea × 1.15; air × (GCD + 95) / GCD
    (so it depends on the leg's GCD); rail and IWW unchanged. Intensities already per
    ``sfd``/``gcd`` t·km are returned unchanged.

    Parameters
    ----------
    intensity_g_per_tkm : [g CO2e / t·km] on the basis ``basis``
    basis : ``sfd`` | ``gcd`` | ``actual``
    mode : the leg's mode
    distance_km : [km] the leg's standard-basis distance (used for air only)

    Returns
    -------
    intensity_g_per_tkm : [g CO2e / t·km] per standard-basis t·km

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Case A, pp. 25, 44, 48 (143 g per actual t·km →
    150.15 g per SFD t·km) and Table 3, p. 23.
    """
    g = intensity_g_per_tkm
    actual = basis == "actual"
    return (pl.when(actual & (mode == "road")).then(g * ROAD_DAF)
            .when(actual & (mode == "sea")).then(g * SEA_DAF)
            .when(actual & (mode == "air")).then(g * (distance_km + AIR_DAF_KM) / distance_km)
            .otherwise(g))


def activity_emissions_kg(tkm: pl.Expr, intensity_g_per_tkm: pl.Expr) -> pl.Expr:
    """Emissions of a TCE from its activity and its TOC intensity: ``G_TCE = T_TCE × g_TOC``.

    Parameters
    ----------
    tkm : [t·km]
    intensity_g_per_tkm : [g CO2e / t·km] on the same distance basis as ``tkm``

    Returns
    -------
    emissions_kg : [kg CO2e]

    References
    ----------
    ISO 14083:2023 clause 10 (TCE emissions); CLECAT/UBA guide (2024) pp. 19–20, 47.
    """
    return intensity_g_per_tkm * (tkm / 1000.0)


def intensity_g_per_tkm(emissions_kg: Value, tkm: Value) -> Value:
    """Emission intensity of a TOC (or of any set of legs): ``g_TOC = G_TOC / T_TOC``.

    Parameters
    ----------
    emissions_kg : [kg CO2e] emissions of the TOC (leg, shipment, mode …)
    tkm : [t·km] its transport activity

    Returns
    -------
    intensity : [g CO2e / t·km]; for expressions, NaN or ±inf where ``tkm`` is 0 (callers
        with plain numbers check ``tkm`` first)

    References
    ----------
    ISO 14083:2023 clause 9 (TOC intensity); CLECAT/UBA guide (2024) pp. 19–20, 30.
    """
    return emissions_kg * 1000 / tkm


def chain_intensity_g_per_tkm(emissions_kg: Value, transport_tkm: Value) -> Value:
    """Transport-chain intensity: ``g_TC = G_TC / Σ T(transport TCEs)``.

    ``emissions_kg`` holds leg *and* hub emissions; hub tonnes are not an activity in t·km and
    stay out of the denominator.

    Parameters
    ----------
    emissions_kg : [kg CO2e] leg + hub emissions of the chain
    transport_tkm : [t·km] of the transport legs only

    Returns
    -------
    intensity : [g CO2e / t·km]

    References
    ----------
    ISO 14083:2023 clause 11; CLECAT/UBA guide (2024) pp. 19–20, 47.
    """
    return emissions_kg * 1000 / transport_tkm


def hub_emissions_kg(tonnes: pl.Expr, intensity_kg_per_t: pl.Expr) -> pl.Expr:
    """Emissions of a hub operation from its activity and HOC intensity: ``H_TCE × g_HOC``.

    Parameters
    ----------
    tonnes : [t] tonnes of the shipment *leaving* the hub (hub activity)
    intensity_kg_per_t : [kg CO2e / t]

    Returns
    -------
    emissions_kg : [kg CO2e]

    References
    ----------
    ISO 14083:2023 clause 10 (hub operation TCEs); CLECAT/UBA guide (2024) pp. 19–20, 31.
    """
    return intensity_kg_per_t * tonnes


def hub_intensity_kg_per_t(emissions_kg: pl.Expr, tonnes: pl.Expr) -> pl.Expr:
    """HOC emission intensity: ``g_HOC = G_HOC / H_HOC`` (H: tonnes leaving the hub).

    Parameters
    ----------
    emissions_kg : [kg CO2e]
    tonnes : [t]

    Returns
    -------
    intensity : [kg CO2e / t]

    References
    ----------
    ISO 14083:2023 clause 9; CLECAT/UBA guide (2024) Example 1, p. 31 (11.78 g/passenger).
    """
    return emissions_kg / tonnes
