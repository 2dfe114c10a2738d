"""Open and check LULC rasters; plan the blocks; build the dense class look-up table.

Rules checked, in this order, each naming the file: the file exists and GDAL reads it; it
has one band; its cells are integers; it has a CRS; the CRS is projected (not degrees); the
grid is north-up. An alternate map must have the baseline's CRS, size and transform.
:func:`ordered_map` runs a function on the planned windows on a few threads, in order.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.errors import InputError
from hesuan.land.equations import pixel_area_ha

#: Largest code range for which a dense look-up table is built for 32/64-bit rasters
#: (16 Mi entries × 4 bytes = 64 MB).
MAX_LUT_SPAN = 1 << 24

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``: called after each window with the windows done and their total."""

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class GridInfo:
    """What the model needs to know about a LULC raster."""

    path: str
    width: int
    height: int
    transform: tuple[float, ...]
    crs_wkt: str
    crs_name: str
    linear_unit_m: float
    dtype: str
    nodata: float | None
    block_shape: tuple[int, int]

    @property
    def pixel_area_ha(self) -> float:
        """[ha] area of one pixel."""
        return pixel_area_ha(self.transform, self.linear_unit_m)


def open_grid(path: str | Path, field: str) -> GridInfo:
    """Open a LULC raster and check it, raising :class:`InputError` naming ``path``/``field``."""
    file = str(path)
    if not Path(path).is_file():
        raise InputError.single("file not found", file=file, field=field,
                                expected="a GeoTIFF land-cover map")
    try:
        with rasterio.open(path) as ds:
            count, dtype, crs = ds.count, ds.dtypes[0], ds.crs
            width, height, transform = ds.width, ds.height, ds.transform
            nodata = ds.nodata
            block = ds.block_shapes[0]
    except rasterio.errors.RasterioIOError as exc:
        raise InputError.single(f"not a raster GDAL can read ({exc})", file=file,
                                field=field, expected="a GeoTIFF") from None
    if count != 1:
        raise InputError.single(f"has {count} bands", file=file, field=field,
                                expected="a single-band land-cover map")
    if not np.issubdtype(np.dtype(dtype), np.integer):
        raise InputError.single(f"cells are {dtype}", file=file, field=field,
                                expected="integer land-cover codes (uint8/int16/int32 …)")
    if crs is None:
        raise InputError.single("has no coordinate reference system", file=file, field=field,
                                expected="a projected CRS in metres (e.g. a UTM zone)")
    if not crs.is_projected:
        raise InputError.single(
            f"is not projected ({crs.to_string()}: cells are in degrees, so their area is "
            "not constant)", file=file, field=field,
            expected="a projected CRS in metres (reproject it, e.g. gdalwarp -t_srs EPSG:326xx)")
    _unit_name, unit_m = crs.linear_units_factor
    if transform.b != 0 or transform.d != 0:
        raise InputError.single("the grid is rotated", file=file, field=field,
                                expected="a north-up grid")
    if nodata is not None and (math.isnan(nodata) or nodata != int(nodata)):
        raise InputError.single(f"nodata value {nodata} is not an integer", file=file,
                                field=field, expected="an integer nodata value or none")
    return GridInfo(
        path=file, width=width, height=height, transform=tuple(transform)[:6],
        crs_wkt=crs.to_wkt(), crs_name=crs.to_string(), linear_unit_m=float(unit_m),
        dtype=str(dtype), nodata=None if nodata is None else float(nodata),
        block_shape=(int(block[0]), int(block[1])),
    )


def read_window(ds: Any, path: str, window: Window, field: str) -> NDArray[np.integer]:
    """Band 1 of ``window`` of the open dataset ``ds``.

    A block GDAL cannot decode (a truncated or corrupt file) is an :class:`InputError` naming the
    file and the rows.
    """
    try:
        data: NDArray[np.integer] = ds.read(1, window=window)
    except rasterio.errors.RasterioIOError as exc:
        rows = f"{int(window.row_off)}–{int(window.row_off + window.height) - 1}"
        raise InputError.single(
            f"rows {rows} cannot be read: the file is truncated or corrupt ({exc})",
            file=path, field=field, expected="a complete GeoTIFF (re-export or re-download "
            "it; gdalinfo -checksum reads every block)") from None
    return data


