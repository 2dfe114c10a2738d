"""The equations of InVEST's habitat-quality model, one vectorised function each.

Source: InVEST user guide, "Habitat Quality" (Sharp et al., natcap.invest 3.20), section
"The Model", and the model's reference implementation (``natcap.invest.habitat_quality``
3.20.2), with which :mod:`tests.land.test_habitat_parity` checks these functions.

Symbols: x a pixel, j its land-cover class, r a threat, y a pixel of threat r;
d_xy [m] the distance between x and y, d_r,max [m] the threat's maximum distance;
w_r the threat's weight, S_jr the sensitivity of class j to threat r, β_x the
accessibility of x, H_j the habitat suitability of class j; z = 2.5 and k the
half-saturation constant.

Distance: InVEST 3.20 measures the threat's reach from the **nearest threat pixel**
(every pixel of the threat raster that is neither 0 nor nodata): d_xy is the exact
Euclidean distance transform of the threat mask (Meijster et al. 2002 in InVEST). Here the
same exact transform is computed by the ``edt`` package (Felzenszwalb & Huttenlocher 2012,
"Distance transforms of sampled functions", Theory of Computing 8:415–428: the exact squared
distance in two separable passes of lower envelopes of parabolas). InVEST up to 3.12
convolved the threat raster with a decay kernel instead; 3.13 returned to the distance form
of the user guide (InVEST decision record ADR-0003), which is the form implemented here.
The threat raster's values in (0, 1] are checked but, as in InVEST 3.20, they do not scale
the impact.
"""

from __future__ import annotations

import edt
import numpy as np
from numpy.typing import NDArray

#: The scaling parameter z of the half-saturation function (user guide, "Habitat quality"; InVEST's
#: ``_SCALING_PARAM``).
Z = 2.5

#: The constant of the exponential decay: exp(−2.99) ≈ 0.05, so the impact has fallen to
#: 5 % at d_r,max (user guide, exponential impact).
EXP_DECAY_CONSTANT = 2.99

DECAYS = ("linear", "exponential")

F = NDArray[np.floating]


def threat_distance_px(threat_present: NDArray[np.bool_]) -> NDArray[np.float32]:
    """[px] Euclidean distance from every pixel to the nearest threat pixel (float32).

    ``threat_present`` is the threat mask (True where the threat raster is neither 0 nor
    nodata). Pixels of a window without any threat get ``inf``. Distances are measured
    within the array: its edge is not a threat.
    """
    if not threat_present.any():
        return np.full(threat_present.shape, np.inf, dtype=np.float32)
    # edt measures, for every True pixel, the distance to the nearest False one; a boolean
    # array takes its binary path (≈ 1.6× faster than the same mask as uint8 labels).
    background = np.ascontiguousarray(~threat_present)
    return np.asarray(edt.edt(background, black_border=False, parallel=1),
                      dtype=np.float32)


def linear_decay(distance: F, max_distance: float, out: F | None = None) -> F:
    """Linear impact of a threat (user guide, "Relative impact of threats", linear).

    i_rxy = 1 − d_xy/d_r,max, 0 beyond d_r,max.

    Computed as InVEST does, (d_r,max − d_xy)/d_r,max, in the dtype of ``distance``
    (float32 in the model, as InVEST's rasters); beyond d_r,max that is negative and is
    clamped to 0.

    Parameters
    ----------
    distance : array [any length unit]
        Distance d_xy to the threat.
    max_distance : float [same unit]
        The threat's maximum distance d_r,max; the impact is 0 beyond it.
    out : array, optional
        Where to write the impact (same shape and dtype as ``distance``; the model reuses
        its arrays from block to block).
    """
    impact = np.asarray(np.subtract(max_distance, distance, out=out))  # 0-d: in place too
    impact /= max_distance
    np.maximum(impact, 0.0, out=impact)
    return impact


def exponential_decay(distance: F, max_distance: float, out: F | None = None) -> F:
    """Exponential impact of a threat, user guide, "Relative impact of threats", exponential.

    I_rxy = exp(−(2.99/d_r,max) · d_xy), set to 0 beyond d_r,max.

    Parameters as :func:`linear_decay`.
    """
    impact = np.asarray(np.multiply(distance, -EXP_DECAY_CONSTANT, out=out))
    impact /= max_distance
    np.exp(impact, out=impact)
    impact[distance > max_distance] = 0.0
    return impact


def decayed_threat(distance: F, max_distance: float, decay: str, out: F | None = None) -> F:
    """Return the impact i_rxy of one threat with its ``decay`` (``linear`` or ``exponential``).

    ``out`` as in :func:`linear_decay`.
    """
    if decay == "linear":
        return linear_decay(distance, max_distance, out)
    if decay == "exponential":
        return exponential_decay(distance, max_distance, out)
    raise ValueError(f"unknown decay {decay!r}; expected one of {DECAYS}")


def normalised_weights(weights: NDArray[np.floating]) -> NDArray[np.float64]:
    """Return the threat weights w_r / Σ_r w_r [-] of the total degradation D_xj.

    The user guide's weights, InVEST's ``weight_avg``.
    """
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if not total > 0:
        raise ValueError("the threat weights must sum to more than 0")
    return np.asarray(w / total, dtype=np.float64)


def threat_degradation(impact: F, weight: float, sensitivity: F,
                       access: F | float = 1.0, out: F | None = None) -> F:
    """One threat's term of the total degradation, user guide, "Total degradation" D_xj.

    (w_r / Σ w_r) · i_rxy · β_x · S_jr.

    Parameters
    ----------
    impact : array [-]
        i_rxy, the decayed threat (:func:`decayed_threat`).
    weight : float [-]
        The normalised weight w_r / Σ w_r (:func:`normalised_weights`).
    sensitivity : array [-]
        S_jr of each pixel's class.
    access : array or float [-]
        β_x, the accessibility (1 where no accessibility layer is given).
    out : array, optional
        Where to write the term (shape and dtype of ``impact``; may be ``impact`` itself).
    """
    term = np.asarray(np.multiply(impact, sensitivity, out=out))
    term *= weight
    if not (np.isscalar(access) and access == 1.0):
        term *= access
    return term


def habitat_quality(degradation: F, habitat: F, half_saturation: float,
                    z: float = Z, work: F | None = None) -> F:
    """Habitat quality, user guide, "Habitat quality": Q_xj = H_j (1 − D_xj^z / (D_xj^z + k^z)).

    Computed in the dtype of ``degradation`` (float32 in the model, as InVEST's rasters),
    in InVEST's order of operations.

    Parameters
    ----------
    degradation : array [-]
        D_xj, the total degradation (sum of :func:`threat_degradation` over the threats).
    habitat : array [-]
        H_j, the habitat suitability of each pixel's class, in [0, 1].
    half_saturation : float [-]
        k, the half-saturation constant (InVEST's default 0.05; a common choice is half the
        largest D_xj of the study area).
    z : float [-]
        The scaling parameter (2.5 in InVEST).
    work : array, optional
        Scratch array for D_xj^z + k^z (shape and dtype of ``degradation``; the model
        reuses its arrays from block to block).
    """
    quality = np.asarray(np.power(degradation, z))
    denominator = np.add(quality, half_saturation ** z, out=work)
    np.divide(quality, denominator, out=quality)
    np.subtract(1.0, quality, out=quality)
    quality *= habitat
    return quality
