"""One GEP run: rasters and tables in, physical and monetary accounts, maps and a report out.

:func:`run` chains the steps a county ecology bureau follows:

1. regulating services from rasters, block by block (:mod:`hesuan.land.gep.raster`), for
   each year of the layers table, totalled per region and ecosystem type;
2. every other quantity from the quantities table (material products, flood regulation,
   purification, pest control, recreation …);
3. valuation under the edition (:func:`hesuan.land.gep.accounts.compute_account`), current
   and constant prices, GEP / GDP;
4. the outputs, all or none (:class:`hesuan.io.outputs.OutputSet`): every path is checked
   before any work, written under a temporary name and published together with a manifest
   (``hesuan-manifest.json``) — a failed run leaves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from hesuan.errors import InputError, Problem
from hesuan.io.jsonout import write_json
from hesuan.io.provenance import DatasetUse, Provenance
from hesuan.land.gep.accounts import (
    GepAccount,
    QuantityRow,
    compute_account,
    read_gdp,
    read_prices,
    read_quantities,
)
from hesuan.land.gep.money import read_price_index
from hesuan.land.gep.raster import (
    RASTER_FIELDS,
    SERVICES,
    TYPE_COLUMNS,
    ClimateParameters,
    RegulatingResult,
    RegulatingRun,
    check_grid,
    indicator_for,
    read_type_table,
    regulating_quantities,
    run_regulating,
)
from hesuan.land.gep.tables import read_table
from hesuan.standards.gep_editions import GepEdition, resolve_gep_edition

OUTPUTS = ("gep_rows.csv", "gep_rows.parquet", "gep_by_category.csv", "gep_by_service.csv",
           "gep_by_ecosystem.csv", "gep.json", "gep.xlsx")


@dataclass(frozen=True)
class Layers:
    """Rasters by year: ``{year: {field: path}}`` (field ``ecosystem`` is the type map)."""

    by_year: dict[int, dict[str, str]]
    path: str = ""


@dataclass(frozen=True)
class GepRun:
    """The result of :func:`run`: the account, the raster totals per year, the outputs."""

    account: GepAccount
    regulating: dict[int, RegulatingResult]
    outputs: dict[str, str]
    provenance: dict[str, Any] = field(default_factory=dict)


def read_layers(path: str | Path) -> Layers:
    """Return the layers table: ``year, field, path`` (paths relative to the table's folder).

    Fields: ``ecosystem`` (required per year) and any of
    ``precip_mm, runoff_mm, et_mm, r_factor, k_factor, ls_factor, nep_t_c_per_ha,
    evaporation_mm``.
    """
    file = str(path)
    frame = read_table(path, ("year", "field", "path"), ("note",))
    base = Path(path).parent
    problems: list[Problem] = []
    out: dict[int, dict[str, str]] = {}
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        try:
            year = int(str(row["year"]))
        except ValueError:
            problems.append(Problem(f"not a year: {row['year']!r}", file, line, "year",
                                    "a four-digit year"))
            continue
        name = row["field"] or ""
        if name not in ("ecosystem", *RASTER_FIELDS):
            problems.append(Problem(f"unknown field {name!r}", file, line, "field",
                                    "ecosystem, " + ", ".join(RASTER_FIELDS)))
            continue
        p = Path(row["path"] or "")
        if not p.is_absolute():
            p = base / p
        if name in out.get(year, {}):
            problems.append(Problem(f"{name} for {year} repeats", file, line, "field",
                                    "one raster per field and year"))
            continue
        out.setdefault(year, {})[name] = str(p)
    for year, fields in out.items():
        if "ecosystem" not in fields:
            problems.append(Problem(f"no ecosystem map for {year}", file, None, "field",
                                    "a row 'ecosystem' for every year"))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the layers table")
    return Layers(out, file)


def services_for(fields: set[str], type_columns: set[str], edition: GepEdition) -> tuple[str, ...]:
    """Return the regulating services the given rasters and type-table columns allow.

    Oxygen only where the edition counts it (else it is left out). Inputs given for a service
    whose indicator the edition does not have stop the run (naming the inputs and the
    indicator), rather than being silently left out.
    """
    out = []
    problems: list[Problem] = []
    for s, (rasters, columns) in SERVICES.items():
        if not set(rasters) <= fields or not set(columns) <= type_columns:
            continue
        if s == "oxygen_release_t_o2":
            ind = edition.indicator("regulating.oxygen_release.o2")
            if ind is None or not ind.counted:
                continue
        elif indicator_for(s, edition) is None:
            given = ", ".join((*rasters, *columns))
            problems.append(Problem(
                f"{given} given for {s}, but edition {edition.key} has no indicator for it",
                None, None, given, "an edition with the service's indicator, or leave these "
                                   "inputs out"))
            continue
        out.append(s)
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{len(problems)} service(s) the edition does not account")
    return tuple(out)


def run(edition: str | Path | GepEdition, out_dir: str | Path, *,
        quantities: str | Path | None = None, layers: str | Path | None = None,
        types: str | Path | None = None, regions: str | Path | None = None,
        region_id: str | None = None, whole_map: str = "all",
        prices: str | Path | None = None, price_index: str | Path | None = None,
        constant_year: int | None = None, gdp: str | Path | None = None,
        climate: ClimateParameters | None = None, coefficients: dict[str, float] | None = None,
        engine: str = "local", workers: int | None = None, scheduler: str | None = None,
        write_maps: bool = True, clip_negative_water: bool = False, overwrite: bool = False,
        rweq_plot_length_m: float = 50.0,
        report: Callable[[GepAccount, dict[str, Any], Path], Path] | None = None,
        progress: Callable[[int, int], None] | None = None) -> GepRun:
    """Run a GEP account and write its outputs into ``out_dir``.

    Parameters
    ----------
    edition : ``id@version`` of a shipped edition, the folder of one's own, or a loaded one
    quantities : table of physical quantities (``region, year, ecosystem_type, indicator,
        quantity, unit``)
    layers : table of rasters by year (``year, field, path``); with ``types``
    types : per-type table (``code, ecosystem_type`` + coefficients)
    regions : polygons to total over (their ``region_id`` attribute names the regions);
        without it the whole map is one region named ``whole_map``
    prices, price_index, constant_year, gdp : see :func:`compute_account`
    climate : constants of the climate-regulation equations
    rweq_plot_length_m : [m] the RWEQ plot length z of sand fixation (50 m in most GEP studies)
    overwrite : replace an earlier run's outputs in ``out_dir`` (the whole set; without it a
        folder holding an earlier run is refused)
    report : writes the HTML report into the output set (e.g.
        ``hesuan.report.gep.write_gep_report``; the report layer sits above this one)

    Returns
    -------
    GepRun
    """
    from hesuan.io.outputs import OutputSet

    ed = edition if isinstance(edition, GepEdition) else resolve_gep_edition(edition)
    out = Path(out_dir)
    if layers is None and quantities is None:
        raise InputError.single("nothing to account", field="quantities",
                                expected="--quantities and/or --layers with --types")
    # Every input is read and checked before any output is planned or any pixel computed.
    rows: list[QuantityRow] = []
    inputs: dict[str, str] = {}  # role → path, hashed into the run's Provenance
    if quantities is not None:
        rows += read_quantities(quantities)
        inputs["quantities"] = str(quantities)
    price_table = read_prices(prices) if prices is not None else None
    index = read_price_index(price_index) if price_index is not None else None
    gdp_table = read_gdp(gdp) if gdp is not None else None
    for role, p in (("prices", prices), ("price_index", price_index), ("gdp", gdp)):
        if p is not None:
            inputs[role] = str(p)
    jobs: dict[int, RegulatingRun] = {}
    lay: Layers | None = None
    if layers is not None:
        if types is None:
            raise InputError.single("rasters need the per-type table", field="types",
                                    expected="--types code,ecosystem_type,c_factor …")
        lay = read_layers(layers)
        jobs = _plan_jobs(lay, types, ed, regions, region_id, climate, clip_negative_water,
                          inputs, rweq_plot_length_m)
        _check_sand_inputs(jobs, ed, coefficients, rweq_plot_length_m)
    run_record = Provenance.create(
        "land gep", inputs=inputs,
        parameters={"edition": ed.key, "constant_year": constant_year, "engine": engine,
                    "region_name": whole_map, "clip_negative_water": clip_negative_water,
                    "rweq_plot_length_m": rweq_plot_length_m},
        datasets=[DatasetUse(ed.info.id, ed.info.version, ed.info.licence)])
    regulating: dict[int, RegulatingResult] = {}
    with OutputSet("land gep", directory=out, overwrite=overwrite,
                   provenance=run_record.as_dict()) as outs:
        tables = {name: outs.file(name, name.rsplit(".", 1)[1]) for name in OUTPUTS}
        html = outs.file("report.html", "html") if report is not None else None
        maps = {year: {s: outs.file(f"maps/{year}/{s}.tif", "geotiff") for s in job.services}
                for year, job in jobs.items()} if write_maps else {}
        for year, job in sorted(jobs.items()):
            assert lay is not None
            # maps are computed into tiled GeoTIFFs beside their outputs, then copied into
            # cloud-optimised GeoTIFFs (overviews) under the outputs' temporary names
            work = {s: planned.tmp.with_name(planned.tmp.stem + ".work.tif")
                    for s, planned in maps.get(year, {}).items()}
            try:
                result = run_regulating(job, maps=work or None, engine=engine,
                                        workers=workers, scheduler=scheduler,
                                        progress=progress)
                for s, planned in maps.get(year, {}).items():
                    to_cog(work[s], planned.tmp)
            finally:
                for w in work.values():
                    w.unlink(missing_ok=True)
            if write_maps:
                result = replace(result, maps={s: str(m.path) for s, m in maps[year].items()})
            regulating[year] = result
            rows += regulating_quantities(result, ed, year, coefficients, whole_map,
                                          source=f"{lay.path} ({year})")
        account = compute_account(ed, rows, prices=price_table, price_index=index,
                                  constant_year=constant_year, gdp=gdp_table)
        provenance = build_provenance(ed, account, regulating, run_record, climate,
                                      coefficients)
        write_outputs(account, {n: p.tmp for n, p in tables.items()}, provenance)
        if report is not None and html is not None:
            report(account, provenance, html.tmp)
        published = {str(o.path.relative_to(out)): str(o.path) for o in outs.outputs}
    return GepRun(account, regulating, published, provenance)


def _check_sand_inputs(jobs: dict[int, RegulatingRun], ed: GepEdition,
                       coefficients: dict[str, float] | None, plot_length_m: float) -> None:
    """Before any pixel: the RWEQ plot length and the coefficients of Garzê 2010 Eq. 6."""
    if not any("sand_fixation_t" in j.services for j in jobs.values()):
        return
    if not (math.isfinite(plot_length_m) and plot_length_m > 0):
        raise InputError.single(f"RWEQ plot length {plot_length_m!r} m",
                                field="rweq_plot_length_m",
                                expected="a plot length z > 0 m (50 m in most studies)")
    for name in ("sand_bulk_density", "sand_cover_depth"):
        if name not in (coefficients or {}):
            ed.coefficient(name)  # raises naming the edition and the coefficient


def _plan_jobs(lay: Layers, types: str | Path, ed: GepEdition, regions: str | Path | None,
               region_id: str | None, climate: ClimateParameters | None,
               clip_negative_water: bool, inputs: dict[str, str],
               rweq_plot_length_m: float = 50.0) -> dict[int, RegulatingRun]:
    """One raster job per year of the layers table, every table read and checked."""
    frame = read_table(types, ("code", "ecosystem_type"), (*TYPE_COLUMNS, "note"))
    # a coefficient column is given when it has a value (the reader adds absent ones empty)
    header = {c for c in frame.columns
              if frame[c].fill_null("").str.strip_chars().str.len_chars().sum() > 0}
    shapes: Any = None
    ids: tuple[str, ...] = ()
    jobs: dict[int, RegulatingRun] = {}
    for year, fields in sorted(lay.by_year.items()):
        services = services_for(set(fields), header, ed)
        if not services:
            raise InputError.single(
                f"the rasters given for {year} allow no regulating service", file=lay.path,
                field="field", expected="e.g. precip_mm + runoff_mm + et_mm for water "
                                        "conservation")
        needed = sorted({c for s in services for c in SERVICES[s][1]})
        type_table = read_type_table(types, needed)
        if regions is not None and shapes is None:
            import rasterio

            from hesuan.land.regions import read_regions

            with rasterio.open(fields["ecosystem"]) as ds:
                crs = ds.crs.to_wkt()
            reg = read_regions(regions, crs, region_id)
            shapes, ids = reg.shapes(), reg.ids
            inputs["regions"] = str(regions)
        used = {k: v for k, v in fields.items()
                if k != "ecosystem" and any(k in SERVICES[s][0] for s in services)}
        check_grid(fields["ecosystem"], used)  # every raster exists and is on one grid
        jobs[year] = RegulatingRun(fields["ecosystem"], used, type_table,
                                   climate or ClimateParameters(), services, shapes, ids,
                                   clip_negative_water, rweq_plot_length_m)
        for name, p in (("ecosystem", fields["ecosystem"]), *used.items()):
            inputs[f"{year}.{name}"] = p
    inputs["types"] = str(types)
    inputs["layers"] = lay.path
    return jobs


#: GDAL COG driver options of the service maps (float32, continuous fields).
COG_OPTIONS: dict[str, Any] = {"compress": "ZSTD", "level": 3, "predictor": "FLOATING_POINT",
                               "blocksize": 512, "overviews": "AUTO", "bigtiff": "IF_SAFER"}


def to_cog(source: Path, target: Path) -> None:
    """Copy a tiled GeoTIFF into a cloud-optimised GeoTIFF with overviews.

    GDAL's copy keeps the band tags (units, service).
    """
    import rasterio.shutil

    rasterio.shutil.copy(str(source), str(target), driver="COG", **COG_OPTIONS)


def build_provenance(edition: GepEdition, account: GepAccount,
                     regulating: dict[int, RegulatingResult], run_record: Provenance,
                     climate: ClimateParameters | None,
                     coefficients: dict[str, float] | None) -> dict[str, Any]:
    """Return the run's :class:`hesuan.io.provenance.Provenance`.

    Edition, every price and coefficient used with its source, and the inputs' SHA-256.
    """
    prices: dict[str, dict[str, Any]] = {}
    for r in account.rows:
        p = r.price
        prices.setdefault(p.source, {
            "indicator": r.indicator, "ecosystem_type": r.ecosystem_type,
            "price": p.money.amount, "currency": p.money.currency,
            "price_year": p.money.price_year, "per": p.per, "valuation": p.valuation,
            "source": p.source, "verified": r.verified})
    coefs = [{"id": c.id, "ecosystem_type": c.ecosystem_type, "value": c.value,
              "unit": c.unit, "source": c.source, "locator": c.locator,
              "verified": c.verified, "key": c.key} for c in edition.coefficients]
    for k, v in (coefficients or {}).items():
        coefs.append({"id": k, "ecosystem_type": "", "value": v, "unit": "", "source": "user",
                      "locator": "command line", "verified": False, "key": f"user:{k}"})
    return {
        "hesuan_version": run_record.hesuan_version,
        "edition": edition.key, "edition_title": edition.info.title,
        "edition_citation": edition.info.citation,
        "edition_verified": all(i.verified for i in edition.indicators),
        "prices": list(prices.values()), "coefficients": coefs,
        "price_index": account.price_index_source,
        "climate": asdict(climate) if climate else None,
        "raster_runs": {str(y): {"services": list(r.services),
                                 "nodata_pixels": r.nodata_pixels,
                                 "negative_water_balance_pixels": r.negative_water_pixels,
                                 "pixel_area_m2": r.pixel_area_m2,
                                 "nodata_rule": "a pixel counts for a service only where "
                                 "the ecosystem map and every raster of that service have "
                                 "data"}
                        for y, r in regulating.items()},
        "inputs_sha256": {i.name: i.sha256 for i in run_record.inputs},
        "run": run_record.as_dict(),
    }


def account_json(account: GepAccount) -> dict[str, Any]:
    """Return the account as JSON-ready data.

    The shape of ``docs/schemas/gep_account.schema.json``.
    """
    from pydantic import TypeAdapter

    data: dict[str, Any] = TypeAdapter(GepAccount).dump_python(account, mode="json")
    return data


def write_outputs(account: GepAccount, paths: dict[str, Path], provenance: dict[str, Any]
                  ) -> None:
    """Write the account's tables (CSV, Parquet), JSON and .xlsx workbook.

    Each goes to the path ``paths[name]`` for every name of :data:`OUTPUTS`.
    """
    frame = account.to_frame()
    frame.write_csv(paths["gep_rows.csv"])
    frame.write_parquet(paths["gep_rows.parquet"])
    tables = {}
    for name, totals in (("by_category", account.by_category),
                         ("by_service", account.by_service),
                         ("by_ecosystem", account.by_ecosystem)):
        t = pl.DataFrame([{"region": x.region, "year": x.year, "key": x.key,
                           "value_current": x.current.amount,
                           "current_price_year": x.current.price_year,
                           "value_constant": None if x.constant is None else x.constant.amount,
                           "constant_price_year": None if x.constant is None
                           else x.constant.price_year,
                           "currency": x.current.currency} for x in totals],
                         infer_schema_length=None)
        t.write_csv(paths[f"gep_{name}.csv"])
        tables[name] = t
    doc = {"account": account_json(account), "provenance": provenance}
    write_json(paths["gep.json"], doc, indent=1)
    _write_xlsx(paths["gep.xlsx"], frame, tables, provenance, account)


def _write_xlsx(path: Path, frame: pl.DataFrame, tables: dict[str, pl.DataFrame],
                provenance: dict[str, Any], account: GepAccount) -> None:
    """Write the workbook in the layout practitioners exchange.

    实物量 (physical), 价值量 (monetary), 汇总 (totals), 价格与参数 (prices and coefficients).
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "实物量 Physical"
    phys = ["region", "year", "ecosystem_type", "category", "service", "indicator",
            "name_zh", "quantity", "quantity_unit", "outside_quantity", "net_quantity",
            "price_per"]
    ws.append(phys)
    for r in frame.select(phys).iter_rows():
        ws.append(list(r))
    ws = wb.create_sheet("价值量 Monetary")
    mon = ["region", "year", "ecosystem_type", "category", "service", "indicator",
           "name_zh", "net_quantity", "price_per", "price", "price_year", "valuation",
           "value_current", "current_price_year", "value_constant", "constant_price_year",
           "currency", "counted", "price_source"]
    ws.append(mon)
    for r in frame.select(mon).iter_rows():
        ws.append(list(r))
    ws = wb.create_sheet("汇总 Totals")
    ws.append(["table", "region", "year", "key", "value_current", "current_price_year",
               "value_constant", "constant_price_year", "currency"])
    for name, t in tables.items():
        for r in t.iter_rows():
            ws.append([name, *r])
    for region, year, ratio in account.gdp_ratio:
        ws.append(["gep_gdp_ratio", region, year, "GEP/GDP", ratio])
    ws = wb.create_sheet("价格与参数 Provenance")
    ws.append(["edition", provenance["edition"], provenance["edition_title"]])
    ws.append([])
    ws.append(["indicator", "ecosystem_type", "price", "currency", "price_year", "per",
               "valuation", "source", "verified"])
    for p in provenance["prices"]:
        ws.append([p["indicator"], p["ecosystem_type"], p["price"], p["currency"],
                   p["price_year"], p["per"], p["valuation"], p["source"], p["verified"]])
    ws.append([])
    ws.append(["coefficient", "ecosystem_type", "value", "unit", "source", "locator",
               "verified"])
    for c in provenance["coefficients"]:
        ws.append([c["id"], c["ecosystem_type"], c["value"], c["unit"], c["source"],
                   c["locator"], c["verified"]])
    wb.save(path)
