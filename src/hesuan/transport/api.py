"""``hesuan.transport.calculate``: the Python API of the transport engine (single process).

Input is read in batches (Arrow record batches from a CSV, a Parquet file or a folder of
Parquet parts; or slices of an in-memory frame), so memory is bounded by ``batch_size``.
When the input has a ``trip_id`` or fuel column, a first pass adds per-trip and per-TOC
partial sums over all batches (a trip may span batches); the second pass computes each leg
and streams it to the output Parquet (written under a temporary name and renamed at the end:
an error leaves no partial output).
"""

from __future__ import annotations

import csv as _csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from hesuan.errors import InputError
from hesuan.transport import chain
from hesuan.transport.chain import RunContext
from hesuan.transport.factors import resolve
from hesuan.transport.scenario import parse_rules
from hesuan.transport.spec import HUB_COLUMNS, LEG_COLUMNS
from hesuan.transport.validate import missing_columns, reasons, to_input_error

Source = pl.DataFrame | str | Path

DEFAULT_BATCH = 200_000


@dataclass
class TransportResult:
    """What a run produced: per-leg, per-hub and per-shipment frames and the summary."""

    legs: pl.DataFrame | pl.LazyFrame
    hubs: pl.DataFrame
    shipments: pl.DataFrame | pl.LazyFrame
    summary: dict[str, Any]
    rejects: pl.DataFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)

    def legs_frame(self) -> pl.DataFrame:
        return self.legs.collect() if isinstance(self.legs, pl.LazyFrame) else self.legs

    def shipments_frame(self) -> pl.DataFrame:
        s = self.shipments
        return s.collect() if isinstance(s, pl.LazyFrame) else s


# ----------------------------------------------------------------------------- reading


@dataclass
class BatchSource:
    """A re-iterable source of leg batches with a ``_row`` column (0-based input position)."""

    name: str | None
    columns: list[str]
    make: Callable[[], Iterator[pl.DataFrame]]
    n_rows: int | None

    def __iter__(self) -> Iterator[pl.DataFrame]:
        offset = 0
        for batch in _prefetch(self.make()):
            yield batch.with_row_index("_row", offset=offset).with_columns(
                pl.col("_row").cast(pl.Int64))
            offset += batch.height


def _prefetch(batches: Iterator[pl.DataFrame], depth: int = 1) -> Iterator[pl.DataFrame]:
    """Read the next ``depth`` batches in a background thread while the caller computes.

    Parquet decoding and Arrow → Polars conversion release the GIL, so on two cores reading
    overlaps the computation; memory grows by at most ``depth`` batches. Errors of the reader
    are raised in the caller; a caller that stops early stops the thread.
    """
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for batch in batches:
                if not put(("batch", batch)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer
            put(("error", exc))

    thread = threading.Thread(target=run, name="hesuan-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def open_source(source: Source, batch_size: int = DEFAULT_BATCH) -> BatchSource:
    """Open a frame, a CSV file, a Parquet file or a folder of Parquet parts for batching."""
    if isinstance(source, pl.LazyFrame):
        source = source.collect()
    if isinstance(source, pl.DataFrame):
        frame = source

        def slices() -> Iterator[pl.DataFrame]:
            for start in range(0, max(frame.height, 1), batch_size):
                yield frame.slice(start, batch_size)

        return BatchSource(None, frame.columns, slices, frame.height)
    path = Path(source)
    if not path.exists():
        raise InputError.single(f"no such file or folder: {path}",
                                expected="a CSV file, a Parquet file or a folder of Parquet parts")
    if path.is_file() and path.suffix.lower() in (".csv", ".txt"):
        import pyarrow.csv as pacsv

        with path.open(encoding="utf-8", newline="") as handle:
            header = next(_csv.reader(handle), [])
        header = [h.strip() for h in header]

        def csv_batches() -> Iterator[pl.DataFrame]:
            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(block_size=64 << 20),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in header},
                    strings_can_be_null=False))
            for rb in reader:
                frame = pl.from_arrow(rb)
                assert isinstance(frame, pl.DataFrame)
                frame = frame.rename({c: c.strip() for c in frame.columns})
                for start in range(0, frame.height, batch_size):
                    yield frame.slice(start, batch_size)

        return BatchSource(str(path), header, csv_batches, None)
    import pyarrow.dataset as pads

    if path.is_file():
        # one file: pyarrow's file reader decodes a row group batch by batch (~200 MB less
        # than the dataset scanner on 1M-row row groups)
        meta = pq.ParquetFile(path)
        names, n_rows = list(meta.schema_arrow.names), meta.metadata.num_rows
        meta.close()

        def batches() -> Iterator[pa.RecordBatch]:
            with pq.ParquetFile(path) as f:
                yield from f.iter_batches(batch_size=batch_size)
    else:
        dataset = pads.dataset(path, format="parquet")
        names, n_rows = list(dataset.schema.names), dataset.count_rows()

        def batches() -> Iterator[pa.RecordBatch]:
            # readahead 1: memory stays ~ one batch (pyarrow's default prefetches 16 batches)
            yield from dataset.to_batches(batch_size=batch_size, batch_readahead=1,
                                          fragment_readahead=1)

    def pq_batches() -> Iterator[pl.DataFrame]:
        for rb in batches():
            if rb.num_rows:
                frame = pl.from_arrow(rb)
                assert isinstance(frame, pl.DataFrame)
                yield frame

    return BatchSource(str(path), names, pq_batches, n_rows)


