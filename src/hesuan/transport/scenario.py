"""What-if scenarios: rules that rewrite legs before the calculation.

Rule syntax (one rule per ``--rule`` option, or several separated by ``;``)::

    CONDITIONS -> ASSIGNMENTS
    CONDITIONS  := * | COND [& COND ...]       COND := column OP value
    OP          := = | != | > | >= | < | <=
    ASSIGNMENTS := column=value [, column=value ...]

Examples::

    mode=road & distance_km>500 -> mode=rail, vehicle=freight_train
    fuel=diesel -> fuel=hvo100
    mode=road & distance_km>500 -> mode=rail, vehicle=freight_train, intensity_wtw_g_per_tkm=18

Conditions see the input columns and ``distance_km`` on the standard's basis (after the
distance step). Rules apply in order. A rule that changes ``mode`` or ``vehicle`` turns the
leg into an activity-based one (its measured fuel and trip belonged to the old vehicle); a
rule that changes only ``fuel`` keeps the amount in the same unit (e.g. litres of diesel →
litres of HVO100).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import polars as pl

from hesuan.errors import InputError
from hesuan.transport.factors import ResolvedFactors
from hesuan.transport.spec import LEG_COLUMNS

_OPS = {"=": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}
_COND = re.compile(r"^\s*([a-z_]+)\s*(!=|>=|<=|=|>|<)\s*(.+?)\s*$")
_ASSIGNABLE = {"mode", "vehicle", "fuel", "fuel_unit", "fuel_amount", "region",
               "intensity_wtw_g_per_tkm", "intensity_ttw_g_per_tkm", "intensity_basis",
               "intensity_source", "temperature_control", "toc"}
_TYPES = {c.name: c.dtype for c in LEG_COLUMNS}


@dataclass(frozen=True)
class Rule:
    """One parsed rule: conditions (column, op, value) and assignments (column, value)."""

    text: str
    conditions: tuple[tuple[str, str, str | float], ...]
    assignments: tuple[tuple[str, str | float], ...]

    def changes_vehicle(self) -> bool:
        """Return whether the scenario assigns a mode or a vehicle."""
        return any(c in ("mode", "vehicle") for c, _ in self.assignments)


def _value(column: str, text: str, rule: str) -> str | float:
    text = text.strip().strip("'\"")
    if _TYPES.get(column) == "float" or column in ("distance_km", "tkm"):
        try:
            return float(text)
        except ValueError:
            raise InputError.single(f"scenario rule {rule!r}: {column} needs a number, "
                                    f"got {text!r}", field=column,
                                    expected="a decimal number") from None
    return text


_SPEC = {c.name: c for c in LEG_COLUMNS}


def _check_value(column: str, value: str | float, rule: str) -> None:
    """Check that an assigned value is one the leg table itself would accept (same declaration)."""
    col = _SPEC[column]
    problem = None
    if isinstance(value, float):
        if not math.isfinite(value):
            problem = "a finite number"
        elif col.minimum is not None and value < col.minimum:
            problem = f"a value >= {col.minimum:g} [{col.unit}]"
        elif col.maximum is not None and value > col.maximum:
            problem = f"a value <= {col.maximum:g} [{col.unit}]"
    elif col.allowed and value not in col.allowed:
        problem = " | ".join(col.allowed)
    if problem:
        raise InputError.single(f"scenario rule {rule!r}: {column}={value} is not allowed",
                                field=column, expected=problem)


def check_rules(rules: tuple[Rule, ...], factors: ResolvedFactors) -> None:
    """Vehicle classes and fuels assigned by rules must exist in the run's factors."""
    vehicles = factors.vehicle_keys()
    fuels = factors.fuel_keys()
    for r in rules:
        assigned = dict(r.assignments)
        fuel = assigned.get("fuel")
        if fuel is not None and fuel not in fuels:
            raise InputError.single(f"scenario rule {r.text!r}: unknown fuel {fuel!r}",
                                    field="fuel", expected=" | ".join(fuels))
        vehicle = assigned.get("vehicle")
        if vehicle is None:
            continue
        mode = assigned.get("mode")
        modes = [str(mode)] if mode is not None else sorted(vehicles)
        if not any(vehicle in vehicles.get(m, ()) for m in modes):
            raise InputError.single(
                f"scenario rule {r.text!r}: unknown vehicle class {vehicle!r}"
                + (f" for mode {mode}" if mode is not None else ""), field="vehicle",
                expected=", ".join(sorted(vehicles.get(str(mode), ()))) if mode is not None
                else "a key listed by `hesuan transport keys`")


