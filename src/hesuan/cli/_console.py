r"""What the CLI prints: results to stdout, messages and progress to stderr.

- :func:`print_table` — a results table that never cuts a number: a Rich table on a wide
  enough terminal (text columns wrap, numbers never do), one block of ``label: value``
  lines per row when the terminal is too narrow, and plain tab-separated text when stdout
  is not a terminal (a pipe or a file: ``hesuan … | column -t -s$'\t'`` aligns it again).
- :data:`JsonOption` and :func:`print_json` — the one ``--json`` mechanism: every command
  that prints results takes ``as_json: bool = JsonOption`` and, when set, prints exactly one
  strict JSON document on stdout (never ``NaN``; messages stay on stderr).
- :func:`print_warnings` and :func:`print_read_report` — how an input was read (encoding,
  delimiter) and its plausibility warnings, on stderr.
- ``OverwriteOption``, ``EncodingOption``, ``DelimiterOption``, ``DecimalOption``,
  ``SheetOption`` — the options of every command that reads tables and writes a run folder.
- :func:`print_error` — how ``hesuan`` shows an expected failure.
- :func:`progress_bar` — the bar of a long run on stderr, fed by the run's
  ``progress(done, total)`` callback.

Example
-------
>>> from hesuan.cli._console import JsonOption, print_json, print_table
>>> def show(as_json: bool = JsonOption) -> None:            # doctest: +SKIP
...     rows = [{"mode": "road", "wtw_t_co2e": 18707372.04}]
...     if as_json:
...         print_json(rows)
...         return
...     print_table(rows, title="Emissions", numeric=("wtw_t_co2e",))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

JsonOption: Any = typer.Option(
    False, "--json", help="Print the result as one strict JSON document (for scripts).")

OverwriteOption: Any = typer.Option(
    False, "--overwrite", help="Replace the outputs of an earlier run in the output folder "
    "(the whole set; without it such a folder is refused).")
EncodingOption: Any = typer.Option(
    None, "--encoding", help="Text encoding of CSV inputs (utf-8, gb18030, gbk, latin-1, "
    "cp1252 …); default: detected and reported.")
DelimiterOption: Any = typer.Option(
    None, "--delimiter", help="CSV delimiter: comma, semicolon, tab or one character; "
    "default: detected from the header.")
DecimalOption: Any = typer.Option(
    None, "--decimal", help="Decimal mark of CSV inputs, . or , (default: , only in a file "
    "separated by ; or tabs that writes its numbers so).")
SheetOption: Any = typer.Option(
    None, "--sheet", help="Sheet of an Excel input (name or 0-based number; default the "
    "first).")
"""Options for the commands that read tables with :func:`hesuan.io.tables.read_table` and
write with :class:`hesuan.io.outputs.OutputSet`, so every command spells them alike."""


def print_read_report(report: Any) -> None:
    """Print how an input table was read, and its warnings, on stderr.

    The :class:`~hesuan.io.tables.ReadReport` as one line, e.g. ``legs.csv: 12 row(s) (CSV, gb18030,
    delimiter semicolon)``.
    """
    err_console.print(report.describe(), markup=False, highlight=False, soft_wrap=True)
    print_warnings(report.warnings)


def print_json(obj: Any) -> None:
    """``obj`` as strict JSON on stdout (see :func:`hesuan.io.jsonout.dumps`)."""
    from hesuan.io.jsonout import dumps

    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


def print_error(exc: BaseException) -> None:
    """``error: <message>`` on stderr, without markup interpretation of the message."""
    err_console.print("[bold red]error:[/bold red] ", end="")
    err_console.print(str(exc), markup=False, highlight=False, soft_wrap=True)


def print_warnings(warnings: Iterable[object]) -> None:
    """Each warning on its own line on stderr: ``warning: …``."""
    for w in warnings:
        err_console.print("[yellow]warning:[/yellow] ", end="")
        err_console.print(str(w), markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(label: str, unit: str = "blocks", *,
                 disable: bool = False) -> Iterator[Callable[[int, int], None]]:
    """Show ``label ━━━━ done/total <unit> 0:00:12`` on stderr while the block runs.

    Yields the ``progress(done, total)`` callback to hand to the run; the bar is removed when
    the block ends. ``disable`` (e.g. with ``--json``) shows nothing.

    Examples
    --------
    >>> with progress_bar("land carbon", disable=True) as progress:
    ...     progress(1, 4)
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(),
                  TextColumn("{task.completed}/{task.total} " + unit), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=disable) as bar:
        task = bar.add_task(unit, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def print_table(
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    *,
    columns: Sequence[str] | None = None,
    title: str = "",
    numeric: Iterable[str] = (),
    out: Console | None = None,
) -> None:
    """Print ``rows`` so that no number is ever cut.

    Parameters
    ----------
    rows : sequence of mappings or of sequences
        The rows; mappings are read by ``columns`` (default: the first row's keys). Cells
        are printed as given when they are text (format numbers before, e.g. ``f"{x:,.3f}"``)
        and with ``:g`` when they are floats.
    columns : sequence of str, optional
        Column headers (required for rows that are sequences).
    title : str
        Printed above the table.
    numeric : iterable of str
        Columns holding numbers: right-aligned and never wrapped.
    """
    out = out or console
    if columns is None:
        if rows and isinstance(rows[0], Mapping):
            columns = list(rows[0].keys())
        else:
            raise ValueError("print_table needs columns for rows that are sequences")
    cols = list(columns)
    cells = [[_cell(r.get(c)) for c in cols] if isinstance(r, Mapping)
             else [_cell(v) for v in r] for r in rows]
    numbers = set(numeric)
    if not out.is_terminal:
        _plain(out, title, cols, cells)
        return
    number_width = sum(max([len(c)] + [len(row[i]) for row in cells])
                       for i, c in enumerate(cols) if c in numbers)
    text_cols = [c for c in cols if c not in numbers]
    min_text = sum(min(12, max([len(c)] + [len(row[i]) for row in cells]))
                   for i, c in enumerate(cols) if c in text_cols)
    needed = number_width + min_text + 3 * len(cols) + 1
    if needed > out.width:
        _as_list(out, title, cols, cells)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title or None)
    for c in cols:
        if c in numbers:
            table.add_column(c, justify="right", no_wrap=True,
                             min_width=max([len(c)] + [len(row[cols.index(c)]) for row in cells]))
        else:
            table.add_column(c, overflow="fold")
    for row in cells:
        table.add_row(*(escape(v) for v in row))
    out.print(table)


def _plain(out: Console, title: str, cols: list[str], cells: list[list[str]]) -> None:
    lines = ([f"# {title}"] if title else []) + ["\t".join(cols)]
    lines += ["\t".join(c.replace("\t", " ").replace("\n", " ") for c in row) for row in cells]
    out.file.write("\n".join(lines) + "\n")
    out.file.flush()


def _as_list(out: Console, title: str, cols: list[str], cells: list[list[str]]) -> None:
    if title:
        out.print(title, style="bold", markup=False, highlight=False)
    width = max(len(c) for c in cols)
    for k, row in enumerate(cells):
        if k:
            out.print("")
        for c, v in zip(cols, row, strict=True):
            out.print(f"{c:>{width}}  {v}", markup=False, highlight=False, overflow="fold")
