"""Emission intensities (g CO2e per t·km) and their distance basis; activity-based TCE emissions.

An intensity per *actual* t·km is converted to the standard's basis before it multiplies an
activity on that basis; an intensity per SFD/GCD t·km is used as it is (adding the 5 % or
95 km again would count the detour twice).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hesuan.transport.distance import AIR_DAF_KM, ROAD_DAF, SEA_DAF


def tonne_km(mass_t: ArrayLike, distance_km: ArrayLike) -> NDArray[np.float64]:
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
    return np.asarray(mass_t, dtype=np.float64) * np.asarray(distance_km, dtype=np.float64)


def intensity_to_standard_basis(
    intensity_g_per_tkm: ArrayLike, bases: ArrayLike, modes: ArrayLike,
    distance_km: ArrayLike,
) -> NDArray[np.float64]:
    """Convert an intensity per *actual* t·km to one per standard-basis t·km.

    ``g_std = g_actual × actual / std``: road × 1.05; sea × 1.15; air × (GCD + 95) / GCD
    (so it depends on the leg's GCD); rail and IWW unchanged. Intensities already per
    ``sfd``/``gcd`` t·km are returned unchanged.

    Parameters
    ----------
    intensity_g_per_tkm : [g CO2e / t·km] on the basis ``bases``
    bases : ``sfd`` | ``gcd`` | ``actual`` per row
    modes : mode per row
    distance_km : [km] the leg's standard-basis distance (used for air only)

    Returns
    -------
    intensity_g_per_tkm : [g CO2e / t·km] per standard-basis t·km

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Case A, pp. 25, 44, 48 (143 g per actual t·km →
    150.15 g per SFD t·km) and Table 3, p. 23.
    """
    g = np.asarray(intensity_g_per_tkm, dtype=np.float64)
    b = np.asarray(bases)
    m = np.asarray(modes)
    d = np.asarray(distance_km, dtype=np.float64)
    actual = b == "actual"
    with np.errstate(divide="ignore", invalid="ignore"):
        air = g * (d + AIR_DAF_KM) / d
    return np.select(
        [actual & (m == "road"), actual & (m == "sea"), actual & (m == "air")],
        [g * ROAD_DAF, g * SEA_DAF, air],
        default=g,
    )


def activity_emissions_kg(tkm: ArrayLike, intensity_g_per_tkm: ArrayLike) -> NDArray[np.float64]:
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
    return np.asarray(tkm, dtype=np.float64) * np.asarray(intensity_g_per_tkm,
                                                          dtype=np.float64) / 1000.0


def toc_intensity_g_per_tkm(emissions_kg: float, tkm: float) -> float:
    """TOC emission intensity: ``g_TOC = G_TOC / T_TOC``.

    Parameters
    ----------
    emissions_kg : [kg CO2e] total emissions of the TOC
    tkm : [t·km] total transport activity of the TOC

    Returns
    -------
    intensity : [g CO2e / t·km]; NaN when ``tkm`` is 0

    References
    ----------
    ISO 14083:2023 clause 9 (TOC intensity); CLECAT/UBA guide (2024) pp. 19–20, 30.
    """
    return emissions_kg * 1000.0 / tkm if tkm else float("nan")


def chain_intensity_g_per_tkm(
    leg_emissions_kg: float, hub_emissions_kg: float, transport_tkm: float
) -> float:
    """Transport-chain intensity: ``g_TC = G_TC / Σ T(transport TCEs)``.

    Hub emissions count in the numerator; hub tonnes are not an activity in t·km and stay
    out of the denominator.

    Parameters
    ----------
    leg_emissions_kg : [kg CO2e]
    hub_emissions_kg : [kg CO2e]
    transport_tkm : [t·km] of the transport legs only

    Returns
    -------
    intensity : [g CO2e / t·km]

    References
    ----------
    ISO 14083:2023 clause 11; CLECAT/UBA guide (2024) pp. 19–20, 47.
    """
    if not transport_tkm:
        return float("nan")
    return (leg_emissions_kg + hub_emissions_kg) * 1000.0 / transport_tkm


def passenger_equivalent_share(freight_equivalents: float, passenger_equivalents: float) -> float:
    """Share of a mixed passenger/freight vehicle's emissions allocated to freight.

    Parameters
    ----------
    freight_equivalents : [passenger equivalents] freight units × their equivalence
        (ISO 14083:2023 Table G.5: car 1.3, bus 10, rigid truck 10, articulated 18)
    passenger_equivalents : [passengers]

    Returns
    -------
    share : [-]

    References
    ----------
    ISO 14083:2023 Annex G, Table G.5; CLECAT/UBA guide (2024) Example 2 (car train,
    150 passengers + 30 cars × 1.3 → 39/189 = 20.6 %).
    """
    return freight_equivalents / (freight_equivalents + passenger_equivalents)


def reefer_teu_equivalents(ambient_teu: float, reefer_teu: float,
                           reefer_factor: float = 1.17) -> tuple[float, float]:
    """Ambient-TEU equivalents of ambient and reefer containers on a ship.

    Parameters
    ----------
    ambient_teu : [TEU]
    reefer_teu : [TEU]
    reefer_factor : [-] one reefer TEU = 1.17 ambient TEU-equivalents when cooling energy
        is not metered separately

    Returns
    -------
    (ambient_share, reefer_share) : [-] shares of the ship's energy

    References
    ----------
    CLECAT/UBA guide to ISO 14083 (2024), Example 4, pp. 34–35 (after the Clean Cargo
    methodology).
    """
    reefer_eq = reefer_teu * reefer_factor
    total = ambient_teu + reefer_eq
    return ambient_teu / total, reefer_eq / total
