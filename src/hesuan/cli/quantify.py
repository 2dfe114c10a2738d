"""``hesuan quantify``: a sink project's plots → one quantification report per period."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hesuan.cli._console import console, err_console
from hesuan.errors import InputError

_HELP = (
    "Quantify an afforestation project under its methodology (CCER-14-001-V01, AR-ACM0003 with "
    "AR-TOOL14): applicability, strata, tree and shrub stocks, removals, uncertainty "
    "deduction, net creditable units per vintage — one JSON report (and HTML) per "
    "monitoring period.\n\n"
    "Example:  hesuan quantify src/hesuan/examples/quantification/project.toml --out q/\n\n"
    "Check:    hesuan quantify --check q/quantification_2025-12-31.json   (re-runs from the "
    "report's inputs; exit 0 only if every number is reproduced)"
)


def quantify(
    project: Path | None = typer.Argument(None, help="Project file (.toml)."),
    out: Path | None = typer.Option(None, "--out", help="Output folder for the reports."),
    check: Path | None = typer.Option(None, "--check", help="A report to re-run and check."),
    project_file: Path | None = typer.Option(None, "--project",
                                             help="With --check: the project file (default: "
                                             "found beside the report)."),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write the HTML reports."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    from hesuan.quantification import check_report
    from hesuan.quantification import quantify as run

    if check is not None:
        report = check_report(check, project_file)
        result = {"ok": True, "report": str(check), "report_sha256": report.report_sha256,
                  "net_creditable_units": report.removals.net_creditable_units}
        if as_json:
            typer.echo(json.dumps(result, indent=1))
        else:
            console.print(f"[green]ok[/green]: {check} reproduces exactly "
                          f"(report {report.report_sha256[:16]}…, "
                          f"{report.removals.net_creditable_units} units)")
        return
    if project is None or out is None:
        raise InputError.single("give a project file and --out (or --check REPORT)",
                                expected="hesuan quantify PROJECT.toml --out DIR")
    with err_console.status("quantifying…", spinner="dots") if not as_json else _null():
        reports = run(project)
    written = write_outputs(reports, out, html=html)
    rows = [{"period_start": r.period_start, "period_end": r.period_end,
             "net_creditable_units": r.removals.net_creditable_units,
             "uncertainty_deduction_t_co2e": r.removals.uncertainty_deduction_t_co2e,
             "report_sha256": r.report_sha256} for r in reports]
    if as_json:
        typer.echo(json.dumps({"methodology": reports[0].methodology_key, "periods": rows,
                               "files": [str(p) for p in written]}, indent=1))
        return
    from rich.table import Table

    table = Table(title=f"{reports[0].project['name']} — {reports[0].methodology_key}")
    for col in ("period", "net creditable units", "uncertainty deduction t CO2e", "report"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(f"{r['period_start']} – {r['period_end']}",
                      str(r["net_creditable_units"]),
                      f"{r['uncertainty_deduction_t_co2e']:,.1f}",
                      str(r["report_sha256"])[:16] + "…")
    console.print(table)
    for p in written:
        console.print(f"wrote {p}")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def write_outputs(reports: list, out: Path, *, html: bool = True) -> list[Path]:
    """Write each report (and its HTML) atomically: all files go to temporary names first and
    are renamed only when every one was written."""
    from hesuan.quantification.report import to_json
    from hesuan.report.quantification import write_report

    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for r in reports:
            final = out / f"quantification_{r.period_end}.json"
            tmp = final.with_name(final.name + ".tmp")
            tmp.write_text(to_json(r), encoding="utf-8")
            staged.append((tmp, final))
            if html:
                hfinal = final.with_suffix(".html")
                htmp = hfinal.with_name(hfinal.name + ".tmp")
                write_report(r, htmp)
                staged.append((htmp, hfinal))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        tmp.replace(final)
    return [final for _, final in staged]