def read_table(source: Source | None) -> pl.DataFrame | None:
    """A small table (hubs, trips) read whole, every column as text for CSV."""
    if source is None:
        return None
    if isinstance(source, pl.DataFrame):
        return source
    path = Path(source)
    if not path.exists():
        raise InputError.single(f"no such file: {path}", expected="a CSV or Parquet table")
    if path.suffix.lower() in (".csv", ".txt"):
        return pl.read_csv(path, infer_schema=False)
    return pl.read_parquet(path)


# ----------------------------------------------------------------------------- engine


def _progress(enabled: bool, total: int | None, label: str) -> Any:
    from contextlib import nullcontext

    if not enabled:
        return nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from hesuan.cli._console import err_console

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err_console, transient=True)


def pass1_rows(batch: pl.DataFrame) -> pl.DataFrame:
    """The rows pass 1 needs: those with a trip or with fuel (text cells "" count as empty)."""
    keep = pl.lit(False)
    for name in ("trip_id", "fuel_amount"):
        if name in batch.columns:
            c = pl.col(name)
            keep = keep | (c.is_not_null() & (c.cast(pl.String).str.strip_chars() != ""))
    return batch.filter(keep)


def _trip_table_partials(trips: pl.DataFrame | None, ctx: RunContext) -> list[pl.DataFrame]:
    """A trips table (trip_id, fuel, fuel_amount, fuel_unit[, region, refrigerant,
    refrigerant_kg]) as partial trip sums with no t·km of its own."""
    if trips is None:
        return []
    if "trip_id" not in trips.columns:
        raise InputError.single("trips table: missing required column 'trip_id'", row=1,
                                field="trip_id", expected="trip_id, fuel, fuel_amount, fuel_unit")
    n = trips.height
    legs_like = trips.with_columns(
        pl.lit("trip").alias("shipment_id"), pl.lit("trip").alias("leg_id"),
        pl.lit("road").alias("mode"), pl.lit(0.0).alias("mass_t"),
        pl.lit(0.0).alias("distance_km"),
    ).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    prepared, errors = chain.prepare_legs(legs_like, ctx)
    errors = errors.filter(pl.col("column") != "vehicle")
    if errors.height:
        raise to_input_error(errors, "trips table", "trips table")
    part, _ = chain.trip_partials(prepared.with_columns(pl.lit(None, dtype=pl.String)
                                                        .alias("toc")), ctx)
    assert part.height <= n
    return [part]


