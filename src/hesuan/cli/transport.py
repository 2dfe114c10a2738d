"""``hesuan transport``: ISO 14083 transport-chain emissions from legs and hubs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from hesuan.cli._console import console, err_console
from hesuan.transport.spec import help_text

if TYPE_CHECKING:
    from hesuan.io.outputs import OutputSet
    from hesuan.transport import TransportResult, TransportSummary

app = typer.Typer(
    help=(
        "Transport-chain GHG emissions per ISO 14083:2023 / GLEC Framework v3.\n\n"
        "Examples:\n\n"
        "  hesuan transport calculate legs.csv --out result.parquet --hubs hubs.csv "
        "--report report.html --summary summary.json\n\n"
        "  hesuan transport scenario legs.csv --rule 'fuel=diesel -> fuel=hvo100'\n\n"
        "  hesuan transport keys"
    ),
    no_args_is_help=True,
)

_LEG_HELP = ("Leg table: CSV (UTF-8 with or without BOM, GB18030/GBK, Latin-1; , ; or tab), "
             "Excel .xlsx, Parquet, or a folder of Parquet parts. One row per leg: "
             "(shipment_id, leg_id) unique. Columns:\n" + help_text())


def _print_summary(summary: TransportSummary, title: str = "Transport chain") -> None:
    table = Table(title=f"{title} — ISO 14083:2023")
    for col in ("", "t·km", "WTW t CO2e", "TTW t CO2e", "g CO2e/t·km"):
        table.add_column(col, overflow="fold")
    for row in summary.per_mode:
        g = row.intensity_wtw_g_per_tkm
        table.add_row(row.mode, f"{row.tkm:,.0f}", f"{(row.wtw_kg_co2e or 0) / 1000:,.3f}",
                      f"{(row.ttw_kg_co2e or 0) / 1000:,.3f}",
                      f"{g:,.2f}" if row.tkm and g is not None else "–")
    if summary.hub_t:
        table.add_row("hubs", f"({summary.hub_t:,.1f} t)",
                      f"{summary.hubs_wtw_t_co2e or 0:,.3f}", "", "")
    intensity = summary.intensity_g_co2e_per_tkm
    table.add_row("[bold]total[/bold]", f"{summary.tkm:,.0f}",
                  f"{summary.wtw_t_co2e or 0:,.3f}", f"{summary.ttw_t_co2e or 0:,.3f}",
                  f"{intensity:,.2f}" if intensity else "–")
    console.print(table)
    share = summary.primary_data_share
    console.print(f"legs {summary.n_legs:,}, shipments {summary.n_shipments:,}; "
                  f"primary-data share {share:.1%}" if share is not None else "", highlight=False)
    console.print(f"fossil combustion CO2 (GB/T 46531-2025, where fuel known): "
                  f"{summary.co2_combustion_t or 0:,.3f} t", highlight=False)
    for read in summary.inputs_read:
        console.print(f"read {read}", highlight=False, soft_wrap=True)  # paths stay whole
    _print_warnings(summary)


def _print_warnings(summary: TransportSummary) -> None:
    if summary.n_rejected:
        err_console.print(f"[yellow]skipped {summary.n_rejected} invalid row(s)[/yellow] → "
                          f"{summary.rejects_file or '(in memory)'}")
    for w in summary.warnings:
        lines = ", ".join(map(str, w.lines))
        err_console.print(f"[yellow]warning:[/yellow] {w.n_legs:,} {w.message} (lines {lines}"
                          f"{' …' if w.n_legs > len(w.lines) else ''})", highlight=False)


class _Bar:
    """Return the progress callback of :func:`hesuan.transport.calculate`, drawn with Rich.

    It draws on stderr, and draws nothing when stderr is not a terminal.
    """

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                            transient=True, disable=not err_console.is_terminal)
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, rows: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.advance(self.tasks[stage], rows)

    def __enter__(self) -> _Bar:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _run(input: Path, out: Path | None, hubs: Path | None, trips: Path | None,
         factors: list[str] | None, gwp: str, circuity: float | None, rules: list[str] | None,
         skip_invalid: bool, rejects: Path | None, engine: str, scheduler: str | None,
         batch_size: int, reefer_tkm: float | None,
         outputs: OutputSet | None = None) -> TransportResult:
    if engine == "dask":
        from hesuan.transport.dask_engine import calculate_dask

        return calculate_dask(input, hubs, trips, scheduler=scheduler, factors=factors,
                              gwp=gwp, circuity=circuity, scenario=rules,
                              skip_invalid=skip_invalid, reefer_tkm_per_year=reefer_tkm,
                              out=out, rejects_path=rejects)
    from hesuan.transport import calculate

    with _Bar() as bar:
        return calculate(input, hubs, trips, factors=factors, gwp=gwp, circuity=circuity,
                         scenario=rules, skip_invalid=skip_invalid,
                         reefer_tkm_per_year=reefer_tkm, batch_size=batch_size, out=out,
                         rejects_path=rejects, progress=bar, outputs=outputs)


Input = typer.Argument(..., help=_LEG_HELP, exists=False)
HubsOpt = typer.Option(None, "--hubs", help="Hub table (CSV/Parquet): shipment_id, hub_id, "
                       "hub_type, mass_t, and intensity_wtw_kg_per_t or energy columns.")
TripsOpt = typer.Option(None, "--trips", help="Trips table: trip_id, fuel, fuel_amount, "
                        "fuel_unit (fuel of a vehicle trip shared by its legs).")
FactorsOpt = typer.Option(None, "--factors", help="DATASET@VERSION to use for that dataset, "
                          "or a folder of your own dataset (e.g. GLEC defaults). Repeatable.")
GwpOpt = typer.Option("ar6", "--gwp", help="GWP-100 set: ar4 | ar5 | ar6. Applies to "
                      "refrigerants and to factors published with a per-gas split (DESNZ TTW); "
                      "others keep their publisher's set (summary.json: factor_gwp_sets).")
CircuityOpt = typer.Option(None, "--circuity", help="Road/rail distance = GCD × this when "
                           "only coordinates are given (default 1.2; labelled modelled).")
SkipOpt = typer.Option(False, "--skip-invalid", help="Write invalid rows with reasons to a "
                       "rejects file instead of stopping.")
RejectsOpt = typer.Option(None, "--rejects", help="Rejects CSV (default <out>.rejects.csv).")
EngineOpt = typer.Option("local", "--engine", help="local | dask (Parquet input).")
SchedOpt = typer.Option(None, "--scheduler", help="Dask scheduler address (default: a "
                        "LocalCluster).")
BatchOpt = typer.Option(200_000, "--batch-size", min=1000, help="Rows per batch.")
JsonOpt = typer.Option(False, "--json", help="Print summary.json to stdout instead of "
                       "tables (warnings still go to stderr).")
ReeferOpt = typer.Option(None, "--reefer-tkm-per-year", help="Annual t·km of a road reefer: "
                         "applies the CLECAT default leak (5.5 kg × 32.5 %/yr) to reefer legs "
                         "without refrigerant data.")


@app.command()
def calculate(
    input: Path = Input,
    out: Path = typer.Option(..., "--out", "-o", help="Per-leg results (Parquet). "
                             "<stem>.hubs.parquet and <stem>.shipments.parquet go beside it."),
    hubs: Path = HubsOpt,
    trips: Path = TripsOpt,
    report: Path = typer.Option(None, "--report", help="HTML disclosure report."),
    summary: Path = typer.Option(None, "--summary", help="summary.json."),
    factors: list[str] = FactorsOpt,
    gwp: str = GwpOpt,
    circuity: float = CircuityOpt,
    scenario: list[str] = typer.Option(None, "--scenario", help="Apply a rule (see "
                                       "`hesuan transport scenario --help`)."),
    skip_invalid: bool = SkipOpt,
    rejects: Path = RejectsOpt,
    engine: str = EngineOpt,
    scheduler: str = SchedOpt,
    batch_size: int = BatchOpt,
    reefer_tkm_per_year: float = ReeferOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Compute WTW/TTW/WTT emissions per leg, hub, shipment, TOC/HOC and in total.

    Example: hesuan transport calculate legs.csv --hubs hubs.csv --out result.parquet
    --summary summary.json --report report.html
    """
    from hesuan.io.outputs import OutputSet
    from hesuan.transport.driver import reopen
    from hesuan.transport.outputs import json_text

    if engine == "dask":  # the Dask engine publishes its own files: check --out first
        OutputSet("transport calculate").add(out, "parquet", label="--out")
    with OutputSet("transport calculate") as outputs:
        # every path is checked here and in calculate, before any work
        summary_file = outputs.add(summary, "json", label="--summary") if summary else None
        report_file = outputs.add(report, "html", label="--report") if report else None
        result = _run(input, out, hubs, trips, factors, gwp, circuity, scenario, skip_invalid,
                      rejects, engine, scheduler, batch_size, reefer_tkm_per_year, outputs)
        if summary_file:
            summary_file.tmp.write_text(json_text(result.summary), encoding="utf-8")
        if report_file:
            from hesuan.report.transport import write_report

            write_report(result.summary, report_file.tmp)
    result = reopen(result)
    if as_json:
        typer.echo(json_text(result.summary), nl=False)
        _print_warnings(result.summary)
        return
    _print_summary(result.summary)
    for name, path in result.paths.items():
        console.print(f"  {name}: {path}", highlight=False, soft_wrap=True)
    for path in (summary, report):
        if path:
            console.print(f"  {path}", highlight=False)


