"""Do two source trees of hesuan give the same carbon results? Totals and every raster.

Runs ``hesuan.land.carbon.run`` of a reference tree and of a candidate tree (each in its
own process, ``PYTHONPATH`` set to the tree) on the land benchmark's synthetic maps
(:func:`land_bench.make_inputs`: 12 classes, sequestration and valuation), in each raster
format the candidate is asked for, and compares

- every number of ``summary.json`` (storage, sequestration, NPV, gains, losses, pools,
  intervals, variance shares, pixel counts; not the run time): relative difference at most
  ``--rtol`` (default 1e-12);
- every raster the reference wrote against the candidate's of the same name (a ``.tif`` or
  a ``.vrt``, read through GDAL): full resolution and every overview level, bit for bit.

Usage::

    git archive <commit> src | tar -x -C /tmp/ref
    python benchmarks/land_identity.py --reference /tmp/ref/src --candidate src --size 10000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).parent))
from land_bench import make_inputs


def run_tree(tree: Path, base: Path, alt: Path, pools: Path, out: Path, fmt: str) -> None:
    code = (
        "from hesuan.land.carbon import run, Valuation\n"
        f"run({str(base)!r}, {str(pools)!r}, {str(out)!r}, alt={str(alt)!r}, "
        "valuation=Valuation(43, -7.1, 2.8, 2016, 2030), mc_samples=1000, "
        f"raster_format={fmt!r})\n")
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def rasters(folder: Path) -> dict[str, Path]:
    """Output rasters of a run folder by name (class maps excluded)."""
    return {p.stem: p for p in sorted(folder.iterdir())
            if p.suffix in (".tif", ".vrt") and not p.stem.startswith("class_")}


def compare_raster(a: Path, b: Path) -> str | None:
    """None if ``a`` and ``b`` hold the same float32 bits at every level, else why not."""
    with rasterio.open(a) as da, rasterio.open(b) as db:
        if da.overviews(1) != db.overviews(1):
            return f"overviews {da.overviews(1)} ≠ {db.overviews(1)}"
        levels = [None, *range(len(da.overviews(1)))]
        if da.nodata != db.nodata:
            return f"nodata {da.nodata} ≠ {db.nodata}"
    for level in levels:
        kw = {} if level is None else {"overview_level": level}
        with rasterio.open(a, **kw) as da, rasterio.open(b, **kw) as db:
            x, y = da.read(1), db.read(1)
        if x.shape != y.shape or not np.array_equal(x.view(np.uint32), y.view(np.uint32)):
            where = "full resolution" if level is None else f"overview {level}"
            return f"{where}: {int(np.count_nonzero(x != y))} cells differ"
    return None


def totals(folder: Path) -> dict[str, float]:
    """Every number of ``summary.json`` but the run time and the provenance, flattened."""
    flat: dict[str, float] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in ("seconds", "provenance", "outputs"):
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[prefix] = float(value)

    walk("", json.loads((folder / "summary.json").read_text()))
    return flat


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference", type=Path, required=True, help="src folder of the reference")
    p.add_argument("--candidate", type=Path, required=True, help="src folder of the candidate")
    p.add_argument("--size", type=int, default=4000)
    p.add_argument("--reference-format", default="cog")
    p.add_argument("--formats", nargs="+", default=["cog", "vrt"],
                   help="raster formats of the candidate to compare")
    p.add_argument("--rtol", type=float, default=1e-12)
    p.add_argument("--workdir", type=Path, default=None)
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="land_identity_"))
    base, alt, pools = make_inputs(work / "inputs", args.size)
    ref_out = work / "reference"
    run_tree(args.reference.resolve(), base, alt, pools, ref_out, args.reference_format)
    ref_rasters, ref_totals = rasters(ref_out), totals(ref_out)
    failures = 0
    for fmt in args.formats:
        out = work / f"candidate_{fmt}"
        run_tree(args.candidate.resolve(), base, alt, pools, out, fmt)
        got = totals(out)
        worst = max(abs(got.get(k, np.nan) - v) / max(abs(v), 1e-300)
                    for k, v in ref_totals.items())
        ok_totals = set(got) == set(ref_totals) and worst <= args.rtol
        print(f"{fmt}: {len(ref_totals)} totals, largest relative difference {worst:.2e}"
              f" — {'ok' if ok_totals else 'DIFFERENT'}")
        failures += not ok_totals
        cand = rasters(out)
        if set(cand) != set(ref_rasters):
            print(f"{fmt}: rasters {sorted(cand)} ≠ {sorted(ref_rasters)}")
            failures += 1
        for name, path in ref_rasters.items():
            if name in cand:
                why = compare_raster(path, cand[name])
                print(f"{fmt}: {name}: {'bit for bit' if why is None else why}")
                failures += why is not None
    print("identical" if failures == 0 else f"{failures} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
