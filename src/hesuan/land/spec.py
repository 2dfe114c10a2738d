"""Every input and output of the carbon model, declared once.

The CLI help, the output file names, the validation messages and the docs' tables
(:func:`markdown_table`) all come from these declarations (after InVEST's ``MODEL_SPEC``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hesuan.errors import InputError

#: The four carbon pools, in InVEST's column names and order.
POOLS: tuple[str, ...] = ("c_above", "c_below", "c_soil", "c_dead")

#: Nodata value of every float32 output raster (GDAL's usual choice; sequestration and NPV
#: can be negative, so −1 would be ambiguous).
NODATA_F32 = -3.4028234663852886e38


@dataclass(frozen=True)
class Input:
    """One input of the model."""

    id: str
    kind: str
    units: str
    about: str
    required: str = "yes"


@dataclass(frozen=True)
class Output:
    """One output file of the model; ``{s}`` in the path is the scenario (``bas``/``alt``)."""

    id: str
    path: str
    units: str
    about: str
    created_if: str = "always"


INPUTS: tuple[Input, ...] = (
    Input("lulc_bas_path", "GeoTIFF, 1 band, integer", "LULC code",
          "Baseline land use/land cover map in a projected CRS with metre units."),
    Input("carbon_pools_path", "CSV", "t C/ha",
          "Pools table: lucode, c_above, c_below, c_soil, c_dead; optional <pool>_sd or "
          "<pool>_lo95/<pool>_hi95 and lulc_name."),
    Input("lulc_alt_path", "GeoTIFF, 1 band, integer", "LULC code",
          "Alternate (future/scenario) map on exactly the baseline's grid and CRS.",
          required="for sequestration"),
    Input("price_per_t_c", "number", "currency/t C",
          "Price of one tonne of carbon (a CO2 price × 44/12).", required="for valuation"),
    Input("discount_rate_pct", "number", "%/yr", "Annual market discount rate (3 = 3 %).",
          required="for valuation"),
    Input("price_change_pct", "number", "%/yr", "Annual change in the price of carbon.",
          required="for valuation"),
    Input("years", "two integers", "year", "Years of the baseline and alternate maps.",
          required="for valuation"),
    Input("regions_path", "GeoPackage/GeoJSON/Shapefile of polygons", "-",
          "Regions to total over (pixel-centre rule).", required="no"),
)

OUTPUTS: tuple[Output, ...] = (
    Output("c_pool", "{pool}_{s}.tif", "t C/ha", "Density of each pool per pixel.",
           "in --outputs (default all)"),
    Output("c_storage", "c_storage_{s}.tif", "t C/ha", "Total carbon density per pixel.",
           "in --outputs (default all)"),
    Output("c_change", "c_change_bas_alt.tif", "t C/ha",
           "Sequestration density, alternate − baseline.", "lulc_alt_path"),
    Output("npv", "npv_alt.tif", "currency/ha", "Net present value of sequestration per ha.",
           "valuation"),
    Output("summary", "summary.json", "t C, t CO2e, currency",
           "Totals, intervals, variance by class, provenance."),
    Output("classes", "classes.csv", "t C", "Storage and sequestration by class."),
    Output("regions", "regions.csv", "t C, t CO2e, currency", "Totals per region.",
           "regions_path"),
    Output("regions_map", "regions_map.png", "t C", "Map of sequestration by region.",
           "regions_path and report"),
    Output("report", "report.html", "-", "Maps, charts and tables.", "report"),
)


def output(id_: str) -> Output:
    """Return the declared output ``id_``."""
    return next(o for o in OUTPUTS if o.id == id_)


def raster_names(has_alt: bool, has_value: bool, pools: bool) -> list[str]:
    """File stems of the raster outputs of a run, from the declarations above."""
    names: list[str] = []
    for s in ("bas", "alt") if has_alt else ("bas",):
        if pools:
            names += [output("c_pool").path.format(pool=p, s=s)[:-4] for p in POOLS]
        names.append(output("c_storage").path.format(s=s)[:-4])
    if has_alt:
        names.append(output("c_change").path[:-4])
        if has_value:
            names.append(output("npv").path[:-4])
    return names


def markdown_table(items: tuple[Input, ...] | tuple[Output, ...]) -> str:
    """Return a Markdown table of the inputs or outputs, for the docs."""
    rows = ["| id | file/kind | units | when | about |", "|---|---|---|---|---|"]
    for item in items:
        where = item.kind if isinstance(item, Input) else item.path
        when = item.required if isinstance(item, Input) else item.created_if
        rows.append(f"| `{item.id}` | {where} | {item.units} | {when} | {item.about} |")
    return "\n".join(rows)


#: Output ids that are rasters (``--outputs`` takes these, file stems, ``all`` or ``none``).
RASTER_IDS: tuple[str, ...] = ("c_pool", "c_storage", "c_change", "npv")


def select_rasters(selection: Sequence[str] | None, has_alt: bool, has_value: bool
                   ) -> list[str]:
    """Return the raster file stems a run writes, from the user's ``--outputs`` selection.

    Parameters
    ----------
    selection : raster ids (``c_pool``, ``c_storage``, ``c_change``, ``npv``), file stems
        (``c_storage_bas``, ``c_soil_alt`` …), ``all`` or ``none``; None means ``all``
    has_alt, has_value : whether the run has an alternate map / a valuation

    Raises
    ------
    InputError
        An unknown name, or a raster this run cannot make (``npv`` without valuation …).
    """
    available = raster_names(has_alt, has_value, True)
    if selection is None:
        return available
    every = raster_names(True, True, True)
    chosen: set[str] = set()
    for item in (s.strip() for part in selection for s in part.split(",")):
        if item in ("", "none"):
            continue
        if item == "all":
            chosen.update(available)
            continue
        if item in RASTER_IDS:
            stems = [n for n in every if _id_of(n) == item]
        elif item in every:
            stems = [item]
        else:
            raise InputError.single(
                f"unknown raster output {item!r}", field="--outputs",
                expected=f"all, none, {', '.join(RASTER_IDS)} or one of {', '.join(every)}")
        missing = [n for n in stems if n not in available]
        if missing:
            need = "--alt and valuation" if item.startswith("npv") else "--alt"
            raise InputError.single(f"raster output {item!r} needs {need}", field="--outputs",
                                    expected=f"one of {', '.join(available)}")
        chosen.update(stems)
    return [n for n in available if n in chosen]


def _id_of(stem: str) -> str:
    if stem.startswith("c_storage"):
        return "c_storage"
    if stem.startswith("c_change"):
        return "c_change"
    if stem.startswith("npv"):
        return "npv"
    return "c_pool"
