"""Block-by-block evaluation of the carbon maps on this process (the Dask engine, which
reuses this kernel, is in :mod:`hesuan.land.dask_engine`).

One pure kernel, :func:`process_block`, turns a window of LULC codes into the output
densities and a table of pixel counts per (zone, baseline class, alternate class). Every
total, interval and regional figure is computed afterwards from those counts (see
:mod:`hesuan.land.equations`), so the rasters never need to be summed or held in memory.
Memory use is bounded by the window size (:func:`hesuan.land.raster.plan_windows`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.errors import InputError
from hesuan.land.raster import ClassLookup, GridInfo
from hesuan.land.spec import NODATA_F32, POOLS
from hesuan.land.zstd_tiles import TileFile, encode_template

ProgressFn = Callable[[int, int], None]

#: Creation options of every output GeoTIFF: tiled, ZSTD-compressed, BigTIFF when needed.
#: The local engine writes the tiles itself (:mod:`hesuan.land.zstd_tiles`: one parse of
#: each class map per tile, shared by every raster of that map; whole run with 12 rasters at
#: 10000², same session on 2 busy cores: 11.2–12.5 → 4.3–5.5 CPU s, for files ≈ 2.6× larger
#: than GDAL's ZSTD level 1 and ≈ 1.5× InVEST's LZW); the Dask engine lets GDAL compress
#: with these options.
GTIFF_PROFILE: dict[str, Any] = {
    "driver": "GTiff", "dtype": "float32", "count": 1, "nodata": NODATA_F32,
    "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "zstd",
    "zstd_level": 1, "bigtiff": "if_safer",
}


@dataclass(frozen=True)
class Tables:
    """Everything the kernel needs besides the codes: look-ups and per-slot values.

    ``pool_lut`` [t C/ha] has shape ``(4, K+2)``: slot ``K`` (nodata) holds the output
    nodata, slot ``K+1`` (absent code) 0 — an absent code stops the run anyway.
    ``change_lut`` [t C/ha] and ``npv_lut`` [currency/ha] are indexed by the pair slot
    ``s_bas × (K+2) + s_alt`` and hold nodata where either slot is nodata.
    """

    lookup: ClassLookup
    pool_lut: NDArray[np.float32]
    total_lut: NDArray[np.float32]
    change_lut: NDArray[np.float32] | None
    npv_lut: NDArray[np.float32] | None
    n_zones: int
    write_pools: bool
    write_rasters: bool
    #: pair slot → value class: pairs with bit-identical ``change_lut`` and ``npv_lut``
    #: values share a class (e.g. every unchanged pixel), so the pair rasters are encoded
    #: from a map with far fewer classes; ``*_by_class`` are the look-ups by class
    pair_class: NDArray[np.intp] | None = None
    change_by_class: NDArray[np.float32] | None = None
    npv_by_class: NDArray[np.float32] | None = None

    @property
    def n_slots(self) -> int:
        return self.lookup.n_classes + 2

    def raster_luts(self, has_alt: bool) -> dict[str, tuple[str, NDArray[np.float32]]]:
        """Each output raster as (class map, look-up): ``raster = lut[slots of the map]``.

        The maps are ``bas``/``alt`` (slots of one map) and ``pair`` (the value class
        ``pair_class[s_bas × (K+2) + s_alt]``); the look-ups hold [t C/ha] (``npv_alt``:
        [currency/ha]).
        """
        out: dict[str, tuple[str, NDArray[np.float32]]] = {}
        for tag in ("bas", "alt") if has_alt else ("bas",):
            if self.write_pools:
                for p, pool in enumerate(POOLS):
                    out[f"{pool}_{tag}"] = (tag, self.pool_lut[p])
            out[f"c_storage_{tag}"] = (tag, self.total_lut)
        if has_alt and self.change_by_class is not None:
            out["c_change_bas_alt"] = ("pair", self.change_by_class)
            if self.npv_by_class is not None:
                out["npv_alt"] = ("pair", self.npv_by_class)
        return out


def make_tables(lookup: ClassLookup, density_t_c_per_ha: NDArray[np.float64],
                has_alt: bool, npv_per_t_c: float | None, n_zones: int,
                write_pools: bool = True, write_rasters: bool = True) -> Tables:
    """Build the per-slot look-ups from the class densities [t C/ha] (shape ``(K, 4)``)."""
    k = lookup.n_classes
    pool = np.zeros((len(POOLS), k + 2), dtype=np.float64)
    pool[:, :k] = density_t_c_per_ha.T
    pool[:, k] = NODATA_F32
    total = np.zeros(k + 2)
    # Pools are summed in float64 before one rounding to float32 (InVEST sums float32 rasters).
    total[:k] = density_t_c_per_ha.sum(axis=1)
    total[k] = NODATA_F32
    change = npv = None
    if has_alt:
        d = total[: k]
        pair = np.full((k + 2, k + 2), NODATA_F32)
        pair[:k, :k] = d[None, :] - d[:, None]  # c_change = alternate − baseline
        change = pair.ravel().astype(np.float32)
        if npv_per_t_c is not None:
            value = np.full((k + 2, k + 2), NODATA_F32)
            value[:k, :k] = pair[:k, :k] * npv_per_t_c
            npv = value.ravel().astype(np.float32)
    pair_class = change_by_class = npv_by_class = None
    if change is not None:
        bits = [change.view(np.uint32)] + ([npv.view(np.uint32)] if npv is not None else [])
        keys, inverse = np.unique(np.stack(bits, axis=1), axis=0, return_inverse=True)
        pair_class = inverse.reshape(-1).astype(np.intp)
        change_by_class = np.ascontiguousarray(keys[:, 0]).view(np.float32)
        if npv is not None:
            npv_by_class = np.ascontiguousarray(keys[:, 1]).view(np.float32)
    return Tables(lookup, pool.astype(np.float32), total.astype(np.float32), change, npv,
                  n_zones, write_pools, write_rasters, pair_class, change_by_class,
                  npv_by_class)


@dataclass
class BlockResult:
    """Output of the kernel for one window."""

    window: Window
    counts: NDArray[np.int64]
    rasters: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    #: compressed tiles ``{output: [((tile row, tile column), bytes), …]}`` (``tile`` given)
    tiles: dict[str, list[tuple[tuple[int, int], bytes]]] = field(default_factory=dict)
    scratch: Scratch | None = None  # buffers behind ``rasters``, returned to the pool


class Scratch:
    """Reusable buffers for the kernel's arrays (one set per block in flight).

    Fresh arrays of several MB cost page faults on every block (glibc returns them to the
    system); reusing a fixed set cuts the kernel's CPU time by about 40 % and fixes its memory.
    """

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self._buffers: dict[str, NDArray] = {}

    def get(self, name: str, shape: tuple[int, int], dtype: type) -> NDArray:
        size = shape[0] * shape[1]
        buf = self._buffers.get(name)
        if buf is None or buf.dtype != np.dtype(dtype) or buf.size < size:
            buf = np.empty(max(size, self.max_pixels), dtype=dtype)
            self._buffers[name] = buf
        return buf[:size].reshape(shape)


def process_block(base: NDArray, alt: NDArray | None, zones: NDArray | None,
                  tables: Tables, window: Window, scratch: Scratch | None = None,
                  tile: int | None = None) -> BlockResult:
    """The kernel: class slots, densities and counts of one window.

    Parameters
    ----------
    base, alt : [LULC code] 2-D arrays of the window (``alt`` None without an alternate map)
    zones : [-] zone number of each pixel (0 = outside every region), or None
    tables : the look-ups of :func:`make_tables`
    tile : [pixels] with it, the rasters come back as compressed ``tile`` × ``tile`` GeoTIFF
        tiles (:mod:`hesuan.land.zstd_tiles`; the window must start on the tile grid)
        instead of arrays

    Returns
    -------
    BlockResult
        ``counts`` has shape ``(Z+1, K+2, K+2)`` (last axis 1 without an alternate map):
        pixels per zone, baseline slot and alternate slot. ``rasters`` maps output ids
        (``c_above_bas`` …, ``c_storage_bas``, ``c_change_bas_alt``, ``npv_alt``) to
        float32 densities (views of ``scratch`` when given: valid until its reuse).
    """
    lk = tables.lookup
    n = tables.n_slots
    shape = base.shape

    def buf(name: str, dtype: type) -> NDArray | None:
        return None if scratch is None else scratch.get(name, shape, dtype)

    if (tile is not None and tables.write_rasters and zones is None and lk.index.size == 256
            and base.dtype.itemsize == 1 and (alt is None or alt.dtype.itemsize == 1)):
        return _process_bytes(base, alt, tables, window, tile,
                              buf("key", np.uint16) if alt is not None else None)

    def take(lut: NDArray, idx: NDArray, name: str) -> NDArray:
        out = buf(name, np.float32)
        return np.take(lut, idx, mode="clip", out=out)

    sb = lk.slots(base, buf("slots_bas", np.intp))
    sa = lk.slots(alt, buf("slots_alt", np.intp)) if alt is not None else None
    # The absent-code slot is the largest, so a max() finds it without a mask.
    for which, codes, slots in (("baseline", base, sb), ("alternate", alt, sa)):
        if slots is not None and codes is not None and slots.max() == lk.unknown_slot:
            values = codes[slots == lk.unknown_slot]
            raise _AbsentCodes(which, np.unique(values)[:50].tolist(), window)
    rasters: dict[str, NDArray[np.float32]] = {}
    scenarios = [("bas", sb)] + ([("alt", sa)] if sa is not None else [])
    if tables.write_rasters and tile is None:
        for tag, slots in scenarios:
            if tables.write_pools:
                for p, pool in enumerate(POOLS):
                    name = f"{pool}_{tag}"
                    rasters[name] = take(tables.pool_lut[p], slots, name)
            rasters[f"c_storage_{tag}"] = take(tables.total_lut, slots, f"c_storage_{tag}")
    if sa is not None:
        pair_buf = buf("pair", np.intp)
        pair = np.multiply(sb, n, out=pair_buf) if pair_buf is not None else sb * n
        pair += sa
        if tables.write_rasters and tile is None and tables.change_lut is not None:
            rasters["c_change_bas_alt"] = take(tables.change_lut, pair, "c_change_bas_alt")
            if tables.npv_lut is not None:
                rasters["npv_alt"] = take(tables.npv_lut, pair, "npv_alt")
        per_zone, key = n * n, pair
    else:
        per_zone, key = n, sb
    if zones is not None:
        key = key + zones.astype(np.intp) * per_zone
    counts = np.bincount(key.ravel(), minlength=(tables.n_zones + 1) * per_zone)
    c_shape = (tables.n_zones + 1, n, n if sa is not None else 1)
    tiles: dict[str, list[tuple[tuple[int, int], bytes]]] = {}
    if tables.write_rasters and tile is not None:
        maps = dict(scenarios)
        n_values = n
        if sa is not None and tables.pair_class is not None \
                and tables.change_by_class is not None:
            maps["pair"] = np.take(tables.pair_class, pair, mode="clip")
            n_values = max(n, tables.change_by_class.size)
        tiles = encode_tiles(maps, tables.raster_luts(sa is not None), window, tile, n_values)
    return BlockResult(window, counts.reshape(c_shape).astype(np.int64), rasters, tiles)


def _process_bytes(base: NDArray, alt: NDArray | None, tables: Tables, window: Window,
                   tile: int, key_buf: NDArray | None) -> BlockResult:
    """:func:`process_block` for one-byte land-cover codes, without zones, writing tiles.

    Works on the codes themselves: pixel counts per (baseline code, alternate code) — one
    ``bincount`` of ``code_bas × 256 + code_alt`` — are mapped to class slots afterwards
    (65 536 entries instead of every pixel), and the tiles are encoded from the code maps
    (equal codes ⇔ equal classes) with look-ups indexed by code. Same results as the
    general path (tests/land/test_tiled_outputs.py).
    """
    lk = tables.lookup
    n = tables.n_slots
    index = lk.index
    b8 = np.ascontiguousarray(base).view(np.uint8)
    if alt is None:
        per_code = np.bincount(b8.ravel(), minlength=256)
        present = [("baseline", base, per_code)]
        slot_key = index
    else:
        a8 = np.ascontiguousarray(alt).view(np.uint8)
        key = np.empty(b8.shape, np.uint16) if key_buf is None else key_buf
        np.copyto(key, b8, casting="unsafe")
        np.left_shift(key, 8, out=key)
        np.bitwise_or(key, a8, out=key)
        per_code = np.bincount(key.ravel(), minlength=65536)
        pc = per_code.reshape(256, 256)
        present = [("baseline", base, pc.sum(axis=1)), ("alternate", alt, pc.sum(axis=0))]
        slot_key = (index[:, None] * n + index[None, :]).ravel()
    for which, codes, count in present:
        absent = np.flatnonzero((count > 0) & (index == lk.unknown_slot))
        if absent.size:
            values = np.unique(codes[np.isin(codes.view(np.uint8), absent)])
            raise _AbsentCodes(which, values[:50].tolist(), window)
    counts = np.bincount(slot_key, weights=per_code, minlength=n * (n if alt is not None else 1))
    c_shape = (1, n, n if alt is not None else 1)
    luts = {name: (tag, lut if tag == "pair" else np.take(lut, index, mode="clip"))
            for name, (tag, lut) in tables.raster_luts(alt is not None).items()}
    maps: dict[str, NDArray] = {"bas": b8}
    n_values = 256
    if alt is not None:
        maps["alt"] = a8
        if tables.pair_class is not None and tables.change_by_class is not None:
            by_codes = tables.pair_class[slot_key]
            n_values = max(n_values, tables.change_by_class.size)
            maps["pair"] = np.take(by_codes.astype(np.uint8 if n_values <= 256 else np.uint16),
                                   key)
    tiles = encode_tiles(maps, luts, window, tile, n_values)
    return BlockResult(window, counts.reshape(c_shape).astype(np.int64), {}, tiles)


def encode_tiles(maps: dict[str, NDArray], luts: dict[str, tuple[str, NDArray[np.float32]]],
                 window: Window, tile: int, n_values: int | None = None
                 ) -> dict[str, list[tuple[tuple[int, int], bytes]]]:
    """Compressed GeoTIFF tiles of every output raster of a window.

    Each class map is parsed once per tile (:func:`hesuan.land.zstd_tiles.encode_template`)
    and every raster of that map is rendered from it with its look-up. Tiles that stick
    out of the map are padded by repeating the edge pixels (GeoTIFF tiles are whole).
    ``n_values`` bounds the slots of every map (``0 ≤ slot < n_values``) when known.
    """
    r0, c0 = int(window.row_off), int(window.col_off)
    if r0 % tile or c0 % tile:
        raise ValueError(f"window {window} does not start on the {tile}-pixel tile grid")
    out: dict[str, list[tuple[tuple[int, int], bytes]]] = {name: [] for name in luts}
    for tag, slots in maps.items():
        names = [(name, lut) for name, (m, lut) in luts.items() if m == tag]
        if not names:
            continue
        top = n_values - 1 if n_values is not None else int(slots.max(initial=0))
        small = slots.astype(np.uint8 if top < 256 else np.uint16 if top < 65536 else np.int64,
                             copy=False)
        h, w = small.shape
        for i in range(0, h, tile):
            for j in range(0, w, tile):
                part = small[i: i + tile, j: j + tile]
                if part.shape != (tile, tile):
                    part = np.pad(part, ((0, tile - part.shape[0]), (0, tile - part.shape[1])),
                                  mode="edge")
                tpl = encode_template(part)
                key = ((r0 + i) // tile, (c0 + j) // tile)
                for name, lut in names:
                    out[name].append((key, tpl.render(lut)))
    return out


class _AbsentCodes(Exception):
    """Raised by the kernel; turned into an InputError naming the file by the caller."""

    def __init__(self, which: str, codes: list[int], window: Window) -> None:
        super().__init__(which, codes, window)
        self.which, self.codes, self.window = which, codes, window

    def __reduce__(self):
        return (self.__class__, (self.which, self.codes, self.window))


def absent_codes_error(exc: _AbsentCodes, base: GridInfo, alt: GridInfo | None,
                       pools_path: str) -> InputError:
    """The user-facing error for LULC codes that the pools table lacks."""
    grid = base if exc.which == "baseline" or alt is None else alt
    w = exc.window
    return InputError.single(
        f"land-cover code(s) {', '.join(str(c) for c in exc.codes)} (first seen in rows "
        f"{w.row_off}–{w.row_off + w.height - 1}) are not in the pools table {pools_path}",
        file=grid.path, field="lucode",
        expected="every code of the map listed in the pools table's lucode column, "
                 "or set as the raster's nodata value")


def output_paths(out_dir: Path, names: Sequence[str]) -> tuple[dict[str, Path],
                                                                dict[str, Path]]:
    """Final and temporary (hidden, ``.partial``) paths of the output GeoTIFFs."""
    return ({name: out_dir / f"{name}.tif" for name in names},
            {name: out_dir / f".{name}.tif.partial" for name in names})


def output_profile(grid: GridInfo, profile: dict[str, Any] | None = None) -> dict[str, Any]:
    """The creation profile of an output GeoTIFF on ``grid`` (tiles shrunk for small maps)."""
    prof = dict(GTIFF_PROFILE if profile is None else profile)
    prof.update(width=grid.width, height=grid.height, crs=grid.crs_wkt,
                transform=rasterio.Affine(*grid.transform))
    if grid.width < prof["blockxsize"] or grid.height < prof["blockysize"]:
        prof["blockxsize"] = prof["blockysize"] = 256 if min(
            grid.width, grid.height) >= 256 else 16 * max(1, min(grid.width, grid.height) // 16)
    return prof


class OutputRasters:
    """The output GeoTIFFs of a run, written under temporary names and renamed at the end.

    The kernel hands over compressed tiles (:func:`encode_tiles`); this class appends them
    to their files (:class:`hesuan.land.zstd_tiles.TileFile`) in the calling thread — no
    pixel is compressed here, so writing is plain file I/O.
    """

    def __init__(self, out_dir: Path, names: Sequence[str], grid: GridInfo,
                 profile: dict[str, Any] | None = None, threads: int | None = None,
                 units: dict[str, str] | None = None) -> None:
        self.final, self.tmp = output_paths(out_dir, names)
        prof = output_profile(grid, profile)
        self.tile = int(prof["blockxsize"])
        out_dir.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, TileFile] = {}
        try:
            for n in names:
                tags = {"units": units[n]} if units and n in units else {}
                self.files[n] = TileFile(self.tmp[n], prof, tags)
        except BaseException:
            self.abort()
            raise

    def write(self, block: BlockResult) -> BlockResult | None:
        """Append ``block``'s tiles; return the block (nothing of it is kept)."""
        for name, tiles in block.tiles.items():
            f = self.files[name]
            for (row, col), data in tiles:
                f.write_tile(row * f.tiles_across + col, data)
        return block

    def flush(self) -> BlockResult | None:
        return None

    def commit(self, units: dict[str, str] | None = None) -> dict[str, Path]:
        """Finish every file and rename it into place (units were tagged at creation)."""
        for f in self.files.values():
            f.close()
        for name in self.files:
            os.replace(self.tmp[name], self.final[name])
        return dict(self.final)

    def abort(self) -> None:
        for f in self.files.values():
            f.abort()
        for path in self.tmp.values():
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class BlockSource:
    """Where the kernel's inputs come from: paths (opened per thread/worker) and zones."""

    base_path: str
    alt_path: str | None
    zone_shapes: tuple[tuple[Any, int], ...] | None
    transform: tuple[float, ...]

    def read(self, window: Window, handles: dict[str, Any]) -> tuple[NDArray, NDArray | None,
                                                                       NDArray | None]:
        """Read the codes (and rasterize the zones) of one window."""
        def ds(path: str) -> Any:
            if path not in handles:
                handles[path] = rasterio.open(path)
            return handles[path]

        base = ds(self.base_path).read(1, window=window)
        alt = ds(self.alt_path).read(1, window=window) if self.alt_path else None
        zones = None
        if self.zone_shapes is not None:
            from hesuan.land.regions import rasterize_window

            zones = rasterize_window(self.zone_shapes, window, self.transform)
        return base, alt, zones


