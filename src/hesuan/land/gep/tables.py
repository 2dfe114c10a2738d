"""Read the input tables of a GEP account (CSV or Excel) with clear errors.

Every cell is read as text and parsed by the caller, so that a bad cell is reported with its
file, spreadsheet row (the header is row 1) and column instead of a silent null.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from hesuan.errors import InputError, Problem


def read_table(path: str | Path, required: Sequence[str],
               optional: Sequence[str] = ()) -> pl.DataFrame:
    """A CSV (UTF-8, with or without BOM) or .xlsx table as text columns.

    Raises
    ------
    InputError
        The file is missing or unreadable, or a required column is absent (all missing
        columns are listed), or a column is not one of ``required`` + ``optional``.
    """
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError.single("file not found", file=file,
                                expected="a CSV or .xlsx table with columns "
                                + ", ".join(required))
    try:
        if p.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pl.read_excel(p, infer_schema_length=0)
        else:
            frame = pl.read_csv(p, infer_schema_length=0, encoding="utf8-lossy",
                                truncate_ragged_lines=False)
    except Exception as exc:  # polars raises several ComputeError/NoDataError kinds
        raise InputError.single(f"cannot read the table ({exc})", file=file,
                                expected="a CSV (UTF-8) or .xlsx table") from None
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    problems = [Problem("missing column", file, 1, c, "header " + ", ".join(required))
                for c in required if c not in frame.columns]
    allowed = set(required) | set(optional)
    problems += [Problem("unknown column", file, 1, c,
                         "only " + ", ".join([*required, *optional]))
                 for c in frame.columns if c not in allowed]
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the header")
    return frame.with_columns(pl.col(c).cast(pl.String).str.strip_chars()
                              for c in frame.columns)
