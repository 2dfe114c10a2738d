"""Load and validate factor datasets: the shipped ones and a user's own.

A dataset is a folder with ``dataset.toml`` and ``factors.csv`` (``docs/dataset-format.md``).
Loading checks every rule of that format and reports *all* problems at once, each naming the
file, line and field, in a :class:`~hesuan.errors.DatasetError`.

``factors.csv`` is declared once, as :data:`FACTOR_SPEC`, and read by the one table reader
(:func:`hesuan.io.tables.read_table`): a table saved by Excel (UTF-8 with BOM, GB18030,
cp1252; ``;`` or tab delimiters) reads like any other; the column table of
``docs/dataset-format.md`` is ``markdown_table(FACTOR_SPEC)``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from hesuan.errors import DatasetError, FactorNotFoundError, InputError, Problem, UnitError
from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.standards.records import (
    DISTANCE_BASES,
    GAS_MARKERS,
    GWP_SETS,
    PARAMETERS,
    SCOPES,
    Dataset,
    DatasetInfo,
    FactorRecord,
    Parameter,
)

DATA_ROOT = Path(__file__).parent / "data"
"""Where the shipped datasets live: ``data/<dataset>/<version>/``."""

MANIFEST = "dataset.toml"
FACTORS = "factors.csv"

_DATASET_ID = re.compile(r"^[a-z0-9_]+$")
_REQUIRED_MANIFEST = (
    "id", "version", "title", "publisher", "url", "licence", "licence_url",
    "attribution", "redistributable", "citation",
)
_OPTIONAL_MANIFEST = ("published", "description", "gwp_set", "notes")

FACTOR_SPEC = TableSpec(
    "factors",
    (
        ColumnSpec("id", "str", "Unique within the dataset, e.g. "
                   "`freight.road.hgv_diesel.articulated_gt33t.average_laden.ttw`.",
                   required=True, pattern=r"[A-Za-z0-9_.\-/+]+",
                   pattern_text="letters, digits and . _ - / +"),
        ColumnSpec("activity", "str", "What the factor applies to, a slash path from general "
                   "to specific: `freight/road/hgv_diesel/articulated_gt33t/average_laden`, "
                   "`fuel/diesel_average_biofuel_blend`, `electricity/grid`.", required=True),
        ColumnSpec("region", "str", "ISO 3166-1 alpha-2 code (`GB`, `CN`), a sub-region "
                   "(`CN-north`, `CN-BJ`) or `GLOBAL`.", required=True),
        ColumnSpec("scope", "str", "`TTW` (operation), `WTT` (energy provision), `WTW` "
                   "(total); empty when not an emission.", in_header=True, allowed=SCOPES),
        ColumnSpec("gas", "str", "`CO2e`, `CO2`, `CH4`, `CH4_fossil`, `CH4_non_fossil`, "
                   "`N2O`, a refrigerant (`HFC-134a`, `R-404A` …); empty for non-gas "
                   "parameters. When the unit is in CO2e but `gas` names another gas (e.g. "
                   "`CH4` with `kg CO2e / tkm`), the value is that gas's contribution expressed "
                   "in CO2e, as DESNZ tabulates it.", in_header=True),
        ColumnSpec("parameter", "str", "What kind of number it is, from the vocabulary below.",
                   required=True, allowed=tuple(PARAMETERS)),
        ColumnSpec("value", "float", "The number exactly as printed in the source, without "
                   "thousands separators (a decimal comma is read in a `;`-separated file).",
                   unit="unit", required=True, minimum=0.0),
        ColumnSpec("unit", "str", "A unit expression `pint` parses with hesuan's units "
                   "(below).", required=True),
        ColumnSpec("gwp_set", "str", "The GWP-100 set of a CO2e value; empty otherwise (then "
                   "the manifest's `gwp_set` applies).", in_header=True, allowed=GWP_SETS),
        ColumnSpec("distance_basis", "str", "For per-t·km intensities: `sfd` (shortest "
                   "feasible), `gcd` (great circle) or `actual`; empty otherwise.",
                   in_header=True, allowed=DISTANCE_BASES),
        ColumnSpec("valid_year", "int", "The year the factor is for (reporting year, "
                   "vintage).", required=True, minimum=1900, maximum=2100),
        ColumnSpec("source", "str", "The document (short title) the value was read from.",
                   required=True),
        ColumnSpec("locator", "str", "Where in it: table, sheet, clause, page.",
                   required=True),
        ColumnSpec("notes", "str", "Anything else: conditions, derivation, caveats.",
                   in_header=True),
    ),
    key=("id",),
    description="One record per factor of a dataset (docs/dataset-format.md).",
)
"""``factors.csv``: every column must be in the header; ``required`` ones need a value."""


def _natural_key(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _shipped_folders() -> list[Path]:
    """Return the folders of the shipped *factor* datasets.

    The methodology catalogue (whose folder holds ``methodologies.csv``), GEP editions and the
    quantification parameter datasets hold no ``factors.csv`` and are loaded by their own modules.
    """
    return sorted(
        (p.parent for p in DATA_ROOT.glob(f"*/*/{MANIFEST}")
         if (p.parent / "factors.csv").exists()),
        key=lambda p: (p.parent.name, _natural_key(p.name)),
    )


def list_datasets() -> list[DatasetInfo]:
    """Return the manifests of every shipped dataset, sorted by id and version."""
    return [load_dataset(p.parent.name, p.name).info for p in _shipped_folders()]


def available_versions(dataset_id: str) -> list[str]:
    """Return the shipped versions of ``dataset_id``, oldest first."""
    return [p.name for p in _shipped_folders() if p.parent.name == dataset_id]


@lru_cache(maxsize=64)
def load_dataset(dataset_id: str, version: str | None = None) -> Dataset:
    """Load a shipped dataset by id and version.

    Parameters
    ----------
    dataset_id : str
        e.g. ``"desnz_ghg"``; ``"desnz_ghg@2025"`` is accepted too.
    version : str, optional
        The dataset version. ``None`` takes the newest shipped version; results always
        record the version used, so pin it for reproducible runs.
    """
    if version is None and "@" in dataset_id:
        dataset_id, version = dataset_id.split("@", 1)
    versions = available_versions(dataset_id)
    if not versions:
        known = sorted({p.parent.name for p in _shipped_folders()})
        raise FactorNotFoundError(
            f"no shipped dataset {dataset_id!r}; shipped: {', '.join(known) or 'none'}"
        )
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise FactorNotFoundError(
            f"dataset {dataset_id!r} has no version {chosen!r}; shipped: {', '.join(versions)}"
        )
    return _load_folder(DATA_ROOT / dataset_id / chosen, shipped=True)


def load_dataset_path(path: str | Path) -> Dataset:
    """Load and validate a user's dataset: its folder, or its ``dataset.toml``/``factors.csv``.

    Raises
    ------
    DatasetError
        Listing every problem found, each with file, line and field.
    """
    return _load_folder(user_folder(path, "dataset.toml and factors.csv"), shipped=False)


def user_folder(path: str | Path, holds: str) -> Path:
    """Return the folder a user named, by itself or by one of its files.

    ``holds`` says which files it should hold, for the error when it does not exist.
    """
    folder = Path(path)
    if folder.is_file():
        folder = folder.parent
    if not folder.exists():
        raise DatasetError.single(f"no such file or folder: {path}",
                                  expected=f"a folder with {holds}")
    return folder


def resolve_factor(reference: str) -> FactorRecord:
    """Return a record from ``dataset@version:id`` (or ``dataset:id`` for the newest version)."""
    if ":" not in reference:
        raise FactorNotFoundError(
            f"{reference!r} is not a factor reference; write dataset@version:factor_id"
        )
    dataset_ref, factor_id = reference.split(":", 1)
    name, _, version = dataset_ref.partition("@")
    return load_dataset(name, version or None).get(factor_id)


def search_factors(text: str, *, dataset: str | None = None) -> list[FactorRecord]:
    """Return the records of the shipped datasets that match every word of ``text``.

    A record matches a word when its id, activity, gas, source or notes contain it
    (case-insensitive).
    """
    words = text.lower().split()
    hits = []
    for folder in _shipped_folders():
        ds = load_dataset(folder.parent.name, folder.name)
        if dataset and dataset not in (ds.info.id, ds.info.key):
            continue
        for r in ds.records:
            haystack = " ".join(
                (r.id, r.activity, r.region, r.scope, r.gas, r.parameter, r.source, r.notes)
            ).lower()
            if all(w in haystack for w in words):
                hits.append(r)
    return hits


# --------------------------------------------------------------------------- validation


def _load_folder(folder: Path, *, shipped: bool) -> Dataset:
    problems: list[Problem] = []
    info = _read_manifest(folder, problems, shipped=shipped)
    records = _read_factors(folder, info, problems) if info else ()
    if problems:
        raise DatasetError(
            problems=tuple(problems),
            summary=f"dataset {folder} is not valid ({len(problems)} problem(s))",
        )
    assert info is not None  # no problems means the manifest parsed
    return Dataset(info=info, records=tuple(records))


def _read_manifest(folder: Path, problems: list[Problem], *, shipped: bool) -> DatasetInfo | None:
    path = folder / MANIFEST
    if not path.is_file():
        problems.append(Problem("missing manifest", str(path),
                                expected="dataset.toml with id, version, licence, source"))
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(f"not valid TOML: {exc}", str(path)))
        return None
    before = len(problems)
    for key in _REQUIRED_MANIFEST:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(Problem("missing or empty", str(path), field=key,
                                    expected="a non-empty value (every dataset states its "
                                    "source and licence)"))
    unknown = set(raw) - set(_REQUIRED_MANIFEST) - set(_OPTIONAL_MANIFEST)
    for key in sorted(unknown):
        problems.append(Problem("unknown key", str(path), field=key,
                                expected=", ".join(_REQUIRED_MANIFEST + _OPTIONAL_MANIFEST)))
    if "redistributable" in raw and not isinstance(raw["redistributable"], bool):
        problems.append(Problem("not a boolean", str(path), field="redistributable",
                                expected="true or false"))
    if "id" in raw and not _DATASET_ID.match(str(raw["id"])):
        problems.append(Problem(f"bad dataset id {raw['id']!r}", str(path), field="id",
                                expected="lower-case letters, digits and _"))
    if raw.get("gwp_set") and raw["gwp_set"] not in GWP_SETS:
        problems.append(Problem(f"unknown GWP set {raw['gwp_set']!r}", str(path),
                                field="gwp_set", expected=" | ".join(GWP_SETS)))
    if shipped:
        if str(raw.get("id")) != folder.parent.name or str(raw.get("version")) != folder.name:
            problems.append(Problem("id/version differ from the folder names", str(path),
                                    expected=f"id = {folder.parent.name!r}, "
                                    f"version = {folder.name!r}"))
        if raw.get("redistributable") is not True:
            problems.append(Problem("a shipped dataset must be redistributable", str(path),
                                    field="redistributable", expected="true"))
    if len(problems) > before:
        return None
    return DatasetInfo(
        **{k: str(raw[k]) for k in _REQUIRED_MANIFEST if k != "redistributable"},
        redistributable=bool(raw["redistributable"]),
        **{k: str(raw.get(k, "")) for k in _OPTIONAL_MANIFEST},
        path=str(folder),
        shipped=shipped,
    )


def csv_rows(path: Path, columns: Sequence[str],
             problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield the data rows of a table whose header must be exactly ``columns`` (in any order).

    Each as ``(line, {column: stripped cell})`` ("" when empty); blank lines are skipped.

    Read by :func:`hesuan.io.tables.read_table` (any usual encoding and delimiter). Every
    problem — empty file, missing or unknown column (then no row is read), a row with the
    wrong number of fields, text in no known encoding — is appended to ``problems`` with the
    file, line and column.
    """
    from hesuan.io.tables import read_table  # Polars: only when a table is read

    spec = TableSpec(path.name, tuple(ColumnSpec(c, "str", in_header=True) for c in columns),
                     min_rows=0)
    try:
        table = read_table(path, spec)
    except InputError as exc:
        problems.extend(exc.problems)
        return
    for i, row in enumerate(table.frame.iter_rows(named=True)):
        yield table.line(i), {c: v or "" for c, v in row.items()}


