"""Read a quantification report back, check its seal, and re-run it from its inputs.

``hesuan quantify --check report.json`` calls :func:`check_report`: the report must parse as
the published schema, its ``report_sha256`` must be the hash of its content, every input file
it names must still have the SHA-256 it records, and re-running the quantification must give
a report with the same hash (every number identical).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from hesuan.errors import HesuanError, InputError, Problem
from hesuan.quantification.project import sha256_file
from hesuan.quantification.report import QuantificationReport, content_hash
from hesuan.quantification.run import quantify


class ReportCheckError(HesuanError):
    """A quantification report does not reproduce: its seal, an input or a number differs."""


def parse_report(text: str, file: str = "report") -> QuantificationReport:
    """Parse and schema-check a report's text; refuse a broken seal.

    Raises
    ------
    InputError
        not JSON, or not the schema (one problem per field);
    ReportCheckError
        ``report_sha256`` is not the hash of the content.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InputError.single(f"not valid JSON ({exc})", file=file,
                                expected="a hesuan quantification report") from None
    try:
        report = QuantificationReport.model_validate(doc)
    except ValidationError as exc:
        problems = [Problem(e["msg"], file, None, ".".join(str(p) for p in e["loc"]),
                            "the schema hesuan.quantification-report/1")
                    for e in exc.errors()[:20]]
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: not a quantification report") from None
    expected = content_hash(report.model_dump())
    if report.report_sha256 != expected:
        raise ReportCheckError(f"{file}: report_sha256 {report.report_sha256[:16]}… is not the "
                               f"hash of its content ({expected[:16]}…): the report was changed "
                               "after it was produced")
    return report


def check_report(report_file: str | Path, project_file: str | Path | None = None
                 ) -> QuantificationReport:
    """Check a report file reproduces exactly; return it.

    Parameters
    ----------
    report_file : the report (``quantification_<end>.json``)
    project_file : the project file; default: the report's ``project_file`` next to the
        report's own folder's parent inputs (looked up beside the report, then in its
        parent folders)
    """
    path = Path(report_file)
    if not path.is_file():
        raise InputError.single("no such file", file=str(path),
                                expected="a quantification report (JSON)")
    report = parse_report(path.read_text(encoding="utf-8"), str(path))
    if project_file is None:
        for folder in (path.parent, *path.parent.parents):
            if (folder / report.project_file).is_file():
                project_file = folder / report.project_file
                break
        else:
            raise InputError.single(f"project file {report.project_file} not found beside "
                                    "the report", file=str(path), field="project_file",
                                    expected="--project PATH")
    base = Path(project_file).parent
    for f in report.inputs:
        p = base / f.path
        if not p.is_file():
            raise ReportCheckError(f"input {f.role} {p} is missing")
        actual = sha256_file(p)
        if actual != f.sha256:
            raise ReportCheckError(f"input {f.role} {p} has changed: SHA-256 {actual[:16]}… "
                                   f"≠ {f.sha256[:16]}… recorded in {path}")
    rerun = [r for r in quantify(project_file) if r.period_end == report.period_end]
    if not rerun:
        raise ReportCheckError(f"re-running gives no period ending {report.period_end}")
    if rerun[0].report_sha256 != report.report_sha256:
        a, b = rerun[0].model_dump(), report.model_dump()
        diff = [k for k in b if k not in ("generated_at", "report_sha256") and a[k] != b[k]]
        raise ReportCheckError(f"re-running gives other numbers (report hash "
                               f"{rerun[0].report_sha256[:16]}… ≠ {report.report_sha256[:16]}…;"
                               f" differing: {', '.join(diff)})")
    return report
