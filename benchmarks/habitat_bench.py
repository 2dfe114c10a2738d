"""Benchmark of ``hesuan land habitat`` against InVEST's habitat-quality model.

Generates a synthetic 30 m case of each size (4 classes in 10 px patches, uint8; a road
grid every 250 px as a linear threat over 1.2 km, the urban class as an exponential threat
over 2.5 km), then runs each engine in its own process on the same inputs and prints wall
time and the ratio InVEST / hesuan, measured in the same run (the machine is shared, so
absolute times are noisy; the ratio is the figure to compare).

Usage::

    python benchmarks/habitat_bench.py --sizes 1000 3000 --invest-python /tmp/invest/bin/python
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

SENSITIVITY = ("lucode,name,habitat,roads,urban\n1,forest,1.0,0.8,0.9\n"
               "2,grassland,0.7,0.5,0.6\n3,cropland,0.3,0.3,0.4\n4,urban,0.0,0.0,0.0\n")


def make_case(folder: Path, n: int) -> None:
    rng = np.random.default_rng(n)
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "crs": "EPSG:32650",
               "transform": from_origin(500000.0, 3400000.0, 30.0, 30.0), "tiled": True,
               "compress": "deflate"}
    patches = rng.random((n // 10 + 1, n // 10 + 1))
    lulc = (np.digitize(np.kron(patches, np.ones((10, 10)))[:n, :n], [0.35, 0.6, 0.85])
            .astype(np.uint8) + 1)
    with rasterio.open(folder / "lulc.tif", "w", dtype="uint8", nodata=255, **profile) as ds:
        ds.write(lulc, 1)
    roads = np.zeros((n, n), np.float32)
    roads[:, 125::250] = 1.0
    roads[125::250, :] = 1.0
    for name, arr in (("threat_roads", roads), ("threat_urban", (lulc == 4).astype("f4"))):
        with rasterio.open(folder / f"{name}.tif", "w", dtype="float32", **profile) as ds:
            ds.write(arr, 1)
    (folder / "threats.csv").write_text(
        "threat,max_dist_km,weight,decay,raster\nroads,1.2,0.7,linear,threat_roads.tif\n"
        "urban,2.5,1.0,exponential,threat_urban.tif\n")
    (folder / "threats_invest.csv").write_text(
        "threat,max_dist,weight,decay,cur_path\nroads,1200,0.7,linear,threat_roads.tif\n"
        "urban,2500,1.0,exponential,threat_urban.tif\n")
    (folder / "sensitivity.csv").write_text(SENSITIVITY)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000])
    p.add_argument("--invest-python", default=None,
                   help="python of a venv with natcap.invest (e.g. /tmp/invest/bin/python)")
    args = p.parse_args()
    print(f"{'size':>6} {'hesuan s':>9} {'invest s':>9} {'invest/hesuan':>14}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            case = Path(tmp)
            make_case(case, n)
            ours = timed([sys.executable, "-m", "hesuan", "land", "habitat", "--lulc",
                          str(case / "lulc.tif"), "--threats", str(case / "threats.csv"),
                          "--sensitivity", str(case / "sensitivity.csv"),
                          "--half-saturation", "0.4", "--out", str(case / "hesuan"),
                          "--json"])
            peer = float("nan")
            if args.invest_python:
                code = (
                    "from natcap.invest.habitat_quality import habitat_quality as h\n"
                    f"h.execute({{'workspace_dir': {str(case / 'invest')!r}, "
                    "'results_suffix': '', 'n_workers': -1, "
                    f"'lulc_cur_path': {str(case / 'lulc.tif')!r}, "
                    f"'threats_table_path': {str(case / 'threats_invest.csv')!r}, "
                    f"'sensitivity_table_path': {str(case / 'sensitivity.csv')!r}, "
                    "'half_saturation_constant': 0.4})\n")
                peer = timed([args.invest_python, "-c", code])
            print(f"{n:>6} {ours:>9.2f} {peer:>9.2f} {peer / ours:>14.2f}", flush=True)


if __name__ == "__main__":
    main()
