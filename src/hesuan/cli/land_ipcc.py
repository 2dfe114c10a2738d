"""``hesuan land ipcc``: IPCC Tier 1 land carbon (2006 Guidelines or 2019 Refinement).

Mounted by ``hesuan land`` as ``ipcc``. Thin: parse, call :mod:`hesuan.land.ipcc`, write
CSV/JSON atomically (temporary name, then rename), print a short summary.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from hesuan.cli import _land_options as options
from hesuan.cli._console import OverwriteOption, console, progress_bar
from hesuan.errors import InputError

if TYPE_CHECKING:
    from hesuan.land.summary import IpccTableSummary

TableCommand = Literal["soc", "forest-gain-loss", "forest-stock-difference"]

app = typer.Typer(
    help=(
        "IPCC Tier 1 land carbon (2006 Guidelines Vol. 4 or the 2019 Refinement): forest "
        "biomass by gain-loss, mineral-soil carbon, land-use-change matrices.\n\n"
        "Examples:\n\n"
        "  hesuan land ipcc forest-gain-loss forest.csv --edition 2019 --out forest_out.csv\n\n"
        "  hesuan land ipcc forest-stock-difference inventory.csv --edition 2006 "
        "--out stock_out.csv\n\n"
        "  hesuan land ipcc soc soils.csv --edition 2006 --out soc_out.csv\n\n"
        "  hesuan land ipcc transitions --from lulc_2010.tif --to lulc_2020.tif "
        "--stocks stocks.csv --years 2010 2020 --out out/"
    ),
    no_args_is_help=True,
)

EditionOption = typer.Option(..., "--edition", help="IPCC edition of the default tables: "
                             "2006 (Guidelines) or 2019 (Refinement). Required: they differ.")
JsonOption = typer.Option(False, "--json", help="Print the summary as JSON to stdout.")
TableOutOption = typer.Option(..., "--out", help="Output CSV (a .json summary is written "
                              "beside it).")


def _atomic_write(target: Path, write: Callable[[Path], Any]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _columns_help(columns: dict[str, str]) -> str:
    # "\[" keeps unit brackets such as [ha] visible under Rich markup.
    return "\n\n".join(f"  {k}: {v}".replace("[", "\\[") for k, v in columns.items())


def _forest_help() -> str:
    from hesuan.land.ipcc.columns import FOREST_COLUMNS, FOREST_OPTIONAL

    return (
        "Biomass carbon change of forest land remaining forest land by the gain-loss method "
        "(IPCC 2006 Vol. 4 Ch. 2 Eqs. 2.7, 2.9-2.14), one row per stratum.\n\n"
        "Example: hesuan land ipcc forest-gain-loss forest.csv --edition 2019 "
        "--out forest_out.csv\n\nRequired columns:\n\n" + _columns_help(FOREST_COLUMNS)
        + "\n\nOptional columns:\n\n" + _columns_help(FOREST_OPTIONAL)
    )


@app.command("forest-gain-loss", help=_forest_help())
def forest_gain_loss(
    strata: Path = typer.Argument(..., help="CSV of forest strata (columns above)."),
    edition: str = EditionOption,
    out: Path = TableOutOption,
    as_json: bool = JsonOption,
) -> None:
    """Write the IPCC gain–loss biomass table of forest strata (help: :func:`_forest_help`)."""
    from hesuan.land.ipcc.tables import forest_gain_loss as run

    _table_command("forest-gain-loss", run, strata, edition, out, as_json, "biomass change")


def _stock_difference_help() -> str:
    from hesuan.land.ipcc.columns import STOCK_DIFF_COLUMNS, STOCK_DIFF_OPTIONAL

    return (
        "Biomass carbon change of forest land remaining forest land by the stock-difference "
        "method (IPCC 2006 Vol. 4 Ch. 2 Eq. 2.8): C = A x V x BCEF_S x (1 + R) x CF at two "
        "inventories, BCEF_S by growing-stock class (Table 4.5; a volume on a printed bound "
        "falls in the lower class), R by above-ground-biomass class (Table 4.4).\n\n"
        "Example: hesuan land ipcc forest-stock-difference inventory.csv --edition 2006 "
        "--out stock_out.csv\n\nRequired columns:\n\n" + _columns_help(STOCK_DIFF_COLUMNS)
        + "\n\nOptional columns:\n\n" + _columns_help(STOCK_DIFF_OPTIONAL)
    )


@app.command("forest-stock-difference", help=_stock_difference_help())
def forest_stock_difference(
    inventory: Path = typer.Argument(..., help="CSV of forest strata at two inventories."),
    edition: str = EditionOption,
    out: Path = TableOutOption,
    as_json: bool = JsonOption,
) -> None:
    """Write the IPCC stock-difference biomass table of forest strata.

    The command's help is :func:`_stock_difference_help`.
    """
    from hesuan.land.ipcc.tables import forest_stock_difference as run

    _table_command("forest-stock-difference", run, inventory, edition, out, as_json,
                   "biomass change")


def _soc_help() -> str:
    from hesuan.land.ipcc.columns import SOC_COLUMNS

    return (
        "Mineral-soil organic carbon change (IPCC 2006 Vol. 4 Ch. 2 Eq. 2.25, 0-30 cm): "
        "SOC = SOC_REF x F_LU x F_MG x F_I x A at the start and end, change spread over "
        "D = 20 years (or over T when the period T is longer).\n\n"
        "Example: hesuan land ipcc soc soils.csv --edition 2006 --out soc_out.csv\n\n"
        "Columns:\n\n" + _columns_help(SOC_COLUMNS)
        + "\n\nOptional: soc_ref_t_c_per_ha (overrides Table 2.3), transition_years (D)."
    )


@app.command("soc", help=_soc_help())
def soc(
    strata: Path = typer.Argument(..., help="CSV of soil strata (columns above)."),
    edition: str = EditionOption,
    out: Path = TableOutOption,
    as_json: bool = JsonOption,
) -> None:
    """Write the IPCC mineral-soil carbon change table of soil strata (help: :func:`_soc_help`)."""
    from hesuan.land.ipcc.tables import soc_change

    _table_command("soc", soc_change, strata, edition, out, as_json, "soil carbon change")


def _datasets_used(frame: Any) -> list[str]:
    """``dataset@version`` of every default a result used, read from its source columns."""
    keys: set[str] = set()
    for column in frame.columns:
        if column.endswith(("_source", "_sources")):
            for cell in frame[column].to_list():
                for part in (cell or "").split("; "):
                    if "@" in part and ":" in part:
                        keys.add(part.split(":", 1)[0])
    return sorted(keys)


def table_summary(command: TableCommand, source: Path, edition: str, frame: Any, out: Path,
                  seconds: float) -> IpccTableSummary:
    """Return the typed summary of a table command (totals of ``frame``, provenance)."""
    from hesuan.io.provenance import Provenance
    from hesuan.land.summary import IpccTableSummary, datasets_used, finite

    datasets = _datasets_used(frame)
    prov = Provenance.create(f"land ipcc {command}", inputs={"strata": source},
                             parameters={"edition": edition}, datasets=datasets_used(datasets))
    total = finite(float(frame["change_t_c_per_yr"].sum()), "change_t_c_per_yr")
    co2 = finite(float(frame["co2_t_per_yr"].sum()), "co2_t_per_yr")
    return IpccTableSummary(
        command=command, edition=edition, input=str(source), strata=frame.height,
        change_t_c_per_yr=total, co2_t_per_yr=co2, input_sha256=prov.inputs[0].sha256,
        factor_datasets=datasets, output=str(out), seconds=seconds, provenance=prov)


def _table_command(command: TableCommand, run: Callable[[Path, str], Any], source: Path,
                   edition: str, out: Path, as_json: bool, label: str) -> None:
    """Check the output path, run, write the CSV and its JSON summary together, print."""
    from hesuan.io.outputs import OutputSet

    t0 = time.perf_counter()
    with OutputSet(f"land ipcc {command}") as outs:
        table = outs.add(out, "csv", label="--out")
        data = outs.add(out.with_suffix(".json"), "json", label="--out (summary)")
        frame = run(source, edition)
        summary = table_summary(command, source, edition, frame, out,
                                time.perf_counter() - t0)
        frame.write_csv(table.tmp)
        data.tmp.write_text(summary.to_json() + "\n", encoding="utf-8")
    if as_json:
        typer.echo(summary.to_json())
        return
    console.print(f"IPCC {edition}: {label} {summary.change_t_c_per_yr:,.1f} t C/yr = "
                  f"{summary.co2_t_per_yr:,.1f} t CO2/yr ({frame.height} strata) -> {out}",
                  highlight=False, soft_wrap=True)


@app.command(
    "transitions",
    help=(
        "Land-use transition matrix \\[ha] between two LULC GeoTIFFs and the stock-difference "
        "carbon change and CO2 per transition, annualised over the period (IPCC 2006 Vol. 4 "
        "Ch. 2 Eq. 2.8; CO2 = -dC x 44/12, removals negative).\n\n"
        "Stocks CSV columns: class (integer code), carbon_t_c_per_ha (all pools), name "
        "(optional). Optional soil pool, its change spread over 20 years (Eq. 2.25): per class "
        "either soil_t_c_per_ha, or soil_land_use (native, cropland, grassland) with "
        "soil_f_lu, soil_f_mg, soil_f_i for IPCC Tier 1 defaults (then give --edition, "
        "--climate-zone, --soil-type); carbon_t_c_per_ha then excludes soil.\n\n"
        "Writes transition_matrix.csv, transition_emissions.csv, transitions.json and "
        "transitions_report.html.\n\n"
        "Example: hesuan land ipcc transitions --from lulc_2010.tif --to lulc_2020.tif "
        "--stocks stocks.csv --years 2010 2020 --out out/"
    ),
)
def transitions(
    from_map: Path = typer.Option(..., "--from", help="LULC GeoTIFF at the first year."),
    to_map: Path = typer.Option(..., "--to", help="LULC GeoTIFF at the second year, same grid."),
    stocks: Path = typer.Option(..., "--stocks", help="Class -> carbon stock CSV \\[t C/ha]."),
    years: tuple[int, int] = typer.Option(..., "--years", help="The two years, e.g. 2010 2020."),
    out: Path = options.OutDirOption,
    edition: str | None = typer.Option(None, "--edition", help="IPCC edition for the soil "
                                       "pool (2006 or 2019); only with soil_* columns."),
    climate_zone: str | None = typer.Option(None, "--climate-zone",
                                            help="IPCC climate zone, e.g. warm_temperate_moist."),
    soil_type: str | None = typer.Option(None, "--soil-type",
                                         help="IPCC soil class: hac, lac, sandy, spodic, "
                                         "volcanic, wetland."),
    overwrite: bool = OverwriteOption,
    as_json: bool = JsonOption,
) -> None:
    """Analyse the land-cover transitions between two maps.

    The command's help is given where it is registered.
    """
    _, summary = _run_transitions(from_map, to_map, stocks, years, out, edition=edition,
                                  climate_zone=climate_zone, soil_type=soil_type,
                                  overwrite=overwrite, quiet=as_json)
    if as_json:
        typer.echo(summary.to_json())
        return
    console.print(f"{summary.changed_area_ha:,.1f} ha changed class; carbon change "
                  f"{summary.carbon_change_t_c_per_yr:,.1f} t C/yr = "
                  f"{summary.co2_t_per_yr:,.1f} t CO2/yr -> {out}", highlight=False,
                  soft_wrap=True)


TRANSITION_FILES = ("transition_matrix.csv", "transition_emissions.csv", "transitions.json",
                    "transitions_report.html")


def _run_transitions(from_map: Path, to_map: Path, stocks_csv: Path, years: tuple[int, int],
                     out: Path, *, edition: str | None = None, climate_zone: str | None = None,
                     soil_type: str | None = None, overwrite: bool = False,
                     quiet: bool = False) -> tuple[list[Path], Any]:
    from hesuan.io.outputs import OutputSet
    from hesuan.land.ipcc.transitions import analyse_transitions
    from hesuan.report.land_ipcc import write_transitions_report

    if years[1] <= years[0]:
        raise InputError.single(f"years {years[0]} {years[1]}", field="--years",
                                expected="the second year later than the first")
    with OutputSet("land ipcc transitions", directory=out, overwrite=overwrite,
                   label="--out") as outs:
        matrix, emissions, data, report = (
            outs.file(name, name.rsplit(".", 1)[1]) for name in TRANSITION_FILES)
        with progress_bar("transitions", "rows", disable=quiet) as progress:
            result = analyse_transitions(
                from_map, to_map, stocks_csv, years, edition=edition,
                climate_zone=climate_zone, soil_type=soil_type, progress=progress)
        summary = result.summary
        result.matrix_frame.write_csv(matrix.tmp)
        result.emissions_frame.write_csv(emissions.tmp)
        data.tmp.write_text(summary.to_json() + "\n", encoding="utf-8")
        write_transitions_report(result.matrix, result.emissions, result.names, summary,
                                 report.tmp)
    return [p.path for p in (matrix, emissions, data, report)], summary


def run_demo(out: Path) -> list[Path]:
    """Run the IPCC Tier 1 examples on the bundled data in ``examples/land/ipcc``.

    Return the output paths (under ``out/ipcc``).
    """
    from hesuan.examples import path
    from hesuan.land.ipcc.tables import forest_gain_loss, forest_stock_difference, soc_change

    target = out / "ipcc"
    paths, _ = _run_transitions(path("land", "ipcc", "lulc_2010.tif"),
                                path("land", "ipcc", "lulc_2020.tif"),
                                path("land", "ipcc", "stocks.csv"), (2010, 2020), target,
                                overwrite=True)
    for edition in ("2006", "2019"):
        forest = forest_gain_loss(path("land", "ipcc", f"forest_strata_{edition}.csv"), edition)
        paths.append(_atomic_write(target / f"forest_gain_loss_{edition}.csv", forest.write_csv))
        stock = forest_stock_difference(path("land", "ipcc", "forest_inventory.csv"), edition)
        paths.append(_atomic_write(target / f"forest_stock_difference_{edition}.csv",
                                   stock.write_csv))
        soil = soc_change(path("land", "ipcc", "soc_strata.csv"), edition)
        paths.append(_atomic_write(target / f"soc_{edition}.csv", soil.write_csv))
    return paths
