"""Independent NumPy statements of the transport equations, for the tests only.

Each is written from the cited text (CLECAT/UBA guide to ISO 14083, 2024, Table 3, pp. 22–23;
Case A, p. 48), not from hesuan's Polars functions, so the tests compare two readings of the
same clause. hesuan never runs these.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius R1 (Moritz 2000)


def standard_distance(distance_km: ArrayLike, bases: ArrayLike,
                      modes: ArrayLike) -> NDArray[np.float64]:
    """actual → SFD/GCD: air − 95 km, road ÷ 1.05, sea ÷ 1.15, rail/IWW unchanged."""
    d = np.asarray(distance_km, dtype=np.float64)
    b, m = np.asarray(bases), np.asarray(modes)
    actual = b == "actual"
    return np.select([actual & (m == "road"), actual & (m == "sea"), actual & (m == "air")],
                     [d / 1.05, d / 1.15, d - 95.0], default=d)


def actual_distance(distance_km: ArrayLike, modes: ArrayLike) -> NDArray[np.float64]:
    """SFD/GCD → actual: air + 95 km, road × 1.05, sea × 1.15."""
    d = np.asarray(distance_km, dtype=np.float64)
    m = np.asarray(modes)
    return np.select([m == "road", m == "sea", m == "air"], [d * 1.05, d * 1.15, d + 95.0],
                     default=d)


def standard_intensity(g: ArrayLike, bases: ArrayLike, modes: ArrayLike,
                       distance_km: ArrayLike) -> NDArray[np.float64]:
    """g per actual t·km → g per SFD/GCD t·km: g × actual / standard."""
    g = np.asarray(g, dtype=np.float64)
    d = np.asarray(distance_km, dtype=np.float64)
    return g * actual_distance(d, modes) / d * (np.asarray(bases) == "actual") \
        + g * (np.asarray(bases) != "actual")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float,
                 radius_km: float = EARTH_RADIUS_KM) -> float:
    """Great-circle distance on a sphere (Sinnott 1984, Sky and Telescope 68(2): 159)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return float(2 * radius_km * np.arcsin(np.sqrt(h)))
