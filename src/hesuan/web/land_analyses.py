"""The land workbench's natural-capital runs.

Gross Ecosystem Product (:mod:`hesuan.land.gep`), the SEEA EA extent and condition accounts
(:mod:`hesuan.land.seea`) and habitat quality (:mod:`hesuan.land.habitat`), on an upload or a
bundled example, each through the public API of its engine (the same calls as ``hesuan land gep
run``, ``hesuan land seea extent|condition`` and ``hesuan land habitat``). This module only prepares
inputs, writes the engines' results into a job's folder and labels them for the page and the PDF.

Each run writes ``result/`` (the engine's outputs), ``result/view.json`` (the figures the
report shows) and ``result/map.json`` (the result rasters drawn as PNG overlays, if any).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hesuan.errors import InputError
from hesuan.examples import path as example_path
from hesuan.web import i18n
from hesuan.web.documents import Chart, Document, Section, Table
from hesuan.web.i18n import _
from hesuan.web.maps import render_png

Progress = Callable[[int, int], None]

GEP_EDITION = "gep_garze2010@2017"
"""The edition of the workbench's GEP runs: the shipped edition with default prices (the
others ship without prices, ``docs/gep.md``)."""
GEP_MAPS = {
    "water_conservation_m3": i18n.lazy("Water conservation"),
    "soil_retention_t": i18n.lazy("Soil retention"),
    "carbon_sequestration_t_co2": i18n.lazy("Carbon sequestration"),
    "oxygen_release_t_o2": i18n.lazy("Oxygen release"),
    "transpiration_kwh": i18n.lazy("Climate regulation: transpiration"),
    "evaporation_kwh": i18n.lazy("Climate regulation: evaporation"),
}
"""GEP service maps shown on the map (units: :data:`hesuan.land.gep.raster.MAP_UNITS`)."""
SEEA_EXAMPLE_MANAGED = ((5, 1), (3, 6))
"""Managed conversions of the bundled county (farmland reforested, grassland built over), as
in ``hesuan land seea extent --help``."""
EXTENT_ROWS = {
    "Opening extent": i18n.lazy("Opening extent"),
    "Additions: managed expansion": i18n.lazy("Additions: managed expansion"),
    "Additions: unmanaged expansion": i18n.lazy("Additions: unmanaged expansion"),
    "Reductions: managed reductions": i18n.lazy("Reductions: managed reductions"),
    "Reductions: unmanaged reductions": i18n.lazy("Reductions: unmanaged reductions"),
    "Net change in extent": i18n.lazy("Net change in extent"),
    "Closing extent": i18n.lazy("Closing extent"),
}
"""Rows of the SEEA EA extent account (Table 4.1), translated."""
CATEGORIES = {"provisioning": i18n.lazy("provisioning services"),
              "regulating": i18n.lazy("regulating services"),
              "cultural": i18n.lazy("cultural services"),
              "gep": i18n.lazy("GEP (total)")}
"""GEP categories (:mod:`hesuan.land.gep.accounts`), translated."""
DECAYS = {"linear": i18n.lazy("linear"), "exponential": i18n.lazy("exponential")}

# The habitat-quality example: the bundled land maps (2020, 2030) with their cropland (4) and
# urban (6) pixels as the threats. The parameters are illustrative (chosen for the example,
# not taken from a study); the model's equations are InVEST's (hesuan.land.habitat).
HABITAT_THREATS = (("cropland", 4, 1.0, 0.7, "linear"), ("urban", 6, 2.0, 1.0, "exponential"))
"""(threat, land-cover code, max_dist_km, weight, decay) of the example."""
HABITAT_SENSITIVITY = """lucode,name,habitat,cropland,urban
1,forest,1.0,0.5,0.8
2,shrubland,0.8,0.4,0.6
3,grassland,0.6,0.5,0.5
4,cropland,0,0,0
5,wetland,1.0,0.7,0.9
6,urban,0,0,0
7,water,0.4,0.3,0.5
"""
HABITAT_HALF_SATURATION = 0.25
"""[-] k of the example (InVEST's guide: about half the largest degradation of the map)."""


# -- inputs --------------------------------------------------------------------------------

def gep_example() -> dict[str, str]:
    """Return the bundled county (``examples/gep``), read in place (nothing is copied)."""
    return {name: str(example_path("gep", f"{name}.csv"))
            for name in ("quantities", "layers", "types", "price_index", "gdp")}


def seea_example() -> dict[str, str]:
    """Return the bundled ecosystem-type maps (2015, 2020), types table and managed pairs."""
    return {"opening": str(example_path("gep", "ecosystem_2015.tif")),
            "closing": str(example_path("gep", "ecosystem_2020.tif")),
            "types": str(example_path("gep", "types.csv")),
            "managed": " ".join(f"{a}:{b}" for a, b in SEEA_EXAMPLE_MANAGED)}


def habitat_example(folder: Path) -> dict[str, str]:
    """Write the bundled land maps with their threat rasters and tables into ``folder``."""
    import rasterio

    files: dict[str, str] = {}
    sens = folder / "sensitivity.csv"
    sens.write_text(HABITAT_SENSITIVITY, encoding="utf-8")
    for year, key in (("2020", "lulc"), ("2030", "alt")):
        lulc = example_path("land", f"lulc_{year}.tif")
        with rasterio.open(lulc) as src:
            codes, profile = src.read(1), src.profile
        profile.update(dtype="float32", nodata=None)
        rows = ["threat,max_dist_km,weight,decay,raster"]
        for name, code, dist, weight, decay in HABITAT_THREATS:
            raster = folder / f"{name}_{year}.tif"
            with rasterio.open(raster, "w", **profile) as out:
                out.write((codes == code).astype("float32"), 1)
            rows.append(f"{name},{dist},{weight},{decay},{raster.name}")
        threats = folder / f"threats_{year}.csv"
        threats.write_text("\n".join(rows) + "\n", encoding="utf-8")
        files[key], files[f"threats_{key}"] = str(lulc), str(threats)
    files["sensitivity"] = str(sens)
    files["half_saturation"] = str(HABITAT_HALF_SATURATION)
    return files


def parse_managed(text: str) -> list[tuple[int, int]]:
    """``"5:1 3:6"`` → ``[(5, 1), (3, 6)]`` (managed conversions FROM:TO), else InputError."""
    pairs = []
    for item in text.replace(",", " ").split():
        try:
            a, b = (int(x) for x in item.split(":"))
        except ValueError:
            raise InputError.single(f"bad conversion {item!r}", field="managed",
                                    expected="FROM:TO codes separated by spaces, e.g. 5:1 3:6"
                                    ) from None
        pairs.append((a, b))
    return pairs


# -- runs -----------------------------------------------------------------------------------

def run_gep(folder: Path, files: dict[str, str], progress: Progress,
            scheduler: str | None = None) -> None:
    """Return a GEP account (:func:`hesuan.land.gep.run.run`).

    The quantities table and, with the layers and types tables, the regulating services on
    rasters with their maps.
    """
    from hesuan.land.gep.raster import MAP_UNITS, ClimateParameters
    from hesuan.land.gep.run import run

    out = folder / "result"
    climate = (ClimateParameters(ac_days=90, ac_efficiency=3.0,
                                 source="example (illustrative)")
               if "layers" in files else None)
    result = run(GEP_EDITION, out, quantities=files.get("quantities"),
                 layers=files.get("layers"), types=files.get("types"),
                 whole_map=files.get("region", "county" if "layers" in files else "all"),
                 price_index=files.get("price_index"), gdp=files.get("gdp"),
                 constant_year=int(files["constant_year"]) if files.get("constant_year")
                 else (2020 if "price_index" in files else None),
                 climate=climate, engine="dask" if scheduler else "local",
                 scheduler=scheduler, progress=progress)
    layers = []
    if result.regulating:
        year = max(result.regulating)
        for service, path in sorted(result.regulating[year].maps.items()):
            if service in GEP_MAPS:
                layers.append({"name": service, "title": GEP_MAPS[service],
                               "suffix": f" {year}", "unit": MAP_UNITS[service],
                               **render_png(Path(path), out / f"{service}.png", "sequential")})
    account = result.account
    view = {"analysis": "gep", "edition": account.edition,
            "verified": account.edition_verified, "constant_year": account.constant_year,
            "gdp_ratio": [[r, y, v] for r, y, v in account.gdp_ratio]}
    _write(out, view, layers)


def run_seea_extent(folder: Path, files: dict[str, str], progress: Progress,
                    scheduler: str | None = None) -> None:
    """Compute the change matrix and the extent account of two ecosystem-type maps.

    SEEA EA Table 4.2 and Table 4.1, by :func:`hesuan.land.seea.change_matrix_from_rasters` and
    :func:`hesuan.land.seea.extent_account`.
    """
    import polars as pl

    from hesuan.io.outputs import OutputSet
    from hesuan.land.gep.raster import read_type_table
    from hesuan.land.seea import change_matrix_from_rasters, extent_account

    out = folder / "result"
    table = read_type_table(files["types"], ())
    codes, names = list(table.codes), list(table.names)
    managed = parse_managed(files.get("managed", ""))
    progress(0, 1)
    with OutputSet("land seea extent", directory=out) as outs:
        matrix_out = outs.file("change_matrix.csv", "csv")
        account_out = outs.file("extent_account.csv", "csv")
        matrix = change_matrix_from_rasters(files["opening"], files["closing"], codes, names)
        account = extent_account(matrix, managed)
        pl.DataFrame({"opening_type": list(names),
                      **{n: matrix.area_ha[:, j].tolist() for j, n in enumerate(names)},
                      "opening_total": matrix.opening_ha.tolist()}).write_csv(matrix_out.tmp)
        rows = account.rows()
        pl.DataFrame({"row": [r for r, _v in rows],
                      **{n: [v[j] for _r, v in rows] for j, n in enumerate(names)},
                      "total": [sum(v) for _r, v in rows]}).write_csv(account_out.tmp)
    progress(1, 1)
    _write(out, {"analysis": "seea_extent", "types": list(names),
                 "managed": [list(p) for p in managed], "nodata_ha": matrix.nodata_ha}, [])


def run_seea_condition(folder: Path, files: dict[str, str], progress: Progress,
                       scheduler: str | None = None) -> None:
    """Compute condition indicators and index per ecosystem type (SEEA EA 2021 §5.61–5.62).

    By :func:`hesuan.land.seea.condition_indices`, from a variables table, or — the bundled
    example — habitat quality of two land-cover maps as the condition variable
    (:func:`hesuan.land.habitat.condition.condition_variables`).
    """
    from hesuan.land.seea import read_condition_variables

    out = folder / "result"
    if "variables" in files:
        out.mkdir(parents=True, exist_ok=True)
        variables = read_condition_variables(files["variables"])
        progress(1, 1)
        layers: list[dict[str, Any]] = []
    else:
        variables, layers = _habitat_pair(folder, files, progress)
    _condition(out, variables, layers, "seea_condition")


def run_habitat(folder: Path, files: dict[str, str], progress: Progress,
                scheduler: str | None = None) -> None:
    """Return habitat quality and degradation (:func:`hesuan.land.habitat.run`, InVEST's model).

    With an alternate map (the bundled example), both years and the condition account of their
    habitat quality.
    """
    from hesuan.land.habitat import run

    out = folder / "result"
    if "alt" in files:
        variables, layers = _habitat_pair(folder, files, progress)
        _condition(out, variables, layers, "habitat")
        return
    result = run(files["lulc"], files["threats_lulc"], files["sensitivity"], out / "lulc",
                 half_saturation=float(files.get("half_saturation", 0.05) or 0.05),
                 progress=progress)
    layers = _habitat_layers(result.paths, out, "lulc", "")
    _write(out, {"analysis": "habitat", "runs": {"lulc": result.summary.model_dump(
        mode="json")}}, layers)


def _habitat_pair(folder: Path, files: dict[str, str], progress: Progress
                  ) -> tuple[list[Any], list[dict[str, Any]]]:
    from hesuan.land.habitat import run
    from hesuan.land.habitat.condition import condition_variables

    out = folder / "result"
    k = float(files.get("half_saturation", HABITAT_HALF_SATURATION))
    summaries, layers = {}, []
    for i, (key, year) in enumerate((("lulc", " 2020"), ("alt", " 2030"))):
        def step(done: int, total: int, i: int = i) -> None:
            progress(i * total + done, 2 * total)

        result = run(files[key], files[f"threats_{key}"], files["sensitivity"], out / key,
                     half_saturation=k, progress=step)
        summaries[key] = result.summary
        layers += _habitat_layers(result.paths, out, key, year)
    (out / "habitat.json").write_text(json.dumps(
        {k: s.model_dump(mode="json") for k, s in summaries.items()}, ensure_ascii=False),
        encoding="utf-8")
    return condition_variables(summaries["lulc"], summaries["alt"]), layers


def _habitat_layers(paths: dict[str, Path], out: Path, key: str, year: str
                    ) -> list[dict[str, Any]]:
    titles = {"quality": i18n.lazy("Habitat quality"),
              "deg_sum": i18n.lazy("Habitat degradation")}
    return [{"name": f"{name}_{key}", "title": titles[name], "suffix": year, "unit": "-",
             **render_png(Path(paths[name]), out / f"{name}_{key}.png", "sequential")}
            for name in ("quality", "deg_sum")]


def _condition(out: Path, variables: list[Any], layers: list[dict[str, Any]],
               analysis: str) -> None:
    import polars as pl

    from hesuan.land.seea import condition_indices

    idx = condition_indices(variables)
    rows = [{"ecosystem_type": et, "variable": v, "ect_class": c, "indicator_opening": o,
             "indicator_closing": cl, "weight": w}
            for et, i in idx.items() for v, c, o, cl, w in i.indicators]
    rows += [{"ecosystem_type": et, "variable": "INDEX", "ect_class": "",
              "indicator_opening": i.opening, "indicator_closing": i.closing, "weight": 1.0}
             for et, i in idx.items()]
    pl.DataFrame(rows).write_csv(out / "condition.csv")
    view: dict[str, Any] = {"analysis": analysis, "indices": {
        et: {"opening": i.opening, "closing": i.closing, "change": i.change}
        for et, i in idx.items()}}
    habitat = out / "habitat.json"
    if habitat.exists():
        view["runs"] = json.loads(habitat.read_text("utf-8"))
    _write(out, view, layers)


def _write(out: Path, view: dict[str, Any], layers: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "view.json").write_text(json.dumps(view, ensure_ascii=False), encoding="utf-8")
    (out / "map.json").write_text(json.dumps({"layers": layers}), encoding="utf-8")


RUNS: dict[str, Callable[[Path, dict[str, str], Progress, str | None], None]] = {
    "gep": run_gep, "seea_extent": run_seea_extent, "seea_condition": run_seea_condition,
    "habitat": run_habitat}
"""The natural-capital analyses of the workbench by name."""

DOWNLOADS: dict[str, dict[str, str]] = {
    "gep": {"gep.json": "application/json", "gep.xlsx": "application/vnd.openxmlformats-"
            "officedocument.spreadsheetml.sheet", "gep_by_service.csv": "text/csv",
            "gep_by_category.csv": "text/csv", "gep_by_ecosystem.csv": "text/csv",
            "gep_rows.csv": "text/csv"},
    "seea_extent": {"extent_account.csv": "text/csv", "change_matrix.csv": "text/csv"},
    "seea_condition": {"condition.csv": "text/csv"},
    "habitat": {"condition.csv": "text/csv", "lulc/quality.tif": "image/tiff",
                "lulc/deg_sum.tif": "image/tiff", "lulc/summary.json": "application/json",
                "alt/quality.tif": "image/tiff", "alt/summary.json": "application/json"},
}
"""Files a visitor may download from each analysis's ``result/`` (those that exist)."""


# -- reports --------------------------------------------------------------------------------

def document(folder: Path) -> Document:
    """Return the report of a natural-capital run (the page and the PDF show the same numbers)."""
    out = folder / "result"
    view: dict[str, Any] = json.loads((out / "view.json").read_text("utf-8"))
    analysis = view["analysis"]
    if analysis == "gep":
        return _gep_document(out, view)
    if analysis == "seea_extent":
        return _extent_document(out, view)
    return _condition_document(out, view)


def _gep_document(out: Path, view: dict[str, Any]) -> Document:
    import polars as pl

    n = i18n.number
    cat = pl.read_csv(out / "gep_by_category.csv")
    svc = pl.read_csv(out / "gep_by_service.csv")
    years = sorted(set(cat["year"].to_list()))
    facts = [(_("Accounting rules (edition)"), str(view["edition"]) + (
        "" if view["verified"] else " · " + _("not verified against its source")))]
    for row in cat.filter(pl.col("key") == "gep").iter_rows(named=True):
        prices = _("prices of %(year)s") % {"year": row["current_price_year"]}
        facts.append((_("GEP %(year)s (生态产品总值), %(region)s") % {
            "year": row["year"], "region": row["region"]},
            f"{n(row['value_current'] / 1e8, 2)} 亿 {row['currency']} ({prices})"))
    for region, year, ratio in view.get("gdp_ratio", []):
        facts.append((_("GEP / GDP %(year)s, %(region)s") % {"year": year, "region": region},
                      n(ratio, 3)))
    constant = view.get("constant_year")
    value = "value_constant" if constant else "value_current"
    tables = [Table(_("By category [CNY]"),
                    (_("Region"), _("Year"), _("Category"), _("Current prices"),
                     _("Constant prices")),
                    tuple((str(r["region"]), str(r["year"]), _category(str(r["key"])),
                           n(r["value_current"], 0), n(r["value_constant"], 0) if
                           r["value_constant"] is not None else "–")
                          for r in cat.iter_rows(named=True)),
                    (False, False, False, True, True)),
              Table(_("By service [CNY]"),
                    (_("Region"), _("Year"), _("Service"), _("Current prices"),
                     _("Constant prices")),
                    tuple((str(r["region"]), str(r["year"]), str(r["key"]),
                           n(r["value_current"], 0), n(r["value_constant"], 0) if
                           r["value_constant"] is not None else "–")
                          for r in svc.iter_rows(named=True)),
                    (False, False, False, True, True))]
    last = svc.filter(pl.col("year") == years[-1]).sort(value, descending=True)
    unit = "亿 CNY" + (f" ({constant})" if constant else "")
    chart = Chart("gep-services", _("GEP by service, %(year)s") % {"year": years[-1]}, unit,
                  tuple(str(k) for k in last["key"].to_list()),
                  tuple(float(v) / 1e8 for v in last[value].to_list()))
    return Document(title=_("Gross Ecosystem Product (GEP) account"),
                    subtitle=_("hesuan.land.gep: physical quantities valued under the edition's"
                               " prices; current and constant prices"),
                    sections=(Section(_("Totals"), facts=tuple(facts), charts=(chart,),
                                      tables=tuple(tables)),),
                    lang=i18n.current.get(), footer=_("hesuan land report"))


def _category(key: str) -> str:
    return _(CATEGORIES[key]) if key in CATEGORIES else key


def _extent_document(out: Path, view: dict[str, Any]) -> Document:
    import polars as pl

    n = i18n.number
    acc = pl.read_csv(out / "extent_account.csv")
    mat = pl.read_csv(out / "change_matrix.csv")
    types = [str(t) for t in view["types"]]
    account = Table(_("Extent account (SEEA EA Table 4.1) [ha]"),
                    ("", *types, _("Total")),
                    tuple((_(EXTENT_ROWS.get(str(r["row"]), str(r["row"]))),
                           *(n(r[t], 1) for t in types), n(r["total"], 1))
                          for r in acc.iter_rows(named=True)),
                    (False, *(True for _t in types), True))
    matrix = Table(_("Ecosystem type change matrix (SEEA EA Table 4.2) [ha]: opening type "
                     "(rows) to closing type (columns)"),
                   (_("Opening type"), *types, _("Opening extent")),
                   tuple((str(r["opening_type"]), *(n(r[t], 1) for t in types),
                          n(r["opening_total"], 1)) for r in mat.iter_rows(named=True)),
                   (False, *(True for _t in types), True))
    closing = acc.filter(pl.col("row") == "Net change in extent")
    chart = Chart("extent-change", _("Net change in extent"), "ha", tuple(types),
                  tuple(float(closing[t][0]) for t in types))
    managed = ", ".join(f"{a} → {b}" for a, b in view.get("managed", [])) or "–"
    facts = ((_("Managed conversions (codes)"), managed),
             (_("Area without data in either map"), n(view.get("nodata_ha", 0.0), 1) + " ha"))
    return Document(title=_("SEEA ecosystem extent account"),
                    subtitle=_("UN SEEA Ecosystem Accounting (2021), chapter 4; every "
                               "accounting identity checked"),
                    sections=(Section(_("Extent"), facts=facts, charts=(chart,),
                                      tables=(account, matrix)),),
                    lang=i18n.current.get(), footer=_("hesuan land report"))


def _condition_document(out: Path, view: dict[str, Any]) -> Document:
    import polars as pl

    n = i18n.number
    sections = []
    runs = view.get("runs", {})
    for key, summary in runs.items():
        year = {"lulc": _("baseline"), "alt": _("alternate")}.get(key, key)
        facts = ((_("Mean habitat quality of habitat pixels"),
                  n(summary["mean_quality_habitat"], 4)),
                 (_("Largest degradation"), n(summary["max_degradation"], 4)),
                 (_("Half-saturation constant k"), n(summary["half_saturation"], 3)),
                 (_("Habitat pixels"), i18n.integer(summary["habitat_pixels"])))
        classes = Table(_("Habitat quality by land-cover class"),
                        (_("Code"), _("Class"), _("Habitat suitability"), _("Pixels"),
                         _("Mean degradation"), _("Mean quality")),
                        tuple((str(c["lucode"]), str(c["name"]), n(c["habitat"], 2),
                               i18n.integer(c["pixels"]), n(c["mean_degradation"], 4),
                               n(c["mean_quality"], 4)) for c in summary["classes"]),
                        (True, False, True, True, True, True))
        threats = Table(_("Threats"), (_("Threat"), _("Decay"), _("Reach [km]"),
                                       _("Weight"), _("Normalised weight")),
                        tuple((str(t["threat"]), _(DECAYS.get(t["decay"], t["decay"])),
                               n(t["max_dist_km"], 2),
                               n(t["weight"], 2), n(t["weight_normalised"], 3))
                              for t in summary["threats"]),
                        (False, False, True, True, True))
        sections.append(Section(_("Habitat quality, %(map)s map") % {"map": year},
                                facts=facts, tables=(classes, threats)))
    if "indices" in view:
        cond = pl.read_csv(out / "condition.csv")
        table = Table(_("Condition indicators and index (SEEA EA §5.61–5.62)"),
                      (_("Ecosystem type"), _("Variable"), _("Class"), _("Opening"),
                       _("Closing"), _("Weight")),
                      tuple((str(r["ecosystem_type"]),
                             _("index") if r["variable"] == "INDEX" else str(r["variable"]),
                             str(r["ect_class"] or ""), n(r["indicator_opening"], 4),
                             n(r["indicator_closing"], 4), n(r["weight"], 3))
                            for r in cond.iter_rows(named=True)),
                      (False, False, False, True, True, True))
        names = tuple(view["indices"])
        chart = Chart("condition-change", _("Change in the condition index"), "-", names,
                      tuple(float(view["indices"][k]["change"]) for k in names))
        sections.append(Section(_("Condition account"), charts=(chart,), tables=(table,)))
    title = (_("Habitat quality") if view["analysis"] == "habitat"
             else _("SEEA ecosystem condition account"))
    return Document(title=title,
                    subtitle=_("InVEST habitat-quality model; SEEA EA (2021) condition "
                               "indicators rescaled between reference levels"),
                    sections=tuple(sections), lang=i18n.current.get(),
                    footer=_("hesuan land report"))

