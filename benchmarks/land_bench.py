"""Benchmark of ``hesuan.land.carbon`` against InVEST and a plain NumPy baseline.

Generates synthetic 30 m LULC pairs (12 classes, patchy, uint8, tiled + deflate) of each
size, then runs, each in its own process (time = wall clock, memory = the process's peak
RSS from ``wait4``):

- ``hesuan-vrt``: full model with sequestration and valuation, all 12 rasters written in
  the default format (``raster_format="vrt"``): the three class maps as Cloud-Optimized
  GeoTIFFs with overviews and each of the 12 rasters as a GDAL VRT look-up of its class map;
- ``hesuan-cog``: the same with ``raster_format="cog"``: each of the 12 rasters a
  self-contained COG (GDAL's COG driver, ZSTD, overviews);
- ``hesuan-totals``: the same totals without rasters;
- ``hesuan-dask`` / ``hesuan-dask-totals`` (only with ``--only``): the same on
  ``--engine dask`` (a 2-worker-process LocalCluster started and stopped inside the run;
  workers write their own tiles), with and without rasters;
- ``numpy``: read both maps whole, ``lut[codes]``, sum — totals only, in memory;
- ``invest``: ``natcap.invest.carbon.execute`` with the same inputs (if ``--invest-python``
  points to the Python of a venv that has it; see docs/land.md).

``cpu s`` is user + system time of the process and its waited-for children; ``raster MB``
the size of every raster file the run wrote (GeoTIFFs and VRTs; hesuan: ZSTD COGs with
overviews, and VRTs; InVEST: its own defaults, LZW GeoTIFFs without overviews). Runs are
made one after the other, so a figure's neighbours in the table met the same load.

Usage::

    python benchmarks/land_bench.py --sizes 1000 4000 10000 --invest-python /tmp/invest/bin/python
    python benchmarks/land_bench.py --sizes 40000 --only hesuan-vrt hesuan-totals --keep
    python benchmarks/land_bench.py --sizes 4000 --only hesuan-vrt hesuan-totals hesuan-dask \
        hesuan-dask-totals
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

N_CLASSES = 12
PATCH_PX = 40

POOLS = "\n".join(
    ["lucode,c_above,c_below,c_soil,c_dead,c_above_sd,c_below_sd,c_soil_sd,c_dead_sd"]
    + [f"{k},{10 + 9 * k},{3 + 2 * k},{40 + 5 * k},{k % 4},{2 + k},{1 + 0.3 * k},{8 + k},0.5"
       for k in range(1, N_CLASSES + 1)]) + "\n"


def _hash_classes(rows: np.ndarray, cols: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic patchy classes 1..12 from coarse cell coordinates (no global state)."""
    h = (rows[:, None].astype(np.uint64) * np.uint64(0x9E3779B1)
         ^ cols[None, :].astype(np.uint64) * np.uint64(0x85EBCA77)
         ^ np.uint64(salt * 0xC2B2AE3D))
    h ^= h >> np.uint64(15)
    h *= np.uint64(0x2C1B3C6D)
    h ^= h >> np.uint64(12)
    return (h % np.uint64(N_CLASSES) + np.uint64(1)).astype(np.uint8)


