"""GEP regulating services on rasters, block by block, on this machine or on Dask.

Inputs are single-band rasters on **one grid** (same CRS, pixel size and extent; checked,
each mismatch named): an ecosystem-type map (integer codes) and, per service, its drivers:

- water conservation [m³]: rasters ``precip_mm``, ``runoff_mm``, ``et_mm`` [mm/yr];
- soil retention [t] (then sediment [m³], N, P [t]): rasters ``r_factor``, ``k_factor``,
  ``ls_factor``; type columns ``c_factor``, ``p_factor``;
- carbon sequestration [t CO2]: raster ``nep_t_c_per_ha`` [t C/(ha·yr)];
- oxygen release [t O2], 32/44 of the CO2 (stoichiometric basis): as carbon;
- climate regulation by transpiration [kWh]: type column ``transpiration_kj_per_m2_day``;
- climate regulation by evaporation [kWh]: raster ``evaporation_mm`` [mm/yr], type column
  ``water_surface`` (1 = open water, 0 = not);
- air purification [t]: SO2, NOx and dust uptake, type columns ``so2_kg_per_ha``,
  ``nox_kg_per_ha``, ``dust_kg_per_ha`` [kg/(ha·yr)] (one service each, Bo 2017 Eq. 11);
- water purification [t]: COD, nitrogen and phosphorus removal, type columns
  ``cod_kg_per_ha``, ``nitrogen_kg_per_ha``, ``phosphorus_kg_per_ha`` [kg/(ha·yr)];
- sand fixation [t] by RWEQ (potential − actual wind erosion): rasters ``rweq_wf_kg_per_m``
  (weather factor WF [kg/m]), ``rweq_ef``, ``rweq_scf``, ``rweq_k_rough``, ``rweq_cog``
  (erodible fraction, soil crust, roughness K', vegetation factor COG, each in [0, 1]) and
  the plot length z [m] as a constant (``RegulatingRun.rweq_plot_length_m``);
- marsh flood regulation [m³]: type column ``flood_storage_depth_m`` [m] (0 for every
  type that is not a marsh; Garzê 2010 Eq. 9). Lakes and reservoirs are not raster
  services: their flood capacity (Eqs. 7–8) is a tabular quantity.

The per-type table (CSV/.xlsx) has ``code, ecosystem_type`` and the columns above; every code
present on the map must have a row (else the run stops naming the code, file and a pixel).

**Nodata.** A pixel counts for a service only where the ecosystem map and every raster that
service reads have data there (a nodata value, NaN or ±inf is nodata); the pixels left out are
counted per service and reported (``nodata_pixels``), never filled. A negative water balance
(ET + runoff above precipitation) is kept on the pixel and the negative pixels are counted;
a negative *total* for a type stops the valuation with an error naming region, type and
service.

The kernel :func:`regulating_block` is one pure function of arrays (the equations of
:mod:`hesuan.land.gep.equations`); every total is a per-(region, type) sum of its outputs
(``numpy.bincount`` with weights), so memory is bounded by the window size, whatever the
raster's. Maps are densities per hectare (m³/ha, t/ha, t CO2/ha, kWh/ha), float32 tiled ZSTD
GeoTIFFs written to the paths the caller gives (:func:`hesuan.land.gep.run.run` gives
temporary names of its output set and copies them into cloud-optimised GeoTIFFs).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.errors import InputError, Problem
from hesuan.land.gep import equations as eq
from hesuan.land.raster import ProgressFn, ordered_map

NODATA_F32 = float(np.finfo(np.float32).min)

#: [MB] GDAL block cache during a run: enough for the windows in flight, far below GDAL's
#: default of 5 % of RAM, so peak memory does not grow with the machine.
GDAL_CACHE_MB = 128

#: service → (rasters it reads, per-type columns it needs)
SERVICES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "water_conservation_m3": (("precip_mm", "runoff_mm", "et_mm"), ()),
    "soil_retention_t": (("r_factor", "k_factor", "ls_factor"), ("c_factor", "p_factor")),
    "carbon_sequestration_t_co2": (("nep_t_c_per_ha",), ()),
    "oxygen_release_t_o2": (("nep_t_c_per_ha",), ()),
    "transpiration_kwh": ((), ("transpiration_kj_per_m2_day",)),
    "evaporation_kwh": (("evaporation_mm",), ("water_surface",)),
    "so2_uptake_t": ((), ("so2_kg_per_ha",)),
    "nox_uptake_t": ((), ("nox_kg_per_ha",)),
    "dust_uptake_t": ((), ("dust_kg_per_ha",)),
    "cod_removal_t": ((), ("cod_kg_per_ha",)),
    "nitrogen_removal_t": ((), ("nitrogen_kg_per_ha",)),
    "phosphorus_removal_t": ((), ("phosphorus_kg_per_ha",)),
    "sand_fixation_t": (("rweq_wf_kg_per_m", "rweq_ef", "rweq_scf", "rweq_k_rough",
                         "rweq_cog"), ()),
    "marsh_flood_regulation_m3": ((), ("flood_storage_depth_m",)),
}

#: purification service → its per-type rate column [kg/(ha·yr)], all by :func:`eq.uptake_t`
UPTAKE_COLUMNS: dict[str, str] = {
    "so2_uptake_t": "so2_kg_per_ha", "nox_uptake_t": "nox_kg_per_ha",
    "dust_uptake_t": "dust_kg_per_ha", "cod_removal_t": "cod_kg_per_ha",
    "nitrogen_removal_t": "nitrogen_kg_per_ha", "phosphorus_removal_t": "phosphorus_kg_per_ha"}

#: rasters with a range every pixel with data must fall in, else the run stops naming the
#: file and pixel: RWEQ's factors (WF >= 0 kg/m; EF, SCF, K', COG fractions in [0, 1]).
RASTER_BOUNDS: dict[str, tuple[float, float]] = {
    "rweq_wf_kg_per_m": (0.0, math.inf), "rweq_ef": (0.0, 1.0), "rweq_scf": (0.0, 1.0),
    "rweq_k_rough": (0.0, 1.0), "rweq_cog": (0.0, 1.0)}

MAP_UNITS = {"water_conservation_m3": "m3/ha", "soil_retention_t": "t/ha",
             "carbon_sequestration_t_co2": "t CO2/ha", "oxygen_release_t_o2": "t O2/ha",
             "transpiration_kwh": "kWh/ha", "evaporation_kwh": "kWh/ha",
             **dict.fromkeys(UPTAKE_COLUMNS, "t/ha"), "sand_fixation_t": "t/ha",
             "marsh_flood_regulation_m3": "m3/ha"}

RASTER_FIELDS = ("precip_mm", "runoff_mm", "et_mm", "r_factor", "k_factor", "ls_factor",
                 "nep_t_c_per_ha", "evaporation_mm", *RASTER_BOUNDS)
TYPE_COLUMNS = ("c_factor", "p_factor", "transpiration_kj_per_m2_day", "water_surface",
                *UPTAKE_COLUMNS.values(), "flood_storage_depth_m")


@dataclass(frozen=True)
class ClimateParameters:
    """Constants of the climate-regulation equations (Garzê 2010 Eqs. 12–13).

    ``ac_days`` [d] air-conditioning days, ``ac_efficiency`` [-] energy efficiency ratio,
    ``latent_heat_j_per_g`` [J/g] of vaporisation, ``humidifier_kwh_per_m3`` [kWh/m³].
    """

    ac_days: float = 0.0
    ac_efficiency: float = 3.0
    latent_heat_j_per_g: float = 2260.0
    humidifier_kwh_per_m3: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class TypeTable:
    """Per-type coefficients indexed by slot; slot ``K`` is nodata, ``K + 1`` an absent code."""

    codes: tuple[int, ...]
    names: tuple[str, ...]
    columns: dict[str, NDArray[np.float64]]
    path: str = ""

    @property
    def n(self) -> int:
        """Return the number of ecosystem types."""
        return len(self.codes)


@dataclass(frozen=True)
class RegulatingRun:
    """What to compute: the rasters by field, the type table, constants, services."""

    ecosystem: str
    rasters: dict[str, str]
    types: TypeTable
    climate: ClimateParameters
    services: tuple[str, ...]
    zones_shapes: tuple[tuple[Any, int], ...] | None = None
    region_ids: tuple[str, ...] = ()
    clip_negative_water: bool = False
    rweq_plot_length_m: float = 50.0


@dataclass(frozen=True)
class Grid:
    """The common grid of a run's rasters.

    Size [pixels], transform, CRS, pixel area [m²] and block size.
    """

    width: int
    height: int
    transform: tuple[float, ...]
    crs_wkt: str
    pixel_area_m2: float
    block: tuple[int, int]


@dataclass(frozen=True)
class RegulatingResult:
    """Physical totals by region and ecosystem type, per service.

    ``totals[service]`` has shape ``(Z + 1, K)``: zone 0 is outside every region (the whole
    map when no regions are given), ``K`` the types in the order of ``types.codes``.
    """

    services: tuple[str, ...]
    totals: dict[str, NDArray[np.float64]]
    pixels: NDArray[np.int64]                  # (Z + 1, K + 1): valid ecosystem pixels
    nodata_pixels: dict[str, int]
    negative_water_pixels: int
    type_codes: tuple[int, ...]
    type_names: tuple[str, ...]
    region_ids: tuple[str, ...]
    pixel_area_m2: float
    maps: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- the kernel


def regulating_block(eco_slot: NDArray[np.intp], data: dict[str, NDArray[np.float64]],
                     valid: dict[str, NDArray[np.bool_]], types: TypeTable,
                     climate: ClimateParameters, services: Sequence[str],
                     pixel_area_m2: float, clip_negative_water: bool = False,
                     rweq_plot_length_m: float = 50.0) -> dict[str, NDArray[np.float64]]:
    """Return the per-pixel quantity of every service over one window.

    In the unit of the service per pixel; 0 where the service has no data.

    ``eco_slot`` holds the type slot of each pixel, ``data`` the rasters as float64 and
    ``valid`` each service's validity mask. Pure: the same arithmetic as the equations of
    :mod:`hesuan.land.gep.equations` (which it calls).
    """
    area_ha = pixel_area_m2 * 1e-4
    out: dict[str, NDArray[np.float64]] = {}

    def col(name: str) -> NDArray[np.float64]:
        lut = np.zeros(types.n + 2)
        lut[: types.n] = types.columns[name]
        return np.take(lut, eco_slot)

    co2: NDArray[np.float64] | None = None
    for s in services:
        v: NDArray[np.float64]
        if s == "water_conservation_m3":
            v = eq.water_conservation_m3(data["precip_mm"], data["runoff_mm"], data["et_mm"],
                                         pixel_area_m2)
            if clip_negative_water:
                np.maximum(v, 0.0, out=v)
        elif s == "soil_retention_t":
            v = eq.soil_retention_t(data["r_factor"], data["k_factor"], data["ls_factor"],
                                    col("c_factor"), col("p_factor"), area_ha)
        elif s in ("carbon_sequestration_t_co2", "oxygen_release_t_o2"):
            if co2 is None:
                co2 = eq.co2_from_carbon_t(
                    eq.carbon_sequestration_from_nep_t_c(data["nep_t_c_per_ha"]) * area_ha)
            v = co2 if s == "carbon_sequestration_t_co2" else eq.oxygen_from_co2_t(co2)
        elif s == "transpiration_kwh":
            v = eq.transpiration_cooling_kwh(col("transpiration_kj_per_m2_day"),
                                             pixel_area_m2, climate.ac_days,
                                             climate.ac_efficiency)
        elif s == "evaporation_kwh":
            volume = data["evaporation_mm"] * 1e-3 * pixel_area_m2 * col("water_surface")
            v = eq.evaporation_cooling_kwh(volume, climate.latent_heat_j_per_g,
                                           climate.humidifier_kwh_per_m3)
        elif s in UPTAKE_COLUMNS:
            v = eq.uptake_t(col(UPTAKE_COLUMNS[s]), area_ha)
        elif s == "sand_fixation_t":
            # a zero factor product is no erosion (s → ∞, S_L → 0): no warning for 0^(−0.37)
            with np.errstate(divide="ignore"):
                v = eq.sand_fixation_t(data["rweq_wf_kg_per_m"], data["rweq_ef"],
                                       data["rweq_scf"], data["rweq_k_rough"],
                                       data["rweq_cog"], rweq_plot_length_m, pixel_area_m2)
        elif s == "marsh_flood_regulation_m3":
            v = eq.marsh_flood_capacity_m3(pixel_area_m2 * 1e-6, col("flood_storage_depth_m"))
        else:
            raise ValueError(f"unknown service {s!r}")
        out[s] = np.where(valid[s], v, 0.0)
    return out


# --------------------------------------------------------------------------- checks


def _open(path: str, field_name: str) -> dict[str, Any]:
    if not Path(path).is_file():
        raise InputError.single("file not found", file=path, field=field_name,
                                expected="a single-band GeoTIFF")
    try:
        with rasterio.open(path) as ds:
            if ds.count != 1:
                raise InputError.single(f"has {ds.count} bands", file=path, field=field_name,
                                        expected="a single-band raster")
            return {"crs": ds.crs, "width": ds.width, "height": ds.height,
                    "transform": tuple(ds.transform)[:6], "nodata": ds.nodata,
                    "dtype": ds.dtypes[0], "block": ds.block_shapes[0]}
    except rasterio.errors.RasterioIOError as exc:
        raise InputError.single(f"not a raster GDAL can read ({exc})", file=path,
                                field=field_name, expected="a GeoTIFF") from None


def check_grid(ecosystem: str, rasters: dict[str, str]) -> Grid:
    """Check every raster against the ecosystem map: CRS, pixel size, extent (origin and size).

    All mismatches are reported at once, each naming file, field and what differs.
    """
    base = _open(ecosystem, "ecosystem")
    problems: list[Problem] = []
    if base["crs"] is None or not base["crs"].is_projected:
        problems.append(Problem("is not in a projected CRS", ecosystem, None, "ecosystem",
                                "a projected CRS in metres (pixel areas must be constant)"))
    if not np.issubdtype(np.dtype(base["dtype"]), np.integer):
        problems.append(Problem(f"cells are {base['dtype']}", ecosystem, None, "ecosystem",
                                "integer ecosystem-type codes"))
    a, b, c, d, e, f = base["transform"]
    if b or d:
        problems.append(Problem("the grid is rotated", ecosystem, None, "ecosystem",
                                "a north-up grid"))
    for name, path in rasters.items():
        info = _open(path, name)
        if info["crs"] != base["crs"]:
            problems.append(Problem(
                f"CRS {info['crs'].to_string() if info['crs'] else 'none'} differs from the "
                f"ecosystem map's {base['crs'].to_string() if base['crs'] else 'none'}",
                path, None, name, "the ecosystem map's CRS (reproject with gdalwarp -t_srs)"))
            continue
        ta = info["transform"]
        tol = 1e-6 * abs(a)
        if abs(ta[0] - a) > tol or abs(ta[4] - e) > tol:
            problems.append(Problem(
                f"resolution {ta[0]} × {abs(ta[4])} differs from the ecosystem map's "
                f"{a} × {abs(e)}", path, None, name,
                "the ecosystem map's pixel size (resample with gdalwarp -tr)"))
        elif (info["width"], info["height"]) != (base["width"], base["height"]) or \
                abs(ta[2] - c) > tol or abs(ta[5] - f) > tol:
            problems.append(Problem(
                f"extent (origin {ta[2]}, {ta[5]}; {info['width']} × {info['height']} px) "
                f"differs from the ecosystem map's (origin {c}, {f}; {base['width']} × "
                f"{base['height']} px)", path, None, name,
                "the ecosystem map's extent (clip with gdalwarp -te)"))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{len(problems)} raster(s) not on the ecosystem map's grid")
    unit = base["crs"].linear_units_factor[1]
    return Grid(base["width"], base["height"], base["transform"], base["crs"].to_wkt(),
                abs(a * e) * unit * unit, (int(base["block"][0]), int(base["block"][1])))


def read_type_table(path: str | Path, needed: Sequence[str]) -> TypeTable:
    """Return the per-type table: ``code, ecosystem_type`` + the coefficient columns ``needed``."""
    from hesuan.land.gep.tables import read_table

    file = str(path)
    frame = read_table(path, ("code", "ecosystem_type", *needed),
                       (*tuple(c for c in TYPE_COLUMNS if c not in needed), "note"))
    problems: list[Problem] = []
    codes: list[int] = []
    names: list[str] = []
    cols: dict[str, list[float]] = {c: [] for c in needed}
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        try:
            code = int(str(row["code"]))
        except ValueError:
            problems.append(Problem(f"not an integer code: {row['code']!r}", file, line,
                                    "code", "the ecosystem map's integer code"))
            continue
        if code in codes:
            problems.append(Problem(f"code {code} repeats", file, line, "code",
                                    "one row per code"))
            continue
        if not row["ecosystem_type"]:
            problems.append(Problem("empty", file, line, "ecosystem_type",
                                    "the ecosystem type's name (forest, grassland …)"))
        for c in needed:
            text = row[c]
            try:
                value = float(text) if text not in (None, "") else math.nan
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                problems.append(Problem(f"no coefficient ({text!r})" if not text else
                                        f"bad coefficient {text!r}", file, line, c,
                                        "a number >= 0 for every ecosystem type"))
            cols[c].append(value)
        codes.append(code)
        names.append(row["ecosystem_type"] or "")
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the type table")
    return TypeTable(tuple(codes), tuple(names),
                     {c: np.asarray(v, dtype=np.float64) for c, v in cols.items()}, file)


def plan(grid: Grid, target_pixels: int = 1 << 20, tile: int = 512) -> list[Window]:
    """Return windows of whole 512-pixel tiles, ≈ ``target_pixels`` each (1024 × 1024 by default).

    Memory is then bounded by the window, not by the raster's width.
    """
    side = max(tile, int(math.sqrt(target_pixels)) // tile * tile)
    if grid.width * tile <= target_pixels:  # narrow maps: full-width strips
        cols, rows = grid.width, max(tile, target_pixels // max(grid.width, 1) // tile * tile)
    else:
        cols, rows = side, side
    return [Window(c, r, min(cols, grid.width - c), min(rows, grid.height - r))
            for r in range(0, grid.height, rows) for c in range(0, grid.width, cols)]


# --------------------------------------------------------------------------- one window


def _lookup(types: TypeTable, nodata: float | None) -> tuple[NDArray[np.intp], int]:
    lo = min(types.codes)
    hi = max(types.codes)
    lut = np.full(hi - lo + 1, types.n + 1, dtype=np.intp)
    lut[np.asarray(types.codes) - lo] = np.arange(types.n)
    if nodata is not None and lo <= nodata <= hi and float(nodata).is_integer():
        lut[int(nodata) - lo] = types.n
    return lut, lo


def _check_bounds(arr: NDArray[np.float64], has_data: NDArray[np.bool_], name: str, path: str,
                  window: Window) -> None:
    """Stop on the first pixel with data outside :data:`RASTER_BOUNDS` (file, field, pixel)."""
    lo, hi = RASTER_BOUNDS[name]
    bad = has_data & ((arr < lo) | (arr > hi))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError.single(
            f"value {float(arr[r, c])!r} at pixel row {int(window.row_off) + int(r)}, column "
            f"{int(window.col_off) + int(c)} ({int(bad.sum())} such pixel(s) in this window)",
            file=path, field=name,
            expected=f"values in [{lo:g}, {hi:g}] (or nodata) where the ecosystem map has data")


def window_sums(job: RegulatingRun, grid: Grid, window: Window,
                handles: dict[str, Any] | None = None, with_maps: bool = True
                ) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.int64], dict[str, int],
                           int, dict[str, NDArray[np.float32]]]:
    """Read one window, run the kernel, sum per (zone, type).

    Returns (service → (Z+1, K) sums, pixel counts (Z+1, K+1), nodata pixels per service,
    negative water-balance pixels, per-hectare density maps of the window).
    """
    own = handles is None
    handles = {} if handles is None else handles

    def ds(path: str) -> Any:
        if path not in handles:
            handles[path] = rasterio.open(path)
        return handles[path]

    try:
        eco_ds = ds(job.ecosystem)
        codes = eco_ds.read(1, window=window)
        lut, lo = _lookup(job.types, eco_ds.nodata)
        shifted = codes.astype(np.int64) - lo
        inside = (shifted >= 0) & (shifted < lut.size)
        slot = np.where(inside, np.take(lut, np.clip(shifted, 0, lut.size - 1)),
                        job.types.n + 1)
        if eco_ds.nodata is not None:
            slot[codes == eco_ds.nodata] = job.types.n
        absent = slot == job.types.n + 1
        if absent.any():
            r, c = np.argwhere(absent)[0]
            values = np.unique(codes[absent])[:20].tolist()
            raise InputError.single(
                f"ecosystem codes {values} are not in the type table {job.types.path} "
                f"(first at pixel row {int(window.row_off) + int(r)}, column "
                f"{int(window.col_off) + int(c)})", file=job.ecosystem, field="ecosystem",
                expected="a type-table row (code, ecosystem_type, coefficients) for every "
                         "code on the map")
        eco_valid = slot < job.types.n
        data: dict[str, NDArray[np.float64]] = {}
        ok: dict[str, NDArray[np.bool_]] = {}
        for name, path in job.rasters.items():
            src = ds(path)
            arr = src.read(1, window=window).astype(np.float64)
            good = np.isfinite(arr)
            if src.nodata is not None and not math.isnan(src.nodata):
                good &= arr != src.nodata
            if name in RASTER_BOUNDS:
                _check_bounds(arr, good & eco_valid, name, path, window)
            data[name] = np.where(good, arr, 0.0)
            ok[name] = good
    finally:
        if own:
            for h in handles.values():
                h.close()
    valid = {}
    for s in job.services:
        m = eco_valid.copy()
        for name in SERVICES[s][0]:
            m &= ok[name]
        valid[s] = m
    per_pixel = regulating_block(slot, data, valid, job.types, job.climate, job.services,
                                 grid.pixel_area_m2, job.clip_negative_water,
                                 job.rweq_plot_length_m)
    zones = None
    n_z = len(job.region_ids) + 1
    if job.zones_shapes is not None:
        from hesuan.land.regions import rasterize_window

        zones = rasterize_window(job.zones_shapes, window, grid.transform)
    k = job.types.n
    key = slot if zones is None else zones.astype(np.intp) * (k + 2) + slot
    flat = key.ravel()
    size = n_z * (k + 2)
    sums = {s: np.bincount(flat, weights=v.ravel(), minlength=size).astype(np.float64)
            .reshape(n_z, k + 2)[:, :k] for s, v in per_pixel.items()}
    pixels = np.bincount(flat, minlength=size).reshape(n_z, k + 2)[:, : k + 1]
    nodata = {s: int((eco_valid & ~valid[s]).sum()) for s in job.services}
    negative = 0
    if "water_conservation_m3" in per_pixel:
        negative = int((per_pixel["water_conservation_m3"] < 0).sum())
    to_ha = 1e4 / grid.pixel_area_m2
    maps = ({s: np.where(valid[s], v * to_ha, NODATA_F32).astype(np.float32)
             for s, v in per_pixel.items()} if with_maps else {})
    return sums, pixels.astype(np.int64), nodata, negative, maps


# --------------------------------------------------------------------------- engines


def _profile(grid: Grid) -> dict[str, Any]:
    return {"driver": "GTiff", "dtype": "float32", "count": 1, "nodata": NODATA_F32,
            "width": grid.width, "height": grid.height, "crs": rasterio.crs.CRS.from_wkt(
                grid.crs_wkt), "transform": rasterio.Affine(*grid.transform),
            "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "zstd",
            "zstd_level": 1, "bigtiff": "if_safer"}


def run_regulating(job: RegulatingRun, maps: dict[str, Path] | None = None, *,
                   engine: str = "local", workers: int | None = None,
                   scheduler: str | None = None, progress: ProgressFn | None = None,
                   target_pixels: int = 1 << 20) -> RegulatingResult:
    """Compute the regulating services of ``job`` over the whole grid.

    ``engine="local"``: a thread pool reads and computes windows, the calling thread writes
    the maps (``maps``: service → GeoTIFF path, e.g. the temporary names of an
    :class:`hesuan.io.outputs.OutputSet`; a failed run removes what it wrote).
    ``engine="dask"``: the same :func:`window_sums` runs as one Dask task per window (a
    ``LocalCluster`` unless ``scheduler`` names one; workers must see the input files and
    the output folder); only the window's sums travel back, the workers write the map tiles
    and assemble the maps. Both engines give the same totals and maps.
    """
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        return _run(job, maps, engine, workers, scheduler, progress, target_pixels)


def _run(job: RegulatingRun, maps: dict[str, Path] | None, engine: str, workers: int | None,
         scheduler: str | None, progress: ProgressFn | None, target_pixels: int
         ) -> RegulatingResult:
    grid = check_grid(job.ecosystem, job.rasters)
    windows = plan(grid, target_pixels)
    k = job.types.n
    n_z = len(job.region_ids) + 1
    totals = {s: np.zeros((n_z, k)) for s in job.services}
    pixels = np.zeros((n_z, k + 1), dtype=np.int64)
    nodata = dict.fromkeys(job.services, 0)
    negative = 0
    maps_final: dict[str, str] = {}

    def add(res: tuple[Any, ...]) -> None:
        nonlocal negative, pixels
        sums, px, nd, neg = res[:4]
        for s in job.services:
            totals[s] += sums[s]
            nodata[s] += nd[s]
        pixels += px
        negative += neg

    if engine == "dask":
        _run_dask(job, grid, windows, add, scheduler, workers, progress, maps)
        maps_final.update({s: str(p) for s, p in (maps or {}).items()})
    elif engine == "local":
        maps_final.update(_run_local(job, grid, windows, add, workers, progress, maps))
    else:
        raise InputError.single(f"unknown engine {engine!r}", field="engine",
                                expected="local or dask")
    return RegulatingResult(job.services, totals, pixels, nodata, negative, job.types.codes,
                            job.types.names, job.region_ids, grid.pixel_area_m2, maps_final)



def _run_local(job: RegulatingRun, grid: Grid, windows: list[Window],
               add: Callable[[tuple[Any, ...]], None], workers: int | None,
               progress: ProgressFn | None, maps: dict[str, Path] | None) -> dict[str, str]:
    """Run the windows on a local thread pool, writing the service maps named in ``maps``.

    Returns the path of each map written, by service; on any failure every map begun is
    removed.
    """
    maps_final: dict[str, str] = {}
    sinks: dict[str, Any] = {}
    tmp: dict[str, Path] = {}
    try:
        for s, target in (maps or {}).items():
            if s not in job.services:
                raise ValueError(f"no service {s!r} in this run")
            tmp[s] = Path(target)
            sinks[s] = rasterio.open(tmp[s], "w", **_profile(grid))
        threads = workers or min(2, os.cpu_count() or 1)
        local_handles: dict[int, dict[str, Any]] = {}

        def work(w: Window) -> tuple[Any, ...]:
            import threading

            h = local_handles.setdefault(threading.get_ident(), {})
            return window_sums(job, grid, w, h, with_maps=bool(sinks))

        try:
            with contextlib.closing(ordered_map(work, windows, threads, progress)) as results:
                for w, res in results:
                    add(res)
                    for s, sink in sinks.items():
                        sink.write(res[4][s][None, :, :], window=w)
        finally:  # the pool has stopped: close the workers' input rasters
            for h in local_handles.values():
                for d in h.values():
                    d.close()
        for s, sink in sinks.items():
            sink.update_tags(1, units=MAP_UNITS[s], service=s)
            sink.close()
            maps_final[s] = str(tmp[s])
    except BaseException:
        for sink in sinks.values():
            sink.close()
        for path in tmp.values():
            path.unlink(missing_ok=True)
        raise
    return maps_final


def _dask_task(job: RegulatingRun, grid: Grid, window: Window,
               tile_dir: str | None) -> tuple[Any, ...]:
    """Worker side: one window's sums.

    With ``tile_dir``, its maps as one GeoTIFF tile per service
    (``<tile_dir>/<service>/r<row>_c<col>.tif``).
    """
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        res = window_sums(job, grid, window, with_maps=tile_dir is not None)
        if tile_dir is not None:
            transform = rasterio.Affine(*grid.transform) * rasterio.Affine.translation(
                int(window.col_off), int(window.row_off))
            for s, arr in res[4].items():
                path = Path(tile_dir) / s / f"r{int(window.row_off)}_c{int(window.col_off)}.tif"
                with rasterio.open(path, "w", driver="GTiff", width=int(window.width),
                                   height=int(window.height), count=1, dtype="float32",
                                   nodata=NODATA_F32, transform=transform, compress="zstd",
                                   zstd_level=1) as ds:
                    ds.write(arr[None, :, :])
        return res[:4]


def _mosaic_vrt(tile_dir: Path, service: str, grid: Grid, windows: Sequence[Window]) -> Path:
    """Return a VRT of one service's tiles on the full grid (XML only)."""
    from xml.sax.saxutils import escape

    a, b, c, d, e, f = grid.transform
    sources = "".join(
        f'<SimpleSource><SourceFilename relativeToVRT="1">{service}/r{int(w.row_off)}_c'
        f'{int(w.col_off)}.tif</SourceFilename><SourceBand>1</SourceBand>'
        f'<SrcRect xOff="0" yOff="0" xSize="{int(w.width)}" ySize="{int(w.height)}"/>'
        f'<DstRect xOff="{int(w.col_off)}" yOff="{int(w.row_off)}" xSize="{int(w.width)}" '
        f'ySize="{int(w.height)}"/></SimpleSource>\n' for w in windows)
    xml = (f'<VRTDataset rasterXSize="{grid.width}" rasterYSize="{grid.height}">\n'
           f"<SRS>{escape(grid.crs_wkt)}</SRS>\n"
           f"<GeoTransform>{c!r}, {a!r}, {b!r}, {f!r}, {d!r}, {e!r}</GeoTransform>\n"
           '<VRTRasterBand dataType="Float32" band="1">\n'
           f"<NoDataValue>{NODATA_F32!r}</NoDataValue>\n{sources}</VRTRasterBand>\n"
           "</VRTDataset>\n")
    path = tile_dir / f"{service}.vrt"
    path.write_text(xml, encoding="utf-8")
    return path


