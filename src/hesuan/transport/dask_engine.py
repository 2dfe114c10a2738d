"""The same calculation on Dask, over a partitioned Parquet dataset (one task per file).

Pass 1 runs :func:`chain.trip_partials` on every part in parallel; the client adds the
partial sums (:func:`chain.combine_partials`) and scatters the small trip/TOC tables to the
workers; pass 2 runs :func:`chain.leg_emissions` per part, each worker writing its part of the
result; the client concatenates the parts in input order into the output Parquet. Because
both engines call the same functions on the same rows, they give the same numbers (the tests
check it).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from hesuan.errors import InputError
from hesuan.io.outputs import OutputSet
from hesuan.transport import chain
from hesuan.transport.chain import RunContext
from hesuan.transport.driver import (
    RunChecks,
    TransportResult,
    finish,
    hub_results,
    no_legs_error,
    pass1_rows,
    plan_files,
    provenance,
    reject_frame,
    reopen,
    run_context,
    trip_table_partials,
)
from hesuan.transport.outputs import LegWriter
from hesuan.transport.sources import DEFAULT_BATCH, Source, parquet_parts, read_table
from hesuan.transport.spec import HUB_COLUMNS, LEG_COLUMNS, TRIP_COLUMNS
from hesuan.transport.validate import missing_columns, to_input_error


def _parts(path: Path) -> list[tuple[str, int]]:
    files = parquet_parts(path)
    if not files:
        raise InputError.single(f"no Parquet files in {path}",
                                expected="a Parquet file or a folder of Parquet parts")
    out, offset = [], 0
    for f in files:
        out.append((str(f), offset))
        offset += pq.ParquetFile(f).metadata.num_rows
    return out


def _read(path: str, offset: int) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    return frame.with_row_index("_row", offset=offset).with_columns(pl.col("_row").cast(pl.Int64))


def _pass1(path: str, offset: int, ctx: RunContext, skip: bool
           ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    prepared, errors = chain.prepare_legs(pass1_rows(_read(path, offset)), ctx)
    if errors.height:
        prepared = prepared.filter(~pl.col("_row").is_in(errors["_row"].unique().to_list()))
    trips, tocs = chain.trip_partials(prepared, ctx)
    return trips, tocs, errors if not skip else errors.head(0)


def _pass2(path: str, offset: int, ctx: RunContext, trips: pl.DataFrame, tocs: pl.DataFrame,
           target: str) -> tuple[dict[str, pl.DataFrame], int, pl.DataFrame | None,
                                 pl.DataFrame, RunChecks]:
    batch = _read(path, offset)
    prepared, errors = chain.prepare_legs(batch, ctx)
    rejects = None
    if errors.height:
        rejects, why = reject_frame(batch, errors)
        prepared = prepared.filter(~pl.col("_row").is_in(why["_row"].to_list()))
    result = chain.leg_emissions(prepared, trips, tocs, ctx)
    checks = RunChecks()
    checks.add(prepared, result)
    result = result.drop("_row")
    result.write_parquet(target)
    return chain.summary_partials(result), result.height, rejects, errors, checks


def calculate_dask(
    legs: str | Path,
    hubs: Source | None = None,
    trips: Source | None = None,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    processes: bool = True,
    factors: tuple[str, ...] | list[str] | str | None = None,
    gwp: str = "AR6",
    circuity: float | None = None,
    scenario: list[str] | tuple[str, ...] | str | None = None,
    skip_invalid: bool = False,
    reefer_tkm_per_year: float | None = None,
    out: str | Path | None = None,
    rejects_path: str | Path | None = None,
    client: Any = None,
) -> TransportResult:
    """Run :func:`hesuan.transport.calculate` on a Dask cluster.

    ``scheduler`` is its address; without it a ``LocalCluster`` of ``n_workers`` runs. ``legs`` must
    be a Parquet file or folder.
    """
    import time
    from datetime import UTC, datetime

    from dask.distributed import Client, LocalCluster

    t0, started = time.perf_counter(), datetime.now(UTC)
    path = Path(legs)
    if not path.exists():
        raise InputError.single(f"no such file or folder: {path}",
                                expected="a Parquet file or a folder of Parquet parts")
    parts = _parts(path)
    import pyarrow.dataset as pads

    missing_columns(pads.dataset(parts[0][0], format="parquet").schema.names, LEG_COLUMNS,
                    str(path))
    ctx: RunContext = run_context(factors, gwp, circuity, scenario, reefer_tkm_per_year,
                                  str(path))
    hub_frame = read_table(hubs, HUB_COLUMNS, "hubs")
    trips_frame = read_table(trips, TRIP_COLUMNS, "trips")
    staged = OutputSet("transport calculate --engine dask")
    planned = plan_files(staged, out, rejects_path, skip_invalid)  # checked before work
    own_cluster = None
    if client is None:
        if scheduler:
            client = Client(scheduler)  # type: ignore[no-untyped-call]
        else:
            own_cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=n_workers, threads_per_worker=1, processes=processes,
                dashboard_address=None)
            client = Client(own_cluster)  # type: ignore[no-untyped-call]
        own_client = True
    else:
        own_client = False
    tmpdir = Path(tempfile.mkdtemp(prefix="hesuan-dask-"))
    published = False
    try:
        ctx_f = client.scatter(ctx, broadcast=True)
        p1 = client.gather([client.submit(_pass1, f, o, ctx_f, skip_invalid, pure=False)
                            for f, o in parts])
        errors = [e for _, _, e in p1 if e.height]
        if errors and not skip_invalid:
            raise to_input_error(pl.concat(errors), str(path), "legs")
        trip_parts = trip_table_partials(trips_frame, ctx) + [t for t, _, _ in p1]
        trips_table, toc_table = chain.combine_partials(trip_parts, [c for _, c, _ in p1])
        trips_f = client.scatter(trips_table, broadcast=True)
        tocs_f = client.scatter(toc_table, broadcast=True)
        targets = [str(tmpdir / f"part-{i:06d}.parquet") for i in range(len(parts))]
        p2 = client.gather([client.submit(_pass2, f, o, ctx_f, trips_f, tocs_f, t, pure=False)
                            for (f, o), t in zip(parts, targets, strict=True)])
        errors = [e for _, _, _, e, _ in p2 if e.height]
        if errors and not skip_invalid:
            raise to_input_error(pl.concat(errors), str(path), "legs")
        reject_rows = [r for _, _, r, _, _ in p2 if r is not None]
        n_valid = sum(n for _, n, _, _, _ in p2)
        if n_valid == 0:
            raise no_legs_error(str(path), reject_rows)
        checks = RunChecks()
        for *_, part_checks in p2:
            checks.hashes += part_checks.hashes
            for code, (message, n, lines) in part_checks.flags.items():
                _, total, first = checks.flags.get(code, (message, 0, []))
                checks.flags[code] = (message, total + n, (first + lines)[:10])
        from hesuan.transport.sources import open_source

        checks.check_duplicates(open_source(path), str(path))
        hub_result = hub_results(hub_frame, ctx, skip_invalid, reject_rows)
        writer = LegWriter(planned.legs.tmp if planned and planned.legs else None)
        try:
            for t in targets:
                for batch in pq.ParquetFile(t).iter_batches(batch_size=DEFAULT_BATCH):
                    frame = pl.from_arrow(batch)
                    assert isinstance(frame, pl.DataFrame)
                    writer.write(frame)
            legs_out = writer.finish()
            rejects = pl.concat(reject_rows, how="diagonal") if reject_rows else None
            parameters: dict[str, object] = {
                "factors": list(factors) if isinstance(factors, list | tuple) else factors,
                "gwp": ctx.gwp_set, "circuity": ctx.circuity,
                "scenario": [r.text for r in ctx.rules], "skip_invalid": skip_invalid,
                "reefer_tkm_per_year": reefer_tkm_per_year, "engine": "dask"}
            result = finish(legs_out, hub_result, [s for s, *_ in p2], toc_table, ctx,
                            rejects, planned, n_valid, checks.warnings(),
                            provenance("transport calculate --engine dask", legs, hubs, trips,
                                       parameters, ctx, started), engine="dask",
                            run_seconds=round(time.perf_counter() - t0, 3))
        except BaseException:
            writer.abort()
            raise
        staged.publish()
        published = True
        return reopen(result)
    finally:
        if not published:
            staged.discard()
        shutil.rmtree(tmpdir, ignore_errors=True)
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()
