"""The published JSON Schema of the transport ``summary.json``.

``python -m hesuan.transport.schema [PATH]`` writes it (default: ``docs/schemas/
transport-summary.schema.json`` of the source checkout); ``tests/transport/test_summary.py``
checks that the file in the repository is the one the code gives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hesuan.transport.summary import ScenarioSummary, TransportSummary

SCHEMA_PATH = Path(__file__).parents[3] / "docs" / "schemas" / "transport-summary.schema.json"
"""Where the published schema lives in a source checkout."""


def schema_text() -> str:
    """Return the JSON Schema (draft 2020-12) of the transport summaries, as text.

    :class:`TransportSummary` (``hesuan transport calculate --summary``) and
    :class:`ScenarioSummary` (``hesuan transport scenario --summary``).
    """
    defs: dict[str, Any] = {}
    for model in (TransportSummary, ScenarioSummary):
        part = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(part.pop("$defs", {}))
        defs[model.__name__] = part
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "hesuan transport summary.json",
        "description": "Written by `hesuan transport calculate --summary` (TransportSummary) "
                       "and `hesuan transport scenario --summary` (ScenarioSummary).",
        "oneOf": [{"$ref": "#/$defs/TransportSummary"}, {"$ref": "#/$defs/ScenarioSummary"}],
        "$defs": defs,
    }
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> Path:
    """Write the schema; return its path."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SCHEMA_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(schema_text(), encoding="utf-8")
    return target


if __name__ == "__main__":
    print(main())
