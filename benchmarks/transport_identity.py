"""Check that two versions of hesuan's transport engine give the same numbers.

Runs ``hesuan.transport.calculate`` from two source trees (``--reference SRC`` and
``--candidate SRC``, each a folder holding the ``hesuan`` package) in child processes on

1. the benchmark's generated legs (``transport_bench.generate``: N legs, mixed modes and
   distance bases, coordinates routed by geodesic and searoute, shared trips with fuel,
   user intensities), and
2. the bundled worked example (legs, hubs) with and without scenario rules,

then compares every column of the per-leg, per-hub and per-shipment outputs and every value
of ``summary.json`` that both versions write: numbers to ``--rtol`` relative (default 1e-12),
everything else exactly (but the run's time stamp and duration). Keys only one version
writes are listed, not compared.

Usage::

    python benchmarks/transport_identity.py --reference /path/to/old/src \
        --candidate src --legs 2000000 --workdir /tmp/identity
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from transport_bench import generate

RUN = """
import json, sys
from hesuan.transport import calculate, write_summary
kw = json.loads(sys.argv[1])
r = calculate(kw.pop("legs"), kw.pop("hubs"), out=kw.pop("out"), **kw)
write_summary(r.summary, sys.argv[2])
"""


def run(src: Path, out: Path, legs: Path, hubs: Path | None, **kw: Any) -> float:
    """Run one calculation with the hesuan package of ``src``; return the wall time [s]."""
    out.parent.mkdir(parents=True, exist_ok=True)
    args = {"legs": str(legs), "hubs": str(hubs) if hubs else None, "out": str(out), **kw}
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN, json.dumps(args),
                    str(out.with_name("summary.json"))], check=True, env=env)
    return time.perf_counter() - t0


VOLATILE = frozenset({"summary.provenance.run_utc", "summary.run_seconds"})
"""Values that differ between any two runs (when and how long): not compared."""


def _close(a: float, b: float, rtol: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))


def compare_json(a: Any, b: Any, rtol: float, where: str, diffs: list[str],
                 only: list[str]) -> None:
    """Recursive comparison of two JSON values (numbers to ``rtol``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if f"{where}.{k}" in VOLATILE:
                continue
            if k not in a or k not in b:
                only.append(f"{where}.{k} ({'candidate' if k in b else 'reference'} only)")
                continue
            compare_json(a[k], b[k], rtol, f"{where}.{k}", diffs, only)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append(f"{where}: {len(a)} vs {len(b)} items")
            return
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            compare_json(x, y, rtol, f"{where}[{i}]", diffs, only)
    elif isinstance(a, int | float) and isinstance(b, int | float) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        if not _close(float(a), float(b), rtol):
            diffs.append(f"{where}: {a!r} vs {b!r}")
    elif a != b:
        diffs.append(f"{where}: {a!r} vs {b!r}")


def compare_parquet(ref: Path, cand: Path, rtol: float) -> tuple[list[str], float, int]:
    """Column-by-column comparison; returns (differences, largest relative difference, rows)."""
    a = pl.read_parquet(ref)
    b = pl.read_parquet(cand)
    if ref.name.endswith(".shipments.parquet"):  # one row per shipment, in no set order
        a, b = a.sort("shipment_id"), b.sort("shipment_id")
    diffs = []
    worst = 0.0
    if a.columns != b.columns:
        diffs.append(f"{ref.name}: columns {a.columns} vs {b.columns}")
    if a.height != b.height:
        return [*diffs, f"{ref.name}: {a.height} vs {b.height} rows"], math.inf, a.height
    for c in a.columns:
        if c not in b.columns:
            continue
        x, y = a[c], b[c]
        if x.dtype.is_numeric() and y.dtype.is_numeric():
            frame = pl.DataFrame({"x": x.cast(pl.Float64), "y": y.cast(pl.Float64)})
            stats = frame.select(
                (pl.col("x").is_null() != pl.col("y").is_null()).sum().alias("nulls"),
                (pl.col("x").is_nan() != pl.col("y").is_nan()).sum().alias("nans"),
                ((pl.col("x") - pl.col("y")).abs()
                 / pl.max_horizontal(pl.col("x").abs(), pl.col("y").abs()))
                .filter(pl.col("x") != pl.col("y")).max().alias("rel"),
            ).row(0, named=True)
            rel = stats["rel"] or 0.0
            worst = max(worst, rel)
            if stats["nulls"] or stats["nans"] or rel > rtol:
                diffs.append(f"{ref.name}:{c}: {stats}")
        else:
            n = (x.cast(pl.String).fill_null("\0") != y.cast(pl.String).fill_null("\0")).sum()
            if n:
                diffs.append(f"{ref.name}:{c}: {n} values differ")
    return diffs, worst, a.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, default=Path("src"))
    parser.add_argument("--legs", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    legs = work / f"legs_{args.legs}.parquet"
    if not legs.exists():
        generate(legs, args.legs)
    example = Path(__file__).parents[1] / "src" / "hesuan" / "examples" / "transport"
    rules = ["mode=road & distance_km>500 -> mode=rail, vehicle=freight_train",
             "fuel=diesel -> fuel=hvo100"]
    cases: list[tuple[str, Path, Path | None, dict[str, Any]]] = [
        ("generated", legs, None, {}),
        ("example", example / "legs.csv", example / "hubs.csv", {}),
        ("example_scenario", example / "legs.csv", example / "hubs.csv", {"scenario": rules}),
        ("example_reefer", example / "legs.csv", example / "hubs.csv",
         {"reefer_tkm_per_year": 1_800_000.0, "circuity": 1.3}),
    ]
    failed = False
    for name, leg_file, hub_file, kw in cases:
        times = {}
        for version, src in (("reference", args.reference), ("candidate", args.candidate)):
            times[version] = run(src, work / name / version / "result.parquet", leg_file,
                                 hub_file, **kw)
        diffs: list[str] = []
        only: list[str] = []
        worst = 0.0
        rows = 0
        for part in ("result.parquet", "result.hubs.parquet", "result.shipments.parquet"):
            d, w, n = compare_parquet(work / name / "reference" / part,
                                      work / name / "candidate" / part, args.rtol)
            diffs += d
            worst = max(worst, w)
            rows += n
        ref_s = json.loads((work / name / "reference" / "summary.json").read_text())
        cand_s = json.loads((work / name / "candidate" / "summary.json").read_text())
        compare_json(ref_s, cand_s, args.rtol, "summary", diffs, only)
        print(f"{name}: {rows:,} output rows, largest relative difference {worst:.3g}, "
              f"{len(diffs)} differences; wall reference {times['reference']:.1f} s, "
              f"candidate {times['candidate']:.1f} s")
        for d in diffs[:30]:
            print("  DIFF", d)
        for o in only:
            print("  only", o)
        failed |= bool(diffs)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