def check_same_grid(base: GridInfo, alt: GridInfo) -> None:
    """Raise :class:`InputError` unless ``alt`` has the baseline's CRS, size and transform."""
    if rasterio.crs.CRS.from_wkt(base.crs_wkt) != rasterio.crs.CRS.from_wkt(alt.crs_wkt):
        raise InputError.single(
            f"CRS {alt.crs_name} differs from the baseline's {base.crs_name} ({base.path})",
            file=alt.path, field="lulc_alt_path", expected="the baseline's CRS")
    if (alt.width, alt.height) != (base.width, base.height):
        raise InputError.single(
            f"is {alt.width} × {alt.height} pixels; the baseline ({base.path}) is "
            f"{base.width} × {base.height}", file=alt.path, field="lulc_alt_path",
            expected="the baseline's grid (resample/clip with gdalwarp -te -tr)")
    if not np.allclose(alt.transform, base.transform, rtol=0, atol=1e-6 * abs(base.transform[0])):
        raise InputError.single(
            f"grid origin/pixel size {alt.transform} differs from the baseline's "
            f"{base.transform} ({base.path})", file=alt.path, field="lulc_alt_path",
            expected="the baseline's grid (same origin and pixel size)")


def plan_windows(grid: GridInfo, target_pixels: int = 1 << 20,
                 out_tile: int = 512) -> list[Window]:
    """Windows covering the grid, of ≈ ``target_pixels`` each.

    Window edges fall on the input's internal blocks and on the output tiles
    (``out_tile`` px), so every block is read once and every output tile is written whole
    (a tile written in two parts would be compressed twice). Memory use of the model is a
    fixed multiple of the window size, whatever the raster's.
    """
    bh, bw = grid.block_shape
    # Input blocks larger than a tile: align on both; smaller ones (strips, 256² tiles): on
    # the output tiles only (a strip read twice costs little, a tile written twice a lot).
    step_h = math.lcm(bh, out_tile) if bh > out_tile else out_tile
    step_w = (math.lcm(bw, out_tile) if bw > out_tile else out_tile) if bw < grid.width \
        else grid.width
    if grid.width * step_h <= target_pixels or step_w >= grid.width:
        cols = grid.width
    else:
        cols = max(step_w, (target_pixels // step_h) // step_w * step_w)
    rows = max(step_h, (target_pixels // max(cols, 1)) // step_h * step_h)
    return [Window(c, r, min(cols, grid.width - c), min(rows, grid.height - r))
            for r in range(0, grid.height, rows) for c in range(0, grid.width, cols)]


def ordered_map(
    work: Callable[[_Item], _Result], items: Sequence[_Item], threads: int,
    progress: ProgressFn | None = None,
) -> Generator[tuple[_Item, _Result], None, None]:
    """Run ``work`` on every item on ``threads`` threads; yield ``(item, result)`` in order.

    At most ``threads + 1`` items are submitted and not yet yielded, so memory stays a fixed
    multiple of one window's whatever the raster's size; the results come in the order of
    ``items`` (the caller writes them as they come, e.g. window by window into one file).
    A caller that may stop before the end takes the results inside
    ``contextlib.closing(ordered_map(…))``: leaving it stops the pool (the items not started
    are cancelled, the running ones waited for) before the caller closes what ``work`` reads.

    Parameters
    ----------
    work : callable
        ``work(item)``, run in the pool (reading with GDAL and large NumPy operations release
        the GIL, so a few threads keep the CPUs busy).
    items : sequence
        What to run ``work`` on, e.g. the windows of :func:`plan_windows`.
    threads : int
        Threads of the pool (at least 1).
    progress : callable, optional
        ``progress(done, len(items))``, called after the caller has handled each result
        (when it asks for the next).

    Yields
    ------
    tuple
        ``(item, work(item))``, in the order of ``items``.

    Raises
    ------
    BaseException
        What ``work`` raised, at that item's turn; the items not yet started are cancelled
        and the running ones waited for.

    Examples
    --------
    >>> [(x, r) for x, r in ordered_map(lambda x: x * x, [3, 1, 2], threads=2)]
    [(3, 9), (1, 1), (2, 4)]
    """
    with ThreadPoolExecutor(max_workers=threads) as pool:
        it = iter(items)
        pending: deque[tuple[_Item, Future[_Result]]] = deque(
            (item, pool.submit(work, item)) for item in itertools.islice(it, threads + 1))
        done = 0
        try:
            while pending:
                item, future = pending.popleft()
                result = future.result()
                pending.extend((nxt, pool.submit(work, nxt)) for nxt in itertools.islice(it, 1))
                yield item, result
                done += 1
                if progress is not None:
                    progress(done, len(items))
        finally:
            for _, future in pending:
                future.cancel()


@dataclass(frozen=True)
class ClassLookup:
    """Dense look-up from raw cell value to class slot.

    Slots ``0..K−1`` are the table's classes (sorted by code), slot ``K`` is nodata and slot
    ``K+1`` a code absent from the table. ``index[value − offset]`` is the slot; values
    outside ``[offset, offset + len(index))`` are absent codes.
    """

    index: NDArray[np.intp]
    offset: int
    n_classes: int
    nodata: int | None

    @property
    def nodata_slot(self) -> int:
        """Return the slot that counts nodata pixels (just after the ``n_classes`` classes)."""
        return self.n_classes

    @property
    def unknown_slot(self) -> int:
        """Return the slot that counts pixels of a code the table of classes does not list."""
        return self.n_classes + 1

    def slots(self, codes: NDArray[np.integer], out: NDArray[np.intp] | None = None
              ) -> NDArray[np.intp]:
        """Class slot of every cell of ``codes`` (any integer dtype) [-].

        ``out`` (same shape, intp) is filled and returned when given: reusing buffers
        avoids the page faults of fresh allocations, a large share of the cost.
        """
        if codes.dtype.itemsize <= 2:
            # The table spans the whole dtype: one gather, no bounds check needed.
            unsigned = codes.view(np.dtype(f"u{codes.dtype.itemsize}"))
            if out is None:
                return np.take(self.index, unsigned.astype(np.intp), mode="clip")
            np.copyto(out, unsigned, casting="unsafe")
            return np.take(self.index, out, mode="clip", out=out)
        shifted = codes.astype(np.int64) - self.offset
        inside = (shifted >= 0) & (shifted < self.index.size)
        out = np.take(self.index, shifted, mode="clip")
        out[~inside] = self.unknown_slot
        if self.nodata is not None:
            out[codes == self.nodata] = self.nodata_slot
        return out


def build_lookup(codes: NDArray[np.int64], dtype: str, nodata: float | None,
                 file: str, field: str) -> ClassLookup:
    """Build the :class:`ClassLookup` of a raster of ``dtype`` for the table's ``codes``."""
    k = int(codes.size)
    info = np.iinfo(np.dtype(dtype))
    nod = None if nodata is None else int(nodata)
    if np.dtype(dtype).itemsize <= 2:
        size = 1 << (8 * np.dtype(dtype).itemsize)
        index = np.full(size, k + 1, dtype=np.intp)
        valid = (codes >= info.min) & (codes <= info.max)
        mask = size - 1
        index[codes[valid] & mask] = np.arange(k)[valid]
        if nod is not None:
            index[nod & mask] = k
        return ClassLookup(index=index, offset=0, n_classes=k, nodata=nod)
    lo, hi = int(codes.min()), int(codes.max())
    if hi - lo + 1 > MAX_LUT_SPAN:
        raise InputError.single(
            f"lucode values span {lo}…{hi}, more than {MAX_LUT_SPAN:,} codes", file=file,
            field=field, expected="land-cover codes within a range of 16 777 216")
    index = np.full(hi - lo + 1, k + 1, dtype=np.intp)
    index[codes - lo] = np.arange(k)
    if nod is not None and lo <= nod <= hi:
        index[nod - lo] = k
    return ClassLookup(index=index, offset=lo, n_classes=k, nodata=nod)
