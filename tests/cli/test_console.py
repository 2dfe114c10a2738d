"""The terminal: tables never cut a number, --json is strict, sub-commands load lazily."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console

from hesuan.cli import SUBCOMMANDS, load_command
from hesuan.cli._console import print_json, print_table

BIG = "18,707,372,012.125"
ROWS = [{"mode": "road", "wtw_t_co2e": BIG}, {"mode": "inland waterway", "wtw_t_co2e": "1.5"}]


def _render(width: int, terminal: bool) -> str:
    buffer = io.StringIO()
    out = Console(file=buffer, width=width, force_terminal=terminal, color_system=None)
    print_table(ROWS, title="Emissions", numeric=("wtw_t_co2e",), out=out)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [12, 20, 30, 40, 80, 200])
def test_no_width_cuts_a_number(width: int) -> None:
    text = _render(width, terminal=True)
    assert BIG in text.replace("\n", "") or BIG in text
    assert "…" not in text


def test_piped_output_is_plain_tab_separated() -> None:
    text = _render(20, terminal=False)
    assert text.splitlines() == ["# Emissions", "mode\twtw_t_co2e", f"road\t{BIG}",
                                 "inland waterway\t1.5"]


def test_print_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    from hesuan.errors import NonFiniteError

    print_json({"a": 1.5, "b": "北京"})
    assert json.loads(capsys.readouterr().out) == {"a": 1.5, "b": "北京"}
    with pytest.raises(NonFiniteError, match="at a"):
        print_json({"a": float("inf")})


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_root_help_lines_are_the_commands_own(name: str) -> None:
    command = load_command(name)
    first = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
    assert first == SUBCOMMANDS[name][2]


def test_version_and_help_import_no_sub_command() -> None:
    code = ("import sys; from hesuan.cli import main\n"
            "for argv in (['--version'], ['--help']):\n"
            "    try: main(argv)\n"
            "    except SystemExit: pass\n"
            "heavy = [m for m in ('hesuan.cli.transport', 'hesuan.cli.land', 'polars', 'pint',"
            " 'fastapi', 'sqlalchemy', 'hesuan.standards') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "HEAVY []" in done.stdout


def test_read_report_and_warnings_go_to_stderr(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from hesuan.cli._console import print_read_report
    from hesuan.io.tables import ColumnSpec, TableSpec, read_table

    path = tmp_path / "t.csv"
    path.write_bytes("a;b\n北京;1e9\n".encode("gbk"))
    spec = TableSpec("t", (ColumnSpec("a", "str"), ColumnSpec("b", "float", plausible=(0, 1))))
    print_read_report(read_table(path, spec).report)
    got = capsys.readouterr()
    assert got.out == ""
    assert "t.csv: 1 row(s) (CSV, gb18030, delimiter semicolon)" in got.err
    assert "warning: " in got.err and "read as gb18030" in got.err
    assert "outside the plausible range 0…1" in got.err
