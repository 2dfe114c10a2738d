"""``hesuan land gep``: Gross Ecosystem Product (生态产品总值) accounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hesuan.cli import _land_options as options
from hesuan.cli._console import OverwriteOption, console, progress_bar

if TYPE_CHECKING:
    from hesuan.land.gep.accounts import GepAccount

app = typer.Typer(
    help="Gross Ecosystem Product (GEP, 生态产品总值): physical and monetary accounts of "
         "ecosystem products and services under an explicit edition (GB/T 46869-2025, "
         "MEE 2020, NDRC/NBS 2022, a study preset, or your own).",
    no_args_is_help=True,
)

_EXAMPLE = (
    "Example (the bundled county, 2015 and 2020, Garzê-study prices of 2010 moved to each "
    "year by a price index, constant 2020 prices):\n\n"
    "hesuan land gep run --edition gep_garze2010@2017 "
    "--quantities examples/gep/quantities.csv --layers examples/gep/layers.csv "
    "--types examples/gep/types.csv --region-name county "
    "--price-index examples/gep/price_index.csv --constant-year 2020 "
    "--gdp examples/gep/gdp.csv --ac-days 90 --out out/gep"
)


@app.command("run", help="Compute a GEP account: rasters and tables in; tables (CSV, "
             "Parquet, JSON, .xlsx), service maps and an HTML report out.\n\n" + _EXAMPLE)
def run_command(
    edition: str = typer.Option(..., "--edition", help="Edition id@version (see `hesuan "
                                "land gep editions`) or the folder of your own edition."),
    out: Path = options.OutDirOption,
    quantities: Path | None = typer.Option(None, "--quantities", help="Quantities table "
                                           "(CSV/.xlsx): region, year, ecosystem_type, "
                                           "indicator, quantity, unit [, outside_quantity]."),
    layers: Path | None = typer.Option(None, "--layers", help="Rasters by year (CSV): year, "
                                       "field, path."),
    types: Path | None = typer.Option(None, "--types", help="Per-type table: code, "
                                      "ecosystem_type, c_factor, p_factor, "
                                      "transpiration_kj_per_m2_day, water_surface."),
    regions: Path | None = options.RegionsOption,
    region_id: str | None = options.RegionIdOption,
    region_name: str = typer.Option("all", "--region-name", help="Region name of the "
                                    "whole map when --regions is not given."),
    prices: Path | None = typer.Option(None, "--prices", help="Your prices (CSV/.xlsx): "
                                       "indicator, price, price_per, currency, price_year, "
                                       "source [, ecosystem_type]."),
    price_index: Path | None = typer.Option(None, "--price-index", help="Fixed-base price "
                                            "index (CSV/.xlsx): year, index [, source]."),
    constant_year: int | None = typer.Option(None, "--constant-year", help="Also report "
                                             "constant prices of this year."),
    gdp: Path | None = typer.Option(None, "--gdp", help="GDP table: region, year, gdp, unit, "
                                    "price_year (for GEP/GDP)."),
    coefficient: list[str] = typer.Option([], "--coefficient", help="A coefficient of the "
                                          "physical methods NAME=VALUE, overriding the "
                                          "edition's (e.g. soil_bulk_density=1.3); repeat."),
    ac_days: float = typer.Option(0.0, "--ac-days", help="Air-conditioning days [d] "
                                  "(transpiration cooling)."),
    ac_efficiency: float = typer.Option(3.0, "--ac-efficiency", help="Air-conditioner energy "
                                        "efficiency ratio [-]."),
    rweq_plot_length: float = typer.Option(50.0, "--rweq-plot-length",
                                           help="RWEQ plot length z [m] (sand fixation)."),
    engine: str = options.EngineOption,
    scheduler: str | None = options.SchedulerOption,
    workers: int | None = options.WorkersOption,
    no_maps: bool = typer.Option(False, "--no-maps", help="Do not write service maps."),
    no_report: bool = options.NoReportOption,
    clip_negative_water: bool = typer.Option(False, "--clip-negative-water",
                                             help="Set pixels with P − R − ET < 0 to 0."),
    overwrite: bool = OverwriteOption,
    as_json: bool = typer.Option(False, "--json", help="Print the totals as JSON."),
) -> None:
    """Compute a GEP account (the command's help is given where it is registered)."""
    from hesuan.errors import InputError
    from hesuan.land.gep.raster import ClimateParameters
    from hesuan.land.gep.run import run
    from hesuan.report.gep import write_gep_report

    coefficients: dict[str, float] = {}
    for item in coefficient:
        name, _, value = item.partition("=")
        try:
            coefficients[name.strip()] = float(value)
        except ValueError:
            raise InputError.single(f"bad coefficient {item!r}", field="--coefficient",
                                    expected="NAME=VALUE, e.g. soil_bulk_density=1.3") from None
    with progress_bar("land gep") as progress:
        result = run(edition, out, quantities=quantities, layers=layers, types=types,
                     regions=regions, region_id=region_id, whole_map=region_name,
                     prices=prices, price_index=price_index, constant_year=constant_year,
                     gdp=gdp, climate=ClimateParameters(ac_days, ac_efficiency,
                                                        source="command line"),
                     coefficients=coefficients or None,
                     engine=engine, workers=workers, scheduler=scheduler,
                     write_maps=not no_maps,
                     report=None if no_report else write_gep_report,
                     clip_negative_water=clip_negative_water, overwrite=overwrite,
                     rweq_plot_length_m=rweq_plot_length, progress=progress)
    _print(result.account, as_json, out)


def _print(account: GepAccount, as_json: bool, out: Path) -> None:
    totals = [{"region": t.region, "year": t.year, "key": t.key,
               "value_current": t.current.amount, "currency": t.current.currency,
               "current_price_year": t.current.price_year,
               "value_constant": t.constant.amount if t.constant else None,
               "constant_price_year": t.constant.price_year if t.constant else None}
              for t in account.by_category]
    if as_json:
        typer.echo(json.dumps({"edition": account.edition, "totals": totals,
                               "gdp_ratio": [list(r) for r in account.gdp_ratio],
                               "outputs": str(out)}, ensure_ascii=False, indent=1))
        return
    console.print(f"edition {account.edition}", highlight=False)
    for x in account.by_category:
        const = (f"   {x.constant.amount / 1e8:,.4f} 亿 at {x.constant.price_year} prices"
                 if x.constant is not None else "")
        console.print(f"  {x.region} {x.year} {x.key:>13}: {x.current.amount / 1e8:,.4f} 亿 "
                      f"{x.current.currency} ({x.current.price_year} prices){const}",
                      highlight=False)
    for region, year, ratio in account.gdp_ratio:
        console.print(f"  {region} {year}       GEP/GDP: {ratio:.3f}", highlight=False)
    console.print(f"outputs in {out}", highlight=False)


@app.command("editions", help="List the shipped GEP editions.\n\nExample: hesuan land gep "
             "editions")
def editions() -> None:
    """List the shipped GEP editions with their counts of indicators, verified and priced rows."""
    from hesuan.standards.gep_editions import list_gep_editions, load_gep_edition

    for info in list_gep_editions():
        ed = load_gep_edition(info.id, info.version)
        verified = sum(i.verified for i in ed.indicators)
        priced = sum(i.price is not None for i in ed.indicators)
        console.print(f"  {info.key:<24} {len(ed.indicators):>3} indicators, {verified:>3} "
                      f"verified, {priced:>3} priced  {info.title}", highlight=False)


@app.command("show", help="Show an edition's indicators, prices and coefficients.\n\n"
             "Example: hesuan land gep show gep_garze2010@2017")
def show(edition: str = typer.Argument(..., help="id@version or a folder."),
         as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Show an edition's indicators, prices and coefficients, as a table or JSON."""
    from dataclasses import asdict

    from hesuan.standards.gep_editions import resolve_gep_edition

    ed = resolve_gep_edition(edition)
    if as_json:
        typer.echo(json.dumps({"edition": ed.key, "info": ed.info.as_dict(),
                               "indicators": [asdict(i) for i in ed.indicators],
                               "coefficients": [asdict(c) for c in ed.coefficients]},
                              ensure_ascii=False, indent=1))
        return
    console.print(f"{ed.key}: {ed.info.title}", highlight=False)
    for i in ed.indicators:
        price = (f"{i.price:g} {i.currency}/{i.price_per} ({i.price_year})"
                 if i.price is not None else "no default price")
        flag = "" if i.verified else "  [unverified]"
        counted = "" if i.counted else "  [not counted]"
        console.print(f"  {i.id}{'@' + i.ecosystem_type if i.ecosystem_type else ''}: "
                      f"{i.name_zh} [{i.quantity_unit}], {i.valuation}, {price}"
                      f"{counted}{flag}", highlight=False)
    for c in ed.coefficients:
        console.print(f"  coefficient {c.id} = {c.value:g} {c.unit} ({c.source})",
                      highlight=False)


@app.command("validate", help="Check an edition folder of your own (every problem with "
             "file, line and field).\n\nExample: hesuan land gep validate my_edition/")
def validate(folder: Path = typer.Argument(..., help="Folder with dataset.toml, "
                                           "indicators.csv [, coefficients.csv].")) -> None:
    """Check an edition folder of one's own and say how many indicators and coefficients it has."""
    from hesuan.standards.gep_editions import load_gep_edition_path

    ed = load_gep_edition_path(folder)
    console.print(f"{ed.key}: {len(ed.indicators)} indicators, {len(ed.coefficients)} "
                  "coefficients — valid", highlight=False)


def run_demo(out: Path) -> list[Path]:
    """Run the bundled county example (``examples/gep``) into ``out/gep``; return the paths."""
    from hesuan.examples import path
    from hesuan.land.gep.raster import ClimateParameters
    from hesuan.land.gep.run import run
    from hesuan.report.gep import write_gep_report

    result = run("gep_garze2010@2017", Path(out) / "gep", report=write_gep_report,
                 overwrite=True,
                 quantities=path("gep", "quantities.csv"), layers=path("gep", "layers.csv"),
                 types=path("gep", "types.csv"), whole_map="county",
                 price_index=path("gep", "price_index.csv"), constant_year=2020,
                 gdp=path("gep", "gdp.csv"),
                 climate=ClimateParameters(ac_days=90, ac_efficiency=3.0,
                                           source="example (illustrative)"))
    _print(result.account, False, Path(out) / "gep")
    return [Path(p) for p in result.outputs.values()]
