"""HTML report of a GEP account.

GEP by category, service shares, the change between two years at constant prices, values by
ecosystem type and the provenance of every price and coefficient.

Everything shown is computed by :mod:`hesuan.land.gep`; this module only lays it out (and
rounds for display). The unrounded numbers are in ``gep_rows.csv`` and ``gep.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hesuan
from hesuan.land.gep.accounts import GepAccount
from hesuan.report._html import figure_to_data_uri, matplotlib_headless, render


def shares_figure(account: GepAccount) -> str:
    """Horizontal bars: each service's share of GEP [%], one group per region and year."""
    import matplotlib.pyplot as plt

    groups = sorted({(t.region, t.year) for t in account.by_service})
    services = sorted({t.key for t in account.by_service})
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(services) * max(1, len(groups)) + 1.5))
    height = 0.8 / max(1, len(groups))
    for g, (region, year) in enumerate(groups):
        gep = account.total("gep", region, year).current.amount
        values = []
        for s in services:
            t = next((x for x in account.by_service
                      if x.key == s and x.region == region and x.year == year), None)
            values.append(0.0 if t is None or gep == 0 else 100 * t.current.amount / gep)
        ax.barh([i + g * height for i in range(len(services))], values, height=height,
                label=f"{region} {year}")
    ax.set_yticks([i + height * (len(groups) - 1) / 2 for i in range(len(services))],
                  services)
    ax.set_xlabel("share of GEP [%]")
    ax.invert_yaxis()
    if len(groups) > 1:
        ax.legend()
    return figure_to_data_uri(fig)


def change_figure(account: GepAccount, region: str, years: tuple[int, int]) -> str:
    """Bars: change of each service's value between two years at constant prices."""
    import matplotlib.pyplot as plt

    def value(key: str, year: int) -> float:
        t = next((x for x in account.by_service
                  if x.key == key and x.region == region and x.year == year), None)
        return 0.0 if t is None or t.constant is None else t.constant.amount

    services = sorted({t.key for t in account.by_service if t.region == region})
    delta = [value(s, years[1]) - value(s, years[0]) for s in services]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(services) + 1.5))
    ax.barh(services, delta, color=["#2e7d32" if d >= 0 else "#c62828" for d in delta])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"change {years[0]} → {years[1]} [{account.currency}, "
                  f"{account.constant_year} prices]")
    ax.invert_yaxis()
    return figure_to_data_uri(fig)


def write_gep_report(account: GepAccount, provenance: dict[str, Any], path: Path) -> Path:
    """Write the report of ``account`` (with the provenance of :func:`run`) to ``path``."""
    matplotlib_headless()
    # Display unit: 亿元 (10⁸ CNY) as Chinese accounts print them; other currencies as they are.
    scale, unit = (1e8, "亿元 (10⁸ CNY)") if account.currency == "CNY" else (1.0, account.currency)
    pairs = sorted({(t.region, t.year) for t in account.by_category})
    ratio = {(r, y): v for r, y, v in account.gdp_ratio}
    category_rows = []
    for region, year in pairs:
        row: dict[str, Any] = {"region": region, "year": year}
        for key in ("provisioning", "regulating", "cultural", "gep"):
            try:
                t = account.total(key, region, year)
            except KeyError:
                row[key] = None
                continue
            row[key] = t.current.amount / scale
            if key == "gep":
                row["gep_constant"] = t.constant.amount / scale if t.constant else None
        row["ratio"] = ratio.get((region, year))
        category_rows.append(row)
    service_rows: list[dict[str, Any]] = []
    for t in account.by_service:
        gep = account.total("gep", t.region, t.year).current.amount
        service_rows.append({"region": t.region, "year": t.year, "service": t.key,
                             "value": t.current.amount / scale,
                             "share": 100 * t.current.amount / gep if gep else None})
    service_rows.sort(key=lambda r: (r["region"], r["year"], -r["value"]))
    ecosystem_rows: list[dict[str, Any]] = [
        {"region": t.region, "year": t.year, "key": t.key, "value": t.current.amount / scale}
        for t in account.by_ecosystem]
    ecosystem_rows.sort(key=lambda r: (r["region"], r["year"], -r["value"]))
    years = sorted({y for _, y in pairs})
    change_chart = None
    change_years = None
    if account.constant_year is not None and len(years) >= 2:
        change_years = (years[0], years[-1])
        change_chart = change_figure(account, pairs[0][0], change_years)
    return render("gep_report.html", path, p=provenance, currency=unit,
                  constant_year=account.constant_year,
                  regions=sorted({r for r, _ in pairs}), years=years,
                  category_rows=category_rows, service_rows=service_rows,
                  ecosystem_rows=ecosystem_rows, shares_chart=shares_figure(account),
                  change_chart=change_chart, change_years=change_years,
                  hesuan_version=hesuan.__version__)
