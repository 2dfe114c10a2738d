"""Spec-driven validation of leg and hub tables, vectorised over a batch.

Every rule is a named check that yields the offending rows with the column, a message and the
allowed values. :func:`check` returns them as a frame (``_row``, ``column``, ``message``,
``expected``); the caller either raises :class:`~hesuan.errors.InputError` (default) or moves
the rows to a rejects file (``--skip-invalid``).

Row numbers: ``_row`` is the 0-based position in the whole input; messages show
``line = _row + 2``, the line a spreadsheet or CSV editor shows (header on line 1), for CSV
and Parquet alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from hesuan.errors import FactorNotFoundError, InputError, Problem
from hesuan.transport.spec import Column

ERROR_SCHEMA = {"_row": pl.Int64, "column": pl.String, "message": pl.String,
                "expected": pl.String}


def missing_columns(names: Sequence[str], columns: Sequence[Column], file: str | None) -> None:
    """Stop at once if a required column is absent (a file-level error)."""
    missing = [c.name for c in columns if c.required and c.name not in names]
    if missing:
        raise InputError(
            problems=tuple(Problem(f"missing required column {m!r}", file, row=1, field=m,
                                   expected="columns " + ", ".join(
                                       c.name for c in columns if c.required))
                           for m in missing),
            summary=f"{file or 'input'}: missing required column(s) {', '.join(missing)}")


def normalise(batch: pl.DataFrame, columns: Sequence[Column]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add absent optional columns as nulls and cast every column to its declared type.

    Returns the typed frame and the errors of numbers that did not parse (a cell that is not
    empty but does not read as a number).
    """
    exprs = []
    errors = []
    texts: list[str] = []  # text columns present in the batch
    for col in columns:
        target = pl.Float64 if col.dtype == "float" else pl.String
        if col.name not in batch.columns:
            exprs.append(pl.lit(None, dtype=target).alias(col.name))
            continue
        raw = pl.col(col.name)
        dtype = batch.schema[col.name]
        if col.dtype == "float":
            if dtype == pl.String:
                text = raw.str.strip_chars()
                value = text.cast(pl.Float64, strict=False)
                bad = text.is_not_null() & (text != "") & value.is_null()
                errors.append(batch.select(
                    pl.col("_row"), pl.lit(col.name).alias("column"),
                    (pl.lit("not a number: ") + raw).alias("message"),
                    pl.lit(f"a decimal number [{col.unit}]").alias("expected"),
                ).filter(batch.select(bad).to_series()))
                exprs.append(value.alias(col.name))
            else:
                exprs.append(raw.cast(pl.Float64, strict=False).alias(col.name))
        else:
            exprs.append(raw.cast(pl.String).str.strip_chars().alias(col.name))
            texts.append(col.name)
    typed = batch.with_columns(exprs)
    # a cell that is empty once stripped is missing; only columns holding one are rewritten
    # (a full pass over their strings), typically none for Parquet input
    blank: list[str] = []
    if texts and typed.height:
        empty = typed.select((pl.col(c).str.len_bytes() == 0).any().alias(c) for c in texts)
        blank = [c for c, e in zip(texts, empty.row(0), strict=True) if e]
    if blank:
        typed = typed.with_columns(
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in blank)
    errs = pl.concat(errors) if errors else pl.DataFrame(schema=ERROR_SCHEMA)
    return typed, errs.cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def rule(frame: pl.DataFrame, mask: pl.Expr, column: str, message: pl.Expr | str,
         expected: str) -> pl.DataFrame:
    """Return the rows where ``mask`` is true, as error rows."""
    msg = pl.lit(message) if isinstance(message, str) else message
    # lazy: only the columns the mask and message use are filtered, not the whole batch
    return frame.lazy().filter(mask.fill_null(False)).select(
        pl.col("_row"), pl.lit(column).alias("column"), msg.cast(pl.String).alias("message"),
        pl.lit(expected).alias("expected")).collect()


Check = tuple[pl.Expr, str, pl.Expr | str, str]
"""One rule: (mask of the offending rows, column, message, expected) — :func:`rule`'s
arguments after the frame."""


