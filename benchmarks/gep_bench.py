"""Benchmark of the GEP regulating services on rasters against plain in-memory NumPy.

Generates, for each size n, an n × n ecosystem map (6 types, patchy, uint8) and the eight
float32 driver rasters (precipitation, storm runoff, ET, R, K, LS, NEP, water-surface
evaporation), tiled 512², uncompressed, with a nodata block. Then runs, each in its own
process (time = wall clock; cpu = user + system; memory = the process's peak RSS):

- ``hesuan``: :func:`hesuan.land.gep.raster.run_regulating` — the full regulating set
  (water conservation, soil retention, carbon, oxygen, transpiration and evaporation
  cooling), totals per ecosystem type, block by block, no maps;
- ``hesuan-maps``: the same, writing the six service maps (tiled ZSTD GeoTIFFs);
- ``hesuan-dask`` (with ``--only``): the same totals on a 2-process Dask LocalCluster;
- ``numpy``: read every raster whole, the same arithmetic on whole float64 arrays (the same
  nodata masks), ``bincount`` per type — the limit a block engine can approach.

The ratio printed is hesuan / numpy wall time, measured in the same run.

Usage::

    python benchmarks/gep_bench.py --sizes 2000 4000
    python benchmarks/gep_bench.py --sizes 10000 --only hesuan numpy
    python benchmarks/gep_bench.py --sizes 20000 --only hesuan hesuan-dask   # province scale
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

FIELDS = ("precip_mm", "runoff_mm", "et_mm", "r_factor", "k_factor", "ls_factor",
          "nep_t_c_per_ha", "evaporation_mm")
TYPES = "code,ecosystem_type,c_factor,p_factor,transpiration_kj_per_m2_day,water_surface\n" \
        "1,forest,0.006,1,1800,0\n2,shrub,0.03,1,1500,0\n3,grassland,0.05,1,1200,0\n" \
        "4,wetland,0,1,0,1\n5,farmland,0.25,0.4,0,0\n6,town,0.01,1,0,0\n"
COEF = np.array([[0, 0, 0, 0], [0.006, 1, 1800, 0], [0.03, 1, 1500, 0], [0.05, 1, 1200, 0],
                 [0, 1, 0, 1], [0.25, 0.4, 0, 0], [0.01, 1, 0, 0]])
PIXEL_M = 30.0
NODATA = -9999.0


def make_inputs(folder: Path, n: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"ecosystem": folder / f"eco_{n}.tif", **{f: folder / f"{f}_{n}.tif"
                                                       for f in FIELDS}}
    (folder / "types.csv").write_text(TYPES)
    if all(p.exists() for p in paths.values()):
        return paths
    base = dict(driver="GTiff", width=n, height=n, count=1, crs="EPSG:32650",
                transform=from_origin(400_000, 3_500_000, PIXEL_M, PIXEL_M), tiled=True,
                blockxsize=512, blockysize=512, bigtiff="if_safer")
    handles = {"ecosystem": rasterio.open(paths["ecosystem"], "w", dtype="uint8", nodata=0,
                                          **base)}
    for f in FIELDS:
        handles[f] = rasterio.open(paths[f], "w", dtype="float32", nodata=NODATA, **base)
    rng = np.random.default_rng(n)
    step = 1024
    try:
        for r in range(0, n, step):
            h = min(step, n - r)
            w = Window(0, r, n, h)
            coarse = rng.integers(1, 7, size=(h // 64 + 2, n // 64 + 2)).astype(np.uint8)
            eco = np.repeat(np.repeat(coarse, 64, 0), 64, 1)[:h, :n]
            if r == 0:
                eco[:64, :64] = 0
            handles["ecosystem"].write(eco, 1, window=w)
            noise = rng.random((h, n), dtype=np.float32)
            values = {"precip_mm": 900 + 400 * noise, "runoff_mm": 50 + 100 * noise,
                      "et_mm": 400 + 200 * noise, "r_factor": 3000 + 500 * noise,
                      "k_factor": 0.004 + 0.001 * noise, "ls_factor": 1 + 8 * noise,
                      "nep_t_c_per_ha": 2.0 * noise, "evaporation_mm": 1100 + 50 * noise}
            for f, v in values.items():
                handles[f].write(v.astype(np.float32), 1, window=w)
    finally:
        for ds in handles.values():
            ds.close()
    return paths


def numpy_baseline(paths: dict[str, Path]) -> dict[str, float]:
    """Whole arrays in memory, the kernel's arithmetic written out (same masks, float64).

    Every raster is read whole; each service is computed on whole arrays and summed per type
    before the next (the per-pixel arrays of one service at a time: the leanest whole-array
    form, ≈ 0.8 × 10⁻⁷ GB per pixel).
    """
    with rasterio.open(paths["ecosystem"]) as ds:
        eco = ds.read(1)
    valid_eco = eco != 0
    flat = eco.ravel().astype(np.intp)
    raw: dict[str, np.ndarray] = {}
    for f in FIELDS:
        with rasterio.open(paths[f]) as ds:
            raw[f] = ds.read(1)

    def a(f: str) -> np.ndarray:
        return np.where(raw[f] != NODATA, raw[f], np.float64(0.0))  # float64

    def ok(f: str) -> np.ndarray:
        return raw[f] != NODATA

    def total(v: np.ndarray) -> float:
        return float(np.bincount(flat, weights=v.ravel(), minlength=7)[1:].sum())

    px_m2 = PIXEL_M * PIXEL_M
    area_ha = px_m2 * 1e-4
    out = {}
    m = valid_eco & ok("precip_mm") & ok("runoff_mm") & ok("et_mm")
    out["water"] = total(np.where(m, (a("precip_mm") - a("runoff_mm") - a("et_mm")) * 1e-3
                                  * px_m2, 0))
    c, p = COEF[:, 0][eco], COEF[:, 1][eco]
    m = valid_eco & ok("r_factor") & ok("k_factor") & ok("ls_factor")
    out["soil"] = total(np.where(m, a("r_factor") * a("k_factor") * a("ls_factor")
                                 * (1 - c * p) * area_ha, 0))
    del c, p
    m = valid_eco & ok("nep_t_c_per_ha")
    co2 = a("nep_t_c_per_ha") * area_ha * 44 / 12
    out["co2"] = total(np.where(m, co2, 0))
    out["o2"] = total(np.where(m, co2 * 32 / 44, 0))
    del co2
    heat = COEF[:, 2][eco]
    out["transp"] = total(np.where(valid_eco, heat * px_m2 * 90 / (3600 * 3.0), 0))
    del heat
    water = COEF[:, 3][eco]
    m = valid_eco & ok("evaporation_mm")
    out["evap"] = total(np.where(m, a("evaporation_mm") * 1e-3 * px_m2 * water * 1000 * 2260
                                 / 3600, 0))
    return out


def hesuan_run(paths: dict[str, Path], mode: str, out: Path) -> dict[str, float]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from hesuan.land.gep.raster import (
        SERVICES,
        ClimateParameters,
        RegulatingRun,
        read_type_table,
        run_regulating,
    )

    types = read_type_table(paths["ecosystem"].parent / "types.csv",
                            ["c_factor", "p_factor", "transpiration_kj_per_m2_day",
                             "water_surface"])
    job = RegulatingRun(str(paths["ecosystem"]), {f: str(paths[f]) for f in FIELDS}, types,
                        ClimateParameters(ac_days=90, ac_efficiency=3.0), tuple(SERVICES))
    maps = {s: out / f"{s}.tif" for s in SERVICES} if mode == "hesuan-maps" else None
    res = run_regulating(job, maps,
                         engine="dask" if mode == "hesuan-dask" else "local",
                         workers=2 if mode == "hesuan-dask" else None)
    return {s: float(v.sum()) for s, v in res.totals.items()}


def worker(mode: str, folder: str, n: int) -> None:
    paths = make_inputs(Path(folder), n)
    t0 = time.perf_counter()
    if mode == "numpy":
        totals = numpy_baseline(paths)
    else:
        with tempfile.TemporaryDirectory(dir=folder) as out:
            totals = hesuan_run(paths, mode, Path(out))
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"mode": mode, "n": n, "wall_s": wall, "load": os.getloadavg()[0],
                      "cpu_s": ru.ru_utime + ru.ru_stime + ch.ru_utime + ch.ru_stime,
                      "peak_gb": max(ru.ru_maxrss, ch.ru_maxrss) / 1024 ** 2,
                      "totals": totals}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 4000])
    ap.add_argument("--only", nargs="+", default=["numpy", "hesuan", "hesuan-maps"])
    ap.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "hesuan_gep_bench"))
    ap.add_argument("--worker", nargs=3, metavar=("MODE", "FOLDER", "N"))
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return
    for n in args.sizes:
        make_inputs(Path(args.data), n)
        results = {}
        for mode in args.only:
            proc = subprocess.run([sys.executable, __file__, "--worker", mode, args.data,
                                   str(n)], capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{mode} at {n}² failed:\n{proc.stderr}")
            line = proc.stdout.strip().splitlines()[-1]
            results[mode] = json.loads(line)
            r = results[mode]
            print(f"{n:>6}² {mode:<12} {r['wall_s']:7.2f} s  {r['cpu_s']:7.2f} cpu s  "
                  f"{r['peak_gb']:5.2f} GB  (load average {r['load']:.1f})", flush=True)
        if "numpy" in results:
            base = results["numpy"]
            for mode, r in results.items():
                if mode != "numpy":
                    print(f"{n:>6}² {mode} / numpy: {r['wall_s'] / base['wall_s']:.2f}× wall, "
                          f"{r['peak_gb'] / base['peak_gb']:.2f}× memory")
            if "hesuan" in results:
                h = results["hesuan"]["totals"]
                pairs = {"water_conservation_m3": "water", "soil_retention_t": "soil",
                         "carbon_sequestration_t_co2": "co2", "oxygen_release_t_o2": "o2",
                         "transpiration_kwh": "transp", "evaporation_kwh": "evap"}
                worst = max(abs(h[k] - base["totals"][v]) / max(abs(base["totals"][v]), 1e-30)
                            for k, v in pairs.items())
                print(f"{n:>6}² totals agree with numpy to {worst:.1e} (relative)")


if __name__ == "__main__":
    main()
