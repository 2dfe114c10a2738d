"""``hesuan land seea``.

UN SEEA Ecosystem Accounting — extent, condition, supply and use, and monetary asset accounts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hesuan.cli import _land_options as options
from hesuan.cli._console import OverwriteOption, console
from hesuan.errors import InputError

if TYPE_CHECKING:
    from hesuan.land.seea.engine_files import EngineFlows
    from hesuan.land.seea.supply_use import UseAllocation

app = typer.Typer(
    help="UN SEEA Ecosystem Accounting (2021): ecosystem extent account and change matrix "
         "from two ecosystem-type maps (optionally crosswalked to the IUCN Global Ecosystem "
         "Typology); condition accounts; ecosystem services supply and use tables; the "
         "monetary ecosystem asset account.",
    no_args_is_help=True,
)


def _managed_pairs(pairs: list[tuple[str, str]], codes: tuple[int, ...],
                   names: tuple[str, ...], by_name: bool) -> list[tuple[int, int]]:
    """Return the --managed pairs as codes of the change matrix (EFG codes when crosswalked)."""
    out = []
    for a, b in pairs:
        try:
            if by_name:
                out.append((codes[names.index(a)], codes[names.index(b)]))
            else:
                x, y = int(a), int(b)
                if x not in codes or y not in codes:
                    raise ValueError
                out.append((x, y))
        except ValueError:
            known = ", ".join(names if by_name else (str(c) for c in codes))
            raise InputError.single(f"bad conversion {a}:{b}", field="--managed",
                                    expected=f"FROM:TO among {known}") from None
    return out


def _types(path: Path) -> tuple[list[int], list[str]]:
    from hesuan.land.gep.raster import TYPE_COLUMNS
    from hesuan.land.gep.tables import read_table

    frame = read_table(path, ("code", "ecosystem_type"), (*TYPE_COLUMNS, "note"))
    codes, names = [], []
    for i, row in enumerate(frame.iter_rows(named=True)):
        try:
            codes.append(int(str(row["code"])))
        except ValueError:
            raise InputError.single(f"not an integer code: {row['code']!r}", file=path,
                                    row=i + 2, field="code", expected="an integer") from None
        names.append(row["ecosystem_type"] or str(codes[-1]))
    return codes, names


@app.command("extent", help="Change matrix (SEEA EA Table 4.2) and extent account "
             "(Table 4.1) from an opening and a closing ecosystem-type map on one grid.\n\n"
             "Example (the bundled county; farmland reforested as a managed conversion): "
             "hesuan land seea extent --opening examples/gep/ecosystem_2015.tif --closing "
             "examples/gep/ecosystem_2020.tif --types examples/gep/types.csv --managed 5:1 "
             "--managed 3:6 --out out/seea\n\nWith a land-cover map (e.g. CLCD, values 1-9) "
             "booked to IUCN GET functional groups: hesuan land seea extent --opening "
             "clcd_2015.tif --closing clcd_2020.tif --crosswalk clcd --managed T7.1:T7.4 "
             "--out out/seea")
def extent(
    opening: Path = typer.Option(..., "--opening", help="Ecosystem-type map at the opening."),
    closing: Path = typer.Option(..., "--closing", help="Ecosystem-type map at the closing."),
    out: Path = options.OutDirOption,
    types: Path | None = typer.Option(None, "--types", help="Table: code, ecosystem_type "
                                      "(or give --crosswalk)."),
    crosswalk: str | None = typer.Option(None, "--crosswalk", help="Book the map's classes "
                                         "to IUCN GET functional groups: gbt21010 | "
                                         "worldcover | clcd, or a crosswalk folder."),
    managed: list[str] = typer.Option([], "--managed", help="A managed conversion FROM:TO "
                                      "(codes, or EFG codes with --crosswalk); repeat the "
                                      "option. Others are unmanaged."),
    overwrite: bool = OverwriteOption,
    as_json: bool = typer.Option(False, "--json", help="Print the account as JSON."),
) -> None:
    """Write the SEEA ecosystem extent account of two ecosystem-type maps."""
    import polars as pl

    from hesuan.io.outputs import OutputSet
    from hesuan.land.seea import change_matrix_from_rasters, extent_account
    from hesuan.land.seea.crosswalk import load_crosswalk, to_efg
    from hesuan.land.seea.tables import extent_rows, matrix_rows, write_csv, write_xlsx

    if (types is None) == (crosswalk is None):
        raise InputError.single("give one of --types and --crosswalk", field="--types",
                                expected="a types table, or a crosswalk to the IUCN GET")
    xw = load_crosswalk(crosswalk) if crosswalk is not None else None
    if xw is not None:
        codes, names = list(xw.codes), list(xw.names)
    else:
        assert types is not None
        codes, names = _types(types)
    pairs_text = []
    for m in managed:
        parts = m.split(":")
        if len(parts) != 2 or not all(parts):
            raise InputError.single(f"bad conversion {m!r}", field="--managed",
                                    expected="FROM:TO codes, e.g. 5:1 (T7.1:T7.4 with "
                                    "--crosswalk)")
        pairs_text.append((parts[0], parts[1]))
    with OutputSet("land seea extent", directory=out, overwrite=overwrite) as outs:
        matrix_out = outs.file("change_matrix.csv", "csv")
        account_out = outs.file("extent_account.csv", "csv")
        xlsx_out = outs.file("extent_account.xlsx", "xlsx")
        xw_out = outs.file("crosswalk_used.csv", "csv") if xw is not None else None
        matrix = change_matrix_from_rasters(opening, closing, codes, names)
        if xw is not None:
            present = matrix.opening_ha + matrix.closing_ha > 0
            used = [r for r, p in zip(xw.rows, present, strict=True) if p]
            matrix = to_efg(matrix, xw)
        pairs = _managed_pairs(pairs_text, matrix.codes, matrix.names, xw is not None)
        account = extent_account(matrix, pairs)
        write_csv(matrix_out.tmp, matrix_rows(matrix))
        write_csv(account_out.tmp, extent_rows(account))
        write_xlsx(xlsx_out.tmp, {"Extent account": extent_rows(account),
                                  "Change matrix": matrix_rows(matrix)})
        if xw is not None and xw_out is not None:
            pl.DataFrame({"raster_code": [r.raster_code for r in used],
                          "source_name": [r.source_name for r in used],
                          "efg_code": [r.efg_code for r in used],
                          "efg_name": [xw.efg_names[r.efg_code] for r in used],
                          "verified": [r.verified for r in used],
                          "alternatives": ["|".join(r.alternatives) for r in used],
                          "rationale": [r.rationale for r in used],
                          "crosswalk": [xw.info.key] * len(used)}).write_csv(xw_out.tmp)
    names = list(matrix.names)
    rows = account.rows()
    if as_json:
        typer.echo(json.dumps({"types": names, "rows": {r: list(v) for r, v in rows},
                               "nodata_ha": matrix.nodata_ha,
                               "crosswalk": None if xw is None else xw.info.key},
                              ensure_ascii=False))
        return
    if xw is not None:
        unverified = sorted({r.efg_code for r in used if not r.verified})
        console.print(f"  crosswalk {xw.info.key}; groups booked from classes whose mapping "
                      f"depends on the area (review crosswalk_used.csv): "
                      f"{', '.join(unverified) or 'none'}", highlight=False)
    for r, v in rows:
        console.print(f"  {r:<34} " + " ".join(f"{x:>10,.2f}" for x in v), highlight=False)
    console.print(f"outputs in {out}", highlight=False)


@app.command("condition", help="Condition indicators and index per ecosystem type (SEEA EA "
             "§5.61–5.62; SEEALand weights).\n\nExample: hesuan land seea condition "
             "variables.csv --out condition.csv")
def condition(
    variables: Path = typer.Argument(..., help="Table: ecosystem_type, ect_class, variable, "
                                     "unit, opening, closing, lower_level, upper_level."),
    out: Path = typer.Option(..., "--out", help="Output CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print the indices as JSON."),
) -> None:
    """Write the SEEA ecosystem condition indices of a table of condition variables."""
    import polars as pl

    from hesuan.io.outputs import OutputSet
    from hesuan.land.seea import condition_indices, read_condition_variables

    with OutputSet("land seea condition") as outs:
        target = outs.add(out, "csv", label="--out")
        idx = condition_indices(read_condition_variables(variables))
        rows = [{"ecosystem_type": et, "variable": v, "ect_class": c, "indicator_opening": o,
                 "indicator_closing": cl, "weight": w}
                for et, i in idx.items() for v, c, o, cl, w in i.indicators]
        rows += [{"ecosystem_type": et, "variable": "INDEX", "ect_class": "",
                  "indicator_opening": i.opening, "indicator_closing": i.closing,
                  "weight": 1.0} for et, i in idx.items()]
        pl.DataFrame(rows).write_csv(target.tmp)
    summary = {et: {"opening": i.opening, "closing": i.closing, "change": i.change}
               for et, i in idx.items()}
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    for et, s in summary.items():
        console.print(f"  {et:<14} opening {s['opening']:.4f}  closing {s['closing']:.4f}  "
                      f"change {s['change']:+.4f}", highlight=False)


def _price(text: str | None) -> tuple[float, str, int] | None:
    """Return ``--co2-price PRICE:CURRENCY:YEAR`` as (price, currency, price year)."""
    if text is None:
        return None
    parts = text.split(":")
    try:
        if len(parts) != 3 or not parts[1]:
            raise ValueError
        price, currency, year = float(parts[0]), parts[1], int(parts[2])
        if not (math.isfinite(price) and price >= 0):
            raise ValueError
    except ValueError:
        raise InputError.single(f"bad price {text!r}", field="--co2-price",
                                expected="PRICE:CURRENCY:YEAR per t CO2, e.g. 50:CNY:2020"
                                ) from None
    return price, currency, year


def _check_sources(flows: Path | None, engines: dict[str, Path | None],
                   allocation: Path | None) -> None:
    """Refuse a supply-use run without flows, or engines' flows without --allocation."""
    if flows is None and all(v is None for v in engines.values()):
        raise InputError.single("no flows given", field="--flows",
                                expected="--flows, --gep-rows, --carbon-summary or "
                                "--ipcc-summary (the engines with --allocation)")
    if allocation is None and any(v is not None for v in engines.values()):
        given = next(k for k, v in engines.items() if v is not None)
        raise InputError.single(f"{given} needs --allocation", field="--allocation",
                                expected="a table: service, user, user_group, share")


