"""Parameter datasets of the quantification: methodology defaults and species tables.

Two table kinds live in standards-library dataset folders (``dataset.toml`` manifest, as every
dataset of ``hesuan.standards``):

- ``parameters.csv`` — one default value per line (``id, value, unit, description, source,
  locator, verified, notes``), e.g. ``ar_tool14_defaults@04.2``;
- ``species.csv`` — one species or species group per line: its biomass method
  (``allometry``: ``a · DBH^b · H^c`` [kg d.m.] valid for ``dbh_min_cm``–``dbh_max_cm``;
  ``volume``: ``V · D · BEF``), wood density, BEF, root-to-shoot ratio (a number, or
  ``default`` for AR-TOOL14's function of biomass) and carbon fraction, each line with its
  source and ``verified`` flag.

In ``species.csv`` the cells ``wood_density_t_per_m3``, ``bef``, ``root_shoot`` and
``carbon_fraction`` may name a record of a shipped standards-library dataset instead of giving
a number: ``ipcc2006_afolu@2006:wd.pinus_sylvestris`` (``dataset@version:id``, the version
always written out). The record must be of the column's kind (:data:`REFERENCE_KINDS`); its
value is converted to the column's unit, and the reference is kept on the species record
(:class:`DefaultReference`) so that the quantification report names the dataset, its version,
the record and its locator.

A shipped dataset is named ``id@version`` (``src/hesuan/standards/data/<id>/<version>/``); a
user's own is named by its folder. Loading checks every line and reports all problems at
once, each with file, line and field.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from hesuan.errors import DatasetError, HesuanError, Problem
from hesuan.standards.loaders import (
    DATA_ROOT,
    FACTORS,
    _read_manifest,
    load_dataset,
    resolve_factor,
)
from hesuan.standards.records import DatasetInfo, FactorRecord

PARAMETER_COLUMNS = ("id", "value", "unit", "description", "source", "locator", "verified",
                     "notes")
SPECIES_COLUMNS = ("id", "name", "method", "a", "b", "c", "dbh_min_cm", "dbh_max_cm",
                   "wood_density_t_per_m3", "bef", "root_shoot", "carbon_fraction",
                   "source", "verified", "notes")
METHODS = ("allometry", "volume")

REFERENCE_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wood_density_t_per_m3": ("wood_density", ("t dm / m**3",)),
    "bef": ("bef", ("dimensionless",)),
    "root_shoot": ("root_shoot_ratio", ("dimensionless", "t dm / t dm")),
    "carbon_fraction": ("carbon_fraction", ("t C / t dm", "dimensionless")),
}
"""Columns of ``species.csv`` that may name a dataset record: the record's ``parameter`` and the
units the column is read in (the record's value is converted to the one of its dimension)."""


@dataclass(frozen=True)
class DefaultReference:
    """A species-table cell that names a standards-library record instead of giving a number.

    ``verified`` is ``False``: a factor record of the standards library carries its source and
    locator but no claim of having been checked against the printed page (see the dataset's
    notes); the species record's own ``verified`` flag does not vouch for it either.
    """

    column: str
    reference: str
    dataset: str
    version: str
    record_id: str
    value: float
    unit: str
    source: str
    locator: str
    table_sha256: str
    verified: bool = False

    @property
    def dataset_key(self) -> str:
        """Return ``dataset@version`` of the record."""
        return f"{self.dataset}@{self.version}"


@dataclass(frozen=True)
class ParameterRecord:
    """One default value of a methodology (one line of ``parameters.csv``)."""

    id: str
    value: float
    unit: str
    description: str
    source: str
    locator: str
    verified: bool


@dataclass(frozen=True)
class SpeciesRecord:
    """The biomass parameters of one species or species group (one line of ``species.csv``).

    ``root_shoot`` is ``None`` where the record says ``default`` (AR-TOOL14's function of
    above-ground biomass per hectare applies).
    """

    id: str
    name: str
    method: str
    a: float
    b: float
    c: float
    dbh_min_cm: float
    dbh_max_cm: float
    wood_density_t_per_m3: float
    bef: float
    root_shoot: float | None
    carbon_fraction: float
    source: str
    verified: bool
    defaults: tuple[DefaultReference, ...] = ()


@dataclass(frozen=True)
class ParameterSet:
    """A loaded dataset: its manifest, its records and the SHA-256 of its table file."""

    info: DatasetInfo
    folder: Path
    table: str
    sha256: str
    parameters: dict[str, ParameterRecord]
    species: dict[str, SpeciesRecord]

    @property
    def key(self) -> str:
        """Return the dataset's ``id@version``."""
        return self.info.key

    def value(self, pid: str) -> float:
        """Return the value of parameter ``pid`` (in its declared unit).

        Raises
        ------
        hesuan.errors.DatasetError
            naming the dataset's table when it has no record ``pid``.
        """
        record = self.parameters.get(pid)
        if record is None:
            raise DatasetError.single(
                f"no parameter {pid!r} in {self.key}", file=str(self.folder / self.table),
                field="id", expected=f"a line with id {pid} (the shipped "
                "ar_tool14_defaults@04.2 lists every parameter the methodologies read)")
        return record.value

    def references(self, species_ids: list[str] | None = None) -> list[DefaultReference]:
        """Return the dataset references of the given species (all by default), in table order."""
        ids = list(self.species) if species_ids is None else species_ids
        return [ref for sid in ids for ref in self.species[sid].defaults]


def _folder(ref: str | Path) -> tuple[Path, bool]:
    text = str(ref)
    if "@" in text and not Path(text).exists():
        name, version = text.split("@", 1)
        folder = DATA_ROOT / name / version
        if not (folder / "dataset.toml").is_file():
            raise DatasetError.single(f"no shipped parameter dataset {text!r}",
                                      expected="id@version of a folder under "
                                      "src/hesuan/standards/data, or a folder path")
        return folder, True
    folder = Path(text)
    if folder.is_file():
        folder = folder.parent
    if not (folder / "dataset.toml").is_file():
        raise DatasetError.single(f"no dataset.toml in {folder}",
                                  expected="a parameter dataset folder (dataset.toml + "
                                  "parameters.csv or species.csv)")
    return folder, False


def _float(row: dict[str, str], col: str, file: str, line: int, problems: list[Problem],
           *, allow_empty: bool = False, positive: bool = False) -> float:
    text = (row.get(col) or "").strip()
    if not text and allow_empty:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(f"not a number: {text!r}", file, line, col, "a number"))
        return math.nan
    if not math.isfinite(value) or (positive and value <= 0):
        problems.append(Problem(f"bad value {text!r}", file, line, col,
                                "a positive finite number" if positive else "a finite number"))
    return value


