"""The Dask engine: workers read, compute **and write** their own blocks.

The client never sees a pixel. It hands each worker a window and receives back only that
window's table of pixel counts per (zone, baseline class, alternate class), sent as its
non-zero entries. Every total, interval and regional figure is computed from the summed
counts (:mod:`hesuan.land.accounts`), exactly as the local engine does, so both engines
give the same numbers.

Rasters, in parallel steps, with no lock and no pixel through the client:

1. each window task runs the kernel and writes the window's class maps as small GeoTIFF
   tiles (``<staging>/.work/tiles/<map>/r<row>_c<col>.tif``);
2. once every window is done, one task per class map copies a VRT mosaic of its tiles
   (XML written by the client) into the class map GeoTIFF and adds its overviews;
3. one task per output raster derives it from its class map with GDAL
   (:func:`hesuan.land.outputs.to_cog`), as the local engine does.

Workers and client must share the output folder (and see the input maps), as on any cluster
with a shared file system.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import rasterio
import rasterio.shutil
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.land.engine import BlockSource
from hesuan.land.kernel import Scratch, Tables, process_block
from hesuan.land.outputs import CogJob, RasterOutputs, add_overviews, to_cog
from hesuan.land.raster import ProgressFn

_local = threading.local()


def tile_path(tile_dir: str | Path, tag: str, window: Window) -> Path:
    """Where a window task writes its tile of class map ``tag``."""
    return Path(tile_dir) / tag / f"r{int(window.row_off)}_c{int(window.col_off)}.tif"


def mosaic_vrt(sink: RasterOutputs, tag: str, windows: Sequence[Window], tile_dir: Path
               ) -> Path:
    """Return the VRT mosaic of class map ``tag``'s tiles (one SimpleSource per window)."""
    g = sink.grid
    a, b, c, d, e, f = g.transform
    dtype = {"uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32"}[
        sink.class_map_profile(tag)["dtype"]]
    sources = "".join(
        f"<SimpleSource><SourceFilename relativeToVRT=\"1\">{tag}/"
        f"r{int(w.row_off)}_c{int(w.col_off)}.tif</SourceFilename><SourceBand>1"
        f"</SourceBand><SrcRect xOff=\"0\" yOff=\"0\" xSize=\"{int(w.width)}\" "
        f"ySize=\"{int(w.height)}\"/><DstRect xOff=\"{int(w.col_off)}\" "
        f"yOff=\"{int(w.row_off)}\" xSize=\"{int(w.width)}\" ySize=\"{int(w.height)}\"/>"
        "</SimpleSource>\n" for w in windows)
    xml = (f"<VRTDataset rasterXSize=\"{g.width}\" rasterYSize=\"{g.height}\">\n"
           f"<SRS>{escape(g.crs_wkt)}</SRS>\n"
           f"<GeoTransform>{c!r}, {a!r}, {b!r}, {f!r}, {d!r}, {e!r}</GeoTransform>\n"
           f"<VRTRasterBand dataType=\"{dtype}\" band=\"1\">\n{sources}"
           "</VRTRasterBand>\n</VRTDataset>\n")
    path = tile_dir / f"{tag}.vrt"
    path.write_text(xml, encoding="utf-8")
    return path


def assemble(vrt: str, target: str, profile: dict[str, Any], factors: list[int]) -> str:
    """Worker side: copy the VRT mosaic ``vrt`` into the class map ``target``, with overviews."""
    prof = {k: v for k, v in profile.items()
            if k not in ("driver", "dtype", "count", "width", "height", "crs", "transform")}
    rasterio.shutil.copy(vrt, target, driver="GTiff", **prof)
    if factors:
        add_overviews(target, factors)
    return target


def write_tiles(maps: dict[str, NDArray[np.unsignedinteger]], window: Window,
                tile_dir: str, grid_transform: tuple[float, ...]) -> None:
    """Write one window of each class map as its own GeoTIFF tile (under a temporary name)."""
    transform = rasterio.Affine(*grid_transform) @ rasterio.Affine.translation(
        int(window.col_off), int(window.row_off))
    for tag, array in maps.items():
        path = tile_path(tile_dir, tag, window)
        tmp = path.with_name(path.name + ".partial")
        with rasterio.open(tmp, "w", driver="GTiff", width=int(window.width),
                           height=int(window.height), count=1, dtype=array.dtype.name,
                           transform=transform, compress="zstd", zstd_level=1) as ds:
            ds.write(array[None, :, :])
        os.replace(tmp, path)


