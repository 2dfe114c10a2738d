"""Run the habitat-quality model block by block on a land-cover map and its threat rasters.

Each threat raster is read around a block of the LULC grid with a halo of that threat's
maximum distance (in pixels, rounded up, + 1). The distance from a pixel to the nearest
threat pixel is exact whenever it is within the threat's maximum distance (the nearest
threat pixel is then inside the halo), and beyond it the impact is 0 whatever the distance;
so the blocks give the whole-map result, with memory bounded by the block and its halo.
Distances are measured within the map, as InVEST does. The blocks (square, ≈
``block_pixels`` each at most, of nearly equal sizes) are computed on a thread pool, at
most threads + 1 in flight, each thread reusing its scratch arrays; the arithmetic is
float32 in InVEST's order of operations, as InVEST's own rasters.

Outputs (through :class:`hesuan.io.outputs.OutputSet`, published together or not at all):
``deg_sum.tif`` (D_xj, total degradation) and ``quality.tif`` (Q_xj), float32 COGs (the
land engine's options without the predictor, nearest-neighbour overviews), and
``summary.json`` (:class:`HabitatSummary`). Pixels that are LULC nodata are nodata in both rasters.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from rasterio.enums import Resampling
from rasterio.windows import Window

from hesuan.errors import InputError
from hesuan.io.outputs import OutputSet
from hesuan.io.provenance import Provenance
from hesuan.land.habitat.equations import (
    Z,
    decayed_threat,
    habitat_quality,
    normalised_weights,
    threat_degradation,
    threat_distance_px,
)
from hesuan.land.habitat.tables import Sensitivity, Threat, read_sensitivity, read_threats
from hesuan.land.outputs import COG_OPTIONS, overview_factors, tile_size
from hesuan.land.raster import (
    ClassLookup,
    GridInfo,
    ProgressFn,
    build_lookup,
    open_grid,
    ordered_map,
)
from hesuan.land.spec import NODATA_F32

#: [MB] GDAL's block cache during a run (its default, 5 % of the RAM, would let written blocks
#: pile up to gigabytes on a province-sized map before they reach the disk).
GDAL_CACHE_MB = 128

#: InVEST's default half-saturation constant k.
DEFAULT_HALF_SATURATION = 0.05


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ThreatSummary(_Frozen):
    """One threat as used: its normalised weight and reach."""

    threat: str
    decay: str
    max_dist_km: float
    max_dist_px: float
    weight: float
    weight_normalised: float


class ClassSummary(_Frozen):
    """Totals of one land-cover class."""

    lucode: int
    name: str
    habitat: float
    pixels: int
    mean_degradation: float
    mean_quality: float


class HabitatSummary(_Frozen):
    """``summary.json`` of ``hesuan land habitat``."""

    half_saturation: float
    z: float
    pixel_size_m: float
    pixels: int
    nodata_pixels: int
    habitat_pixels: int
    mean_quality_habitat: float
    """Mean Q_xj over the pixels with H_j > 0 (the index a condition account can use)."""
    max_degradation: float
    threats: tuple[ThreatSummary, ...]
    classes: tuple[ClassSummary, ...]
    provenance: Provenance

    def to_json(self) -> str:
        """Return the summary as strict JSON text (no NaN; empty fields left out)."""
        import json

        return json.dumps(self.model_dump(mode="json", exclude_none=True), indent=2,
                          allow_nan=False, ensure_ascii=False)


@dataclass(frozen=True)
class HabitatResult:
    """A habitat quality run: its summary and the paths of the files written, by name."""

    summary: HabitatSummary
    paths: dict[str, Path]


def _open_threat(grid: GridInfo, threat: Threat, table: str, row: int) -> None:
    field = f"raster (threat {threat.name})"
    file = str(threat.raster)
    if not threat.raster.is_file():
        raise InputError.single("threat raster not found", file=table, row=row, field=field,
                                expected=f"a GeoTIFF at {file}")
    try:
        with rasterio.open(threat.raster) as ds:
            count, crs, w, h, tr = ds.count, ds.crs, ds.width, ds.height, tuple(ds.transform)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError.single(f"not a raster GDAL can read ({exc})", file=file,
                                field=field, expected="a GeoTIFF") from None
    base_crs = rasterio.crs.CRS.from_wkt(grid.crs_wkt)
    if count != 1:
        raise InputError.single(f"has {count} bands", file=file, field=field,
                                expected="a single-band threat raster")
    if crs != base_crs:
        raise InputError.single(
            f"CRS {crs.to_string() if crs else 'none'} differs from the LULC map's "
            f"{grid.crs_name} ({grid.path})", file=file, field=field,
            expected="the LULC map's CRS (reproject with gdalwarp)")
    if (w, h) != (grid.width, grid.height) or not np.allclose(
            tr[:6], grid.transform, rtol=0, atol=1e-6 * abs(grid.transform[0])):
        raise InputError.single(
            f"grid {w} × {h} px at {tr[:6]} differs from the LULC map's {grid.width} × "
            f"{grid.height} px at {grid.transform} ({grid.path})", file=file, field=field,
            expected="the LULC map's grid (align with gdalwarp -te -tr -tap)")


def run(lulc: str | Path, threats_table: str | Path, sensitivity_table: str | Path,
        out: str | Path, *, half_saturation: float = DEFAULT_HALF_SATURATION,
        overwrite: bool = False, block_pixels: int = 1 << 22,
        progress: ProgressFn | None = None) -> HabitatResult:
    """Habitat quality and degradation of ``lulc`` (see the module docstring).

    Parameters
    ----------
    lulc : path
        Land-cover GeoTIFF (integer codes, projected CRS in metres, square pixels).
    threats_table, sensitivity_table : path
        The tables of :mod:`hesuan.land.habitat.tables`.
    out : path
        Output folder.
    half_saturation : float [-]
        k of the quality function (> 0).
    """
    if not (math.isfinite(half_saturation) and half_saturation > 0):
        raise InputError.single(f"half-saturation constant {half_saturation}",
                                field="half_saturation", expected="a number above 0")
    grid = open_grid(lulc, "lulc")
    px_m = abs(grid.transform[0]) * grid.linear_unit_m
    if not math.isclose(px_m, abs(grid.transform[4]) * grid.linear_unit_m, rel_tol=1e-9):
        raise InputError.single("pixels are not square", file=grid.path, field="lulc",
                                expected="square pixels (resample with gdalwarp -tr)")
    threats = read_threats(threats_table)
    sens = read_sensitivity(sensitivity_table, threats)
    for i, t in enumerate(threats):
        _open_threat(grid, t, str(threats_table), i + 2)
    lookup = build_lookup(sens.codes, grid.dtype, grid.nodata, str(sensitivity_table),
                          "lucode")
    weights = normalised_weights(np.array([t.weight for t in threats]))
    dmax_px = [t.max_dist_km * 1000.0 / px_m for t in threats]
    provenance = Provenance.create(
        "land habitat",
        inputs={"lulc": lulc, "threats": threats_table, "sensitivity": sensitivity_table,
                **{f"threat_{t.name}": t.raster for t in threats}},
        parameters={"half_saturation": half_saturation, "z": Z})
    with OutputSet("land habitat", directory=out, overwrite=overwrite) as outs:
        deg_out = outs.file("deg_sum.tif", "geotiff")
        qual_out = outs.file("quality.tif", "geotiff")
        summ_out = outs.file("summary.json", "json")
        with tempfile.TemporaryDirectory(dir=Path(out)) as work, \
                rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            stats = _pass(grid, threats, sens, lookup, weights, dmax_px, half_saturation,
                          Path(work), block_pixels, progress)
            _publish_cogs(grid, [(Path(work) / "deg_sum.tif", Path(deg_out.tmp)),
                                 (Path(work) / "quality.tif", Path(qual_out.tmp))])
        counts, deg_sums, q_sums, nodata, max_deg = stats
        hab = sens.habitat > 0
        summary = HabitatSummary(
            half_saturation=half_saturation, z=Z, pixel_size_m=px_m,
            pixels=grid.width * grid.height, nodata_pixels=nodata,
            habitat_pixels=int(counts[hab].sum()),
            mean_quality_habitat=float(q_sums[hab].sum() / max(counts[hab].sum(), 1)),
            max_degradation=max_deg,
            threats=tuple(ThreatSummary(threat=t.name, decay=t.decay,
                                        max_dist_km=t.max_dist_km, max_dist_px=d,
                                        weight=t.weight, weight_normalised=float(w))
                          for t, d, w in zip(threats, dmax_px, weights, strict=True)),
            classes=tuple(ClassSummary(lucode=int(c), name=n, habitat=float(h),
                                       pixels=int(k), mean_degradation=float(ds / max(k, 1)),
                                       mean_quality=float(qs / max(k, 1)))
                          for c, n, h, k, ds, qs in zip(sens.codes, sens.names, sens.habitat,
                                                        counts, deg_sums, q_sums,
                                                        strict=True)),
            provenance=provenance)
        Path(summ_out.tmp).write_text(summary.to_json(), encoding="utf-8")
    return HabitatResult(summary, {"deg_sum": deg_out.path, "quality": qual_out.path,
                                   "summary": summ_out.path})


@dataclass(frozen=True)
class _Plan:
    """What every window needs: the threats, their look-up tables and reach."""

    grid: GridInfo
    threats: tuple[Threat, ...]
    lookup: ClassLookup
    n_classes: int
    habitat: NDArray[np.float32]
    """H_j per class slot (and 0 for the nodata slot)."""
    sensitivity: tuple[NDArray[np.float32], ...]
    """S_jr per class slot (and 0 for the nodata slot), one array per threat."""
    weights: NDArray[np.float64]
    """w_r / Σ w per threat."""
    dmax_px: tuple[float, ...]
    halos: tuple[int, ...]
    """[px] the halo read around a window, per threat: its maximum distance rounded up, + 1."""
    half_saturation: float


@dataclass(frozen=True)
class _WindowResult:
    degradation: NDArray[np.float32]
    quality: NDArray[np.float32]
    counts: NDArray[np.int64]
    deg_sums: NDArray[np.float64]
    q_sums: NDArray[np.float64]
    nodata: int
    max_deg: float


#: The land engine's COG options without the horizontal predictor and at ZSTD level 2: on
#: these continuous float32 fields the predictor makes the files larger and slower to write
#: (the benchmark's 3000² quality map: 11.4 MB with it, 9.8 MB without, 30 % less CPU), and
#: level 2 instead of 3 cost 15–20 % less CPU for files 6 % larger (both rasters: 0.28–0.33
#: CPU s and 19.9 MB against 0.34–0.42 s and 18.8 MB; level 1: 0.26–0.32 s, 25.3 MB).
HABITAT_COG_OPTIONS: dict[str, Any] = {**COG_OPTIONS, "predictor": "NO", "level": 2}


def _publish_cogs(grid: GridInfo, jobs: list[tuple[Path, Path]]) -> None:
    """Publish the written rasters as COGs, with nearest-neighbour overviews.

    Overviews are built on each written raster, then GDAL's COG driver copies it with them,
    the two rasters in two threads (GDAL releases the GIL).

    Nearest, not average: an overview pixel is then the value of a real pixel (never a blend
    of habitat with the zero quality of built land, or of a value with nodata), and on the
    benchmark's 6000² maps it cost a third of the CPU of average overviews (0.15–0.2 s
    against 0.35–0.76 s per raster) for a 7 % smaller file.
    """
    factors = overview_factors(grid.width, grid.height, tile_size(grid))

    def one(job: tuple[Path, Path]) -> None:
        source, target = job
        if factors:
            with rasterio.open(source, "r+") as ds:
                ds.build_overviews(factors, Resampling.nearest)
        rasterio.shutil.copy(str(source), str(target), driver="COG", **HABITAT_COG_OPTIONS)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(one, jobs))


def _threat_mask(data: NDArray[Any], nodata: float | None, threat: Threat,
                 r0: int, c0: int, out: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Return the pixels of a threat window that are threat (neither 0 nor nodata), in ``out``.

    Their values are checked to lie in (0, 1]; raises naming the first pixel that does not.
    """
    present: NDArray[np.bool_] = np.not_equal(data, 0, out=out)
    if nodata is not None and nodata != 0:
        present &= ~np.isnan(data) if math.isnan(nodata) else data != nodata
    lo, hi = data.min(), data.max()  # NaN propagates: then the full check below runs
    if lo >= 0 and hi <= 1:
        return present
    bad_value = present & ~((data > 0) & (data <= 1))  # also NaN
    if bad_value.any():
        r, c = (int(v) for v in np.argwhere(bad_value)[0])
        raise InputError.single(
            f"value {data[r, c]} at pixel (row {r0 + r}, column {c0 + c})",
            file=str(threat.raster), field=f"threat {threat.name}",
            expected="threat values from 0 to 1")
    return present


