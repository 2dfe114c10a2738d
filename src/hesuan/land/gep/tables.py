"""Read the input tables of a GEP account through the one table reader of :mod:`hesuan.io.tables`.

CSV in any usual encoding and delimiter, Parquet or Excel.

Every cell is read as text and parsed by the caller, so that a bad cell is reported with its
file, spreadsheet row (the header is row 1) and column, and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from hesuan.io.tables import ColumnSpec, TableSpec
from hesuan.io.tables import read_table as _read


def table_spec(name: str, required: Sequence[str], optional: Sequence[str] = ()) -> TableSpec:
    """Return a spec of text columns: ``required`` must be in the header, ``optional`` may be."""
    return TableSpec(name, tuple(
        [ColumnSpec(c, "str", f"{c} (see docs/gep.md)", in_header=True) for c in required]
        + [ColumnSpec(c, "str", f"{c} (see docs/gep.md)") for c in optional]),
        min_rows=0)


def read_table(path: str | Path, required: Sequence[str],
               optional: Sequence[str] = ()) -> pl.DataFrame:
    """Return the table at ``path`` as text columns (missing optional columns absent).

    Raises
    ------
    InputError
        The file is missing or unreadable, a required column is absent (all missing columns
        listed), or a column is not one of ``required`` + ``optional``.
    """
    table = _read(path, table_spec(Path(path).stem, required, optional))
    frame = table.frame
    return frame.with_columns(pl.col(c).cast(pl.String).str.strip_chars()
                              for c in frame.columns)