def _run_one(source: BlockSource, tables: Tables, window: Window,
             local: threading.local, opened: list[dict[str, Any]],
             scratches: queue.Queue[Scratch], tile: int | None = None) -> BlockResult:
    if not hasattr(local, "handles"):
        local.handles = {}
        opened.append(local.handles)
    scratch = scratches.get()
    try:
        base, alt, zones = source.read(window, local.handles)
        result = process_block(base, alt, zones, tables, window, scratch, tile)
    except BaseException:
        scratches.put(scratch)
        raise
    result.scratch = scratch
    return result


def run_local(source: BlockSource, tables: Tables, windows: Sequence[Window],
              sink: OutputRasters | None, progress: ProgressFn | None = None,
              threads: int | None = None) -> NDArray[np.int64]:
    """Evaluate every window with a small thread pool; write in the calling thread.

    Reading and the kernel run in the pool (GDAL's reads and NumPy's large gathers release
    the GIL), appending the compressed tiles in the calling thread. At most ``threads + 1``
    windows are in flight.
    """
    tile = sink.tile if sink is not None else None
    # Tile encoding is many small NumPy calls that hold the GIL: a second compute thread
    # mostly adds contention (measured at 10000² on 2 busy cores: 6.1–6.7 vs 4.7–6.2 CPU s,
    # the same wall time), so it gets one; the calling thread writes meanwhile.
    threads = threads or (1 if tile is not None else min(4, os.cpu_count() or 1))
    local = threading.local()
    opened: list[dict[str, Any]] = []
    # Buffer sets: threads + 1 blocks computing, one being written, one just written.
    max_px = max(int(w.width) * int(w.height) for w in windows)
    scratches: queue.Queue[Scratch] = queue.Queue()
    for _ in range(threads + 3):
        scratches.put(Scratch(max_px))

    def release(block: BlockResult | None) -> None:
        if block is not None and block.scratch is not None:
            scratches.put(block.scratch)
            block.scratch = None

    total: NDArray[np.int64] | None = None
    done = 0
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            pending: list[Future[BlockResult]] = []
            it: Iterator[Window] = iter(windows)
            for w in it:
                pending.append(pool.submit(_run_one, source, tables, w, local, opened,
                                           scratches, tile))
                if len(pending) > threads:
                    break
            while pending:
                try:
                    result = pending.pop(0).result()
                except BaseException:
                    for f in pending:
                        f.cancel()
                    raise
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(_run_one, source, tables, nxt, local, opened,
                                               scratches, tile))
                total = result.counts if total is None else total + result.counts
                release(sink.write(result) if sink is not None else result)
                done += 1
                if progress:
                    progress(done, len(windows))
            if sink is not None:
                release(sink.flush())
    finally:
        for handles in opened:
            for ds in handles.values():
                ds.close()
    assert total is not None  # plan_windows returns at least one window
    return total
