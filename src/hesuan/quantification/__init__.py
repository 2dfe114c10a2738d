"""hesuan.quantification: sink methodologies applied to plot measurements.

Between the calculators and the registry: a methodology module turns a project's plots and
trees into one :class:`~hesuan.quantification.report.QuantificationReport` per monitoring
period — applicability, strata, stocks, removals, uncertainty deduction, net creditable
removals per vintage — each step a cited pure function. The registry accepts monitoring
reports that carry such a report; verifiers attest it by its hash.

Imports only ``standards``, ``units``, ``errors`` and ``land`` (never ``registry`` or ``cli``).

Example
-------
>>> from hesuan.examples import path
>>> from hesuan.quantification import quantify
>>> reports = quantify(path("quantification", "project.toml"))
>>> reports[-1].removals.net_creditable_units
9040
"""

from __future__ import annotations

from pathlib import Path

from hesuan.quantification.modules import get_methodology, registered
from hesuan.quantification.report import QuantificationReport, json_schema, to_json
from hesuan.quantification.run import quantify

__all__ = ["QuantificationReport", "check_report", "get_methodology", "json_schema",
           "quantify", "registered", "to_json"]


def check_report(report_file: str | Path, project_file: str | Path | None = None
                 ) -> QuantificationReport:
    """Re-run the quantification a report records and check it reproduces the report.

    See :func:`hesuan.quantification.check.check_report`.
    """
    from hesuan.quantification.check import check_report as _check

    return _check(report_file, project_file)
