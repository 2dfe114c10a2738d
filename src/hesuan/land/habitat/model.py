"""Run the habitat-quality model block by block on a land-cover map and its threat rasters.

Each block of the LULC grid is read with a halo of the largest threat distance (in
pixels, rounded up, + 1) around it. The distance from a pixel to the nearest threat pixel
is exact whenever it is within the threat's maximum distance (the nearest threat pixel is
then inside the halo), and beyond it the impact is 0 whatever the distance; so the blocks
give the whole-map result, with memory bounded by the block and its halo. Distances are
measured within the map, as InVEST does.

Outputs (through :class:`hesuan.io.outputs.OutputSet`, published together or not at all):
``deg_sum.tif`` (D_xj, total degradation) and ``quality.tif`` (Q_xj), float32 COGs with
the land engine's options, and ``summary.json`` (:class:`HabitatSummary`). Pixels that are
LULC nodata are nodata in both rasters.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
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
from hesuan.land.outputs import COG_OPTIONS, tile_size
from hesuan.land.raster import (
    ClassLookup,
    GridInfo,
    build_lookup,
    open_grid,
    plan_windows,
)
from hesuan.land.spec import NODATA_F32

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
        overwrite: bool = False, block_pixels: int = 1 << 20,
        progress: Callable[[int, int], None] | None = None) -> HabitatResult:
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
    halo = math.ceil(max(dmax_px)) + 1
    provenance = Provenance.create(
        "land habitat",
        inputs={"lulc": lulc, "threats": threats_table, "sensitivity": sensitivity_table,
                **{f"threat_{t.name}": t.raster for t in threats}},
        parameters={"half_saturation": half_saturation, "z": Z})
    with OutputSet("land habitat", directory=out, overwrite=overwrite) as outs:
        deg_out = outs.file("deg_sum.tif", "geotiff")
        qual_out = outs.file("quality.tif", "geotiff")
        summ_out = outs.file("summary.json", "json")
        with tempfile.TemporaryDirectory(dir=Path(out)) as work:
            stats = _pass(grid, threats, sens, lookup, weights, dmax_px, halo,
                          half_saturation, Path(work), block_pixels, progress)
            for name, target in (("deg_sum", deg_out), ("quality", qual_out)):
                rasterio.shutil.copy(Path(work) / f"{name}.tif", target.tmp, driver="COG",
                                     **COG_OPTIONS)
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


def _pass(grid: GridInfo, threats: tuple[Threat, ...], sens: Sensitivity,
          lookup: ClassLookup,
          weights: NDArray[np.float64], dmax_px: list[float], halo: int,
          half_saturation: float, work: Path, block_pixels: int,
          progress: Callable[[int, int], None] | None
          ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], int, float]:
    k = sens.codes.size
    counts = np.zeros(k, np.int64)
    deg_sums = np.zeros(k)
    q_sums = np.zeros(k)
    nodata = 0
    max_deg = 0.0
    tile = tile_size(grid)
    profile = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1,
               "dtype": "float32", "crs": rasterio.crs.CRS.from_wkt(grid.crs_wkt),
               "transform": rasterio.Affine(*grid.transform), "nodata": NODATA_F32,
               "tiled": True, "blockxsize": tile, "blockysize": tile, "compress": "zstd",
               "zstd_level": 1, "bigtiff": "if_safer"}
    windows = plan_windows(grid, block_pixels, tile)
    sources = [rasterio.open(t.raster) for t in threats]
    try:
        with rasterio.open(grid.path) as lulc_ds, \
                rasterio.open(work / "deg_sum.tif", "w", **profile) as deg_ds, \
                rasterio.open(work / "quality.tif", "w", **profile) as q_ds:
            for n, win in enumerate(windows):
                codes = lulc_ds.read(1, window=win)
                slots = lookup.slots(codes)
                bad = slots == lookup.unknown_slot
                if bad.any():
                    r, c = (int(v) for v in np.argwhere(bad)[0])
                    raise InputError.single(
                        f"code {codes[r, c]} at pixel (row {win.row_off + r}, column "
                        f"{win.col_off + c}) is not in the sensitivity table",
                        file=grid.path, field="lucode",
                        expected="every code of the LULC map in the sensitivity table")
                valid = slots < k
                safe = np.where(valid, slots, 0)
                degradation = np.zeros(codes.shape)
                r0, c0 = max(win.row_off - halo, 0), max(win.col_off - halo, 0)
                r1 = min(win.row_off + win.height + halo, grid.height)
                c1 = min(win.col_off + win.width + halo, grid.width)
                big = Window(c0, r0, c1 - c0, r1 - r0)
                inner = (slice(win.row_off - r0, win.row_off - r0 + win.height),
                         slice(win.col_off - c0, win.col_off - c0 + win.width))
                for j, (t, src) in enumerate(zip(threats, sources, strict=True)):
                    data = src.read(1, window=big)
                    present = data != 0
                    if src.nodata is not None:
                        present &= ~np.isnan(data) if math.isnan(src.nodata) else \
                            data != src.nodata
                    bad_value = present & ~((data > 0) & (data <= 1))  # also NaN
                    if bad_value.any():
                        r, c = (int(v) for v in np.argwhere(bad_value)[0])
                        raise InputError.single(
                            f"value {data[r, c]} at pixel (row {r0 + r}, column {c0 + c})",
                            file=str(t.raster), field=f"threat {t.name}",
                            expected="threat values from 0 to 1")
                    distance = threat_distance_px(present)[inner]
                    impact = decayed_threat(distance, dmax_px[j], t.decay)
                    degradation += threat_degradation(impact, float(weights[j]),
                                                      sens.sensitivity[safe, j])
                quality = habitat_quality(degradation, sens.habitat[safe], half_saturation)
                nodata += int((~valid).sum())
                counts += np.bincount(slots[valid], minlength=k)[:k]
                deg_sums += np.bincount(slots[valid], weights=degradation[valid],
                                        minlength=k)[:k]
                q_sums += np.bincount(slots[valid], weights=quality[valid], minlength=k)[:k]
                if valid.any():
                    max_deg = max(max_deg, float(degradation[valid].max()))
                deg_ds.write(np.where(valid, degradation, NODATA_F32).astype(np.float32), 1,
                             window=win)
                q_ds.write(np.where(valid, quality, NODATA_F32).astype(np.float32), 1,
                           window=win)
                if progress is not None:
                    progress(n + 1, len(windows))
    finally:
        for s in sources:
            s.close()
    return counts, deg_sums, q_sums, nodata, max_deg

