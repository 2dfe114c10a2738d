"""The declaration of a table: its columns, key, plausible ranges — and what it renders.

A :class:`TableSpec` is read by :func:`hesuan.io.tables.read_table` (which checks a file
against it) and renders the CLI help (:func:`help_text`), the docs' column table
(:func:`markdown_table`), a JSON Schema (:func:`json_schema`) and a pydantic model of one row
(:func:`row_model`). This module imports no data library, so declaring tables costs nothing
at start-up; see :mod:`hesuan.io.tables` for an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

DType = Literal["str", "float", "int", "bool", "date"]
DTYPES: tuple[str, ...] = ("str", "float", "int", "bool", "date")


@dataclass(frozen=True)
class RequiredIf:
    """A value is required on the rows where ``column`` is given (and, with ``values``,
    equals one of them): ``RequiredIf("fuel_amount")``, ``RequiredIf("mode", ("sea",))``."""

    column: str
    values: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.values:
            return f"required when {self.column} is {' or '.join(self.values)}"
        return f"required when {self.column} is given"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table.

    Parameters
    ----------
    name : str
        The column name in the file's header (``aliases`` are accepted too and renamed).
    dtype : {"str", "float", "int", "bool", "date"}
        The type the reader converts the column to; a cell that does not convert is an error.
    description : str
        One sentence for the help, the docs and the JSON Schema.
    unit : str
        The unit of the values, e.g. ``"t"`` or ``"g CO2e/t·km"`` (documentation only: a
        value is read in this unit).
    required : bool
        The column must be in the header and every row must have a value.
    in_header : bool
        The column must be in the header even when its values may be empty.
    required_if : RequiredIf, optional
        A value is required on the rows that meet the condition.
    allowed : tuple of str, optional
        The allowed values of a text column (empty cells pass unless required).
    minimum, maximum : float, optional
        Bounds every value must meet (inclusive unless ``exclusive_minimum``).
    finite : bool
        Numbers must be finite (default: ``nan``, ``inf`` are refused).
    plausible : (float, float), optional
        A range outside which a value is only *warned* about (``None`` for an open end).
    pattern : str, optional
        A regular expression every text value must match in full; ``pattern_text`` says in
        words what it means (shown as what was expected).
    default : str, optional
        What an empty cell means, for the help and the docs (the reader leaves it empty).
    """

    name: str
    dtype: DType
    description: str = ""
    unit: str = ""
    required: bool = False
    in_header: bool = False
    required_if: RequiredIf | None = None
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    finite: bool = True
    plausible: tuple[float | None, float | None] | None = None
    default: str | None = None
    aliases: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_text: str = ""

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"column {self.name}: unknown dtype {self.dtype!r}")

    def rule_text(self) -> str:
        """The column's rules in words: ``"≥ 0; one of a, b; required"``."""
        bits: list[str] = []
        if self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else \
                f"{'>' if self.exclusive_minimum else '≥'} {self.minimum:g}"
            hi = "" if self.maximum is None else f"≤ {self.maximum:g}"
            bits.append(" and ".join(b for b in (lo, hi) if b))
        if self.allowed:
            bits.append("one of " + ", ".join(self.allowed))
        if self.pattern_text:
            bits.append(self.pattern_text)
        if self.required:
            bits.append("required")
        elif self.required_if is not None:
            bits.append(self.required_if.describe())
        elif self.in_header:
            bits.append("in the header, may be empty")
        else:
            bits.append("optional")
        if self.default:
            bits.append(f"default {self.default}")
        return "; ".join(bits)

    def help_line(self) -> str:
        """One line of ``--help``: ``mass_t [t] (float, ≥ 0; required): Freight mass.``"""
        unit = f" [{self.unit}]" if self.unit else ""
        return f"{self.name}{unit} ({self.dtype}, {self.rule_text()}): {self.description}"


