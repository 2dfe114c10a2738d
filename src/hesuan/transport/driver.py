"""``hesuan.transport.calculate``: the two passes over batches of legs (single process).

When the input has a ``trip_id`` or fuel column, a first pass adds per-trip and per-TOC
partial sums over all batches (a trip may span batches); the second pass computes each leg
(:mod:`hesuan.transport.chain`) and streams it to the output Parquet. Every output is staged
in an :class:`hesuan.io.outputs.OutputSet` (paths checked before any work) and published
only when all succeeded.
Progress is reported to a callback (the CLI draws a bar with it).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from hesuan.errors import InputError, Problem
from hesuan.io.outputs import OutputSet, PlannedOutput
from hesuan.io.provenance import DatasetUse, InputFile, Provenance
from hesuan.transport import chain
from hesuan.transport.chain import RunContext
from hesuan.transport.distance import DEFAULT_CIRCUITY
from hesuan.transport.factors import ResolvedFactors, resolve
from hesuan.transport.intensity import intensity_g_per_tkm
from hesuan.transport.outputs import LegWriter
from hesuan.transport.scenario import check_rules, parse_rules
from hesuan.transport.sources import (
    DEFAULT_BATCH,
    BatchSource,
    Source,
    open_source,
    parquet_parts,
    prefetch,
    read_table,
    sha256_of,
)
from hesuan.transport.spec import HUB_COLUMNS, LEG_COLUMNS, TRIP_COLUMNS
from hesuan.transport.summary import TransportSummary, Warning_, build_summary
from hesuan.transport.validate import missing_columns, reasons, to_input_error

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, rows_done, rows_total)``: called with 0 rows when a stage starts and
with each batch's row count as it is done (``rows_total`` None when unknown)."""


@dataclass
class TransportResult:
    """What a run produced: per-leg, per-hub and per-shipment frames and the summary."""

    legs: pl.DataFrame | pl.LazyFrame
    hubs: pl.DataFrame
    shipments: pl.DataFrame | pl.LazyFrame
    summary: TransportSummary
    rejects: pl.DataFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)

    def legs_frame(self) -> pl.DataFrame:
        """Return the per-leg results in memory."""
        return self.legs.collect() if isinstance(self.legs, pl.LazyFrame) else self.legs

    def shipments_frame(self) -> pl.DataFrame:
        """Return the per-shipment results in memory."""
        s = self.shipments
        return s.collect() if isinstance(s, pl.LazyFrame) else s


def pass1_filter(schema: pl.Schema) -> pl.Expr:
    """Return which rows pass 1 needs: those with a trip or with fuel.

    Text cells "" count as empty (numbers are never text: no cast for them).
    """
    keep = pl.lit(False)
    for name in ("trip_id", "fuel_amount"):
        if name in schema:
            c = pl.col(name)
            given = c.is_not_null()
            if not schema[name].is_numeric():
                given = given & (c.cast(pl.String).str.strip_chars() != "")
            keep = keep | given
    return keep


def pass1_rows(batch: pl.DataFrame) -> pl.DataFrame:
    """Return the rows of ``batch`` that pass 1 needs (:func:`pass1_filter`)."""
    return batch.filter(pass1_filter(batch.schema))


PASS1_WINDOW = 4
"""Pass 1 reads a Parquet input in windows of this many batches [-]: its rows (those with a
trip or fuel, :func:`pass1_filter`) are a fraction of the input, so fewer, fuller batches."""


PASS1_UNUSED = ("shipment_id", "leg_id", "intensity_wtw_g_per_tkm", "intensity_ttw_g_per_tkm",
                "intensity_basis", "intensity_source", "load_factor", "empty_running")
"""Leg columns that no per-trip or per-TOC fuel sum depends on."""


