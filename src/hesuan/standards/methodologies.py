"""The methodology catalogue.

Which crediting methodologies (and inventory standards) exist, in which versions, and which hesuan
quantification module (``hesuan.quantification``) produces the report a monitoring report must
carry — or that none does, and the registry then refuses the methodology's monitoring reports.

The catalogue is a dataset of the standards library like the factor datasets — a folder
``data/methodologies/<version>/`` with the usual ``dataset.toml`` manifest — but its table is
``methodologies.csv``, one record per methodology *version* (``docs/dataset-format.md``).
It holds metadata only (ids, versions, titles, dates, our own one-line descriptions); the
methodology documents stay with their publishers and under their licences.

Catalogues up to ``2026-12`` (format 1) described a former path instead — the kind of
``summary.json`` that fed each methodology and the key holding its quantity (columns
``quantification`` and ``quantity_key``). Published versions are immutable, so they stay
loadable as written (:data:`FORMAT1_COLUMNS`); their records have no module.

Loading checks every rule and reports *all* problems at once, each naming the file, line and
field, in a :class:`~hesuan.errors.DatasetError`.

Example
-------
>>> from hesuan.standards import resolve_methodology
>>> m = resolve_methodology("ccer-14-001-v01")
>>> m.key, m.quantifies, m.module, m.report_schema
('CCER-14-001@V01', 'removals', 'ccer_14_001', 'hesuan.quantification-report/1')
>>> resolve_methodology("vm0047", "v1.1").has_module
False
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hesuan.errors import DatasetError, MethodologyNotFoundError, Problem
from hesuan.standards.loaders import (
    DATA_ROOT,
    _natural_key,
    _read_manifest,
    csv_rows,
    user_folder,
)
from hesuan.standards.records import DatasetInfo

CATALOGUE_ID = "methodologies"
"""Dataset id of the shipped catalogue: ``data/methodologies/<version>/``."""

TABLE = "methodologies.csv"

METHODOLOGY_COLUMNS: tuple[str, ...] = (
    "id", "version", "title", "programme", "publisher", "sector", "sectoral_scope",
    "quantifies", "module", "tools", "report_schema", "url", "text_licence", "status",
    "valid_from", "valid_to", "aliases", "read_at", "description", "notes",
)
"""The columns of ``methodologies.csv`` (format 2, catalogues from ``2026-12-07``), all required
in the header."""

FORMAT1_COLUMNS: tuple[str, ...] = (
    "id", "version", "title", "programme", "publisher", "sector", "sectoral_scope",
    "quantifies", "quantification", "quantity_key", "url", "text_licence", "status",
    "valid_from", "valid_to", "aliases", "read_at", "description", "notes",
)
"""The columns of format 1 (catalogues ``2026-11`` and ``2026-12``), told apart by their
``quantity_key`` column."""

REQUIRED_METHODOLOGY_VALUES: tuple[str, ...] = (
    "id", "version", "title", "programme", "publisher", "sector", "quantifies",
    "url", "text_licence", "status", "read_at", "description",
)
"""Columns whose value may not be empty (format 1 also requires ``quantification``)."""

REPORT_SCHEMAS: tuple[str, ...] = ("hesuan.quantification-report/1",)
"""The quantification report schemas a module may produce (``report_schema``)."""

QUANTIFIES: tuple[str, ...] = ("removals", "reductions", "inventory")
"""What a methodology quantifies: removals by sinks, emission reductions (both creditable),
or an inventory (a reporting standard that yields no creditable units)."""

QUANTIFICATIONS: tuple[str, ...] = ("land", "transport", "report", "none")
"""Format 1 only: what fed a methodology then (a ``summary.json`` of kind ``land`` or
``transport``, a quantification ``report``, or ``none``)."""

STATUSES: tuple[str, ...] = ("active", "superseded", "withdrawn")
"""``active``: usable for new projects; ``superseded``: a newer version exists, programmes
may still accept it under grace periods; ``withdrawn``: no longer usable."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_QUANTITY_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_MODULE = re.compile(r"^[a-z][a-z0-9_]*$")
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def normalise_id(text: str) -> str:
    """Return a methodology id in the form ids are compared in.

    Upper case without spaces, ``-``, ``_`` or ``.`` (``"vm 0047"``, ``"VM-0047"`` and ``"VM0047"``
    are the same methodology).
    """
    return re.sub(r"[\s\-_.]+", "", text).upper()