def calculate(
    legs: Source,
    hubs: Source | None = None,
    trips: Source | None = None,
    *,
    factors: tuple[str, ...] | list[str] | str | None = None,
    gwp: str = "AR6",
    circuity: float | None = None,
    scenario: list[str] | tuple[str, ...] | str | None = None,
    skip_invalid: bool = False,
    reefer_tkm_per_year: float | None = None,
    batch_size: int = DEFAULT_BATCH,
    out: str | Path | None = None,
    rejects_path: str | Path | None = None,
    progress: bool = False,
) -> TransportResult:
    """Compute ISO 14083 emissions of transport legs and hub operations.

    Parameters
    ----------
    legs : a Polars frame, or the path of a CSV, a Parquet file or a folder of Parquet parts
        (columns: :data:`hesuan.transport.spec.LEG_COLUMNS`)
    hubs : optional hub table (:data:`hesuan.transport.spec.HUB_COLUMNS`)
    trips : optional trips table (trip_id, fuel, fuel_amount, fuel_unit)
    factors : ``dataset@version`` overrides and/or a user dataset folder (e.g. GLEC defaults
        you are licensed to use)
    gwp : ``AR4`` | ``AR5`` | ``AR6`` GWP-100 set for refrigerants and for CO2e factors
        published with a per-gas split (:func:`hesuan.transport.factors.reweighted`)
    circuity : [-] road/rail distance = GCD × circuity when only coordinates are given
    scenario : rules (see :mod:`hesuan.transport.scenario`)
    skip_invalid : put invalid rows in ``result.rejects`` (and ``rejects_path``) instead of
        stopping
    reefer_tkm_per_year : [t·km / yr] annual activity of a road reefer, to apply the CLECAT
        default leak (5.5 kg × 32.5 %/yr) to reefer legs without refrigerant data
    batch_size : [rows] per batch
    out : Parquet path for the per-leg results; ``<stem>.hubs.parquet`` and
        ``<stem>.shipments.parquet`` are written beside it. Without it results stay in memory.

    Returns
    -------
    TransportResult

    References
    ----------
    ISO 14083:2023 clauses 7–12; CLECAT/UBA practical guide to ISO 14083 (2024).
    """
    gwp_set = gwp.upper()
    if gwp_set not in ("AR4", "AR5", "AR6"):
        raise InputError.single(f"unknown GWP set {gwp!r}", field="gwp",
                                expected="ar4 | ar5 | ar6")
    if isinstance(factors, str):
        factors = (factors,)
    resolved = resolve(tuple(factors or ()), gwp_set)
    src = open_source(legs, batch_size)
    ctx = RunContext(factors=resolved, circuity=circuity or chain.dist.DEFAULT_CIRCUITY,
                     rules=parse_rules(scenario), reefer_tkm_per_year=reefer_tkm_per_year,
                     file=src.name)
    missing_columns(src.columns, LEG_COLUMNS, src.name)
    hub_frame = read_table(hubs)
    trips_frame = read_table(trips)

    trip_parts: list[pl.DataFrame] = _trip_table_partials(trips_frame, ctx)
    toc_parts: list[pl.DataFrame] = []
    reject_rows: list[pl.DataFrame] = []
    need_pass1 = bool({"trip_id", "fuel_amount"} & set(src.columns))
    with _progress(progress, src.n_rows, "legs") as bar:
        if need_pass1:
            task = bar.add_task("pass 1/2 trips", total=src.n_rows) if bar else None
            for batch in src:
                prepared, errors = chain.prepare_legs(pass1_rows(batch), ctx)
                if errors.height:
                    if not skip_invalid:
                        raise to_input_error(errors, src.name, "legs")
                    prepared = prepared.filter(~pl.col("_row").is_in(errors["_row"].to_list()))
                t, c = chain.trip_partials(prepared, ctx)
                trip_parts.append(t)
                toc_parts.append(c)
                if bar is not None:
                    bar.advance(task, batch.height)
        trips_table, toc_table = chain.combine_partials(trip_parts, toc_parts)
        del trip_parts, toc_parts  # summed: free them for pass 2

        writer = _Writer(out)
        summary_parts = []
        n_valid = 0
        try:
            task = bar.add_task("legs" if not need_pass1 else "pass 2/2 legs",
                                total=src.n_rows) if bar else None
            for batch in src:
                prepared, errors = chain.prepare_legs(batch, ctx)
                if errors.height:
                    if not skip_invalid:
                        raise to_input_error(errors, src.name, "legs")
                    why = reasons(errors)
                    reject_rows.append(batch.join(why, on="_row").with_columns(
                        (pl.col("_row") + 2).alias("line")).drop("_row")
                        .select(pl.all().cast(pl.String)))
                    prepared = prepared.filter(~pl.col("_row").is_in(why["_row"].to_list()))
                result = chain.leg_emissions(prepared, trips_table, toc_table, ctx)
                n_valid += result.height
                summary_parts.append(chain.summary_partials(result))
                writer.write(result)
                if bar is not None:
                    bar.advance(task, batch.height)
            del trips_table  # pass 2 done: free it before the shipments step
            if n_valid == 0:
                raise _no_legs_error(src.name, reject_rows)
            hub_result = _hubs(hub_frame, ctx, skip_invalid, reject_rows)
            legs_out = writer.finish()
        except BaseException:
            writer.abort()
            raise
    rejects = pl.concat(reject_rows, how="diagonal") if reject_rows else None
    return _finish(legs_out, hub_result, summary_parts, toc_table, ctx, rejects, out,
                   rejects_path, n_valid)


