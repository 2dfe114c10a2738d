"""``hesuan factors``: browse, search and validate the standards library."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hesuan.cli._console import JsonOption, console, print_json, print_table

if TYPE_CHECKING:
    from hesuan.standards import FactorRecord

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


def _print_records(records: list[FactorRecord], title: str) -> None:
    print_table([{"dataset": f"{r.dataset}@{r.version}", "id": r.id, "scope": r.scope,
                  "gas": r.gas, "value": f"{r.value:g}", "unit": r.unit,
                  "basis": r.distance_basis, "year": str(r.valid_year)} for r in records],
                columns=("dataset", "id", "scope", "gas", "value", "unit", "basis", "year"),
                title=title, numeric=("value", "year"))


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
    from hesuan.standards import list_datasets, load_dataset
    from hesuan.standards.catalogue import markdown_catalogue

    if markdown:
        typer.echo(markdown_catalogue())
        return
    if dataset:
        ds = load_dataset(dataset)
        if as_json:
            print_json([r.as_dict() for r in ds.records])
            return
        _print_records(list(ds.records), f"{ds.info.key} — {ds.info.title}")
        console.print(f"Licence: {ds.info.licence}. {ds.info.attribution}", highlight=False,
                      markup=False)
        return
    infos = list_datasets()
    if as_json:
        print_json([i.as_dict() for i in infos])
        return
    print_table([{"dataset": i.key, "factors": str(len(load_dataset(i.id, i.version))),
                  "licence": i.licence, "title": i.title} for i in infos],
                title="Shipped datasets", numeric=("factors",))


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
    from hesuan.standards import load_dataset, resolve_factor
    from hesuan.standards.loaders import available_versions

    if ":" in reference:
        record = resolve_factor(reference)
        info = load_dataset(record.dataset, record.version).info
        if as_json:
            print_json({"factor": record.as_dict(), "dataset": info.as_dict()})
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
        print_json(info.as_dict() | {"factors": len(ds)})
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
    from hesuan.standards import search_factors

    text = " ".join(words)
    hits = search_factors(text, dataset=dataset)
    if as_json:
        print_json([r.as_dict() for r in hits[:limit]])
        return
    _print_records(hits[:limit], f"{len(hits)} factor(s) match {text!r}")
    if len(hits) > limit:
        console.print(f"… {len(hits) - limit} more; use --limit or --json")


def _columns_help() -> str:
    from hesuan.io.spec import help_text
    from hesuan.standards.loaders import FACTOR_SPEC

    return help_text(FACTOR_SPEC).replace("[", "\\[")  # keep [unit] visible under Rich


_VALIDATE_HELP = """Check a dataset of your own against the format of docs/dataset-format.md.

Every problem is listed with file, line and field; exit status 2 if any. The table may be
saved by Excel: UTF-8 (with or without BOM), GB18030/GBK or cp1252, separated by commas,
semicolons or tabs. With --json, prints {"valid": …, "problems": […]}.

Example: hesuan factors validate examples/factors/my_glec_defaults

Columns of factors.csv:

"""


@app.command(help=_VALIDATE_HELP + _columns_help())
def validate(
    path: Path = typer.Argument(..., help="A dataset folder (dataset.toml + factors.csv, or a "
                                "methodology catalogue: dataset.toml + methodologies.csv)."),
    as_json: bool = JsonOption,
) -> None:
    """Check a dataset of your own (the help is ``_VALIDATE_HELP`` and the columns)."""
    from hesuan.errors import InputError
    from hesuan.standards import load_dataset_path, load_methodologies_path

    catalogue = (Path(path) / "methodologies.csv").exists() or \
        Path(path).name == "methodologies.csv"
    try:
        loaded = load_methodologies_path(path) if catalogue else load_dataset_path(path)
    except InputError as exc:
        if not as_json:
            raise
        print_json({"valid": False, "summary": exc.summary, "problems": [
            {"file": p.file, "line": p.row, "field": p.field, "message": p.message,
             "expected": p.expected} for p in exc.problems]})
        raise typer.Exit(2) from None
    kind = "methodology record(s)" if catalogue else "factor(s)"
    if as_json:
        print_json({"valid": True, "dataset": loaded.info.key, "records": len(loaded),
                    "kind": "methodologies" if catalogue else "factors",
                    "licence": loaded.info.licence, "problems": []})
        return
    console.print(f"[green]valid[/green]: {loaded.info.key} — {len(loaded)} {kind}, "
                  f"licence {loaded.info.licence}")


@app.command()
def methodologies(
    reference: str = typer.Argument(
        None, metavar="[ID[@VERSION]]",
        help="Show one methodology (newest active version unless @VERSION is given)."),
    as_json: bool = JsonOption,
) -> None:
    """List the methodology catalogue, or show one methodology.

    The catalogue holds crediting methodologies and inventory standards, each version with its
    status, source and the hesuan quantification that feeds it.

    The registry lists projects only under a catalogued, creditable id and version.

    Examples: hesuan factors methodologies   |   hesuan factors methodologies AR-ACM0003@02.0
    """
    from hesuan.standards import load_methodologies, resolve_methodology

    if reference:
        record = resolve_methodology(reference)
        if as_json:
            print_json(record.as_dict())
            return
        for key, value in record.as_dict().items():
            if value not in ("", None, []):
                shown = "; ".join(value) if isinstance(value, list) else value
                console.print(f"[bold]{key:>15}[/bold]  {shown}", highlight=False)
        return
    catalogue = load_methodologies()
    if as_json:
        print_json([r.as_dict() for r in catalogue])
        return
    print_table([{"id@version": r.key, "status": r.status, "quantifies": r.quantifies,
                  "module": r.module or "none", "programme: title": f"{r.programme}: {r.title}"}
                 for r in catalogue], title=f"Methodology catalogue {catalogue.info.key}")
    console.print(f"Metadata only ({catalogue.info.licence}); each methodology's text stays "
                  "with its publisher: `hesuan factors methodologies ID` shows its url and "
                  "licence.", highlight=False)
