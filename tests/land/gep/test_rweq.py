"""The RWEQ functions of :mod:`hesuan.land.gep.equations` against the identities of the
RWEQ transport curve (Fryrear et al. 2000, J. Soil Water Conserv. 55(2):183–189): mass
transported at distance x downwind, Q(x) = Q_max (1 − e^(−(x/s)²)), of which the soil loss
S_L is the derivative along the wind, and s the critical field length at which Q reaches
1 − e⁻¹ ≈ 63 % of Q_max.

No published worked example of RWEQ could be read (see the module's docstring): these tests
fix the form (the 2z/s² factor, the square in the exponent, the exponent −0.3711 acting on
the factor product) and the constants' roles, not the constants' published values.
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
