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

from hesuan.errors import DatasetError, Problem
from hesuan.standards.loaders import DATA_ROOT, _read_manifest
from hesuan.standards.records import DatasetInfo

PARAMETER_COLUMNS = ("id", "value", "unit", "description", "source", "locator", "verified",
                     "notes")
SPECIES_COLUMNS = ("id", "name", "method", "a", "b", "c", "dbh_min_cm", "dbh_max_cm",
                   "wood_density_t_per_m3", "bef", "root_shoot", "carbon_fraction",
                   "source", "verified", "notes")
METHODS = ("allometry", "volume")


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
        """Return the value of parameter ``pid`` (in its declared unit)."""
        return self.parameters[pid].value


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
        rs_text = row["root_shoot"].strip()
        root_shoot = None if rs_text == "default" else _float(row, "root_shoot", file, line,
                                                              problems)
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
            wood_density_t_per_m3=_float(row, "wood_density_t_per_m3", file, line, problems,
                                         allow_empty=allometric, positive=not allometric),
            bef=_float(row, "bef", file, line, problems, allow_empty=allometric,
                       positive=not allometric),
            root_shoot=root_shoot,
            carbon_fraction=_float(row, "carbon_fraction", file, line, problems,
                                   positive=True),
            source=row["source"].strip(), verified=verified)
    if not rows:
        problems.append(Problem("no records", file, 2, expected="at least one line"))
    if problems:
        raise DatasetError(problems=tuple(problems), summary=f"bad parameter dataset {folder}")
    return ParameterSet(info=info, folder=folder, table=table,
                        sha256=hashlib.sha256(raw).hexdigest(), parameters=parameters,
                        species=species)