@dataclass
class _Worker:
    """What one thread of the pool keeps from window to window.

    Its own dataset handles (GDAL handles are not shared between threads) and its scratch
    arrays, reused: a fresh array of a window's size costs the kernel's zeroing of its
    pages, which was a fifth of the run's CPU time when every step allocated its result.
    """

    handles: dict[str, Any] = field(default_factory=dict)
    arrays: dict[tuple[str, str], NDArray[Any]] = field(default_factory=dict)

    def open(self, path: str) -> Any:
        """Return this thread's dataset of ``path`` (opened on first use)."""
        if path not in self.handles:
            self.handles[path] = rasterio.open(path)
        return self.handles[path]

    def scratch(self, name: str, shape: tuple[int, int], dtype: Any) -> NDArray[Any]:
        """Return the scratch array ``name`` as ``shape`` and ``dtype`` (contents undefined)."""
        key = (name, np.dtype(dtype).str)
        size = shape[0] * shape[1]
        flat = self.arrays.get(key)
        if flat is None or flat.size < size:
            flat = self.arrays[key] = np.empty(size, dtype)
        return flat[:size].reshape(shape)

    def close(self) -> None:
        """Close the datasets."""
        for ds in self.handles.values():
            ds.close()


def _read_slots(plan: _Plan, worker: _Worker, win: Window) -> NDArray[np.intp]:
    """Return the class slot of every pixel of ``win``; raises at a code not in the table."""
    grid = plan.grid
    shape = (win.height, win.width)
    codes = worker.open(grid.path).read(1, window=win,
                                       out=worker.scratch("codes", shape, grid.dtype))
    slots = plan.lookup.slots(codes, out=worker.scratch("slots", shape, np.intp))
    if slots.max() == plan.lookup.unknown_slot:  # the unknown slot is the largest
        r, c = (int(v) for v in np.argwhere(slots == plan.lookup.unknown_slot)[0])
        raise InputError.single(
            f"code {codes[r, c]} at pixel (row {win.row_off + r}, column "
            f"{win.col_off + c}) is not in the sensitivity table",
            file=grid.path, field="lucode",
            expected="every code of the LULC map in the sensitivity table")
    return slots


