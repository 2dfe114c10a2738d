r"""One declaration and one reader for every tabular input.

A :class:`TableSpec` declares a table's columns (:class:`ColumnSpec`: type, unit, required or
required-if, allowed values, bounds, finite-only, plausible range), its key columns (unique
together) and the ranges that only warn. :func:`read_table` reads CSV, Parquet or Excel
into a Polars DataFrame typed after the spec and checks every rule, reporting *all* problems
at once in one :class:`~hesuan.errors.InputError` whose problems name file, line, field and
what was expected. The same spec renders the CLI help (:func:`help_text`), the docs' column
table (:func:`markdown_table`), a JSON Schema (:func:`json_schema`) and a pydantic model of
one row (:func:`row_model`).

CSV is read as a spreadsheet program writes it: UTF-8 with or without BOM (Excel's "CSV
UTF-8"), UTF-16 with BOM (Excel's "Unicode text"), GB18030/GBK (Chinese Excel's default) or
Latin-1/cp1252 (named by ``encoding=`` or detected: strict UTF-8 first, then GB18030 or
cp1252 by the pattern of its double-byte pairs, stated in the report); ``,`` ``;`` or tab
delimiters (detected from the header, or named) and decimal commas (detected when the
delimiter is not ``,``, or named). Line numbers count as the spreadsheet shows them: the
header is line 1.

Example
-------
>>> from hesuan.io.tables import ColumnSpec, RequiredIf, TableSpec, read_table
>>> LEGS = TableSpec("legs", (
...     ColumnSpec("leg_id", "str", "Leg id.", required=True),
...     ColumnSpec("mass_t", "float", "Freight mass.", unit="t", required=True,
...                minimum=0.0, plausible=(0.0, 1e6)),
...     ColumnSpec("fuel_unit", "str", "Unit of fuel_amount.", allowed=("L", "kg"),
...                required_if=RequiredIf("fuel_amount")),
...     ColumnSpec("fuel_amount", "float", "Fuel used.", minimum=0.0),
... ), key=("leg_id",))
>>> import pathlib, tempfile
>>> legs_csv = pathlib.Path(tempfile.mkdtemp()) / "legs.csv"   # as Excel's "CSV UTF-8"
>>> _ = legs_csv.write_bytes("\ufeffleg_id,mass_t\r\nL1,12.5\r\n".encode("utf-8"))
>>> table = read_table(legs_csv, LEGS)
>>> float(table.frame["mass_t"].sum()), table.report.encoding
(12.5, 'utf-8-sig')
>>> table.report.warnings                                 # plausibility, detection notes
()

A check the spec cannot express is written against the typed frame and reported the same
way: ``table.problem(i, "distance_km", "missing", "distance_km or the coordinates")`` makes a
:class:`~hesuan.errors.Problem` naming the file and the line of row ``i`` (0-based), and
``table.raise_problems(problems)`` raises them as one error.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import hashlib
import io
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl

from hesuan.errors import InputError, Problem
from hesuan.io.spec import (
    ColumnSpec,
    DType,
    Plausibility,
    RequiredIf,
    TableSpec,
    help_text,
    json_schema,
    markdown_table,
    row_model,
)

__all__ = [
    "MAX_PROBLEMS",
    "ColumnSpec",
    "DType",
    "Plausibility",
    "ReadReport",
    "RequiredIf",
    "Table",
    "TableSpec",
    "check_finite",
    "help_text",
    "json_schema",
    "markdown_table",
    "read_table",
    "row_model",
]

Format = Literal["csv", "parquet", "excel"]

MAX_PROBLEMS = 200
"""At most this many problems are collected per read (the error says how many more)."""

_POLARS_TYPES: dict[str, Any] = {
    "str": pl.String, "float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean,
    "date": pl.Date,
}
_EXPECTED: dict[str, str] = {
    "str": "text", "float": "a number such as 12.5", "int": "a whole number such as 12",
    "bool": "true or false", "date": "a date YYYY-MM-DD",
}
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_COMMA_DECIMAL = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReadReport:
    """How a table was read: format, encoding, delimiter, decimal mark, rows, warnings.

    ``row_base`` is the line number of the first data row (2 for CSV and Excel, whose header
    is line 1; 1 for Parquet) — ``line = row_base + index`` when the file has no blank or
    multi-line rows (:meth:`Table.line` is always exact).
    """

    file: str
    format: Format
    rows: int
    sha256: str
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    sheet: str | None = None
    row_base: int = 2
    warnings: tuple[Problem, ...] = ()
    columns: tuple[str, ...] = ()
    """The columns of the file's header (after aliases), in the file's order."""

    def as_dict(self) -> dict[str, Any]:
        """Return the read report as JSON-ready data (warnings as text)."""
        return {"file": self.file, "format": self.format, "rows": self.rows,
                "sha256": self.sha256, "encoding": self.encoding,
                "delimiter": self.delimiter, "decimal": self.decimal, "sheet": self.sheet,
                "warnings": [str(w) for w in self.warnings]}

    def describe(self) -> str:
        """One line for the console: ``legs.csv: 12 rows (CSV, gb18030, ';', decimal ',')``."""
        bits = [self.format.upper() if self.format == "csv" else self.format.capitalize()]
        if self.encoding:
            bits.append(self.encoding)
        if self.delimiter:
            bits.append(f"delimiter {_DELIMITERS.get(self.delimiter, repr(self.delimiter))}")
        if self.decimal == ",":
            bits.append("decimal comma")
        if self.sheet:
            bits.append(f"sheet {self.sheet!r}")
        return f"{self.file}: {self.rows} row(s) ({', '.join(bits)})"


@dataclass(frozen=True)
class Table:
    """A table read and checked after its spec: the typed frame and how it was read."""

    frame: pl.DataFrame
    report: ReadReport
    spec: TableSpec
    problems: tuple[Problem, ...] = ()
    _text: str | None = field(default=None, repr=False, compare=False)
    _delimiter: str | None = field(default=None, repr=False, compare=False)
    _line_shift: int = field(default=0, repr=False, compare=False)
    """Lines of the file before this batch's text (:func:`read_table_batches`)."""

    @cached_property
    def _lines(self) -> list[int] | None:
        """The line of each data row, or ``None`` when it is ``row_base + index``."""
        text = self._text
        if text is None or self._delimiter is None or not _irregular(text):
            return None
        return [line for line, _ in _csv_records(text, self._delimiter)][1:]

    def line(self, index: int) -> int:
        """Return the line (as a spreadsheet numbers it) of data row ``index`` (0-based)."""
        lines = self._lines
        if lines is not None and 0 <= index < len(lines):
            return self._line_shift + lines[index]
        return self._line_shift + self.report.row_base + index

    def problem(self, index: int | None, field: str | None, message: str,
                expected: str | None = None) -> Problem:
        """Return a problem at data row ``index`` (0-based; ``None`` for the whole table)."""
        return Problem(message, self.report.file,
                       None if index is None else self.line(index), field, expected)

    def raise_problems(self, problems: Sequence[Problem]) -> None:
        """Raise ``problems`` (if any) as one :class:`InputError` about this table."""
        if problems:
            raise InputError(problems=tuple(problems),
                             summary=_summary(self.report.file, self.spec, problems))


