"""SEEA EA condition accounts: variables → indicators → a composite index per ecosystem type.

Stage 1 (variables) are the observed values; stage 2 rescales each against its reference
levels, SEEA EA 2021 §5.61:

    I = (V − V_L) / (V_H − V_L)

where V_H is the upper (good) and V_L the lower (poor) reference level; when lower values
are better the levels are given the other way round (V_H < V_L, §5.62) and the same formula
reverses the scale. Indicators are clamped to [0, 1]. Stage 3 aggregates them into an index
with the weights of the SEEALand example (SEEA EA annex, V1 2021): each condition class of
the ecosystem condition typology present for the type (A1 physical, A2 chemical, B1
compositional, B2 structural, B3 functional, C1 landscape) weighs the same, and a class's
weight is split equally among its variables. Sub-indices: abiotic (A), biotic (B) and
landscape (C); their changes add up to the change of the index (checked).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hesuan.errors import InputError, Problem
from hesuan.land.seea.extent import AccountingIdentityError

ECT_CLASSES = ("A1", "A2", "B1", "B2", "B3", "C1")
"""The SEEA ecosystem condition typology classes (SEEA EA 2021 Table 5.2)."""


def rescale(value: float, lower: float, upper: float) -> float:
    """Return the indicator I = (V − V_L)/(V_H − V_L), clamped to [0, 1] (SEEA EA §5.61–5.62).

    ``lower`` is the poor and ``upper`` the good reference level; ``upper < lower`` when low
    values are good (the scale reverses).
    """
    if upper == lower:
        raise ValueError("reference levels must differ")
    return min(1.0, max(0.0, (value - lower) / (upper - lower)))


@dataclass(frozen=True)
class ConditionVariable:
    """One condition variable of an ecosystem type, with its reference levels."""

    ecosystem_type: str
    ect_class: str
    variable: str
    unit: str
    opening: float
    closing: float
    lower_level: float
    upper_level: float


@dataclass(frozen=True)
class ConditionIndex:
    """Stage 2 and 3 for one ecosystem type: indicators, weights, index and sub-indices."""

    ecosystem_type: str
    indicators: tuple[tuple[str, str, float, float, float], ...]  # var, class, open, close, w
    opening: float
    closing: float
    sub_opening: dict[str, float]
    sub_closing: dict[str, float]

    @property
    def change(self) -> float:
        """Return the change of the indicator, closing − opening."""
        return self.closing - self.opening


def condition_indices(variables: Iterable[ConditionVariable]) -> dict[str, ConditionIndex]:
    """Return the condition index of every ecosystem type (see the module docstring)."""
    by_type: dict[str, list[ConditionVariable]] = defaultdict(list)
    for v in variables:
        by_type[v.ecosystem_type].append(v)
    out: dict[str, ConditionIndex] = {}
    for et, vs in by_type.items():
        per_class: dict[str, int] = defaultdict(int)
        for v in vs:
            per_class[v.ect_class] += 1
        inds = []
        sub_o: dict[str, float] = defaultdict(float)
        sub_c: dict[str, float] = defaultdict(float)
        for v in vs:
            w = 1.0 / len(per_class) / per_class[v.ect_class]
            io = rescale(v.opening, v.lower_level, v.upper_level)
            ic = rescale(v.closing, v.lower_level, v.upper_level)
            inds.append((v.variable, v.ect_class, io, ic, w))
            sub_o[v.ect_class[0]] += w * io
            sub_c[v.ect_class[0]] += w * ic
        opening = sum(w * io for _, _, io, _, w in inds)
        closing = sum(w * ic for _, _, _, ic, w in inds)
        weights = sum(w for *_, w in inds)
        if abs(weights - 1) > 1e-12 or abs(sum(sub_c.values()) - sum(sub_o.values())
                                           - (closing - opening)) > 1e-12:
            raise AccountingIdentityError(f"condition index of {et}: weights sum to {weights}"
                                          " or sub-index changes do not add up")
        out[et] = ConditionIndex(et, tuple(inds), opening, closing, dict(sub_o), dict(sub_c))
    return out


def read_condition_variables(path: str | Path) -> list[ConditionVariable]:
    """Return the condition variables table.

    ``ecosystem_type, ect_class, variable, unit, opening, closing, lower_level, upper_level``; every
    problem with file, row and field.
    """
    from hesuan.land.gep.tables import read_table

    file = str(path)
    cols = ("ecosystem_type", "ect_class", "variable", "unit", "opening", "closing",
            "lower_level", "upper_level")
    frame = read_table(path, cols, ("note",))
    problems: list[Problem] = []
    out: list[ConditionVariable] = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        before = len(problems)
        if row["ect_class"] not in ECT_CLASSES:
            problems.append(Problem(f"unknown class {row['ect_class']!r}", file, line,
                                    "ect_class", " | ".join(ECT_CLASSES)))
        nums = {}
        for c in ("opening", "closing", "lower_level", "upper_level"):
            try:
                nums[c] = float(row[c])
            except (TypeError, ValueError):
                problems.append(Problem(f"not a number: {row[c]!r}", file, line, c, "a number"))
        if len(nums) == 4 and nums["lower_level"] == nums["upper_level"]:
            problems.append(Problem("reference levels are equal", file, line, "upper_level",
                                    "an upper (good) level different from the lower"))
        if len(problems) > before:
            continue
        out.append(ConditionVariable(row["ecosystem_type"], row["ect_class"], row["variable"],
                                     row["unit"] or "", nums["opening"], nums["closing"],
                                     nums["lower_level"], nums["upper_level"]))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the condition table")
    return out
