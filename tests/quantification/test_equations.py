"""The equations of hesuan.quantification recomputed by hand from their published forms.

Sources of expected values:
- Student's t quantiles: any printed t table (e.g. NIST/SEMATECH e-Handbook of Statistical
  Methods, section 1.3.6.7.2, "Critical values of the Student's t distribution"): two-sided
  90 % (upper tail 0.05) t = 1.812 for 10 degrees of freedom, 1.697 for 30, 2.015 for 5.
- Cairns, Brown, Helmer & Baumgardner (1997), Oecologia 111:1–11: root biomass density
  = exp(−1.0850 + 0.9256 · ln(above-ground biomass density)), both in t/ha; the default
  root-to-shoot function of AR-TOOL14 v04.2 Appendix 1 [T14 p.25] is this divided by the AGB.
- IPCC 2006 Vol. 4 Table 4.3: CF = 0.47 (the shipped ipcc2006_afolu record cf.all.all),
  the same value as AR-TOOL14's CF_TREE default.
- AR-TOOL14 v04.2 (EB 85, Annex 22): every equation, default and the two worked examples as
  printed, with the printed page [T14 p.N], read in the UNFCCC PDF (tests/quantification/
  SOURCE.md: the copy, its SHA-256, and how the equations were read). Worked examples
  recomputed here: the definition of uncertainty, §3 para 6(a) [T14 p.4–5] (mean 45.328
  t d.m./ha, n = 34, s = 12.776 → SEM 2.191, × t(0.1, 33) = 1.692 → 3.707, U = 8.18 %),
  Appendix 2 [T14 p.28] (60 ± 9 t d.m./ha → U = 15 %, discount 25 % × 9 = 2.25,
  conservative mean 57.75 in the project, 62.25 in the baseline), and the fractional
  period of §7 note 1 [T14 p.12] (4 years and 5 months → T = 4.417 yr).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hesuan.quantification import equations as eq
from hesuan.quantification.parameters import load_parameter_set
from hesuan.standards import resolve_factor


@pytest.mark.parametrize(("dof", "expected"), [(10, 1.812), (30, 1.697), (5, 2.015)])
def test_t_value_matches_the_printed_t_table(dof: int, expected: float) -> None:
    # AR-TOOL14 eq. (15) [T14 p.14]: two-sided t at 90 % with n − M degrees of freedom
    assert eq.t_value(0.90, dof) == pytest.approx(expected, abs=5e-4)


def test_default_root_shoot_is_cairns_1997_over_agb() -> None:
    # Cairns et al. 1997: BGB = exp(-1.0850 + 0.9256 ln AGB); at AGB = 100 t/ha,
    # ln 100 = 4.605170, exponent = 3.177546, BGB = 23.988 t/ha → R = 0.23988
    r = eq.root_shoot_default(np.array([100.0, 0.0]))
    assert r[0] == pytest.approx(math.exp(-1.085 + 0.9256 * math.log(100.0)) / 100.0)
    assert r[0] == pytest.approx(0.23988, abs=1e-5)
    assert r[1] == 0.0          # no biomass, no roots (not a division by zero)


def test_volume_form_is_v_d_bef_one_plus_r() -> None:
    # AR-TOOL14 Appendix 1 eq. (5) [T14 p.24]: B = V · D · BEF2 · (1 + R); V = 120 m3,
    # D = 0.45 t/m3, BEF2 = 1.15,
    # R = 0.25 → 120·0.45 = 54; ·1.15 = 62.1; ·1.25 = 77.625 t d.m.; carbon
    # 44/12 · 0.47 = 1.723333; · 77.625 = 133.7738 t CO2e (eq. (12))
    agb = eq.agb_from_volume_t(np.array([120.0]), 0.45, 1.15)
    b = eq.total_biomass(agb, 0.25)
    assert b[0] == pytest.approx(77.625)
    assert eq.carbon_stock_t_co2e(b, 0.47)[0] == pytest.approx(44 / 12 * 0.47 * 77.625)
    assert eq.carbon_stock_t_co2e(b, 0.47)[0] == pytest.approx(133.7737, abs=1e-4)


def test_allometric_power_form() -> None:
    # AR-TOOL14 Appendix 1 eq. (4) [T14 p.24] with a power-law f_j(DBH, H) = a · DBH^b · H^c:
    # a = 0.05, b = 2, c = 0.6, DBH 20 cm, H 16 m
    # → 0.05 · 400 · 16^0.6 = 20 · 5.278 = 105.56 kg; and with c = 0 the height is ignored
    df = pl.DataFrame({"d": [20.0, 20.0], "h": [16.0, 99.0], "a": [0.05, 0.06],
                       "b": [2.0, 2.5], "c": [0.6, 0.0]})
    out = df.select(eq.agb_allometric_kg(pl.col("d"), pl.col("h"), pl.col("a"), pl.col("b"),
                                         pl.col("c")).alias("x"))["x"].to_list()
    assert out[0] == pytest.approx(0.05 * 400 * 16 ** 0.6)
    assert out[0] == pytest.approx(105.56, abs=0.01)
    assert out[1] == pytest.approx(0.06 * 20 ** 2.5)


def test_stratified_estimators_equal_the_textbook_forms() -> None:
    # AR-TOOL14 eqs. (14)–(17) [T14 p.14–15] (the stratified random sampling estimators,
    # Cochran 1977 §5.2–5.3):
    # mean Σ w_i ȳ_i, variance of the mean Σ w_i² s_i² / n_i with s_i² the n − 1 variance
    rng = np.random.default_rng(1)
    a, b = rng.normal(50, 8, 12), rng.normal(80, 15, 7)
    values = np.concatenate([a, b])
    idx = np.array([0] * 12 + [1] * 7)
    mean, var, n = eq.stratum_mean_variance(values, idx, 2)
    assert mean == pytest.approx([a.mean(), b.mean()])
    assert var == pytest.approx([a.var(ddof=1), b.var(ddof=1)])
    w = np.array([300.0, 100.0]) / 400.0
    s2 = eq.stratified_variance_of_mean(w, var, n)
    assert eq.stratified_mean(w, mean) == pytest.approx(0.75 * a.mean() + 0.25 * b.mean())
    assert s2 == pytest.approx(0.75**2 * a.var(ddof=1) / 12 + 0.25**2 * b.var(ddof=1) / 7)
    u = eq.relative_uncertainty(eq.t_value(0.9, 17), s2, eq.stratified_mean(w, mean))
    assert u == pytest.approx(eq.t_value(0.9, 17) * math.sqrt(s2) / eq.stratified_mean(w, mean))


def test_uncertainty_of_a_difference_adds_half_widths_in_quadrature() -> None:
    # AR-TOOL14 §6.1 eq. (2) [T14 p.7]: stocks 1000 ± 8 % and 3000 ± 6 % → half-widths 80 and 180,
    # √(80² + 180²) = 196.977; over the change 2000 → 9.849 %
    assert eq.uncertainty_of_difference(1000, 0.08, 3000, 0.06) == pytest.approx(
        math.hypot(80, 180) / 2000)
    assert eq.uncertainty_of_difference(1000, 0.08, 3000, 0.06) == pytest.approx(0.098489,
                                                                                 abs=1e-6)


@pytest.mark.parametrize(("u", "fraction"), [
    (0.05, 0.0), (0.10, 0.0), (0.1001, 0.25), (0.15, 0.25), (0.17, 0.5), (0.20, 0.5),
    (0.25, 0.75), (0.30, 0.75), (0.31, 1.0), (2.0, 1.0)])
def test_discount_table_as_printed(u: float, fraction: float) -> None:
    # AR-TOOL14 v04.2 Appendix 2 Table 1 [T14 p.28]: "U ≤ 10%" 0 %; "10 < U ≤ 15" 25 %;
    # "15 < U ≤ 20" 50 %; "20 < U ≤ 30" 75 %; "U > 30" 100 % (of U, the half-width)
    assert eq.discount_fraction(u) == fraction


def test_ar_tool14_worked_example_of_uncertainty() -> None:
    # AR-TOOL14 v04.2, definition of uncertainty [T14 p.4–5], one stratum: mean 45.328
    # t d.m./ha, n = 34 plots, s = 12.776; SEM = 12.776 / √34 = 2.191; t(0.1, 33) = 1.692
    # (df = n − M = 33, eq. (15)); half-width 3.707; U = 3.707 / 45.328 = 8.18 %.
    t_val = eq.t_value(0.90, 34 - 1)
    assert t_val == pytest.approx(1.692, abs=5e-4)
    var_mean = eq.stratified_variance_of_mean(np.array([1.0]), np.array([12.776 ** 2]),
                                              np.array([34.0]))
    assert math.sqrt(var_mean) == pytest.approx(2.191, abs=5e-4)
    u = eq.relative_uncertainty(t_val, var_mean, 45.328)
    # the tool multiplies its rounded intermediates: 2.191 · 1.692 = 3.707 (unrounded 3.708)
    assert round(math.sqrt(var_mean), 3) * round(t_val, 3) == pytest.approx(3.707, abs=5e-4)
    assert t_val * math.sqrt(var_mean) == pytest.approx(3.707, abs=1.5e-3)
    assert 100 * u == pytest.approx(8.18, abs=5e-3)
    assert eq.discount_fraction(u) == 0.0       # ≤ 10 %: no discount (Appendix 2)


def test_ar_tool14_worked_example_of_the_discount() -> None:
    # AR-TOOL14 v04.2 Appendix 2 Table 1 [T14 p.28]: "Estimated mean = 60±9 t d.m ha-1",
    # "U=9/60x100 = 15%", "Discount = 25% x 9 = 2.25"; "In baseline = 60+2.25 = 62.25",
    # "In project = 60-2.25 = 57.75". hesuan discounts the project's estimate; the baseline
    # figure is the same deduction added.
    u = 9.0 / 60.0
    assert eq.discount_fraction(u) == 0.25      # 10 < U ≤ 15 → 25 %: 15 % is inclusive
    credited, deduction = eq.discounted_change(60.0, u)
    assert deduction == pytest.approx(2.25)
    assert credited == pytest.approx(57.75)
    assert 60.0 + deduction == pytest.approx(62.25)


def test_discounted_change_deducts_that_share_of_the_half_width() -> None:
    # ΔC = 10 000 t CO2e, u = 12 % → half-width 1 200, 25 % of it = 300 deducted
    credited, deduction = eq.discounted_change(10_000.0, 0.12)
    assert (credited, deduction) == (pytest.approx(9_700.0), pytest.approx(300.0))
    assert eq.discounted_change(10_000.0, 0.08) == (10_000.0, 0.0)   # U ≤ 10 %: none


def test_the_project_estimate_is_always_lowered() -> None:
    # AR-TOOL14 v04.2 Appendix 2 para 2 [T14 p.28]: the mean "is either increased or
    # decreased by a percentage of the uncertainty" — decreased in the project, whatever
    # its sign, and not capped. A loss of 50 ± 25 (U = 50 % → 100 % of U): 50 − 25 → −75.
    assert eq.discounted_change(-50.0, 0.5) == (pytest.approx(-75.0), pytest.approx(25.0))
    # a removal of 10 ± 12 (U = 120 % → 100 %): 10 − 12 = −2, below zero
    assert eq.discounted_change(10.0, 1.2) == (pytest.approx(-2.0), pytest.approx(12.0))
    # no finite uncertainty (a zero mean): nothing is credited
    assert eq.discounted_change(10.0, math.inf) == (0.0, 10.0)


@pytest.mark.parametrize(("cover", "threshold", "applies"), [
    (0.059, 0.30, True), (0.06, 0.30, False), (0.0, 0.10, True), (0.02, 0.10, False)])
def test_crown_cover_method_limit_of_the_tool(cover: float, threshold: float,
                                              applies: bool) -> None:
    # AR-TOOL14 v04.2 §6.3 para 24 [T14 p.10]: "less than 20 per cent of 30 per cent (i.e.
    # less than 6 per cent)"; at a 10 % threshold the limit is 2 % (strictly below)
    assert eq.crown_cover_method_applies(cover, threshold) is applies


def test_fractional_period_of_the_annual_change() -> None:
    # AR-TOOL14 v04.2 §7 eq. (11), note 1 [T14 p.12]: "an interval of 4 years and 5 months
    # implies T = 4.417 yr"; (C_t2 − C_t1) / T: (5 417 − 1 000) / 4.417 = 1 000 t CO2e / yr
    assert eq.stock_change_per_year(1_000.0, 5_417.0, 4.417) == pytest.approx(1_000.0)


def test_stratum_variance_is_eq_17_as_printed() -> None:
    # AR-TOOL14 v04.2 §8.1.1 eq. (17) [T14 p.15]: s_i² = (n_i · Σ b² − (Σ b)²) / (n_i · (n_i − 1)),
    # and eq. (16) b_i = Σ b / n_i. Plots 40, 50, 60 t d.m./ha: Σ b = 150, Σ b² = 7 700;
    # s² = (3 · 7 700 − 150²) / (3 · 2) = (23 100 − 22 500) / 6 = 100; mean 50
    mean, var, n = eq.stratum_mean_variance(np.array([40.0, 50.0, 60.0]),
                                            np.array([0, 0, 0]), 1)
    assert (mean[0], var[0], n[0]) == (pytest.approx(50.0), pytest.approx(100.0), 3.0)


def test_default_root_shoot_as_printed_in_the_tool() -> None:
    # AR-TOOL14 v04.2 Appendix 1, R_j [T14 p.25]: R_j = e^(−1.085 + 0.9256 × ln b) / b,
    # b in t d.m./ha. At b = 50: ln 50 = 3.912023, exponent −1.085 + 3.620968 = 2.535968,
    # e^2.535968 = 12.62866 t d.m./ha of roots, R = 12.62866 / 50 = 0.252573
    assert eq.root_shoot_default(np.array([50.0]))[0] == pytest.approx(0.252573, abs=2e-6)


def test_lower_bound_rule() -> None:
    assert eq.lower_bound_change(10_000.0, 0.12, 0.10) == (pytest.approx(8_800.0),
                                                           pytest.approx(1_200.0))
    assert eq.lower_bound_change(10_000.0, 0.10, 0.10) == (10_000.0, 0.0)


def test_lower_bound_rule_credits_the_bound_of_a_loss_and_of_a_wide_interval() -> None:
    # The lower bound of change ± u·|change| is change − u·|change| whatever the sign: a
    # loss of 100 ± 20 % is credited as a loss of 120, a gain of 10 ± 120 % as a loss of 2.
    assert eq.lower_bound_change(-100.0, 0.2, 0.10) == (pytest.approx(-120.0),
                                                        pytest.approx(20.0))
    assert eq.lower_bound_change(10.0, 1.2, 0.10) == (pytest.approx(-2.0),
                                                      pytest.approx(12.0))
    assert eq.lower_bound_change(10.0, math.inf, 0.10) == (0.0, 10.0)
    assert eq.lower_bound_change(-10.0, 0.05, 0.10) == (-10.0, 0.0)


def test_shrubs_zero_under_five_percent_cover() -> None:
    # AR-TOOL14 §11 paras 60–61, eqs. (26)–(27) [T14 p.20–21]: B = (1 + R_S) · A · BDR_SF ·
    # b_FOREST · CC, zero under 5 % cover; 100 ha, 30 % cover,
    # b_FOREST 60 t/ha, BDR_SF 0.1, R_S 0.4 → 1.4 · 100 · 0.1 · 60 · 0.3 = 252 t d.m.
    b = eq.shrub_biomass_t(np.array([100.0, 100.0]), np.array([0.30, 0.04]), 60.0, 0.10,
                           0.40, 0.05)
    assert b[0] == pytest.approx(252.0)
    assert b[1] == 0.0


def test_shipped_tool_defaults_are_the_printed_ones_and_cf_matches_ipcc() -> None:
    # AR-TOOL14 v04.2: CF_TREE 0.47 (eq. (12), p.14), BEF2 ex post 1.15 (Appendix 1, p.26),
    # CF_S 0.47 and R_S 0.40 (eq. (26), p.20), BDR_SF 0.10 (eq. (27), p.21), shrub cover
    # under 5 % counts as zero (para 60, p.20), t_VAL at 90 % (eq. (15), p.14), discount
    # above 10 % (Appendix 2, p.28); all read in the PDF (SOURCE.md), so verified
    d = load_parameter_set("ar_tool14_defaults@04.2")
    assert {p.id: p.value for p in d.parameters.values()} == {
        "cf_tree": 0.47, "bef2": 1.15, "cf_shrub": 0.47, "root_shoot_shrub": 0.40,
        "bdr_sf": 0.10, "shrub_cover_min": 0.05, "confidence": 0.90, "precision_target": 0.10}
    assert all(p.verified for p in d.parameters.values())
    assert all("T14 p." in p.locator for p in d.parameters.values())
    # cross-check: IPCC 2006 Vol. 4 Table 4.3 as read from the IPCC EFDB (ipcc2006_afolu)
    assert resolve_factor("ipcc2006_afolu@2006:cf.all.all").value == d.value("cf_tree")


@given(units=st.integers(0, 10**9),
       days=st.dictionaries(st.integers(2000, 2100), st.integers(1, 366), min_size=1,
                            max_size=12))
def test_vintages_add_up_to_the_units(units: int, days: dict[int, int]) -> None:
    out = eq.split_vintages(units, days)
    assert sum(out.values()) == units and set(out) == set(days)
    assert all(v >= 0 for v in out.values())
