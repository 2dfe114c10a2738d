"""Allocation of a trip's fuel to its legs by t·km (ISO 14083 clause 12; CLECAT pp. 31–36)."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hesuan.standards import load_dataset
from hesuan.transport import calculate
from hesuan.transport.allocation import allocate_by_key


def allocation_residual(parts: object, total: float) -> float:
    """Σ parts − total with exact (Shewchuk) summation."""
    return math.fsum(list(parts)) - total  # type: ignore[call-overload]

PER_LITRE = load_dataset("desnz_ghg", "2025").get("fuel.diesel_100pct_mineral.per_litre.ttw")


def trip(masses: list[float], distances: list[float], litres: float) -> pl.DataFrame:
    n = len(masses)
    return pl.DataFrame({
        "shipment_id": [f"S{i}" for i in range(n)], "leg_id": ["1"] * n, "mode": ["road"] * n,
        "mass_t": masses, "distance_km": distances, "trip_id": ["T"] * n,
        "fuel": ["diesel"] + [None] * (n - 1), "fuel_amount": [litres] + [None] * (n - 1),
        "fuel_unit": ["L"] + [None] * (n - 1)})


def test_trip_fuel_allocated_by_tkm_and_sums_back() -> None:
    r = calculate(trip([10.0, 5.0, 2.5], [100.0, 200.0, 40.0], 120.0), gwp="AR5")
    legs = r.legs_frame()
    total = 120.0 * PER_LITRE.value
    assert abs(allocation_residual(legs["ttw_kg_co2e"].to_numpy(), total)) <= 1e-12 * total
    tkm = legs["tkm"].to_numpy()
    assert legs["ttw_kg_co2e"].to_numpy() == pytest.approx(total * tkm / tkm.sum())
    assert set(legs["method"]) == {"fuel"}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 1e4), min_size=1, max_size=30), st.floats(1.0, 1e7))
def test_allocated_parts_sum_to_total(keys: list[float], total: float) -> None:
    s = math.fsum(keys)
    frame = pl.DataFrame({"key": keys}).with_columns(pl.lit(total).alias("total"),
                                                     pl.lit(s).alias("key_sum"))
    parts = frame.select(allocate_by_key(pl.col("total"), pl.col("key"), pl.col("key_sum")))
    assert abs(allocation_residual(parts.to_series().to_list(), total)) <= 1e-12 * total


def test_trip_spanning_batches_gives_same_result() -> None:
    frame = trip([10.0, 5.0, 2.5, 7.0], [100.0, 200.0, 40.0, 10.0], 120.0)
    frame = pl.concat([frame, frame.with_columns(pl.lit("T2").alias("trip_id"),
                                                 pl.col("shipment_id") + "b")])
    a = calculate(frame).legs_frame()["ttw_kg_co2e"]
    b = calculate(frame, batch_size=3).legs_frame()["ttw_kg_co2e"]
    assert a.to_list() == pytest.approx(b.to_list(), rel=1e-12)


def test_toc_intensity_from_own_fuel_data() -> None:
    # A TOC's intensity = its fuel-based emissions / its t·km (ISO 14083 g_TOC = G/T); legs
    # of that TOC without fuel take it (method toc_intensity, primary data).
    frame = pl.concat([trip([10.0, 10.0], [100.0, 100.0], 50.0), pl.DataFrame({
        "shipment_id": ["X"], "leg_id": ["1"], "mode": ["road"], "mass_t": [4.0],
        "distance_km": [25.0]})], how="diagonal")
    legs = calculate(frame, gwp="AR5").legs_frame()  # DESNZ's own set
    g_toc = 50.0 * PER_LITRE.value * 1000 / 2000
    x = legs.filter(pl.col("shipment_id") == "X").row(0, named=True)
    assert x["method"] == "toc_intensity" and x["data_type"] == "primary"
    assert x["ttw_kg_co2e"] == pytest.approx(100 * g_toc / 1000)


def test_trips_table() -> None:
    frame = trip([10.0, 5.0], [100.0, 200.0], 0.0).drop("fuel", "fuel_amount", "fuel_unit")
    trips = pl.DataFrame({"trip_id": ["T"], "fuel": ["diesel"], "fuel_amount": [80.0],
                          "fuel_unit": ["L"]})
    legs = calculate(frame, trips=trips, gwp="AR5").legs_frame()
    assert legs["ttw_kg_co2e"].sum() == pytest.approx(80 * PER_LITRE.value)