def _read_factors(folder: Path, info: DatasetInfo, problems: list[Problem]) -> list[FactorRecord]:
    path = folder / FACTORS
    if not path.is_file():
        problems.append(Problem("missing factor table", str(path), expected="factors.csv"))
        return []
    from hesuan.io.tables import read_table  # Polars: only when a table is read

    try:
        table = read_table(path, FACTOR_SPEC, errors="collect")
    except InputError as exc:
        problems.extend(exc.problems)
        return []
    problems.extend(table.problems)
    bad_lines = {p.row for p in table.problems}
    records: list[FactorRecord] = []
    for i, row in enumerate(table.frame.iter_rows(named=True)):
        line = table.line(i)
        record = _check_row(row, info, str(path), line, problems)
        if record is not None and line not in bad_lines:
            records.append(record)
    return records


def _check_row(row: dict[str, Any], info: DatasetInfo, file: str, line: int,
               problems: list[Problem]) -> FactorRecord | None:
    """Check a factor row by the rules :data:`FACTOR_SPEC` cannot state; return its record.

    The unit parses and fits the parameter, a per-t·km intensity states its distance basis, a CO2e
    value names its GWP set.
    """
    from hesuan.units import parse_unit  # pint is slow to import: only when validating

    before = len(problems)

    def bad(field: str, message: str, expected: str) -> None:
        problems.append(Problem(message, file, row=line, field=field, expected=expected))

    text = {k: ("" if v is None else str(v)) for k, v in row.items()}
    gwp_set = text["gwp_set"] or (info.gwp_set if text["gas"] == "CO2e" else "")
    if gwp_set and gwp_set not in GWP_SETS:
        bad("gwp_set", f"unknown GWP set {gwp_set!r} (from dataset.toml)", " | ".join(GWP_SETS))
    parameter = PARAMETERS.get(text["parameter"])
    if text["unit"]:
        try:
            dims = parse_unit(text["unit"]).dimensionality
        except UnitError as exc:
            bad("unit", f"unknown unit {text['unit']!r}", exc.problems[0].expected or "a unit")
        else:
            if parameter is not None:
                _check_dimension(text, parameter, _as_dict(dims), bad)
            if _is_per_tkm(_as_dict(dims)) and not text["distance_basis"]:
                bad("distance_basis", "a per-t·km intensity must state its distance basis",
                    " | ".join(DISTANCE_BASES))
            if _gas_of(_as_dict(dims)) == "CO2e" and not gwp_set:
                bad("gwp_set", "a CO2e value must name its GWP set (here or in dataset.toml)",
                    " | ".join(GWP_SETS))
    if len(problems) > before or row["value"] is None or row["valid_year"] is None:
        return None
    value = float(row["value"])
    if not math.isfinite(value):  # FACTOR_SPEC refuses it; a record never holds one
        return None
    return FactorRecord(
        dataset=info.id, version=info.version, id=text["id"], activity=text["activity"],
        region=text["region"], scope=text["scope"], gas=text["gas"],
        parameter=text["parameter"], value=value, unit=text["unit"], gwp_set=gwp_set,
        distance_basis=text["distance_basis"], valid_year=int(row["valid_year"]),
        source=text["source"], locator=text["locator"], notes=text["notes"],
    )


