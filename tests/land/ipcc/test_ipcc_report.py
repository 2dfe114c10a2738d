"""HTML report of ``hesuan land ipcc transitions`` (hesuan.report.land_ipcc) on the bundled maps.

Expected numbers are the hand-checkable ones of the bundled example (see test_ipcc_cli.py):
90 ha forest → cropland (180 → 60 t C/ha), 9 ha cropland → settlement (60 → 20) and
90 ha grassland → forest (75 → 180) over 10 years; CO2 = −ΔC × 44/12 (IPCC 2006 Vol. 4 Ch. 2,
Eq. 2.8 annualised, Section 2.2.3).
"""

from __future__ import annotations

import re

import pytest

from hesuan.examples import path
from hesuan.land.ipcc.tables import read_stocks
from hesuan.land.ipcc.transitions import (
    analyse_transitions,
    transition_emissions,
    transition_matrix,
)
from hesuan.report.land_ipcc import write_transitions_report


def test_transitions_report(tmp_path):
    table = read_stocks(path("land", "ipcc", "stocks.csv"))
    classes = tuple(sorted(table.carbon_t_c_per_ha))
    matrix = transition_matrix(path("land", "ipcc", "lulc_2010.tif"),
                               path("land", "ipcc", "lulc_2020.tif"), classes)
    em = transition_emissions(matrix, table.carbon_t_c_per_ha, 10.0)
    summary = analyse_transitions(path("land", "ipcc", "lulc_2010.tif"),
                                  path("land", "ipcc", "lulc_2020.tif"),
                                  path("land", "ipcc", "stocks.csv"), (2010, 2020)).summary
    out = write_transitions_report(matrix, em, table.names, summary, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    # Provenance is shown: the inputs' SHA-256 and the hesuan version.
    assert summary.provenance.inputs[0].sha256 in html
    assert f"hesuan {summary.provenance.hesuan_version}" in html
    assert html.count("data:image/png;base64,") == 2  # heat map + bar chart
    rows = re.findall(r"<tr><td>([^<]*) → ([^<]*)</td>(.*?)</tr>", html)
    # Three changed transitions, largest |CO2| first: forest → cropland emits
    # 90 × 120 / 10 × 44/12 = 3960 t CO2/yr; grassland → forest removes 3465; cropland →
    # settlement emits 132.
    assert [(f, t) for f, t, _ in rows] == [("forest (1)", "cropland (2)"),
                                            ("grassland (3)", "forest (1)"),
                                            ("cropland (2)", "settlement (4)")]
    co2 = [float(re.findall(r"<td>([^<]*)</td>", cells)[-1].replace(",", ""))
           for _, _, cells in rows]
    assert co2 == pytest.approx([3960.0, -3465.0, 132.0])
    assert "627" in html  # total CO2 [t CO2/yr], = 3960 − 3465 + 132
