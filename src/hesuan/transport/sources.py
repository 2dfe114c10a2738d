"""Reading leg, hub and trip tables: batches of legs, small tables whole (the input edge).

Legs are read in batches (a CSV through :func:`hesuan.io.tables.read_table_batches`, the
one table reader in bounded batches; row slices of a Parquet file or a folder of Parquet
parts through Polars' own Parquet reader; an Excel sheet read whole, then sliced; or slices
of an in-memory frame), so memory is bounded by ``batch_size``; the next batch is decoded in
a reader thread while the current one is computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from hesuan.errors import InputError
from hesuan.io.tables import ColumnSpec, Table, TableSpec, read_table_batches
from hesuan.io.tables import read_table as io_read_table
from hesuan.transport.spec import LEG_COLUMNS, Column

Source = pl.DataFrame | str | Path
"""A table: an in-memory Polars frame or the path of a CSV/Parquet file (or Parquet folder)."""

DEFAULT_BATCH = 200_000
"""Rows per batch [rows]."""

T = TypeVar("T")

RowFilter = Callable[[pl.Schema], pl.Expr]
"""Which rows to keep: a function of the input's schema returning a boolean expression."""


def sha256_of(source: Source | None) -> str | None:
    """SHA-256 (hex) of a file or of a folder's Parquet parts; None for a frame.

    A folder's parts are those a run reads (:func:`parquet_parts`), in path order.
    """
    if source is None or isinstance(source, pl.DataFrame):
        return None
    digest = hashlib.sha256()
    for f in parquet_parts(Path(source)):
        with f.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass
class BatchSource:
    """A re-iterable source of leg batches with a ``_row`` column (0-based input position).

    ``make(columns)`` yields the batches with only those columns (all when None); a Parquet
    input has a lazy ``scan`` instead, read in row slices of those columns only.
    """

    name: str | None
    columns: list[str]
    make: Callable[[Sequence[str] | None], Iterator[pl.DataFrame]] | None
    n_rows: int | None
    read_as: str | None = None
    """How a CSV/Excel file was read (encoding, delimiter), for the summary."""
    read_errors: pl.DataFrame | None = None
    """Cells the reader could not convert (``_row``, ``column``, ``message``, ``expected``),
    reported with the batch holding their row (so ``--skip-invalid`` can reject them)."""

    read_error_parts: list[pl.DataFrame] = field(default_factory=list)
    """The same, added batch by batch while a streamed CSV is read (kept for the pass)."""

    batch_size: int = DEFAULT_BATCH
    """Rows per batch [rows]."""

    scan: Callable[[], pl.LazyFrame] | None = None
    """A lazy scan of the whole input (Parquet), read in row slices by :meth:`read_where`."""

    def errors_of(self, batch: pl.DataFrame) -> pl.DataFrame | None:
        """Return the reader's errors of the rows in ``batch``, or None."""
        parts = [p for p in (self.read_errors, *self.read_error_parts)
                 if p is not None and p.height]
        if not parts:
            return None
        return pl.concat(parts).filter(pl.col("_row").is_in(batch["_row"].implode()))

    def __iter__(self) -> Iterator[pl.DataFrame]:
        return self.read()

    def read(self, columns: Sequence[str] | None = None) -> Iterator[pl.DataFrame]:
        """Yield the batches (with ``_row``), of ``columns`` only when given."""
        for batch, _ in self.read_where(columns):
            yield batch

    def read_where(self, columns: Sequence[str] | None = None, where: RowFilter | None = None,
                   window: int | None = None) -> Iterator[tuple[pl.DataFrame, int]]:
        """Yield the rows kept by ``where`` of each window of the input, with ``_row``.

        Each item is ``(rows, n_read)``: the rows of a window of the input that ``where``
        keeps (all of them without it) and how many input rows the window held (for
        progress). A Parquet input is read in slices of ``window`` rows (default: the batch
        size), the filter pushed into Polars' reader so that only the kept rows of the
        other columns are materialised; other inputs are filtered batch by batch
        (``window`` does not apply to them).
        """
        if self.scan is not None and self.n_rows is not None:
            yield from prefetch(_scan_windows(self.scan, self.n_rows, window or self.batch_size,
                                              columns, where, self.name))
            return
        assert self.make is not None
        offset = 0
        for batch in prefetch(self.make(columns)):
            n = batch.height
            batch = batch.with_row_index("_row", offset=offset).with_columns(
                pl.col("_row").cast(pl.Int64))
            offset += n
            yield (batch if where is None else batch.filter(where(batch.schema))), n


