"""Carbon storage, sequestration and its value, with uncertainty — the InVEST carbon model.

:func:`run` is the Python API; :func:`execute` takes InVEST-style ``args`` keys. Both read
as the list of named steps in :func:`run`:

1. ``check_inputs`` — open and check the maps, the pools table and the regions;
2. ``build_lookup`` — a dense table from LULC code to class, and per-class densities;
3. ``evaluate_blocks`` — block by block (local threads or Dask): write density rasters,
   count pixels per (region, baseline class, alternate class);
4. ``account`` — totals, gains/losses, NPV, intervals (IPCC Approaches 1 and 2) and the
   classes that drive the variance, all from the counts;
5. ``write_outputs`` — rename the rasters into place, write summary.json, classes.csv and
   regions.csv.

Output rasters are **densities** [t C/ha] (and NPV per ha), as InVEST 3.20 writes: a density
does not change with pixel size, so maps at different resolutions stay comparable and are
read directly against the pools table; tonnes per pixel = density × ``pixel_area_ha``
(stored in summary.json). Totals are in t C and t CO2e.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio

import hesuan
from hesuan.errors import InputError
from hesuan.land import engine as eng
from hesuan.land import equations as eq
from hesuan.land.accounts import Accounts, account, global_summary
from hesuan.land.dask_engine import SharedOutputRasters, run_dask
from hesuan.land.pools import PoolsTable, read_pools
from hesuan.land.raster import GridInfo, build_lookup, check_same_grid, open_grid, plan_windows
from hesuan.land.spec import POOLS, raster_names

if TYPE_CHECKING:
    from hesuan.land.regions import Regions

#: [MB] GDAL block cache during a run: enough for the tiles in flight, far below GDAL's
#: default of 5 % of RAM, so peak memory does not grow with the machine.
GDAL_CACHE_MB = 128

METHOD = ("InVEST Carbon Storage and Sequestration model (User Guide 3.x), storage = Σ pools "
          "density × area; uncertainty per IPCC 2006 Vol. 1 Ch. 3 Approach 1 (Eq. 3.1, 3.2) "
          "and Approach 2 (Monte Carlo)")


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
    """Everything a run produced. Totals in t C (and t CO2e), values in currency."""

    storage_base_t_c: float
    storage_alt_t_c: float | None
    sequestration_t_c: float | None
    sequestration_t_co2e: float | None
    npv: float | None
    valuation_constant: float | None
    pixel_area_ha: float
    summary: dict[str, Any]
    accounts: Accounts
    pools: PoolsTable
    regions: Regions | None
    out_dir: Path
    paths: dict[str, Path] = field(default_factory=dict)


def _sha256(path: str, limit_bytes: int = 1 << 31) -> str:
    """SHA-256 of a file, streamed in 8 MB pieces (files above 2 GB: of the first 2 GB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        read = 0
        while read < limit_bytes and (chunk := f.read(1 << 23)):
            h.update(chunk)
            read += len(chunk)
    return h.hexdigest()


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
    write_rasters: bool = True,
    write_pool_rasters: bool = True,
    mc_samples: int = 10_000,
    seed: int = 0,
    window_pixels: int = 1 << 20,
    progress: eng.ProgressFn | None = None,
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
    write_rasters, write_pool_rasters : write the density rasters (all / per pool)
    mc_samples : [draws] Monte Carlo sample size (IPCC Approach 2; 0 to skip)
    seed : Monte Carlo seed
    window_pixels : [pixels] size of a processing window (bounds memory)
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
    # 1. check_inputs
    base, alt_grid, table, reg = check_inputs(lulc, pools, alt, regions, region_id)
    constant = valuation.constant_per_t_c if valuation is not None else None
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
    tables = eng.make_tables(lookup, table.density_t_c_per_ha, alt_grid is not None, constant,
                             n_zones, write_pool_rasters, write_rasters)
    # 3. evaluate_blocks
    names = raster_names(alt_grid is not None, constant is not None, write_pool_rasters)
    source = eng.BlockSource(base.path, alt_grid.path if alt_grid else None,
                             reg.shapes() if reg is not None else None, base.transform)
    units = {n: ("currency/ha" if n == "npv_alt" else "t C/ha") for n in names}
    # Windows start on the output tile grid: the local engine compresses whole tiles.
    windows = plan_windows(base, window_pixels, int(eng.output_profile(base)["blockxsize"]))
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        sink: eng.OutputRasters | SharedOutputRasters | None = None
        try:
            if engine == "dask":
                # Workers write their own tiles: no pixel passes through this process.
                shared = SharedOutputRasters(out, names, base) if write_rasters else None
                sink = shared
                n = tables.n_slots
                shape = (n_zones + 1, n, n if alt_grid is not None else 1)
                counts = run_dask(source, tables, windows, shared, shape, progress,
                                  scheduler, workers)
            else:
                local = (eng.OutputRasters(out, names, base, units=units) if write_rasters
                         else None)
                sink = local
                counts = eng.run_local(source, tables, windows, local, progress, workers)
        except eng._AbsentCodes as exc:
            if sink is not None:
                sink.abort()
            raise eng.absent_codes_error(exc, base, alt_grid, table.path) from None
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
        if int(counts.sum()) != base.width * base.height:  # every pixel counted exactly once
            if sink is not None:
                sink.abort()
            raise RuntimeError(f"{int(counts.sum())} pixels counted, the map has "
                               f"{base.width * base.height}")
        paths = sink.commit(units) if sink is not None else {}
    t_blocks = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    # 4. account
    acc = account(counts, table, base.pixel_area_ha, constant, mc_samples, seed)
    # 5. write_outputs (the rasters were renamed into place at the end of step 3)
    summary = _summary(acc, table, base, alt_grid, reg, valuation, constant, engine,
                       mc_samples, seed, paths, t_blocks, time.perf_counter() - t0)
    paths["summary"] = _write_json(out / "summary.json", summary)
    paths["classes"] = _write_classes(out / "classes.csv", acc, table)
    if reg is not None:
        paths["regions"] = _write_regions(out / "regions.csv", acc, reg)
    q = summary
    return CarbonResult(
        storage_base_t_c=q["storage_base_t_c"], storage_alt_t_c=q.get("storage_alt_t_c"),
        sequestration_t_c=q.get("sequestration_t_c"),
        sequestration_t_co2e=q.get("sequestration_t_co2e"), npv=q.get("npv"),
        valuation_constant=constant, pixel_area_ha=base.pixel_area_ha, summary=summary,
        accounts=acc, pools=table, regions=reg, out_dir=out, paths=paths)


def _summary(acc: Accounts, table: PoolsTable, base: GridInfo, alt: GridInfo | None,
             reg: Regions | None, valuation: Valuation | None, constant: float | None,
             engine: str, mc_samples: int, seed: int, paths: Mapping[str, Path],
             t_blocks: float, t_total: float) -> dict[str, Any]:
    s: dict[str, Any] = global_summary(acc)
    s["units"] = {"storage/sequestration/gains/losses": "t C", "*_t_co2e": "t CO2e",
                  "npv": "currency of the price", "rasters": "t C/ha (npv_alt: currency/ha)"}
    s["pixel_area_ha"] = base.pixel_area_ha
    s["pixels_valid_base"] = int(acc.areas.base.sum())
    if acc.areas.alt is not None and acc.areas.base_in_both is not None:
        s["pixels_valid_alt"] = int(acc.areas.alt.sum())
        s["pixels_valid_both"] = int(acc.areas.base_in_both.sum())
    s["storage_by_pool_t_c"] = {sc: dict(zip(POOLS, v.tolist(), strict=True))
                                for sc, v in acc.storage_by_pool.items()}
    if constant is not None and valuation is not None:
        s["valuation"] = {"price_per_t_c": valuation.price_per_t_c,
                          "discount_rate_pct": valuation.discount_rate_pct,
                          "price_change_pct": valuation.price_change_pct,
                          "years": [valuation.year_base, valuation.year_alt],
                          "constant_per_t_c": constant}
    if acc.variance_share:
        s["variance_share_by_class"] = {
            name: {str(int(c)): float(v) for c, v in zip(table.codes, share, strict=True)}
            for name, share in acc.variance_share.items()}
        s["uncertainty"]["assumptions"] = (
            "normal densities; one unknown density per class and pool shared by all its "
            "pixels (fully correlated within a class), independent between classes and "
            "pools; areas exact; same table for both maps, so unchanged pixels cancel")
        s["uncertainty"]["mc_samples"], s["uncertainty"]["seed"] = mc_samples, seed
    s["method"] = METHOD
    s["engine"] = engine
    pools_sha256 = _sha256(table.path)
    s["inputs"] = {"lulc_bas_path": {"path": base.path, "sha256": _sha256(base.path),
                                     "crs": base.crs_name},
                   "carbon_pools_path": {"path": table.path, "sha256": pools_sha256}}
    # The carbon densities are the user's own table, not a shipped dataset: name it by its
    # hash so that a registry (or anyone) can tell which densities produced the numbers.
    s["factor_dataset"] = f"user carbon pools table {Path(table.path).name} (sha256 {pools_sha256})"
    if alt is not None:
        s["inputs"]["lulc_alt_path"] = {"path": alt.path, "sha256": _sha256(alt.path)}
    if reg is not None:
        s["inputs"]["regions_path"] = {"path": reg.path, "id_field": reg.id_field,
                                       "reprojected_from": reg.reprojected_from}
        s["pixel_rule"] = "pixel centre inside polygon (later polygon wins on overlap)"
        s["regions_overlap_area"] = reg.overlap_area
    s["outputs"] = {k: str(v) for k, v in paths.items()}
    s["seconds"] = {"blocks": t_blocks, "total": t_total}
    s["hesuan_version"] = hesuan.__version__
    return s


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)
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
               engine=args.get("engine", "local"))
