"""Writing SEEA EA accounts as CSV and .xlsx in the SEEA EA layout.

Each writer takes a checked, typed account (its identities were verified when it was
built) and writes the table as the SEEA EA 2021 presents it: the extent account (Table 4.1)
and change matrix (Table 4.2), the supply and use tables (Table 7.1 physical; Chapter 9
monetary) and the monetary asset account (Table 10.1) with the NPV decomposition behind it.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from hesuan.land.seea.asset import MonetaryAssetAccount
from hesuan.land.seea.extent import ChangeMatrix, ExtentAccount
from hesuan.land.seea.supply_use import SupplyUseTable


def _write_csv(path: Path, rows: Sequence[Sequence[object]]) -> None:
    width = max(len(r) for r in rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([*r, *([""] * (width - len(r)))])


def extent_rows(account: ExtentAccount) -> list[list[object]]:
    """SEEA EA Table 4.1: one column per ecosystem type and a total."""
    out: list[list[object]] = [["Extent (ha)", *account.names, "Total"]]
    for name, values in account.rows():
        out.append([name, *values, sum(values)])
    return out


def matrix_rows(matrix: ChangeMatrix) -> list[list[object]]:
    """SEEA EA Table 4.2: opening types down, closing types across, with totals."""
    out: list[list[object]] = [["Opening \\ closing (ha)", *matrix.names, "Opening extent"]]
    for i, name in enumerate(matrix.names):
        out.append([name, *matrix.area_ha[i].tolist(), float(matrix.opening_ha[i])])
    out.append(["Closing extent", *matrix.closing_ha.tolist(), float(matrix.area_ha.sum())])
    return out


def asset_rows(account: MonetaryAssetAccount) -> list[list[object]]:
    """SEEA EA Table 10.1 (the SEEALand layout, Tab #14): one column per ecosystem type and
    a total; the terms of the valuation below."""
    unit = f"Value, {account.currency} ({account.price_year} prices)" if account.currency \
        else "Value"
    out: list[list[object]] = [[unit, *account.names, "Total"]]
    for name, values in account.rows():
        out.append([name, *values, sum(values)])
    t = account.terms
    out += [[], ["Discount rate", t.rate], ["Asset life (years)", t.years],
            ["Timing of flows", "end of year (SEEA EA)" if t.timing == "end"
             else "beginning of year (annuity-due)"]]
    return out


def decomposition_rows(account: MonetaryAssetAccount) -> list[list[object]]:
    """The NPV decomposition (SEEALand Tab #13): per type and service, opening and closing
    NPV and the area, volume and price effects."""
    out: list[list[object]] = [["ecosystem_type", "service", "npv_opening", "npv_closing",
                                "area_effect", "volume_effect", "price_effect",
                                "condition_change"]]
    cond = dict(zip(account.names, account.condition_change, strict=True))
    for d in account.decompositions:
        out.append([d.ecosystem_type, d.service, d.npv_opening, d.npv_closing, d.area,
                    d.volume, d.price, cond[d.ecosystem_type]])
    return out


def write_csv(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """``rows`` as a CSV (short rows padded)."""
    _write_csv(path, rows)


def write_xlsx(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> None:
    """One worksheet per entry of ``sheets`` (title → rows)."""
    from openpyxl import Workbook

    wb = Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = title[:31]
        first = False
        for r in rows:
            ws.append(list(r))
    wb.save(path)


def supply_use_sheets(tables: Sequence[SupplyUseTable]) -> dict[str, list[list[object]]]:
    """Sheet title → the table in the SEEA EA layout, for each table (physical, monetary)."""
    return {("Physical SUT" if t.terms == "physical" else "Monetary SUT"): t.layout()
            for t in tables}
