"""Writing a run's outputs: the streamed per-leg Parquet, the staged output set published
together or not at all, path checks before any work, strict JSON (the output edge)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from hesuan.errors import InputError
from hesuan.transport.chain import LEG_OUTPUT

FORMATS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"), "json": (".json",), "html": (".html", ".htm"),
    "csv": (".csv",),
}
"""File name endings accepted for each output format."""


def check_output_path(path: str | Path | None, fmt: str, what: str) -> Path | None:
    """Refuse, before any work starts, an output path that cannot be written.

    An existing folder, a parent that is a file, a folder that cannot be created or written
    (read-only file system, permissions) and a name whose ending is not the format's
    (``--out r.csv`` for Parquet) each raise :class:`InputError` naming the option.
    """
    if path is None:
        return None
    p = Path(path)
    if p.suffix.lower() not in FORMATS[fmt]:
        raise InputError.single(
            f"{what} {p}: the name must end in {' or '.join(FORMATS[fmt])} (it is written as "
            f"{fmt})", file=str(p), field=what, expected=f"a {FORMATS[fmt][0]} file name")
    if p.is_dir():
        raise InputError.single(f"{what} {p} is an existing folder", file=str(p), field=what,
                                expected="a file name")
    parent = p.parent
    for above in (parent, *parent.parents):
        if above.exists():
            if not above.is_dir():
                raise InputError.single(f"{what} {p}: {above} is a file, not a folder",
                                        file=str(p), field=what,
                                        expected="a path whose folders are folders")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".hesuan-check-"):
            pass
        if p.exists() and not os.access(p, os.W_OK):
            raise PermissionError(p)
    except OSError as exc:
        raise InputError.single(f"{what} {p} cannot be written: {exc.strerror or exc}",
                                file=str(p), field=what,
                                expected="a writable location") from None
    return p


class OutputSet:
    """Files of one run, written under temporary names and renamed into place together.

    :meth:`stage` writes one file under ``<name>.tmp``; :meth:`publish` renames them all;
    :meth:`abort` (or an error in :meth:`stage`) removes every temporary file, so a failed run
    leaves neither partial nor temporary outputs.
    """

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []  # (temporary, final)

    def stage(self, path: Path, write: Callable[[Path], object]) -> Path:
        """Write ``path`` under a temporary name; return that name."""
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
        self.staged.append((tmp, path))
        return tmp

    def adopt(self, tmp: Path, path: Path) -> None:
        """Add a file already written under ``tmp`` (the streamed leg Parquet)."""
        self.staged.append((tmp, path))

    def abort(self) -> None:
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []

    def publish(self) -> list[Path]:
        """Rename every staged file into place; return the final paths."""
        done = []
        for k, (tmp, final) in enumerate(self.staged):
            try:
                os.replace(tmp, final)
            except BaseException:
                for left, _ in self.staged[k:]:
                    left.unlink(missing_ok=True)
                raise
            done.append(final)
        self.staged = []
        return done


def json_text(model: BaseModel) -> str:
    """Strict JSON of a summary (non-finite numbers are ``null``, never ``NaN``)."""
    return model.model_dump_json(indent=2) + "\n"


def write_summary(summary: BaseModel, path: str | Path) -> Path:
    """Write a summary (:class:`~hesuan.transport.summary.TransportSummary` or
    :class:`~hesuan.transport.summary.ScenarioSummary`) as strict JSON, atomically."""
    p = Path(path)
    outputs = OutputSet()
    outputs.stage(p, lambda t: t.write_text(json_text(summary), encoding="utf-8"))
    outputs.publish()
    return p


LABELS = ("toc", "mode", "vehicle", "fuel", "temperature_control", "distance_given_basis",
           "distance_basis", "distance_rule", "distance_data_type", "method", "data_type",
           "factor_ttw", "factor_wtt", "scenario_rule")


def arrow_table(frame: pl.DataFrame) -> pa.Table:
    """A result batch as Arrow, repeated labels as dictionary arrays (Parquet keeps them
    dictionary-encoded)."""
    return frame.with_columns(
        pl.col(c).cast(pl.Categorical) for c in LABELS if c in frame.columns).to_arrow()


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
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


class LegWriter:
    """Streams result batches to ``<out>.tmp`` and renames at the end (or keeps them).

    Parquet encoding and compression (:func:`parquet_options`; one row group per batch, so
    memory stays bounded) run in a background thread — pyarrow releases the GIL — while the
    next batch is computed; at most one batch waits to be written.
    """

    def __init__(self, out: str | Path | None) -> None:
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
            assert self.tmp is not None
            self.out.parent.mkdir(parents=True, exist_ok=True)
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
        return pl.scan_parquet(self.tmp)  # renamed by the output set once everything succeeded

    def abort(self) -> None:
        with contextlib.suppress(BaseException):  # the caller re-raises the original error
            self._close()
        if self.writer is not None:
            self.writer.close()
        if self.tmp is not None and self.tmp.exists():
            self.tmp.unlink()


