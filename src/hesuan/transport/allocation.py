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