# --------------------------------------------------------------------------- the reader


def read_table(
    path: str | Path,
    spec: TableSpec,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    sheet: str | int | None = None,
    label: str | None = None,
    errors: Literal["raise", "collect"] = "raise",
) -> Table:
    r"""Read and check a CSV, Parquet or Excel table against ``spec``.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv`` (or any other name) is CSV; ``.parquet``/``.pq`` is
        Parquet, and so is a folder of ``*.parquet`` parts (read in name order);
        ``.xlsx``/``.xlsm``/``.xls``/``.xlsb``/``.ods`` is a workbook. A file whose
        content is another format than its name says is refused with a hint.
    spec : TableSpec
        The declaration the table must meet.
    encoding : str, optional
        The CSV's text encoding (``utf-8``, ``gb18030``, ``gbk``, ``latin-1``, ``cp1252``…);
        default: detected and stated in the report.
    delimiter : str, optional
        ``","``, ``";"``, ``"\t"`` (or ``"tab"``, ``"semicolon"``, ``"comma"``); default:
        detected from the header.
    decimal : str, optional
        ``"."`` or ``","``; default: ``","`` only when the delimiter is not a comma and the
        numeric columns are written with decimal commas.
    sheet : str or int, optional
        The workbook sheet (name or 0-based index); default the first.
    label : str, optional
        How the file is named in messages (default: the path as given).
    errors : {"raise", "collect"}
        ``"collect"``: problems with values (not with the file or its header) do not raise
        but are returned in ``Table.problems``, the bad cells left empty — so a caller with
        checks of its own reports everything at once (``table.raise_problems(...)``).

    Returns
    -------
    Table
        ``frame`` holds the declared columns (absent optional ones as empty columns) in the
        declared dtypes, then any kept unknown columns; ``report`` says how it was read.

    Raises
    ------
    InputError
        Listing every problem found, each with file, line, field and what was expected.
    """
    p = Path(path)
    name = label or str(path)
    if p.is_dir():
        parts = sorted(p.glob("*.parquet"))
        if not parts:
            raise InputError.single("is a folder without .parquet parts", file=name,
                                    expected=f"a {spec.name} table file (.csv, .parquet or "
                                    ".xlsx) or a folder of .parquet parts")
        frames, digest = [], hashlib.sha256()
        for part in parts:
            part_data = part.read_bytes()
            digest.update(hashlib.sha256(part_data).digest())
            frames.append(_read_parquet(part_data, str(part), "")[0])
        try:
            raw = pl.concat(frames, how="diagonal_relaxed")
        except Exception as exc:  # parts whose columns cannot be combined
            raise InputError.single(f"the parts do not share their columns' types ({exc})",
                                    file=name, expected="parts written with one schema"
                                    ) from None
        report = ReadReport(name, "parquet", raw.height, digest.hexdigest(), row_base=1)
        frame, report, bad_cells = _conform(raw, spec, report, decimal, None, None)
        return _finish(Table(frame, report, spec), bad_cells, errors)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError.single("no such file", file=name,
                                expected=f"a {spec.name} table (.csv, .parquet or .xlsx)"
                                ) from None
    except OSError as exc:
        raise InputError.single(f"cannot be read ({exc.strerror or exc})", file=name) from None
    sha = hashlib.sha256(data).hexdigest()
    fmt = _format_of(p, data, name)
    text: str | None = None
    delim: str | None = None
    if fmt == "parquet":
        raw, report = _read_parquet(data, name, sha)
    elif fmt == "excel":
        raw, report = _read_excel(data, name, sha, sheet)
    else:
        text, enc, notes = _decode(data, name, encoding)
        delim = _delimiter(text, name, delimiter)
        raw = _parse_csv(text, delim, name, data if enc == "utf-8" else None)
        report = ReadReport(name, "csv", raw.height, sha, encoding=enc, delimiter=delim,
                            warnings=tuple(notes))
    frame, report, bad_cells = _conform(raw, spec, report, decimal, text, delim)
    return _finish(Table(frame, report, spec, (), text, delim), bad_cells, errors)


DEFAULT_BATCH_ROWS = 200_000
"""Rows per batch of :func:`read_table_batches` [rows]."""

_BLOCK = 1 << 20  # bytes read at a time


