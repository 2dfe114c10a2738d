"""Regenerate the bundled example plots (deterministic: fixed seed).

    python src/hesuan/examples/quantification/generate.py

A fictitious 600 ha afforestation project planted in March 2020 in three strata, measured in
December 2022 and December 2025 on 20 permanent circular plots of 400 m² per stratum (one
row per tree: species, DBH, height). DBHs grow with age; a few trees die between events.
The numbers are simulated for the demonstration and describe no real forest.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
STRATA = {"A-fir": (250.0, "conifer_demo"), "B-mixed": (200.0, "broadleaf_demo"),
          "C-slope": (150.0, "conifer_demo")}
EVENTS = {"2022": 1.0, "2025": 1.9}   # growth multiplier of DBH relative to 2022


def main() -> None:
    """Write the example project's strata, plots, trees and growth tables.

    Seeded: the same files every run.
    """
    rng = np.random.default_rng(20260418)
    with (HERE / "strata.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stratum", "area_ha"])
        for s, (area, _) in STRATA.items():
            w.writerow([s, area])
    trees_by_plot: dict[str, list[tuple[str, float, float, bool]]] = {}
    for s, (_, sp) in STRATA.items():
        site = {"A-fir": 1.0, "B-mixed": 0.9, "C-slope": 0.75}[s]
        for k in range(20):
            plot = f"{s[0]}{k + 1:02d}"
            n = int(rng.integers(16, 26))
            vigour = rng.normal(1.0, 0.12)
            trees = []
            for _ in range(n):
                species = sp if s != "B-mixed" or rng.random() < 0.7 else "conifer_demo"
                dbh = max(2.5, rng.normal(6.0, 1.3) * site * vigour)
                trees.append((species, dbh, rng.normal(1.0, 0.05), rng.random() < 0.05))
            trees_by_plot[plot] = trees
    for year, mult in EVENTS.items():
        with (HERE / f"plots_{year}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["plot", "stratum", "area_m2", "shrub_cover"])
            for plot in trees_by_plot:
                stratum = next(s for s in STRATA if s[0] == plot[0])
                w.writerow([plot, stratum, 400, round(float(rng.uniform(0.0, 0.12)), 2)])
        with (HERE / f"trees_{year}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["plot", "tree", "species", "dbh_cm", "height_m"])
            for plot, trees in trees_by_plot.items():
                for i, (species, dbh, hf, dies) in enumerate(trees):
                    if dies and year == "2025":
                        continue
                    d = dbh * mult
                    h = 1.3 + 0.9 * d ** 0.85 * hf
                    w.writerow([plot, i + 1, species, round(d, 1), round(h, 1)])
    with (HERE / "growth.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stratum", "year", "species", "volume_m3_per_ha"])
        for s, (_, _sp) in STRATA.items():
            site = {"A-fir": 1.0, "B-mixed": 0.9, "C-slope": 0.75}[s]
            for yr in range(2021, 2041):
                age = yr - 2020
                vol = 320.0 * site * (1 - np.exp(-0.09 * age)) ** 2.2
                w.writerow([s, yr, "stand_demo", round(float(vol), 1)])


if __name__ == "__main__":
    main()
