"""``hesuan land``: (being built in this session; see issues)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="land (under construction)", no_args_is_help=True)


def run_demo(out: Path) -> list[Path]:
    """Run the land demo on bundled example data; return the output paths."""
    return []