def make_inputs(folder: Path, n: int) -> tuple[Path, Path, Path]:
    """Write base/alt LULC (n × n) and a pools CSV; block by block, bounded memory."""
    folder.mkdir(parents=True, exist_ok=True)
    base, alt, pools = folder / f"base_{n}.tif", folder / f"alt_{n}.tif", folder / "pools.csv"
    pools.write_text(POOLS)
    if base.exists() and alt.exists():
        return base, alt, pools
    prof = dict(driver="GTiff", width=n, height=n, count=1, dtype="uint8", nodata=0,
                crs="EPSG:32650", transform=from_origin(400_000, 3_500_000, 30, 30),
                tiled=True, blockxsize=256, blockysize=256, compress="deflate",
                bigtiff="if_safer", num_threads="all_cpus")
    rng = np.random.default_rng(n)
    step = 1024
    with rasterio.open(base, "w", **prof) as b, rasterio.open(alt, "w", **prof) as a:
        for r in range(0, n, step):
            h = min(step, n - r)
            rows = np.arange(r, r + h) // PATCH_PX
            cols = np.arange(n) // PATCH_PX
            cls = np.repeat(np.repeat(_hash_classes(np.unique(rows), np.unique(cols), 1),
                                      PATCH_PX, 0), PATCH_PX, 1)
            off = r - rows[0] * PATCH_PX
            cls = cls[off:off + h, :n]
            speck = rng.random((h, n)) < 0.03
            cls[speck] = rng.integers(1, N_CLASSES + 1, int(speck.sum()), dtype=np.uint8)
            change = _hash_classes(np.unique(rows), np.unique(cols), 2)
            change = np.repeat(np.repeat(change, PATCH_PX, 0), PATCH_PX, 1)[off:off + h, :n]
            new = np.where(change <= 3, change, cls)  # about 1/4 of patches change class
            b.write(cls, 1, window=Window(0, r, n, h))
            a.write(new, 1, window=Window(0, r, n, h))
    return base, alt, pools


