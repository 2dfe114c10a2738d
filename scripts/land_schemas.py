"""Write the JSON Schemas of the land summaries to docs/schemas/ (run after changing a type).

Usage: ``python scripts/land_schemas.py`` (tests/land/test_schemas.py checks the files are
current).
"""

from __future__ import annotations

from pathlib import Path

from hesuan.land.summary import SCHEMAS, json_schema

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Write every land summary schema of :data:`SCHEMAS` and print the paths written."""
    folder = ROOT / "docs" / "schemas"
    folder.mkdir(parents=True, exist_ok=True)
    for stem, model in SCHEMAS.items():
        path = folder / f"{stem}.schema.json"
        path.write_text(json_schema(model), encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