def normalise_version(text: str) -> str:
    """Return a methodology version in the form versions are compared in.

    Without a leading ``v``/``version``, without leading zeros of numeric parts and without trailing
    ``.0`` parts (``"V01"`` ≡ ``"1"`` ≡ ``"1.0"``, ``"03.1"`` ≡ ``"3.1"``, ``"2023"`` stays
    ``"2023"``).
    """
    v = text.strip().lower()
    v = re.sub(r"^(version|ver\.?|v)\s*", "", v)
    parts = [p.lstrip("0") or "0" if p.isdigit() else p for p in re.split(r"[.\-_]", v)]
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


@dataclass(frozen=True, slots=True)
class MethodologyRecord:
    """One methodology version of the catalogue (one line of ``methodologies.csv``).

    ``module`` names the ``hesuan.quantification.methodologies`` module that produces the
    methodology's quantification report (``""``: none, and the registry refuses monitoring
    reports of projects under it); ``tools`` are the tools it applies, each with its version;
    ``report_schema`` is the schema id and version of the report it writes. ``quantification``
    and ``quantity_key`` are read from format-1 catalogues only (the former summary path) and
    are empty otherwise.
    """

    id: str
    version: str
    title: str
    programme: str
    publisher: str
    sector: str
    sectoral_scope: str
    quantifies: str
    module: str
    tools: tuple[str, ...]
    report_schema: str
    url: str
    text_licence: str
    status: str
    valid_from: str
    valid_to: str
    aliases: tuple[str, ...]
    read_at: str
    description: str
    notes: str
    catalogue: str = ""   # ``methodologies@<version>`` of the catalogue it was read from
    quantification: str = ""   # format 1 only: the former summary kind
    quantity_key: str = ""     # format 1 only: the former summary key

    @property
    def key(self) -> str:
        """``ID@VERSION``, unique within the catalogue."""
        return f"{self.id}@{self.version}"

    @property
    def has_module(self) -> bool:
        """Whether a hesuan quantification module produces this methodology's report."""
        return bool(self.module)

    @property
    def crediting(self) -> bool:
        """Whether projects may earn units under it.

        It quantifies removals or reductions and is not withdrawn.
        """
        return self.quantifies != "inventory" and self.status != "withdrawn"

    def as_dict(self) -> dict[str, Any]:
        """Return the record as JSON-ready data."""
        d = asdict(self)
        d["aliases"] = list(self.aliases)
        d["tools"] = list(self.tools)
        if not (self.quantification or self.quantity_key):   # a format-2 record
            del d["quantification"], d["quantity_key"]
        return d


