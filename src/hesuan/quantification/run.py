"""Quantify a project: read its project file, find its methodology module, run it."""

from __future__ import annotations

from pathlib import Path

from hesuan.quantification.modules import get_methodology
from hesuan.quantification.project import read_project
from hesuan.quantification.report import QuantificationReport


def quantify(project_file: str | Path) -> list[QuantificationReport]:
    """Quantify a project: one sealed report per monitoring period.

    Parameters
    ----------
    project_file : the project file (TOML) naming the methodology, its version and inputs

    Returns
    -------
    One :class:`~hesuan.quantification.report.QuantificationReport` per monitoring period.

    Raises
    ------
    hesuan.errors.InputError
        naming file, row and field for any bad input; nothing is written.
    """
    project = read_project(project_file)
    spec = get_methodology(project.methodology_id, project.methodology_version,
                           file=str(project.path))
    return spec.run(project)
