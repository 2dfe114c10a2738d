"""HTML disclosure report of a transport run, shaped like an ISO 14083 service-level report.

After the CLECAT/UBA guide Tables 10–14, pp. 50–55: method, boundaries, totals by TOC/HOC,
intensities, data-quality share, factor sources with licences, charts.
"""

from __future__ import annotations

from pathlib import Path

from hesuan import __version__
from hesuan.report._html import figure_to_data_uri, matplotlib_headless, render
from hesuan.transport.summary import TransportSummary


def _bar(labels: list[str], values: list[float], xlabel: str, title: str) -> str:
    matplotlib_headless()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(labels), 2) + 1.2))
    ax.barh(labels, values, color="#2e7d32")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.invert_yaxis()
    return figure_to_data_uri(fig)


def write_report(summary: TransportSummary, path: str | Path) -> Path:
    """Render ``transport_report.html`` for the summary of a transport run."""
    s = summary
    modes = s.per_mode
    tocs = [t for t in s.per_toc if t.tkm]
    charts = []
    if modes:
        charts.append(_bar([m.mode for m in modes] + (["hubs"] if s.hub_t else []),
                           [(m.wtw_kg_co2e or 0.0) / 1000 for m in modes]
                           + ([s.hubs_wtw_t_co2e or 0.0] if s.hub_t else []),
                           "t CO2e (WTW)", "Emissions by mode"))
    if tocs:
        top = sorted(tocs, key=lambda t: -(t.wtw_kg_co2e or 0.0))[:20]
        charts.append(_bar([t.toc for t in top], [t.intensity_wtw_g_per_tkm or 0.0 for t in top],
                           "g CO2e / t·km (WTW)", "Intensity by TOC (largest 20 by emissions)"))
    distance_types: dict[str, set[str]] = {}
    for d in s.distances:
        distance_types.setdefault(d.mode or "", set()).add(f"{d.distance_basis} "
                                                           f"({d.distance_rule})")
    return render("transport_report.html", Path(path), s=s, tocs=tocs, charts=charts,
                  distance_types={k: ", ".join(sorted(v)) for k, v in distance_types.items()},
                  hesuan_version=__version__)
