"""The reader/preparer/writer threads of the single-process engine: order, errors, early stop."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from hesuan.errors import InputError
from hesuan.transport import calculate
from hesuan.transport.driver import collector_paused, pass1_columns, run_context
from hesuan.transport.sources import open_source, prefetch, sha256_of


def _frames(n: int, fail_at: int | None = None) -> Iterator[pl.DataFrame]:
    for i in range(n):
        if i == fail_at:
            raise OSError("disk gone")
        yield pl.DataFrame({"i": [i]})


def test_prefetch_keeps_order_and_raises_reader_errors() -> None:
    assert [f["i"][0] for f in prefetch(_frames(5))] == [0, 1, 2, 3, 4]
    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for f in prefetch(_frames(5, fail_at=3)):
            seen.append(f["i"][0])
    assert seen == [0, 1, 2]


def test_prefetch_stops_its_thread_when_the_consumer_stops() -> None:
    gen = prefetch(_frames(100))
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


def test_padded_and_blank_text_cells_in_parquet_read_as_clean_values(tmp_path: Path) -> None:
    # text cells are stripped and a blank cell is missing, for Parquet as for CSV: the padded
    # file gives the clean file's numbers. Road actual 105 km → SFD 100 km (actual / 1.05,
    # CLECAT guide Table 3, pp. 22–23); 10 t → 1,000 t·km.
    clean = pl.DataFrame({"shipment_id": ["S1", "S2"], "leg_id": ["1", "1"],
                          "mode": ["road", "rail"], "mass_t": [10.0, 5.0],
                          "distance_km": [105.0, 200.0], "distance_basis": ["actual", None],
                          "vehicle": [None, None]}, schema_overrides={"vehicle": pl.String})
    padded = clean.with_columns(pl.Series("shipment_id", [" S1", "S2 "]),
                                pl.Series("mode", [" road ", "rail"]),
                                pl.Series("distance_basis", ["actual\t", ""]),
                                pl.Series("vehicle", ["", "  "]))
    padded.write_parquet(tmp_path / "padded.parquet")
    a = calculate(tmp_path / "padded.parquet").legs_frame()
    b = calculate(clean).legs_frame()
    assert a.equals(b)
    assert a["distance_km"][0] == pytest.approx(100.0)
    assert a["tkm"][0] == pytest.approx(1000.0)
    assert a["distance_rule"].to_list() == ["actual/1.05", "as_given"]


def test_result_labels_are_text_in_memory_and_dictionary_encoded_in_parquet(
        tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    legs = pl.DataFrame({"shipment_id": ["S1", "S1", "S2"], "leg_id": ["1", "2", "1"],
                         "mode": ["road", "sea", "air"], "mass_t": [10.0, 10.0, 1.0],
                         "distance_km": [100.0, 1000.0, 5000.0]})
    in_memory = calculate(legs).legs_frame()
    assert pl.Categorical not in in_memory.dtypes
    out = tmp_path / "legs_out.parquet"
    on_disk = calculate(legs, out=out, batch_size=2).legs_frame()
    schema = pq.read_schema(out)
    for label in ("mode", "toc", "method", "data_type", "factor_ttw", "distance_rule"):
        assert pa.types.is_dictionary(schema.field(label).type), label
    assert not pa.types.is_dictionary(schema.field("shipment_id").type)
    meta = pq.ParquetFile(out).metadata
    tkm = meta.row_group(0).column(schema.get_field_index("tkm"))
    assert tkm.statistics is not None and tkm.statistics.has_min_max
    # same rows either way
    assert on_disk.with_columns(pl.col(pl.Categorical).cast(pl.String)).equals(in_memory)


def test_shipments_spanning_batches_add_up_from_partial_sums(tmp_path: Path) -> None:
    # Two shipments whose legs alternate over batches of 2 rows: each batch's partial sums
    # (and their compaction once they outgrow the sum so far) must give the totals of one
    # batch. Road actual 105 km → SFD 100 km (actual / 1.05, CLECAT guide Table 3,
    # pp. 22–23); 10 t → 1,000 t·km per leg.
    n = 21
    legs = pl.DataFrame({
        "shipment_id": ["S1" if i % 2 else "S2" for i in range(n)],
        "leg_id": [str(i) for i in range(n)], "mode": ["road"] * n, "mass_t": [10.0] * n,
        "distance_km": [105.0] * n, "distance_basis": ["actual"] * n})
    one = calculate(legs, batch_size=1000).shipments_frame().sort("shipment_id")
    many = calculate(legs, out=tmp_path / "legs.parquet", batch_size=2) \
        .shipments_frame().sort("shipment_id")
    assert many["n_legs"].to_list() == [10, 11]
    assert many["tkm"].to_list() == pytest.approx([10_000.0, 11_000.0], rel=1e-12)
    assert many.columns == one.columns
    for c in one.columns:
        if c != "shipment_id":
            assert many[c].to_list() == pytest.approx(one[c].to_list(), rel=1e-12), c


def test_the_collector_is_paused_during_a_run_and_restored_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("stop")
    assert gc.isenabled()


def test_pass_1_reads_every_column_that_a_sum_or_a_rejection_can_depend_on() -> None:
    legs = pl.DataFrame({"shipment_id": ["S1"], "leg_id": ["1"], "mode": ["road"],
                         "mass_t": [1.0], "distance_km": [10.0], "trip_id": ["T1"],
                         "intensity_wtw_g_per_tkm": [None]}, schema_overrides={
                             "intensity_wtw_g_per_tkm": pl.Float64})
    src = open_source(legs)
    ctx = run_context(None, "AR6", None, None, None, None)
    assert pass1_columns(src, ctx, skip_invalid=False) == [
        "mode", "mass_t", "distance_km", "trip_id"]
    assert pass1_columns(src, ctx, skip_invalid=True) is None  # a rejected row leaves its trip
    by_shipment = run_context(None, "AR6", None, ["shipment_id=S1 -> vehicle=hgv"], None, None)
    assert "shipment_id" in (pass1_columns(src, by_shipment, skip_invalid=False) or [])


def test_a_rejected_trip_leg_takes_no_share_of_its_trips_fuel() -> None:
    # leg 2 of trip T1 is invalid only in a column pass 1 does not need for its sums (a TTW
    # intensity without the WTW one); rejected, it must not take part of T1's fuel: leg 1
    # then carries all of it (allocation by t·km, ISO 14083:2023 / CLECAT guide pp. 31-36,
    # the parts summing to the trip's total), as in a run without leg 2.
    legs = pl.DataFrame({
        "shipment_id": ["S1", "S2"], "leg_id": ["1", "1"], "mode": ["road", "road"],
        "mass_t": [10.0, 10.0], "distance_km": [100.0, 100.0], "trip_id": ["T1", "T1"],
        "fuel": ["diesel", None], "fuel_amount": [30.0, None], "fuel_unit": ["L", None],
        "intensity_ttw_g_per_tkm": [None, 80.0]})
    done = calculate(legs, skip_invalid=True, batch_size=1)
    assert done.rejects is not None and done.rejects["line"].to_list() == ["3"]
    alone = calculate(legs.head(1))
    assert done.legs_frame()["ttw_kg_co2e"].to_list() == pytest.approx(
        alone.legs_frame()["ttw_kg_co2e"].to_list(), rel=1e-12)


def _legs(n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "shipment_id": [f"S{i}" for i in range(n)], "leg_id": ["1"] * n,
        "mode": ["road"] * n, "mass_t": [1.0] * n, "distance_km": [10.0] * n,
        "trip_id": [f"T{i // 3}" if i % 7 == 0 else None for i in range(n)]})


def test_a_filtered_parquet_read_keeps_the_rows_and_positions_of_a_plain_one(
        tmp_path: Path) -> None:
    # pass 1's read pushes its filter into Polars' reader, in windows of rows: it must give
    # the rows (and 0-based input positions) that filtering every batch would, in order,
    # and count every input row once for the progress bar, empty windows included
    path = tmp_path / "legs.parquet"
    _legs(1000).write_parquet(path, row_group_size=128)
    src = open_source(path, batch_size=50)
    assert src.scan is not None
    plain = pl.concat(src.read(["trip_id"])).filter(pl.col("trip_id").is_not_null())
    items = list(src.read_where(["trip_id"], lambda schema: pl.col("trip_id").is_not_null(),
                                window=70))
    kept = pl.concat([rows for rows, _ in items])
    assert kept.equals(plain)
    assert kept["_row"].to_list() == [i for i in range(1000) if i % 7 == 0]
    assert sum(n for _, n in items) == 1000
    assert [n for _, n in items] == [70] * 14 + [20]


def test_a_folder_of_parquet_parts_reads_in_path_order_without_hidden_or_marker_files(
        tmp_path: Path) -> None:
    folder = tmp_path / "legs"
    (folder / "b").mkdir(parents=True)
    legs = _legs(30)
    legs.slice(0, 10).write_parquet(folder / "a.parquet")
    legs.slice(10, 20).write_parquet(folder / "b" / "part-0.parquet")
    legs.slice(0, 5).write_parquet(folder / "_metadata.parquet")  # not a part
    legs.slice(0, 5).write_parquet(folder / ".hidden.parquet")  # not a part
    src = open_source(folder, batch_size=7)
    assert src.n_rows == 30
    got = pl.concat(src.read())
    assert got["shipment_id"].to_list() == legs["shipment_id"].to_list()
    assert got["_row"].to_list() == list(range(30))
    # the provenance hash covers exactly the parts read, in path order
    parts = [folder / "a.parquet", folder / "b" / "part-0.parquet"]
    assert sha256_of(folder) == hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()


def test_a_damaged_parquet_page_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "legs.parquet"
    _legs(5000).write_parquet(path, compression="uncompressed", statistics=False)
    data = bytearray(path.read_bytes())
    data[4:68] = b"\xff" * 64  # the first page's header; the footer (schema, rows) stays
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        calculate(path, batch_size=1000)
    problem = caught.value.problems[0]
    assert problem.file == str(path) and "Parquet" in problem.message


def test_trips_are_found_for_every_batch_whether_their_legs_are_near_or_far_apart() -> None:
    # T1's legs are 25 rows apart (wider than a batch: a candidate of every batch), T2's
    # cross a batch boundary, T3's share one batch; each trip's fuel is allocated by t·km
    # (ISO 14083:2023; CLECAT guide pp. 31-36), so batches of 5 rows must give exactly the
    # numbers of one batch holding every leg
    n = 30
    trip = [None] * n
    trip[0] = trip[25] = "T1"
    trip[3] = trip[6] = "T2"
    trip[11] = trip[12] = "T3"
    fuel = [30.0 if t and i in (0, 3, 11) else None for i, t in enumerate(trip)]
    legs = pl.DataFrame({
        "shipment_id": [f"S{i}" for i in range(n)], "leg_id": ["1"] * n, "mode": ["road"] * n,
        "mass_t": [float(1 + i % 4) for i in range(n)], "distance_km": [100.0] * n,
        "trip_id": trip, "fuel": ["diesel" if f else None for f in fuel],
        "fuel_amount": fuel, "fuel_unit": ["L" if f else None for f in fuel]})
    one = calculate(legs, batch_size=1000).legs_frame()
    many = calculate(legs, batch_size=5).legs_frame()
    assert many["method"].to_list() == one["method"].to_list()
    for c in ("ttw_kg_co2e", "wtw_kg_co2e", "tkm"):
        assert many[c].to_list() == pytest.approx(one[c].to_list(), rel=1e-12), c
    trips = one.filter(pl.col("trip_id").is_not_null())
    assert set(trips["method"]) == {"fuel"}  # every trip leg found its trip's fuel


def test_the_trip_index_gives_a_superset_of_the_trips_a_row_range_names() -> None:
    from hesuan.transport.chain import TRIP_SCHEMA, TripIndex

    rows = {"A": (0, 2), "B": (8, 9), "C": (1, 40), "D": (20, 21), "E": (None, None)}
    trips = pl.DataFrame({"trip_id": list(rows),
                          "trip_first_row": [a for a, _ in rows.values()],
                          "trip_last_row": [b for _, b in rows.values()]}).with_columns(
        pl.lit(None, dtype=d).alias(c) for c, d in TRIP_SCHEMA.items()
        if c not in ("trip_id", "trip_first_row", "trip_last_row")).select(*TRIP_SCHEMA)
    index = TripIndex.of(trips, span=5)
    assert index.wide["trip_id"].to_list() == ["C"]  # legs 39 rows apart
    for first, last in [(0, 4), (5, 9), (10, 19), (20, 24), (2, 2), (9, 20)]:
        found = set(index.covering(first, last)["trip_id"])
        named = {t for t, (a, b) in rows.items() if a is not None and b is not None
                 and a <= last and b >= first}
        assert named <= found, (first, last)
        assert "E" not in found  # a trip no leg names is no batch's