def _no_legs_error(name: str | None, reject_rows: list[pl.DataFrame]) -> InputError:
    """Nothing to calculate: an input without data rows, or (``skip_invalid``) one whose
    every row is invalid — then the first row's reasons are given."""
    rejected = sum(r.height for r in reject_rows)
    if not rejected:
        return InputError.single("the leg table has no data rows: nothing to calculate",
                                 file=name, expected="at least one leg")
    first = pl.concat([r.select("line", "reject_reason") for r in reject_rows]) \
        .sort(pl.col("line").cast(pl.Int64)).row(0, named=True)
    return InputError.single(
        f"all {rejected} legs are invalid, nothing to calculate; the first (line "
        f"{first['line']}): {first['reject_reason']}", file=name, row=int(first["line"]),
        expected="at least one valid leg")


def _hubs(hub_frame: pl.DataFrame | None, ctx: RunContext, skip_invalid: bool,
          reject_rows: list[pl.DataFrame]) -> pl.DataFrame:
    if hub_frame is None:
        return pl.DataFrame(schema={c: pl.String for c in chain.HUB_OUTPUT}).cast(
            {c: pl.Float64 for c in chain.HUB_OUTPUT if c.endswith(("_t", "co2e", "_kg"))})
    missing_columns(hub_frame.columns, HUB_COLUMNS, "hubs")
    framed = hub_frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    typed, errors = chain.prepare_hubs(framed, ctx)
    if errors.height:
        if not skip_invalid:
            raise to_input_error(errors, "hubs", "hubs")
        why = reasons(errors)
        reject_rows.append(framed.join(why, on="_row").with_columns(
            (pl.col("_row") + 2).alias("line"), pl.lit("hubs").alias("table")).drop("_row")
            .select(pl.all().cast(pl.String)))
        typed = typed.filter(~pl.col("_row").is_in(why["_row"].to_list()))
    return chain.hub_emissions(typed, ctx)


