"""``hesuan factors``: browse, search and validate the standards library."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hesuan.cli._console import console
from hesuan.standards import (
    FactorRecord,
    list_datasets,
    load_dataset,
    load_dataset_path,
    load_methodologies,
    load_methodologies_path,
    resolve_factor,
    resolve_methodology,
    search_factors,
)
from hesuan.standards.catalogue import markdown_catalogue
from hesuan.standards.loaders import available_versions

app = typer.Typer(
    help=(
        "Browse the standards library: cited, versioned emission factors and defaults.\n\n"
        "Examples:\n\n"
        "  hesuan factors list\n\n"
        "  hesuan factors list --dataset desnz_ghg@2025\n\n"
        "  hesuan factors search hgv articulated ttw\n\n"
        "  hesuan factors show ipcc_gwp100@AR6\n\n"
        "  hesuan factors show ipcc_gwp100@AR6:gwp.ch4_fossil\n\n"
        "  hesuan factors validate my_factors/\n\n"
        "  hesuan factors methodologies\n\n"
        "  hesuan factors methodologies VM0047@1.1"
    ),
    no_args_is_help=True,
)

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def _records_table(records: list[FactorRecord], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("dataset", no_wrap=True)
    table.add_column("id", overflow="fold", ratio=3)
    for column in ("scope", "gas", "value"):
        table.add_column(column, no_wrap=True)
    table.add_column("unit", overflow="fold", ratio=1)
    table.add_column("basis", no_wrap=True)
    table.add_column("year", no_wrap=True)
    for r in records:
        table.add_row(f"{r.dataset}@{r.version}", r.id, r.scope, r.gas, f"{r.value:g}", r.unit,
                      r.distance_basis, str(r.valid_year))
    return table


@app.command("list")
def list_(
    dataset: str = typer.Option(None, "--dataset", "-d",
                                help="List the factors of one dataset (ID or ID@VERSION)."),
    as_json: bool = JsonOption,
    markdown: bool = typer.Option(
        False, "--markdown", help="Print the dataset catalogue as Markdown (docs/standards.md)."),
) -> None:
    """List the shipped datasets, or the factors of one dataset.

    Example: hesuan factors list --dataset ipcc_gwp100@AR6
    """
    if markdown:
        typer.echo(markdown_catalogue())
        return
    if dataset:
        ds = load_dataset(dataset)
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in ds.records], indent=2))
            return
        console.print(_records_table(list(ds.records), f"{ds.info.key} — {ds.info.title}"))
        console.print(f"Licence: {ds.info.licence}. {ds.info.attribution}")
        return
    infos = list_datasets()
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2))
        return
    table = Table(title="Shipped datasets")
    table.add_column("dataset", no_wrap=True, min_width=20)
    table.add_column("factors", justify="right", min_width=7)
    table.add_column("licence", overflow="fold", max_width=22)
    table.add_column("title", overflow="fold", ratio=1)
    for info in infos:
        table.add_row(info.key, str(len(load_dataset(info.id, info.version))), info.licence,
                      info.title)
    console.print(table)


@app.command()
def show(
    reference: str = typer.Argument(
        ..., metavar="ID",
        help="A dataset (ID or ID@VERSION) or a factor (DATASET@VERSION:FACTOR_ID)."),
    as_json: bool = JsonOption,
) -> None:
    """Show a dataset's provenance and licence, or one factor with its source.

    Examples: hesuan factors show desnz_ghg   |   hesuan factors show ipcc_gwp100@AR6:gwp.n2o
    """
    if ":" in reference:
        record = resolve_factor(reference)
        info = load_dataset(record.dataset, record.version).info
        if as_json:
            typer.echo(json.dumps({"factor": record.as_dict(), "dataset": info.as_dict()},
                                  indent=2))
            return
        for key, value in record.as_dict().items():
            console.print(f"[bold]{key:>15}[/bold]  {value}", highlight=False)
        console.print(f"[bold]{'licence':>15}[/bold]  {info.licence} ({info.licence_url})")
        console.print(f"[bold]{'attribution':>15}[/bold]  {info.attribution}")
        console.print(f"[bold]{'citation':>15}[/bold]  {info.citation}")
        return
    ds = load_dataset(reference)
    info = ds.info
    if as_json:
        typer.echo(json.dumps(info.as_dict() | {"factors": len(ds)}, indent=2))
        return
    for key, value in info.as_dict().items():
        if value not in ("", None):
            console.print(f"[bold]{key:>15}[/bold]  {value}", highlight=False)
    console.print(f"[bold]{'factors':>15}[/bold]  {len(ds)}")
    console.print(f"[bold]{'versions':>15}[/bold]  {', '.join(available_versions(info.id))}")


@app.command()
def search(
    words: list[str] = typer.Argument(..., help="Words that must all appear (id, notes…)."),
    dataset: str = typer.Option(None, "--dataset", "-d", help="Search one dataset only."),
    limit: int = typer.Option(50, min=1, max=10_000, help="Show at most this many hits."),
    as_json: bool = JsonOption,
) -> None:
    """Search the shipped factors by words.

    Example: hesuan factors search articulated diesel ttw
    """
    text = " ".join(words)
    hits = search_factors(text, dataset=dataset)
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in hits[:limit]], indent=2))
        return
    console.print(_records_table(hits[:limit], f"{len(hits)} factor(s) match {text!r}"))
    if len(hits) > limit:
        console.print(f"… {len(hits) - limit} more; use --limit or --json")


@app.command()
def validate(
    path: Path = typer.Argument(..., help="A dataset folder (dataset.toml + factors.csv, or a "
                                "methodology catalogue: dataset.toml + methodologies.csv)."),
) -> None:
    """Check a dataset of your own against the format of docs/dataset-format.md.

    Every problem is listed with file, line and field; exit status 2 if any.

    Example: hesuan factors validate examples/factors/my_glec_defaults
    """
    if (Path(path) / "methodologies.csv").exists() or Path(path).name == "methodologies.csv":
        cat = load_methodologies_path(path)
        console.print(f"[green]valid[/green]: {cat.info.key} — {len(cat)} methodology "
                      f"record(s), licence {cat.info.licence}")
        return
    ds = load_dataset_path(path)
    console.print(f"[green]valid[/green]: {ds.info.key} — {len(ds)} factor(s), "
                  f"licence {ds.info.licence}")


@app.command()
def methodologies(
    reference: str = typer.Argument(
        None, metavar="[ID[@VERSION]]",
        help="Show one methodology (newest active version unless @VERSION is given)."),
    as_json: bool = JsonOption,
) -> None:
    """List the methodology catalogue (crediting methodologies and inventory standards, each
    version with status, source and the hesuan quantification that feeds it), or show one.

    The registry lists projects only under a catalogued, creditable id and version.

    Examples: hesuan factors methodologies   |   hesuan factors methodologies AR-ACM0003@02.0
    """
    if reference:
        record = resolve_methodology(reference)
        if as_json:
            typer.echo(json.dumps(record.as_dict(), indent=2, ensure_ascii=False))
            return
        for key, value in record.as_dict().items():
            if value not in ("", None, []):
                shown = "; ".join(value) if isinstance(value, list) else value
                console.print(f"[bold]{key:>15}[/bold]  {shown}", highlight=False)
        return
    catalogue = load_methodologies()
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in catalogue], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Methodology catalogue {catalogue.info.key}")
    table.add_column("id@version", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("quantifies", no_wrap=True)
    table.add_column("fed by", no_wrap=True)
    table.add_column("programme: title", overflow="fold", ratio=1, min_width=20)
    for r in catalogue:
        table.add_row(r.key, r.status, r.quantifies, r.quantification,
                      f"{r.programme}: {r.title}")
    console.print(table)
    console.print(f"Metadata only ({catalogue.info.licence}); each methodology's text stays "
                  "with its publisher: `hesuan factors methodologies ID` shows its url and "
                  "licence.", highlight=False)