def _add_threat(plan: _Plan, worker: _Worker, win: Window, j: int, slots: NDArray[np.intp],
                degradation: NDArray[np.float32]) -> None:
    """Add threat ``j``'s term of D_xj over ``win`` to ``degradation``.

    The threat is read with a halo of its maximum distance (+ 1 px) around the window,
    within the map.
    """
    grid, t, halo = plan.grid, plan.threats[j], plan.halos[j]
    r0, c0 = max(win.row_off - halo, 0), max(win.col_off - halo, 0)
    r1 = min(win.row_off + win.height + halo, grid.height)
    c1 = min(win.col_off + win.width + halo, grid.width)
    ds = worker.open(str(t.raster))
    data = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0),
                   out=worker.scratch("threat", (r1 - r0, c1 - c0), ds.dtypes[0]))
    present = _threat_mask(data, ds.nodata, t, r0, c0,
                           worker.scratch("present", data.shape, np.bool_))
    distance = threat_distance_px(present)[win.row_off - r0: win.row_off - r0 + win.height,
                                           win.col_off - c0: win.col_off - c0 + win.width]
    if float(distance.min()) > plan.dmax_px[j]:
        return  # no threat pixel within reach of the window: impact 0
    impact = decayed_threat(distance, plan.dmax_px[j], t.decay,
                            out=worker.scratch("impact", slots.shape, np.float32))
    # The look-up tables have a last entry (0) for the nodata slot; the unknown slot has
    # been refused, so clipping never changes a slot.
    sensitivity = np.take(plan.sensitivity[j], slots, mode="clip",
                          out=worker.scratch("gather", slots.shape, np.float32))
    degradation += threat_degradation(impact, float(plan.weights[j]), sensitivity,
                                      out=impact)