class DefaultReferenceError(HesuanError):
    """A species-table cell names no usable dataset record (message and what was expected)."""

    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected


def _is_reference(text: str) -> bool:
    """Return whether a non-empty cell is not a number (then it must name a dataset record)."""
    if not text:
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def _table_sha256(folder: str) -> str:
    return hashlib.sha256((Path(folder) / FACTORS).read_bytes()).hexdigest()


def resolve_reference(text: str, column: str) -> DefaultReference:
    """Resolve a species-table cell ``dataset@version:id`` to the record it names.

    Raises
    ------
    DefaultReferenceError
        If the reference is malformed, the dataset, version or record is not shipped, or the
        record is not of the column's kind or unit; it says what was expected.
    """
    kind, units = REFERENCE_KINDS[column]
    dataset_ref, sep, record_id = text.partition(":")
    name, at, version = dataset_ref.partition("@")
    if not sep or not at or not name or not version or not record_id:
        raise DefaultReferenceError(
            f"{text!r} is not a number or a dataset reference",
            f"a number, or dataset@version:record_id with the version written out, e.g. "
            f"ipcc2006_afolu@2006:wd.pinus_sylvestris (a {kind} record)")
    try:  # the standards library's own resolution of a reference
        record: FactorRecord = resolve_factor(text)
        dataset = load_dataset(record.dataset, record.version)  # cached: its table's hash
    except HesuanError as exc:
        raise DefaultReferenceError(str(exc), f"a {kind} record of a shipped dataset "
                                    "(`hesuan factors search` finds one)") from None
    if record.parameter != kind:
        raise DefaultReferenceError(
            f"{record.key} is a {record.parameter} record, not a {kind}",
            f"a {kind} record" + (" (a BCEF in t d.m./m3 is D × BEF, not a BEF)"
                                  if record.parameter == "bcef" else ""))
    from hesuan.units import convert, dimensionality

    have = dimensionality(record.unit)
    target = next((u for u in units if dimensionality(u) == have), None)
    if target is None:
        raise DefaultReferenceError(f"{record.key} has unit {record.unit!r}",
                                    f"a unit like {' or '.join(repr(u) for u in units)}")
    return DefaultReference(
        column=column, reference=record.key, dataset=record.dataset, version=record.version,
        record_id=record.id, value=convert(record.value, record.unit, target), unit=target,
        source=record.source, locator=record.locator,
        table_sha256=_table_sha256(dataset.info.path))


