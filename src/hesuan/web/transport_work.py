"""The transport workbench's work.

Read an upload, check it, run it, build its report — all through :func:`hesuan.transport.calculate`
(the engine's own validation and formulas).
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from hesuan.errors import InputError
from hesuan.examples import path as example_path
from hesuan.transport import calculate, write_summary
from hesuan.transport.driver import NoValidLegs
from hesuan.transport.spec import HUB_COLUMNS, LEG_COLUMNS
from hesuan.web import i18n
from hesuan.web.documents import Chart, Document, Section, Table
from hesuan.web.i18n import _

KINDS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
"""Accepted upload suffixes (anything else is refused before it is read)."""
PARQUET_MAGIC = b"PAR1"
XLSX_MAGIC = b"PK\x03\x04"


def accept_upload(name: str, head: bytes, what: str) -> str:
    """Return the suffix of an acceptable upload, else an :class:`InputError` naming the file.

    The name's suffix must be .csv, .parquet or .xlsx and the first bytes must fit it
    (Parquet ``PAR1``, XLSX a ZIP, CSV text without NUL bytes).
    """
    suffix = Path(name).suffix.lower()
    kind = KINDS.get(suffix)
    ok = ((kind == "parquet" and head.startswith(PARQUET_MAGIC))
          or (kind == "xlsx" and head.startswith(XLSX_MAGIC))
          or (kind == "csv" and b"\x00" not in head))
    if not ok:
        raise InputError.single(f"{name}: not a CSV, Parquet or XLSX file", file=name,
                                field=what, expected=".csv (UTF-8 text), .parquet or .xlsx")
    return suffix


def to_engine_input(path: Path) -> Path:
    """Return an .xlsx upload converted to CSV beside it (first sheet); others unchanged."""
    if path.suffix != ".xlsx":
        return path
    frame = pl.read_excel(path, engine="openpyxl", infer_schema_length=0)
    out = path.with_suffix(".csv")
    frame.write_csv(out)
    return out


def copy_example(folder: Path) -> tuple[Path, Path]:
    """Return the bundled example legs and hubs copied into ``folder``."""
    legs = folder / "legs.csv"
    hubs = folder / "hubs.csv"
    shutil.copyfile(example_path("transport", "legs.csv"), legs)
    shutil.copyfile(example_path("transport", "hubs.csv"), hubs)
    return legs, hubs


def check(folder: Path, legs: Path, hubs: Path | None,
          progress: Callable[[int, int], None]) -> None:
    """Validate every row with the engine (``skip_invalid``), keep no results.

    Write ``check.json`` (counts) and ``rejects.csv`` (line, reason).
    """
    progress(0, 1)
    rejects: pl.DataFrame | None
    try:
        result = calculate(legs, hubs, skip_invalid=True)
    except NoValidLegs as exc:  # every row is bad: list them all, as for a partly bad file
        if exc.rejects is None:
            raise
        n_legs, rejects = 0, exc.rejects
    else:
        n_legs, rejects = result.summary.n_legs, result.rejects
    n_rejected = 0 if rejects is None else rejects.height
    if rejects is not None:
        keep = [c for c in ("line", "shipment_id", "leg_id", "hub_id", "reject_reason")
                if c in rejects.columns]
        rejects.select(keep).write_csv(folder / "rejects.csv")
    (folder / "check.json").write_text(json.dumps({
        "n_legs": n_legs, "n_rejected": n_rejected}), encoding="utf-8")
    progress(1, 1)


def run(folder: Path, legs: Path, hubs: Path | None, skip_invalid: bool,
        progress: Callable[[int, int], None], scheduler: str | None = None) -> None:
    """Run a transport calculation.

    Writes per-leg Parquet, shipments, summary.json and a CSV copy of the legs.

    On the Dask scheduler at ``scheduler`` when one is given and the legs are Parquet
    (:func:`hesuan.transport.dask_engine.calculate_dask`), else in this process.
    """
    progress(0, 2)
    out = folder / "result" / "legs.parquet"
    out.parent.mkdir(exist_ok=True)
    rejects = (folder / "result" / "rejects.csv") if skip_invalid else None
    if scheduler and legs.suffix == ".parquet":
        from hesuan.transport.dask_engine import calculate_dask

        result = calculate_dask(legs, hubs, scheduler=scheduler, skip_invalid=skip_invalid,
                                out=out, rejects_path=rejects)
    else:
        result = calculate(legs, hubs, skip_invalid=skip_invalid, out=out,
                           rejects_path=rejects)
    progress(1, 2)
    write_summary(result.summary, folder / "result" / "summary.json")
    pl.scan_parquet(out).sink_csv(folder / "result" / "legs.csv")
    progress(2, 2)


def summary(folder: Path) -> dict[str, Any]:
    """Return the summary.json of a transport run."""
    data: dict[str, Any] = json.loads((folder / "result" / "summary.json").read_text("utf-8"))
    return data


def legs_page(folder: Path, offset: int, limit: int) -> pl.DataFrame:
    """Rows ``offset …`` of the per-leg results (read lazily: only that slice)."""
    return pl.scan_parquet(folder / "result" / "legs.parquet").slice(offset, limit).collect()


def n_legs(folder: Path) -> int:
    """Return the number of legs of a transport run."""
    return int(pl.scan_parquet(folder / "result" / "legs.parquet").select(pl.len())
               .collect().item())


def shipments(folder: Path) -> pl.DataFrame:
    """Return the shipments table of a transport run."""
    return pl.read_parquet(folder / "result" / "legs.shipments.parquet")


def report_document(folder: Path) -> Document:
    """Return the ISO 14083 report of a run as a document (page and PDF show the same numbers)."""
    s = summary(folder)
    n = i18n.number
    facts = (
        (_("Standard"), str(s.get("standard", ""))),
        (_("Well-to-wheel emissions (WTW)"), n(s.get("wtw_t_co2e"), 3) + " t CO2e"),
        (_("Tank-to-wheel (TTW)"), n(s.get("ttw_t_co2e"), 3) + " t CO2e"),
        (_("Well-to-tank (WTT)"), n(s.get("wtt_t_co2e"), 3) + " t CO2e"),
        (_("Hub operations"), n(s.get("hubs_wtw_t_co2e"), 3) + " t CO2e"),
        (_("Transport activity"), n(s.get("tkm"), 0) + " t·km"),
        (_("Emission intensity"), n(s.get("intensity_g_co2e_per_tkm"), 2) + " g CO2e/t·km"),
        (_("Share of primary data"), i18n.percent(s.get("primary_data_share"))),
        (_("Legs / shipments"), f"{i18n.integer(s.get('n_legs'))} / "
                                f"{i18n.integer(s.get('n_shipments'))}"),
        (_("Rejected rows"), i18n.integer(s.get("n_rejected", 0))),
    )
    modes = s.get("per_mode", [])
    by_mode = Chart("by-mode", _("WTW emissions by mode"), "kg CO2e",
                    tuple(_(m["mode"]) for m in modes),
                    tuple(float(m["wtw_kg_co2e"]) for m in modes))
    ship = shipments(folder).sort("wtw_kg_co2e", descending=True).head(20)
    by_ship = Chart("by-shipment", _("WTW emissions by shipment (the 20 largest)"), "kg CO2e",
                    tuple(str(x) for x in ship["shipment_id"]),
                    tuple(float(x) for x in ship["wtw_kg_co2e"]))
    legs_ttw = sum(float(m["ttw_kg_co2e"]) for m in modes)
    legs_wtt = sum(float(m["wtt_kg_co2e"]) for m in modes)
    refrigerant = sum(float(m.get("refrigerant_kg_co2e", 0.0)) for m in modes)
    hubs = float(s.get("hubs_wtw_t_co2e") or 0.0) * 1000
    by_scope = Chart("by-scope", _("Emissions by scope"), "kg CO2e",
                     (_("TTW (operation of vehicles)"), _("WTT (energy provision)"),
                      _("Refrigerant leakage"), _("Hub operations (WTW)")),
                     (legs_ttw, legs_wtt, refrigerant, hubs))
    mode_table = Table(
        _("By mode"), (_("Mode"), "t·km", "TTW kg CO2e", "WTT kg CO2e", "WTW kg CO2e",
                       "g CO2e/t·km", _("Legs")),
        tuple((_(m["mode"]), n(m["tkm"], 0), n(m["ttw_kg_co2e"], 1), n(m["wtt_kg_co2e"], 1),
               n(m["wtw_kg_co2e"], 1), n(m["intensity_wtw_g_per_tkm"], 2),
               i18n.integer(m["n_legs"])) for m in modes),
        (False, True, True, True, True, True, True))
    ship_table = Table(
        _("By shipment (the 20 largest)"), (_("Shipment"), "t·km", "WTW kg CO2e",
                                            "g CO2e/t·km"),
        tuple((str(r["shipment_id"]), n(r["tkm"], 0), n(r["wtw_kg_co2e"], 1),
               n(r["intensity_wtw_g_per_tkm"], 2)) for r in ship.iter_rows(named=True)),
        (False, True, True, True))
    notes = tuple(str(s[k]) for k in ("framework", "intensity_rule", "ttw_wtt_note",
                                      "co2_combustion_note") if s.get(k))
    return Document(
        title=_("Transport emissions report (ISO 14083)"),
        subtitle=_("ISO 14083:2023 and the GLEC Framework"),
        sections=(Section(_("Totals"), facts=facts),
                  Section(_("Breakdown"), charts=(by_mode, by_scope, by_ship),
                          tables=(mode_table, ship_table)),
                  # the engine's own notes, in the engine's language
                  Section(_("Notes"), paragraphs=notes, lang="en")),
        lang=i18n.current.get(), footer=_("hesuan transport report"))


def xlsx_template() -> bytes:
    """Return an Excel workbook to fill in.

    A ``legs`` sheet with the columns and the bundled example's rows, and a ``columns`` sheet
    explaining each column.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "legs"
    example = pl.read_csv(example_path("transport", "legs.csv"), infer_schema_length=0)
    names = [c.name for c in LEG_COLUMNS]
    ws.append(names)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in example.iter_rows(named=True):
        ws.append([row.get(c) or None for c in names])
    info = wb.create_sheet("columns")
    info.append(["table", "column", "required", "unit", "allowed values", "description"])
    for table, cols in (("legs", LEG_COLUMNS), ("hubs", HUB_COLUMNS)):
        for c in cols:
            info.append([table, c.name, "yes" if c.required else "", c.unit,
                         " | ".join(c.allowed or ()), c.description])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