def _assemble(vrt: str, target: str, service: str) -> str:
    """Worker side: copy a service's VRT mosaic into its tiled ZSTD GeoTIFF."""
    import rasterio.shutil

    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
        rasterio.shutil.copy(vrt, target, driver="GTiff", tiled=True, blockxsize=512,
                             blockysize=512, compress="zstd", zstd_level=1,
                             bigtiff="if_safer")
        with rasterio.open(target, "r+") as ds:
            ds.update_tags(1, units=MAP_UNITS[service], service=service)
    return target


def _run_dask(job: RegulatingRun, grid: Grid, windows: Sequence[Window],
              add: Callable[[tuple[Any, ...]], None], scheduler: str | None,
              workers: int | None, progress: ProgressFn | None,
              maps: dict[str, Path] | None = None) -> None:
    """Every window as a Dask task (only sums travel back).

    With ``maps``, each task writes its window's tiles beside the first map (a shared file system),
    then one task per service assembles its GeoTIFF from a VRT mosaic of the tiles; the tiles are
    removed.
    """
    import shutil

    from dask.distributed import Client, LocalCluster, as_completed

    tile_dir: Path | None = None
    if maps:
        first = Path(next(iter(maps.values())))
        tile_dir = first.parent / f".{first.stem}.tiles"
        for s in maps:
            (tile_dir / s).mkdir(parents=True, exist_ok=True)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or min(2, os.cpu_count() or 1),
                               threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        remote_job = client.scatter(job, broadcast=True)
        limit = 4 * max(1, len(client.scheduler_info().get("workers", {})))
        tiles = str(tile_dir) if tile_dir is not None else None
        it = iter(windows)
        queue = as_completed([client.submit(_dask_task, remote_job, grid, w, tiles,
                                            pure=False)
                              for w in itertools.islice(it, limit)])
        for done, fut in enumerate(queue, start=1):
            add(fut.result())
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                queue.add(client.submit(_dask_task, remote_job, grid, nxt, tiles, pure=False))
            if progress:
                progress(done, len(windows))
        if maps and tile_dir is not None:
            jobs = [client.submit(_assemble, str(_mosaic_vrt(tile_dir, s, grid, windows)),
                                  str(target), s, pure=False) for s, target in maps.items()]
            client.gather(jobs)
    except BaseException:
        for target in (maps or {}).values():
            Path(target).unlink(missing_ok=True)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if tile_dir is not None:
            shutil.rmtree(tile_dir, ignore_errors=True)


