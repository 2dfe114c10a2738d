"""Carbon storage, sequestration and its value, with uncertainty — the InVEST carbon model.

:func:`run` is the Python API; :func:`execute` takes InVEST-style ``args`` keys. Both read
as the list of named steps in :func:`run`:

1. ``check_inputs`` — open and check the maps, the pools table and the regions;
2. ``build_lookup`` — a dense table from LULC code to class, and per-class densities;
3. ``evaluate_blocks`` — block by block (local threads or Dask): write density rasters,
   count pixels per (region, baseline class, alternate class);
4. ``account`` — totals, gains/losses, NPV, intervals (IPCC Approaches 1 and 2) and the
   classes that drive the variance, all from the counts;
5. ``write_outputs`` — summary.json (:class:`hesuan.land.summary.CarbonSummary`),
   classes.csv and regions.csv, then every output published together with the folder's
   manifest (:class:`hesuan.io.outputs.OutputSet`: checked before any work, never mixed
   with another run's files).

Output rasters are **densities** [t C/ha] (and NPV per ha), as InVEST 3.20 writes: a density
does not change with pixel size, so maps at different resolutions stay comparable and are
read directly against the pools table; tonnes per pixel = density × ``pixel_area_ha``
(stored in summary.json). Totals are in t C and t CO2e.
"""

from __future__ import annotations

import csv
import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio

from hesuan.errors import InputError
from hesuan.io.outputs import OutputSet, PlannedOutput
from hesuan.io.provenance import Provenance
from hesuan.land import engine as eng
from hesuan.land import equations as eq
from hesuan.land import kernel
from hesuan.land import summary as sm
from hesuan.land.accounts import Accounts, account
from hesuan.land.outputs import RASTER_FORMATS, RasterOutputs, RasterPlan, units_of
from hesuan.land.pools import PoolsTable, read_pools
from hesuan.land.raster import (
    GridInfo,
    ProgressFn,
    build_lookup,
    check_same_grid,
    open_grid,
    plan_windows,
)
from hesuan.land.spec import POOLS, select_rasters

if TYPE_CHECKING:
    from hesuan.land.regions import Regions

#: [MB] GDAL block cache during a run: enough for the tiles in flight, far below GDAL's
#: default of 5 % of RAM, so peak memory does not grow with the machine.
GDAL_CACHE_MB = 128

METHOD = ("InVEST Carbon Storage and Sequestration model (User Guide 3.x), storage = Σ pools "
          "density × area; uncertainty per IPCC 2006 Vol. 1 Ch. 3 Approach 1 (Eq. 3.1, 3.2) "
          "and Approach 2 (Monte Carlo)")

COMMAND = "land carbon"


@dataclass(frozen=True)
class Valuation:
    """Inputs of the valuation (InVEST's definitions).

    Attributes
    ----------
    price_per_t_c : [currency/t C]
    discount_rate_pct : [%/yr] (3 means 3 %)
    price_change_pct : [%/yr]
    year_base, year_alt : [year]
    """

    price_per_t_c: float
    discount_rate_pct: float
    price_change_pct: float
    year_base: int
    year_alt: int

    @property
    def constant_per_t_c(self) -> float:
        """[currency/t C] NPV of one tonne sequestered (:func:`equations.valuation_constant`)."""
        return eq.valuation_constant(self.price_per_t_c, self.discount_rate_pct,
                                     self.price_change_pct, self.year_base, self.year_alt)


