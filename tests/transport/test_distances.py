"""Distance bases and their conversions (ISO 14083:2023 clause 7.2; CLECAT guide Table 3,
pp. 22–23: air actual = GCD + 95 km, road actual = SFD × 1.05, sea actual = SFD × 1.15,
rail/IWW unchanged)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from hesuan.transport import calculate
from hesuan.transport.distance import (
    distance_rule,
    geodesic_km,
    sea_route_km,
    to_standard_basis,
)
from hesuan.transport.intensity import intensity_to_standard_basis

from .oracles import (
    actual_distance,
    haversine_km,
    standard_distance,
    standard_intensity,
)

MODES = ["road", "rail", "inland_waterway", "sea", "air"]


def _distances(d: list[float], bases: list[str], modes: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame({"d": d, "b": bases, "m": modes})
    return frame.select(to_standard_basis(pl.col("d"), pl.col("b"), pl.col("m")).alias("std"),
                        distance_rule(pl.col("d"), pl.col("b"), pl.col("m")).cast(pl.String)
                        .alias("rule"))


def test_actual_to_standard_per_mode() -> None:
    # CLECAT Table 3, p. 23: 1050 km actual road = 1000 SFD; 1150 sea = 1000; 1095 air = 1000.
    out = _distances([1050.0, 1000, 1000, 1150, 1095], ["actual"] * 5, MODES)
    assert out["std"].to_list() == pytest.approx([1000, 1000, 1000, 1000, 1000])
    assert out["rule"].to_list() == ["actual/1.05", "actual=sfd", "actual=sfd", "actual/1.15",
                                     "actual-95km"]


def test_standard_given_is_used_as_is() -> None:
    out = _distances([500.0] * 5, ["sfd"] * 4 + ["gcd"], MODES)
    assert out["std"].to_list() == pytest.approx([500.0] * 5)
    assert set(out["rule"]) == {"as_given"}


def test_round_trip_and_oracle_agree() -> None:
    rng = np.random.default_rng(7)
    modes = list(rng.choice(MODES, 500))
    bases = list(rng.choice(["actual", "sfd", "gcd"], 500))
    d = rng.uniform(100, 20_000, 500)
    got = _distances(list(d), bases, modes)["std"].to_numpy()
    assert got == pytest.approx(standard_distance(d, bases, modes), rel=1e-15)
    std = np.array([12.0, 250.0, 80.0, 9000.0, 6200.0])
    back = _distances(list(actual_distance(std, MODES)), ["actual"] * 5, MODES)["std"]
    assert back.to_list() == pytest.approx(list(std))


def test_intensity_basis_conversion_and_no_double_counting() -> None:
    # CLECAT Case A: 143 g per actual road t·km → 150.15 per SFD t·km.
    frame = pl.DataFrame({"g": [143.0, 143.0, 10.0, 20.0, 600.0],
                          "b": ["actual", "sfd", "actual", "actual", "actual"],
                          "m": ["road", "road", "rail", "sea", "air"],
                          "d": [50.0, 50.0, 100.0, 100.0, 905.0]})
    g = frame.select(intensity_to_standard_basis(pl.col("g"), pl.col("b"), pl.col("m"),
                                                 pl.col("d"))).to_series().to_numpy()
    # air: g_GCD = g_actual × (GCD + 95) / GCD = 600 × 1000 / 905
    assert g == pytest.approx([150.15, 143.0, 10.0, 23.0, 600 * 1000 / 905])
    assert g == pytest.approx(standard_intensity(frame["g"], frame["b"], frame["m"],
                                                 frame["d"]), rel=1e-15)


def test_haversine_fra_jfk_and_geodesic() -> None:
    # SOURCE.md: haversine FRA (50.0379, 8.5622) → JFK (40.6413, −73.7781),
    # R = 6,371.0088 km: 6,188.5 km. hesuan uses the WGS84 geodesic for air, which differs
    # slightly (here by +0.27 %, the ellipsoid's flattening along this path).
    h = haversine_km(50.0379, 8.5622, 40.6413, -73.7781)  # the oracle of tests/
    assert h == pytest.approx(6188.5, abs=0.05)
    g = geodesic_km([50.0379], [8.5622], [40.6413], [-73.7781])[0]
    assert abs(g - h) / h < 0.005
    legs = pl.DataFrame({"shipment_id": ["S"], "leg_id": ["1"], "mode": ["air"],
                         "mass_t": [1.0], "origin_lat": [50.0379], "origin_lon": [8.5622],
                         "dest_lat": [40.6413], "dest_lon": [-73.7781]})
    row = calculate(legs).legs_frame().row(0, named=True)
    assert row["distance_km"] == pytest.approx(g)
    assert (row["distance_basis"], row["distance_rule"]) == ("gcd", "geodesic")


def test_searoute_rotterdam_shanghai() -> None:
    # SOURCE.md: searoute Rotterdam (4.0, 51.95) → Shanghai (121.8, 31.2) ≈ 19,531 km.
    d = sea_route_km([51.95, 51.95], [4.0, 4.0], [31.2, 31.2], [121.8, 121.8])
    assert d == pytest.approx([19_531, 19_531], abs=1)


def test_road_from_coordinates_is_modelled_with_circuity() -> None:
    legs = pl.DataFrame({"shipment_id": ["S"], "leg_id": ["1"], "mode": ["road"],
                         "mass_t": [1.0], "origin_lat": [50.0379], "origin_lon": [8.5622],
                         "dest_lat": [48.35], "dest_lon": [11.78],
                         "intensity_wtw_g_per_tkm": [100.0]})
    g = geodesic_km([50.0379], [8.5622], [48.35], [11.78])[0]
    row = calculate(legs, circuity=1.3).legs_frame().row(0, named=True)
    assert row["distance_km"] == pytest.approx(g * 1.3)
    assert row["distance_data_type"] == "modelled"
    assert row["data_type"] == "modelled"
    assert row["distance_rule"] == "geodesic×1.3"


def test_batched_sea_routing_equals_searoute_per_pair() -> None:
    # The single-source search must give searoute.searoute's own lengths.
    import searoute

    pairs = [((51.95, 4.0), (40.7, -74.0)), ((51.95, 4.0), (-33.9, 151.2)),
             ((1.26, 103.8), (25.0, 55.1))]
    got = sea_route_km([p[0][0] for p in pairs], [p[0][1] for p in pairs],
                       [p[1][0] for p in pairs], [p[1][1] for p in pairs])
    want = [searoute.searoute((a[1], a[0]), (b[1], b[0]), units="km").properties["length"]
            for a, b in pairs]
    assert got == pytest.approx(want, rel=1e-9)
