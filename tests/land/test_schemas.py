"""The published JSON Schemas of the land summaries are current, and real outputs match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hesuan.land.summary import SCHEMAS, CarbonSummary, json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("stem", sorted(SCHEMAS))
def test_published_schema_is_current(stem):
    published = (DOCS / f"{stem}.schema.json").read_text(encoding="utf-8")
    assert published == json_schema(SCHEMAS[stem]), \
        f"docs/schemas/{stem}.schema.json is stale: run python scripts/land_schemas.py"


def test_a_summary_validates_against_its_schema(tmp_path, small):
    """summary.json of a real run parses back into the frozen type, and that type refuses
    an unknown key (extra="forbid") and a change (frozen)."""
    from pydantic import ValidationError

    from hesuan.land.carbon import run

    res = run(small["base"], small["pools"], tmp_path / "o", alt=small["alt"], mc_samples=0)
    data = json.loads((tmp_path / "o" / "summary.json").read_text())
    again = CarbonSummary.model_validate(data)
    assert again.storage_base_t_c == res.summary.storage_base_t_c
    with pytest.raises(ValidationError):
        CarbonSummary.model_validate({**data, "surprise": 1})
    with pytest.raises(ValidationError):
        res.summary.storage_base_t_c = 0.0  # type: ignore[misc]