# --------------------------------------------------------------------------- to the account

#: raster service → (indicator, unit of the quantity)
INDICATORS: dict[str, tuple[str, str]] = {
    "water_conservation_m3": ("regulating.water_conservation.volume", "m**3"),
    "carbon_sequestration_t_co2": ("regulating.carbon_sequestration.co2", "t CO2"),
    "oxygen_release_t_o2": ("regulating.oxygen_release.o2", "t"),
    "transpiration_kwh": ("regulating.climate_regulation.transpiration", "kWh"),
    "evaporation_kwh": ("regulating.climate_regulation.evaporation", "kWh"),
    "so2_uptake_t": ("regulating.air_purification.so2", "t"),
    "nox_uptake_t": ("regulating.air_purification.nox", "t"),
    "dust_uptake_t": ("regulating.air_purification.dust", "t"),
    "cod_removal_t": ("regulating.water_purification.cod", "t"),
    "nitrogen_removal_t": ("regulating.water_purification.nitrogen", "t"),
    "phosphorus_removal_t": ("regulating.water_purification.phosphorus", "t"),
    "sand_fixation_t": ("regulating.sand_fixation.area", "m**2"),
}

#: raster service → the indicators it may feed, the first one the edition has is used: the
#: Garzê 2010 edition books marshes apart (``…flood_regulation.marshes``), the national
#: editions one flood-regulation volume for lakes, reservoirs and marshes.
INDICATOR_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "marsh_flood_regulation_m3": (("regulating.flood_regulation.marshes",
                                   "regulating.flood_regulation.volume"), "m**3"),
}


