"""Allocation of shared emissions to the shipments that share a vehicle or a hub."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def allocate_by_key(total: ArrayLike, key: ArrayLike, key_sum: ArrayLike) -> NDArray[np.float64]:
    """Each element's part of a shared total in proportion to its allocation key.

    ``part_i = total × key_i / Σ key`` — t·km for legs sharing a vehicle trip, tonnes leaving
    for shipments sharing a hub. Vectorised over rows: ``total`` and ``key_sum`` are the
    group's values repeated on each of its rows.

    Parameters
    ----------
    total : [kg] the group's emissions, on every row of the group
    key : [t·km] or [t] each row's allocation key
    key_sum : [t·km] or [t] the group's key total, on every row of the group

    Returns
    -------
    part : [kg]; a group whose key sum is 0 shares equally is not defined: returns 0

    Notes
    -----
    The parts of a group sum to the group's total to floating-point rounding (relative
    ~1e-15); :func:`allocation_residual` measures it and the tests check it.

    References
    ----------
    ISO 14083:2023 clause 12 (allocation); CLECAT/UBA guide (2024) pp. 31–36.
    """
    t = np.asarray(total, dtype=np.float64)
    k = np.asarray(key, dtype=np.float64)
    s = np.asarray(key_sum, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, t * (k / s), 0.0)


def allocation_residual(parts: ArrayLike, total: float) -> float:
    """``Σ parts − total``, computed with exact (Shewchuk) summation: the allocation check."""
    import math

    return math.fsum(np.asarray(parts, dtype=np.float64).tolist()) - total