def _carbon_engines(carbon_summary: Path | None, ipcc_summary: Path | None,
                    alloc: UseAllocation, ecosystem_of: dict[str, str] | None,
                    price: tuple[float, str, int] | None
                    ) -> list[tuple[EngineFlows, str, str]]:
    """Return the entries of the carbon and IPCC runs given, each with its left-out unit."""
    from hesuan.land.seea.engine_files import carbon_flows_from_summary, ipcc_flows_from_summary

    out = []
    if carbon_summary is not None:
        out.append((carbon_flows_from_summary(carbon_summary, alloc, price_per_t_co2=price),
                    "t C", str(carbon_summary)))
    if ipcc_summary is not None:
        out.append((ipcc_flows_from_summary(ipcc_summary, alloc, ecosystem_of=ecosystem_of,
                                            price_per_t_co2=price), "t CO2/yr",
                    str(ipcc_summary)))
    return out


@app.command("supply-use", help="Ecosystem services supply and use tables, physical and "
             "monetary (SEEA EA Table 7.1 and Chapter 9): supply by ecosystem type, use by "
             "economic unit; supply = use is checked for every service before anything is "
             "written.\n\nExample (a GEP run's rows, used as the allocation says): hesuan "
             "land seea supply-use --gep-rows out/gep/gep_rows.csv --allocation users.csv "
             "--out out/sut\n\nWith a land carbon run (with --alt) and an IPCC Tier 1 "
             "table as global climate regulation [t CO2]: hesuan land seea supply-use "
             "--carbon-summary out/carbon/summary.json --ipcc-summary out/fgl.json "
             "--allocation users.csv --co2-price 50:CNY:2020 --out out/sut")
