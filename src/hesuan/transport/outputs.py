"""Writing a run's outputs (the output edge).

The per-leg Parquet streamed batch by batch, strict JSON. Paths are checked before any work and
published together, or none, by :class:`hesuan.io.outputs.OutputSet`.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from hesuan.io.outputs import OutputSet
from hesuan.transport.chain import LEG_OUTPUT


def json_text(model: BaseModel) -> str:
    """Strict JSON of a summary (non-finite numbers are ``null``, never ``NaN``)."""
    return model.model_dump_json(indent=2) + "\n"


def write_summary(summary: BaseModel, path: str | Path) -> Path:
    """Write a summary as strict JSON, atomically.

    A :class:`~hesuan.transport.summary.TransportSummary` or
    :class:`~hesuan.transport.summary.ScenarioSummary`; the path is checked first
    (:class:`hesuan.io.outputs.OutputSet`).
    """
    with OutputSet("transport summary") as outputs:
        planned = outputs.add(path, "json", label="--summary")
        planned.tmp.write_text(json_text(summary), encoding="utf-8")
    return Path(path)


LABELS = ("toc", "mode", "vehicle", "fuel", "temperature_control", "distance_given_basis",
           "distance_basis", "distance_rule", "distance_data_type", "method", "data_type",
           "factor_ttw", "factor_wtt", "scenario_rule")


def arrow_table(frame: pl.DataFrame) -> pa.Table:
    """Return a result batch as Arrow, repeated labels as dictionary arrays.

    Parquet keeps them dictionary-encoded.
    """
    return frame.with_columns(
        pl.col(c).cast(pl.Categorical) for c in LABELS if c in frame.columns).to_arrow()


PARQUET_ZSTD_LEVEL = -1
"""Zstandard level of the per-leg result file [-] (negative: zstd's fast levels)."""


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """Return the pyarrow ParquetWriter options for result files.

    Zstd at level -1 (the first of zstd's fast levels: measured on 2 M result rows, a fifth
    less CPU time than level 1 for a file 6 % larger; lower levels gained nothing more),
    dictionary encoding and
    min/max statistics where they pay.

    Label columns (few distinct values) are dictionary-encoded; numbers and ids are not
    (nearly every value distinct: pyarrow would build a dictionary per column chunk, then
    fall back to plain encoding — twice the encoding time for a larger file). Statistics are
    kept for numbers and ids (row-group pruning on ``shipment_id``, ``tkm`` …) and left out
    for labels, where pyarrow computes them by decoding the dictionary (a third of the write
    time; a reader filtering on ``mode`` still reads the dictionary pages).
    """
    labels = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    return {"compression": "zstd", "compression_level": PARQUET_ZSTD_LEVEL,
            "use_dictionary": labels,
            "write_statistics": [f.name for f in schema if f.name not in labels]}


class LegWriter:
    """Streams result batches to the temporary file ``tmp`` (or keeps them in memory).

    Parquet encoding and compression (:func:`parquet_options`; one row group per batch, so
    memory stays bounded) run in a background thread — pyarrow releases the GIL — while the
    next batch is computed; at most one batch waits to be written.
    """

    def __init__(self, tmp: Path | None) -> None:
        self.out = tmp
        self.frames: list[pl.DataFrame] = []
        self.writer: pq.ParquetWriter | None = None
        self.tmp = tmp
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[None] | None = None

    def _wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def write(self, frame: pl.DataFrame) -> None:
        """Write a result batch (in memory without an output file); the write runs on a thread."""
        if self.out is None:
            self.frames.append(frame)
            return
        if self.writer is None:
            assert self.tmp is not None
            schema = arrow_table(frame).schema
            self.writer = pq.ParquetWriter(self.tmp, schema, **parquet_options(schema))
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="hesuan-write")
        self._wait()
        assert self.pool is not None
        writer = self.writer
        self.pending = self.pool.submit(
            lambda: writer.write_table(arrow_table(frame).cast(writer.schema)))

    def _close(self) -> None:
        try:
            self._wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
                self.pool = None

    def finish(self) -> pl.DataFrame | pl.LazyFrame:
        """Return the results: in memory, or the written file scanned lazily once it is closed."""
        if self.out is None:
            if not self.frames:
                return pl.DataFrame()
            # in memory, every label is text (the engine keeps some as Categorical codes)
            frame = pl.concat(self.frames, how="vertical_relaxed")
            return frame.with_columns(pl.col(c).cast(pl.String)
                                      for c, t in frame.schema.items() if t == pl.Categorical)
        self._close()
        if self.writer is None:
            empty = pl.DataFrame(schema={c: pl.String for c in LEG_OUTPUT})
            assert self.tmp is not None
            empty.write_parquet(self.tmp)
        else:
            self.writer.close()
        assert self.tmp is not None
        return pl.scan_parquet(self.tmp)  # published by the output set once all succeeded

    def abort(self) -> None:
        """Stop writing and remove the temporary file."""
        with contextlib.suppress(BaseException):  # the caller re-raises the original error
            self._close()
        if self.writer is not None:
            self.writer.close()
        if self.tmp is not None and self.tmp.exists():
            self.tmp.unlink()