#: [px] Pixels of the float64 copy of the values that :func:`_class_sums` adds up at a time
#: (small enough to stay in the CPU cache, never a window-sized array).
SUM_CHUNK = 1 << 16


def _class_sums(worker: _Worker, slots: NDArray[np.intp], values: NDArray[np.float32],
                n: int) -> NDArray[np.float64]:
    """Return the sum of ``values`` over the pixels of each of the ``n`` first slots [float64]."""
    flat_slots, flat_values = slots.ravel(), values.ravel()
    weights = worker.scratch("weights", (1, SUM_CHUNK), np.float64)[0]
    sums = np.zeros(n + 1)  # the classes and the nodata slot (unknown codes were refused)
    for i in range(0, flat_values.size, SUM_CHUNK):
        chunk = weights[:min(SUM_CHUNK, flat_values.size - i)]
        np.copyto(chunk, flat_values[i:i + SUM_CHUNK])
        sums += np.bincount(flat_slots[i:i + SUM_CHUNK], weights=chunk, minlength=n + 1)
    return sums[:n]


def _window(plan: _Plan, worker: _Worker, win: Window) -> _WindowResult:
    """Degradation, quality and per-class sums of one window of the LULC grid."""
    k = plan.n_classes
    slots = _read_slots(plan, worker, win)
    degradation = np.zeros(slots.shape, np.float32)
    for j in range(len(plan.threats)):
        _add_threat(plan, worker, win, j, slots, degradation)
    habitat = np.take(plan.habitat, slots, mode="clip",
                      out=worker.scratch("gather", slots.shape, np.float32))
    quality = habitat_quality(degradation, habitat, plan.half_saturation,
                              work=worker.scratch("impact", slots.shape, np.float32))
    counts = np.bincount(slots.ravel(), minlength=k + 1)
    nodata = int(counts[k])
    deg_sums = _class_sums(worker, slots, degradation, k)
    q_sums = _class_sums(worker, slots, quality, k)
    if nodata:
        invalid = slots == k
        degradation[invalid] = NODATA_F32
        quality[invalid] = NODATA_F32
    # NODATA_F32 is the lowest float32: the largest value is that of a valid pixel, if any.
    max_deg = float(degradation.max()) if nodata < slots.size else 0.0
    return _WindowResult(degradation=degradation, quality=quality,
                         counts=counts[:k].astype(np.int64), deg_sums=deg_sums, q_sums=q_sums,
                         nodata=nodata, max_deg=max_deg)