_LABELS = ("toc", "mode", "vehicle", "fuel", "temperature_control", "distance_given_basis",
           "distance_basis", "distance_rule", "distance_data_type", "method", "data_type",
           "factor_ttw", "factor_wtt", "scenario_rule")


def _arrow(frame: pl.DataFrame) -> pa.Table:
    """A result batch as Arrow, repeated labels as dictionary arrays (Parquet keeps them
    dictionary-encoded)."""
    return frame.with_columns(
        pl.col(c).cast(pl.Categorical) for c in _LABELS if c in frame.columns).to_arrow()


def _parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """pyarrow ParquetWriter options for result files: zstd level 1; dictionary encoding and
    min/max statistics where they pay.

    Label columns (few distinct values) are dictionary-encoded; numbers and ids are not
    (nearly every value distinct: pyarrow would build a dictionary per column chunk, then
    fall back to plain encoding — twice the encoding time for a larger file). Statistics are
    kept for numbers and ids (row-group pruning on ``shipment_id``, ``tkm`` …) and left out
    for labels, where pyarrow computes them by decoding the dictionary (a third of the write
    time; a reader filtering on ``mode`` still reads the dictionary pages).
    """
    labels = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    return {"compression": "zstd", "compression_level": 1, "use_dictionary": labels,
            "write_statistics": [f.name for f in schema if f.name not in labels]}


class _Writer:
    """Streams result batches to ``<out>.tmp`` and renames at the end (or keeps them).

    Parquet encoding and compression (:func:`_parquet_options`; one row group per batch, so
    memory stays bounded) run in a background thread — pyarrow releases the GIL — while the
    next batch is computed; at most one batch waits to be written.
    """

    def __init__(self, out: str | Path | None) -> None:
        from concurrent.futures import Future, ThreadPoolExecutor

        self.out = Path(out) if out else None
        self.frames: list[pl.DataFrame] = []
        self.writer: pq.ParquetWriter | None = None
        self.tmp = self.out.with_name(self.out.name + ".tmp") if self.out else None
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[None] | None = None

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def write(self, frame: pl.DataFrame) -> None:
        if self.out is None:
            self.frames.append(frame)
            return
        if self.writer is None:
            from concurrent.futures import ThreadPoolExecutor

            assert self.tmp is not None
            self.out.parent.mkdir(parents=True, exist_ok=True)
            schema = _arrow(frame).schema
            self.writer = pq.ParquetWriter(self.tmp, schema, **_parquet_options(schema))
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="hesuan-write")
        self._wait()
        assert self.pool is not None
        writer = self.writer
        self.pending = self.pool.submit(
            lambda: writer.write_table(_arrow(frame).cast(writer.schema)))

    def _close(self) -> None:
        try:
            self._wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
                self.pool = None

    def finish(self) -> pl.DataFrame | pl.LazyFrame:
        if self.out is None:
            if not self.frames:
                return pl.DataFrame()
            # in memory, every label is text (the engine keeps some as Categorical codes)
            frame = pl.concat(self.frames, how="vertical_relaxed")
            return frame.with_columns(pl.col(c).cast(pl.String)
                                      for c, t in frame.schema.items() if t == pl.Categorical)
        self._close()
        if self.writer is None:
            empty = pl.DataFrame(schema={c: pl.String for c in chain.LEG_OUTPUT})
            assert self.tmp is not None
            empty.write_parquet(self.tmp)
        else:
            self.writer.close()
        assert self.tmp is not None
        return pl.scan_parquet(self.tmp)  # renamed by _finish once everything succeeded

    def abort(self) -> None:
        import contextlib

        with contextlib.suppress(BaseException):  # the caller re-raises the original error
            self._close()
        if self.writer is not None:
            self.writer.close()
        if self.tmp is not None and self.tmp.exists():
            self.tmp.unlink()


