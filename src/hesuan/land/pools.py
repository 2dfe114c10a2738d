"""Read and check the carbon pools table (InVEST's ``carbon_pools_path`` format).

Columns (header names are case-insensitive, as in InVEST):

- ``lucode`` — integer land-use/land-cover code, unique;
- ``c_above``, ``c_below``, ``c_soil``, ``c_dead`` — densities [t C/ha], ≥ 0;
- optional ``lulc_name`` (or ``name``) — a label for reports;
- optional uncertainty, per pool: ``<pool>_sd`` — standard deviation [t C/ha], ≥ 0 — or
  ``<pool>_lo95`` and ``<pool>_hi95`` — bounds of a 95 % interval [t C/ha] (converted to a
  standard deviation assuming a normal distribution). A pool without either is taken as
  exact (sd 0). Any other column is ignored.

The table is read by :func:`hesuan.io.tables.read_table` against :data:`POOLS_SPEC`: a CSV
in any usual encoding, delimiter and decimal mark (``;`` with decimal commas, as a European
Excel saves it), Parquet, or an ``.xlsx`` workbook. Row numbers in errors are the file's line
numbers: the header is line 1 (blank lines are skipped but counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from numpy.typing import NDArray

from hesuan.errors import InputError, Problem
from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.land.equations import sd_from_interval95
from hesuan.land.spec import POOLS

if TYPE_CHECKING:
    from hesuan.io.tables import Table

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


def _density(name: str, what: str) -> ColumnSpec:
    return ColumnSpec(name, "float", what, "t C/ha", minimum=0.0,
                      maximum=MAX_DENSITY_T_C_PER_HA)


POOLS_SPEC = TableSpec(
    "carbon pools",
    (ColumnSpec("lucode", "int", "Land-use/land-cover code of the maps.", required=True),
     *(ColumnSpec(p, "float", f"Carbon density of the {w} pool (beyond any land's carbon "
                  f"density above {MAX_DENSITY_T_C_PER_HA:g}).", "t C/ha", required=True,
                  minimum=0.0, maximum=MAX_DENSITY_T_C_PER_HA)
       for p, w in zip(POOLS, ("above-ground", "below-ground", "soil", "dead-matter"),
                       strict=True)),
     ColumnSpec("lulc_name", "str", "A label for reports (or a column name / description)."),
     *(_density(f"{p}_sd", f"Standard deviation of {p}.") for p in POOLS),
     *(_density(f"{p}_{b}95", f"{'Lower' if b == 'lo' else 'Upper'} bound of a 95 % "
                f"interval of {p}.") for p in POOLS for b in ("lo", "hi"))),
    key=("lucode",), unknown_columns="keep", header_any_case=True,
    description="InVEST's carbon pools table (carbon_pools_path): one row per class.")
"""The pools table, declared once for :func:`hesuan.io.tables.read_table` (CSV in any usual
encoding, delimiter and decimal mark; Parquet; Excel): header names in any letter case, as
InVEST reads them; other columns are kept (and ignored)."""


def read_pools(path: str | Path) -> PoolsTable:
    """Read a pools table (CSV, Parquet or Excel) and check every cell.

    Returns a :class:`PoolsTable`.

    Parameters
    ----------
    path : a table with the columns described in this module's docstring
        (:data:`POOLS_SPEC`).

    Raises
    ------
    InputError
        Missing file or column, empty table, a non-numeric, negative, non-finite or empty
        value, a duplicated ``lucode``, or an incomplete 95 % interval (each problem names
        the line and column).
    """
    file = str(path)
    p = Path(path)
    if not p.is_file() and not (p.is_dir() and any(p.glob("*.parquet"))):
        raise InputError.single("file not found", file=file, field="carbon_pools_path",
                                expected="a CSV file of carbon pools")
    from hesuan.io.tables import read_table

    table = read_table(path, POOLS_SPEC, errors="collect")
    frame = table.frame
    header = set(frame.columns) - {c.name for c in POOLS_SPEC.columns
                                   if frame[c.name].null_count() == frame.height
                                   and not c.required}
    problems = list(table.problems)
    if frame.height == 0:
        raise InputError.single("the pools table has no rows", file=file,
                                expected="one row per land-cover class")
    codes = frame["lucode"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    dens = np.column_stack([frame[c].fill_null(np.nan).to_numpy() for c in POOLS])
    sds = np.zeros((frame.height, len(POOLS)))
    has_sd = False
    for j, pool in enumerate(POOLS):
        sd = _pool_sd(table, file, header, dens[:, j], pool, problems)
        if sd is not None:
            sds[:, j] = sd
            has_sd = True
    if problems:
        problems.sort(key=lambda q: q.row or 0)
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the pools table")
    name_col = next((c for c in _NAME_COLUMNS if c in header and c in frame.columns), None)
    names = ([v or "" for v in frame[name_col].cast(pl.String).to_list()] if name_col
             else [str(int(c)) for c in codes])
    order = np.argsort(codes, kind="stable")
    return PoolsTable(
        path=file,
        codes=codes[order].astype(np.int64),
        names=tuple(str(names[i]) or str(int(codes[i])) for i in order),
        density_t_c_per_ha=dens[order].astype(np.float64),
        sd_t_c_per_ha=sds[order] if has_sd else None,
    )


def _pool_sd(table: Table, file: str, header: set[str], density: NDArray[np.float64],
             pool: str, problems: list[Problem]) -> NDArray[np.float64] | None:
    """Return the standard deviations [t C / ha] of ``pool``, or None when none is given.

    From its ``_sd`` column, else from its 95 % interval (``_lo95``, ``_hi95``); a problem
    (both forms given, a missing bound) is appended to ``problems``.
    """
    frame = table.frame
    sd_col, lo_col, hi_col = f"{pool}_sd", f"{pool}_lo95", f"{pool}_hi95"
    if sd_col in header:
        if lo_col in header or hi_col in header:
            problems.append(Problem("give either a standard deviation or a 95 % interval, "
                                    "not both", file, 1, sd_col, f"{sd_col} alone"))
        return frame[sd_col].fill_null(0.0).to_numpy()
    if lo_col not in header and hi_col not in header:
        return None
    if lo_col not in header or hi_col not in header:
        absent = hi_col if lo_col in header else lo_col
        problems.append(Problem("a 95 % interval needs both bounds", file, 1, absent,
                                f"columns {lo_col} and {hi_col}"))
        return None
    lo = frame[lo_col].fill_null(np.nan).to_numpy()
    hi = frame[hi_col].fill_null(np.nan).to_numpy()
    for i in np.flatnonzero(~(lo <= density) | ~(density <= hi)):
        if np.isfinite(lo[i]) and np.isfinite(hi[i]) and np.isfinite(density[i]):
            problems.append(Problem(
                f"interval [{lo[i]:g}, {hi[i]:g}] does not contain {density[i]:g}",
                file, table.line(int(i)), lo_col, f"{lo_col} ≤ {pool} ≤ {hi_col}"))
    for i in np.flatnonzero(np.isnan(lo) | np.isnan(hi)):
        problems.append(Problem("empty bound of a 95 % interval", file,
                                table.line(int(i)), lo_col if np.isnan(lo[i])
                                else hi_col, f"both {lo_col} and {hi_col}"))
    return sd_from_interval95(lo, hi)