@dataclass
class CarbonResult:
    """Everything a run produced. Totals in t C (and t CO2e), values in currency.

    ``paths`` are the published files by key. With ``run(..., publish=False)`` they are
    published by :meth:`publish` (after e.g. a report was added with :meth:`add_output`)
    or discarded by :meth:`abort`; until then :attr:`views` hold readable copies of the
    rasters (GDAL VRTs) for quicklooks.
    """

    summary: sm.CarbonSummary
    accounts: Accounts
    pools: PoolsTable
    regions: Regions | None
    out_dir: Path
    paths: dict[str, Path] = field(default_factory=dict)
    views: dict[str, Path] = field(default_factory=dict)
    outputs: OutputSet | None = None
    work: Path | None = None

    @property
    def storage_base_t_c(self) -> float:
        """Return the baseline carbon storage [t C]."""
        return self.summary.storage_base_t_c

    @property
    def storage_alt_t_c(self) -> float | None:
        """Return the alternate carbon storage [t C], ``None`` without an alternate map."""
        return self.summary.storage_alt_t_c

    @property
    def sequestration_t_c(self) -> float | None:
        """Return alternate − baseline storage [t C] (``None`` without an alternate map)."""
        return self.summary.sequestration_t_c

    @property
    def sequestration_t_co2e(self) -> float | None:
        """Return the sequestration in t CO2e (× 44/12), ``None`` without an alternate map."""
        return self.summary.sequestration_t_co2e

    @property
    def npv(self) -> float | None:
        """Return the net present value of the sequestration, ``None`` without a valuation."""
        return self.summary.npv

    @property
    def valuation_constant(self) -> float | None:
        """Return the valuation constant [value per t C], ``None`` without a valuation."""
        v = self.summary.valuation
        return None if v is None else v.constant_per_t_c

    @property
    def pixel_area_ha(self) -> float:
        """Return the area of one pixel [ha]."""
        return self.summary.pixel_area_ha

    def add_output(self, key: str, name: str, fmt: str) -> Path:
        """Declare one more output file of the run; return the temporary path to write."""
        if self.outputs is None:
            raise RuntimeError("the outputs of this run are already published")
        planned = self.outputs.file(name, fmt)
        self.paths[key] = planned.path
        return planned.tmp

    def publish(self) -> dict[str, Path]:
        """Publish every output together (with the folder's manifest)."""
        if self.outputs is not None:
            self.outputs.publish()
            self.outputs = None
        self._drop_work()
        return self.paths

    def abort(self) -> None:
        """Discard the outputs not yet published."""
        if self.outputs is not None:
            self.outputs.discard()
            self.outputs = None
        self._drop_work()

    def _drop_work(self) -> None:
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None
        self.views = {}


def check_inputs(lulc: str | Path, pools: str | Path, alt: str | Path | None,
                 regions: str | Path | None, region_id: str | None
                 ) -> tuple[GridInfo, GridInfo | None, PoolsTable, Regions | None]:
    """Step 1: open and check every input; raise :class:`InputError` on the first bad one."""
    base = open_grid(lulc, "lulc_bas_path")
    alt_grid = open_grid(alt, "lulc_alt_path") if alt is not None else None
    if alt_grid is not None:
        check_same_grid(base, alt_grid)
    table = read_pools(pools)
    reg = None
    if regions is not None:
        from hesuan.land.regions import read_regions  # pyogrio (and pandas) only when needed

        reg = read_regions(regions, base.crs_wkt, region_id)
    return base, alt_grid, table, reg


def _check_valuation(valuation: Valuation | None) -> float | None:
    if valuation is None:
        return None
    for name in ("price_per_t_c", "discount_rate_pct", "price_change_pct"):
        value = getattr(valuation, name)
        if not np.isfinite(value) or abs(value) > 1e12:
            raise InputError.single(f"{name} = {value}", field=name,
                                    expected="a finite number within ±10¹²")
    with np.errstate(over="ignore"):  # an overflow is refused just below
        constant = valuation.constant_per_t_c
    if not np.isfinite(constant) or abs(constant) > 1e15:
        raise InputError.single(
            f"the valuation constant is {constant:g} per t C", field="discount_rate_pct",
            expected="a discount rate, price change and period whose NPV per t C is finite "
                     "(below 10¹⁵)")
    return constant


def _check_tables(tables: kernel.Tables, pools_path: str) -> None:
    """No look-up value may be non-finite in float32 (checked before any raster is written)."""
    for name, (_tag, lut) in tables.raster_luts().items():
        if not np.isfinite(lut).all():
            raise InputError.single(
                f"the {name} values overflow float32", file=pools_path,
                field="carbon_pools_path", expected="densities and a valuation whose "
                "products stay below 3.4 × 10³⁸")