def shipments_of(legs: pl.DataFrame | pl.LazyFrame, hubs: pl.DataFrame) -> pl.LazyFrame:
    """Per-shipment totals: legs and hubs of each shipment (t·km from legs only)."""
    cols = ["ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e"]
    lz = legs.lazy().group_by("shipment_id").agg(
        pl.len().alias("n_legs"), pl.col("tkm").sum(), *(pl.col(c).sum() for c in cols),
        pl.col("co2_combustion_kg").sum())
    hz = hubs.lazy().group_by("shipment_id").agg(
        pl.len().alias("n_hubs"), *(pl.col(c).sum().alias("hub_" + c) for c in cols))
    both = lz.join(hz, on="shipment_id", how="full", coalesce=True).with_columns(
        *(pl.col(c).fill_null(0.0) + pl.col("hub_" + c).fill_null(0.0) for c in cols),
        pl.col("n_legs").fill_null(0), pl.col("n_hubs").fill_null(0),
        pl.col("tkm").fill_null(0.0))
    return both.with_columns(
        (pl.col("wtw_kg_co2e") * 1000 / pl.col("tkm")).alias("intensity_wtw_g_per_tkm")
    ).drop([f"hub_{c}" for c in cols])


def _finish(legs_out: pl.DataFrame | pl.LazyFrame, hubs: pl.DataFrame,
            parts: list[dict[str, pl.DataFrame]], toc_table: pl.DataFrame, ctx: RunContext,
            rejects: pl.DataFrame | None, out: str | Path | None,
            rejects_path: str | Path | None, n_valid: int) -> TransportResult:
    """Write hubs, shipments and rejects beside the legs, then publish all files together.

    Every file is first written under a ``.tmp`` name; only when all of them (and the
    summary) succeeded are they renamed into place, so a failed run publishes nothing and
    leaves no temporary files.
    """
    combined = chain.combine_summary_partials(parts) if parts else {}
    ships = shipments_of(legs_out, hubs)
    paths: dict[str, Path] = {}
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    if out is not None:
        out = Path(out)
        staged.append((out.with_name(out.name + ".tmp"), out))  # written by the leg writer
    try:
        if out is not None:
            hubs_path = out.with_name(out.stem + ".hubs.parquet")
            ships_path = out.with_name(out.stem + ".shipments.parquet")
            staged.append((_stage(hubs_path, hubs.write_parquet), hubs_path))
            ships_tmp = _stage(ships_path, lambda p: ships.sink_parquet(p))
            staged.append((ships_tmp, ships_path))
            n_ships = pq.ParquetFile(ships_tmp).metadata.num_rows
            paths = {"legs": out, "hubs": hubs_path, "shipments": ships_path}
        else:
            ships_df = ships.collect()
            n_ships = ships_df.height
        summary = build_summary(combined, hubs, toc_table, ctx, n_valid, n_ships,
                                0 if rejects is None else rejects.height)
        if rejects is not None and (rejects_path or out):
            rp = Path(rejects_path) if rejects_path else Path(out).with_name(  # type: ignore[arg-type]
                Path(out).stem + ".rejects.csv")  # type: ignore[arg-type]
            staged.append((_stage(rp, rejects.write_csv), rp))
            paths["rejects"] = rp
            summary["rejects_file"] = str(rp)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for k, (tmp, final) in enumerate(staged):
        try:
            os.replace(tmp, final)
        except BaseException:
            for left, _ in staged[k:]:
                left.unlink(missing_ok=True)
            raise
    if out is not None:
        legs_final: pl.DataFrame | pl.LazyFrame = pl.scan_parquet(out)
        ships_final: pl.DataFrame | pl.LazyFrame = pl.scan_parquet(paths["shipments"])
    else:
        legs_final = legs_out
        ships_final = ships_df
    return TransportResult(legs=legs_final, hubs=hubs, shipments=ships_final, summary=summary,
                           rejects=rejects, paths=paths)