def read_table_batches(
    path: str | Path,
    spec: TableSpec,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    label: str | None = None,
    errors: Literal["raise", "collect"] = "raise",
) -> Iterator[Table]:
    """Read a table as :func:`read_table` does, a CSV in batches of at most ``batch_rows`` lines.

    Memory is bounded: the file is read in blocks of 1 MiB, decoded incrementally and cut at
    record boundaries (never inside a quoted value), and each batch is parsed, converted and
    checked as :func:`read_table` does — same messages, and every line number the file's.

    The encoding (detected on the first MiB unless given), the delimiter (from the header)
    and the decimal mark (detected on the first batch unless given) are decided once. A
    Parquet file or an Excel workbook is read whole as one batch (an ``.xlsx`` sheet has at
    most 1 048 576 rows). Each batch's :class:`ReadReport` counts its own rows; its
    ``columns`` are the header's.

    Raises
    ------
    InputError
        As :func:`read_table`; a byte that does not decode in the chosen encoding names its
        line. ``spec.key`` (uniqueness over the whole table) is not checked batch by batch:
        a keyed spec is refused with ``ValueError`` — read such a table with
        :func:`read_table`.
    """
    if spec.key:
        raise ValueError(f"table {spec.name}: a keyed table is read whole (read_table)")
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    p = Path(path)
    name = label or str(path)
    if p.is_dir():
        yield read_table(path, spec, decimal=decimal, label=label, errors=errors)
        return
    try:
        handle = p.open("rb")
    except FileNotFoundError:
        raise InputError.single("no such file", file=name,
                                expected=f"a {spec.name} table (.csv, .parquet or .xlsx)"
                                ) from None
    except OSError as exc:
        raise InputError.single(f"cannot be read ({exc.strerror or exc})", file=name) from None
    with handle:
        head = handle.read(_BLOCK)
        if _format_of(p, head, name) != "csv":
            handle.close()
            yield read_table(path, spec, encoding=encoding, delimiter=delimiter,
                             decimal=decimal, label=label, errors=errors)
            return
        codec, notes = _stream_codec(head, name, encoding)
        header: str | None = None
        delim = ""
        shift = 0  # lines of the file before the current batch, less the header's
        for chunk, first_line in _record_chunks(_decoded(handle, head, codec, name),
                                                batch_rows):
            if header is None:  # the first chunk: the header and the first rows
                text = chunk
                delim = _delimiter(text, name, delimiter)
                header = _first_lines(text)[1]
            else:
                text = header + "\n" + chunk
                shift = first_line - 2
            raw = _shifted(shift, _parse_csv, text, delim, name)
            if shift and not raw.height:  # blank lines only
                continue
            report = ReadReport(name, "csv", raw.height, "", encoding=codec, delimiter=delim,
                                warnings=tuple(notes) if not shift else ())
            frame, report, bad_cells = _shifted(shift, _conform, raw, spec, report, decimal,
                                                text, delim, shift)
            decimal = report.decimal
            table = Table(frame, report, spec, (), text, delim, shift)
            yield _finish(table, bad_cells, errors)


def _stream_codec(head: bytes, name: str, encoding: str | None) -> tuple[str, list[Problem]]:
    """Return the codec of a CSV from its first block.

    As :func:`_decode` decides for a whole file; a multi-byte character cut at the block's end
    is not held against UTF-8.
    """
    cut = head.rfind(b"\n") + 1 if len(head) == _BLOCK else len(head)
    sample = head[:cut or len(head)]
    if encoding:
        return _decode(sample, name, encoding)[1], []
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", []
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _BLOCK)
    except UnicodeDecodeError:
        pass
    else:
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), []
    _, codec, notes = _decode(sample, name, None)
    return codec, notes


def _decoded(handle: Any, head: bytes, codec: str, name: str) -> Iterator[str]:
    """Yield the text of the file, block by block (a decoding error names its line)."""
    decoder = codecs.getincrementaldecoder(codec)()
    lines_before = 0
    block = head
    while True:
        final = len(block) < _BLOCK
        try:
            text = decoder.decode(block, final=final)
        except UnicodeDecodeError as exc:
            line = lines_before + block[: max(exc.start, 0)].count(b"\n") + 1
            bad = block[exc.start] if 0 <= exc.start < len(block) else 0
            raise InputError.single(
                f"not {codec} text: byte 0x{bad:02x} cannot be decoded", file=name, row=line,
                expected="the file's real encoding (try --encoding gb18030 or latin-1)",
            ) from None
        lines_before += block.count(b"\n")
        if text:
            yield text
        if final:
            return
        block = handle.read(_BLOCK)


def _record_chunks(pieces: Iterator[str], batch_rows: int) -> Iterator[tuple[str, int]]:
    """Yield chunks of whole records, each with the file line of its first line.

    A chunk holds at most ``batch_rows`` lines (plus the header in the first chunk).
    """
    pending = ""
    line = 1
    first = True
    for piece in itertools.chain(pieces, [None]):
        if piece is not None:
            pending += piece
        while pending:
            want = batch_rows + (_first_lines(pending)[0] + 1 if first else 0)
            cut = _after_nth_newline(pending, want) if piece is None or \
                pending.count("\n") >= want else -1
            if cut < 0:
                if piece is not None:
                    break  # read on
                cut = len(pending)
            while pending.count('"', 0, cut) % 2:  # inside a quoted value: take more lines
                nxt = pending.find("\n", cut)
                if nxt < 0:
                    cut = -1 if piece is not None else len(pending)
                    break
                cut = nxt + 1
            if cut < 0:
                break
            chunk, pending = pending[:cut], pending[cut:]
            yield chunk, line
            line += chunk.count("\n")
            first = False
        if piece is None:
            return


def _after_nth_newline(text: str, n: int) -> int:
    """Return the index after the ``n``-th line break of ``text``, or -1 when it has fewer."""
    pos = -1
    for _ in range(n):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return -1
    return pos + 1


