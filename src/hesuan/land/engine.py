"""Block-by-block evaluation of a carbon run on this process.

The Dask engine, which runs the same kernel on workers, is in :mod:`hesuan.land.dask_engine`.

Each window is read, passed through the pure kernel (:func:`hesuan.land.kernel.process_block`:
codes in, counts and class maps out) and handed to the raster sink
(:class:`hesuan.land.outputs.RasterOutputs`), which owns every file format. Every total,
interval and regional figure is computed afterwards from the summed counts
(:mod:`hesuan.land.accounts`). Memory use is bounded by the window size
(:func:`hesuan.land.raster.plan_windows`).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
from numpy.typing import NDArray
from rasterio.windows import Window

from hesuan.land.kernel import BlockResult, Scratch, Tables, process_block
from hesuan.land.outputs import RasterOutputs
from hesuan.land.raster import ProgressFn, ordered_map, read_window


@dataclass(frozen=True)
class BlockSource:
    """Where the kernel's inputs come from: paths (opened per thread/worker) and zones."""

    base_path: str
    alt_path: str | None
    zone_shapes: tuple[tuple[Any, int], ...] | None
    transform: tuple[float, ...]

    def read(self, window: Window, handles: dict[str, Any]
             ) -> tuple[NDArray[np.integer], NDArray[np.integer] | None,
                        NDArray[np.integer] | None]:
        """Read the codes (and rasterize the zones) of one window."""
        def ds(path: str) -> Any:
            if path not in handles:
                handles[path] = rasterio.open(path)
            return handles[path]

        base = read_window(ds(self.base_path), self.base_path, window, "lulc_bas_path")
        alt = (read_window(ds(self.alt_path), self.alt_path, window, "lulc_alt_path")
               if self.alt_path else None)
        zones = None
        if self.zone_shapes is not None:
            from hesuan.land.regions import rasterize_window

            zones = rasterize_window(self.zone_shapes, window, self.transform)
        return base, alt, zones


def _run_one(source: BlockSource, tables: Tables, window: Window, maps: Sequence[str],
             local: threading.local, opened: list[dict[str, Any]],
             scratches: queue.Queue[Scratch]) -> BlockResult:
    if not hasattr(local, "handles"):
        local.handles = {}
        opened.append(local.handles)
    scratch = scratches.get()
    try:
        base, alt, zones = source.read(window, local.handles)
        return process_block(base, alt, zones, tables, window, maps, scratch)
    finally:
        scratches.put(scratch)


def run_local(source: BlockSource, tables: Tables, windows: Sequence[Window],
              sink: RasterOutputs | None, progress: ProgressFn | None = None,
              threads: int | None = None) -> NDArray[np.int64]:
    """Evaluate every window with a small thread pool; write in the calling thread.

    Reading and the kernel run in the pool (GDAL's reads and NumPy's large gathers release
    the GIL); the calling thread hands each window's class maps to ``sink`` in order. At
    most ``threads + 1`` windows are in flight.

    Returns
    -------
    [pixels] the summed count table (see :class:`hesuan.land.kernel.BlockResult`).
    """
    threads = threads or min(2, os.cpu_count() or 1)
    maps = sink.plan.maps if sink is not None else []
    local = threading.local()
    opened: list[dict[str, Any]] = []
    max_px = max(int(w.width) * int(w.height) for w in windows)
    scratches: queue.Queue[Scratch] = queue.Queue()
    for _ in range(threads):
        scratches.put(Scratch(max_px))
    total: NDArray[np.int64] | None = None

    def run_one(w: Window) -> BlockResult:
        return _run_one(source, tables, w, maps, local, opened, scratches)

    try:
        with contextlib.closing(ordered_map(run_one, windows, threads, progress)) as results:
            for _, result in results:
                total = result.counts if total is None else total + result.counts
                if sink is not None:
                    sink.write(result)
    finally:
        for handles in opened:
            for ds in handles.values():
                ds.close()
    assert total is not None  # plan_windows returns at least one window
    return total
