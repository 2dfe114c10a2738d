"""The start-up budget of the ``hesuan`` command, guarded by what it imports (not by a
timing that flakes on a loaded machine): ``--version``, ``--help`` and the sub-commands'
``--help`` import none of the heavy libraries (docs/benchmarks.md, CLI start-up)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("fastapi", "starlette", "httpx", "polars", "rasterio", "scipy", "sqlalchemy",
         "alembic", "numpy")


def _imported(argv: list[str]) -> list[str]:
    code = ("import json, sys; from hesuan.cli import main\n"
            f"try: main({argv!r})\n"
            "except SystemExit as exc: assert not exc.code, exc.code\n"
            f"print('HEAVY', json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("HEAVY"))
    return list(json.loads(line[len("HEAVY "):]))


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["transport", "--help"],
                                  ["registry", "--help"], ["registry", "issue", "--help"],
                                  ["quantify", "--help"], ["factors", "--help"],
                                  ["land", "--help"], ["land", "ipcc", "--help"],
                                  ["land", "ipcc", "soc", "--help"],
                                  ["land", "carbon", "--help"]],
                         ids=" ".join)
def test_help_and_version_import_no_heavy_library(argv: list[str]) -> None:
    assert _imported(argv) == []
