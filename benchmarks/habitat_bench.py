"""Benchmark of ``hesuan land habitat`` against InVEST's habitat-quality model.

Generates a synthetic 30 m case of each size (4 classes in 10 px patches, uint8; a road
grid every 250 px as a linear threat over 1.2 km, the urban class as an exponential threat
over 2.5 km), then runs each engine in its own process on the same inputs, ``--repeat``
times, alternating, and prints for each the median wall time, CPU time (user + system of
the process and its threads) and peak resident memory, and the ratios InVEST / hesuan
measured in the same run (the machine may be shared, so absolute times are noisy; the
ratios are the figures to compare). With InVEST, the two quality rasters are compared.

Usage::

    python benchmarks/habitat_bench.py --sizes 1000 3000 --invest-python /tmp/invest/bin/python
    python benchmarks/habitat_bench.py --sizes 20000 --repeat 1      # hesuan alone
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import rasterio
from rasterio.transform import from_origin

SENSITIVITY = ("lucode,name,habitat,roads,urban\n1,forest,1.0,0.8,0.9\n"
               "2,grassland,0.7,0.5,0.6\n3,cropland,0.3,0.3,0.4\n4,urban,0.0,0.0,0.0\n")


def make_case(folder: Path, n: int) -> None:
    """The case, written in strips of 1000 rows (memory bounded whatever ``n``)."""
    rng = np.random.default_rng(n)
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "crs": "EPSG:32650",
               "transform": from_origin(500000.0, 3400000.0, 30.0, 30.0), "tiled": True,
               "compress": "deflate", "bigtiff": "if_safer"}
    patches = rng.random((n // 10 + 1, n // 10 + 1))
    strip = 1000
    with rasterio.open(folder / "lulc.tif", "w", dtype="uint8", nodata=255, **profile) as l_ds, \
            rasterio.open(folder / "threat_roads.tif", "w", dtype="float32", **profile) as r_ds, \
            rasterio.open(folder / "threat_urban.tif", "w", dtype="float32", **profile) as u_ds:
        for r0 in range(0, n, strip):
            h = min(strip, n - r0)
            coarse = patches[r0 // 10: (r0 + h) // 10 + 1]
            lulc = (np.digitize(np.kron(coarse, np.ones((10, 10)))[:h, :n], [0.35, 0.6, 0.85])
                    .astype(np.uint8) + 1)
            roads = np.zeros((h, n), np.float32)
            roads[:, 125::250] = 1.0
            rows = np.arange(r0, r0 + h)
            roads[(rows % 250) == 125, :] = 1.0
            w = rasterio.windows.Window(0, r0, n, h)
            l_ds.write(lulc, 1, window=w)
            r_ds.write(roads, 1, window=w)
            u_ds.write((lulc == 4).astype("f4"), 1, window=w)
    (folder / "threats.csv").write_text(
        "threat,max_dist_km,weight,decay,raster\nroads,1.2,0.7,linear,threat_roads.tif\n"
        "urban,2.5,1.0,exponential,threat_urban.tif\n")
    (folder / "threats_invest.csv").write_text(
        "threat,max_dist,weight,decay,cur_path\nroads,1200,0.7,linear,threat_roads.tif\n"
        "urban,2500,1.0,exponential,threat_urban.tif\n")
    (folder / "sensitivity.csv").write_text(SENSITIVITY)


def make_case_apart(folder: Path, n: int) -> None:
    """:func:`make_case` in a child process, so that this process stays small.

    Linux counts in a child's peak resident memory the high-water mark of the process image
    its ``exec`` replaced (here this one's): a case made here (≈ 1.9 GB at 20000²) would show
    as every engine's peak.
    """
    child = multiprocessing.get_context("fork").Process(target=make_case, args=(folder, n))
    child.start()
    child.join()
    if child.exitcode:
        sys.exit(f"making the {n}² case failed (exit code {child.exitcode})")


class Run(NamedTuple):
    wall_s: float
    cpu_s: float
    peak_gb: float


def timed(cmd: list[str]) -> Run:
    """Wall time, CPU time and peak RSS of one child process (``os.wait4`` gives that
    child's own resource use)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{cmd[0]} failed:\n{err}")
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024 ** 2)


def invest_cmd(python: str, case: Path) -> list[str]:
    code = (
        "from natcap.invest.habitat_quality import habitat_quality as h\n"
        f"h.execute({{'workspace_dir': {str(case / 'invest')!r}, "
        "'results_suffix': '', 'n_workers': -1, "
        f"'lulc_cur_path': {str(case / 'lulc.tif')!r}, "
        f"'threats_table_path': {str(case / 'threats_invest.csv')!r}, "
        f"'sensitivity_table_path': {str(case / 'sensitivity.csv')!r}, "
        "'half_saturation_constant': 0.4})\n")
    return [python, "-c", code]


def hesuan_cmd(case: Path) -> list[str]:
    return [sys.executable, "-m", "hesuan", "land", "habitat", "--lulc",
            str(case / "lulc.tif"), "--threats", str(case / "threats.csv"),
            "--sensitivity", str(case / "sensitivity.csv"), "--half-saturation", "0.4",
            "--out", str(case / "hesuan"), "--overwrite", "--json"]


def max_difference(a: Path, b: Path) -> float:
    """Largest |a − b| over the pixels valid in both, read block by block."""
    worst = 0.0
    with rasterio.open(a) as da, rasterio.open(b) as db:
        for _, w in da.block_windows(1):
            x = da.read(1, window=w, masked=True)
            y = db.read(1, window=w, masked=True)
            if (x.mask != y.mask).any():
                return float("inf")
            if x.count():
                worst = max(worst, float(np.abs(x - y).max()))
    return worst


def median(runs: list[Run]) -> Run:
    return Run(*(statistics.median(v) for v in zip(*runs, strict=True)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000])
    p.add_argument("--repeat", type=int, default=3, help="runs of each engine (median)")
    p.add_argument("--invest-python", default=None,
                   help="python of a venv with natcap.invest (e.g. /tmp/invest/bin/python)")
    p.add_argument("--data", default=None, help="folder for the cases (default: a temporary "
                   "folder, removed afterwards)")
    args = p.parse_args()
    print(f"{'size':>6} {'engine':<7} {'wall s':>8} {'cpu s':>8} {'peak GB':>8}", flush=True)
    for n in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.data) as tmp:
            case = Path(tmp)
            make_case_apart(case, n)
            ours: list[Run] = []
            peer: list[Run] = []
            for _ in range(args.repeat):
                ours.append(timed(hesuan_cmd(case)))
                if args.invest_python:
                    # A fresh workspace each time: InVEST's task graph skips the tasks whose
                    # outputs an earlier run left.
                    shutil.rmtree(case / "invest", ignore_errors=True)
                    peer.append(timed(invest_cmd(args.invest_python, case)))
            h = median(ours)
            print(f"{n:>6} {'hesuan':<7} {h.wall_s:>8.2f} {h.cpu_s:>8.2f} {h.peak_gb:>8.2f}",
                  flush=True)
            if peer:
                i = median(peer)
                print(f"{n:>6} {'invest':<7} {i.wall_s:>8.2f} {i.cpu_s:>8.2f} "
                      f"{i.peak_gb:>8.2f}")
                diff = max_difference(case / "hesuan" / "quality.tif",
                                      case / "invest" / "quality_c.tif")
                print(f"{n:>6} invest / hesuan: {i.wall_s / h.wall_s:.2f}× wall, "
                      f"{i.cpu_s / h.cpu_s:.2f}× CPU; quality rasters differ by ≤ {diff:.1e}; "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