def supply_use(
    out: Path = options.OutDirOption,
    flows: Path | None = typer.Option(None, "--flows", help="Table of supply and use "
                                      "entries: service, section, side, party, group, "
                                      "quantity, unit [, value, currency, price_year]."),
    gep_rows: Path | None = typer.Option(None, "--gep-rows", help="gep_rows.csv of a "
                                         "`hesuan land gep` run: its counted rows as supply "
                                         "by ecosystem type."),
    carbon_summary: Path | None = typer.Option(
        None, "--carbon-summary", help="summary.json of a `hesuan land carbon` run with "
        "--alt: the sequestration of each class (its classes.csv) as global climate "
        "regulation [t CO2]."),
    ipcc_summary: Path | None = typer.Option(
        None, "--ipcc-summary", help="The .json beside the CSV of `hesuan land ipcc "
        "forest-gain-loss | forest-stock-difference | soc`: each stratum's removals as "
        "global climate regulation [t CO2/yr]."),
    ipcc_ecosystem: list[str] = typer.Option([], "--ipcc-ecosystem", help="STRATUM=TYPE: "
                                             "the ecosystem type of an IPCC stratum "
                                             "(default: its name); repeat."),
    co2_price: str | None = typer.Option(None, "--co2-price", help="PRICE:CURRENCY:YEAR "
                                         "per t CO2, to value the carbon and IPCC flows."),
    allocation: Path | None = typer.Option(None, "--allocation", help="Who uses the "
                                           "engines' services: service, user, user_group, "
                                           "share."),
    region: str | None = typer.Option(None, "--region", help="Only this region's GEP rows."),
    year: int | None = typer.Option(None, "--year", help="Only this year's GEP rows."),
    overwrite: bool = OverwriteOption,
    as_json: bool = typer.Option(False, "--json", help="Print the totals as JSON."),
) -> None:
    """Write the SEEA supply and use tables of ecosystem services."""
    from hesuan.io.outputs import OutputSet
    from hesuan.io.provenance import Provenance
    from hesuan.land.seea.engine_files import supply_by_ecosystem_rows
    from hesuan.land.seea.supply_use import (
        ServiceFlow,
        flows_from_gep_table,
        read_allocation,
        read_flows,
        supply_use_table,
    )
    from hesuan.land.seea.tables import supply_use_sheets, write_csv, write_xlsx
    from hesuan.land.summary import LeftOut, SupplyUseSummary

    engines = {"--gep-rows": gep_rows, "--carbon-summary": carbon_summary,
               "--ipcc-summary": ipcc_summary}
    _check_sources(flows, engines, allocation)
    price = _price(co2_price)
    ecosystem_of = options.key_values(ipcc_ecosystem, "--ipcc-ecosystem",
                                      "STRATUM=ECOSYSTEM_TYPE") or None
    if ecosystem_of is not None and ipcc_summary is None:
        raise InputError.single("--ipcc-ecosystem without --ipcc-summary",
                                field="--ipcc-ecosystem", expected="an IPCC run to book")
    inputs: dict[str, Path] = {}
    left_out: list[LeftOut] = []
    entries: list[ServiceFlow] = []
    if flows is not None:
        entries += read_flows(flows)
        inputs["flows"] = flows
    alloc = read_allocation(allocation) if allocation is not None else None
    if alloc is not None and allocation is not None:
        inputs["allocation"] = allocation
    if gep_rows is not None and alloc is not None:
        entries += flows_from_gep_table(gep_rows, alloc, region=region, year=year)
        inputs["gep_rows"] = gep_rows
    if alloc is not None:
        for got, unit, source in _carbon_engines(carbon_summary, ipcc_summary, alloc,
                                                 ecosystem_of, price):
            entries += got.flows
            inputs.update(got.files)
            left_out += [LeftOut(source=source, name=n, amount=a, unit=unit)
                         for n, a in got.left_out]
    if not entries:
        raise InputError.single("the inputs give no supply", field="--out",
                                expected="at least one service supplied (classes that "
                                "sequester, strata that remove)")
    tables = [supply_use_table(entries, "physical")]
    if all(f.value is not None for f in entries):
        tables.append(supply_use_table(entries, "monetary"))
    money = tables[-1] if tables[-1].terms == "monetary" else None
    summary = SupplyUseSummary(
        total_supply={t.terms: {name: float(v) for (_, name, _), v in zip(
            t.services, t.total_supply, strict=True)} for t in tables},
        units={name: unit for _, name, unit in tables[0].services},
        currency=None if money is None else money.currency,
        price_year=None if money is None else money.price_year, left_out=left_out,
        provenance=Provenance.create("land seea supply-use", inputs=inputs, parameters={
            "region": region, "year": year, "co2_price": co2_price,
            "ipcc_ecosystem": ";".join(ipcc_ecosystem) or None}))
    with OutputSet("land seea supply-use", directory=out, overwrite=overwrite) as outs:
        planned = {t.terms: outs.file(f"supply_use_{t.terms}.csv", "csv") for t in tables}
        xlsx = outs.file("supply_use.xlsx", "xlsx")
        summary_out = outs.file("summary.json", "json")
        by_type = outs.file("supply_by_ecosystem.csv", "csv")
        for t in tables:
            write_csv(planned[t.terms].tmp, t.layout())
        write_csv(by_type.tmp, supply_by_ecosystem_rows(tables))
        write_xlsx(xlsx.tmp, supply_use_sheets(tables))
        summary_out.tmp.write_text(summary.to_json() + "\n", encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(summary.total_supply, ensure_ascii=False))
        return
    for lo in left_out:
        console.print(f"  left out (net loss, no service): {lo.name} {lo.amount:,.2f} "
                      f"{lo.unit} ({lo.source})", highlight=False)
    for t in tables:
        console.print(f"  {t.terms}: {len(t.services)} services, {len(t.suppliers)} "
                      f"suppliers, {len(t.users)} users; supply = use", highlight=False)
        for (_, name, unit), v in zip(t.services, t.total_supply, strict=True):
            console.print(f"    {name:<46} {v:>18,.2f} {unit}", highlight=False)
    console.print(f"outputs in {out}", highlight=False)