def indicator_for(service: str, edition: Any) -> str | None:
    """Return the edition's indicator a raster service feeds, ``None`` if it has none.

    Soil retention feeds several (:func:`regulating_quantities`); it is given as its sediment
    volume indicator.
    """
    if service == "soil_retention_t":
        return "regulating.soil_retention.sediment_volume"
    if service in INDICATOR_CHOICES:
        return next((i for i in INDICATOR_CHOICES[service][0] if edition.has_indicator(i)),
                    None)
    indicator = INDICATORS[service][0]
    return indicator if edition.has_indicator(indicator) else None


def regulating_quantities(result: RegulatingResult, edition: Any, year: int,
                          coefficients: dict[str, float] | None = None,
                          whole_map: str = "all", source: str = "rasters"
                          ) -> list[Any]:
    """Return the physical totals as quantity rows, one per region, type and indicator.

    Soil retention becomes sediment (λ·A_s/ρ, m³), N and P (t) with the edition's coefficients
    (``sediment_deposition_ratio``, ``soil_bulk_density``, ``soil_n_content``, ``soil_p_content``)
    unless ``coefficients`` gives them. Sand fixed [t] becomes the area kept from
    desertification Q/(ρ·h) [m²] (Garzê 2010 Eq. 6: ``sand_bulk_density``,
    ``sand_cover_depth``); marsh flood regulation [m³] feeds the edition's marsh or
    flood-volume indicator (:data:`INDICATOR_CHOICES`).

    Raises
    ------
    InputError
        A negative total (naming region, type and service).
    """
    from hesuan.land.gep.accounts import QuantityRow

    coefficients = coefficients or {}

    def coef(name: str) -> float:
        return coefficients[name] if name in coefficients else edition.coefficient(name).value

    regions = ((whole_map,) if not result.region_ids else ("", *result.region_ids))
    rows: list[QuantityRow] = []
    problems: list[Problem] = []
    for s in result.services:
        table = result.totals[s]
        indicator = indicator_for(s, edition)
        unit = (INDICATOR_CHOICES[s] if s in INDICATOR_CHOICES else INDICATORS.get(s, ("", "")))[1]
        if indicator is None:
            problems.append(Problem(f"edition {getattr(edition, 'key', edition)!s} has no "
                                    f"indicator for {s}", source, None, s,
                                    "an edition with the service's indicator"))
            continue
        for z, region in enumerate(regions):
            if result.region_ids and z == 0:
                continue  # outside every region
            for t, name in enumerate(result.type_names):
                q = float(table[z, t])
                if result.pixels[z, t] == 0:
                    continue
                if q < 0:
                    problems.append(Problem(
                        f"{s} totals {q:.6g} for type {name!r} in region {region!r} "
                        "(negative)", source, None, s,
                        "a non-negative service total (check P − R − ET or NEP inputs, or "
                        "clip negative pixels with --clip-negative-water)"))
                    continue
                if s == "soil_retention_t":
                    rows += [
                        QuantityRow(region, year, name,
                                    "regulating.soil_retention.sediment_volume",
                                    float(eq.sediment_volume_m3(
                                        q, coef("sediment_deposition_ratio"),
                                        coef("soil_bulk_density"))), "m**3", 0.0, source),
                        QuantityRow(region, year, name, "regulating.soil_retention.nitrogen",
                                    float(eq.nutrient_retained_t(q, coef("soil_n_content"))),
                                    "t", 0.0, source),
                        QuantityRow(region, year, name,
                                    "regulating.soil_retention.phosphorus",
                                    float(eq.nutrient_retained_t(q, coef("soil_p_content"))),
                                    "t", 0.0, source)]
                elif s == "sand_fixation_t":
                    area = float(eq.sand_fixation_area_m2(q, coef("sand_bulk_density"),
                                                          coef("sand_cover_depth")))
                    rows.append(QuantityRow(region, year, name,
                                            "regulating.sand_fixation.area", area, "m**2",
                                            0.0, source))
                elif indicator is not None:
                    rows.append(QuantityRow(region, year, name, indicator, q, unit, 0.0,
                                            source))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{len(problems)} problem(s) in the service totals "
                                 "(negative, or no indicator)")
    return rows