def pass1_columns(src: BatchSource, ctx: RunContext, skip_invalid: bool) -> list[str] | None:
    """Return the columns pass 1 reads: all but :data:`PASS1_UNUSED` (None: all of them).

    Those a scenario rule's condition names are read too. With ``skip_invalid`` every
    column is read: a row rejected for any cell must not count in its trip's sums. Without
    it, a bad cell in a column left out stops the run in pass 2 instead.
    """
    if skip_invalid:
        return None
    needed = {c for r in ctx.rules for c, _, _ in r.conditions}
    keep = [c for c in src.columns if c not in PASS1_UNUSED or c in needed]
    return None if len(keep) == len(src.columns) else keep


def _with_placeholder_keys(rows: pl.DataFrame) -> pl.DataFrame:
    """Return pass-1 rows with a placeholder for each leg key column not read."""
    return rows.with_columns(pl.lit("pass 1").alias(c) for c in ("shipment_id", "leg_id")
                             if c not in rows.columns)


def prepared_batches(src: BatchSource, ctx: RunContext
                     ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """Yield each batch of ``src`` with its prepared rows and errors (:func:`chain.prepare_legs`).

    The next batch is prepared in a background thread while the caller computes the current
    one's emissions, checks and partial sums (Polars queries and pyproj's geodesic release
    the GIL, so on two cores the steps overlap); one prepared batch waits at most.
    """
    return prefetch(((batch, *chain.prepare_legs(batch, ctx)) for batch in src),
                    name="hesuan-prepare")


def pass1_partials(src: BatchSource, ctx: RunContext, skip_invalid: bool, report: Progress
                   ) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    """Pass 1: per-trip and per-TOC partial sums of each batch (:func:`chain.trip_partials`).

    Of the rows with a trip or fuel (:func:`pass1_filter`), read in the columns
    :func:`pass1_columns` names; invalid rows stop the run or (``skip_invalid``) are left out.
    """
    trip_parts, toc_parts = [], []
    report("pass 1/2 trips", 0, src.n_rows)
    for rows, n_read in src.read_where(pass1_columns(src, ctx, skip_invalid), pass1_filter,
                                       PASS1_WINDOW * src.batch_size):
        if not rows.height:
            report("pass 1/2 trips", n_read, src.n_rows)
            continue
        rows1 = _with_placeholder_keys(rows)
        prepared, errors = chain.prepare_legs(rows1, ctx)
        errors = _with_read_errors(errors, src.errors_of(rows1))
        if errors.height:
            if not skip_invalid:
                raise to_input_error(errors, src.name, "legs")
            prepared = prepared.filter(~pl.col("_row").is_in(errors["_row"].to_list()))
        t, c = chain.trip_partials(prepared, ctx)
        trip_parts.append(t)
        toc_parts.append(c)
        report("pass 1/2 trips", n_read, src.n_rows)
    return trip_parts, toc_parts


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a calculation.

    The per-batch work allocates Polars expressions and frames, freed by reference counting
    (no cycles); each full collection would walk every object of the process (imported
    modules, factor tables, the sea network: ~0.1 s each) and find nothing. The collector's
    previous state is restored after, also on error. The pause is process-wide (a web
    worker's other threads collect after it); of runs that overlap, the first to end
    re-enables it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _with_read_errors(errors: pl.DataFrame, read: pl.DataFrame | None) -> pl.DataFrame:
    """Return a batch's errors and the reader's errors of its rows, one frame."""
    if read is None or not read.height:
        return errors
    return pl.concat([read.cast(errors.schema), errors])


def trip_table_partials(trips: pl.DataFrame | None, ctx: RunContext) -> list[pl.DataFrame]:
    """Return a trips table as partial trip sums with no t·km of its own.

    The table has trip_id, fuel, fuel_amount, fuel_unit[, region, refrigerant, refrigerant_kg].
    """
    if trips is None:
        return []
    if "trip_id" not in trips.columns:
        raise InputError.single("trips table: missing required column 'trip_id'", row=1,
                                field="trip_id", expected="trip_id, fuel, fuel_amount, fuel_unit")
    legs_like = trips.with_columns(
        pl.lit("trip").alias("shipment_id"), pl.lit("trip").alias("leg_id"),
        pl.lit("road").alias("mode"), pl.lit(0.0).alias("mass_t"),
        pl.lit(0.0).alias("distance_km"),
    ).with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    prepared, errors = chain.prepare_legs(legs_like, ctx)
    errors = errors.filter(pl.col("column") != "vehicle")
    if errors.height:
        raise to_input_error(errors, "trips table", "trips table")
    part, _ = chain.trip_partials(prepared.with_columns(pl.lit(None, dtype=pl.String)
                                                        .alias("toc")), ctx)
    # its rows are the trips table's, not legs': no leg position of its own
    return [part.with_columns(pl.lit(None, dtype=pl.Int64).alias(c)
                              for c in ("trip_first_row", "trip_last_row"))]


@dataclass
class NoValidLegs(InputError):
    """Every leg of the input is invalid (``skip_invalid``): there is nothing to calculate.

    ``rejects`` holds every rejected row with its ``line`` and ``reject_reason``, as a run's
    rejects table would (``None`` once the error has crossed a process boundary).
    """

    rejects: pl.DataFrame | None = None


def no_legs_error(name: str | None, reject_rows: list[pl.DataFrame]) -> InputError:
    """Nothing to calculate.

    An input without data rows, or (``skip_invalid``) one whose every row is invalid — then the
    first row's reasons are given, and every row's in :attr:`NoValidLegs.rejects`.
    """
    rejected = sum(r.height for r in reject_rows)
    if not rejected:
        return InputError.single("the leg table has no data rows: nothing to calculate",
                                 file=name, expected="at least one leg")
    rejects = pl.concat(reject_rows, how="diagonal").sort(pl.col("line").cast(pl.Int64))
    first = rejects.row(0, named=True)
    problem = Problem(f"all {rejected} legs are invalid, nothing to calculate; the first (line "
                      f"{first['line']}): {first['reject_reason']}", name, int(first["line"]),
                      None, "at least one valid leg")
    return NoValidLegs(problems=(problem,), summary=str(problem), rejects=rejects)


def reject_frame(batch: pl.DataFrame, errors: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the rejected rows of a batch as text with ``line`` and ``reject_reason``.

    Also the reasons (``_row``, ``reject_reason``).
    """
    why = reasons(errors)
    rows = batch.join(why, on="_row").with_columns(
        (pl.col("_row") + 2).alias("line")).drop("_row").select(pl.all().cast(pl.String))
    return rows, why


def hub_results(hub_frame: pl.DataFrame | None, ctx: RunContext, skip_invalid: bool,
                reject_rows: list[pl.DataFrame], file: str | None = None) -> pl.DataFrame:
    """Hub emissions of the hub table (empty table without one).

    Invalid rows stop the run or (``skip_invalid``) join ``reject_rows``.
    """
    if hub_frame is None:
        return pl.DataFrame(schema={c: pl.String for c in chain.HUB_OUTPUT}).cast(
            {c: pl.Float64 for c in chain.HUB_OUTPUT if c.endswith(("_t", "co2e", "_kg"))})
    missing_columns(hub_frame.columns, HUB_COLUMNS, file or "hubs")
    framed = hub_frame.with_row_index("_row").with_columns(pl.col("_row").cast(pl.Int64))
    typed, errors = chain.prepare_hubs(framed, ctx)
    if errors.height:
        if not skip_invalid:
            raise to_input_error(errors, file or "hubs", "hubs")
        rows, why = reject_frame(framed, errors)
        reject_rows.append(rows.with_columns(pl.lit("hubs").alias("table")))
        typed = typed.filter(~pl.col("_row").is_in(why["_row"].to_list()))
    return chain.hub_emissions(typed, ctx)


SHIPMENT_SUMS = ("tkm", "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "co2_combustion_kg")
"""The per-leg columns a shipment's row adds up."""


def shipment_partials(legs: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Return per-shipment sums of some legs: ``n_legs`` and :data:`SHIPMENT_SUMS`.

    One batch's partial sums; :func:`shipments_of` adds up those of every batch (a shipment
    may span batches), so the per-shipment table needs no second read of the per-leg output.
    """
    return legs.lazy().group_by("shipment_id").agg(
        pl.len().alias("n_legs"), *(pl.col(c).sum() for c in SHIPMENT_SUMS))


def compact_shipment_partials(parts: list[pl.DataFrame], limit: int) -> list[pl.DataFrame]:
    """Return ``parts`` added up into one frame when the batches since the last sum are many.

    That is when they hold more rows than ``limit`` and than the sum so far (``parts[0]``):
    memory stays within about twice the shipment table's rows, and each row is added up a
    bounded number of times (the sums at most double in rows between two compactions).
    """
    if len(parts) < 2 or sum(p.height for p in parts[1:]) <= max(limit, parts[0].height):
        return parts
    return [_add_shipment_partials(pl.concat(parts).lazy()).collect()]


def _add_shipment_partials(parts: pl.LazyFrame) -> pl.LazyFrame:
    return parts.group_by("shipment_id").agg(
        pl.col("n_legs").sum().cast(pl.UInt32), *(pl.col(c).sum() for c in SHIPMENT_SUMS))


def shipments_of(legs: pl.DataFrame | pl.LazyFrame, hubs: pl.DataFrame,
                 parts: list[pl.DataFrame] | None = None) -> pl.LazyFrame:
    """Per-shipment totals: legs and hubs of each shipment (t·km from legs only).

    From the per-batch partial sums ``parts`` (:func:`shipment_partials`) when given (not
    empty), else from the legs themselves.
    """
    cols = ["ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e"]
    lz = _add_shipment_partials(pl.concat(parts).lazy()) if parts else shipment_partials(legs)
    hz = hubs.lazy().group_by("shipment_id").agg(
        pl.len().alias("n_hubs"), *(pl.col(c).sum().alias("hub_" + c) for c in cols))
    both = lz.join(hz, on="shipment_id", how="full", coalesce=True).with_columns(
        *(pl.col(c).fill_null(0.0) + pl.col("hub_" + c).fill_null(0.0) for c in cols),
        pl.col("n_legs").fill_null(0), pl.col("n_hubs").fill_null(0),
        pl.col("tkm").fill_null(0.0))
    return both.with_columns(
        intensity_g_per_tkm(pl.col("wtw_kg_co2e"), pl.col("tkm")).alias("intensity_wtw_g_per_tkm")
    ).drop([f"hub_{c}" for c in cols])


class RunChecks:
    """What is checked across all batches of a run: duplicate leg keys and plausibility.

    Each batch adds the 64-bit hashes of its (shipment_id, leg_id) keys and the counts and
    first lines of its implausible legs (:func:`chain.plausibility`); :meth:`duplicates`
    confirms hash matches on the keys themselves before refusing.
    """

    def __init__(self) -> None:
        self.hashes: list[pl.Series] = []
        self.flags: dict[str, tuple[str, int, list[int]]] = {}

    def add(self, prepared: pl.DataFrame, result: pl.DataFrame) -> None:
        """Add a batch: the hashes of its leg keys and its plausibility flags.

        The first ten lines of each flag are kept.
        """
        self.hashes.append(prepared.select(chain.leg_key_hash()).to_series())
        for code, message, n, lines in chain.plausibility(result):
            _, total, first = self.flags.get(code, (message, 0, []))
            self.flags[code] = (message, total + n, (first + lines)[:10])

    def warnings(self) -> tuple[Warning_, ...]:
        """Return the plausibility warnings of every batch added, by code."""
        return tuple(Warning_(code=code, message=m, n_legs=n, lines=tuple(lines))
                     for code, (m, n, lines) in sorted(self.flags.items()))

    def check_duplicates(self, src: object, name: str | None) -> None:
        """Refuse legs whose (shipment_id, leg_id) appears more than once."""
        if not self.hashes:
            return
        # sorted, equal hashes are neighbours (a third of the CPU time of a hash table)
        hashes = pl.concat(self.hashes).sort()
        later = hashes.slice(1)
        dup = later.filter(later == hashes.slice(0, len(later))).unique()
        if not dup.len():
            return
        seen: list[pl.DataFrame] = []
        for batch in src:  # type: ignore[attr-defined]
            keys = batch.select("_row", pl.col("shipment_id").cast(pl.String).str.strip_chars(),
                                pl.col("leg_id").cast(pl.String).str.strip_chars(),
                                chain.leg_key_hash(raw=True))
            seen.append(keys.filter(pl.col("_key_hash").is_in(dup.implode())))
        rows = pl.concat(seen).filter(pl.len().over("shipment_id", "leg_id") > 1)
        if not rows.height:
            return  # a hash collision only
        groups = rows.group_by("shipment_id", "leg_id").agg(
            (pl.col("_row") + 2).sort().alias("lines")).sort(pl.col("lines").list.first())
        shown = "; ".join(f"{g['shipment_id']}/{g['leg_id']} on lines "
                          f"{', '.join(map(str, g['lines'][:5]))}"
                          for g in groups.head(10).iter_rows(named=True))
        raise InputError.single(
            f"{groups.height} leg key(s) (shipment_id, leg_id) appear more than once, so "
            f"their emissions would count twice: {shown}", file=name, field="leg_id",
            row=int(groups["lines"][0][1]),
            expected="one row per leg: a unique leg_id within each shipment")


def _input_file(role: str, source: Source) -> InputFile:
    if isinstance(source, pl.DataFrame):
        return InputFile(role, "(in-memory frame)", "", int(source.estimated_size()))
    path = Path(source)
    if path.is_file():
        return InputFile.of(path, role)
    size = sum(f.stat().st_size for f in parquet_parts(path))
    return InputFile(role, str(path), sha256_of(path) or "", size)


@dataclass(frozen=True)
class PlannedFiles:
    """The files of a run with ``out``: declared (and their paths checked) before any work."""

    legs: PlannedOutput | None
    hubs: PlannedOutput | None
    shipments: PlannedOutput | None
    rejects: PlannedOutput | None


def plan_files(outputs: OutputSet, out: str | Path | None, rejects_path: str | Path | None,
               skip_invalid: bool) -> PlannedFiles | None:
    """Declare the per-leg, per-hub, per-shipment (and rejects) files in ``outputs``."""
    if out is None and rejects_path is None:
        return None
    legs = hubs = ships = rejects = None
    if out is not None:
        o = Path(out)
        legs = outputs.add(o, "parquet", label="--out")
        hubs = outputs.add(o.with_name(o.stem + ".hubs.parquet"), "parquet",
                           label="--out (hubs)")
        ships = outputs.add(o.with_name(o.stem + ".shipments.parquet"), "parquet",
                            label="--out (shipments)")
    if rejects_path is not None or (skip_invalid and out is not None):
        target = Path(rejects_path) if rejects_path is not None else \
            Path(str(out)).with_name(Path(str(out)).stem + ".rejects.csv")
        rejects = outputs.add(target, "csv", label="--rejects", optional=True)
    return PlannedFiles(legs, hubs, ships, rejects)


def run_context(factors: tuple[str, ...] | list[str] | str | None, gwp: str,
                circuity: float | None, scenario: list[str] | tuple[str, ...] | str | None,
                reefer_tkm_per_year: float | None, file: str | None) -> RunContext:
    """Resolve factors and rules into the context every batch gets (both engines)."""
    gwp_set = gwp.upper()
    if gwp_set not in ("AR4", "AR5", "AR6"):
        raise InputError.single(f"unknown GWP set {gwp!r}", field="gwp",
                                expected="ar4 | ar5 | ar6")
    if isinstance(factors, str):
        factors = (factors,)
    resolved: ResolvedFactors = resolve(tuple(factors or ()), gwp_set)
    rules = parse_rules(scenario)
    check_rules(rules, resolved)
    return RunContext(factors=resolved, circuity=circuity or DEFAULT_CIRCUITY,
                      rules=rules, reefer_tkm_per_year=reefer_tkm_per_year, file=file)


def provenance(command: str, legs: Source, hubs: Source | None, trips: Source | None,
               parameters: dict[str, object], ctx: RunContext,
               started: datetime) -> Provenance:
    """Return the provenance record of a run (:class:`hesuan.io.provenance.Provenance`)."""
    from hesuan import __version__

    def flat(value: object) -> str | int | float | bool | None:
        if isinstance(value, list | tuple):
            return "; ".join(map(str, value))
        return value if isinstance(value, str | int | float | bool) or value is None \
            else str(value)

    inputs = tuple(_input_file(role, source) for role, source in
                   (("legs", legs), ("hubs", hubs), ("trips", trips)) if source is not None)
    datasets = tuple(DatasetUse(str(d["dataset"]).partition("@")[0],
                                str(d["dataset"]).partition("@")[2], str(d["licence"]))
                     for d in ctx.factors.provenance())
    return Provenance(hesuan_version=__version__, command=command,
                      run_utc=started.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                      inputs=inputs, parameters={k: flat(v) for k, v in parameters.items()},
                      datasets=datasets)


def calculate(
    legs: Source,
    hubs: Source | None = None,
    trips: Source | None = None,
    *,
    factors: tuple[str, ...] | list[str] | str | None = None,
    gwp: str = "AR6",
    circuity: float | None = None,
    scenario: list[str] | tuple[str, ...] | str | None = None,
    skip_invalid: bool = False,
    reefer_tkm_per_year: float | None = None,
    batch_size: int = DEFAULT_BATCH,
    out: str | Path | None = None,
    rejects_path: str | Path | None = None,
    progress: Progress | None = None,
    outputs: OutputSet | None = None,
) -> TransportResult:
    """Compute ISO 14083 emissions of transport legs and hub operations.

    Parameters
    ----------
    legs : a Polars frame, or the path of a CSV, a Parquet file or a folder of Parquet parts
        (columns: :data:`hesuan.transport.spec.LEG_COLUMNS`)
    hubs : optional hub table (:data:`hesuan.transport.spec.HUB_COLUMNS`)
    trips : optional trips table (trip_id, fuel, fuel_amount, fuel_unit)
    factors : ``dataset@version`` overrides and/or a user dataset folder (e.g. GLEC defaults
        you are licensed to use)
    gwp : ``AR4`` | ``AR5`` | ``AR6`` GWP-100 set for refrigerants and for CO2e factors
        published with a per-gas split (:func:`hesuan.transport.factors.reweighted`)
    circuity : [-] road/rail distance = GCD × circuity when only coordinates are given
    scenario : rules (see :mod:`hesuan.transport.scenario`)
    skip_invalid : put invalid rows in ``result.rejects`` (and ``rejects_path``) instead of
        stopping
    reefer_tkm_per_year : [t·km / yr] annual activity of a road reefer, to apply the CLECAT
        default leak (5.5 kg × 32.5 %/yr) to reefer legs without refrigerant data
    batch_size : [rows] per batch
    out : Parquet path for the per-leg results; ``<stem>.hubs.parquet`` and
        ``<stem>.shipments.parquet`` are written beside it. Without it results stay in memory.
    progress : callback ``(stage, rows, total)`` (see :data:`Progress`)
    outputs : an output set to stage the files in; the caller then adds its own (summary,
        report) and publishes them together. Without it the files are published here.

    Returns
    -------
    TransportResult

    References
    ----------
    ISO 14083:2023 clauses 7–12; CLECAT/UBA practical guide to ISO 14083 (2024).
    """
    t0, started = time.perf_counter(), datetime.now(UTC)
    staged = outputs if outputs is not None else OutputSet("transport calculate")
    planned = plan_files(staged, out, rejects_path, skip_invalid)  # paths checked first
    try:
        with collector_paused():
            result = _calculate(legs, hubs, trips, factors, gwp, circuity, scenario,
                                skip_invalid, reefer_tkm_per_year, batch_size, progress, planned,
                                t0, started)
    except BaseException:
        staged.discard()
        raise
    if outputs is None:
        staged.publish()
        return reopen(result)
    return result


def _calculate(legs: Source, hubs: Source | None, trips: Source | None,
               factors: tuple[str, ...] | list[str] | str | None, gwp: str,
               circuity: float | None, scenario: list[str] | tuple[str, ...] | str | None,
               skip_invalid: bool, reefer_tkm_per_year: float | None, batch_size: int,
               progress: Progress | None, planned: PlannedFiles | None, t0: float,
               started: datetime) -> TransportResult:
    src = open_source(legs, batch_size)
    ctx = run_context(factors, gwp, circuity, scenario, reefer_tkm_per_year, src.name)
    missing_columns(src.columns, LEG_COLUMNS, src.name)
    hub_frame = read_table(hubs, HUB_COLUMNS, "hubs")
    trips_frame = read_table(trips, TRIP_COLUMNS, "trips")
    report = progress or (lambda stage, rows, total: None)

    table_parts = trip_table_partials(trips_frame, ctx)
    reject_rows: list[pl.DataFrame] = []
    need_pass1 = bool({"trip_id", "fuel_amount"} & set(src.columns))
    trip_parts, toc_parts = pass1_partials(src, ctx, skip_invalid, report) if need_pass1 \
        else ([], [])
    trips_table, toc_table = chain.combine_partials(table_parts + trip_parts, toc_parts)
    del table_parts, trip_parts, toc_parts  # summed: free them for pass 2
    trip_index = chain.TripIndex.of(trips_table, batch_size)
    del trips_table

    writer = LegWriter(planned.legs.tmp if planned and planned.legs else None)
    summary_parts = []
    ship_parts: list[pl.DataFrame] = []
    checks = RunChecks()
    n_valid = 0
    try:
        stage = "legs" if not need_pass1 else "pass 2/2 legs"
        report(stage, 0, src.n_rows)
        for batch, prepared, errors in prepared_batches(src, ctx):
            errors = _with_read_errors(errors, src.errors_of(batch))
            if errors.height:
                if not skip_invalid:
                    raise to_input_error(errors, src.name, "legs")
                rows, why = reject_frame(batch, errors)
                reject_rows.append(rows)
                prepared = prepared.filter(~pl.col("_row").is_in(why["_row"].to_list()))
            result = chain.leg_emissions(prepared, trip_index.for_batch(prepared), toc_table,
                                         ctx)
            checks.add(prepared, result)
            result = result.drop("_row")
            n_valid += result.height
            summary_parts.append(chain.summary_partials(result))
            ship_parts.append(shipment_partials(result).collect())
            ship_parts = compact_shipment_partials(ship_parts, 4 * batch_size)
            writer.write(result)
            report(stage, batch.height, src.n_rows)
        del trip_index  # pass 2 done: free it before the shipments step
        if n_valid == 0:
            raise no_legs_error(src.name, reject_rows)
        checks.check_duplicates(src, src.name)
        hub_result = hub_results(hub_frame, ctx, skip_invalid, reject_rows,
                                 None if hubs is None or isinstance(hubs, pl.DataFrame)
                                 else str(hubs))
        legs_out = writer.finish()
        rejects = pl.concat(reject_rows, how="diagonal") if reject_rows else None
        parameters: dict[str, object] = {
            "factors": list(factors) if isinstance(factors, list | tuple) else factors,
            "gwp": ctx.gwp_set, "circuity": ctx.circuity,
            "scenario": [r.text for r in ctx.rules], "skip_invalid": skip_invalid,
            "reefer_tkm_per_year": reefer_tkm_per_year, "batch_size": batch_size,
            "engine": "local"}
        return finish(legs_out, hub_result, summary_parts, toc_table, ctx, rejects, planned,
                      n_valid, checks.warnings(),
                      provenance("transport calculate", legs, hubs, trips, parameters, ctx,
                                 started),
                      inputs_read=tuple(x for x in (src.read_as,) if x),
                      run_seconds=round(time.perf_counter() - t0, 3), shipment_parts=ship_parts)
    except BaseException:
        writer.abort()
        raise


def reopen(result: TransportResult) -> TransportResult:
    """After publishing: the result's lazy frames read the published files."""
    if "legs" not in result.paths or not result.paths["legs"].exists():
        return result
    return TransportResult(legs=pl.scan_parquet(result.paths["legs"]), hubs=result.hubs,
                           shipments=pl.scan_parquet(result.paths["shipments"]),
                           summary=result.summary, rejects=result.rejects, paths=result.paths)


def finish(legs_out: pl.DataFrame | pl.LazyFrame, hubs: pl.DataFrame,
           parts: list[dict[str, pl.DataFrame]], toc_table: pl.DataFrame, ctx: RunContext,
           rejects: pl.DataFrame | None, planned: PlannedFiles | None, n_valid: int,
           warnings: tuple[Warning_, ...], provenance: Provenance, *, engine: str = "local",
           inputs_read: tuple[str, ...] = (), run_seconds: float | None = None,
           shipment_parts: list[pl.DataFrame] | None = None) -> TransportResult:
    """Write hubs, shipments and rejects to their temporary files and build the summary.

    The per-shipment table comes from ``shipment_parts`` (:func:`shipment_partials` of every
    batch) when given, else from ``legs_out``. Nothing is published here: the caller's output
    set publishes every file (with its own: summary, report) when everything succeeded, or
    discards them.
    """
    combined = chain.combine_summary_partials(parts) if parts else {}
    ships = shipments_of(legs_out, hubs, shipment_parts)
    paths: dict[str, Path] = {}
    ships_df: pl.DataFrame | None = None
    rejects_file = None
    if planned is not None and planned.legs is not None:
        assert planned.hubs is not None and planned.shipments is not None
        hubs.write_parquet(planned.hubs.tmp)
        # zstd level 1, the lowest Polars' writer takes (the per-leg file, written by
        # pyarrow, goes to -1: outputs.parquet_options): half the CPU time of Polars'
        # default level for the same size (its numbers barely compress)
        ships.sink_parquet(planned.shipments.tmp, compression="zstd", compression_level=1)
        n_ships = pq.ParquetFile(planned.shipments.tmp).metadata.num_rows
        paths = {"legs": planned.legs.path, "hubs": planned.hubs.path,
                 "shipments": planned.shipments.path}
    else:
        ships_df = ships.collect()
        n_ships = ships_df.height
    if planned is not None and rejects is not None and planned.rejects is not None:
        rejects.write_csv(planned.rejects.tmp)
        paths["rejects"] = planned.rejects.path
        rejects_file = str(planned.rejects.path)
    summary = build_summary(combined, hubs, toc_table, ctx, n_valid, n_ships,
                            0 if rejects is None else rejects.height, engine=engine,
                            rejects_file=rejects_file, warnings=warnings,
                            inputs_read=inputs_read, run_seconds=run_seconds,
                            provenance=provenance)
    return TransportResult(legs=legs_out, hubs=hubs,
                           shipments=ships_df if ships_df is not None else ships,
                           summary=summary, rejects=rejects, paths=paths)
