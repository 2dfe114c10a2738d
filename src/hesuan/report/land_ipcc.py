"""HTML report of ``hesuan land ipcc transitions``.

The land-use transition matrix as a heat map and the CO2 emissions/removals of each transition as a
bar chart.

Everything shown is computed by :mod:`hesuan.land.ipcc.transitions`; this module only lays it
out. The unrounded numbers stay in ``transition_matrix.csv``, ``transition_emissions.csv``
and ``transitions.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

import hesuan
from hesuan.land.ipcc.transitions import TransitionEmissions, TransitionMatrix
from hesuan.land.summary import TransitionsSummary
from hesuan.report._html import figure_to_data_uri, matplotlib_headless, render

#: Transitions shown in the bar chart, largest |CO2| first; the tables list all of them.
MAX_BARS = 25


def _label(code: int, names: Mapping[int, str]) -> str:
    name = names.get(code)
    return f"{name} ({code})" if name and name != str(code) else str(code)


def matrix_figure(matrix: TransitionMatrix, names: Mapping[int, str]) -> str:
    """Heat map of the transition areas [ha] (rows: first map, columns: second map)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    area = matrix.area_ha
    k = len(matrix.classes)
    labels = [_label(c, names) for c in matrix.classes]
    size = min(11.0, 2.5 + 0.55 * k)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    positive = area[area > 0]
    # Log colours: a stable class's area dwarfs every change; zero cells stay blank.
    shown = np.where(area > 0, area, np.nan)
    norm = LogNorm(vmin=float(positive.min()), vmax=float(positive.max())) \
        if positive.size and positive.min() < positive.max() else None
    im = ax.imshow(shown, cmap="viridis", norm=norm, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="area [ha]", shrink=0.8)
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("class in the second map")
    ax.set_ylabel("class in the first map")
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if area[i, j] > 0:
                    ax.text(j, i, f"{area[i, j]:,.0f}", ha="center", va="center",
                            fontsize=7, color="white" if i != j else "black")
    ax.set_title("Transition matrix [ha]")
    return figure_to_data_uri(fig)


def emissions_figure(em: TransitionEmissions, names: Mapping[int, str]) -> str | None:
    """Bar chart of CO2 [t CO2/yr] per changed transition (emissions up, removals down)."""
    import matplotlib.pyplot as plt

    changed = np.flatnonzero((em.from_class != em.to_class) & (em.area_ha > 0))
    if changed.size == 0:
        return None
    order = changed[np.argsort(-np.abs(em.co2_t_per_yr[changed]), kind="stable")][:MAX_BARS]
    values = em.co2_t_per_yr[order]
    labels = [f"{_label(int(em.from_class[i]), names)} → {_label(int(em.to_class[i]), names)}"
              for i in order]
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.32 * len(order)))
    y = np.arange(len(order))[::-1]
    ax.barh(y, values, color=np.where(values > 0, "#c62828", "#2e7d32"))
    ax.set_yticks(y, labels)
    ax.axvline(0, color="#1d2a33", linewidth=0.8)
    ax.set_xlabel("t CO2 / yr (positive: emission, negative: removal)")
    ax.set_title("Emissions by transition" + (f" (largest {MAX_BARS})"
                                              if changed.size > MAX_BARS else ""))
    return figure_to_data_uri(fig)


def write_transitions_report(matrix: TransitionMatrix, em: TransitionEmissions,
                             names: Mapping[int, str], summary: TransitionsSummary,
                             path: Path) -> Path:
    """Render the transitions report to ``path`` (HTML, figures embedded); return the path.

    Parameters
    ----------
    matrix, em : the outputs of :func:`~hesuan.land.ipcc.transitions.transition_matrix` and
        :func:`~hesuan.land.ipcc.transitions.transition_emissions`
    names : class code → class name (the stocks table's legend)
    summary : the run's ``transitions.json`` (years, totals, method, soil pool, provenance)
    """
    matplotlib_headless()
    rows = [
        {"from": _label(int(f), names), "to": _label(int(t), names), "area": a,
         "change": dc, "soc": ds, "co2": co2}
        for f, t, a, dc, ds, co2 in zip(em.from_class, em.to_class, em.area_ha,
                                        em.carbon_change_t_c_per_yr, em.soc_change_t_c_per_yr,
                                        em.co2_t_per_yr, strict=True)
        if f != t and a > 0
    ]
    rows.sort(key=lambda r: -abs(r["co2"]))
    return render("land_ipcc_report.html", path, s=summary, rows=rows,
                  matrix_chart=matrix_figure(matrix, names),
                  emissions_chart=emissions_figure(em, names),
                  hesuan_version=hesuan.__version__)