@dataclass(frozen=True)
class Plausibility:
    """A range that only warns: ``column`` outside ``[low, high]`` on the rows where
    ``when`` holds (``(column, values)``), with ``note`` saying why the range is plausible."""

    column: str
    low: float | None = None
    high: float | None = None
    note: str = ""
    when: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class TableSpec:
    """A table: its columns, key (unique together), plausible ranges and header policy.

    ``unknown_columns``: ``"error"`` (default: a misspelt optional column is not silently
    ignored), ``"warn"`` (dropped with a warning) or ``"keep"`` (kept as text).
    ``header_any_case``: header names match whatever their letter case.
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    plausible: tuple[Plausibility, ...] = ()
    unknown_columns: Literal["error", "warn", "keep"] = "error"
    header_any_case: bool = False
    """Match header names to the declared names (and aliases) whatever their letter case
    (InVEST's tables: ``LUCODE``, ``C_above``); unknown columns are then lower-cased too."""
    min_rows: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column names")
        for k in self.key:
            if k not in names:
                raise ValueError(f"table {self.name}: key column {k} is not declared")

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def all_plausible(self) -> tuple[Plausibility, ...]:
        """The table's plausible ranges together with those declared on its columns."""
        own = tuple(Plausibility(c.name, c.plausible[0], c.plausible[1])
                    for c in self.columns if c.plausible is not None)
        return own + self.plausible


# --------------------------------------------------------------------------- renderings


def help_text(spec: TableSpec) -> str:
    """The columns for a command's ``--help`` (one paragraph per column, as Typer and Click
    keep paragraphs apart)."""
    return "\n\n".join(c.help_line() for c in spec.columns)


def markdown_table(spec: TableSpec) -> str:
    """The columns as a Markdown table for the docs."""
    rows = ["| column | type | unit | rule | description |", "|---|---|---|---|---|"]
    for c in spec.columns:
        rule = c.rule_text().replace("|", "\\|")
        rows.append(f"| `{c.name}` | {c.dtype} | {c.unit or '–'} | {rule} | "
                    f"{c.description.replace('|', chr(92) + '|')} |")
    if spec.key:
        rows.append("")
        rows.append(f"Key (unique together): {', '.join(f'`{k}`' for k in spec.key)}.")
    return "\n".join(rows)


_JSON_TYPES = {"str": "string", "float": "number", "int": "integer", "bool": "boolean",
               "date": "string"}


def json_schema(spec: TableSpec) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of one row of the table."""
    props: dict[str, Any] = {}
    for c in spec.columns:
        prop: dict[str, Any] = {"type": [_JSON_TYPES[c.dtype]] if c.required
                                else [_JSON_TYPES[c.dtype], "null"]}
        desc = c.description + (f" [{c.unit}]" if c.unit else "")
        if c.required_if is not None:
            desc += f" ({c.required_if.describe()})"
        prop["description"] = desc.strip()
        if c.dtype == "date":
            prop["format"] = "date"
        if c.allowed:
            prop["enum"] = [*c.allowed] + ([] if c.required else [None])
        if c.minimum is not None:
            prop["exclusiveMinimum" if c.exclusive_minimum else "minimum"] = c.minimum
        if c.maximum is not None:
            prop["maximum"] = c.maximum
        if c.unit:
            prop["x-unit"] = c.unit
        props[c.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": spec.name,
        "description": spec.description,
        "type": "object",
        "properties": props,
        "required": [c.name for c in spec.columns if c.required],
        "additionalProperties": spec.unknown_columns == "keep",
    }


def row_model(spec: TableSpec, model_name: str | None = None) -> Any:
    """A pydantic model of one row (for API request and response schemas)."""
    import datetime as dt

    from pydantic import ConfigDict, Field, create_model

    py = {"str": str, "float": float, "int": int, "bool": bool, "date": dt.date}
    fields: dict[str, Any] = {}
    for c in spec.columns:
        kind: Any = py[c.dtype]
        if c.allowed:
            from typing import Literal as _L
            kind = _L[tuple(c.allowed)]
        extra: dict[str, Any] = {"description": (c.description +
                                                 (f" [{c.unit}]" if c.unit else "")).strip()}
        if c.minimum is not None:
            extra["gt" if c.exclusive_minimum else "ge"] = c.minimum
        if c.maximum is not None:
            extra["le"] = c.maximum
        if c.dtype == "float" and c.finite:
            extra["allow_inf_nan"] = False
        if c.required:
            fields[c.name] = (kind, Field(..., **extra))
        else:
            fields[c.name] = (kind | None, Field(None, **extra))
    config = ConfigDict(extra="allow" if spec.unknown_columns == "keep" else "forbid")
    return create_model(model_name or _camel(spec.name) + "Row", __config__=config, **fields)


def _camel(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)
