"""The RWEQ functions of :mod:`hesuan.land.gep.equations` against the identities of the
RWEQ transport curve (Fryrear et al. 2000, J. Soil Water Conserv. 55(2):183–189): mass
transported at distance x downwind, Q(x) = Q_max (1 − e^(−(x/s)²)), of which the soil loss
S_L is the derivative along the wind, and s the critical field length at which Q reaches
1 − e⁻¹ ≈ 63 % of Q_max; and against the equations as the GEP literature prints them:

- Peng 2017: 彭建, 武文欢, 刘焱序, 胡熠娜, 基于PSR框架的内蒙古自治区土壤保持服务分区,
  生态学报 2017 37(11):3849–3861, Section 1.2.2(1) (citing Fryrear et al. 2000):
  S_SL = (2z/S²)·Q_max·e^(−(z/S)²), S = 150.71·(WF·EF·SCF·K'·C)^−0.3711,
  Q_max = 109.8·(WF·EF·SCF·K'·C); the potential S_PL, S_P, Q_maxP the same without C;
  soil kept S_L = S_PL − S_SL.
- Liu 2018: 刘菁华 et al., 京津冀城市群扩张模式对区域生态安全的影响预测, 生态学报 2018
  38(5):1650–1660, Eqs. 2–4 (the same three equations).

Both read on the ChinaXiv full-text mirror DreamBlooms/ChinaXiv-201601-to-202209
(md/ChinaXiv-201706.00467V1.md, md/ChinaXiv-201803.01078V1.md). Fryrear et al. 1998/2000
themselves were not read, and no published worked example of RWEQ with its input factors
was found: the tests fix the form and the printed constants, not a published result.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from hesuan.land.gep import equations as eq

FACTORS = {"wf": 35.0, "ef": 0.45, "scf": 0.8, "k_rough": 0.9}  # WF in kg/m


def transport(x_m: float, cog: float) -> float:
    q_max = float(eq.rweq_q_max_kg_per_m(cog=cog, **FACTORS))
    s = float(eq.rweq_critical_length_m(cog=cog, **FACTORS))
    return q_max * (1.0 - math.exp(-((x_m / s) ** 2)))


@pytest.mark.parametrize("cog", [1.0, 0.3])
@pytest.mark.parametrize("length_m", [20.0, 50.0, 400.0])
def test_soil_loss_integrates_to_the_transport_curve(cog, length_m):
    q_max = float(eq.rweq_q_max_kg_per_m(cog=cog, **FACTORS))
    s = float(eq.rweq_critical_length_m(cog=cog, **FACTORS))
    mass, _ = integrate.quad(lambda z: float(eq.rweq_soil_loss_kg_per_m2(q_max, s, z)), 0.0,
                             length_m)
    assert mass == pytest.approx(transport(length_m, cog), rel=1e-9)


def test_critical_length_is_where_transport_reaches_63_percent():
    product = math.prod(FACTORS.values())
    s = float(eq.rweq_critical_length_m(cog=1.0, **FACTORS))
    assert s == pytest.approx(150.71 * product ** -0.3711)
    assert transport(s, 1.0) == pytest.approx((1 - math.exp(-1)) * 109.8 * product)
    # The loss per m² peaks at z = s/√2 (derivative of 2z/s² e^(−(z/s)²) vanishes there).
    z = np.linspace(0.5 * s, 1.0 * s, 20001)
    loss = eq.rweq_soil_loss_kg_per_m2(109.8 * product, s, z)
    assert z[int(np.argmax(loss))] == pytest.approx(s / math.sqrt(2), rel=1e-4)


def test_sand_fixation_is_potential_minus_actual_in_tonnes():
    area = 900.0  # one 30 m pixel [m²]
    cog = np.array([1.0, 0.4, 0.05])
    fixed = eq.sand_fixation_t(cog=cog, z_m=50.0, area_m2=area, **FACTORS)

    def loss(c: float) -> float:
        q = float(eq.rweq_q_max_kg_per_m(cog=c, **FACTORS))
        s = float(eq.rweq_critical_length_m(cog=c, **FACTORS))
        return 2 * 50.0 / s ** 2 * q * math.exp(-((50.0 / s) ** 2))

    expected = [(loss(1.0) - loss(c)) * area / 1000.0 for c in cog]
    np.testing.assert_allclose(fixed, expected, rtol=1e-12)
    assert fixed[0] == 0.0  # bare soil (COG = 1) fixes nothing


PRINTED_QMAX = 109.8  # Peng 2017 Section 1.2.2(1); Liu 2018 Eq. 2
PRINTED_S = 150.71  # Peng 2017 Section 1.2.2(1); Liu 2018 Eq. 3 (not 105.71)
PRINTED_EXPONENT = -0.3711  # Peng 2017 Section 1.2.2(1); Liu 2018 Eq. 3


@pytest.mark.parametrize("product", [1.0, 0.05, 12.6])
def test_constants_are_the_printed_150_71_and_109_8(product):
    factors = {"wf": product, "ef": 1.0, "scf": 1.0, "k_rough": 1.0, "cog": 1.0}
    s = float(eq.rweq_critical_length_m(**factors))
    assert s == pytest.approx(PRINTED_S * product ** PRINTED_EXPONENT, rel=1e-12)
    assert float(eq.rweq_q_max_kg_per_m(**factors)) == pytest.approx(PRINTED_QMAX * product,
                                                                   rel=1e-12)
    # The transposed 105.71 of some scripts gives a critical length 30 % shorter.
    assert s != pytest.approx(105.71 * product ** PRINTED_EXPONENT, rel=0.01)


def test_sand_fixation_is_peng_2017_potential_minus_actual():
    """S_L = S_PL − S_SL with Peng 2017's printed equations (kg/m²), over a 250 m pixel."""
    wf, ef, scf, k, z, area = 48.0, 0.38, 0.71, 0.62, 50.0, 62_500.0
    cog = np.array([0.9, 0.45, 0.08])

    def printed_loss(c):
        p = wf * ef * scf * k * c
        s = PRINTED_S * p ** PRINTED_EXPONENT
        return 2 * z / s ** 2 * (PRINTED_QMAX * p) * np.exp(-((z / s) ** 2))

    expected_t = (printed_loss(1.0) - printed_loss(cog)) * area / 1000.0
    got = eq.sand_fixation_t(wf=wf, ef=ef, scf=scf, k_rough=k, cog=cog, z_m=z, area_m2=area)
    np.testing.assert_allclose(got, expected_t, rtol=1e-12)
    assert np.all(got > 0)  # vegetation (C < 1) keeps soil in place at z = 50 m here
