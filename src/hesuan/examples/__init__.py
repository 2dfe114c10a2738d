"""Bundled example data, one folder per area (``transport/``, ``land/``, ``quantification/``, …).

The top-level ``examples`` folder of the repository points here. ``hesuan demo`` runs every
capability on these files; the docs' worked examples use them too.
"""

from pathlib import Path

ROOT = Path(__file__).parent


def path(*parts: str) -> Path:
    """Return the path of a bundled example file, e.g. ``path("transport", "legs.csv")``."""
    target = ROOT.joinpath(*parts)
    if not target.exists():
        raise FileNotFoundError(f"no bundled example {'/'.join(parts)} in {ROOT}")
    return target
