"""From a unit back to the plots: the trail of every number behind a serial.

:func:`trail` reads a quantification report (and the verifier's attestation) and lists, for
the unit's vintage, each number on the way down — units of the vintage, net creditable
removals, uncertainty deduction, baseline, leakage, project emissions, stock change, the
stocks of both monitoring events, per-plot biomass — with the step that produced it, the
function that ran, the methodology clause it implements, the dataset records it used, the
input files with their SHA-256, and whether each is verified against its primary source.
"""

from __future__ import annotations

from typing import Any

from hesuan.quantification.report import QuantificationReport


def _step(report: QuantificationReport, prefix: str) -> list[dict[str, Any]]:
    return [s.model_dump() for s in report.steps if s.name.split("[")[0] == prefix]


def trail(report: QuantificationReport, vintage: int) -> list[dict[str, Any]]:
    """Return the numbers behind one vintage of a report, top (units) to bottom (plot files)."""
    rem = report.removals
    units = {v.year: v.units for v in report.vintages}
    out: list[dict[str, Any]] = [
        {"number": f"units of vintage {vintage}", "value": units.get(vintage, 0),
         "steps": _step(report, "vintages"), "rule": rem.rounding},
        {"number": "net creditable removals [t CO2e]", "value": rem.net_creditable_t_co2e,
         "steps": _step(report, "net_removals")},
        {"number": "uncertainty deduction [t CO2e]", "value": rem.uncertainty_deduction_t_co2e,
         "steps": _step(report, "uncertainty"), "rule": report.uncertainty.rule,
         "clause": report.uncertainty.clause},
        {"number": "baseline removals [t CO2e]", "value": rem.baseline_t_co2e,
         "source": next((p.source for p in report.parameters
                         if p.name == "baseline_removals"), "project")},
        {"number": "leakage [t CO2e]", "value": rem.leakage_t_co2e},
        {"number": "project emissions [t CO2e]", "value": rem.project_emissions_t_co2e},
        {"number": "stock change [t CO2e]", "value": rem.actual_t_co2e,
         "steps": _step(report, "stock_change")},
    ]
    for e in report.events:
        out.append({"number": f"carbon stock on {e.date} [t CO2e]", "value": e.stock_t_co2e,
                    "steps": [s.model_dump() for s in report.steps
                              if s.name.endswith(f"[{e.date}]")]})
    out.append({"number": "datasets", "value": len(report.datasets),
                "datasets": [d.model_dump() for d in report.datasets],
                "parameters": [p.model_dump() for p in report.parameters]})
    out.append({"number": "input files", "value": len(report.inputs),
                "inputs": [f.model_dump() for f in report.inputs]})
    return out
