"""The equations of the afforestation methodologies, one plain vectorised function each.

Every function works on NumPy arrays (or Polars expressions where it says so) in the units
its argument names end with, and cites the equation it implements. The numbering is that of
the CDM tool AR-TOOL14 version 04.2 (EB 85, 24 July 2015), "Estimation of carbon stocks and
change in carbon stocks of trees and shrubs in A/R CDM project activities" (UNFCCC CDM
Executive Board); ``[T14 p.N]`` is the tool's printed page ("N of 31"); the appendices
number their equations from (1) again, cited here as "Appendix 1 eq. (N)". Every equation,
page, default and the tool's two worked examples were checked against the UNFCCC PDF of
version 04.2 (tests/quantification/SOURCE.md: the copy read, its SHA-256, and how).

China's CCER-14-001-V01 (造林碳汇) follows the same CDM framework (the preface of its
predecessor AR-CM-001-V01 says it takes the CDM A/R methodologies as its frame) and reuses
these functions; where it differs (the uncertainty rule) its module says so.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray

CO2_PER_C = 44.0 / 12.0
"""Ratio of molecular weights of CO2 and C [t CO2 / t C] (AR-TOOL14 v04.2 eqs. (12), (26))."""

Array = NDArray[np.float64]
T = TypeVar("T", NDArray[np.float64], pl.Expr, float)


def agb_allometric_kg(dbh_cm: pl.Expr, height_m: pl.Expr, a: pl.Expr, b: pl.Expr,
                      c: pl.Expr) -> pl.Expr:
    """Above-ground biomass of one tree from a power-law allometric equation.

    ``f(DBH, H) = a · DBH^b · H^c`` [kg d.m.]; ``c = 0`` for DBH-only equations.

    Parameters
    ----------
    dbh_cm : diameter at breast height [cm]
    height_m : tree height [m] (ignored when ``c`` is 0)
    a, b, c : coefficients of the species' equation (from its dataset record)

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1, eq. (4) [T14 p.24]: the biomass of tree l of species j is
    f_j(x1, x2, …) · (1 + R_j), f_j the allometric equation of the species taking DBH and/or
    H (this function is f_j, in kg; :func:`total_biomass` applies (1 + R_j)).
    """
    return a * dbh_cm.pow(b) * pl.when(c == 0).then(1.0).otherwise(height_m.pow(c))


def agb_from_volume_t(volume_m3: T, wood_density_t_per_m3: T | float, bef: T | float) -> T:
    """Above-ground biomass from stem volume: ``V · D · BEF`` [t d.m.].

    Parameters
    ----------
    volume_m3 : stem (merchantable) volume [m3]
    wood_density_t_per_m3 : basic wood density D [t d.m. / m3]
    bef : biomass expansion factor BEF₂, above-ground biomass over stem biomass [1]

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1, eq. (5) [T14 p.24], first factors of
    B = V · D_j · BEF₂,j · (1 + R_j); D_j over bark from IPCC GPG-LULUCF 2003 Table 3A.1.9
    unless justified [T14 p.25]; the tool's conservative default BEF₂ for ex-post estimation
    is 1.15 [T14 p.26] (dataset ``ar_tool14_defaults``, record ``bef2``).
    """
    return volume_m3 * wood_density_t_per_m3 * bef


def root_shoot_default(agb_t_per_ha: Array) -> Array:
    """Default root-to-shoot ratio as a function of above-ground biomass per hectare.

    ``R = exp(−1.085 + 0.9256 · ln b) / b`` [1], b in [t d.m. / ha]; ``R = 0`` where b = 0.

    Parameters
    ----------
    agb_t_per_ha : above-ground tree biomass per hectare b [t d.m. / ha]

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1, eqs. (4)–(5), parameter R_j [T14 p.25]:
    R_j = e^(−1.085 + 0.9256 × ln b) / b, b the above-ground tree biomass per hectare
    [t d.m. / ha], unless justified; this is Cairns et al. (1997), Oecologia 111:1–11
    (below-ground biomass = exp(−1.0850 + 0.9256 · ln AGB), both in t/ha) over b.
    """
    b = np.asarray(agb_t_per_ha, dtype=np.float64)
    out = np.zeros_like(b)
    pos = b > 0
    out[pos] = np.exp(-1.085 + 0.9256 * np.log(b[pos])) / b[pos]
    return out


def total_biomass(agb: T, root_shoot: T | float) -> T:
    """Above- plus below-ground biomass ``AGB · (1 + R)`` (same unit as ``agb``).

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1, eqs. (4) (B = f_j(x) · (1 + R_j)) and (5)
    (B = V · D · BEF₂ · (1 + R_j)) [T14 p.24].
    """
    return agb * (1.0 + root_shoot)


def carbon_stock_t_co2e(biomass_t: T, carbon_fraction: T | float) -> T:
    """Carbon stock in CO2 equivalent: ``44/12 · CF · B`` [t CO2e].

    Parameters
    ----------
    biomass_t : biomass [t d.m.] (or per hectare [t d.m. / ha], giving [t CO2e / ha])
    carbon_fraction : CF_TREE (or CF_S) [t C / t d.m.]; AR-TOOL14 default 0.47 [T14 p.14,
        20], the same as IPCC 2006 Vol. 4 Table 4.3 (``ipcc2006_afolu@2006:cf.all.all``)

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1 eq. (12) [T14 p.14] (C_TREE = 44/12 · CF_TREE · B_TREE) and
    §11 eq. (26) [T14 p.20] for shrubs (44/12 · CF_S · …).
    """
    return CO2_PER_C * carbon_fraction * biomass_t


def plot_density(biomass_t: Array, plot_area_ha: Array) -> Array:
    """Biomass per hectare of a sample plot ``b_p = B_p / A_p`` [t d.m. / ha].

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1, eq. (1) [T14 p.24] (b_TREE,p,i = B_TREE,p,i / A_PLOT,i;
    B_TREE,p,i the sum over the plot's trees by species, eqs. (2)–(3)).
    """
    return np.asarray(biomass_t, dtype=np.float64) / np.asarray(plot_area_ha, dtype=np.float64)


def stratum_mean_variance(values: Array, stratum_index: NDArray[np.int64],
                          n_strata: int) -> tuple[Array, Array, Array]:
    """Per-stratum sample mean, sample variance (n − 1 denominator) and plot count.

    ``b_i = Σ b_p,i / n_i``; ``s_i² = (n_i · Σ b_p,i² − (Σ b_p,i)²) / (n_i · (n_i − 1))``.

    Parameters
    ----------
    values : one value per plot (e.g. [t CO2e / ha])
    stratum_index : 0-based stratum of each plot
    n_strata : number of strata M

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1, eqs. (16) (mean) and (17) (variance) [T14 p.15]; eq. (17)
    is the sample variance of the plots (not divided by n_i again: eq. (15) does that).
    """
    x = np.asarray(values, dtype=np.float64)
    idx = np.asarray(stratum_index, dtype=np.int64)
    n = np.bincount(idx, minlength=n_strata).astype(np.float64)
    s1 = np.bincount(idx, weights=x, minlength=n_strata)
    s2 = np.bincount(idx, weights=x * x, minlength=n_strata)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.where(n > 1, (n * s2 - s1 * s1) / (n * (n - 1)), 0.0)
    return mean, np.maximum(var, 0.0), n


def stratified_mean(weights: Array, means: Array) -> float:
    """Area-weighted mean over strata ``b = Σ w_i · b_i``, ``w_i = A_i / A``.

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1, eq. (14) [T14 p.14] (the stock is then A · b, eq. (13)).
    """
    return float(np.sum(np.asarray(weights) * np.asarray(means)))


def stratified_variance_of_mean(weights: Array, variances: Array, counts: Array) -> float:
    """Variance of the stratified mean ``s_b² = Σ w_i² · s_i² / n_i``.

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1, the radicand of eq. (15) [T14 p.14].
    """
    w = np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * w * np.asarray(variances) / np.asarray(counts)))


def t_value(confidence: float, degrees_of_freedom: int) -> float:
    """Two-sided Student's t value ``t_VAL`` at ``confidence`` (0.90 in the tool).

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1, eq. (15) [T14 p.14]: t_VAL is the two-sided Student's t value
    for a confidence level of 90 % and n − M degrees of freedom (n plots, M strata); the
    tool's definition of uncertainty (§3 para 6(a) [T14 p.4–5]) uses t(0.1, 33) = 1.692 for
    n = 34.
    """
    from scipy.stats import t as student_t

    if degrees_of_freedom < 1:
        return math.inf
    return float(student_t.ppf(0.5 + confidence / 2.0, degrees_of_freedom))


def relative_uncertainty(t_val: float, variance_of_mean: float, mean: float) -> float:
    """Relative half-width of the confidence interval ``u = t_VAL · s_b / b`` [1].

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1, eq. (15) [T14 p.14] (u_C = t_VAL · √(Σ w_i² s_i² / n_i) / b),
    and the definition of uncertainty with its worked example [T14 p.4–5].
    """
    if mean == 0:
        return math.inf
    return t_val * math.sqrt(variance_of_mean) / abs(mean)


def uncertainty_of_difference(stock1: float, u1: float, stock2: float, u2: float) -> float:
    """Relative uncertainty of a stock change ``C2 − C1`` from those of the two stocks.

    ``u_Δ = √((u1 · C1)² + (u2 · C2)²) / |C2 − C1|`` [1] (half-widths added in quadrature).

    References
    ----------
    AR-TOOL14 v04.2, §6.1, eq. (2) [T14 p.7] (the difference of two independent stock
    estimates, eq. (1); C_TREE,t1 undiscounted, note 2 [T14 p.8]).
    """
    if stock2 == stock1:
        return math.inf
    return math.hypot(u1 * stock1, u2 * stock2) / abs(stock2 - stock1)


def stock_change_per_year(stock1: float, stock2: float, years: float) -> float:
    """Annual change between two monitoring events ``(C2 − C1) / (t2 − t1)`` [t CO2e / yr].

    ``years`` may be fractional (days / 365.25).

    References
    ----------
    AR-TOOL14 v04.2, §7, eq. (11) [T14 p.12] (ΔC_t = (C_t2 − C_t1) / T · 1 year; T need not
    be whole: 4 years and 5 months is T = 4.417 yr).
    """
    return (stock2 - stock1) / years


def shrub_biomass_t(area_ha: Array, crown_cover: Array, forest_agb_t_per_ha: float,
                    bdr_sf: float, root_shoot_shrub: float, min_cover: float) -> Array:
    """Shrub biomass of a stratum from its crown cover [t d.m.].

    ``B_SHRUB = (1 + R_S) · A · BDR_SF · b_FOREST · CC_SHRUB``; zero where the crown cover is
    below ``min_cover`` (the tool's 5 %).

    Parameters
    ----------
    area_ha : stratum area A [ha]
    crown_cover : shrub crown cover CC_SHRUB [fraction, 0–1]
    forest_agb_t_per_ha : default above-ground biomass of forest in the region b_FOREST
        [t d.m. / ha], given by the project (the tool names IPCC GPG-LULUCF 2003
        Table 3A.1.4 unless justified [T14 p.21])
    bdr_sf : ratio of shrub biomass per hectare at full cover to b_FOREST [1] (default 0.10)
    root_shoot_shrub : R_S [1] (default 0.40)
    min_cover : crown cover under which shrub biomass counts as zero [fraction] (0.05)

    References
    ----------
    AR-TOOL14 v04.2, §11, paras 60–61, eqs. (26)–(27) [T14 p.20–21] (b_SHRUB,i = BDR_SF ·
    b_FOREST · CC_SHRUB,i; areas under 5 % cover are one stratum of zero shrub biomass);
    the 44/12 · CF_S factor of eq. (26) is :func:`carbon_stock_t_co2e`.
    """
    cc = np.asarray(crown_cover, dtype=np.float64)
    b = (1.0 + root_shoot_shrub) * np.asarray(area_ha) * bdr_sf * forest_agb_t_per_ha * cc
    return np.where(cc < min_cover, 0.0, b)


CROWN_COVER_METHOD_SHARE = 0.20
"""Share of the host Party's forest crown-cover threshold under which the mean pre-project
crown cover must lie for the proportionate-crown-cover method (AR-TOOL14 v04.2 paras 24, 49)."""


def crown_cover_method_applies(pre_project_cover: float, forest_threshold: float) -> bool:
    """Whether the baseline may be estimated by proportionate crown cover.

    True when the mean pre-project tree crown cover is below 20 % of the crown-cover
    threshold the host Party reported to define forest [fractions].

    References
    ----------
    AR-TOOL14 v04.2, §6.3 para 24 [T14 p.10] (and §8.3 para 49 [T14 p.17]), with its
    example: a threshold of 30 % allows the method "only if the mean pre-project tree crown
    cover is less than 20 per cent of 30 per cent (i.e. less than 6 per cent)".
    """
    limit = CROWN_COVER_METHOD_SHARE * forest_threshold
    # strictly below; a cover equal to the limit up to float rounding (0.2 · 0.1) is not
    return pre_project_cover < limit and not math.isclose(pre_project_cover, limit,
                                                          rel_tol=1e-9, abs_tol=1e-12)


#: AR-TOOL14 v04.2 Appendix 2, Table 1 [T14 p.28] (discount for uncertainty): (upper bound
#: of the relative half-width U of the 90 % confidence interval, share of U deducted).
DISCOUNT_TABLE: tuple[tuple[float, float], ...] = (
    (0.10, 0.0), (0.15, 0.25), (0.20, 0.50), (0.30, 0.75), (math.inf, 1.0),
)


def discount_fraction(u: float) -> float:
    """Share of the confidence-interval half-width to deduct, by the tool's discount table.

    u ≤ 10 % → 0; ≤ 15 % → 25 %; ≤ 20 % → 50 %; ≤ 30 % → 75 %; above → 100 % [1].

    References
    ----------
    AR-TOOL14 v04.2, Appendix 2, Table 1 [T14 p.28] (bounds inclusive above: 10 < U ≤ 15 →
    25 %; the discount is a percentage "of U", the half-width).
    """
    for bound, fraction in DISCOUNT_TABLE:
        if u <= bound:
            return fraction
    return 1.0


def discounted_change(change_t_co2e: float, u: float) -> tuple[float, float]:
    """Return a project stock change after the uncertainty discount, and the deduction.

    ``deduction = discount(u) · u · |ΔC|`` (that share of the half-width); returns
    ``(ΔC − deduction, deduction)`` [t CO2e]. The project's estimate is always lowered: a
    removal is credited less, a loss counts larger; nothing caps the deduction at the change
    (U > 100 % turns a small removal into a loss). A change of 0, or one whose uncertainty is
    not finite, is credited as at most 0.

    References
    ----------
    AR-TOOL14 v04.2, Appendix 2, para 2 and Table 1 [T14 p.28]: above 10 % the estimated
    mean "is either increased or decreased by a percentage of the uncertainty"; the worked
    example 60 ± 9 → U = 15 %, discount 25 % · 9 = 2.25, "In project = 60-2.25 = 57.75"
    (the baseline adds it: 62.25). Applied when U > 10 % (§6.1 para 18, §8.1.1 para 37).
    """
    if not math.isfinite(u):
        deduction = max(change_t_co2e, 0.0)
        return change_t_co2e - deduction, deduction
    deduction = discount_fraction(u) * u * abs(change_t_co2e)
    return change_t_co2e - deduction, deduction


def lower_bound_change(change_t_co2e: float, u: float,
                       precision_target: float) -> tuple[float, float]:
    """Conservative deduction.

    The lower bound of the confidence interval, ``change − u·|change|``, when the relative
    half-width ``u`` exceeds the precision target, else no deduction [t CO2e]. For a loss the
    bound lies below the estimate (a larger loss), and for ``u`` > 1 a gain's lower bound is
    itself a loss: the credited change is the bound in every case.

    Returns ``(credited change, deduction)``.

    References
    ----------
    CCER-14-001-V01, monitoring clauses on sampling precision (the conservative choice
    whenever the precision target is not met) [2ND: read in summaries of the predecessor
    AR-CM-001-V01; the CCER text was not checked for this rule].
    """
    if u <= precision_target:
        return change_t_co2e, 0.0
    if not math.isfinite(u):  # no interval: nothing of a gain is credited
        deduction = max(change_t_co2e, 0.0)
        return change_t_co2e - deduction, deduction
    deduction = u * abs(change_t_co2e)  # credited: change − u·|change|, the lower bound
    return change_t_co2e - deduction, deduction


def split_vintages(units: int, days_per_year: dict[int, int]) -> dict[int, int]:
    """Split the whole units of a monitoring period over calendar years by days.

    Hamilton's largest-remainder method, so that the vintages add up to ``units`` exactly.

    Ties in the remainder go to the earlier year.
    """
    total_days = sum(days_per_year.values())
    if units <= 0 or total_days <= 0:
        return dict.fromkeys(days_per_year, 0)
    exact = {y: units * d / total_days for y, d in days_per_year.items()}
    out = {y: math.floor(v) for y, v in exact.items()}
    left = units - sum(out.values())
    for y in sorted(exact, key=lambda y: (-(exact[y] - out[y]), y))[:left]:
        out[y] += 1
    return out
