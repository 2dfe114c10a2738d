# ruff: noqa: E501  (benchmark: the species table and report lines are kept on one line)
"""Benchmark of ``hesuan quantify`` on a national plot network against a plain Polars/NumPy
group-by of the same arithmetic.

Generates a synthetic programme (``--plots`` plots of 400 m² in 20 strata, ``--trees-per-plot``
trees each, two monitoring events, allometric species with and without their own
root-to-shoot ratio), written as Parquet, then runs, each in its own
process (time = wall clock, memory = the process's peak RSS from ``wait4``):

- ``hesuan``: :func:`hesuan.quantification.quantify` on the project file — reading and
  checking every row (species, DBH range, plot, stratum), both events, stratified
  statistics, uncertainty rule, report sealed (no file written);
- ``polars``: the same arithmetic written directly: read both events, join species, power-law
  AGB, sum by plot, default root-to-shoot where needed, per-hectare carbon, stratum means and
  variances, stratified mean, variance, t value, stock change — no checks, no report.

The ratio hesuan / polars is computed within one run (the machine is shared: absolute times
are noisy, the ratio less so).

Usage::

    python benchmarks/quant_bench.py --plots 10000 --trees-per-plot 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

SPECIES = """id,name,method,a,b,c,dbh_min_cm,dbh_max_cm,wood_density_t_per_m3,bef,root_shoot,carbon_fraction,source,verified,notes
sp_a,benchmark conifer,allometry,0.06,2.5,0,1,80,,,0.25,0.47,synthetic,false,
sp_b,benchmark broadleaf,allometry,0.05,2.0,0.6,1,90,,,default,0.48,synthetic,false,
"""
MANIFEST = """id = "bench_species"
version = "1"
title = "synthetic species for the quantification benchmark"
publisher = "hesuan benchmark"
url = "benchmarks/quant_bench.py"
licence = "Apache-2.0"
licence_url = "https://www.apache.org/licenses/LICENSE-2.0"
attribution = "synthetic"
redistributable = true
citation = "synthetic"
"""


def generate(folder: Path, plots: int, per_plot: int) -> Path:
    rng = np.random.default_rng(7)
    n_strata = 20
    (folder / "species").mkdir(parents=True, exist_ok=True)
    (folder / "species/species.csv").write_text(SPECIES)
    (folder / "species/dataset.toml").write_text(MANIFEST)
    strata = pl.DataFrame({"stratum": [f"S{i:02d}" for i in range(n_strata)],
                           "area_ha": rng.uniform(500, 5000, n_strata).round(1)})
    strata.write_csv(folder / "strata.csv")
    plot_ids = [f"P{i:06d}" for i in range(plots)]
    stratum_of = rng.integers(0, n_strata, plots)
    stratum_of[:n_strata * 2] = np.repeat(np.arange(n_strata), 2)   # ≥ 2 plots each
    n = plots * per_plot
    base_dbh = rng.gamma(6.0, 1.6, n) + 2
    species = np.where(rng.random(n) < 0.6, "sp_a", "sp_b")
    for year, growth in (("2022", 1.0), ("2025", 1.5)):
        pl.DataFrame({"plot": plot_ids, "stratum": [f"S{i:02d}" for i in stratum_of],
                      "area_m2": np.full(plots, 400.0)}).write_parquet(folder / f"plots_{year}.parquet")
        dbh = np.minimum(base_dbh * growth, 79.0).round(1)
        trees = pl.DataFrame({"plot": np.repeat(plot_ids, per_plot), "species": species,
                              "dbh_cm": dbh, "height_m": (1.3 + 0.9 * dbh ** 0.85).round(1)})
        trees.write_parquet(folder / f"trees_{year}.parquet")
    (folder / "project.toml").write_text("""