@dataclass(frozen=True)
class MethodologyCatalogue:
    """A loaded catalogue: its manifest and its records, looked up by id and version."""

    info: DatasetInfo
    records: tuple[MethodologyRecord, ...]
    _by_id: dict[str, list[MethodologyRecord]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, list[MethodologyRecord]] = {}
        for r in self.records:
            for name in (r.id, *r.aliases):
                by_id.setdefault(normalise_id(name), []).append(r)
        object.__setattr__(self, "_by_id", by_id)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[MethodologyRecord]:
        return iter(self.records)

    def versions(self, methodology_id: str) -> list[MethodologyRecord]:
        """Every version of ``methodology_id`` (or an alias), oldest first."""
        found = self._by_id.get(normalise_id(methodology_id), [])
        return sorted(found, key=lambda r: _natural_key(normalise_version(r.version)))

    def resolve(self, methodology_id: str, version: str | None = None) -> MethodologyRecord:
        """Return the record for ``methodology_id`` and ``version``.

        Case, spaces and ``-`` in the id are ignored and aliases accepted; versions compare loosely
        (``"v1.0"`` ≡ ``"1"``). ``None`` takes the newest active version. Raises
        :class:`MethodologyNotFoundError` listing near matches.
        """
        versions = self.versions(methodology_id)
        if not versions:
            near = self._near_ids(methodology_id)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise MethodologyNotFoundError(
                f"no methodology {methodology_id!r} in the catalogue {self.info.key}{hint} "
                f"(catalogued: {', '.join(r.key for r in self.records)})",
                near=tuple(near),
            )
        if version is None or not version.strip():
            active = [r for r in versions if r.status == "active"]
            return (active or versions)[-1]
        wanted = normalise_version(version)
        for r in versions:
            if normalise_version(r.version) == wanted:
                return r
        keys = tuple(r.key for r in versions)
        raise MethodologyNotFoundError(
            f"methodology {versions[0].id} has no version {version!r} in the catalogue "
            f"{self.info.key}; catalogued versions: {', '.join(keys)}",
            near=keys,
        )

    def _near_ids(self, methodology_id: str) -> list[str]:
        wanted = normalise_id(methodology_id)
        ids = sorted({r.id for r in self.records})
        scored = difflib.get_close_matches(wanted, [normalise_id(i) for i in ids], n=5,
                                           cutoff=0.5)
        by_norm = {normalise_id(i): i for i in ids}
        near = [by_norm[s] for s in scored]
        # a query that is part of an id (``"0047"``, ``"AR-"``) is near too
        near += [i for i in ids if wanted and wanted in normalise_id(i) and i not in near]
        return near[:5]


# --------------------------------------------------------------------------- loading


def _shipped_versions() -> list[str]:
    folder = DATA_ROOT / CATALOGUE_ID
    return sorted((p.parent.name for p in folder.glob(f"*/{TABLE}")), key=_natural_key)


@lru_cache(maxsize=8)
def load_methodologies(version: str | None = None) -> MethodologyCatalogue:
    """Return the shipped methodology catalogue (``None``: the newest shipped version)."""
    versions = _shipped_versions()
    chosen = versions[-1] if version is None and versions else version
    if chosen not in versions:
        raise MethodologyNotFoundError(
            f"no shipped methodology catalogue version {version!r}; shipped: "
            f"{', '.join(versions) or 'none'}", near=tuple(versions))
    return _load_folder(DATA_ROOT / CATALOGUE_ID / str(chosen), shipped=True)


def load_methodologies_path(path: str | Path) -> MethodologyCatalogue:
    """Load and validate a catalogue folder of one's own, or one of its two files.

    The folder holds ``dataset.toml`` and ``methodologies.csv``.

    Raises
    ------
    DatasetError
        Listing every problem found, each with file, line and field.
    """
    return _load_folder(user_folder(path, "dataset.toml and methodologies.csv"), shipped=False)


def resolve_methodology(methodology_id: str, version: str | None = None) -> MethodologyRecord:
    """Return the shipped catalogue's record for ``methodology_id`` and ``version``.

    ``"ID@VERSION"`` is accepted as the only argument. Raises :class:`MethodologyNotFoundError`
    naming the closest catalogued methodologies.
    """
    if version is None and "@" in methodology_id:
        methodology_id, version = methodology_id.split("@", 1)
    return load_methodologies().resolve(methodology_id, version)


def _load_folder(folder: Path, *, shipped: bool) -> MethodologyCatalogue:
    problems: list[Problem] = []
    info = _read_manifest(folder, problems, shipped=shipped)
    records = _read_table(folder, info, problems) if info else []
    if problems:
        raise DatasetError(
            problems=tuple(problems),
            summary=f"methodology catalogue {folder} is not valid ({len(problems)} problem(s))",
        )
    assert info is not None  # no problems means the manifest parsed
    return MethodologyCatalogue(info=info, records=tuple(records))


