"""``hesuan land seea``: UN SEEA Ecosystem Accounting — extent and condition accounts."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hesuan.cli._console import console
from hesuan.errors import InputError

app = typer.Typer(
    help="UN SEEA Ecosystem Accounting (2021): ecosystem extent account and change matrix "
         "from two ecosystem-type maps; condition accounts from condition variables.",
    no_args_is_help=True,
)


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
             "--managed 3:6 --out out/seea")
def extent(
    opening: Path = typer.Option(..., "--opening", help="Ecosystem-type map at the opening."),
    closing: Path = typer.Option(..., "--closing", help="Ecosystem-type map at the closing."),
    types: Path = typer.Option(..., "--types", help="Table: code, ecosystem_type."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    managed: list[str] = typer.Option([], "--managed", help="A managed conversion FROM:TO "
                                      "(codes); repeat the option. Others are unmanaged."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier run."),
    as_json: bool = typer.Option(False, "--json", help="Print the account as JSON."),
) -> None:
    import polars as pl

    from hesuan.io.outputs import OutputSet
    from hesuan.land.seea import change_matrix_from_rasters, extent_account

    codes, names = _types(types)
    pairs = []
    for m in managed:
        try:
            a, b = (int(x) for x in m.split(":"))
        except ValueError:
            raise InputError.single(f"bad conversion {m!r}", field="--managed",
                                    expected="FROM:TO codes, e.g. 5:1") from None
        pairs.append((a, b))
    with OutputSet("land seea extent", directory=out, overwrite=overwrite) as outs:
        matrix_out = outs.file("change_matrix.csv", "csv")
        account_out = outs.file("extent_account.csv", "csv")
        matrix = change_matrix_from_rasters(opening, closing, codes, names)
        account = extent_account(matrix, pairs)
        pl.DataFrame({"opening_type": list(names),
                      **{n: matrix.area_ha[:, j].tolist() for j, n in enumerate(names)},
                      "opening_total": matrix.opening_ha.tolist()}
                     ).write_csv(matrix_out.tmp)
        rows = account.rows()
        pl.DataFrame({"row": [r for r, _ in rows],
                      **{n: [v[j] for _, v in rows] for j, n in enumerate(names)},
                      "total": [sum(v) for _, v in rows]}).write_csv(account_out.tmp)
    if as_json:
        typer.echo(json.dumps({"types": list(names), "rows": {r: list(v) for r, v in rows},
                               "nodata_ha": matrix.nodata_ha}, ensure_ascii=False))
        return
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
