"""The land workbench's work.

Run :func:`hesuan.land.carbon.run` (InVEST-parity carbon) and the IPCC Tier 1 tables
(:mod:`hesuan.land.ipcc.tables`) on an upload or the bundled example; render result rasters to PNG
overlays with a legend in the raster's units.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hesuan.errors import InputError
from hesuan.examples import path as example_path
from hesuan.web import i18n
from hesuan.web.documents import Document, Section, Table
from hesuan.web.i18n import _
from hesuan.web.maps import render_png

MAP_LAYERS = {
    "c_storage_bas": (i18n.lazy("Carbon storage, baseline"), "t C/ha", "sequential"),
    "c_storage_alt": (i18n.lazy("Carbon storage, alternate"), "t C/ha", "sequential"),
    "c_change_bas_alt": (i18n.lazy("Change in carbon storage"), "t C/ha", "diverging"),
}
"""Result rasters shown on the map: title, unit (``docs/land.md``, outputs) and colour ramp."""
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def accept(name: str, head: bytes, kind: str) -> str:
    """Suffix of an acceptable land upload (GeoTIFF or CSV), else an InputError."""
    suffix = Path(name).suffix.lower()
    ok = (kind == "raster" and suffix in (".tif", ".tiff") and head[:4] in TIFF_MAGIC) or (
        kind == "table" and suffix == ".csv" and b"\x00" not in head)
    if not ok:
        expected = "a GeoTIFF (.tif)" if kind == "raster" else "a CSV file (.csv)"
        raise InputError.single(f"{name}: not {expected}", file=name, field=kind,
                                expected=expected)
    return ".tif" if kind == "raster" else ".csv"


def copy_example(folder: Path) -> dict[str, str]:
    """Copy the bundled land example into ``folder``; return its files by role."""
    files = {"lulc": "lulc_2020.tif", "alt": "lulc_2030.tif", "pools": "pools.csv",
             "regions": "counties.gpkg"}
    out = {}
    for key, name in files.items():
        shutil.copyfile(example_path("land", name), folder / name)
        out[key] = str(folder / name)
    return out


def run(folder: Path, files: dict[str, str], progress: Callable[[int, int], None],
        scheduler: str | None = None) -> None:
    """Run carbon storage and sequestration, then draw PNG overlays of the result rasters.

    On the Dask scheduler at ``scheduler`` if given.
    """
    from hesuan.land.carbon import run as carbon_run

    out = folder / "result"
    regions = files.get("regions")
    result = carbon_run(files["lulc"], files["pools"], out, alt=files.get("alt"),
                        regions=regions, region_id="county" if regions else None,
                        mc_samples=1000, progress=progress,
                        raster_format="cog",  # single-file downloads
                        engine="dask" if scheduler else "local", scheduler=scheduler)
    layers = []
    for name, (title, unit, ramp) in MAP_LAYERS.items():
        raster = result.paths.get(name)
        if raster is None:
            continue
        layers.append({"name": name, "title": title, "unit": unit,
                       **render_png(Path(raster), out / f"{name}.png", ramp)})
    (out / "map.json").write_text(json.dumps({"layers": layers}), encoding="utf-8")


def map_spec(folder: Path, job_id: str) -> dict[str, Any]:
    """Return the map of a land run for the page: layer URLs and titles with units, and bounds."""
    spec: dict[str, Any] = json.loads((folder / "result" / "map.json").read_text("utf-8"))
    for layer in spec["layers"]:
        layer["url"] = f"/web/land/jobs/{job_id}/png/{layer['name']}"
        layer["title"] = _(layer["title"]) + layer.get("suffix", "") + f" [{layer['unit']}]"
    spec["bounds"] = spec["layers"][0]["bounds"] if spec["layers"] else [[0, 0], [1, 1]]
    return spec


def layer_names(folder: Path) -> set[str]:
    """Names of the result rasters a run drew (its ``map.json``)."""
    spec = folder / "result" / "map.json"
    if not spec.exists():
        return set()
    return {str(x["name"]) for x in json.loads(spec.read_text("utf-8"))["layers"]}


def report_document(folder: Path) -> Document:
    """Return totals and region table of a land run (page and PDF show the same numbers).

    The report of a GEP, SEEA or habitat run (:func:`hesuan.web.land_analyses.document`).
    """
    if (folder / "result" / "view.json").exists():
        from hesuan.web.land_analyses import document

        return document(folder)
    s: dict[str, Any] = json.loads((folder / "result" / "summary.json").read_text("utf-8"))
    n = i18n.number
    facts = [(_("Carbon storage, baseline"), n(s.get("storage_base_t_c"), 0) + " t C"),
             (_("Carbon storage, alternate"), n(s.get("storage_alt_t_c"), 0) + " t C"),
             (_("Sequestration (碳汇)"), n(s.get("sequestration_t_c"), 0) + " t C = "
              + n(s.get("sequestration_t_co2e"), 0) + " t CO2e"),
             (_("Gains / losses"), n(s.get("gains_t_c"), 0) + " / "
              + n(s.get("losses_t_c"), 0) + " t C")]
    unc = s.get("uncertainty", {}).get("approach1", {}).get("sequestration_t_co2e")
    if unc:
        facts.append((_("Sequestration, 95 % interval (IPCC Approach 1)"),
                      f"{n(unc['ci95_low'], 0)} – {n(unc['ci95_high'], 0)} t CO2e"))
    tables = []
    regions_csv = folder / "result" / "regions.csv"
    if regions_csv.exists():
        import polars as pl

        r = pl.read_csv(regions_csv)
        tables.append(Table(_("By region"), (_("Region"), _("Storage, baseline [t C]"),
                                             _("Storage, alternate [t C]"),
                                             _("Sequestration [t CO2e]")),
                            tuple((str(x["region"]), n(x["storage_base_t_c"], 0),
                                   n(x["storage_alt_t_c"], 0), n(x["sequestration_t_co2e"], 0))
                                  for x in r.iter_rows(named=True)),
                            (False, True, True, True)))
    return Document(title=_("Land carbon report"),
                    subtitle=_("InVEST carbon model (parity), IPCC uncertainty Approaches 1 and 2"),
                    sections=(Section(_("Totals"), facts=tuple(facts), tables=tuple(tables)),),
                    lang=i18n.current.get(), footer=_("hesuan land report"))


def ipcc_tables(edition: str) -> list[Table]:
    """Return the IPCC Tier 1 worked tables of the bundled example for ``edition`` (2006 or 2019).

    Forest gain–loss, stock difference, mineral soil.
    """
    from hesuan.land.ipcc.tables import forest_gain_loss, forest_stock_difference, soc_change

    base = example_path("land", "ipcc")
    frames = [(_("Forest biomass, gain–loss method (Eq. 2.7)"),
               forest_gain_loss(base / f"forest_strata_{edition}.csv", edition)),
              (_("Forest biomass, stock-difference method (Eq. 2.8)"),
               forest_stock_difference(base / "forest_inventory.csv", edition)),
              (_("Mineral soil organic carbon (Eq. 2.25)"),
               soc_change(base / "soc_strata.csv", edition))]
    out = []
    for caption, frame in frames:
        cols = tuple(frame.columns)
        rows = tuple(tuple(n_or_text(v) for v in row) for row in frame.iter_rows())
        out.append(Table(f"{caption} · IPCC {edition}", cols, rows,
                         tuple(frame.schema[c].is_numeric() for c in cols)))
    return out


def n_or_text(value: object) -> str:
    """Return ``value`` for a table cell: a float with at most 4 decimals, ``None`` as empty."""
    if isinstance(value, float):
        return i18n.number(value, 4)
    return "" if value is None else str(value)