[project]
name = "benchmark programme"
start = "2020-01-01"
methodology = "CCER-14-001"
methodology_version = "V01"
species = "species"
[applicability]
forest_type = "timber"
non_forest_planned_years = 5
tenure_documented = true
min_parcel_area_m2 = 1000
wetland = false
scattered_trees_removed = false
shrub_removal_pct = 0
[strata]
file = "strata.csv"
[[monitoring]]
date = "2022-12-31"
plots = "plots_2022.parquet"
trees = "trees_2022.parquet"
[[monitoring]]
date = "2025-12-31"
plots = "plots_2025.parquet"
trees = "trees_2025.parquet"
""")
    return folder / "project.toml"


def run_hesuan(project: Path) -> dict:
    from hesuan.quantification import quantify

    reports = quantify(project)
    return {"units": reports[-1].removals.net_creditable_units,
            "stock_t_co2e": reports[-1].events[-1].stock_t_co2e}


def run_polars(project: Path) -> dict:
    from scipy.stats import t as student_t

    folder = project.parent
    sp = pl.read_csv(folder / "species/species.csv").select(
        "id", "a", "b", "c", "root_shoot", "carbon_fraction").rename({"id": "species"})
    sp = sp.with_columns(pl.col("root_shoot").cast(pl.Float64, strict=False))
    strata = pl.read_csv(folder / "strata.csv").sort("stratum")
    stocks = []
    for year in ("2022", "2025"):
        plots = pl.read_parquet(folder / f"plots_{year}.parquet")
        trees = pl.read_parquet(folder / f"trees_{year}.parquet").join(sp, on="species")
        agb = pl.col("a") * pl.col("dbh_cm").pow(pl.col("b")) * pl.when(pl.col("c") == 0) \
            .then(1.0).otherwise(pl.col("height_m").pow(pl.col("c"))) / 1000
        by_plot = trees.with_columns(agb.alias("agb")).group_by("plot").agg(
            pl.col("agb").sum(),
            (pl.col("carbon_fraction") * pl.col("agb") * (1 + pl.col("root_shoot")))
            .filter(pl.col("root_shoot").is_not_null()).sum().alias("fixed"),
            (pl.col("carbon_fraction") * pl.col("agb"))
            .filter(pl.col("root_shoot").is_null()).sum().alias("default"))
        j = plots.join(by_plot, on="plot", how="left").fill_null(0.0)
        area = j["area_m2"].to_numpy() / 10_000
        b = j["agb"].to_numpy() / area
        r = np.where(b > 0, np.exp(-1.085 + 0.9256 * np.log(np.maximum(b, 1e-12))) / np.maximum(b, 1e-12), 0)
        c = 44 / 12 * (j["fixed"].to_numpy() + j["default"].to_numpy() * (1 + r)) / area
        st = j.with_columns(pl.Series("c", c)).group_by("stratum").agg(
            pl.col("c").mean().alias("m"), pl.col("c").var().alias("v"), pl.len().alias("n")
        ).sort("stratum")
        w = strata["area_ha"].to_numpy() / strata["area_ha"].sum()
        mean = float((w * st["m"].to_numpy()).sum())
        var = float((w * w * st["v"].to_numpy() / st["n"].to_numpy()).sum())
        tv = float(student_t.ppf(0.95, int(st["n"].sum()) - len(w)))
        stocks.append((mean * strata["area_ha"].sum(), tv * var ** 0.5 / mean))
    return {"stock_t_co2e": stocks[-1][0], "change_t_co2e": stocks[1][0] - stocks[0][0]}


def _child(mode: str, project: str) -> None:
    # imports first: ``seconds`` is the computation; ``wall_s`` (parent) includes start-up
    import scipy.stats  # noqa: F401

    if mode == "hesuan":
        import hesuan.quantification
        import hesuan.quantification.methodologies  # noqa: F401
    t0 = time.perf_counter()
    out = (run_hesuan if mode == "hesuan" else run_polars)(Path(project))
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


def measure(mode: str, project: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(project)],
                            stdout=subprocess.PIPE, env={**os.environ})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    assert proc.stdout is not None
    out = json.loads(proc.stdout.read() or b"{}")
    if status != 0:
        raise SystemExit(f"{mode} failed ({status})")
    out.update(wall_s=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plots", type=int, default=10_000)
    ap.add_argument("--trees-per-plot", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(*a.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = generate(Path(tmp), a.plots, a.trees_per_plot)
        rows = {m: [measure(m, project) for _ in range(a.repeat)] for m in ("hesuan", "polars")}
    best = {m: min(r, key=lambda x: x["seconds"]) for m, r in rows.items()}
    stock_h, stock_p = best["hesuan"]["stock_t_co2e"], best["polars"]["stock_t_co2e"]
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"polars {pl.__version__}; {a.plots:,} plots × {a.trees_per_plot} trees × 2 events "
          f"= {2 * a.plots * a.trees_per_plot:,} tree rows; best of {a.repeat}")
    best = {m: min(r, key=lambda x: x["seconds"]) for m, r in rows.items()}
    print(f"{'run':<8} {'compute s':>10} {'wall s':>8} {'peak RSS MB':>12}")
    for m, b in best.items():
        print(f"{m:<8} {b['seconds']:>10.2f} {b['wall_s']:>8.2f} {b['peak_rss_mb']:>12.0f}")
    print(f"ratio hesuan / polars: compute {best['hesuan']['seconds'] / best['polars']['seconds']:.2f}, "
          f"wall (with start-up) {best['hesuan']['wall_s'] / best['polars']['wall_s']:.2f}; "
          f"same final stock: {abs(stock_h - stock_p) <= 1e-9 * abs(stock_p)} "
          f"({stock_h:.6f} vs {stock_p:.6f} t CO2e)")


if __name__ == "__main__":
    main()
