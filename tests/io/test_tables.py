"""The one table reader: encodings and delimiters as spreadsheet programs write them, every
rule of a spec, and the renderings of a spec (help, Markdown, JSON Schema, pydantic)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from hesuan.errors import InputError
from hesuan.io.tables import (
    ColumnSpec,
    Plausibility,
    RequiredIf,
    TableSpec,
    help_text,
    json_schema,
    markdown_table,
    read_table,
    row_model,
)

SPEC = TableSpec("legs", (
    ColumnSpec("leg_id", "str", "Leg id.", required=True, aliases=("编号",)),
    ColumnSpec("mode", "str", "Mode.", allowed=("road", "rail")),
    ColumnSpec("mass_t", "float", "Freight mass.", unit="t", required=True, minimum=0.0,
               plausible=(None, 1e4)),
    ColumnSpec("fuel_amount", "float", "Fuel used.", minimum=0.0),
    ColumnSpec("fuel_unit", "str", "Unit.", allowed=("L", "kg"),
               required_if=RequiredIf("fuel_amount")),
    ColumnSpec("stops", "int", "Stops."),
    ColumnSpec("reefer", "bool", "Refrigerated."),
    ColumnSpec("day", "date", "Date."),
), key=("leg_id",), plausible=(Plausibility("fuel_amount", high=500, when=("mode", ("rail",)),
                                            note="a freight train burns < 500 L a leg"),))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _error(path: Path, **kw: object) -> str:
    with pytest.raises(InputError) as info:
        read_table(path, SPEC, **kw)  # type: ignore[arg-type]
    return str(info.value)


ROWS = "leg_id,mode,mass_t\nA,road,1.5\nB,rail,2\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_unicode_files_read_alike(tmp_path: Path, encoding: str) -> None:
    t = read_table(_write(tmp_path, "l.csv", ROWS.encode(encoding)), SPEC)
    assert t.frame["mass_t"].to_list() == [1.5, 2.0]
    assert t.report.encoding == encoding
    assert t.report.warnings == ()


def test_gbk_as_chinese_excel_saves_it_is_detected_and_stated(tmp_path: Path) -> None:
    text = "编号,mode,mass_t\r\n北京-上海,road,1.5\r\n广州-深圳,rail,2\r\n"
    t = read_table(_write(tmp_path, "l.csv", text.encode("gbk")), SPEC)
    assert t.frame["leg_id"].to_list() == ["北京-上海", "广州-深圳"]
    assert t.report.encoding == "gb18030"
    assert "read as gb18030" in str(t.report.warnings[0])


def test_latin1_with_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    text = "leg_id;mode;mass_t\nCafé Zürich;road;1,5\nGenève;rail;2,25\n"
    t = read_table(_write(tmp_path, "l.csv", text.encode("latin-1")), SPEC)
    assert t.frame["leg_id"].to_list() == ["Café Zürich", "Genève"]
    assert t.frame["mass_t"].to_list() == [1.5, 2.25]
    assert (t.report.delimiter, t.report.decimal, t.report.encoding) == (";", ",", "cp1252")


def test_named_encoding_that_does_not_fit_names_the_line(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", "leg_id,mass_t\nA,1\n北京,2\n".encode("gbk"))
    msg = _error(p, encoding="utf-8")
    assert "line 3" in msg and "not utf-8 text" in msg


def test_tab_delimited(tmp_path: Path) -> None:
    t = read_table(_write(tmp_path, "l.tsv", b"leg_id\tmass_t\nA\t1.5\n"), SPEC)
    assert t.report.delimiter == "\t" and t.frame["mass_t"][0] == 1.5


def test_wrong_named_delimiter_gets_a_hint(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", b"leg_id;mass_t\nA;1\n")
    assert "looks semicolon-separated" in _error(p, delimiter=",")


def test_ragged_rows_are_named_by_line(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", b"leg_id,mode,mass_t\nA,road,1,9\nB,rail\n\nC,road,1\n")
    msg = _error(p)
    assert "line 2: 4 fields, the header has 3 (too many)" in msg
    assert "line 3: 2 fields, the header has 3 (too few)" in msg


def test_truncated_quote(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", b'leg_id,mode,mass_t\nA,road,1\n"B,rail,2\n')
    assert "line 3: a quoted field is never closed" in _error(p)


def test_every_rule_is_checked_and_all_problems_listed(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", (
        b"leg_id,mode,mass_t,fuel_amount,stops,reefer,day\n"
        b"A,road,nan,,1,yes,2024-01-01\n"
        b"B,boat,inf,3,x,maybe,2024-13-01\n"
        b"C,road,-1,,2.5,,\n"
        b"D,road,1e308x,,,,\n"
        b",road,1,,,,\n"))
    msg = _error(p)
    for fragment in [
        "line 2, field 'mass_t': not a finite number: nan",
        "line 3, field 'mode': unknown value 'boat' (expected one of road, rail)",
        "line 3, field 'mass_t': not a finite number: inf",
        "line 3, field 'fuel_unit': empty (expected a value (required when fuel_amount",
        "line 3, field 'stops': not a whole number: 'x'",
        "line 3, field 'reefer': not true or false: 'maybe'",
        "line 3, field 'day': not a date YYYY-MM-DD: '2024-13-01'",
        "line 4, field 'mass_t': -1 is below the minimum (expected ≥ 0)",
        "line 4, field 'stops': not a whole number: '2.5'",
        "line 5, field 'mass_t': not a number: '1e308x'",
        "line 6, field 'leg_id': empty",
    ]:
        assert fragment in msg
    assert "problem(s) in the legs table" in msg and msg.count("\n  - ") == 11


def test_collect_mode_returns_problems_with_the_typed_rest(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", b"leg_id,mass_t\nA,x\nB,2\nA,3\n")
    t = read_table(p, SPEC, errors="collect")
    assert [str(x) for x in t.problems] == [
        f"{p}, line 2, field 'mass_t': not a number: 'x' (expected a number such as 12.5)",
        f"{p}, line 4, field 'leg_id': duplicate key A (first on line 2) (expected each leg_id "
        "once (a repeated row would be counted twice))"]
    assert t.frame["mass_t"].to_list() == [None, 2.0, 3.0]
    with pytest.raises(InputError, match="2 problem"):
        t.raise_problems([*t.problems])


def test_duplicate_key_counts_lines_across_blank_lines(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv", b"leg_id,mass_t\nA,1\n\nA,1\n")
    assert "line 4, field 'leg_id': duplicate key A (first on line 2)" in _error(p)


def test_plausibility_warns_and_does_not_fail(tmp_path: Path) -> None:
    p = _write(tmp_path, "l.csv",
               b"leg_id,mode,mass_t,fuel_amount,fuel_unit\nA,road,1e30,900,L\nB,rail,1,900,L\n")
    t = read_table(p, SPEC)
    text = [str(w) for w in t.report.warnings]
    assert any("mass_t" in w and "(line 2)" in w for w in text)
    assert any("fuel_amount" in w and "where mode is rail (line 3)" in w for w in text)


def test_missing_and_misspelt_columns(tmp_path: Path) -> None:
    msg = _error(_write(tmp_path, "l.csv", b"leg_id,mas_t\nA,1\n"))
    assert "field 'mass_t': missing column; is 'mas_t' meant to be it?" in msg
    assert "field 'mas_t': unknown column (did you mean 'mass_t'?)" in msg


@pytest.mark.parametrize(("name", "data", "fragment"), [
    ("l.csv", b"", "empty file"),
    ("l.csv", b"leg_id,mass_t\n", "no data rows"),
    ("l.csv", b"PAR1\x00\x00", "is a Parquet file but its name does not end in .parquet"),
    ("l.csv", b"PK\x03\x04\x00", "is an Excel workbook"),
    ("l.parquet", b"leg_id,mass_t\n", "not a Parquet file"),
    ("l.parquet", b"PAR1\x00\x00\x00\x00PAR1", "not a readable Parquet file"),
    ("l.xlsx", b"PK\x03\x04broken", "not a readable workbook"),
    ("l.xlsx", b"leg_id,mass_t\nA,1\n", "not an Excel workbook"),
    ("l.csv", b"leg_id,leg_id\nA,B\n", "column(s) named twice: leg_id"),
])
def test_damaged_or_misnamed_files(tmp_path: Path, name: str, data: bytes,
                                   fragment: str) -> None:
    assert fragment in _error(_write(tmp_path, name, data))


def test_truncated_parquet(tmp_path: Path) -> None:
    p = tmp_path / "l.parquet"
    pl.DataFrame({"leg_id": ["A"] * 1000, "mass_t": [1.0] * 1000}).write_parquet(p)
    p.write_bytes(p.read_bytes()[:-40])
    assert "not a readable Parquet file" in _error(p)


def test_parquet_and_excel_read_like_csv(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    p = tmp_path / "l.parquet"
    pl.DataFrame({"leg_id": ["A", "B"], "mass_t": [1.5, 2.0], "stops": [1, 2]}).write_parquet(p)
    t = read_table(p, SPEC)
    assert t.frame["mass_t"].to_list() == [1.5, 2.0] and t.report.format == "parquet"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [["leg_id", "mass_t", "stops"], ["A", 1.5, 3], ["B", "x", None], [None, None]]:
        ws.append(row)
    wb.save(tmp_path / "l.xlsx")
    msg = _error(tmp_path / "l.xlsx")
    assert "l.xlsx, line 3, field 'mass_t': not a number: 'x'" in msg
    ws["B3"] = 2
    wb.save(tmp_path / "l.xlsx")
    t = read_table(tmp_path / "l.xlsx", SPEC)
    assert t.frame["mass_t"].to_list() == [1.5, 2.0] and t.frame["stops"].to_list() == [3, None]
    assert t.report.sheet == "Sheet"
    assert "no sheet 'nope'" in _error(tmp_path / "l.xlsx", sheet="nope")


def test_folder_of_parquet_parts(tmp_path: Path) -> None:
    parts = tmp_path / "legs"
    parts.mkdir()
    pl.DataFrame({"leg_id": ["A"], "mass_t": [1.0]}).write_parquet(parts / "part-0.parquet")
    pl.DataFrame({"leg_id": ["B"], "mass_t": [2]}).write_parquet(parts / "part-1.parquet")
    t = read_table(parts, SPEC)
    assert t.frame["leg_id"].to_list() == ["A", "B"] and t.report.format == "parquet"
    pl.DataFrame({"leg_id": ["A"], "mass_t": [3.0]}).write_parquet(parts / "part-2.parquet")
    assert "duplicate key A" in _error(parts)


def test_folder_and_missing_file(tmp_path: Path) -> None:
    assert "is a folder without .parquet parts" in _error(tmp_path)
    assert "no such file" in _error(tmp_path / "none.csv")


def test_renderings_come_from_the_same_declaration() -> None:
    help_ = help_text(SPEC)
    assert "mass_t [t] (float, ≥ 0; required): Freight mass." in help_
    assert "fuel_unit (str, one of L, kg; required when fuel_amount is given): Unit." in help_
    md = markdown_table(SPEC)
    assert "| `mass_t` | float | t | ≥ 0; required | Freight mass. |" in md
    schema = json_schema(SPEC)
    json.dumps(schema)
    assert schema["required"] == ["leg_id", "mass_t"]
    assert schema["properties"]["mass_t"]["minimum"] == 0.0
    assert schema["properties"]["mode"]["enum"] == ["road", "rail", None]
    model = row_model(SPEC)
    assert model(leg_id="A", mass_t=1.0).mass_t == 1.0
    from pydantic import ValidationError
    for bad in ({"leg_id": "A", "mass_t": -1}, {"leg_id": "A", "mass_t": float("nan")},
                {"leg_id": "A", "mass_t": 1, "mode": "teleport"},
                {"leg_id": "A", "mass_t": 1, "extra": 1}):
        with pytest.raises(ValidationError):
            model(**bad)


LATIN = ["id,name\n1,Zürich\n", "x\nEspaña\n", "n\nSão Paulo\n", "v\n12°C\n",
         "name\nCrème brûlée façade naïve Ærøskøbing\n", "a;b\nMünchen;Köln\n",
         # accented capitals, two accented letters in a row, a field that starts with one
         "CITY\nMÜNCHEN\n", "x\nÉCOLE\n", "nome;Ações\nInformação;1\n", "a;b\nBøøl;à\n",
         "Ort;Größe\nÅlesund;1,5\n", "name;note\nS1;50 µm ±2 °C\n", "id;Straße\n1;x\n"]
CHINESE = ["id,name\n1,北京\n", "n\n碳汇\n", "地区,值\n华北,0.5\n", "说明\n公路货运，干线。\n",
           "n\n碳汇（林业）\n",
           # GBK's extension rows (not GB2312): 镕 = E9 46 reads as "éF" in cp1252, 喆, 堃,
           # 內 (a traditional form); units beside hanzi; one hanzi alone
           "a,b\n1,镕\n", "a,b\n1,喆\n", "a,b\n1,堃\n", "id,地区\n1,內蒙古\n",
           "名称,距离km\n甲,1\n", "项目,重量(kg)\n乙,2\n", "name\n王\n",
           "shipment_id,mode\nS1,公路\n", "编号;面积\n一;2,5\n"]


@pytest.mark.parametrize(("text", "encoding", "detected"),
                         [(t, "latin-1", "cp1252") for t in LATIN]
                         + [(t, "gbk", "gb18030") for t in CHINESE])
def test_short_legacy_texts_are_told_apart(tmp_path: Path, text: str, encoding: str,
                                           detected: str) -> None:
    """Latin-1 bytes also decode as GB18030 ("São" → a valid double-byte pair), so the
    detection weighs which reading is natural; each sample must come back as written."""
    spec = TableSpec("t", tuple(ColumnSpec(c, "str") for c in
                                text.splitlines()[0].replace(";", ",").split(",")))
    t = read_table(_write(tmp_path, "t.csv", text.encode(encoding)), spec)
    assert t.report.encoding == detected
    assert t.frame.row(0)[0] == text.splitlines()[1].replace(";", ",").split(",")[0]


def test_empty_unnamed_columns_as_excel_writes_them_are_dropped(tmp_path: Path) -> None:
    t = read_table(_write(tmp_path, "l.csv", b"leg_id,mass_t,,\r\nA,1,,\r\nB,2,,\r\n"), SPEC)
    assert t.frame["mass_t"].to_list() == [1.0, 2.0]
    msg = _error(_write(tmp_path, "m.csv", b"leg_id,mass_t,\nA,1,x\n"))
    assert "column 3 has values but no name" in msg


# --------------------------------------------------------------------------- batches

UNKEYED = TableSpec("legs", SPEC.columns, plausible=SPEC.plausible)


def _many_rows(n: int) -> str:
    """``n`` legs as a German Excel writes them: semicolons, decimal commas, CRLF; a bad
    mass every 97th row, a quoted value with a line break and a blank line now and then."""
    rows = ["leg_id;mode;mass_t;fuel_amount;fuel_unit"]
    for i in range(n):
        mass = "schwer" if i % 97 == 50 else f"{i % 13},{i % 10}"
        leg = f'"L{i}\r\nzweite Zeile"' if i % 151 == 7 else f"L{i}-München"
        rows.append(f"{leg};road;{mass};;")
        if i % 211 == 3:
            rows.append("")
    return "\r\n".join(rows) + "\r\n"


@pytest.mark.parametrize("batch_rows", [1, 64, 999])
def test_batches_read_like_the_whole_file(tmp_path: Path, batch_rows: int) -> None:
    """A CSV read in bounded batches gives the same rows, values and problems — with the
    same (file) line numbers, across quoted line breaks and blank lines — as read whole."""
    from hesuan.io.tables import read_table_batches

    path = _write(tmp_path, "legs.csv", _many_rows(1000).encode("cp1252"))
    whole = read_table(path, UNKEYED, errors="collect")
    batches = list(read_table_batches(path, UNKEYED, batch_rows=batch_rows,
                                      errors="collect"))
    assert len(batches) >= 1000 // batch_rows  # several batches, each bounded
    assert all(b.frame.height <= batch_rows for b in batches)
    assert pl.concat([b.frame for b in batches]).equals(whole.frame)
    assert [p for b in batches for p in b.problems] == list(whole.problems)
    # row 50: line 52, and one more for the blank line after row 3 and for row 7's line break
    assert len(whole.problems) == 10 and whole.problems[0].row == 54
    assert {b.report.encoding for b in batches} == {"cp1252"}
    assert {b.report.decimal for b in batches} == {","}
    assert {b.report.columns for b in batches} == {whole.report.columns}
    lines = [b.line(i) for b in batches for i in range(b.frame.height)]
    assert lines == [whole.line(i) for i in range(whole.frame.height)]


def test_batches_name_the_files_line_of_a_ragged_row_or_a_bad_byte(tmp_path: Path) -> None:
    from hesuan.io.tables import read_table_batches

    text = "leg_id,mass_t\n" + "".join(f"L{i},{i}\n" for i in range(300)) + "L300,1,extra\n"
    path = _write(tmp_path, "ragged.csv", text.encode())
    with pytest.raises(InputError) as whole:
        read_table(path, UNKEYED)
    with pytest.raises(InputError) as batched:
        list(read_table_batches(path, UNKEYED, batch_rows=50))
    assert str(batched.value) == str(whole.value) and "line 302" in str(whole.value)
    # UTF-8 on the first MiB, then a byte that is not: named by its line
    big = "leg_id,mass_t\n" + "".join(f"L{i}-é,{i}\n" for i in range(80_000))
    path = _write(tmp_path, "late.csv", big.encode() + b"L\xff,1\n")
    with pytest.raises(InputError, match=r"line 80002.*0xff"):
        list(read_table_batches(path, UNKEYED, batch_rows=10_000))


def test_batches_refuse_a_keyed_spec() -> None:
    from hesuan.io.tables import read_table_batches

    with pytest.raises(ValueError, match="keyed"):
        next(read_table_batches("x.csv", SPEC))