def rules(frame: pl.DataFrame, checks: Sequence[Check]) -> list[pl.DataFrame]:
    """:func:`rule` for each check, evaluating all the masks in ONE query over ``frame``.

    The error rows (and their order) are those of calling :func:`rule` for every check; the
    masks are first computed together (one pass, Polars runs them in parallel) and only the
    checks with at least one offending row build their error rows. A valid batch thus costs
    one query instead of one per check.
    """
    if not checks:
        return []
    hit = frame.lazy().select(
        mask.fill_null(False).any().alias(f"c{i}") for i, (mask, *_) in enumerate(checks)
    ).collect().row(0)
    return [rule(frame, *check) for check, h in zip(checks, hit, strict=True) if h]


def column_checks(columns: Sequence[Column]) -> list[Check]:
    """Return the generic checks every declared column gets: required, allowed values, range."""
    out: list[Check] = []
    for col in columns:
        c = pl.col(col.name)
        if col.required:
            out.append((c.is_null(), col.name, f"missing {col.name}",
                        f"a value ({col.description.rstrip('.')})"))
        if col.allowed:
            out.append((c.is_not_null() & ~c.is_in(list(col.allowed)), col.name,
                        pl.lit(f"unknown {col.name} ") + c.cast(pl.String),
                        " | ".join(col.allowed)))
        if col.dtype == "float":
            out.append((c.is_not_null() & ~c.is_finite(), col.name,
                        pl.lit(f"{col.name} is not a finite number: ") + c.cast(pl.String),
                        f"a finite decimal number [{col.unit}]"))
        if col.minimum is not None:
            out.append((c < col.minimum, col.name,
                        pl.lit(f"{col.name} below {col.minimum:g}: ") + c.cast(pl.String),
                        f"a value >= {col.minimum:g} [{col.unit}]"))
        if col.above is not None:
            out.append((c <= col.above, col.name,
                        pl.lit(f"{col.name} not above {col.above:g}: ") + c.cast(pl.String),
                        f"a value > {col.above:g} [{col.unit}]"))
        if col.maximum is not None:
            out.append((c > col.maximum, col.name,
                        pl.lit(f"{col.name} above {col.maximum:g}: ") + c.cast(pl.String),
                        f"a value <= {col.maximum:g} [{col.unit}]"))
    return out


def check_columns(frame: pl.DataFrame, columns: Sequence[Column]) -> list[pl.DataFrame]:
    """Return the generic checks every declared column gets: required, allowed values, range."""
    return rules(frame, column_checks(columns))


def check_refrigerants(frame: pl.DataFrame, gwp_set: str) -> list[pl.DataFrame]:
    """Refrigerant names that have no GWP in the chosen set."""
    from hesuan.transport.refrigerant import known_refrigerants, refrigerant_gwp

    names = frame.select(pl.col("refrigerant").drop_nulls().unique()).to_series().to_list()
    bad = []
    for name in names:
        try:
            refrigerant_gwp(name, gwp_set)
        except FactorNotFoundError:
            bad.append(name)
    if not bad:
        return []
    return [rule(frame, pl.col("refrigerant").is_in(bad), "refrigerant",
                 pl.lit(f"no {gwp_set} GWP for refrigerant ") + pl.col("refrigerant"),
                 " | ".join(known_refrigerants()))]


def to_input_error(errors: pl.DataFrame, file: str | None, what: str) -> InputError:
    """Return an :class:`InputError` naming each bad row's line, column and allowed values."""
    errors = errors.sort("_row")
    problems = tuple(
        Problem(message, file, row=int(r) + 2, field=column, expected=expected)
        for r, column, message, expected in errors.head(200).iter_rows())
    n_rows = errors["_row"].n_unique()
    return InputError(
        problems=problems,
        summary=f"{file or what}: {n_rows} invalid row(s), nothing written "
                "(fix them, or use --skip-invalid to write them to a rejects file)")


def reasons(errors: pl.DataFrame) -> pl.DataFrame:
    """One row per rejected input row: ``_row`` and ``reject_reason`` (all its problems)."""
    return errors.group_by("_row").agg(
        pl.concat_str([pl.col("column"), pl.lit(": "), pl.col("message"), pl.lit(" (expected "),
                       pl.col("expected"), pl.lit(")")]).str.join("; ").alias("reject_reason")
    ).sort("_row")  # rejects in input order