def _shifted(shift: int, fn: Any, *args: Any) -> Any:
    """Call ``fn(*args)``, with the lines of its InputError moved down by ``shift``.

    A batch's text starts with the header; its first data line is the file's line
    ``shift + 2``.
    """
    try:
        return fn(*args)
    except InputError as exc:
        if not shift:
            raise
        moved = tuple(dataclasses.replace(q, row=q.row + shift)
                      if q.row is not None and q.row > 1 else q for q in exc.problems)
        single = len(moved) == 1 and exc.summary == str(exc.problems[0])
        summary = str(moved[0]) if single else exc.summary
        raise InputError(problems=moved, summary=summary) from None


def _finish(table: Table, bad_cells: dict[str, dict[int, Problem]],
            errors: Literal["raise", "collect"]) -> Table:
    """Check the typed table; raise its problems or keep them on it."""
    problems = [p for cells in bad_cells.values() for p in cells.values()]
    _check(table, problems, {c: set(cells) for c, cells in bad_cells.items()})
    if errors == "raise":
        table.raise_problems(problems)
    elif problems:
        object.__setattr__(table, "problems", tuple(problems))
    return table


def _format_of(p: Path, data: bytes, name: str) -> Format:
    suffix = p.suffix.lower()
    is_parquet = data[:4] == b"PAR1"
    is_zip = data[:4] == b"PK\x03\x04"
    is_ole = data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
    if suffix in _PARQUET_SUFFIXES:
        if not is_parquet:
            hint = " (it looks like an Excel workbook)" if is_zip or is_ole else ""
            raise InputError.single(f"not a Parquet file{hint}", file=name,
                                    expected="a Parquet file (starting with PAR1), or a .csv "
                                    "or .xlsx named so")
        return "parquet"
    if suffix in _EXCEL_SUFFIXES:
        if not (is_zip or is_ole):
            hint = " (it looks like a Parquet file)" if is_parquet else \
                " (it looks like text: rename it .csv)"
            raise InputError.single(f"not an Excel workbook{hint}", file=name,
                                    expected="an .xlsx/.xls workbook as Excel saves it")
        return "excel"
    if is_parquet:
        raise InputError.single("is a Parquet file but its name does not end in .parquet",
                                file=name, expected="rename it to .parquet")
    if is_zip or is_ole:
        raise InputError.single("is an Excel workbook (or another zip file) but its name does "
                                "not end in .xlsx", file=name,
                                expected="rename it to .xlsx, or save the sheet as CSV")
    return "csv"


def _decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str, list[Problem]]:
    """Return the text of a CSV and its encoding (``utf-8-sig`` when there is a BOM)."""
    notes: list[Problem] = []
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise InputError.single(f"unknown encoding {encoding!r}", file=name,
                                    expected="utf-8, gb18030, gbk, latin-1, cp1252 …") from None
        if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        try:
            return data.decode(codec), codec, notes
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError.single(
                f"not {encoding} text: byte 0x{data[exc.start]:02x} cannot be decoded",
                file=name, row=line,
                expected="the file's real encoding (try --encoding gb18030 or latin-1)",
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8"]
    for codec in candidates:
        try:
            return data.decode(codec), codec, notes
        except UnicodeDecodeError as exc:
            if codec != "utf-8":
                line = data[: exc.start].count(b"\n") + 1
                raise InputError.single(f"not {codec} text despite its byte-order mark",
                                        file=name, row=line) from None
    codec = _legacy_codec(data)
    notes.append(Problem(f"not UTF-8; read as {codec} (pass --encoding to say otherwise)",
                         name))
    return data.decode(codec), codec, notes


def _legacy_codec(data: bytes) -> str:
    """GB18030 or cp1252 (Latin-1) for bytes that are not UTF-8.

    Most Latin-1 text also decodes as GB18030 (an accented letter and the ASCII letter after
    it form a valid double-byte pair), so decoding without error cannot decide. The rule,
    over the double-byte pairs of the first MiB (GBK ⊂ GB18030):

    * a pair in GB2312's hanzi and punctuation rows (lead byte 0xA1–0xA9 or 0xB0–0xF7,
      trail 0xA1–0xFE) counts for GB18030 — Chinese text saved by Excel is mostly made of
      them, while Latin-1 text seldom has two accented letters in a row — unless ASCII
      letters stand on both sides of it (Portuguese "ção" = E7 E3 inside "Informação");
    * any other pair (GBK's extension rows, such as 镕 = E9 46, which cp1252 reads as "éF")
      counts for cp1252 when an ASCII letter stands right after it or an ASCII letter or
      digit right before it — an accented letter inside a word, as in "Zürich" (FC 72 = 黱
      between "Z" and "ich"), or a sign after a number, "12°C" — and for GB18030 otherwise
      (a Chinese cell stands between delimiters or other hanzi);
    * a four-byte GB18030 sequence counts for cp1252 (Excel's GBK never writes one).

    GB18030 when its count is larger, else cp1252. (charset-normalizer 3.5, tried on the
    short cells of tests/io/test_tables.py, read every short GBK one as cp949, Big5 or
    cp932, and half the Latin-1 ones as Big5 or cp1006.)
    """
    gb, cp = _decodes(data, "gb18030"), _decodes(data, "cp1252")
    if gb != cp:
        return "gb18030" if gb else "cp1252"
    if not gb:
        return "latin-1"  # decodes any byte; a bad cell will show it
    sample = data[: 1 << 20]
    for_gb = for_cp = 0
    for match in re.finditer(rb"[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x80-\xff].?",
                             sample, re.DOTALL):
        pair = match.group()
        if len(pair) != 2:
            for_cp += 1
            continue
        start, end = match.start(), match.end()
        before = sample[start - 1:start] if start else b""
        after = sample[end:end + 1].isalpha()
        if 0xA1 <= pair[1] <= 0xFE and (0xB0 <= pair[0] <= 0xF7 or 0xA1 <= pair[0] <= 0xA9):
            latin = before.isalpha() and after  # two accented letters in a word: "ção"
        else:
            latin = before.isalnum() or after  # "Zürich", "12°C"
        for_cp += latin
        for_gb += not latin
    return "gb18030" if for_gb > for_cp else "cp1252"


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _irregular(text: str) -> bool:
    """Whether a data row may not be on line ``index + 2``.

    A quoted field (which may hold a line break) or a blank line.
    """
    return '"' in text or "\n\n" in text or "\n\r\n" in text or \
        text.startswith(("\n", "\r\n"))


def _first_lines(text: str) -> tuple[int, str]:
    """Return the number of blank lines before the header, and the header line."""
    start, blank = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end].rstrip("\r")
        if line.strip():
            return blank, line
        blank += 1
        start = end + 1
    return blank, ""