@app.command("asset", help="The monetary ecosystem asset account (SEEA EA Table 10.1): NPV "
             "of the expected service flows at the opening and the closing, the change "
             "decomposed into conversions, enhancement or degradation, reappraisals and "
             "revaluations; opening + changes = closing is checked.\n\nExample: hesuan "
             "land seea asset --flows expected_flows.csv --rate 0.02 --years 100 --timing end "
             "--condition variables.csv --currency CNY --price-year 2020 --out out/asset\n\n"
             "From two supply-use runs (the flows at the opening and the closing) and the "
             "extent account of the period: hesuan land seea asset --opening-supply "
             "out/sut2015 --closing-supply out/sut2020 --extent out/seea/extent_account.csv "
             "--rate 0.02 --years 100 --out out/asset")
def asset(
    rate: float = typer.Option(..., "--rate", help="Discount rate (0.02 = 2 %)."),
    years: int = typer.Option(..., "--years", help="Asset life [years]."),
    out: Path = options.OutDirOption,
    flows: Path | None = typer.Option(None, "--flows", help="Expected flows: ecosystem_type, "
                                      "service, area_opening, area_closing, flow_opening, "
                                      "flow_closing, value_opening, value_closing."),
    opening_supply: Path | None = typer.Option(
        None, "--opening-supply", help="--out folder of a `supply-use` run with a monetary "
        "table: the flows expected at the opening (instead of --flows)."),
    closing_supply: Path | None = typer.Option(
        None, "--closing-supply", help="--out folder of the `supply-use` run at the closing."),
    extent: Path | None = typer.Option(None, "--extent", help="extent_account.csv of "
                                       "`hesuan land seea extent` (with --opening-supply)."),
    currency: str | None = typer.Option(None, "--currency", help="Currency of the values "
                                        "(ISO 4217); with --opening-supply, the runs'."),
    price_year: int | None = typer.Option(None, "--price-year", help="Price year of the "
                                          "values; with --opening-supply, the closing run's."),
    timing: str = typer.Option("end", "--timing", help="end: each year's flow at the end of "
                               "the year (SEEA EA); beginning: annuity-due."),
    condition: Path | None = typer.Option(None, "--condition", help="Condition variables "
                                          "(as for `condition`): the index change decides "
                                          "enhancement/degradation vs reappraisal."),
    catastrophic: list[str] = typer.Option([], "--catastrophic", help="TYPE=LOSS: a "
                                           "catastrophic loss in value [currency]; repeat."),
    volume_entry: list[str] = typer.Option([], "--volume-entry", help="TYPE=ENTRY to book a "
                                           "type's volume effect yourself: enhancement | "
                                           "upward_reappraisal | downward_reappraisal | "
                                           "degradation."),
    overwrite: bool = OverwriteOption,
    as_json: bool = typer.Option(False, "--json", help="Print the account as JSON."),
) -> None:
    """Write the SEEA monetary ecosystem asset account from expected flows."""
    from hesuan.io.outputs import OutputSet
    from hesuan.land.seea import condition_indices, read_condition_variables
    from hesuan.land.seea.asset import (
        ENTRIES,
        AssetTerms,
        Entry,
        monetary_asset_account,
        read_service_assets,
    )
    from hesuan.land.seea.engine_files import assets_from_supply_use
    from hesuan.land.seea.tables import asset_rows, decomposition_rows, write_csv, write_xlsx

    runs = (opening_supply, closing_supply, extent)
    if (flows is None) == all(r is None for r in runs):
        raise InputError.single("give --flows or --opening-supply", field="--flows",
                                expected="an expected-flows table, or --opening-supply, "
                                "--closing-supply and --extent")
    if flows is None:
        if None in runs:
            raise InputError.single("--opening-supply needs --closing-supply and --extent",
                                    field="--closing-supply" if closing_supply is None
                                    else "--extent", expected="the three together")
        assert opening_supply is not None and closing_supply is not None
        assert extent is not None
        got = assets_from_supply_use(opening_supply, closing_supply, extent)
        for option, given, theirs in (("--currency", currency, got.currency),
                                      ("--price-year", price_year, got.price_year)):
            if given is not None and given != theirs:
                raise InputError.single(f"{option} {given}, the closing run's is {theirs}",
                                        file=closing_supply, field=option,
                                        expected=f"{theirs} (or leave the option out)")
        currency, price_year, assets = got.currency, got.price_year, list(got.assets)
    else:
        if currency is None or price_year is None:
            raise InputError.single("--flows needs --currency and --price-year",
                                    field="--currency" if currency is None else
                                    "--price-year", expected="e.g. --currency CNY "
                                    "--price-year 2020")
        assets = read_service_assets(flows)
    if timing not in ("end", "beginning"):
        raise InputError.single(f"timing {timing!r}", field="--timing",
                                expected="end (SEEA EA) | beginning (annuity-due)")
    terms = AssetTerms(rate, years, "end" if timing == "end" else "beginning")
    losses = {}
    for et, text in options.key_values(catastrophic, "--catastrophic",
                                       "ECOSYSTEM_TYPE=LOSS").items():
        try:
            losses[et] = float(text)
        except ValueError:
            raise InputError.single(f"not a number: {text!r}", field="--catastrophic",
                                    expected="TYPE=LOSS in currency") from None
    entries: dict[str, Entry] = {}
    for et, text in options.key_values(volume_entry, "--volume-entry",
                                       "ECOSYSTEM_TYPE=ENTRY").items():
        match = next((e for e in ENTRIES if e == text), None)
        if match is None:
            raise InputError.single(f"entry {text!r}", field="--volume-entry",
                                    expected=" | ".join(ENTRIES))
        entries[et] = match
    cond = None
    if condition is not None:
        cond = {et: i.change for et, i in condition_indices(
            read_condition_variables(condition)).items()}
    account = monetary_asset_account(assets, terms,
                                     condition_change=cond, catastrophic_losses=losses,
                                     volume_entry=entries, currency=currency,
                                     price_year=price_year)
    with OutputSet("land seea asset", directory=out, overwrite=overwrite) as outs:
        acc_out = outs.file("monetary_asset_account.csv", "csv")
        dec_out = outs.file("npv_decomposition.csv", "csv")
        xlsx = outs.file("monetary_asset_account.xlsx", "xlsx")
        write_csv(acc_out.tmp, asset_rows(account))
        write_csv(dec_out.tmp, decomposition_rows(account))
        write_xlsx(xlsx.tmp, {"Monetary asset account": asset_rows(account),
                              "NPV decomposition": decomposition_rows(account)})
    rows = account.rows()
    if as_json:
        typer.echo(json.dumps({"types": list(account.names), "rows": {r: list(v) for r, v in
                                                                      rows},
                               "currency": currency, "price_year": price_year,
                               "rate": rate, "years": years, "timing": timing},
                              ensure_ascii=False))
        return
    console.print(f"  {currency} ({price_year} prices); rate {rate:g}, {years} years, "
                  f"flows at the {timing} of each year", highlight=False)
    for i, et in enumerate(account.names):
        console.print(f"  {et}: " + "; ".join(f"{r} {v[i]:,.2f}" for r, v in rows
                                              if v[i] != 0 or r in ("Opening value",
                                                                    "Closing value")),
                      highlight=False)
    console.print(f"outputs in {out}", highlight=False)