@app.command()
def scenario(
    input: Path = Input,
    rule: list[str] = typer.Option(..., "--rule", "-r", help=(
        "CONDITIONS -> ASSIGNMENTS, e.g. 'mode=road & distance_km>500 -> mode=rail, "
        "vehicle=freight_train' or 'fuel=diesel -> fuel=hvo100'. Repeatable; applied in "
        "order. Conditions: column OP value joined by &, OP = != > >= < <=; '*' for all.")),
    hubs: Path = HubsOpt,
    trips: Path = TripsOpt,
    out: Path = typer.Option(None, "--out", "-o", help="Scenario per-leg results (Parquet)."),
    summary: Path = typer.Option(None, "--summary", help="JSON with baseline, scenario and "
                                 "difference."),
    factors: list[str] = FactorsOpt,
    gwp: str = GwpOpt,
    circuity: float = CircuityOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Re-run with rules applied and show the difference to the baseline.

    Example: hesuan transport scenario legs.csv --rule 'mode=road & distance_km>500 ->
    mode=rail, vehicle=freight_train'
    """
    from hesuan.io.outputs import OutputSet
    from hesuan.transport import ScenarioSummary, compare
    from hesuan.transport import calculate as calc
    from hesuan.transport.outputs import json_text
    from hesuan.transport.scenario import parse_rules

    parse_rules(rule)
    with OutputSet("transport scenario") as outputs:
        summary_file = outputs.add(summary, "json", label="--summary") if summary else None
        alt = calc(input, hubs, trips, factors=factors, gwp=gwp, circuity=circuity,
                   scenario=rule, out=out, outputs=outputs)  # checks --out first
        base = calc(input, hubs, trips, factors=factors, gwp=gwp, circuity=circuity)
        both = ScenarioSummary(baseline=base.summary, scenario=alt.summary,
                               difference=compare(base.summary, alt.summary))
        if summary_file:
            summary_file.tmp.write_text(json_text(both), encoding="utf-8")
    if as_json:
        typer.echo(json_text(both), nl=False)
        return
    table = Table(title="Scenario vs baseline (t CO2e WTW)")
    for col in ("", "baseline", "scenario", "difference", "change"):
        table.add_column(col, overflow="fold")
    for row in both.difference.rows:
        table.add_row(row.name, f"{row.baseline or 0:,.3f}", f"{row.scenario or 0:,.3f}",
                      f"{row.difference or 0:+,.3f}",
                      f"{row.change:+.1%}" if row.change is not None else "–")
    console.print(table)
    console.print("rules: " + "; ".join(alt.summary.scenario_rules), highlight=False)
    _print_warnings(alt.summary)
    if summary:
        console.print(f"  {summary}", highlight=False)


@app.command()
def keys(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    factors: list[str] = FactorsOpt,
) -> None:
    """List the vehicle classes (per mode) and fuel keys, with the factors they use.

    Example: hesuan transport keys --json
    """
    from hesuan.transport.factors import resolve

    r = resolve(tuple(factors or ()), "AR6")
    if as_json:
        typer.echo(json.dumps({"vehicles": r.vehicles.to_dicts(), "fuels": r.fuels.to_dicts(),
                               "default_vehicle": {f"{m}/{t}": v for (m, t), v in
                                                   r.default_vehicle.items()}}, indent=2))
        return
    table = Table(title="Vehicle classes (activity-based defaults, g CO2e per t·km)")
    for col in ("mode", "vehicle", "TTW", "WTT", "basis", "factor"):
        table.add_column(col, overflow="fold")
    for row in r.vehicles.sort("mode", "vehicle").iter_rows(named=True):
        table.add_row(row["mode"], row["vehicle"], f"{row['v_ttw_g_per_tkm']:.2f}",
                      f"{row['v_wtt_g_per_tkm']:.2f}", row["v_basis"], row["v_factor_ttw"])
    console.print(table)
    table = Table(title="Fuels (kg per unit)")
    for col in ("fuel", "region", "unit", "TTW CO2e", "WTT CO2e", "fossil CO2"):
        table.add_column(col)
    for row in r.fuels.iter_rows(named=True):
        co2 = row["f_co2_kg_per_unit"]
        table.add_row(row["fuel"], row["region"] or "any", row["fuel_unit"],
                      f"{row['f_ttw_kg_per_unit']:.5g}", f"{row['f_wtt_kg_per_unit']:.5g}",
                      "–" if co2 is None else f"{co2:.5g}")
    console.print(table)


def run_demo(out: Path) -> list[Path]:
    """Run the transport demo on bundled example data; return the output paths."""
    from hesuan.examples import path as example
    from hesuan.report.transport import write_report
    from hesuan.transport import ScenarioSummary, compare, write_summary
    from hesuan.transport import calculate as calc

    folder = out / "transport"
    folder.mkdir(parents=True, exist_ok=True)
    result = calc(example("transport", "legs.csv"), example("transport", "hubs.csv"),
                  out=folder / "legs_result.parquet")
    outputs = list(result.paths.values())
    outputs.append(write_summary(result.summary, folder / "summary.json"))
    outputs.append(write_report(result.summary, folder / "report.html"))
    alt = calc(example("transport", "legs.csv"), example("transport", "hubs.csv"),
               scenario=["mode=road & distance_km>500 -> mode=rail, vehicle=freight_train",
                         "fuel=diesel -> fuel=hvo100"])
    outputs.append(write_summary(ScenarioSummary(
        baseline=result.summary, scenario=alt.summary,
        difference=compare(result.summary, alt.summary)), folder / "scenario.json"))
    _print_summary(result.summary, "Demo transport chain")
    return outputs