def run(
    lulc: str | Path,
    pools: str | Path,
    out_dir: str | Path,
    *,
    alt: str | Path | None = None,
    valuation: Valuation | None = None,
    regions: str | Path | None = None,
    region_id: str | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    outputs: Sequence[str] | None = None,
    raster_format: str = "vrt",
    write_rasters: bool = True,
    write_pool_rasters: bool = True,
    mc_samples: int = 10_000,
    seed: int = 0,
    window_pixels: int = 1 << 20,
    overwrite: bool = False,
    publish: bool = True,
    progress: ProgressFn | None = None,
) -> CarbonResult:
    """Run the carbon model and write its outputs to ``out_dir``.

    Parameters
    ----------
    lulc : baseline LULC GeoTIFF (projected CRS, integer codes)
    pools : pools CSV (lucode, c_above, c_below, c_soil, c_dead [t C/ha]; optional sd)
    out_dir : folder for the outputs (created)
    alt : alternate LULC GeoTIFF on the same grid, for sequestration
    valuation : price, discount rate, price change and years; needs ``alt``
    regions : polygons to total over (pixel-centre rule), with ``region_id`` naming them
    engine : ``"local"`` (threads in this process) or ``"dask"``
    scheduler : Dask scheduler address (default: a LocalCluster of ``workers`` processes)
    outputs : the rasters to write (:func:`hesuan.land.spec.select_rasters`; None: all)
    raster_format : ``vrt`` (default: the class maps as Cloud-Optimized GeoTIFFs, each raster
        a GDAL VRT look-up of its class map) or ``cog`` (every raster a self-contained
        Cloud-Optimized GeoTIFF; slower); :mod:`hesuan.land.outputs`
    write_rasters, write_pool_rasters : False to write no raster / no pool raster
    mc_samples : [draws] Monte Carlo sample size (IPCC Approach 2; 0 to skip)
    seed : Monte Carlo seed
    window_pixels : [pixels] size of a processing window (bounds memory)
    overwrite : replace an earlier run's outputs in ``out_dir`` (else refuse)
    publish : False to leave the outputs staged (:meth:`CarbonResult.publish` later)
    progress : callback ``(done, total)`` after each window

    Returns
    -------
    CarbonResult

    Raises
    ------
    InputError
        Any bad input (file, field and expected value named); no output file is left.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    if valuation is not None and alt is None:
        raise InputError.single("valuation needs an alternate map", field="lulc_alt_path",
                                expected="--alt with --price/--discount/--price-change/--years")
    if mc_samples < 0 or mc_samples == 1:
        raise InputError.single(f"{mc_samples} Monte Carlo draws", field="mc_samples",
                                expected="0 (no Monte Carlo) or at least 2 draws")
    if engine not in ("local", "dask"):
        raise InputError.single(f"unknown engine {engine!r}", field="engine",
                                expected="local or dask")
    if raster_format not in RASTER_FORMATS:
        raise InputError.single(f"unknown raster format {raster_format!r}",
                                field="--raster-format", expected=" or ".join(RASTER_FORMATS))
    constant = _check_valuation(valuation)
    names = select_rasters(outputs, alt is not None, constant is not None)
    if not write_rasters:
        names = []
    elif not write_pool_rasters:
        names = [n for n in names if not n.startswith(POOLS)]
    # 1. check_inputs
    base, alt_grid, table, reg = check_inputs(lulc, pools, alt, regions, region_id)
    # 2. build_lookup
    lookup = build_lookup(table.codes, base.dtype, base.nodata, table.path, "lucode")
    if alt_grid is not None and (alt_grid.dtype != base.dtype or alt_grid.nodata != base.nodata):
        alt_lookup = build_lookup(table.codes, alt_grid.dtype, alt_grid.nodata, table.path,
                                  "lucode")
        if alt_grid.dtype != base.dtype or not np.array_equal(alt_lookup.index, lookup.index):
            raise InputError.single(
                f"cell type/nodata ({alt_grid.dtype}, {alt_grid.nodata}) differ from the "
                f"baseline's ({base.dtype}, {base.nodata}) in {base.path}", file=alt_grid.path,
                field="lulc_alt_path", expected="the baseline's data type and nodata value")
    n_zones = len(reg.ids) if reg is not None else 0
    tables = kernel.make_tables(lookup, table.density_t_c_per_ha, alt_grid is not None,
                                constant, n_zones)
    _check_tables(tables, table.path)
    luts = tables.raster_luts()
    plan = RasterPlan({n: (luts[n][0], luts[n][1], units_of(n)) for n in names},
                      {t: tables.n_values(t) for t in kernel.MAPS
                       if t != "pair" or tables.has_alt},
                      raster_format)
    prov = _provenance(base, alt_grid, table, reg, valuation, engine, mc_samples, seed, plan)
    # The output folder is checked (a writable folder holding no other run) before work.
    outs = OutputSet(COMMAND, directory=out, overwrite=overwrite, provenance=prov.as_dict(),
                     label="--out")
    planned = {key: outs.file(name, fmt) for key, (name, fmt) in plan.files().items()}
    planned["classes"] = outs.file("classes.csv", "csv")
    planned["summary"] = outs.file("summary.json", "json")
    if reg is not None:
        planned["regions"] = outs.file("regions.csv", "csv")
    work = out / f".hesuan-work-{secrets.token_hex(6)}"
    try:
        result = _evaluate(base, alt_grid, table, reg, tables, plan, constant, valuation,
                           engine, scheduler, workers, mc_samples, window_pixels, outs,
                           planned, work, prov, progress, t0)
    except BaseException:
        outs.discard()
        shutil.rmtree(work, ignore_errors=True)
        raise
    if publish:
        result.publish()
    return result


def _provenance(base: GridInfo, alt: GridInfo | None, table: PoolsTable, reg: Regions | None,
                valuation: Valuation | None, engine: str, mc_samples: int, seed: int,
                plan: RasterPlan) -> Provenance:
    """Return the run's provenance.

    Inputs with SHA-256, every parameter, no shipped dataset (the densities are the user's pools
    table, named among the inputs by its hash).
    """
    inputs = {"lulc_bas_path": base.path, "carbon_pools_path": table.path}
    if alt is not None:
        inputs["lulc_alt_path"] = alt.path
    if reg is not None:
        inputs["regions_path"] = reg.path
    v = valuation
    return Provenance.create(COMMAND, inputs=inputs, parameters={
        "engine": engine, "mc_samples": mc_samples, "seed": seed,
        "raster_format": plan.raster_format, "rasters": ",".join(plan.rasters) or "none",
        "price_per_t_c": None if v is None else v.price_per_t_c,
        "discount_rate_pct": None if v is None else v.discount_rate_pct,
        "price_change_pct": None if v is None else v.price_change_pct,
        "year_base": None if v is None else v.year_base,
        "year_alt": None if v is None else v.year_alt,
        "region_id": None if reg is None else reg.id_field})


def _evaluate(base: GridInfo, alt_grid: GridInfo | None, table: PoolsTable,
              reg: Regions | None, tables: kernel.Tables, plan: RasterPlan,
              constant: float | None, valuation: Valuation | None, engine: str,
              scheduler: str | None, workers: int | None, mc_samples: int,
              window_pixels: int, outs: OutputSet, planned: dict[str, PlannedOutput],
              work: Path, prov: Provenance, progress: ProgressFn | None,
              t0: float) -> CarbonResult:
    """Run steps 3–5 of :func:`run`: every file written to its temporary name in ``planned``."""
    n_zones = tables.n_zones
    source = eng.BlockSource(base.path, alt_grid.path if alt_grid else None,
                             reg.shapes() if reg is not None else None, base.transform)
    sink = None
    if plan.rasters:
        sink = RasterOutputs(work, base, plan, {k: planned[k].tmp for k in plan.files()},
                             open_maps=engine == "local")
    tile = sink.tile if sink is not None else 512
    # Windows start on the output tile grid: every tile of a class map is written whole.
    windows = plan_windows(base, window_pixels, tile)
    # 3. evaluate_blocks
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        try:
            if engine == "dask":
                from hesuan.land.dask_engine import run_dask

                n = tables.n_slots
                shape = (n_zones + 1, n, n if alt_grid is not None else 1)
                counts, _ = run_dask(source, tables, windows, sink, shape, progress,
                                     scheduler, workers)
            else:
                counts = eng.run_local(source, tables, windows, sink, progress, workers)
                if int(counts.sum()) == base.width * base.height and sink is not None:
                    sink.finish()
        except kernel.AbsentCodes as exc:
            raise kernel.absent_codes_error(exc, base, alt_grid, table.path) from None
        finally:
            if sink is not None:
                sink.close()
    if int(counts.sum()) != base.width * base.height:  # every pixel counted exactly once
        raise RuntimeError(f"{int(counts.sum())} pixels counted, the map has "
                           f"{base.width * base.height}")
    # 4. account
    acc = account(counts, table, base.pixel_area_ha, constant, mc_samples, seed_of(prov))
    # 5. write_outputs
    _write_classes(planned["classes"].tmp, acc, table)
    if reg is not None:
        _write_regions(planned["regions"].tmp, acc, reg)
    outputs = {k: sm.OutputFile(path=p.path.name, kind=_kind(k), format=_format(p.path),
                                units=units_of(k) if k in plan.rasters else None)
               for k, p in planned.items()}
    summary = build_summary(acc, table, base, alt_grid, reg, valuation, constant, engine,
                            mc_samples, plan, outputs, prov, t0)
    planned["summary"].tmp.write_text(summary.to_json() + "\n", encoding="utf-8")
    return CarbonResult(summary=summary, accounts=acc, pools=table, regions=reg,
                        out_dir=Path(outs.directory or "."),
                        paths={k: p.path for k, p in planned.items()},
                        views=dict(sink.views) if sink is not None else {}, outputs=outs,
                        work=work)


def seed_of(prov: Provenance) -> int:
    """Return the Monte Carlo seed recorded in the provenance."""
    seed = prov.parameters.get("seed", 0)
    return int(seed) if isinstance(seed, int | float) else 0


def _kind(key: str) -> Any:
    if key.startswith("class_"):
        return "class_map"
    if key in ("classes", "regions"):
        return "table"
    return "raster"


def _format(path: Path) -> str:
    return {".tif": "cog", ".vrt": "vrt", ".csv": "csv", ".json": "json"}.get(path.suffix,
                                                                              path.suffix[1:])


def _intervals(block: Mapping[str, Any]) -> dict[str, sm.Interval]:
    return {n: sm.Interval(sd=float(v["global"]["sd"]), ci95_low=float(v["global"]["ci95_low"]),
                           ci95_high=float(v["global"]["ci95_high"]))
            for n, v in block.items()}


def build_summary(acc: Accounts, table: PoolsTable, base: GridInfo, alt: GridInfo | None,
                  reg: Regions | None, valuation: Valuation | None, constant: float | None,
                  engine: str, mc_samples: int, plan: RasterPlan,
                  outputs: dict[str, sm.OutputFile], prov: Provenance, t0: float
                  ) -> sm.CarbonSummary:
    """Return the :class:`~hesuan.land.summary.CarbonSummary` of a run (totals from the counts)."""
    q = {name: float(v.sum()) for name, v in acc.quantities.items()}
    for name, value in q.items():
        sm.finite(value, name)
    uncertainty = None
    shares = None
    if acc.approach1:
        uncertainty = sm.Uncertainty(
            approach1=_intervals(acc.approach1),
            approach2={n: sm.MonteCarloInterval(mean=float(v["mean"]), sd=float(v["sd"]),
                                                ci95_low=float(v["ci95_low"]),
                                                ci95_high=float(v["ci95_high"]))
                       for n, v in acc.approach2.items()},
            assumptions=(
                "normal densities; one unknown density per class and pool shared by all its "
                "pixels (fully correlated within a class), independent between classes and "
                "pools; areas exact; same table for both maps, so unchanged pixels cancel"),
            mc_samples=mc_samples, seed=seed_of(prov))
        shares = {name: {str(int(c)): float(v) for c, v in zip(table.codes, share, strict=True)}
                  for name, share in acc.variance_share.items()}
    pools_sha = next(f.sha256 for f in prov.inputs if f.role == "carbon_pools_path")
    val = None
    if constant is not None and valuation is not None:
        val = sm.ValuationSummary(price_per_t_c=valuation.price_per_t_c,
                                  discount_rate_pct=valuation.discount_rate_pct,
                                  price_change_pct=valuation.price_change_pct,
                                  years=[valuation.year_base, valuation.year_alt],
                                  constant_per_t_c=constant)
    # The carbon densities are the user's own table, not a shipped dataset: name it by its
    # hash so that a registry (or anyone) can tell which densities produced the numbers.
    dataset = f"user carbon pools table {Path(table.path).name} (sha256 {pools_sha})"
    return sm.CarbonSummary(
        storage_base_t_c=q["storage_base_t_c"], storage_base_t_co2e=q["storage_base_t_co2e"],
        storage_alt_t_c=q.get("storage_alt_t_c"), storage_alt_t_co2e=q.get("storage_alt_t_co2e"),
        sequestration_t_c=q.get("sequestration_t_c"),
        sequestration_t_co2e=q.get("sequestration_t_co2e"), gains_t_c=q.get("gains_t_c"),
        losses_t_c=q.get("losses_t_c"), npv=q.get("npv"), uncertainty=uncertainty,
        variance_share_by_class=shares,
        units={"storage/sequestration/gains/losses": "t C", "*_t_co2e": "t CO2e",
               "npv": "currency of the price", "rasters": "t C/ha (npv_alt: currency/ha)"},
        pixel_area_ha=base.pixel_area_ha, pixels_valid_base=int(acc.areas.base.sum()),
        pixels_valid_alt=None if acc.areas.alt is None else int(acc.areas.alt.sum()),
        pixels_valid_both=(None if acc.areas.base_in_both is None
                           else int(acc.areas.base_in_both.sum())),
        storage_by_pool_t_c={sc: sm.PoolTotals(**dict(zip(POOLS, v.tolist(), strict=True)))
                             for sc, v in acc.storage_by_pool.items()},
        valuation=val, method=METHOD, engine=engine, factor_dataset=dataset,
        pixel_rule=None if reg is None else "pixel centre inside polygon (later polygon "
                                            "wins on overlap)",
        regions_overlap_area=None if reg is None else reg.overlap_area,
        raster_format=plan.raster_format if plan.rasters else None, crs=base.crs_name,
        regions_id_field=None if reg is None else reg.id_field,
        regions_reprojected_from=None if reg is None else reg.reprojected_from,
        outputs=outputs, seconds=time.perf_counter() - t0, provenance=prov)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """Write a CSV (UTF-8, header row) to ``path``."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _write_classes(path: Path, acc: Accounts, table: PoolsTable) -> Path:
    cols = [c for c in ("area_base_ha", "storage_base_t_c", "area_alt_ha", "storage_alt_t_c",
                        "sequestration_t_c") if c in acc.by_class]
    header = ["lucode", "lulc_name", "density_t_c_per_ha", *cols]
    shares = list(acc.variance_share)
    header += [f"variance_share_{n}" for n in shares]
    rows = []
    for i, code in enumerate(table.codes):
        row = [int(code), table.names[i], float(table.total_t_c_per_ha[i])]
        row += [float(acc.by_class[c][i]) for c in cols]
        row += [float(acc.variance_share[n][i]) for n in shares]
        rows.append(row)
    return _write_csv(path, header, rows)