def _as_dict(dims: object) -> dict[str, float]:
    """Return pint's UnitsContainer as a plain ``{dimension: exponent}`` dict."""
    return {str(k): float(v) for k, v in dict(dims).items()}  # type: ignore[call-overload]


def _gas_of(dims: dict[str, float]) -> str | None:
    for marker, gas in GAS_MARKERS.items():
        if dims.get(f"[{marker}]", 0) == 1:
            return gas
    return None


def _is_per_tkm(dims: dict[str, float]) -> bool:
    per_length = dims.get("[length]", 0) == -1 and dims.get("[mass]", 0) == 0
    return _gas_of(dims) is not None and per_length


def _check_dimension(row: dict[str, str], parameter: Parameter, dims: dict[str, float],
                     bad: Callable[[str, str, str], None]) -> None:
    if parameter.gas_per_activity:
        if _gas_of(dims) is None:
            bad("unit", f"unit {row['unit']!r} has no gas in its numerator",
                "a gas mass per activity, e.g. 'kg CO2e / tkm' or 'kg CO2 / TJ'")
        return
    from hesuan.units import dimensionality, parse_unit

    allowed = [dimensionality(u) for u in parameter.dimensions]
    if str(parse_unit(row["unit"]).dimensionality) not in allowed:
        bad("unit", f"unit {row['unit']!r} does not fit parameter {parameter.name!r}",
            "a unit like " + " or ".join(repr(u) for u in parameter.dimensions))
