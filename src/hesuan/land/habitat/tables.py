"""The two tables of the habitat-quality model: threats and sensitivity.

Both are read by :func:`hesuan.io.tables.read_table` against the declarations below; every
problem names the file, the line and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hesuan.errors import InputError, Problem
from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.io.tables import read_table
from hesuan.land.habitat.equations import DECAYS

THREATS_SPEC = TableSpec(
    name="threats",
    description="One row per threat (InVEST's threats table, with the distance in km).",
    columns=(
        ColumnSpec("threat", "str", "Name of the threat; the sensitivity table has a column "
                   "of this name.", required=True, pattern=r"[A-Za-z_][A-Za-z0-9_]*",
                   pattern_text="a name of letters, digits and _"),
        ColumnSpec("max_dist_km", "float", "Distance beyond which the threat has no impact.",
                   unit="km", required=True, minimum=0, exclusive_minimum=True),
        ColumnSpec("weight", "float", "Impact of the threat relative to the others.",
                   required=True, minimum=0, maximum=1),
        ColumnSpec("decay", "str", "How the impact falls with distance.", required=True,
                   allowed=DECAYS),
        ColumnSpec("raster", "str", "The threat's raster (0 = absent, (0, 1] = present), "
                   "relative to the table's folder.", required=True),
    ),
    key=("threat",),
)

SENSITIVITY_SPEC = TableSpec(
    name="sensitivity",
    description="One row per land-cover class: habitat suitability and, in one column per "
                "threat, its sensitivity to that threat [0–1].",
    columns=(
        ColumnSpec("lucode", "int", "Land-cover code of the LULC raster.", required=True),
        ColumnSpec("name", "str", "Name of the class."),
        ColumnSpec("habitat", "float", "Habitat suitability H_j (0 = not habitat).",
                   required=True, minimum=0, maximum=1),
    ),
    key=("lucode",),
    unknown_columns="keep",
)


@dataclass(frozen=True)
class Threat:
    """One row of the threats table."""

    name: str
    max_dist_km: float
    weight: float
    decay: str
    raster: Path


@dataclass(frozen=True)
class Sensitivity:
    """The sensitivity table: classes sorted by code, habitat H_j and S_jr per threat."""

    codes: NDArray[np.int64]
    names: tuple[str, ...]
    habitat: NDArray[np.float64]
    sensitivity: NDArray[np.float64]  # (classes, threats), threats in the threats' order


def read_threats(path: str | Path) -> tuple[Threat, ...]:
    """Return the threats table; rasters resolved against the table's folder."""
    table = read_table(path, THREATS_SPEC)
    base = Path(path).parent
    rows = table.frame.to_dicts()
    if sum(r["weight"] for r in rows) <= 0:
        table.raise_problems([table.problem(None, "weight", "the weights sum to 0",
                                            "at least one weight above 0")])
    return tuple(Threat(r["threat"], r["max_dist_km"], r["weight"], r["decay"],
                        base / r["raster"]) for r in rows)


def read_sensitivity(path: str | Path, threats: tuple[Threat, ...]) -> Sensitivity:
    """Return the sensitivity table, with a column in [0, 1] for every threat of ``threats``."""
    table = read_table(path, SENSITIVITY_SPEC)
    frame = table.frame.sort("lucode")
    missing = [t.name for t in threats if t.name not in frame.columns]
    if missing:
        table.raise_problems([table.problem(
            None, name, "no column for this threat of the threats table",
            f"a column {name!r} with the sensitivity [0–1] of each class") for name in missing])
    problems: list[Problem] = []
    sens = np.zeros((frame.height, len(threats)))
    order = table.frame["lucode"].arg_sort().to_list()
    for j, t in enumerate(threats):
        for i, cell in enumerate(frame[t.name].to_list()):
            try:
                value = float(cell)
            except (TypeError, ValueError):
                value = float("nan")
            if not 0 <= value <= 1:
                problems.append(table.problem(order[i], t.name, f"not a sensitivity: {cell!r}",
                                              "a number from 0 to 1"))
            sens[i, j] = value
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{table.report.file}: {len(problems)} problem(s) in the "
                                 "sensitivity table")
    names = tuple(str(n or c) for n, c in zip(frame["name"].to_list(),
                                             frame["lucode"].to_list(), strict=True))
    return Sensitivity(np.asarray(frame["lucode"].to_numpy(), dtype=np.int64), names,
                       np.asarray(frame["habitat"].to_numpy(), dtype=np.float64), sens)