def _read_table(folder: Path, info: DatasetInfo,
                problems: list[Problem]) -> list[MethodologyRecord]:
    path = folder / TABLE
    name = str(path)
    if not path.is_file():
        problems.append(Problem("missing methodology table", name, expected=TABLE))
        return []
    records: list[MethodologyRecord] = []
    seen: dict[tuple[str, str], int] = {}
    names: dict[str, tuple[str, int]] = {}   # normalised id or alias -> (id, line)
    columns = FORMAT1_COLUMNS if _is_format1(path) else METHODOLOGY_COLUMNS
    for line, row in csv_rows(path, columns, problems):
        record = _check_row(row, info, name, line, problems)
        if record is None:
            continue
        key = (normalise_id(record.id), normalise_version(record.version))
        if key in seen:
            problems.append(Problem(
                f"duplicate methodology {record.key} (same id and version as line "
                f"{seen[key]})", name, row=line, field="version",
                expected="one line per methodology id and version"))
            continue
        clash = _name_clash(record, names)
        if clash:
            problems.append(Problem(clash, name, row=line, field="aliases",
                                    expected="aliases that name no other methodology"))
            continue
        seen[key] = line
        for n in (record.id, *record.aliases):
            names.setdefault(normalise_id(n), (record.id, line))
        records.append(record)
    if not records and not problems:
        problems.append(Problem("no methodology rows", name, row=2,
                                expected="at least one record"))
    return records


def _is_format1(path: Path) -> bool:
    """Whether the table's header is format 1's (it has a ``quantity_key`` column)."""
    with path.open("rb") as fh:
        head = fh.readline(65536)
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            return "quantity_key" in head.decode(encoding)
        except UnicodeDecodeError:
            continue
    return False


def _name_clash(record: MethodologyRecord, names: dict[str, tuple[str, int]]) -> str:
    for n in (record.id, *record.aliases):
        owner = names.get(normalise_id(n))
        if owner is not None and normalise_id(owner[0]) != normalise_id(record.id):
            return f"{n!r} already names methodology {owner[0]} (line {owner[1]})"
    return ""


_Bad = Callable[[str, str, str], None]


def _check_labels(row: dict[str, str], bad: _Bad) -> None:
    """Check a catalogue row's required values, id, version and closed-list columns."""
    for column in REQUIRED_METHODOLOGY_VALUES:
        if not row[column]:
            bad(column, "empty", "a value")
    if row["id"] and not _ID.match(row["id"]):
        bad("id", f"bad id {row['id']!r}", "letters, digits and . _ - (e.g. AR-ACM0003)")
    if row["version"] and not _VERSION.match(row["version"]):
        bad("version", f"bad version {row['version']!r}",
            "letters, digits and . _ - as the publisher prints it (e.g. 02.0, V01, 2023)")
    if row["quantifies"] and row["quantifies"] not in QUANTIFIES:
        bad("quantifies", f"unknown value {row['quantifies']!r}", " | ".join(QUANTIFIES))
    if row["status"] and row["status"] not in STATUSES:
        bad("status", f"unknown status {row['status']!r}", " | ".join(STATUSES))


def _check_module(row: dict[str, str], bad: _Bad) -> None:
    """Check ``module``, ``tools`` and ``report_schema`` (format 2).

    A module is a lower-case Python module name with the report schema it writes; without one,
    ``tools`` and ``report_schema`` are empty; an inventory standard has no module.
    """
    module, schema = row["module"], row["report_schema"]
    if module and not _MODULE.match(module):
        bad("module", f"bad module name {module!r}",
            "a module of hesuan.quantification.methodologies, e.g. ar_acm0003, or empty")
    if module and not schema:
        bad("report_schema", "empty", f"the schema the module writes: {' | '.join(REPORT_SCHEMAS)}")
    if schema and schema not in REPORT_SCHEMAS:
        bad("report_schema", f"unknown report schema {schema!r}", " | ".join(REPORT_SCHEMAS))
    if not module and (schema or row["tools"]):
        column = "report_schema" if schema else "tools"
        bad(column, f"{column} given without a module", "empty when module is empty")
    if module and row["quantifies"] == "inventory":
        bad("module", "an inventory standard yields no creditable report",
            "empty for quantifies = inventory")


