"""The raster outputs of a carbon run: class maps written once, look-up rasters by GDAL.

Every output raster is ``lut[class map]`` (:meth:`hesuan.land.kernel.Tables.raster_luts`).
So a run writes each class map (baseline, alternate, and the value class of each pixel's
pair of classes) **once**, as a tiled GeoTIFF with nearest-neighbour overviews, and derives
the look-up rasters from it with GDAL's own machinery:

- ``raster_format="vrt"`` (default): the class maps are published as COGs
  (``class_bas.tif``, ``class_alt.tif``, ``class_pair.tif``) and each output raster as a
  GDAL VRT beside them whose ``ComplexSource`` applies the raster's ``<LUT>`` to its class
  map (GDAL returns the look-up value exactly for an exact input; class maps hold integers
  only); its overviews are the class map's, looked up the same way (a few kB; any GDAL
  reader, QGIS or ``gdal_translate -of COG`` opens it as the float32 raster);
- ``raster_format="cog"``: each raster a self-contained Cloud-Optimized GeoTIFF, copied by
  GDAL's COG driver from a VRT derived band whose Python pixel function is the NumPy
  look-up (:func:`to_cog`, :func:`lookup_pixels`) — ZSTD level 1, 512² tiles,
  ``NUM_THREADS=ALL_CPUS``, the class map's overviews looked up; the class maps are
  temporary. GDAL's per-pixel ``<LUT>`` would cost more than the codec
  (``docs/benchmarks.md``).

Nothing here computes a density: the values come from the look-ups given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from rasterio.enums import Resampling

from hesuan.errors import HesuanError
from hesuan.land.kernel import BlockResult, map_dtype
from hesuan.land.raster import GridInfo
from hesuan.land.spec import NODATA_F32

#: Output formats of the look-up rasters.
RASTER_FORMATS = ("cog", "vrt")

#: [px] tile size of every raster written.
TILE = 512

#: GDAL COG driver options of every float32 output raster: ZSTD level 3 with the
#: horizontal predictor, overviews from the source (the class maps'), compression on every
#: CPU. Measured on a 4000² density raster of the benchmark: level 3 is 14 % smaller than
#: level 1 for the same CPU time (levels 6–9: 24 % smaller for 1.6–2× the CPU); the
#: floating-point predictor is 1.8× larger on piecewise-constant densities.
COG_OPTIONS: dict[str, Any] = {
    "compress": "ZSTD", "level": 3, "predictor": "STANDARD", "blocksize": TILE,
    "overviews": "AUTO", "num_threads": "ALL_CPUS", "bigtiff": "IF_SAFER",
}

#: COG driver options of the look-up rasters (:func:`to_cog`): the overviews given, ZSTD
#: level 1 without a predictor. Measured on three density rasters of the benchmark (4000²,
#: through :func:`to_cog`): 0.155 CPU s per raster and 8.7 MB, against 0.19 s and 9.0 MB
#: with level 3 and the horizontal predictor, 0.20 s and 10.6 MB for level 1 with it; levels
#: 6–9 are 11–13 % smaller for 2.5–3× the CPU, DEFLATE 6 5 % smaller for 2.7×.
LOOKUP_COG_OPTIONS: dict[str, Any] = dict(COG_OPTIONS, level=1, predictor="NO",
                                          overviews="FORCE_USE_EXISTING")

#: COG driver options of the class maps published by the ``vrt`` format.
CLASS_MAP_COG_OPTIONS: dict[str, Any] = dict(COG_OPTIONS, level=1, predictor="NO")

#: GeoTIFF options of the class maps while the blocks are written: temporary files, read
#: once per raster derived from them, so uncompressed (1 byte a pixel, 1.33 with the
#: overviews; compressing them cost 20–30 % of a run's CPU time at 4000²).
CLASS_MAP_PROFILE: dict[str, Any] = {
    "driver": "GTiff", "count": 1, "tiled": True, "compress": "none", "bigtiff": "if_safer",
}


def tile_size(grid: GridInfo) -> int:
    """[px] the output tile size on ``grid`` (shrunk for maps smaller than a tile)."""
    small = min(grid.width, grid.height)
    if small >= TILE:
        return TILE
    return 256 if small >= 256 else 16 * max(1, small // 16)


def overview_factors(width: int, height: int, tile: int) -> list[int]:
    """Overview decimation factors 2, 4, … until the smallest overview fits one tile."""
    factors: list[int] = []
    f = 2
    while max(width, height) > tile:
        factors.append(f)
        if max(width, height) / f <= tile:
            break
        f *= 2
    return factors


def _lut_text(lut: NDArray[np.float32]) -> str:
    # repr of the float32 value as a double: parsed back by GDAL to the same float32.
    return ",".join(f"{i}:{float(v)!r}" for i, v in enumerate(lut.tolist()))


def lut_vrt(grid: GridInfo, class_map: str, lut: NDArray[np.float32], units: str) -> str:
    """Return the XML of a VRT that is ``lut[class map]`` (float32, output nodata) on ``grid``.

    ``class_map`` is the source file name relative to the VRT.
    """
    a, b, c, d, e, f = grid.transform
    return (
        f'<VRTDataset rasterXSize="{grid.width}" rasterYSize="{grid.height}">\n'
        f'  <SRS dataAxisToSRSAxisMapping="1,2">{escape(grid.crs_wkt)}</SRS>\n'
        f"  <GeoTransform>{c!r}, {a!r}, {b!r}, {f!r}, {d!r}, {e!r}</GeoTransform>\n"
        '  <VRTRasterBand dataType="Float32" band="1">\n'
        f"    <NoDataValue>{float(NODATA_F32)!r}</NoDataValue>\n"
        f"    <UnitType>{escape(units)}</UnitType>\n"
        f'    <Metadata><MDI key="units">{escape(units)}</MDI></Metadata>\n'
        '    <ComplexSource>\n'
        f'      <SourceFilename relativeToVRT="1">{escape(class_map)}</SourceFilename>\n'
        "      <SourceBand>1</SourceBand>\n"
        f"      <LUT>{_lut_text(lut)}</LUT>\n"
        "    </ComplexSource>\n"
        "  </VRTRasterBand>\n"
        "</VRTDataset>\n")


@dataclass(frozen=True)
class RasterPlan:
    """What to write: output raster name → (class map tag, look-up, units)."""

    rasters: Mapping[str, tuple[str, NDArray[np.float32], str]]
    n_values: Mapping[str, int]
    raster_format: str = "cog"

    @property
    def maps(self) -> list[str]:
        """The class maps the rasters need, in ``bas``, ``alt``, ``pair`` order."""
        used = {tag for tag, _, _ in self.rasters.values()}
        return [t for t in ("bas", "alt", "pair") if t in used]

    def files(self) -> dict[str, tuple[str, str]]:
        """Each published file: key → (file name, format)."""
        if self.raster_format == "cog":
            return {n: (f"{n}.tif", "geotiff") for n in self.rasters}
        out = {f"class_{t}": (f"class_{t}.tif", "geotiff") for t in self.maps}
        out.update({n: (f"{n}.vrt", "vrt") for n in self.rasters})
        return out


class RasterOutputs:
    """The raster sink of a run: class maps during the block pass, derived rasters after.

    Class maps (and the look-up VRTs the COGs are copied from) live in ``work``, a folder
    the caller deletes; each published file is written to ``targets[key]`` (``key``: the
    raster name, or ``class_<tag>`` for a class map in ``vrt`` format), typically the
    temporary name of an :class:`hesuan.io.outputs.OutputSet` entry. :meth:`write` takes one
    :class:`BlockResult` (with ``open_maps``; the Dask engine assembles the class maps
    itself); :meth:`finish` derives every raster. :attr:`views` are readable look-up VRTs
    of every raster in ``work`` (for quicklooks before publication).
    """

    def __init__(self, work: Path, grid: GridInfo, plan: RasterPlan,
                 targets: Mapping[str, Path], open_maps: bool = True) -> None:
        self.work = work
        self.grid = grid
        self.plan = plan
        self.targets = dict(targets)
        self.tile = tile_size(grid)
        self.work.mkdir(parents=True, exist_ok=True)
        self.class_paths = {t: self.work / f"class_{t}.tif" for t in plan.maps}
        self.views: dict[str, Path] = {}
        self._files: dict[str, Any] = {}
        if open_maps:
            try:
                for tag, path in self.class_paths.items():
                    self._files[tag] = rasterio.open(path, "w", **self.class_map_profile(tag))
            except BaseException:
                self.close()
                raise

    def class_map_profile(self, tag: str) -> dict[str, Any]:
        """GeoTIFF creation profile of class map ``tag``."""
        g = self.grid
        return dict(CLASS_MAP_PROFILE, width=g.width, height=g.height, crs=g.crs_wkt,
                    transform=rasterio.Affine(*g.transform), blockxsize=self.tile,
                    blockysize=self.tile,
                    dtype=np.dtype(map_dtype(self.plan.n_values[tag])).name)

    def write(self, block: BlockResult) -> None:
        """Write the class maps of one window (windows start on the tile grid)."""
        for tag, ds in self._files.items():
            ds.write(block.class_maps[tag], 1, window=block.window)

    def close(self) -> None:
        """Close the class maps being written."""
        for ds in self._files.values():
            ds.close()
        self._files = {}

    def overview_factors(self) -> list[int]:
        """Overview factors of every raster of the run."""
        return overview_factors(self.grid.width, self.grid.height, self.tile)

    def finish(self, run_jobs: Callable[[list[CogJob]], None] | None = None,
               overviews: bool = True) -> dict[str, Path]:
        """Close the class maps, add their overviews and derive every output raster.

        ``run_jobs`` runs the COG jobs (default: two threads here); ``overviews`` False
        when the class maps already have theirs.

        Returns
        -------
        The path written for each published file (``targets``), by key.
        """
        self.close()
        factors = self.overview_factors()
        if overviews and factors:
            for path in self.class_paths.values():
                add_overviews(path, factors)
        for name, (tag, lut, units) in self.plan.rasters.items():
            view = self.work / f"{name}.vrt"
            view.write_text(lut_vrt(self.grid, self.class_paths[tag].name, lut, units),
                            encoding="utf-8")
            self.views[name] = view
        written: dict[str, Path] = {}
        if self.plan.raster_format == "vrt":
            copies = {f"class_{tag}": (path, self.targets[f"class_{tag}"])
                      for tag, path in self.class_paths.items()}
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda job: rasterio.shutil.copy(
                    str(job[0]), str(job[1]), driver="COG", **CLASS_MAP_COG_OPTIONS),
                    copies.values()))
            written.update({key: target for key, (_, target) in copies.items()})
            for name, (tag, lut, units) in self.plan.rasters.items():
                target = self.targets[name]
                target.write_text(lut_vrt(self.grid, f"class_{tag}.tif", lut, units),
                                  encoding="utf-8")
                written[name] = target
            return written
        jobs = [CogJob(str(self.class_paths[tag].resolve()), lut, str(self.targets[name]),
                       units, str(self.work.resolve() / f"{name}.cog"))
                for name, (tag, lut, units) in self.plan.rasters.items()]
        (run_jobs or _run_in_threads)(jobs)
        return {name: self.targets[name] for name in self.plan.rasters}


def add_overviews(path: Path | str, factors: list[int]) -> None:
    """Nearest-neighbour overviews of a class map (a class never blends with another)."""
    with rasterio.open(path, "r+") as ds:
        ds.build_overviews(factors, Resampling.nearest)


def _run_in_threads(jobs: list[CogJob], threads: int = 2) -> None:
    # GDAL releases the GIL while reading, writing and compressing: two jobs keep both
    # CPUs busy.
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(to_cog, jobs))


@dataclass(frozen=True)
class CogJob:
    """One look-up raster to write as a COG: ``lut[class map]``, overviews included.

    ``scratch`` is a path prefix for the job's VRT files (deleted when done).
    """

    class_map: str
    lut: NDArray[np.float32]
    target: str
    units: str
    scratch: str


#: The module GDAL may import the look-up pixel function from (and no other).
_PIXEL_MODULE = __name__


def to_cog(job: CogJob) -> Path:
    """Write ``job.lut[class map]`` as a Cloud-Optimized GeoTIFF (GDAL's COG driver).

    GDAL reads VRT derived bands over the class map whose pixel function is
    :func:`lookup_pixels` (``lut[class]`` in NumPy) and compresses them once into the
    target: one band for the full resolution, one per overview level of the class map
    (its nearest-neighbour overviews looked up the same way, so the raster's overviews are
    exactly the nearest-neighbour overviews of the raster itself: no float raster is
    resampled, nothing is written twice). Only this module's function may run
    (``GDAL_VRT_PYTHON_TRUSTED_MODULES``).
    """
    with rasterio.open(job.class_map) as src:
        n_levels = len(src.overviews(1))
    paths = [Path(f"{job.scratch}.L{i}.vrt") for i in range(n_levels)]
    main = Path(f"{job.scratch}.vrt")
    try:
        for i, path in enumerate(paths):
            path.write_text(lookup_vrt(job.class_map, job.lut, job.units, level=i),
                            encoding="utf-8")
        main.write_text(lookup_vrt(job.class_map, job.lut, job.units,
                                   overviews=[str(p) for p in paths]), encoding="utf-8")
        with rasterio.Env(GDAL_VRT_ENABLE_PYTHON="TRUSTED_MODULES",
                          GDAL_VRT_PYTHON_TRUSTED_MODULES=_PIXEL_MODULE):
            rasterio.shutil.copy(str(main), job.target, driver="COG", **LOOKUP_COG_OPTIONS)
    except Exception as exc:  # GDAL's errors (rasterio names their classes only privately)
        raise HesuanError(
            f"GDAL could not write {Path(job.target).name} ({exc}); the cog raster format "
            "needs GDAL's Python pixel functions, the vrt format (--raster-format vrt) "
            "does not") from exc
    finally:
        for path in (main, *paths):
            path.unlink(missing_ok=True)
    return Path(job.target)


def lookup_vrt(class_map: str, lut: NDArray[np.float32], units: str,
               level: int | None = None, overviews: Sequence[str] = ()) -> str:
    """XML of a float32 VRT band that is ``lut[class map]`` by :func:`lookup_pixels`.

    Grid and CRS are the class map's (``class_map``: an absolute path) or, with ``level``,
    those of its overview ``level``; ``overviews`` are the VRTs of the band's overviews.
    """
    options = "" if level is None else (
        f'<OpenOptions><OOI key="OVERVIEW_LEVEL">{level}</OOI></OpenOptions>')
    kw = {} if level is None else {"overview_level": level}
    with rasterio.open(class_map, **kw) as src:
        width, height, wkt, t = src.width, src.height, src.crs.to_wkt(), src.transform
        dtype = src.dtypes[0]
    gdal_type = {"uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32"}[dtype]
    over = "".join(
        f'    <Overview><SourceFilename relativeToVRT="0">{escape(p)}</SourceFilename>'
        "<SourceBand>1</SourceBand></Overview>\n" for p in overviews)
    return (
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">\n'
        f'  <SRS dataAxisToSRSAxisMapping="1,2">{escape(wkt)}</SRS>\n'
        f"  <GeoTransform>{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}</GeoTransform>\n"
        '  <VRTRasterBand dataType="Float32" band="1" subClass="VRTDerivedRasterBand">\n'
        f"    <NoDataValue>{float(NODATA_F32)!r}</NoDataValue>\n"
        f"    <UnitType>{escape(units)}</UnitType>\n"
        f'    <Metadata><MDI key="units">{escape(units)}</MDI></Metadata>\n'
        f"    <PixelFunctionType>{_PIXEL_MODULE}.lookup_pixels</PixelFunctionType>\n"
        "    <PixelFunctionLanguage>Python</PixelFunctionLanguage>\n"
        f'    <PixelFunctionArguments lut="{_lut_values(lut)}"/>\n'
        f"    <SourceTransferType>{gdal_type}</SourceTransferType>\n"
        f'    <SimpleSource><SourceFilename relativeToVRT="0">{escape(class_map)}'
        f"</SourceFilename>{options}<SourceBand>1</SourceBand></SimpleSource>\n"
        f"{over}"
        "  </VRTRasterBand>\n"
        "</VRTDataset>\n")


def _lut_values(lut: NDArray[np.float32]) -> str:
    # repr of each float32 value as a double: parsed back to the same float32.
    return ",".join(repr(float(v)) for v in lut.tolist())


@functools.lru_cache(maxsize=64)
def _parse_lut(text: bytes) -> NDArray[np.float32]:
    return np.array(text.decode().split(","), dtype=np.float64).astype(np.float32)


def lookup_pixels(in_ar: list[NDArray[np.unsignedinteger]], out_ar: NDArray[np.float32],
                  *args: Any, **kwargs: Any) -> None:
    """GDAL Python pixel function: ``out = lut[class]`` (``kwargs["lut"]``, comma-separated).

    GDAL calls it for each region read of a :func:`lookup_vrt` band (any overview level).
    Class maps hold the indices of ``lut`` only (:func:`hesuan.land.kernel.process_block`).
    """
    np.take(_parse_lut(kwargs["lut"]), in_ar[0], out=out_ar, mode="clip")


def units_of(name: str) -> str:
    """Units of an output raster."""
    return "currency/ha" if name == "npv_alt" else "t C/ha"
