"""IPCC 2006 Vol. 4 Ch. 2 equations, one test per equation.

The expected numbers here are HAND-CHECKABLE cases computed from the printed equation forms
(each comment shows the arithmetic); the factor values used are real defaults (their dataset
ids are named) so the cases double as worked examples in docs/land.md. The IPCC's own printed
examples (Vol. 4 Ch. 5, Eqs. 2.7 and 2.25) are recomputed in test_ipcc_published_examples.py;
no printed example of Eqs. 2.9-2.14 with R, BCEF and CF was found (see that module).
"""

from __future__ import annotations

import numpy as np
import pytest

from hesuan.land.ipcc import equations as eq


def test_co2_is_exactly_44_over_12_and_removals_negative():
    # Section 2.2.3: C x 44/12. A gain of 12 t C is a removal of 44 t CO2 (negative emission).
    assert eq.co2_emission_t(12.0) == pytest.approx(-44.0, rel=1e-15)
    assert eq.co2_emission_t(-3.0) == pytest.approx(11.0, rel=1e-15)
    assert eq.CO2_PER_C == 44.0 / 12.0
    assert str(eq.co2_emission_t(0.0)) == "0.0"  # no "-0.0" in outputs


def test_eq_2_9_2_10_gain_tier1():
    # 1000 ha young African rainforest, 2006 Table 4.9 G_W = 10 t d.m./ha/yr
    # (gw.tropical.rainforest.africa.le20), Table 4.4 R = 0.37, Table 4.3 CF = 0.47:
    # G_TOTAL = 10 x 1.37 = 13.7; dC_G = 1000 x 13.7 x 0.47 = 6439 t C/yr.
    g_total = eq.total_growth_from_net_growth_t_dm_per_ha_yr(10.0, 0.37)
    assert g_total == pytest.approx(13.7)
    assert eq.biomass_gain_t_c_per_yr(1000.0, g_total, 0.47) == pytest.approx(6439.0)


def test_eq_2_10_increment_form_and_bcef_is_bef_times_density():
    # I_V = 8 m3/ha/yr, BCEF_I = BEF x D = 1.3 x 0.5 = 0.65 t d.m./m3, R = 0.25:
    # G_TOTAL = 8 x 0.65 x 1.25 = 6.5 t d.m./ha/yr. Using the BEF (1.3) as if it were a BCEF
    # would give 13.0: the 1/D error the trap warns about.
    bcef_i = 1.3 * 0.5
    assert eq.total_growth_from_increment_t_dm_per_ha_yr(8.0, bcef_i, 0.25) == pytest.approx(6.5)
    assert eq.total_growth_from_increment_t_dm_per_ha_yr(8.0, 1.3, 0.25) == pytest.approx(13.0)


def test_eq_2_12_wood_removals():
    # H = 10 000 m3/yr, BCEF_R = 0.77 (2006 Table 4.5 temperate pines 100-200 m3/ha),
    # R = 0.29, CF = 0.47: 10 000 x 0.77 x 1.29 x 0.47 = 4668.51 t C/yr.
    assert eq.wood_removal_loss_t_c_per_yr(10_000.0, 0.77, 0.29, 0.47) == pytest.approx(4668.51)


def test_eq_2_13_fuelwood():
    # [100 x 1.0 x 1.2 + 50 x 0.5] x 0.5 = (120 + 25) x 0.5 = 72.5 t C/yr.
    assert eq.fuelwood_loss_t_c_per_yr(100.0, 50.0, 1.0, 0.2, 0.5, 0.5) == pytest.approx(72.5)


def test_eq_2_14_disturbance():
    # 10 ha x 100 t d.m./ha x 1.2 x 0.5 x fd 0.5 = 300 t C/yr.
    assert eq.disturbance_loss_t_c_per_yr(10.0, 100.0, 0.2, 0.5, 0.5) == pytest.approx(300.0)


def test_eq_2_11_and_2_7_gain_minus_loss():
    loss = eq.biomass_loss_t_c_per_yr(4668.51, 72.5, 300.0)
    assert loss == pytest.approx(5041.01)
    assert eq.gain_loss_biomass_change_t_c_per_yr(6439.0, loss) == pytest.approx(1397.99)


def test_eq_2_8_stock_difference_and_stock():
    # C = A x V x BCEF_S x (1 + R) x CF = 100 ha x 150 m3/ha x 0.7 x 1.29 x 0.47 = 6366.15 t C
    stock = eq.biomass_carbon_stock_t_c(100.0, 150.0, 0.7, 0.29, 0.47)
    assert stock == pytest.approx(6366.15)
    assert eq.stock_difference_change_t_c_per_yr(1000.0, 1500.0, 2010, 2020) == pytest.approx(50.0)
    with pytest.raises(ValueError):
        eq.stock_difference_change_t_c_per_yr(1000.0, 1500.0, 2020, 2020)


def test_gain_loss_and_stock_difference_agree_on_a_growing_stand():
    # A stand that only grows: stock difference over 5 years equals the gain-loss rate.
    gain = eq.biomass_gain_t_c_per_yr(50.0, eq.total_growth_from_net_growth_t_dm_per_ha_yr(
        4.0, 0.29), 0.47)
    c1 = 10_000.0
    c2 = c1 + 5 * gain
    assert eq.stock_difference_change_t_c_per_yr(c1, c2, 2000, 2005) == pytest.approx(
        eq.gain_loss_biomass_change_t_c_per_yr(gain, 0.0))


def test_eq_2_25_soc_stock_and_change_over_d_or_t():
    # SOC = 88 x 0.69 x 1.15 x 1 x 1000 ha (2006 warm temperate moist HAC; long-term
    # cultivated, no-till, medium input) = 69 828 t C; before (full tillage): 60 720 t C.
    before = eq.soc_stock_t_c(88.0, 0.69, 1.0, 1.0, 1000.0)
    now = eq.soc_stock_t_c(88.0, 0.69, 1.15, 1.0, 1000.0)
    assert (before, now) == (pytest.approx(60_720.0), pytest.approx(69_828.0))
    # T = 10 <= D = 20: (69 828 - 60 720) / 20 = 455.4 t C/yr
    assert eq.soc_change_t_c_per_yr(now, before, 10) == pytest.approx(455.4)
    # T = 30 > D: divide by T: 9108 / 30 = 303.6 t C/yr
    assert eq.soc_change_t_c_per_yr(now, before, 30) == pytest.approx(303.6)
    with pytest.raises(ValueError):
        eq.soc_change_t_c_per_yr(now, before, 0)


def test_equations_broadcast_over_arrays():
    areas = np.array([1.0, 2.0, 3.0])
    out = eq.biomass_gain_t_c_per_yr(areas, 10.0, 0.5)
    np.testing.assert_allclose(out, [5.0, 10.0, 15.0])
    np.testing.assert_allclose(eq.soc_change_t_c_per_yr(np.array([30.0, 30.0]), 10.0,
                                                        np.array([10.0, 40.0])), [1.0, 0.5])