def _measure(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; return wall seconds, peak RSS [GB], CPU seconds (user + sys), stdout.

    Peak RSS is the largest of the process and of its waited-for children (Dask workers,
    InVEST's taskgraph), as the kernel reports them to ``wait4``.
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {stderr[-2000:]}")
    peak_kb = max(usage.ru_maxrss, _child_peak_kb(stdout))
    return seconds, peak_kb / 1e6, usage.ru_utime + usage.ru_stime, stdout


def _child_peak_kb(stdout: str) -> float:
    for line in stdout.splitlines()[::-1]:
        if line.startswith("PEAK_KB "):
            return float(line.split()[1])
    return 0.0


# Printed by every measured program: its own peak RSS and its children's [kB].
_PEAK = ("import resource as _r; print('PEAK_KB', max(_r.getrusage(_r.RUSAGE_SELF).ru_maxrss,"
         " _r.getrusage(_r.RUSAGE_CHILDREN).ru_maxrss))")


def hesuan_cmd(base: Path, alt: Path, pools: Path, out: Path, rasters: bool,
               engine: str = "local", raster_format: str = "vrt") -> list[str]:
    code = (
        "from hesuan.land.carbon import run, Valuation\n"
        f"r = run({str(base)!r}, {str(pools)!r}, {str(out)!r}, alt={str(alt)!r}, "
        "valuation=Valuation(43, -7.1, 2.8, 2016, 2030), "
        f"write_rasters={rasters}, engine={engine!r}, raster_format={raster_format!r})\n"
        "print('TOTALS', r.storage_base_t_c, r.storage_alt_t_c, r.sequestration_t_c)\n" + _PEAK)
    return [sys.executable, "-c", code]


def numpy_cmd(base: Path, alt: Path) -> list[str]:
    code = (
        "import numpy as np, rasterio\n"
        f"lut = np.zeros(256); d = np.loadtxt({str(Path(base).parent / 'pools.csv')!r}, "
        "delimiter=',', skiprows=1)\n"
        "lut[d[:, 0].astype(int)] = d[:, 1:5].sum(axis=1)\n"
        f"b = rasterio.open({str(base)!r}); a = rasterio.open({str(alt)!r})\n"
        "area = abs(b.transform.a * b.transform.e) / 1e4\n"
        "sb = lut[b.read(1)].sum() * area; sa = lut[a.read(1)].sum() * area\n"
        "print('TOTALS', sb, sa, sa - sb)\n" + _PEAK)
    return [sys.executable, "-c", code]


def invest_cmd(python: str, base: Path, alt: Path, pools: Path, out: Path) -> list[str]:
    code = (
        "import natcap.invest.carbon as c, csv, os\n"
        f"c.execute(dict(workspace_dir={str(out)!r}, results_suffix='', n_workers=-1, "
        f"lulc_bas_path={str(base)!r}, calc_sequestration=True, lulc_alt_path={str(alt)!r}, "
        f"carbon_pools_path={str(pools)!r}, lulc_bas_year=2016, lulc_alt_year=2030, "
        "do_valuation=True, price_per_metric_ton_of_c=43, discount_rate=-7.1, rate_change=2.8))\n"
        "print('DONE')\n" + _PEAK)
    return [python, "-c", code]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000])
    p.add_argument("--invest-python", default=None,
                   help="python of a venv with natcap.invest (e.g. /tmp/invest/bin/python)")
    p.add_argument("--only", nargs="+",
                   default=["hesuan-vrt", "hesuan-cog", "hesuan-totals", "numpy", "invest"])
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--keep", action="store_true", help="keep the generated files")
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="land_bench_"))
    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs; python {platform.python_version()}; work dir {work}")
    print(f"{'size':>7} {'run':>14} {'seconds':>9} {'cpu s':>7} {'peak GB':>8} "
          f"{'vs numpy':>9} {'invest/x':>9} {'cpu inv/x':>9} {'raster MB':>9} {'load':>5}  "
          "totals")
    rows = []
    for n in args.sizes:
        t0 = time.perf_counter()
        base, alt, pools = make_inputs(work / "inputs", n)
        print(f"{n:>7} {'(generate)':>14} {time.perf_counter() - t0:9.1f}   load average "
              f"{os.getloadavg()[0]:.1f} (other processes share the CPUs)", flush=True)
        results: dict[str, tuple[float, float, float, str, float, float]] = {}
        for name in args.only:
            out = work / f"out_{name}_{n}"
            shutil.rmtree(out, ignore_errors=True)
            if name == "hesuan-vrt":
                cmd = hesuan_cmd(base, alt, pools, out, True, raster_format="vrt")
            elif name == "hesuan-cog":
                cmd = hesuan_cmd(base, alt, pools, out, True, raster_format="cog")
            elif name == "hesuan-totals":
                cmd = hesuan_cmd(base, alt, pools, out, False)
            elif name == "hesuan-dask":
                cmd = hesuan_cmd(base, alt, pools, out, True, engine="dask", raster_format="vrt")
            elif name == "hesuan-dask-totals":  # cluster start-up + kernel, no raster written
                cmd = hesuan_cmd(base, alt, pools, out, False, engine="dask")
            elif name == "numpy":
                cmd = numpy_cmd(base, alt)
            elif name == "invest" and args.invest_python:
                cmd = invest_cmd(args.invest_python, base, alt, pools, out)
            else:
                continue
            sec, gb, cpu, stdout = _measure(cmd)
            totals = next((ln[7:] for ln in stdout.splitlines() if ln.startswith("TOTALS")), "")
            tif_mb = sum(f.stat().st_size for f in out.rglob("*") if f.suffix in (".tif", ".vrt")
                         ) / 1e6 if out.exists() else 0.0  # every raster file written
            # 1-minute load average at the end of the run: the other jobs' share of the CPUs.
            results[name] = (sec, gb, cpu, totals, tif_mb, os.getloadavg()[0])
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
        for name, (sec, gb, cpu, totals, tif_mb, load) in results.items():
            vs_np = sec / results["numpy"][0] if "numpy" in results else float("nan")
            vs_inv = results["invest"][0] / sec if "invest" in results else float("nan")
            cpu_inv = results["invest"][2] / cpu if "invest" in results else float("nan")
            print(f"{n:>7} {name:>14} {sec:9.2f} {cpu:7.2f} {gb:8.2f} {vs_np:9.2f} "
                  f"{vs_inv:9.1f} {cpu_inv:9.1f} {tif_mb:9.1f} {load:5.1f}  {totals}",
                  flush=True)
            rows.append({"size": n, "run": name, "seconds": sec, "cpu_seconds": cpu,
                         "peak_gb": gb, "ratio_to_numpy": vs_np, "invest_over_this": vs_inv,
                         "invest_cpu_over_this": cpu_inv, "rasters_mb": tif_mb,
                         "load_average": load})
    (work / "land_bench.json").write_text(json.dumps(rows, indent=2))
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
