"""A CSV of legs is streamed in bounded batches through the one table reader
(``hesuan.io.tables.read_table_batches``): several batches, the same results as one batch,
and the reader's problems still named by the file's line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from hesuan.errors import InputError
from hesuan.transport import calculate
from hesuan.transport.sources import open_source

MODES = ("road", "rail", "sea", "road", "air")


def _legs_csv(path: Path, n: int, bad_line: int | None = None) -> Path:
    """``n`` legs as a European Excel writes them (cp1252, ';', decimal commas, CRLF), with
    fuel data and trips on some, so both passes of the engine run."""
    rows = ["shipment_id;leg_id;mode;mass_t;distance_km;trip_id;fuel;fuel_amount;fuel_unit"]
    for i in range(n):
        mode = MODES[i % 5]
        trip = f"T{i % 7}" if mode == "road" else ""
        fuel = ("diesel;" + f"{10 + i % 9},5;L") if trip else ";;"
        mass = "viel" if bad_line is not None and i + 2 == bad_line else f"{1 + i % 17},25"
        rows.append(f"Sendung-{i // 3}-Köln;{i};{mode};{mass};{50 + i % 400};{trip};{fuel}")
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    return path


def test_csv_is_read_in_several_batches_with_the_results_of_one(tmp_path: Path) -> None:
    legs = _legs_csv(tmp_path / "legs.csv", 2_000)
    src = open_source(legs, batch_size=300)
    batches = list(src)
    assert len(batches) == 7 and max(b.height for b in batches) == 300
    assert pl.concat(batches)["_row"].to_list() == list(range(2_000))
    assert src.read_as == f"{legs}: 2000 row(s) (CSV, cp1252, delimiter semicolon, decimal comma)"

    small = calculate(legs, batch_size=300)
    whole = calculate(legs, batch_size=1_000_000)
    assert small.summary.wtw_t_co2e == pytest.approx(whole.summary.wtw_t_co2e, rel=1e-12)
    assert small.summary.ttw_t_co2e == pytest.approx(whole.summary.ttw_t_co2e, rel=1e-12)
    a = small.legs_frame().sort("leg_id")
    b = whole.legs_frame().sort("leg_id")
    assert a.height == b.height == 2_000
    assert_frame_equal(a, b, rel_tol=1e-12)


def test_a_bad_cell_in_a_later_batch_is_named_by_its_line(tmp_path: Path) -> None:
    legs = _legs_csv(tmp_path / "legs.csv", 1_000, bad_line=777)
    with pytest.raises(InputError) as refused:
        calculate(legs, batch_size=100)
    assert "line 777, field 'mass_t': not a number: 'viel'" in str(refused.value)
    done = calculate(legs, batch_size=100, skip_invalid=True)
    assert done.rejects is not None and done.rejects["line"].to_list() == ["777"]
    assert done.legs_frame().height == 999