def parse_rules(texts: list[str] | tuple[str, ...] | str | None) -> tuple[Rule, ...]:
    """Parse rule strings; an :class:`InputError` names the rule and the bad part."""
    if not texts:
        return ()
    if isinstance(texts, str):
        texts = [texts]
    rules = []
    for whole in texts:
        for text in (t for t in whole.split(";") if t.strip()):
            if "->" not in text:
                raise InputError.single(f"scenario rule {text!r} has no '->'",
                                        expected="CONDITIONS -> column=value[, ...]")
            left, right = text.split("->", 1)
            conds = []
            if left.strip() != "*":
                for part in left.split("&"):
                    m = _COND.match(part)
                    if not m:
                        raise InputError.single(
                            f"scenario rule {text!r}: cannot read condition {part.strip()!r}",
                            expected="column OP value with OP one of " + " ".join(_OPS))
                    col, op, val = m.groups()
                    if col not in _TYPES and col not in ("distance_km", "tkm"):
                        raise InputError.single(
                            f"scenario rule {text!r}: unknown column {col!r}", field=col,
                            expected=", ".join(sorted(_TYPES)))
                    conds.append((col, op, _value(col, val, text)))
            assigns = []
            for part in right.split(","):
                if "=" not in part:
                    raise InputError.single(f"scenario rule {text!r}: cannot read "
                                            f"assignment {part.strip()!r}",
                                            expected="column=value")
                col, val = (s.strip() for s in part.split("=", 1))
                if col not in _ASSIGNABLE:
                    raise InputError.single(f"scenario rule {text!r}: cannot assign {col!r}",
                                            field=col, expected=", ".join(sorted(_ASSIGNABLE)))
                value = _value(col, val, text)
                _check_value(col, value, text)
                assigns.append((col, value))
            rules.append(Rule(text.strip(), tuple(conds), tuple(assigns)))
    return tuple(rules)


def _condition(col: str, op: str, value: str | float) -> pl.Expr:
    c = pl.col(col)
    expr = {"=": c == value, "!=": c != value, ">": c > value, ">=": c >= value,
            "<": c < value, "<=": c <= value}[op]
    return expr.fill_null(False)


def apply_rules(frame: pl.DataFrame, rules: tuple[Rule, ...]) -> pl.DataFrame:
    """Apply the rules in order; adds ``scenario_rule`` naming the last rule that matched."""
    if not rules:
        return frame
    if "scenario_rule" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("scenario_rule"))
    for rule in rules:
        mask = pl.lit(True)
        for col, op, value in rule.conditions:
            mask = mask & _condition(col, op, value)
        frame = frame.with_columns(_m=mask)
        updates = [pl.when(pl.col("_m")).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
                   for c, v in rule.assignments]
        if rule.changes_vehicle():
            assigned = {c for c, _ in rule.assignments}
            for col in ("fuel_amount", "trip_id", "refrigerant_kg"):
                if col not in assigned:
                    updates.append(pl.when(pl.col("_m")).then(None).otherwise(pl.col(col))
                                   .alias(col))
            for col in ("toc", "intensity_wtw_g_per_tkm", "intensity_ttw_g_per_tkm"):
                if col not in assigned:
                    updates.append(pl.when(pl.col("_m")).then(None).otherwise(pl.col(col))
                                   .alias(col))
        updates.append(pl.when(pl.col("_m")).then(pl.lit(rule.text))
                       .otherwise(pl.col("scenario_rule")).alias("scenario_rule"))
        frame = frame.with_columns(updates).drop("_m")
    return frame