def _check_quantity_key(row: dict[str, str], bad: _Bad) -> None:
    """Check format 1's ``quantification`` and ``quantity_key``.

    A known kind; the key named when a quantification reads summary.json, else empty.
    """
    if not row["quantification"]:
        bad("quantification", "empty", "a value")
    elif row["quantification"] not in QUANTIFICATIONS:
        bad("quantification", f"unknown hesuan quantification {row['quantification']!r}",
            " | ".join(QUANTIFICATIONS))
    if row["quantification"] in ("land", "transport", "report") and not row["quantity_key"]:
        bad("quantity_key", f"a {row['quantification']} quantification must name the "
            "summary.json key holding its quantity", "e.g. net_removals_t_co2e")
    if row["quantification"] == "none" and row["quantity_key"]:
        bad("quantity_key", "quantification none reads no summary key", "empty")
    if row["quantity_key"] and not _QUANTITY_KEY.match(row["quantity_key"]):
        bad("quantity_key", f"bad key {row['quantity_key']!r}",
            "a lower-case summary.json key ending in its unit, e.g. sequestration_t_co2e")


def _check_validity(row: dict[str, str], bad: _Bad) -> None:
    """Check ``valid_from`` and ``valid_to``: dates, the second not before the first."""
    for column in ("valid_from", "valid_to"):
        if row[column] and not _DATE.match(row[column]):
            bad(column, f"not a date: {row[column]!r}", "YYYY, YYYY-MM or YYYY-MM-DD")
    if (_DATE.match(row["valid_from"]) and _DATE.match(row["valid_to"]) and row["valid_from"]
            and row["valid_to"] and row["valid_to"] < row["valid_from"]):
        bad("valid_to", f"{row['valid_to']} is before valid_from {row['valid_from']}",
            "valid_to on or after valid_from")


def _check_row(row: dict[str, str], info: DatasetInfo, file: str, line: int,
               problems: list[Problem]) -> MethodologyRecord | None:
    before = len(problems)

    def bad(column: str, message: str, expected: str) -> None:
        problems.append(Problem(message, file, row=line, field=column, expected=expected))

    format1 = "quantity_key" in row
    _check_labels(row, bad)
    if format1:
        _check_quantity_key(row, bad)
    else:
        _check_module(row, bad)
    _check_validity(row, bad)
    aliases = tuple(a.strip() for a in row["aliases"].split(";") if a.strip())
    for alias in aliases:
        if not _ID.match(alias):
            bad("aliases", f"bad alias {alias!r}", "ids separated by ';'")
    tools = tuple(t.strip() for t in row.get("tools", "").split(";") if t.strip())
    if len(problems) > before:
        return None
    return MethodologyRecord(
        id=row["id"], version=row["version"], title=row["title"], programme=row["programme"],
        publisher=row["publisher"], sector=row["sector"],
        sectoral_scope=row["sectoral_scope"], quantifies=row["quantifies"],
        module=row.get("module", ""), tools=tools, report_schema=row.get("report_schema", ""),
        quantification=row.get("quantification", ""), quantity_key=row.get("quantity_key", ""),
        url=row["url"], text_licence=row["text_licence"], status=row["status"],
        valid_from=row["valid_from"], valid_to=row["valid_to"], aliases=aliases,
        read_at=row["read_at"], description=row["description"], notes=row["notes"],
        catalogue=info.key,
    )
