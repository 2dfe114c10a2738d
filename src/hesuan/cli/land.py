"""``hesuan land``: carbon storage, sequestration and value on land-cover maps."""

from __future__ import annotations

from pathlib import Path

import typer

from hesuan.cli import _land_options as options
from hesuan.cli import land_gep, land_habitat, land_ipcc, land_seea
from hesuan.cli._console import OverwriteOption, console, progress_bar
from hesuan.cli.land_ipcc import app as ipcc_app
from hesuan.errors import InputError

app = typer.Typer(
    help="Land carbon: storage, sequestration and its value on LULC maps (the InVEST "
         "carbon model, with uncertainty and regional totals).",
    no_args_is_help=True,
)
app.add_typer(ipcc_app, name="ipcc")
app.add_typer(land_gep.app, name="gep")
app.add_typer(land_seea.app, name="seea")
app.command("habitat", help=land_habitat.HELP)(land_habitat.habitat)

_EXAMPLE = (
    "Example: hesuan land carbon --lulc lulc_2020.tif --pools pools.csv --alt lulc_2030.tif "
    "--price 43 --discount -7.1 --price-change 2.8 --years 2016 2030 "
    "--regions counties.gpkg --out out/"
)


_OUTPUTS_HELP = (
    "Rasters to write, comma-separated: all (default), none, the ids c_pool, c_storage, "
    "c_change, npv, or file stems such as c_storage_bas, c_soil_alt.")


@app.command("carbon", help="Carbon storage and sequestration (InVEST parity).\n\n" + _EXAMPLE
             + "\n\nRasters are written as one Cloud-Optimized GeoTIFF per class map plus a "
             "small GDAL VRT per raster (--raster-format vrt, the default: fastest; GDAL, QGIS "
             "and rasterio open them) or as one self-contained COG per raster "
             "(--raster-format cog).")
def carbon(
    lulc: Path = typer.Option(..., "--lulc", help="Baseline LULC GeoTIFF (projected CRS)."),
    pools: Path = typer.Option(..., "--pools", help="Pools CSV: lucode, c_above, c_below, "
                               "c_soil, c_dead [t C/ha]; optional <pool>_sd."),
    out: Path = options.OutDirOption,
    alt: Path | None = typer.Option(None, "--alt", help="Alternate LULC GeoTIFF, same grid."),
    price: float | None = typer.Option(None, "--price", help="Price per tonne of CARBON "
                                       "(a CO2 price × 44/12)."),
    discount: float | None = typer.Option(None, "--discount",
                                          help="Annual discount rate [%] (3 = 3 %)."),
    price_change: float | None = typer.Option(None, "--price-change",
                                              help="Annual change of the price [%]."),
    years: tuple[int, int] | None = typer.Option(None, "--years",
                                                 help="Years of the baseline and alternate."),
    regions: Path | None = options.RegionsOption,
    region_id: str | None = options.RegionIdOption,
    engine: str = options.EngineOption,
    scheduler: str | None = options.SchedulerOption,
    workers: int | None = options.WorkersOption,
    mc_samples: int = typer.Option(10_000, "--mc-samples", help="Monte Carlo draws (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Monte Carlo seed."),
    outputs: list[str] | None = typer.Option(None, "--outputs", help=_OUTPUTS_HELP),
    raster_format: str = typer.Option("vrt", "--raster-format",
                                      help="vrt (class-map COGs and a VRT look-up per "
                                      "raster) or cog (a COG per raster)."),
    no_pool_rasters: bool = typer.Option(False, "--no-pool-rasters",
                                         help="Write only total/change/NPV rasters."),
    no_rasters: bool = typer.Option(False, "--no-rasters", help="Totals only, no rasters."),
    no_report: bool = options.NoReportOption,
    overwrite: bool = OverwriteOption,
    as_json: bool = typer.Option(False, "--json", help="Print summary.json to stdout."),
) -> None:
    """Run the land carbon model (the command's help is given where it is registered)."""
    from hesuan.land.carbon import Valuation, run

    valuation = None
    given = {"--price": price, "--discount": discount, "--price-change": price_change,
             "--years": years}
    if any(v is not None for v in given.values()):
        missing = [k for k, v in given.items() if v is None]
        if missing:
            raise InputError.single(f"valuation needs {', '.join(missing)} too",
                                    field=missing[0],
                                    expected="--price, --discount, --price-change, --years")
        assert price is not None and discount is not None and price_change is not None
        assert years is not None
        valuation = Valuation(price, discount, price_change, years[0], years[1])
    with progress_bar("land carbon", disable=as_json) as progress:
        result = run(lulc, pools, out, alt=alt, valuation=valuation, regions=regions,
                     region_id=region_id, engine=engine, scheduler=scheduler, workers=workers,
                     outputs=outputs, raster_format=raster_format,
                     write_rasters=not no_rasters, write_pool_rasters=not no_pool_rasters,
                     mc_samples=mc_samples, seed=seed, overwrite=overwrite, publish=False,
                     progress=progress)
    try:
        if not no_report:
            from hesuan.report.land import write_report

            write_report(result)
        result.publish()
    finally:
        result.abort()
    if as_json:
        typer.echo(result.summary.to_json())
        return
    s = result.summary
    a1 = s.uncertainty.approach1 if s.uncertainty is not None else {}
    for key in ("storage_base_t_c", "storage_alt_t_c", "sequestration_t_c",
                "sequestration_t_co2e", "npv"):
        value = getattr(s, key)
        if value is not None:
            line = f"{key:>22}: {value:,.2f}"
            if key in a1:
                line += f"   95 % CI {a1[key].ci95_low:,.0f} … {a1[key].ci95_high:,.0f}"
            console.print(line, highlight=False, soft_wrap=True)
    console.print(f"outputs in {out}", highlight=False, soft_wrap=True)


def run_demo(out: Path) -> list[Path]:
    """Run the land demo on bundled example data into ``out/land``; return the output paths."""
    from hesuan.examples import path
    from hesuan.land.carbon import Valuation, run
    from hesuan.report.land import write_report

    result = run(path("land", "lulc_2020.tif"), path("land", "pools.csv"), Path(out) / "land",
                 alt=path("land", "lulc_2030.tif"),
                 valuation=Valuation(43.0, -7.1, 2.8, 2016, 2030),
                 regions=path("land", "counties.gpkg"), region_id="county", overwrite=True,
                 publish=False)
    try:
        write_report(result)
        paths = result.publish()
    finally:
        result.abort()
    ipcc_outputs = land_ipcc.run_demo(Path(out) / "land")
    return [*paths.values(), *ipcc_outputs]