@app.command("crosswalk", help="Show a crosswalk to the IUCN Global Ecosystem Typology: "
             "every class, the functional group it is booked to, the alternatives, whether "
             "the mapping holds by definition (verified) and why.\n\nExample: hesuan land "
             "seea crosswalk gbt21010")
def crosswalk_show(
    name: str = typer.Argument(..., help="gbt21010 | worldcover | clcd, or a crosswalk "
                               "folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """List a crosswalk's rows for review, as a table or JSON."""
    from hesuan.land.seea.crosswalk import load_crosswalk

    xw = load_crosswalk(name)
    rows = [{"raster_code": r.raster_code, "source_code": r.source_code,
             "source_name": r.source_name, "level": r.level, "efg_code": r.efg_code,
             "efg_name": xw.efg_names[r.efg_code], "alternatives": list(r.alternatives),
             "verified": r.verified, "rationale": r.rationale} for r in xw.rows]
    if as_json:
        typer.echo(json.dumps({"crosswalk": xw.info.key, "licence": xw.info.licence,
                               "citation": xw.info.citation, "rows": rows},
                              ensure_ascii=False))
        return
    console.print(f"{xw.info.key}: {xw.info.title}", highlight=False)
    for r in xw.rows:
        mark = ("verified" if r.verified else
                "review: " + " | ".join(r.alternatives) if r.alternatives else "unverified")
        console.print(f"  {r.raster_code:>5} {r.source_name:<16} → {r.efg_code:<7}"
                      f"{xw.efg_names[r.efg_code]}  ({mark})", highlight=False)