def _square_windows(grid: GridInfo, block_pixels: int, tile: int) -> list[Window]:
    """Return windows of at most ≈ ``block_pixels`` px, with edges on the output tiles.

    Square or nearly, so that the halo read around each costs least, and of nearly equal
    sizes (the map's width and height each split evenly, in whole tiles), so that the
    threads of the pool finish together.
    """
    side = max(tile, round(math.sqrt(block_pixels) / tile) * tile)

    def steps(length: int) -> int:
        parts = math.ceil(length / side)
        return math.ceil(length / parts / tile) * tile

    rows, cols = steps(grid.height), steps(grid.width)
    return [Window(c, r, min(cols, grid.width - c), min(rows, grid.height - r))
            for r in range(0, grid.height, rows) for c in range(0, grid.width, cols)]


def _pass(grid: GridInfo, threats: tuple[Threat, ...], sens: Sensitivity,
          lookup: ClassLookup,
          weights: NDArray[np.float64], dmax_px: list[float], half_saturation: float,
          work: Path, block_pixels: int,
          progress: ProgressFn | None, threads: int | None = None
          ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], int, float]:
    """Run every window through :func:`_window` on a thread pool.

    Each thread has its own dataset handles and scratch arrays (:class:`_Worker`); the
    calling thread writes the two rasters and adds up the sums.
    """
    k = sens.codes.size
    # float32 tables and arithmetic, as InVEST's rasters (its sensitivity and habitat rasters
    # are float32): the results agree with InVEST's to float32 rounding, at a fraction of
    # the cost of float64 powers and exponentials.
    def slot_table(values: NDArray[np.float64]) -> NDArray[np.float32]:
        return np.append(values, 0.0).astype(np.float32)  # slot k (nodata): 0

    plan = _Plan(grid, threats, lookup, k, slot_table(sens.habitat),
                 tuple(slot_table(sens.sensitivity[:, j]) for j in range(len(threats))),
                 weights,
                 tuple(dmax_px), tuple(math.ceil(d) + 1 for d in dmax_px), half_saturation)
    counts = np.zeros(k, np.int64)
    deg_sums = np.zeros(k)
    q_sums = np.zeros(k)
    nodata = 0
    max_deg = 0.0
    tile = tile_size(grid)
    # Uncompressed while written: the COG copy that follows reads it once, compressed.
    profile = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1,
               "dtype": "float32", "crs": rasterio.crs.CRS.from_wkt(grid.crs_wkt),
               "transform": rasterio.Affine(*grid.transform), "nodata": NODATA_F32,
               "tiled": True, "blockxsize": tile, "blockysize": tile, "bigtiff": "if_safer"}
    windows = _square_windows(grid, block_pixels, tile)
    n_threads = threads or min(2, os.cpu_count() or 1)
    workers: dict[int, _Worker] = {}

    def compute(w: Window) -> _WindowResult:
        return _window(plan, workers.setdefault(threading.get_ident(), _Worker()), w)

    try:
        with rasterio.open(work / "deg_sum.tif", "w", **profile) as deg_ds, \
                rasterio.open(work / "quality.tif", "w", **profile) as q_ds, \
                contextlib.closing(ordered_map(compute, windows, n_threads, progress)) as results:
            for w, res in results:
                counts += res.counts
                deg_sums += res.deg_sums
                q_sums += res.q_sums
                nodata += res.nodata
                max_deg = max(max_deg, res.max_deg)
                deg_ds.write(res.degradation, 1, window=w)
                q_ds.write(res.quality, 1, window=w)
    finally:
        for worker in workers.values():
            worker.close()
    return counts, deg_sums, q_sums, nodata, max_deg

