"""Crosswalks from land-use and land-cover classes to the IUCN Global Ecosystem Typology, as data.

SEEA EA 2021 (Chapter 3) recommends the IUCN GET (Keith et al. 2022) as the reference classification
of ecosystem types, its level 3 (ecosystem functional groups, EFG: T1.1, T7.1, F1.2 …) the
level for international comparison, with national classes crosswalked to it. A crosswalk is
a dataset folder (``dataset.toml`` with source and licence, and ``crosswalk.csv``):

``source_code, raster_code, source_name, level, efg_code, alternatives, verified, rationale``

one row per class of the source classification: the EFG its area is booked to, the other
candidate EFGs (``|``-separated), why, and ``verified`` — true only where the class
definition and the EFG's description were both read and the class falls within that one EFG by
definition; false where the EFG depends on climate zone, hydrology or management that the class
does not record, or where the class text was not read. Every ``efg_code`` and alternative
must be an EFG of the shipped list ``iucn_get_efg``.

Shipped: ``gbt21010`` (GB/T 21010-2017 一级类 and 二级类), ``worldcover`` (ESA WorldCover
2021 v200) and ``clcd`` (Yang & Huang 2021). A reviewed crosswalk of one's own is a folder
of the same form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from hesuan.errors import DatasetError, Problem
from hesuan.land.seea.extent import ChangeMatrix
from hesuan.standards.loaders import DATA_ROOT, _read_manifest, csv_rows, user_folder
from hesuan.standards.records import DatasetInfo

CROSSWALKS = {"gbt21010": "seea_crosswalk_gbt21010", "worldcover": "seea_crosswalk_worldcover",
              "clcd": "seea_crosswalk_clcd"}
"""Short names of the shipped crosswalks → their dataset ids."""

COLUMNS = ("source_code", "raster_code", "source_name", "level", "efg_code", "alternatives",
           "verified", "rationale")
EFG_DATASET = "iucn_get_efg"


@dataclass(frozen=True)
class CrosswalkRow:
    """One source class and the ecosystem functional group it is booked to."""

    source_code: str
    raster_code: int
    source_name: str
    level: int
    efg_code: str
    alternatives: tuple[str, ...]
    verified: bool
    rationale: str


@dataclass(frozen=True)
class Crosswalk:
    """A crosswalk dataset: its manifest and rows, with the EFG names."""

    info: DatasetInfo
    rows: tuple[CrosswalkRow, ...]
    efg_names: dict[str, str]

    def efg_of(self, raster_code: int) -> str:
        """Return the EFG code raster class ``raster_code`` is booked to (``KeyError`` if none)."""
        for r in self.rows:
            if r.raster_code == raster_code:
                return r.efg_code
        raise KeyError(raster_code)

    @property
    def codes(self) -> tuple[int, ...]:
        """Return the raster codes of the rows, in row order."""
        return tuple(r.raster_code for r in self.rows)

    @property
    def names(self) -> tuple[str, ...]:
        """Return the source classification's names of the rows, in row order."""
        return tuple(r.source_name for r in self.rows)


@lru_cache(maxsize=4)
def efg_list() -> dict[str, str]:
    """Return the shipped EFG codes and names of the IUCN GET (``iucn_get_efg``)."""
    folder = max((DATA_ROOT / EFG_DATASET).iterdir())
    problems: list[Problem] = []
    info = _read_manifest(folder, problems, shipped=True)
    out = {row["code"]: row["name"] for _, row in csv_rows(folder / "efg.csv",
                                                          ("code", "name", "realm", "biome"),
                                                          problems)}
    if problems or info is None:
        raise DatasetError(problems=tuple(problems), summary=f"{folder} is not valid")
    return out


def load_crosswalk(reference: str | Path) -> Crosswalk:
    """Return a shipped crosswalk, or a crosswalk folder of one's own.

    A shipped one by short name (``gbt21010``, ``worldcover``, ``clcd``) or dataset id; every
    problem with file, line and field.
    """
    text = str(reference)
    if text in CROSSWALKS or text in CROSSWALKS.values():
        dataset = CROSSWALKS.get(text, text)
        return _load(max((DATA_ROOT / dataset).iterdir()), shipped=True)
    if Path(text).exists():
        return _load(user_folder(text, "dataset.toml and crosswalk.csv"), shipped=False)
    raise DatasetError.single(f"no crosswalk {text!r}", field="--crosswalk",
                              expected=" | ".join(CROSSWALKS) + " or a crosswalk folder")


@lru_cache(maxsize=8)
def _load(folder: Path, *, shipped: bool) -> Crosswalk:
    problems: list[Problem] = []
    info = _read_manifest(folder, problems, shipped=shipped)
    efg = efg_list()
    path = folder / "crosswalk.csv"
    file = str(path)
    rows: list[CrosswalkRow] = []
    seen: dict[int, int] = {}
    if not path.is_file():
        problems.append(Problem("missing crosswalk table", file, expected="crosswalk.csv"))
    for line, row in (csv_rows(path, COLUMNS, problems) if path.is_file() else ()):
        before = len(problems)
        try:
            raster = int(row["raster_code"])
            level = int(row["level"] or "1")
        except ValueError:
            problems.append(Problem(f"not an integer: {row['raster_code']!r} / "
                                    f"{row['level']!r}", file, line, "raster_code",
                                    "an integer raster value and level"))
            continue
        if raster in seen:
            problems.append(Problem(f"raster code {raster} also on line {seen[raster]}", file,
                                    line, "raster_code", "one row per raster code"))
        seen[raster] = line
        alternatives = tuple(a for a in row["alternatives"].split("|") if a)
        for code in (row["efg_code"], *alternatives):
            if code not in efg:
                problems.append(Problem(f"{code!r} is no IUCN GET functional group", file,
                                        line, "efg_code", "an EFG code such as T7.1 "
                                        f"({EFG_DATASET})"))
        if row["verified"] not in ("true", "false"):
            problems.append(Problem(f"{row['verified']!r}", file, line, "verified",
                                    "true | false"))
        if not row["rationale"]:
            problems.append(Problem("empty", file, line, "rationale",
                                    "why the class is booked to the group"))
        if len(problems) > before:
            continue
        rows.append(CrosswalkRow(row["source_code"], raster, row["source_name"], level,
                                 row["efg_code"], alternatives, row["verified"] == "true",
                                 row["rationale"]))
    if problems or info is None:
        raise DatasetError(problems=tuple(problems),
                           summary=f"crosswalk {folder} is not valid ({len(problems)} "
                           "problem(s))")
    return Crosswalk(info, tuple(rows), efg)


def to_efg(matrix: ChangeMatrix, crosswalk: Crosswalk) -> ChangeMatrix:
    """Return the change matrix of source classes re-booked to ecosystem functional groups.

    A_EFG = Mᵀ · A · M with M the (class × EFG) booking matrix, so that every identity of the extent
    account still holds (rows, columns and total area are only regrouped). The EFGs are numbered 1…n
    in the order of their first source class; names are the EFG codes.
    """
    efgs = tuple(dict.fromkeys(crosswalk.efg_of(c) for c in matrix.codes))
    pos = {e: j for j, e in enumerate(efgs)}
    m = np.zeros((len(matrix.codes), len(efgs)))
    for i, c in enumerate(matrix.codes):
        m[i, pos[crosswalk.efg_of(c)]] = 1.0
    area = m.T @ matrix.area_ha @ m
    return ChangeMatrix(tuple(range(1, len(efgs) + 1)), efgs, area, matrix.nodata_ha)
