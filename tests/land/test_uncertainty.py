"""IPCC Approach 1 (error propagation) and Approach 2 (Monte Carlo) on cases with exact answers.

Expected values follow from IPCC 2006 Vol. 1 Ch. 3 Eq. 3.1/3.2 worked by hand in the comments
(no hesuan output is copied). The coverage test relies on the total being linear in normal
densities, where Approach 1 is exact, so Approach 2 must reproduce it within sampling error.
"""

from __future__ import annotations

import numpy as np
import pytest

from hesuan.land import equations as eq
from hesuan.land.carbon import run


def test_approach1_storage_by_hand(small):
    # Baseline: class 1 has 10 px, class 2 has 12 px, class 3 has 7 px, one nodata; 0.09 ha/px.
    # Class sd (pools independent): √(10² + 2² + 5² + 1²) = √130; √(2² + 1² + 8² + 0.5²) = √69.25.
    # Fully correlated within a class (Eq. 3.1 with exact area: U_k = σ_k / D_k, so the
    # class's sd in t C is A_k σ_k); Eq. 3.2 sums classes in quadrature.
    a1, a2 = 10 * 0.09, 12 * 0.09
    sd_expected = np.sqrt((a1**2) * 130 + (a2**2) * 69.25)
    res = run(small["base"], small["pools"], small["base"].parent / "o", mc_samples=0)
    got = res.summary.uncertainty.approach1["storage_base_t_c"]
    assert res.storage_base_t_c == pytest.approx(a1 * 180 + a2 * 56)
    assert got.sd == pytest.approx(sd_expected, rel=1e-12)
    assert got.ci95_high - res.storage_base_t_c == pytest.approx(1.959964 * sd_expected,
                                                                     rel=1e-6)


def test_unchanged_pixels_cancel_in_sequestration(small):
    # Over pixels valid in both maps, class 1 gains 2 − 1 = 1 px net (two shrub → forest, one
    # forest → shrub) and class 2 loses 1 px net; (3,0) is nodata in the alternate and drops out.
    # Hence var = (0.09 × 1)² × 130 + (0.09 × −1)² × 69.25 — the 8 unchanged forest pixels add
    # nothing, although they carry the same uncertain density.
    res = run(small["base"], small["pools"], small["base"].parent / "o", alt=small["alt"],
              mc_samples=0)
    got = res.summary.uncertainty.approach1["sequestration_t_c"]
    assert res.sequestration_t_c == pytest.approx(0.09 * (180 - 56))
    assert got.sd == pytest.approx(np.sqrt(0.09**2 * (130 + 69.25)), rel=1e-12)
    shares = res.summary.variance_share_by_class["sequestration_t_c"]
    assert shares["1"] == pytest.approx(130 / 199.25) and shares["3"] == 0


def test_monte_carlo_coverage_matches_analytic():
    """Approach 2 vs Approach 1 where Approach 1 is exact (linear total, normal inputs)."""
    rng = np.random.default_rng(1)
    k = 6
    area = rng.uniform(50, 500, k)  # [ha]
    mean = rng.uniform(5, 80, (k, 4))
    sd = mean * rng.uniform(0.05, 0.3, (k, 4))
    total = area @ mean.sum(axis=1)
    sd_a1, lo, hi = eq.ci95(total, eq.approach1_variance_by_class(area, sd).sum())
    n = 40_000
    draws = eq.monte_carlo_class_density(mean, sd, n, seed=7) @ area
    inside = np.mean((draws >= lo) & (draws <= hi))
    # Binomial standard error of a 95 % coverage with n draws: √(0.95 × 0.05 / n) ≈ 0.0011.
    assert abs(inside - 0.95) < 4 * np.sqrt(0.95 * 0.05 / n)
    assert np.std(draws, ddof=1) == pytest.approx(float(sd_a1), rel=0.02)
    q_lo, q_hi = np.percentile(draws, [2.5, 97.5])
    assert q_lo == pytest.approx(float(lo), rel=0.01) and q_hi == pytest.approx(float(hi),
                                                                                rel=0.01)


def test_monte_carlo_is_reproducible_with_a_seed(small):
    out = small["base"].parent
    a = run(small["base"], small["pools"], out / "a", alt=small["alt"], mc_samples=2000, seed=3)
    b = run(small["base"], small["pools"], out / "b", alt=small["alt"], mc_samples=2000, seed=3)
    c = run(small["base"], small["pools"], out / "c", alt=small["alt"], mc_samples=2000, seed=4)
    va, vb, vc = (r.summary.uncertainty.approach2["sequestration_t_c"].ci95_low
                  for r in (a, b, c))
    assert va == vb and va != vc


def test_interval_columns_give_the_same_sd(tmp_path, small):
    # A 95 % interval of ±1.959964 sd is the same information as the sd itself.
    rows = ["lucode,c_above,c_below,c_soil,c_dead,c_above_lo95,c_above_hi95"]
    z = eq.Z95
    rows += [f"1,100,20,50,10,{100 - z * 10},{100 + z * 10}", f"2,10,5,40,1,{10 - 2 * z},"
             f"{10 + 2 * z}", "3,0,0,0,0,0,0"]
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    res = run(small["base"], tmp_path / "p.csv", tmp_path / "o", mc_samples=0)
    got = res.summary.uncertainty.approach1["storage_base_t_c"].sd
    assert got == pytest.approx(np.sqrt((0.9 * 10) ** 2 + (1.08 * 2) ** 2))
