"""The bad-input corpus: data-driven cases run through the ``hesuan`` command.

Each ``cases/*.toml`` file holds ``[[case]]`` tables::

    [[case]]
    id = "factors-gbk-bad-value"                # unique, used as the test id
    command = ["factors", "validate", "{tmp}/mine"]
    exit = 2                                    # expected exit status
    expect = ["line 3", "field 'value'", "not a number"]   # fragments of stdout + stderr
    absent = ["Traceback"]                      # fragments that must not appear (optional)
    no_output = true                            # no file is made or changed (default true)
    ignore = ["reg.db*"]                        # globs left out of the no_output check
    setup = "registry"                          # optional: see SETUPS
    [case.files."mine/factors.csv"]             # input files, made as Excel makes them:
    text = "id,value\r\n北京,x\r\n"              #   the text,
    encoding = "gbk"                            #   its encoding (utf-8, utf-8-sig, gbk …)
    # or: hex = "504b0304"  (raw bytes) | copy = "factors/my_glec_defaults/factors.csv"
    #     (from src/hesuan/examples) | xlsx = [["id", "value"], ["a", 1]] | dir = true
    #     | parquet = {columns = {id = ["a"]}, truncate = 40}

Placeholders in ``command`` and ``text``: ``{tmp}`` (the case's own folder, also the working
directory), ``{ro}`` (a read-only file system, or a path below a regular file when none can
be mounted), ``{examples}`` (the bundled examples), and what a setup provides
(``{admin_token}`` for ``registry``).

Every case also checks the corpus's standing rules: no traceback (any exception other than
a clean exit fails the case), and with ``no_output`` no file is written or changed.
"""

from __future__ import annotations

import fnmatch
import io
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CASES = Path(__file__).parent / "cases"
EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "hesuan" / "examples"


@dataclass(frozen=True)
class Case:
    """One bad (or awkward) input and what hesuan must answer."""

    id: str
    command: tuple[str, ...]
    exit: int
    expect: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    no_output: bool = True
    ignore: tuple[str, ...] = ()
    setup: str = ""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def of(cls, raw: dict[str, Any], source: str) -> Case:
        return cls(id=raw["id"], command=tuple(raw["command"]), exit=int(raw["exit"]),
                   expect=tuple(raw.get("expect", ())), absent=tuple(raw.get("absent", ())),
                   no_output=bool(raw.get("no_output", True)),
                   ignore=tuple(raw.get("ignore", ())), setup=raw.get("setup", ""),
                   files=dict(raw.get("files", {})), source=source)


def load_cases() -> list[Case]:
    """Every case of ``cases/*.toml`` (ids must be unique)."""
    cases: list[Case] = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cases += [Case.of(raw, path.name) for raw in data.get("case", [])]
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    return cases


def fill(text: str, places: dict[str, str]) -> str:
    for key, value in places.items():
        text = text.replace("{" + key + "}", value)
    return text


def make_files(case: Case, root: Path, places: dict[str, str]) -> None:
    """Write the case's input files under ``root``."""
    for name, spec in case.files.items():
        path = root / fill(name, places)
        path.parent.mkdir(parents=True, exist_ok=True)
        if spec.get("dir"):
            path.mkdir(exist_ok=True)
        elif "text" in spec:
            path.write_bytes(fill(spec["text"], places).encode(spec.get("encoding", "utf-8")))
        elif "hex" in spec:
            path.write_bytes(bytes.fromhex(spec["hex"]))
        elif "copy" in spec:
            path.write_bytes((EXAMPLES / spec["copy"]).read_bytes())
        elif "xlsx" in spec:
            import openpyxl

            book = openpyxl.Workbook()
            sheet = book.active
            for row in spec["xlsx"]:
                sheet.append(row)
            book.save(path)
        elif "parquet" in spec:
            import polars as pl

            pl.DataFrame(spec["parquet"]["columns"]).write_parquet(path)
            cut = int(spec["parquet"].get("truncate", 0))
            if cut:
                path.write_bytes(path.read_bytes()[:-cut])
        else:
            raise ValueError(f"case {case.id}: file {name} says nothing to write")


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """``{path: (size, mtime_ns)}`` of every file and folder under ``roots``."""
    seen: dict[str, tuple[int, int]] = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                seen[str(p)] = (st.st_size if p.is_file() else -1, st.st_mtime_ns
                                if p.is_file() else 0)
    return seen


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
            ignore: tuple[str, ...]) -> list[str]:
    """Files made, changed or removed between two snapshots, less the ignored globs."""
    names = set(before) | set(after)
    out = [n for n in names if before.get(n) != after.get(n)]
    return sorted(n for n in out
                  if not any(fnmatch.fnmatch(Path(n).name, g) for g in ignore))


@dataclass
class Outcome:
    exit: int
    output: str
    error: BaseException | None


def run_hesuan(argv: list[str], capture: Callable[[], tuple[str, str]]) -> Outcome:
    """Run ``hesuan argv`` in this process; an exception other than ``SystemExit`` is what a
    user would have seen as a traceback."""
    from hesuan.cli import main

    code, error = 0, None
    try:
        main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException as exc:  # the corpus counts these as tracebacks
        code, error = -1, exc
    out, err = capture()
    return Outcome(code, out + err, error)


def format_traceback(exc: BaseException) -> str:
    import traceback

    buffer = io.StringIO()
    traceback.print_exception(exc, file=buffer)
    return buffer.getvalue()
