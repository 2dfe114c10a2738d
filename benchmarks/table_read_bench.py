"""``hesuan.io.tables.read_table`` against ``polars.read_csv`` on the same CSV file.

A legs-like table (shipment_id, leg_id, mode, mass_t, distance_km) of ``--rows`` rows is
written once; then, alternately, ``polars.read_csv`` (types inferred, nothing checked: the
baseline) and ``read_table`` (every cell typed and checked against a spec with a unique key,
allowed values, bounds, finiteness and a plausible range) read it. The medians and their
ratio are printed.

Usage::

    python benchmarks/table_read_bench.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from hesuan.io.tables import ColumnSpec, TableSpec, read_table

SPEC = TableSpec("legs", (
    ColumnSpec("shipment_id", "str", required=True),
    ColumnSpec("leg_id", "str", required=True),
    ColumnSpec("mode", "str", allowed=("road", "rail", "sea")),
    ColumnSpec("mass_t", "float", minimum=0.0, plausible=(0.0, 15.0)),
    ColumnSpec("distance_km", "float", minimum=0.0),
), key=("shipment_id", "leg_id"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    frame = pl.DataFrame({
        "shipment_id": [f"S{i // 3}" for i in range(n)],
        "leg_id": [str(i % 3) for i in range(n)],
        "mode": rng.choice(["road", "rail", "sea"], n),
        "mass_t": rng.random(n) * 20,
        "distance_km": rng.random(n) * 1000,
    })
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "legs.csv"
        frame.write_csv(path)
        base, ours = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            pl.read_csv(path)
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            read_table(path, SPEC)
            ours.append(time.perf_counter() - start)
    b, o = statistics.median(base), statistics.median(ours)
    print(f"rows {n:,}: polars.read_csv {b:.2f} s, read_table {o:.2f} s, ratio {o / b:.1f}")


if __name__ == "__main__":
    main()