def _stage(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` under a temporary name (removed again if the write fails)."""
    if path.is_dir():
        raise InputError.single(f"output path {path} is an existing folder",
                                expected="a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts() if frame.height else []


def build_summary(combined: dict[str, pl.DataFrame], hubs: pl.DataFrame,
                  toc_table: pl.DataFrame, ctx: RunContext, n_legs: int, n_shipments: int,
                  n_rejected: int) -> dict[str, Any]:
    """summary.json: totals, intensities, breakdowns by mode/TOC/HOC, data quality, sources."""
    def tot(name: str, col: str) -> float:
        frame = combined.get(name)
        return float(frame[col].sum()) if frame is not None and frame.height else 0.0

    leg = {c: tot("mode", c) for c in ("tkm", "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e",
                                       "co2_combustion_kg", "refrigerant_kg_co2e",
                                       "n_legs_without_split", "wtw_without_split_kg_co2e")}
    hub = {c: float(hubs[c].sum()) if hubs.height else 0.0
           for c in ("ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "co2_combustion_kg",
                     "mass_t", "refrigerant_kg_co2e")}
    total_wtw = leg["wtw_kg_co2e"] + hub["wtw_kg_co2e"]
    primary = 0.0
    dt = combined.get("data_type")
    if dt is not None and dt.height:
        primary = float(dt.filter(pl.col("data_type") == "primary")["wtw_kg_co2e"].sum())
    if hubs.height:
        primary += float(hubs.filter(pl.col("data_type") == "primary")["wtw_kg_co2e"].sum())

    def per(frame: pl.DataFrame | None, key: list[str]) -> list[dict[str, Any]]:
        if frame is None or not frame.height:
            return []
        # TTW intensity only where every leg of the group has a TTW/WTT split.
        return _records(frame.with_columns(
            (pl.col("wtw_kg_co2e") * 1000 / pl.col("tkm")).alias("intensity_wtw_g_per_tkm"),
            pl.when(pl.col("n_legs_without_split") == 0)
            .then(pl.col("ttw_kg_co2e") * 1000 / pl.col("tkm"))
            .otherwise(None).alias("intensity_ttw_g_per_tkm"),
        ).sort(key))

    hoc = []
    if hubs.height:
        hoc = _records(hubs.group_by("hoc").agg(
            pl.col("mass_t").sum().alias("hub_t"), pl.col("ttw_kg_co2e").sum(),
            pl.col("wtt_kg_co2e").sum(), pl.col("wtw_kg_co2e").sum(), pl.len().alias("n_rows"),
        ).with_columns((pl.col("wtw_kg_co2e") / pl.col("hub_t")).alias(
            "intensity_wtw_kg_per_t")).sort("hoc"))
    co2_known = leg["co2_combustion_kg"] + hub["co2_combustion_kg"]
    return {
        "standard": "ISO 14083:2023",
        "framework": "GLEC Framework v3 (method); factors from the datasets listed",
        "wtw_t_co2e": total_wtw / 1000,
        "ttw_t_co2e": (leg["ttw_kg_co2e"] + hub["ttw_kg_co2e"]) / 1000,
        "wtt_t_co2e": (leg["wtt_kg_co2e"] + hub["wtt_kg_co2e"]) / 1000,
        "legs_wtw_t_co2e": leg["wtw_kg_co2e"] / 1000,
        "hubs_wtw_t_co2e": hub["wtw_kg_co2e"] / 1000,
        "refrigerant_t_co2e": (leg["refrigerant_kg_co2e"] + hub["refrigerant_kg_co2e"]) / 1000,
        "co2_combustion_t": co2_known / 1000,
        "co2_combustion_note": "CO2 from fossil-fuel combustion only (GB/T 46531-2025), summed "
                               "over legs and hubs whose fuel is known",
        "tkm": leg["tkm"],
        "hub_t": hub["mass_t"],
        "intensity_g_co2e_per_tkm": total_wtw * 1000 / leg["tkm"] if leg["tkm"] else None,
        "intensity_ttw_g_co2e_per_tkm": (leg["ttw_kg_co2e"] + hub["ttw_kg_co2e"]) * 1000
        / leg["tkm"] if leg["tkm"] and not leg["n_legs_without_split"] else None,
        "n_legs_without_ttw_wtt_split": int(leg["n_legs_without_split"]),
        "wtw_without_ttw_wtt_split_t_co2e": leg["wtw_without_split_kg_co2e"] / 1000,
        "ttw_wtt_note": "ttw_t_co2e and wtt_t_co2e exclude legs whose user intensity gave only "
                        "WTW (counted in n_legs_without_ttw_wtt_split); wtw_t_co2e includes them",
        "intensity_rule": "chain intensity = (leg + hub emissions) / transport t·km; hub tonnes "
                          "are not in the denominator (ISO 14083:2023 clause 11)",
        "primary_data_share": primary / total_wtw if total_wtw else None,
        "n_legs": n_legs,
        "n_shipments": n_shipments,
        "n_hub_rows": hubs.height,
        "n_rejected": n_rejected,
        "per_mode": per(combined.get("mode"), ["mode"]),
        "per_toc": per(combined.get("toc"), ["toc"]),
        "per_hoc": hoc,
        "per_method": per(combined.get("method"), ["method"]),
        "per_data_type": per(combined.get("data_type"), ["data_type"]),
        "distances": _records(combined["distance"]) if "distance" in combined else [],
        "toc_own_intensities": _records(toc_table.select(
            "toc", "toc_fuel_tkm", "toc_g_ttw", "toc_g_wtt").sort("toc"))
        if toc_table.height else [],
        "fuel_table": _fuel_table(combined.get("fuel"), hubs, ctx),
        "gwp_set": ctx.gwp_set,
        "gwp_note": "refrigerant GWPs and CO2e factors published with a per-gas split (DESNZ "
                    "TTW) use gwp_set; CO2e factors without one (e.g. WTT) keep their "
                    "publisher's set (factor_gwp_sets lists every set in the results)",
        "factor_gwp_sets": sorted(ctx.factors.factor_gwp_sets),
        "factor_datasets": ctx.factors.provenance(),
        "scenario_rules": [r.text for r in ctx.rules],
        "circuity": ctx.circuity,
        "allocation": "legs sharing a trip: by t·km (mass × the leg's own distance); hub "
                      "energy: by tonnes leaving the hub",
    }


def _fuel_table(fuel_legs: pl.DataFrame | None, hubs: pl.DataFrame,
                ctx: RunContext) -> list[dict[str, Any]]:
    """The fuels behind fuel-based legs: operation and total g CO2e/MJ and their sources
    (the fuel table of an ISO 14083 report, CLECAT guide Table 14, pp. 53–54)."""
    used = set() if fuel_legs is None or not fuel_legs.height else set(
        fuel_legs["fuel"].drop_nulls().to_list())
    if hubs.height and "factor_ttw" in hubs.columns:
        used |= {"electricity"} if hubs["factor_wtt"].str.contains("electricity").any() else set()
    rows = ctx.factors.fuels.filter(pl.col("fuel").is_in(sorted(used))
                                    & (pl.col("fuel_unit") == "MJ"))
    return [{"fuel": r["fuel"], "region": r["region"] or "any",
             "operation_g_co2e_per_mj": r["f_ttw_kg_per_unit"] * 1000,
             "total_g_co2e_per_mj": (r["f_ttw_kg_per_unit"] + r["f_wtt_kg_per_unit"]) * 1000,
             "source_ttw": r["f_factor_ttw"], "source_wtt": r["f_factor_wtt"]}
            for r in rows.iter_rows(named=True)]


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    """Write summary.json atomically."""
    p = Path(path)
    os.replace(_stage(p, lambda t: t.write_text(json.dumps(summary, indent=2, default=str),
                                                encoding="utf-8")), p)
    return p
