"""Read and check the carbon pools table (InVEST's ``carbon_pools_path`` format).

Columns (header names are case-insensitive, as in InVEST):

- ``lucode`` — integer land-use/land-cover code, unique;
- ``c_above``, ``c_below``, ``c_soil``, ``c_dead`` — densities [t C/ha], ≥ 0;
- optional ``lulc_name`` (or ``name``) — a label for reports;
- optional uncertainty, per pool: ``<pool>_sd`` — standard deviation [t C/ha], ≥ 0 — or
  ``<pool>_lo95`` and ``<pool>_hi95`` — bounds of a 95 % interval [t C/ha] (converted to a
  standard deviation assuming a normal distribution). A pool without either is taken as
  exact (sd 0). Any other column is ignored.

Row numbers in errors are the file's line numbers: the header is line 1 (blank lines are
skipped but counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hesuan.errors import InputError, Problem
from hesuan.land.equations import sd_from_interval95
from hesuan.land.spec import POOLS

_NAME_COLUMNS = ("lulc_name", "name", "description")

#: [t C/ha] largest density (or standard deviation) a pool may have. A hectare of pure
#: graphite one metre deep holds about 22 000 t C; the densest ecosystems (deep peat) hold a
#: few thousand t C/ha. 100 000 t C/ha is beyond any land and keeps every product of the
#: model (sums, changes, NPV) finite in float32 outputs.
MAX_DENSITY_T_C_PER_HA = 1e5


@dataclass(frozen=True)
class PoolsTable:
    """A checked pools table: one row per class, rows sorted by code.

    Attributes
    ----------
    path : the file it was read from
    codes : [-], shape ``(K,)``, int64, sorted ascending
    names : labels (the code as text when the table has none)
    density_t_c_per_ha : [t C/ha], shape ``(K, 4)`` in the order of ``POOLS``
    sd_t_c_per_ha : [t C/ha], shape ``(K, 4)``, or ``None`` when the table has no
        uncertainty columns
    """

    path: str
    codes: NDArray[np.int64]
    names: tuple[str, ...]
    density_t_c_per_ha: NDArray[np.float64]
    sd_t_c_per_ha: NDArray[np.float64] | None

    @property
    def total_t_c_per_ha(self) -> NDArray[np.float64]:
        """[t C/ha], shape ``(K,)``: sum of the four pools."""
        total: NDArray[np.float64] = self.density_t_c_per_ha.sum(axis=1)
        return total


class _Table:
    """A CSV read as text columns (header names stripped and lower-cased)."""

    def __init__(self, header: list[str], rows: list[list[str]], lines: list[int]) -> None:
        self.columns = [h.strip().lower() for h in header]
        self.height = len(rows)
        self.lines = lines  # file line number of each row (header = 1)
        self._data = {c: [r[i] if i < len(r) else None for r in rows]
                      for i, c in enumerate(self.columns)}

    def __getitem__(self, column: str) -> list[str | None]:
        return self._data[column]


def _numbers(frame: _Table, column: str, file: str, *, integer: bool = False,
             minimum: float | None = 0.0, maximum: float | None = MAX_DENSITY_T_C_PER_HA
             ) -> tuple[NDArray[np.float64], list[Problem]]:
    """Parse one column to numbers, collecting one Problem per bad cell."""
    problems: list[Problem] = []
    raw = frame[column]
    out = np.empty(len(raw), dtype=np.float64)
    kind = "an integer" if integer else "a number"
    for i, text in enumerate(raw):
        line = frame.lines[i]
        if text is None or str(text).strip() == "":
            problems.append(Problem("empty cell", file, line, column, kind))
            out[i] = np.nan
            continue
        try:
            value = float(str(text).strip())
        except ValueError:
            problems.append(Problem(f"{text!r} is not a number", file, line, column, kind))
            out[i] = np.nan
            continue
        if not np.isfinite(value):
            problems.append(Problem(f"{text!r} is not finite", file, line, column, kind))
        elif integer and value != int(value):
            problems.append(Problem(f"{text!r} is not an integer", file, line, column, kind))
        elif minimum is not None and value < minimum:
            problems.append(Problem(f"{value:g} is negative", file, line, column,
                                    f"{kind} ≥ {minimum:g} [t C/ha]"))
        elif maximum is not None and value > maximum:
            problems.append(Problem(f"{value:g} t C/ha is beyond any land's carbon density",
                                    file, line, column,
                                    f"{kind} ≤ {maximum:g} [t C/ha]"))
        out[i] = value
    return out, problems


def read_pools(path: str | Path) -> PoolsTable:
    """Read a pools CSV, check every cell, return a :class:`PoolsTable`.

    Parameters
    ----------
    path : CSV file with the columns described in this module's docstring.

    Raises
    ------
    InputError
        Missing file or column, empty table, a non-numeric, negative or empty value, a
        duplicated ``lucode``, or an incomplete 95 % interval (each problem names the
        line and column).
    """
    file = str(path)
    if not Path(path).is_file():
        raise InputError.single("file not found", file=file, field="carbon_pools_path",
                                expected="a CSV file of carbon pools")
    from hesuan.io.spec import ColumnSpec, TableSpec
    from hesuan.io.tables import read_table

    # The one table reader (CSV in any usual encoding and delimiter, Parquet, Excel) reads
    # every column as text; the checks below need InVEST's case-insensitive header, optional
    # per-pool columns and line numbers per cell.
    spec = TableSpec("carbon pools", (ColumnSpec("lulc_name", "str"),), unknown_columns="keep",
                     min_rows=0)
    table = read_table(path, spec)
    raw = table.frame
    if raw["lulc_name"].null_count() == raw.height:  # not in the file (or empty throughout)
        raw = raw.drop("lulc_name")
    header = list(raw.columns)
    rows = [["" if v is None else str(v) for v in row] for row in raw.iter_rows()]
    frame = _Table(header, rows, [table.line(i) for i in range(raw.height)])
    required = ("lucode", *POOLS)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            problems=tuple(Problem("missing column", file, 1, c, "columns " + ", ".join(required))
                           for c in missing),
            summary=f"{file}: the pools table lacks column(s) {', '.join(missing)}",
        )
    if frame.height == 0:
        raise InputError.single("the pools table has no rows", file=file,
                                expected="one row per land-cover class")
    problems: list[Problem] = []
    codes, p = _numbers(frame, "lucode", file, integer=True, minimum=None, maximum=None)
    problems += p
    dens = np.empty((frame.height, len(POOLS)))
    sds = np.zeros((frame.height, len(POOLS)))
    has_sd = False
    for j, pool in enumerate(POOLS):
        dens[:, j], p = _numbers(frame, pool, file)
        problems += p
        sd_col, lo_col, hi_col = f"{pool}_sd", f"{pool}_lo95", f"{pool}_hi95"
        if sd_col in frame.columns:
            if lo_col in frame.columns or hi_col in frame.columns:
                problems.append(Problem("give either a standard deviation or a 95 % interval, "
                                        "not both", file, 1, sd_col, f"{sd_col} alone"))
            sds[:, j], p = _numbers(frame, sd_col, file)
            problems += p
            has_sd = True
        elif lo_col in frame.columns or hi_col in frame.columns:
            if lo_col not in frame.columns or hi_col not in frame.columns:
                absent = hi_col if lo_col in frame.columns else lo_col
                problems.append(Problem("a 95 % interval needs both bounds", file, 1, absent,
                                        f"columns {lo_col} and {hi_col}"))
                continue
            lo, p1 = _numbers(frame, lo_col, file)
            hi, p2 = _numbers(frame, hi_col, file)
            problems += p1 + p2
            for i in np.flatnonzero(~(lo <= dens[:, j]) | ~(dens[:, j] <= hi)):
                if np.isfinite(lo[i]) and np.isfinite(hi[i]) and np.isfinite(dens[i, j]):
                    problems.append(Problem(
                        f"interval [{lo[i]:g}, {hi[i]:g}] does not contain {dens[i, j]:g}",
                        file, frame.lines[int(i)], lo_col, f"{lo_col} ≤ {pool} ≤ {hi_col}"))
            sds[:, j] = sd_from_interval95(lo, hi)
            has_sd = True
    seen: dict[int, int] = {}
    for k, code in enumerate(codes.tolist()):
        if not np.isfinite(code):
            continue
        if int(code) in seen:
            problems.append(Problem(f"lucode {int(code)} repeats line {seen[int(code)]}",
                                    file, frame.lines[k], "lucode", "each lucode once"))
        else:
            seen[int(code)] = frame.lines[k]
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the pools table")
    name_col = next((c for c in _NAME_COLUMNS if c in frame.columns), None)
    names = ([v or "" for v in frame[name_col]] if name_col
             else [str(int(c)) for c in codes])
    order = np.argsort(codes, kind="stable")
    return PoolsTable(
        path=file,
        codes=codes[order].astype(np.int64),
        names=tuple(str(names[i]) or str(int(codes[i])) for i in order),
        density_t_c_per_ha=dens[order],
        sd_t_c_per_ha=sds[order] if has_sd else None,
    )
