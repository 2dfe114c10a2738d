"""``hesuan land habitat``: habitat quality and degradation (InVEST's habitat-quality model)."""

from __future__ import annotations

from pathlib import Path

import typer

from hesuan.cli import _land_options as options
from hesuan.cli._console import OverwriteOption, console, progress_bar

HELP = (
    "Habitat quality and degradation from a land-cover map and threat rasters (InVEST "
    "habitat-quality model, parity-tested with InVEST 3.20).\n\n"
    "Threats table: threat, max_dist_km (km), weight [0–1], decay (linear | exponential), "
    "raster (path relative to the table). Sensitivity table: lucode, name, habitat [0–1] "
    "and one column per threat [0–1]. Writes deg_sum.tif, quality.tif (COGs) and "
    "summary.json to --out.\n\n"
    "Example: hesuan land habitat --lulc lulc.tif --threats threats.csv "
    "--sensitivity sensitivity.csv --half-saturation 0.4 --out out/habitat"
)


def habitat(
    lulc: Path = typer.Option(..., "--lulc", help="LULC GeoTIFF (projected CRS, square "
                              "pixels)."),
    threats: Path = typer.Option(..., "--threats", help="Threats table (CSV/Excel/Parquet)."),
    sensitivity: Path = typer.Option(..., "--sensitivity", help="Sensitivity table."),
    out: Path = options.OutDirOption,
    half_saturation: float = typer.Option(0.05, "--half-saturation", help="Half-saturation "
                                          "constant k (often half the largest degradation)."),
    overwrite: bool = OverwriteOption,
    as_json: bool = typer.Option(False, "--json", help="Print summary.json to stdout."),
) -> None:
    """Run the habitat quality model (the command's help is :data:`HELP`)."""
    from hesuan.land.habitat import run

    with progress_bar("land habitat", disable=as_json) as progress:
        result = run(lulc, threats, sensitivity, out, half_saturation=half_saturation,
                     overwrite=overwrite, progress=progress)
    s = result.summary
    if as_json:
        typer.echo(s.to_json())
        return
    console.print(f"mean habitat quality (H > 0): {s.mean_quality_habitat:.4f}   "
                  f"largest degradation: {s.max_degradation:.4f}", highlight=False)
    for c in s.classes:
        console.print(f"  {c.lucode:>6} {c.name:<20} {c.pixels:>10,} px  D {c.mean_degradation:.4f}"
                      f"  Q {c.mean_quality:.4f}", highlight=False)
    console.print(f"outputs in {out}", highlight=False, soft_wrap=True)
