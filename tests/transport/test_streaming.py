"""The reader/writer threads of the single-process engine: order, errors, early stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from hesuan.errors import InputError
from hesuan.transport import calculate
from hesuan.transport.api import _prefetch


def _frames(n: int, fail_at: int | None = None) -> Iterator[pl.DataFrame]:
    for i in range(n):
        if i == fail_at:
            raise OSError("disk gone")
        yield pl.DataFrame({"i": [i]})


def test_prefetch_keeps_order_and_raises_reader_errors() -> None:
    assert [f["i"][0] for f in _prefetch(_frames(5))] == [0, 1, 2, 3, 4]
    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for f in _prefetch(_frames(5, fail_at=3)):
            seen.append(f["i"][0])
    assert seen == [0, 1, 2]


def test_prefetch_stops_its_thread_when_the_consumer_stops() -> None:
    gen = _prefetch(_frames(100))
    assert next(gen)["i"][0] == 0
    gen.close()  # joins the reader thread; would hang if it did not stop


def test_bad_row_in_a_late_batch_leaves_no_output(tmp_path: Path) -> None:
    # batches of 2 rows: the bad row is in the third batch, after two were handed to the
    # writer thread; the error must still leave no partial Parquet behind.
    legs = pl.DataFrame({
        "shipment_id": ["S1"] * 6, "leg_id": [str(i) for i in range(6)],
        "mode": ["road"] * 5 + ["teleport"], "mass_t": [1.0] * 6,
        "distance_km": [100.0] * 6})
    out = tmp_path / "legs_out.parquet"
    with pytest.raises(InputError) as err:
        calculate(legs, out=out, batch_size=2)
    assert "line 7" in str(err.value) and "mode" in str(err.value)
    assert list(tmp_path.iterdir()) == []
