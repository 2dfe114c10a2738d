"""Allocation of shared emissions to the shipments that share a vehicle trip or a hub."""

from __future__ import annotations

import polars as pl


def allocate_by_key(total: pl.Expr, key: pl.Expr, key_sum: pl.Expr) -> pl.Expr:
    """Each element's part of a shared total in proportion to its allocation key.

    ``part_i = total × (key_i / Σ key)`` — t·km for legs sharing a vehicle trip, tonnes
    leaving for shipments sharing a hub. ``total`` and ``key_sum`` are the group's values on
    each of its rows (a join or a window).

    Parameters
    ----------
    total : [kg] the group's emissions
    key : [t·km] or [t] each row's allocation key
    key_sum : [t·km] or [t] the group's key total

    Returns
    -------
    part : [kg]; 0 where the group's key sum is not positive (the engine refuses a group
        with emissions and no activity before it gets here)

    Notes
    -----
    The parts of a group sum to the group's total to floating-point rounding (relative
    ~1e-15); the tests check it with exact summation.

    References
    ----------
    ISO 14083:2023 clause 12 (allocation); CLECAT/UBA guide (2024) pp. 31–36.
    """
    return total * pl.when(key_sum > 0).then(key / key_sum).otherwise(0.0)


def freight_share_by_passenger_equivalents(freight_equivalents: pl.Expr,
                                           passengers: pl.Expr) -> pl.Expr:
    """Freight's share of a mixed passenger/freight vehicle's trip, by passenger-equivalents.

    ``share = PE_freight / (PE_freight + passengers)`` with ``PE_freight = Σ units × e``:
    each freight unit (a car, a bus, a truck) counts as ``e`` passengers (ISO 14083 Table
    G.5: car 1.3, bus 10, rigid truck 10, articulated truck 18). The freight share of the
    trip's energy is then shared by the freight legs by t·km.

    Parameters
    ----------
    freight_equivalents : [passenger-equivalents] the trip's freight units × their
        equivalence factors
    passengers : [passengers] travelling on the same trip

    Returns
    -------
    share : [-] in [0, 1]; the passenger part ``1 − share`` is outside the freight account

    References
    ----------
    ISO 14083:2023 Annex G, Table G.5 (passenger-equivalents of freight units); CLECAT/UBA
    guide (2024) Example 2, pp. 32–33 (car train: 150 passengers + 30 cars × 1.3 →
    39/189 = 20.6 %).
    """
    return freight_equivalents / (freight_equivalents + passengers)


def reefer_share_by_teu_equivalents(teu: pl.Expr, reefer_teu: pl.Expr,
                                    reefer_factor: pl.Expr) -> pl.Expr:
    """Reefer containers' share of a container ship's trip energy, by TEU-equivalents.

    ``share = R × k / ((TEU − R) + R × k)``: one reefer TEU counts as ``k`` ambient
    TEU-equivalents (1.17 when the cooling energy is not metered separately), so that the
    reefer TOC carries its cooling energy; ``1 − share`` goes to the ambient containers.

    Parameters
    ----------
    teu : [TEU] all containers of the trip (ambient and reefer)
    reefer_teu : [TEU] the reefer containers among them (``0 ≤ R ≤ TEU``)
    reefer_factor : [-] ambient TEU-equivalents of one reefer TEU (``k > 0``)

    Returns
    -------
    share : [-] in [0, 1]

    References
    ----------
    ISO 14083:2023 clause 12 (allocation) as the CLECAT/UBA guide (2024) applies it to
    temperature-controlled and ambient freight in one TOC, Example 4, pp. 34–35 (6,000 TEU
    of which 950 reefer × 1.17; 88,090,000 MJ → ambient 72,199,059 MJ, reefer
    15,890,941 MJ), after the Clean Cargo methodology that GLEC Framework v3 takes for
    container shipping.
    """
    reefer_eq = reefer_teu * reefer_factor
    return reefer_eq / ((teu - reefer_teu) + reefer_eq)
