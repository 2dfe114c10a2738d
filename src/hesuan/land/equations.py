"""The equations of the carbon storage and sequestration model, one small pure function each.

NumPy arrays in, arrays out; no I/O. Units are in brackets; every function cites the
equation it implements. The orchestration lives in :mod:`hesuan.land.carbon`.

Class-count form
----------------
Every total in this model is linear in the per-class densities, so it is computed exactly from
pixel counts per class instead of from summed rasters:
``storage = Σ_k n_k × a × D_k`` with ``n_k`` the number of valid pixels of class ``k``, ``a``
the pixel area [ha] and ``D_k`` the class's density [t C/ha]. The InVEST model sums its
density rasters instead; the two agree to rounding (tests/land/test_parity.py).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hesuan.errors import InputError

#: Two-sided 95 % quantile of the standard normal distribution, used by IPCC 2006 Vol. 1
#: Ch. 3 (Section 3.2.3.1: the uncertainty U is the half-width of the 95 % confidence
#: interval, ≈ 1.96 standard deviations for a normal distribution).
Z95 = 1.959963984540054

#: [t CO2 / t C]: 44/12, the molar-mass ratio IPCC 2006 Vol. 4 Ch. 2 Section 2.2.3 applies —
#: the same number as hesuan.units' "carbon" context (checked in tests/land/test_lookup.py;
#: written out here so that a land run does not load the unit registry, ≈ 1 s of start-up).
#: CO2 is its own CO2e (GWP 1), so t CO2 = t CO2e.
CO2_PER_C = 44.0 / 12.0


def pixel_area_ha(transform: tuple[float, ...], linear_unit_m: float = 1.0) -> float:
    """Area of one pixel of a north-up or rotated grid.

    Parameters
    ----------
    transform : affine coefficients ``(a, b, c, d, e, f)`` of the raster, in CRS units
        (``a``, ``e`` pixel width and height [CRS linear unit]).
    linear_unit_m : [m per CRS linear unit]
        1 for metre-based CRSs.

    Returns
    -------
    area : [ha]
        ``|a × e − b × d| × unit² / 10 000``.

    References
    ----------
    InVEST User Guide, "Carbon Storage and Sequestration", Data needs: carbon densities are
    per hectare and InVEST multiplies them by the pixel area.
    """
    a, b, _c, d, e, _f = transform[:6]
    return abs(a * e - b * d) * linear_unit_m**2 / 10_000.0


def storage_t_c(
    counts: ArrayLike, density_t_c_per_ha: ArrayLike, area_ha: float
) -> NDArray[np.float64]:
    """Carbon stored by class: pixel count × pixel area × density.

    Parameters
    ----------
    counts : [pixels], shape ``(..., K)``
        Valid pixels of each class (per zone when there are leading axes).
    density_t_c_per_ha : [t C/ha], shape ``(K,)`` or ``(K, P)``
        Total or per-pool carbon density of each class.
    area_ha : [ha]
        Area of one pixel.

    Returns
    -------
    storage : [t C], shape ``(..., K)`` or ``(..., K, P)``

    References
    ----------
    InVEST User Guide, Carbon model: "C_storage = Σ pools density × area" (section "How it
    works"); IPCC 2006 Vol. 4 Ch. 2 Eq. 2.8 stock form ``C = Σ A × density``.
    """
    n = np.asarray(counts, dtype=np.float64)
    dens = np.asarray(density_t_c_per_ha, dtype=np.float64)
    if dens.ndim == 1:
        return n * dens * area_ha
    return n[..., None] * dens * area_ha


def sequestration_t_c(
    counts_base: ArrayLike, counts_alt: ArrayLike, density_t_c_per_ha: ArrayLike, area_ha: float
) -> NDArray[np.float64]:
    """Sequestration by class: alternate − baseline storage over pixels valid in both.

    Parameters
    ----------
    counts_base, counts_alt : [pixels], shape ``(..., K)``
        Pixels of each class in the baseline and alternate maps, counted over the pixels
        that are valid in both maps.
    density_t_c_per_ha : [t C/ha], shape ``(K,)``
        Total carbon density of each class (the same table for both maps).
    area_ha : [ha]

    Returns
    -------
    sequestration : [t C], shape ``(..., K)``; positive = gain. Summing over ``K`` gives the
        total; a pixel that keeps its class adds ``+D_k`` and ``−D_k`` and cancels.

    References
    ----------
    InVEST User Guide, Carbon model: sequestration = C_alt − C_cur (per pixel, then summed).
    """
    dn = np.asarray(counts_alt, dtype=np.float64) - np.asarray(counts_base, dtype=np.float64)
    return dn * np.asarray(density_t_c_per_ha, dtype=np.float64) * area_ha


def gains_losses_t_c(
    transition_counts: ArrayLike, density_t_c_per_ha: ArrayLike, area_ha: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gains and losses of carbon by pixel transition.

    Parameters
    ----------
    transition_counts : [pixels], shape ``(..., K, K)``
        Pixels whose baseline class is ``i`` and alternate class ``j`` (valid in both maps).
    density_t_c_per_ha : [t C/ha], shape ``(K,)``
        Total carbon density of each class.
    area_ha : [ha]

    Returns
    -------
    gains, losses : [t C], shape ``(...)``, both ≥ 0
        A pixel going ``i → j`` adds ``D_j − D_i`` per hectare to the gains when positive
        and its opposite to the losses when negative; ``gains − losses`` is the
        sequestration.

    References
    ----------
    InVEST User Guide, Carbon model: the sequestration raster is ``C_alt − C_cur`` per
    pixel; gains and losses are the sums of its positive and negative cells.
    """
    n = np.asarray(transition_counts, dtype=np.float64) * area_ha
    d = np.asarray(density_t_c_per_ha, dtype=np.float64)
    delta = d[None, :] - d[:, None]
    gains = np.einsum("...ij,ij->...", n, np.where(delta > 0, delta, 0.0))
    losses = np.einsum("...ij,ij->...", n, np.where(delta < 0, -delta, 0.0))
    return gains, losses


def to_t_co2e(carbon_t_c: ArrayLike) -> NDArray[np.float64]:
    """Convert tonnes of carbon to tonnes of CO2 (= CO2e).

    Parameters
    ----------
    carbon_t_c : [t C]

    Returns
    -------
    co2e : [t CO2e], ``carbon × 44/12``

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2, Section 2.2.3 (C to CO2 by 44/12); hesuan.units context ``carbon``.
    """
    return np.asarray(carbon_t_c, dtype=np.float64) * CO2_PER_C


def valuation_constant(
    price_per_t_c: float,
    discount_rate_pct: float,
    price_change_pct: float,
    year_current: int,
    year_future: int,
) -> float:
    """Net present value of one tonne of carbon sequestered over the period.

    Parameters
    ----------
    price_per_t_c : [currency / t C]
        Price of one tonne of **carbon** (not CO2: a CO2 price × 44/12 is the C price).
    discount_rate_pct : [% per year]
        Market discount rate ``r`` (3 means 3 %); may be negative.
    price_change_pct : [% per year]
        Annual rate of change of the price of carbon ``c`` (3 means 3 %).
    year_current, year_future : [year]
        Years of the baseline and alternate maps; ``year_future > year_current``.

    Returns
    -------
    constant : [currency / t C]
        ``1/T × Σ_{t=0}^{T−1} p / ((1 + r/100)^t × (1 + c/100)^t)``, ``T = y_fut − y_cur``;
        NPV = sequestration [t C] × constant. Equals ``p`` when ``r = c = 0``.

    Notes
    -----
    The sequestration is spread evenly over the ``T`` years and each year's share is
    discounted from the year it happens (``t = 0`` is the baseline year). The sum is
    evaluated term by term (at most a few hundred terms); InVEST rewrites it as a geometric
    series and special-cases ratio 1 — same number, see tests/land/test_valuation.py.

    References
    ----------
    InVEST User Guide 3.x, "Carbon Storage and Sequestration", Valuation equation;
    natcap/invest ``tests/test_carbon.py`` pins 40.873016 (2010→2012, r = 50, c = 5,
    p = 50) and 59.001361 (2016→2030, r = −7.1, c = 2.8, p = 43).
    """
    years = int(year_future) - int(year_current)
    if years <= 0:
        raise InputError.single(
            f"the alternate year ({year_future}) is not after the baseline year "
            f"({year_current})",
            field="years",
            expected="two years Y1 < Y2",
        )
    if discount_rate_pct <= -100 or price_change_pct <= -100:
        raise InputError.single(
            "a discount rate or price change of −100 % or less makes the value undefined",
            field="discount_rate" if discount_rate_pct <= -100 else "price_change",
            expected="a percentage greater than −100",
        )
    t = np.arange(years, dtype=np.float64)
    ratio = 1.0 / ((1.0 + discount_rate_pct / 100.0) * (1.0 + price_change_pct / 100.0))
    return float(price_per_t_c * np.sum(ratio**t) / years)


def npv(sequestration_t_c: ArrayLike, constant_per_t_c: float) -> NDArray[np.float64]:
    """Net present value of sequestration.

    Parameters
    ----------
    sequestration_t_c : [t C] (or [t C/ha] for a density raster)
    constant_per_t_c : [currency / t C], from :func:`valuation_constant`

    Returns
    -------
    npv : [currency] (or [currency/ha])

    References
    ----------
    InVEST User Guide, Carbon model, Valuation.
    """
    return np.asarray(sequestration_t_c, dtype=np.float64) * constant_per_t_c


def sd_from_interval95(low: ArrayLike, high: ArrayLike) -> NDArray[np.float64]:
    """Return the standard deviation implied by a 95 % interval, assuming a normal distribution.

    Parameters
    ----------
    low, high : [t C/ha]
        Bounds of the 95 % interval (2.5th and 97.5th percentiles).

    Returns
    -------
    sd : [t C/ha], ``(high − low) / (2 × 1.96)``

    References
    ----------
    IPCC 2006 Vol. 1 Ch. 3, Section 3.2.3.1 (uncertainty as the half-width of the 95 %
    confidence interval; for a normal PDF the half-width is 1.96 standard deviations).
    """
    return (np.asarray(high, dtype=np.float64) - np.asarray(low, dtype=np.float64)) / (2 * Z95)


def approach1_variance_by_class(
    area_ha_by_class: ArrayLike, sd_t_c_per_ha: ArrayLike
) -> NDArray[np.float64]:
    """Variance contributed by each class to a total, by IPCC Approach 1.

    Parameters
    ----------
    area_ha_by_class : [ha], shape ``(..., K)``
        For storage: the class's area. For sequestration: the class's **net** area change
        ``A_alt,k − A_base,k`` (pixels that keep their class cancel, because the same unknown
        density is added and subtracted).
    sd_t_c_per_ha : [t C/ha], shape ``(K,)`` or ``(K, P)``
        Standard deviation of each class's density (per pool: pools are independent).

    Returns
    -------
    variance : [(t C)²], shape ``(..., K)``; sum over ``K`` for the total's variance.

    Notes
    -----
    Correlation assumptions: a class's density is one unknown shared by all its pixels, so
    errors are fully correlated within a class (the class's total error is
    ``A_k × σ_k``, not ``√n`` times a pixel's); densities of different classes and of
    different pools are independent. Areas are taken as exact. With those assumptions the
    product rule (IPCC Eq. 3.1, area uncertainty 0) and the sum rule (Eq. 3.2) are exact for
    normal densities, since the total is linear in them.

    References
    ----------
    IPCC 2006 Guidelines, Vol. 1 Ch. 3, Eq. 3.1 (multiplication) and Eq. 3.2 (addition).
    """
    sd = np.asarray(sd_t_c_per_ha, dtype=np.float64)
    var_k = np.sum(sd**2, axis=-1) if sd.ndim == 2 else sd**2
    area = np.asarray(area_ha_by_class, dtype=np.float64)
    return area**2 * var_k


def ci95(total: ArrayLike, variance: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """Symmetric 95 % confidence interval from a total and its variance.

    Parameters
    ----------
    total : [t C]
    variance : [(t C)²]

    Returns
    -------
    sd, low, high : [t C]; ``low = total − 1.96 sd``, ``high = total + 1.96 sd``

    References
    ----------
    IPCC 2006 Vol. 1 Ch. 3, Eq. 3.2 (U_total as the half-width of the 95 % interval).
    """
    sd = np.sqrt(np.asarray(variance, dtype=np.float64))
    tot = np.asarray(total, dtype=np.float64)
    return sd, tot - Z95 * sd, tot + Z95 * sd


def monte_carlo_class_density(
    density_t_c_per_ha: ArrayLike, sd_t_c_per_ha: ArrayLike, n_samples: int, seed: int
) -> NDArray[np.float64]:
    """Draws of each class's total density for IPCC Approach 2 (Monte Carlo).

    Parameters
    ----------
    density_t_c_per_ha, sd_t_c_per_ha : [t C/ha], shape ``(K, P)``
        Mean and standard deviation of each class and pool's density. Each draw takes one
        normal value per class, shared by all its pixels and by both maps (full correlation
        within a class, independence between classes and pools, as in Approach 1).
    n_samples : [draws]
    seed : seed of numpy's ``default_rng``, for reproducible intervals

    Returns
    -------
    draws : [t C/ha], shape ``(n_samples, K)``; totals are ``draws @ area_ha``.

    Notes
    -----
    Pools are independent normals, so a class's pool sum is normal with the summed variance:
    drawing the class total directly has the same distribution with K instead of K×P draws.
    Normal draws can be negative when sd is large relative to the mean; they are kept (no
    truncation) so that Approach 2 reproduces Approach 1 exactly for linear totals.

    References
    ----------
    IPCC 2006 Guidelines, Vol. 1 Ch. 3, Section 3.2.3.2 (Approach 2: Monte Carlo).
    """
    rng = np.random.default_rng(seed)
    mean = np.asarray(density_t_c_per_ha, dtype=np.float64)
    sd = np.asarray(sd_t_c_per_ha, dtype=np.float64)
    class_mean = mean.sum(axis=-1)
    class_sd = np.sqrt(np.sum(sd**2, axis=-1))
    draws: NDArray[np.float64] = class_mean + class_sd * rng.standard_normal(
        (int(n_samples), class_mean.shape[0]))
    return draws