def region_rows(acc: Accounts, reg: Regions) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the per-region table (zone 0 — outside every region — left out)."""
    names = list(acc.quantities)
    header = ["region", "pixels_base", *names]
    for n in acc.approach1:
        header += [f"{n}_sd", f"{n}_ci95_low", f"{n}_ci95_high"]
    for n in acc.approach2_zones:
        header += [f"{n}_mc_ci95_low", f"{n}_mc_ci95_high"]
    rows = []
    for z, rid in enumerate(reg.ids, start=1):
        row: list[Any] = [rid, int(acc.areas.base[z].sum())]
        row += [float(acc.quantities[n][z]) for n in names]
        for block in acc.approach1.values():
            row += [float(block[key][z]) for key in ("sd", "ci95_low", "ci95_high")]
        for block in acc.approach2_zones.values():
            row += [float(block[key][z - 1]) for key in ("ci95_low", "ci95_high")]
        rows.append(row)
    return header, rows


def _write_regions(path: Path, acc: Accounts, reg: Regions) -> Path:
    header, rows = region_rows(acc, reg)
    return _write_csv(path, header, rows)


def execute(args: Mapping[str, Any]) -> CarbonResult:
    """Run with InVEST's argument names (``natcap.invest.carbon.execute``'s ``args``).

    Keys used: ``workspace_dir``, ``lulc_bas_path``, ``carbon_pools_path``,
    ``calc_sequestration`` + ``lulc_alt_path``, ``do_valuation`` +
    ``price_per_metric_ton_of_c``, ``discount_rate``, ``rate_change``, ``lulc_bas_year``,
    ``lulc_alt_year``; hesuan's extras: ``regions_path``, ``engine``.
    """
    alt = args.get("lulc_alt_path") if args.get("calc_sequestration", True) else None
    valuation = None
    if args.get("do_valuation"):
        valuation = Valuation(float(args["price_per_metric_ton_of_c"]),
                              float(args["discount_rate"]), float(args["rate_change"]),
                              int(args["lulc_bas_year"]), int(args["lulc_alt_year"]))
    return run(args["lulc_bas_path"], args["carbon_pools_path"], args["workspace_dir"],
               alt=alt or None, valuation=valuation, regions=args.get("regions_path"),
               engine=args.get("engine", "local"), overwrite=bool(args.get("overwrite")))