def _header_line(text: str) -> str:
    return _first_lines(text)[1]


def _delimiter(text: str, name: str, given: str | None) -> str:
    header = _header_line(text)
    words = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
    if given is not None:
        delim = words.get(given.lower(), given)
        if len(delim) != 1:
            raise InputError.single(f"bad delimiter {given!r}", file=name,
                                    expected="one character: , ; or tab")
        return delim
    counts = {d: _count_outside_quotes(header, d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == char and not quoted:
            count += 1
    return count


def _csv_records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Return ``(line, cells)`` of every non-blank record.

    The slow, exact pass: used for line numbers and for naming ragged rows.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    out: list[tuple[int, list[str]]] = []
    start = 1
    for cells in reader:
        if any(c.strip() for c in cells):
            out.append((start, cells))
        start = reader.line_num + 1
    return out


def _parse_csv(text: str, delim: str, name: str, utf8: bytes | None = None) -> pl.DataFrame:
    """Return every cell as text (``None`` when empty), with a named error for each ragged row.

    ``utf8``: the file's bytes when they are already UTF-8 without BOM.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header_text = _header_line(text)
    if not header_text:
        raise InputError.single("empty file", file=name, row=1, expected="a header row")
    header = next(csv.reader([header_text], delimiter=delim))
    header = [h.strip().lstrip("\ufeff") for h in header]
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise InputError.single(f"column(s) named twice: {', '.join(dupes)}", file=name,
                                row=1, expected="each column once in the header")
    unnamed = [f"__unnamed_{k + 1}__" for k, h in enumerate(header) if not h]
    header = [h or f"__unnamed_{k + 1}__" for k, h in enumerate(header)]
    ragged: list[int] = []

    def on_invalid(row: Any) -> str:
        ragged.append(row.actual_columns)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8") if utf8 is None else utf8),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=_blank_prefix(text)
                                           + 1),
            # a line break inside a value needs quotes; without any, rows parse in parallel
            parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values='"' in text,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True,
                null_values=[""], quoted_strings_can_be_null=True),
        )
    except pa.ArrowInvalid:
        ragged.append(-1)
    if ragged:
        raise _ragged_error(text, delim, header, name)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    for column in unnamed:  # Excel writes empty trailing columns as ",,": drop them
        if frame[column].null_count() != frame.height:
            raise InputError.single(
                f"column {column.strip('_').split('_')[-1]} has values but no name",
                file=name, row=1, expected="a name for every column that holds values")
    return frame.drop(unnamed)


def _blank_prefix(text: str) -> int:
    return _first_lines(text)[0]


def _ragged_error(text: str, delim: str, header: list[str], name: str) -> InputError:
    problems: list[Problem] = []
    width = len(header)
    quote_line = _unclosed_quote_line(text)
    if quote_line is not None:
        problems.append(Problem("a quoted field is never closed (the file may be truncated)",
                                name, row=quote_line, expected='a closing " quote'))
        return InputError(problems=tuple(problems), summary=str(problems[0]))
    records = _csv_records(text, delim)
    for line, cells in records[1:]:
        if len(cells) != width:
            what = "too many" if len(cells) > width else "too few"
            problems.append(Problem(f"{len(cells)} fields, the header has {width} ({what})",
                                    name, row=line,
                                    expected=f"{width} fields separated by {delim!r}"))
            if len(problems) >= MAX_PROBLEMS:
                break
    if not problems:
        problems.append(Problem("cannot be parsed as CSV", name,
                                expected=f"{width} fields per row separated by {delim!r}"))
    return InputError(problems=tuple(problems),
                      summary=f"{name}: {len(problems)} row(s) cannot be read as "
                      f"{width}-column CSV")


def _unclosed_quote_line(text: str) -> int | None:
    quoted, line, start = False, 1, None
    for c in text:
        if c == '"':
            quoted = not quoted
            if quoted:
                start = line
        elif c == "\n":
            line += 1
    return start if quoted else None


def _read_parquet(data: bytes, name: str, sha: str) -> tuple[pl.DataFrame, ReadReport]:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several types for a damaged file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError.single(f"not a readable Parquet file ({first})", file=name,
                                expected="a complete Parquet file (re-export it; it may be "
                                "truncated)") from None
    return frame, ReadReport(name, "parquet", frame.height, sha, row_base=1)


def _read_excel(data: bytes, name: str, sha: str,
                sheet: str | int | None) -> tuple[pl.DataFrame, ReadReport]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
    except Exception as exc:  # fastexcel raises its own CalamineError types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError.single(f"not a readable workbook ({first})", file=name,
                                expected="an .xlsx workbook as Excel saves it (it may be "
                                "truncated or password-protected)") from None
    names = list(reader.sheet_names)
    if not names:
        raise InputError.single("the workbook has no sheet", file=name)
    chosen: str | int = 0 if sheet is None else sheet
    if isinstance(chosen, str) and chosen not in names:
        if chosen.isdigit() and int(chosen) < len(names):
            chosen = int(chosen)
        else:
            raise InputError.single(f"no sheet {chosen!r}", file=name, field="sheet",
                                    expected="one of " + ", ".join(names))
    if isinstance(chosen, int) and not 0 <= chosen < len(names):
        raise InputError.single(f"no sheet number {chosen}", file=name, field="sheet",
                                expected=f"0 to {len(names) - 1} ({', '.join(names)})")
    try:
        frame = reader.load_sheet(chosen, dtypes="string").to_polars()
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError.single(f"sheet cannot be read ({first})", file=name,
                                expected="a header row and data rows") from None
    frame = frame.rename({c: str(c).strip() for c in frame.columns})
    sheet_name = names[chosen] if isinstance(chosen, int) else chosen
    # Excel pads a sheet with empty rows after the data: drop rows empty in every column.
    if frame.width:
        frame = frame.filter(~pl.all_horizontal(
            pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in frame.columns))
    return frame, ReadReport(name, "excel", frame.height, sha, sheet=sheet_name, row_base=2)


# --------------------------------------------------------------------------- conformance


def _conform(raw: pl.DataFrame, spec: TableSpec, report: ReadReport, decimal: str | None,
             text: str | None, delim: str | None, line_shift: int = 0,
             ) -> tuple[pl.DataFrame, ReadReport, dict[str, dict[int, Problem]]]:
    """Rename aliases, check the header (raising), convert every declared column to its dtype.

    The cells that do not convert are returned as ``{column: {index: problem}}``.
    """
    name = report.file
    raw = _rename_aliases(raw, spec)
    declared = set(spec.names)
    present = list(raw.columns)
    warnings = list(report.warnings)
    raw = _check_header(raw, spec, report, delim, warnings)

    if raw.height < spec.min_rows and not line_shift:
        raise InputError.single("no data rows", file=name, row=report.row_base,
                                expected=f"at least {spec.min_rows} row(s) under the header")

    chosen_decimal = _decimal_mark(raw, spec, decimal, delim, name)
    line_of = _line_numbers(text, delim, line_shift, report.row_base)
    out, bad_cells = _convert_columns(raw, spec, chosen_decimal, name, line_of)
    frame = pl.DataFrame(list(out.values()))
    kept = [c for c in raw.columns if c not in declared]
    if kept:
        frame = frame.hstack([raw[c] for c in kept])
    report = ReadReport(
        report.file, report.format, frame.height, report.sha256, report.encoding,
        report.delimiter, chosen_decimal if report.format == "csv" else None, report.sheet,
        report.row_base, tuple(warnings), tuple(present))
    return frame, report, bad_cells


def _rename_aliases(raw: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """Return ``raw`` with its header in the spec's names: aliases renamed, case folded if asked.

    An alias is not renamed when its column's own name is also present; with
    ``spec.header_any_case``, names are lower-cased unless two differ only by case.
    """
    aliases = {a: c.name for c in spec.columns for a in c.aliases}
    if spec.header_any_case:
        lower = [c.lower() for c in raw.columns]
        if len(set(lower)) == len(lower):  # (two names differing by case: left as they are)
            raw = raw.rename(dict(zip(raw.columns, lower, strict=True)))
            aliases = {a.lower(): n for a, n in aliases.items()}
    return raw.rename({c: aliases[c] for c in raw.columns if c in aliases
                       and aliases[c] not in raw.columns})


def _check_header(raw: pl.DataFrame, spec: TableSpec, report: ReadReport, delim: str | None,
                  warnings: list[Problem]) -> pl.DataFrame:
    """Check the header's columns and return ``raw`` without its unknown columns.

    Missing columns, then unknown ones (refused, or warned about in ``warnings`` and dropped,
    as ``spec.unknown_columns`` says; kept when it is ``"keep"``).

    Raises
    ------
    InputError
        Every header problem (line 1), with a delimiter hint when the header looks split
        by another delimiter.
    """
    name = report.file
    problems: list[Problem] = []
    present = list(raw.columns)
    for c in spec.columns:
        if (c.required or c.in_header) and c.name not in present:
            near = difflib.get_close_matches(c.name, present, n=1, cutoff=0.75)
            hint = f"; is '{near[0]}' meant to be it?" if near else ""
            problems.append(Problem(f"missing column{hint}", name, row=1, field=c.name,
                                    expected="a header with " + ", ".join(spec.required or
                                                                          spec.names)))
    declared = set(spec.names)
    unknown = [c for c in present if c not in declared]
    if unknown and spec.unknown_columns != "keep":
        for col in unknown:
            near = difflib.get_close_matches(col, spec.names, n=1, cutoff=0.75)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            msg = f"unknown column{hint}"
            if spec.unknown_columns == "error":
                problems.append(Problem(msg, name, row=1, field=col,
                                        expected="only the columns of a " + spec.name +
                                        " table: " + ", ".join(spec.names)))
            else:
                warnings.append(Problem(msg + "; ignored", name, row=1, field=col))
        raw = raw.drop(unknown)
    if problems:
        hint = _delimiter_hint(present, delim, report)
        if hint:
            problems.append(Problem(hint, name, row=1))
        raise InputError(problems=tuple(problems), summary=_summary(name, spec, problems))
    return raw


def _decimal_mark(raw: pl.DataFrame, spec: TableSpec, decimal: str | None, delim: str | None,
                  name: str) -> str:
    """Return the decimal mark: the one given, else detected when the delimiter is not a comma.

    Raises
    ------
    InputError
        A given mark other than ``.`` or ``,``.
    """
    chosen_decimal = decimal or "."
    if decimal is None and delim is not None and delim != ",":
        chosen_decimal = _detect_decimal(raw, spec)
    elif decimal not in (None, ".", ","):
        raise InputError.single(f"bad decimal mark {decimal!r}", file=name,
                                expected="'.' or ','")
    return chosen_decimal


def _line_numbers(text: str | None, delim: str | None, line_shift: int,
                  row_base: int) -> Callable[[int], int]:
    """Return the file line of a 0-based data row.

    A CSV whose records span lines is scanned for its record starts on first use; otherwise
    a row's line is ``line_shift + row_base + i``.
    """
    lines: list[int] | None = None

    def line_of(i: int) -> int:
        nonlocal lines
        if text is not None and delim is not None and _irregular(text):
            if lines is None:
                lines = [ln for ln, _ in _csv_records(text, delim)][1:]
            return line_shift + (lines[i] if i < len(lines) else row_base + i)
        return line_shift + row_base + i

    return line_of


def _convert_columns(raw: pl.DataFrame, spec: TableSpec, chosen_decimal: str, name: str,
                     line_of: Callable[[int], int],
                     ) -> tuple[dict[str, pl.Series], dict[str, dict[int, Problem]]]:
    """Convert every declared column to its dtype (an absent one: all null).

    Returns the columns by name and the cells that do not convert as
    ``{column: {index: problem}}`` (at most ``MAX_PROBLEMS`` in all).
    """
    out: dict[str, pl.Series] = {}
    bad_cells: dict[str, dict[int, Problem]] = {}
    count = 0
    for c in spec.columns:
        if c.name not in raw.columns:
            out[c.name] = pl.Series(c.name, [None] * raw.height, dtype=_POLARS_TYPES[c.dtype])
            continue
        series, bad = _convert(raw[c.name], c, chosen_decimal)
        out[c.name] = series
        for i in bad[:MAX_PROBLEMS - count]:
            value = raw[c.name][i]
            bad_cells.setdefault(c.name, {})[i] = Problem(
                f"not {_EXPECTED[c.dtype].split(' such')[0]}: {value!r}", name,
                row=line_of(i), field=c.name,
                expected=_EXPECTED[c.dtype] + (" (with a decimal comma)"
                                               if chosen_decimal == "," and c.dtype == "float"
                                               else ""))
            count += 1
    return out, bad_cells


def _delimiter_hint(present: list[str], delim: str | None, report: ReadReport) -> str:
    if delim is None:
        return ""
    header = " ".join(present)
    for other, word in _DELIMITERS.items():
        if other != delim and header.count(other) >= 1:
            return (f"the header looks {word}-separated, not "
                    f"{_DELIMITERS.get(delim, repr(delim))}-separated: pass --delimiter "
                    f"{'tab' if other == chr(9) else repr(other)}")
    return ""


def _detect_decimal(raw: pl.DataFrame, spec: TableSpec) -> str:
    comma = dot = 0
    for c in spec.columns:
        if c.dtype != "float" or c.name not in raw.columns:
            continue
        values = raw[c.name].drop_nulls().head(1000).str.strip_chars()
        comma += int(values.str.contains(_COMMA_DECIMAL.pattern).sum())
        dot += int(values.str.contains(_DOT_DECIMAL.pattern).sum())
    return "," if comma > 0 and dot == 0 else "."


def _convert(col: pl.Series, spec: ColumnSpec, decimal: str) -> tuple[pl.Series, list[int]]:
    """Return the column in ``spec.dtype`` and the 0-based indices of the cells that do not convert.

    Empty cells become null and are not errors here.
    """
    target = _POLARS_TYPES[spec.dtype]
    if col.dtype == pl.Null:
        return pl.Series(spec.name, [None] * len(col), dtype=target), []
    if col.dtype != pl.String:
        if spec.dtype == "str":
            return col.cast(pl.String).alias(spec.name), []
        if spec.dtype == "float" and col.dtype.is_numeric():
            return col.cast(pl.Float64).alias(spec.name), []
        if spec.dtype == "int" and col.dtype.is_integer():
            return col.cast(pl.Int64).alias(spec.name), []
        col = col.cast(pl.String)
    text = col.str.strip_chars()
    text = pl.select(pl.when(text == "").then(None).otherwise(text)).to_series()
    if spec.dtype == "str":
        return text.alias(spec.name), []
    if spec.dtype == "float":
        source = text.str.replace(",", ".", literal=True) if decimal == "," else text
        converted = source.cast(pl.Float64, strict=False)
    elif spec.dtype == "int":
        converted = text.cast(pl.Int64, strict=False)
        whole = text.cast(pl.Float64, strict=False)  # Excel writes 3 as "3.0"
        ok_whole = whole.is_not_null() & (whole == whole.floor()) & (whole.abs() < 2**53)
        converted = pl.select(
            pl.when(converted.is_null() & ok_whole).then(whole.cast(pl.Int64, strict=False))
            .otherwise(converted)).to_series()
    elif spec.dtype == "bool":
        low = text.str.to_lowercase()
        converted = pl.select(pl.when(low.is_in(_TRUE)).then(True)
                              .when(low.is_in(_FALSE)).then(False)
                              .otherwise(None)).to_series().cast(pl.Boolean)
    else:
        converted = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        converted = pl.select(pl.when(text.str.len_chars().is_in([10, 19]))
                              .then(converted).otherwise(None)).to_series()
    bad_mask = text.is_not_null() & converted.is_null()
    bad = bad_mask.arg_true().to_list()
    return converted.alias(spec.name), bad


# --------------------------------------------------------------------------- checks


def _check(table: Table, problems: list[Problem], bad_cells: dict[str, set[int]]) -> None:
    """Check required, required-if, allowed values, pattern, bounds, finiteness and unique key.

    Each problem appended to ``problems`` (a cell in ``bad_cells`` did not convert and is not
    reported again); then warn on plausible ranges (added to the report, never raised).
    """
    spec = table.spec
    add = _problem_adder(table, problems, bad_cells)
    for c in spec.columns:
        _check_column(table.frame, c, add)
        if len(problems) >= MAX_PROBLEMS:
            break
    if spec.key:
        _check_key(table, problems)
    order = {c.name: k for k, c in enumerate(spec.columns)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.field or "", 0)))
    _warn_implausible(table)


_Add = Callable[[pl.Series, str, Any, str], None]
"""``add(mask, column, message, expected)``: report the cells of ``column`` where ``mask``."""


def _problem_adder(table: Table, problems: list[Problem],
                   bad_cells: dict[str, set[int]]) -> _Add:
    """Return a function appending a problem to ``problems`` for each cell a mask selects.

    ``message`` is text, or a function of the cell's value; cells in ``bad_cells`` are
    skipped, and nothing is added past ``MAX_PROBLEMS``.
    """
    frame = table.frame

    def add(mask: pl.Series, c: str, message: Any, expected: str) -> None:
        skip = bad_cells.get(c, set())
        for i in mask.fill_null(False).arg_true().head(MAX_PROBLEMS).to_list():
            if i in skip:
                continue
            if len(problems) >= MAX_PROBLEMS:
                return
            msg = message(frame[c][i]) if callable(message) else message
            problems.append(table.problem(i, c, msg, expected))

    return add


def _check_column(frame: pl.DataFrame, c: ColumnSpec, add: _Add) -> None:
    """Check one column: required, required-if, allowed values, pattern, then its bounds."""
    s = frame[c.name]
    if c.required:
        add(s.is_null(), c.name, "empty", "a value" + (f" [{c.unit}]" if c.unit else ""))
    elif c.required_if is not None:
        cond = frame[c.required_if.column].is_not_null()
        if c.required_if.values:
            cond = cond & frame[c.required_if.column].cast(pl.String).is_in(
                c.required_if.values)
        add(cond & s.is_null(), c.name, "empty", f"a value ({c.required_if.describe()})")
    if c.allowed and c.dtype == "str":
        add(s.is_not_null() & ~s.is_in(c.allowed), c.name,
            lambda v: f"unknown value {v!r}", "one of " + ", ".join(c.allowed))
    if c.pattern and c.dtype == "str":
        add(s.is_not_null() & ~s.str.contains(f"^(?:{c.pattern})$"), c.name,
            lambda v: f"bad value {v!r}", c.pattern_text or f"text matching {c.pattern}")
    if c.dtype in ("float", "int"):
        _check_bounds(s, c, add)


def _check_bounds(s: pl.Series, c: ColumnSpec, add: _Add) -> None:
    """Check a numeric column: finiteness (floats, when asked), then minimum and maximum."""
    if c.finite and c.dtype == "float":
        add(s.is_not_null() & ~s.is_finite(), c.name,
            lambda v: f"not a finite number: {v}", "a finite number")
        ok = s.is_finite()
    else:
        ok = s.is_not_null()
    if c.minimum is not None:
        below = (s <= c.minimum) if c.exclusive_minimum else (s < c.minimum)
        add(ok & below, c.name, lambda v: f"{v:g} is below the minimum",
            c.rule_text().split(";")[0])
    if c.maximum is not None:
        add(ok & (s > c.maximum), c.name, lambda v: f"{v:g} is above the maximum",
            c.rule_text().split(";")[0])


def _check_key(table: Table, problems: list[Problem]) -> None:
    """Append a problem for each row repeating an earlier row's ``spec.key`` (naming its line)."""
    spec = table.spec
    keyed = table.frame.select(spec.key).with_row_index("_i").drop_nulls()
    dup = keyed.filter(pl.struct(spec.key).is_duplicated())
    if not dup.height:
        return
    first: dict[tuple[Any, ...], int] = {}
    for row in dup.iter_rows():
        i, key = row[0], tuple(row[1:])
        if key in first:
            problems.append(table.problem(
                i, ",".join(spec.key),
                f"duplicate key {', '.join(map(str, key))} (first on line "
                f"{table.line(first[key])})",
                f"each {' + '.join(spec.key)} once (a repeated row would be counted "
                "twice)"))
        else:
            first[key] = i
        if len(problems) >= MAX_PROBLEMS:
            break


def _warn_implausible(table: Table) -> None:
    """Add a warning to ``table.report`` for each plausible range that values fall outside."""
    frame = table.frame
    warnings = list(table.report.warnings)
    for p in table.spec.all_plausible():
        s = frame[p.column]
        if not s.dtype.is_numeric():
            continue
        mask = s.is_finite()
        if p.when is not None:
            mask = mask & frame[p.when[0]].cast(pl.String).is_in(p.when[1])
        out = pl.Series([False] * frame.height, dtype=pl.Boolean)
        if p.low is not None:
            out = out | (s < p.low)
        if p.high is not None:
            out = out | (s > p.high)
        hits = (mask & out).fill_null(False).arg_true().to_list()
        if hits:
            warnings.append(_implausible(table, p, hits))
    if len(warnings) != len(table.report.warnings):
        object.__setattr__(table, "report", _with_warnings(table.report, warnings))


def _implausible(table: Table, p: Plausibility, hits: list[int]) -> Problem:
    """Return the warning for the rows ``hits`` outside the plausible range ``p``."""
    lo = "" if p.low is None else f"{p.low:g}"
    hi = "" if p.high is None else f"{p.high:g}"
    where = f" where {p.when[0]} is {'/'.join(p.when[1])}" if p.when else ""
    shown = ", ".join(str(table.line(i)) for i in hits[:5])
    more = f" and {len(hits) - 5} more" if len(hits) > 5 else ""
    note = f"; {p.note}" if p.note else ""
    return Problem(
        f"{len(hits)} value(s) outside the plausible range {lo}…{hi}{where} "
        f"(line {shown}{more}){note}", table.report.file, field=p.column,
        expected="check the unit and the figure")


def _with_warnings(report: ReadReport, warnings: list[Problem]) -> ReadReport:
    return dataclasses.replace(report, warnings=tuple(warnings))


def _summary(name: str, spec: TableSpec, problems: Sequence[Problem]) -> str:
    if len(problems) == 1:
        return str(problems[0])
    more = "+" if len(problems) >= MAX_PROBLEMS else ""
    return f"{name}: {len(problems)}{more} problem(s) in the {spec.name} table"


def check_finite(value: float, *, field: str, file: str | None = None,
                 row: int | None = None) -> float:
    """``value`` if it is a finite number, else an :class:`InputError` naming ``field``."""
    if not math.isfinite(value):
        raise InputError.single(f"not a finite number: {value}", file=file, row=row,
                                field=field, expected="a finite number")
    return value