def _scratch(max_pixels: int) -> Scratch:
    """Return the reusable buffers of the calling worker thread."""
    s: Scratch | None = getattr(_local, "scratch", None)
    if s is None or s.max_pixels < max_pixels:
        s = _local.scratch = Scratch(max_pixels)
    return s


def dask_task(source: BlockSource, tables: Tables, window: Window, maps: Sequence[str],
              tile_dir: str | None) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Worker side: read, compute and write one window; return its counts, sparse.

    Returns
    -------
    (flat indices, pixel counts) of the non-zero entries of the window's count table.
    """
    handles: dict[str, Any] = {}
    try:
        base, alt, zones = source.read(window, handles)
    finally:
        for ds in handles.values():
            ds.close()
    result = process_block(base, alt, zones, tables, window, maps,
                           _scratch(int(window.width) * int(window.height)))
    if tile_dir is not None:
        write_tiles(result.class_maps, window, tile_dir, source.transform)
    flat = result.counts.ravel()
    nz = np.flatnonzero(flat)
    return nz.astype(np.int64), flat[nz]


def run_dask(source: BlockSource, tables: Tables, windows: Sequence[Window],
             sink: RasterOutputs | None, count_shape: tuple[int, ...],
             progress: ProgressFn | None = None, scheduler: str | None = None,
             workers: int | None = None) -> tuple[NDArray[np.int64], dict[str, Path]]:
    """Evaluate every window as a Dask task that writes its own tiles.

    Sum the counts; then assemble each class map and derive each output raster on the workers.

    ``scheduler`` is a Dask scheduler address (its workers must see the input files and the
    output folder); without it a :class:`distributed.LocalCluster` of ``workers`` processes
    is started and stopped. At most ``4 × workers`` tasks are in flight.

    Returns
    -------
    The summed count table, of shape ``count_shape`` (see :func:`process_block`), and the
    staged path of each raster output (empty without ``sink``).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or min(4, os.cpu_count() or 1),
                               threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    tiles = sink.work / "tiles" if sink is not None else None
    maps = sink.plan.maps if sink is not None else []
    if tiles is not None:
        for tag in maps:
            (tiles / tag).mkdir(parents=True, exist_ok=True)
    tile_dir = str(tiles) if tiles is not None else None
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
        limit = 4 * n_workers
        remote_source = client.scatter(source, broadcast=True)
        remote_tables = client.scatter(tables, broadcast=True)

        def submit(w: Window) -> Any:
            return client.submit(dask_task, remote_source, remote_tables, w, maps, tile_dir,
                                 pure=False)

        it = iter(windows)
        # islice, not zip(it, range(limit)): zip would consume and drop one more window.
        queue = as_completed([submit(w) for w in itertools.islice(it, limit)])
        total = np.zeros(int(np.prod(count_shape)), dtype=np.int64)
        done = 0
        for done, fut in enumerate(queue, start=1):
            idx, values = fut.result()
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                queue.add(submit(nxt))
            total[idx] += values  # indices are unique within a window
            if progress:
                progress(done, len(windows))
        if done != len(windows):
            raise RuntimeError(f"Dask engine evaluated {done} of {len(windows)} windows")
        staged: dict[str, Path] = {}
        if sink is not None and tiles is not None:
            factors = sink.overview_factors()
            client.gather([client.submit(
                assemble, str(mosaic_vrt(sink, tag, windows, tiles)),
                str(sink.class_paths[tag]), sink.class_map_profile(tag), factors, pure=False)
                for tag in maps])
            shutil.rmtree(tiles, ignore_errors=True)

            def run_jobs(jobs: list[CogJob]) -> None:
                client.gather([client.submit(to_cog, job, pure=False) for job in jobs])

            staged = sink.finish(run_jobs, overviews=False)
        return total.reshape(count_shape), staged
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