def _cell(row: dict[str, str], col: str, file: str, line: int, problems: list[Problem],
          refs: list[DefaultReference], *, allow_empty: bool = False,
          positive: bool = False) -> float:
    """Read a number, or resolve a dataset reference (kept in ``refs``), from one cell."""
    text = (row.get(col) or "").strip()
    if not _is_reference(text):
        return _float(row, col, file, line, problems, allow_empty=allow_empty,
                      positive=positive)
    try:
        ref = resolve_reference(text, col)
    except DefaultReferenceError as exc:
        problems.append(Problem(exc.message, file, line, col, exc.expected))
        return math.nan
    if positive and ref.value <= 0:
        problems.append(Problem(f"{ref.reference} has the value {ref.value!r}", file, line, col,
                                "a positive value"))
    refs.append(ref)
    return ref.value


def _bool(row: dict[str, str], file: str, line: int, problems: list[Problem]) -> bool:
    text = (row.get("verified") or "").strip().lower()
    if text not in ("true", "false"):
        problems.append(Problem(f"not a boolean: {text!r}", file, line, "verified",
                                "true or false"))
    return text == "true"


def load_parameter_set(ref: str | Path) -> ParameterSet:
    """Load ``id@version`` (shipped) or a folder (a user's own dataset).

    Raises
    ------
    DatasetError
        listing every problem, each with file, line and field.
    """
    folder, shipped = _folder(ref)
    problems: list[Problem] = []
    info = _read_manifest(folder, problems, shipped=shipped)
    table = "species.csv" if (folder / "species.csv").is_file() else "parameters.csv"
    path = folder / table
    if not path.is_file():
        problems.append(Problem("missing table", str(path),
                                expected="parameters.csv or species.csv"))
    if problems or info is None:
        raise DatasetError(problems=tuple(problems), summary=f"bad parameter dataset {folder}")
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    columns = SPECIES_COLUMNS if table == "species.csv" else PARAMETER_COLUMNS
    header = list(rows[0].keys()) if rows else []
    missing = [c for c in columns if c not in header]
    if missing:
        raise DatasetError.single(f"missing columns {', '.join(missing)}", file=path, row=1,
                                  expected=", ".join(columns))
    parameters: dict[str, ParameterRecord] = {}
    species: dict[str, SpeciesRecord] = {}
    file = str(path)
    for line, row in enumerate(rows, start=2):
        rid = (row.get("id") or "").strip()
        if not rid:
            problems.append(Problem("empty", file, line, "id", "a record id"))
            continue
        if rid in parameters or rid in species:
            problems.append(Problem(f"duplicate id {rid!r}", file, line, "id", "unique ids"))
            continue
        verified = _bool(row, file, line, problems)
        if table == "parameters.csv":
            parameters[rid] = ParameterRecord(
                rid, _float(row, "value", file, line, problems), row["unit"].strip(),
                row["description"].strip(), row["source"].strip(), row["locator"].strip(),
                verified)
            continue
        method = row["method"].strip()
        if method not in METHODS:
            problems.append(Problem(f"unknown method {method!r}", file, line, "method",
                                    " | ".join(METHODS)))
        allometric = method == "allometry"
        refs: list[DefaultReference] = []
        rs_text = row["root_shoot"].strip()
        root_shoot = None if rs_text == "default" else _cell(row, "root_shoot", file, line,
                                                             problems, refs)
        species[rid] = SpeciesRecord(
            id=rid, name=row["name"].strip(), method=method,
            a=_float(row, "a", file, line, problems, allow_empty=not allometric,
                     positive=allometric),
            b=_float(row, "b", file, line, problems, allow_empty=not allometric),
            c=_float(row, "c", file, line, problems, allow_empty=True),
            dbh_min_cm=_float(row, "dbh_min_cm", file, line, problems,
                              allow_empty=not allometric),
            dbh_max_cm=_float(row, "dbh_max_cm", file, line, problems,
                              allow_empty=not allometric, positive=allometric),
            wood_density_t_per_m3=_cell(row, "wood_density_t_per_m3", file, line, problems,
                                        refs, allow_empty=allometric, positive=not allometric),
            bef=_cell(row, "bef", file, line, problems, refs, allow_empty=allometric,
                      positive=not allometric),
            root_shoot=root_shoot,
            carbon_fraction=_cell(row, "carbon_fraction", file, line, problems, refs,
                                  positive=True),
            source=row["source"].strip(), verified=verified,
            defaults=tuple(sorted(refs, key=lambda r: SPECIES_COLUMNS.index(r.column))))
    if not rows:
        problems.append(Problem("no records", file, 2, expected="at least one line"))
    if problems:
        raise DatasetError(problems=tuple(problems), summary=f"bad parameter dataset {folder}")
    return ParameterSet(info=info, folder=folder, table=table,
                        sha256=hashlib.sha256(raw).hexdigest(), parameters=parameters,
                        species=species)