def prefetch(items: Iterator[T], depth: int = 1, name: str = "hesuan-read") -> Iterator[T]:
    """Produce the next ``depth`` items in a background thread while the caller computes.

    Used for reading (Parquet decoding and Arrow → Polars conversion release the GIL, so on
    two cores reading overlaps the computation) and for preparing batches (Polars queries
    release it too); memory grows by at most ``depth`` items. Errors of the producer are
    raised in the caller; a caller that stops early stops the thread (named ``name``).
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
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer
            put(("error", exc))

    thread = threading.Thread(target=run, name=name, daemon=True)
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
        return _frame_source(source, batch_size)
    path = Path(source)
    if not path.exists():
        raise InputError.single(f"no such file or folder: {path}",
                                expected="a CSV file, a Parquet file or a folder of Parquet parts")
    if path.is_file() and path.suffix.lower() not in (".parquet", ".pq"):
        return _text_source(path, batch_size)
    return _parquet_source(path, batch_size)


def _frame_source(frame: pl.DataFrame, batch_size: int) -> BatchSource:
    """Return a batch source of an in-memory frame, sliced into ``batch_size`` rows."""

    def slices(columns: Sequence[str] | None) -> Iterator[pl.DataFrame]:
        selected = frame if columns is None else frame.select(columns)
        for start in range(0, max(frame.height, 1), batch_size):
            yield selected.slice(start, batch_size)

    return BatchSource(None, frame.columns, slices, frame.height, batch_size=batch_size)


def parquet_parts(path: Path) -> list[Path]:
    """Return a Parquet file, or a folder's Parquet parts in path order (any depth).

    Files whose name starts with ``.`` or ``_`` (``_SUCCESS``, ``_metadata``, hidden files)
    are not parts.
    """
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.parquet")
                  if not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))


def _parquet_source(path: Path, batch_size: int) -> BatchSource:
    """Return a batch source of a Parquet file or a folder of Parquet parts.

    Batches are row slices of one lazy scan (Polars' Parquet reader decodes only the pages
    of a slice and of the columns asked for: about half the CPU time of pyarrow's batch
    reader plus the Arrow → Polars conversion, and memory of one batch, whatever the row
    groups' size).

    Raises
    ------
    InputError
        The file or folder cannot be read as Parquet (its schema and row count are read
        first); a damaged batch raises when it is read.
    """
    files = parquet_parts(path)
    if not files:
        raise InputError.single(f"no Parquet files in {path}",
                                expected="a Parquet file or a folder of Parquet parts")
    try:
        names = list(pq.read_schema(files[0]).names)
        n_rows = sum(pq.read_metadata(f).num_rows for f in files)
    except (pa.ArrowException, OSError) as exc:
        raise InputError.single(f"cannot be read as Parquet: {exc}", file=str(path),
                                expected="a Parquet file or a folder of Parquet parts "
                                "(or a .csv / .xlsx named so)") from None

    def scan() -> pl.LazyFrame:
        # the first part's columns, as pyarrow's dataset reads a folder: a column missing
        # from a later part is empty there, a column only in a later part is not read
        return pl.scan_parquet([str(f) for f in files], hive_partitioning=False,
                               missing_columns="insert", extra_columns="ignore")

    return BatchSource(str(path), names, None, n_rows, batch_size=batch_size, scan=scan)


def _scan_windows(scan: Callable[[], pl.LazyFrame], n_rows: int, window: int,
                  columns: Sequence[str] | None, where: RowFilter | None, name: str | None
                  ) -> Iterator[tuple[pl.DataFrame, int]]:
    """Yield ``(rows, n_read)`` of each ``window`` rows of a lazy Parquet scan.

    ``rows`` holds ``columns`` (all when None) and ``_row``; ``where`` filters inside the
    reader (a window may then keep no rows).

    Raises
    ------
    InputError
        A window cannot be decoded (a damaged file).
    """
    try:
        lazy = scan() if columns is None else scan().select(columns)
        schema = lazy.collect_schema()
    except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as exc:
        raise InputError.single(f"cannot be read as Parquet: {exc}", file=name,
                                expected="an intact Parquet file") from None
    for start in range(0, n_rows, window):
        n = min(window, n_rows - start)
        part = lazy.slice(start, n).with_row_index("_row", offset=start).with_columns(
            pl.col("_row").cast(pl.Int64))
        if where is not None:
            part = part.filter(where(schema))
        try:
            frame = part.collect()
        except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as exc:
            raise InputError.single(f"cannot be read as Parquet: {exc}", file=name,
                                    expected="an intact Parquet file") from None
        yield frame, n


def _text_source(path: Path, batch_size: int) -> BatchSource:
    """Return a batch source of a CSV (or Excel) file of legs.

    It reads through :func:`hesuan.io.tables.read_table_batches`: a CSV in batches of
    ``batch_size`` rows, in bounded memory (its header and encoding are read first); a
    workbook whole (at most 1 048 576 rows), then sliced. The reader's value problems go with
    the batch holding their row (``--skip-invalid`` can reject them).
    """
    spec = text_spec(LEG_COLUMNS, "legs")
    head = next(read_table_batches(path, spec, batch_rows=1, label=str(path),
                                   errors="collect"))
    present = list(head.report.columns)

    def batches(columns: Sequence[str] | None) -> Iterator[pl.DataFrame]:
        source.read_error_parts.clear()  # one pass: collected afresh
        rows, last = 0, head.report
        for table in read_table_batches(path, spec, batch_rows=batch_size, label=str(path),
                                        errors="collect"):
            if table.problems:
                source.read_error_parts.append(_problem_rows(table))
            frame, last = table.frame, table.report
            frame = frame if columns is None else frame.select(columns)
            rows += frame.height
            for start in range(0, frame.height, batch_size):  # (a workbook: one table)
                yield frame.slice(start, batch_size)
        source.read_as = dataclasses.replace(last, rows=rows).describe()

    source = BatchSource(str(path), present, batches, head.frame.height
                         if head.report.format != "csv" else None, head.report.describe(),
                         batch_size=batch_size)
    return source


def text_spec(columns: Sequence[Column], name: str) -> TableSpec:
    """Return the :class:`hesuan.io.tables.TableSpec` the reader gets for a transport table.

    The reader decodes the file and converts numbers (decimal commas included); the values
    are checked by :mod:`hesuan.transport.validate`, batch by batch, the same way for CSV,
    Excel and streamed Parquet. Required columns must be in the header; others are kept.
    """
    return TableSpec(name, tuple(ColumnSpec(c.name, "float" if c.dtype == "float" else "str",
                                            c.description, c.unit, in_header=c.required,
                                            finite=False) for c in columns),
                     unknown_columns="keep", min_rows=0)


def _problem_rows(table: Table) -> pl.DataFrame:
    """Return the reader's value problems as error rows (``_row`` = line − 2)."""
    return pl.DataFrame(
        [((p.row or 2) - 2, p.field or "", p.message, p.expected or "")
         for p in table.problems],
        schema={"_row": pl.Int64, "column": pl.String, "message": pl.String,
                "expected": pl.String}, orient="row")


def read_text_table(path: Path, columns: Sequence[Column], name: str,
                    collect: bool = False) -> Table:
    """Return a CSV or Excel table through :func:`hesuan.io.tables.read_table`.

    Encoding, delimiter and format are detected; ragged rows and mis-named files are refused.
    """
    return io_read_table(path, text_spec(columns, name), label=str(path),
                         errors="collect" if collect else "raise")


def read_table(source: Source | None, columns: Sequence[Column] = (),
               name: str = "table") -> pl.DataFrame | None:
    """Return a small table (hubs, trips) read whole.

    A frame as it is; Parquet as stored; CSV and Excel through :func:`read_text_table`.
    """
    if source is None:
        return None
    if isinstance(source, pl.DataFrame):
        return source
    path = Path(source)
    if not path.exists():
        raise InputError.single(f"no such file: {path}", expected="a CSV or Parquet table")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pl.read_parquet(path)
        except (pl.exceptions.ComputeError, OSError, pa.ArrowException) as exc:
            raise InputError.single(f"cannot be read as Parquet: {exc}", file=str(path),
                                    expected="an intact Parquet file") from None
    frame = read_text_table(path, columns, name).frame
    declared = {c.name for c in columns}
    return frame.select(c for c in frame.columns
                        if c not in declared or frame[c].null_count() < frame.height)
