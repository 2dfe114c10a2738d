"""Fixtures: a copy of the bundled example project, and the registry fixtures (SQLite and
PostgreSQL) of ``tests/registry``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.conftest import backend, pg_database, registry, url  # noqa: F401  (fixtures)

EXAMPLE = Path(__file__).parents[2] / "src/hesuan/examples/quantification"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A writable copy of the example project; returns its project file."""
    dst = tmp_path / "project"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst / "project.toml"
