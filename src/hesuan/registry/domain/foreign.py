"""Other registries' public exports.

The issuances they record, read from a CAD Trust JSON export or a CSV serial list, for the
double-issuance check across registries.

A foreign issuance is one block another registry issued: the registry, the project's
external id (CAD Trust ``originProjectId``, else ``projectId``), the vintage and the block's
first and last serial as that registry writes them. Issuing here for a project whose
``external_project_id`` and vintage match one is refused
(``issuance_must_not_duplicate_foreign_issuance``). Pure: parsing and checks, no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.registry.domain.codes import RegistryRejection, Rejection

SERIAL_LIST_SPEC = TableSpec(
    "foreign_serial_list",
    (
        ColumnSpec("registry", "str", "Registry that issued the block (e.g. Verra, GS).",
                   required=True),
        ColumnSpec("project_id", "str", "The project's id, as other registries know it.",
                   required=True),
        ColumnSpec("vintage", "int", "Vintage year of the block.", required=True,
                   minimum=1900, maximum=9999),
        ColumnSpec("block_start", "str", "First serial of the block.", required=True),
        ColumnSpec("block_end", "str", "Last serial of the block.", required=True),
    ),
    key=("registry", "project_id", "vintage", "block_start"),
    description="A serial list of another registry's issued blocks.",
)
"""The CSV serial list ``hesuan registry import-foreign`` reads."""


@dataclass(frozen=True)
class ForeignIssuance:
    """One block another registry issued."""

    registry: str
    external_project_id: str
    vintage: int
    block_start: str
    block_end: str

    def as_dict(self) -> dict[str, Any]:
        """Return the issuance as JSON-ready data."""
        return asdict(self)


def _text(value: Any, where: str, name: str, limit: int = 120) -> str:
    text = "" if value is None else str(value).strip()
    if not text or len(text) > limit or "\x00" in text:
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"{where}: {name} must be a text of 1–{limit} characters")
    return text


def _vintage(value: Any, where: str) -> int:
    try:
        year = int(str(value).strip())
    except ValueError:
        year = 0
    if not 1900 <= year <= 9999:
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"{where}: vintage {value!r} must be a year such as 2024")
    return year


def record(registry: Any, project: Any, vintage: Any, start: Any, end: Any,
           where: str) -> ForeignIssuance:
    """Return a checked :class:`ForeignIssuance` (``where`` names the row for messages)."""
    return ForeignIssuance(_text(registry, where, "registry", 80),
                           _text(project, where, "project id"), _vintage(vintage, where),
                           _text(start, where, "block start"), _text(end, where, "block end"))


def from_cadt(doc: Any, source: str) -> list[ForeignIssuance]:
    """Return the blocks of a CAD Trust export.

    ``{"projects": [...], "units": [...]}`` (a unit's project: its ``warehouseProjectId``, else
    that of its issuance — the ``issuance`` nested in the unit, or ``issuanceId`` among the
    export's ``issuances`` or the projects' — ; the project's ``registryOfOrigin`` or
    ``currentRegistry`` and ``originProjectId`` or ``projectId`` name registry and project;
    ``vintageYear``; ``unitBlockStart``/``unitBlockEnd``, else the two ends of
    ``serialNumberBlock``).
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list) \
            or not isinstance(doc.get("projects"), list):
        raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                f"{source}: a CAD Trust export is a JSON object with "
                                "'projects' and 'units' lists")
    projects: dict[str, dict[str, Any]] = {}
    issued_for: dict[str, str] = {}  # issuance id → warehouseProjectId
    for i, p in enumerate(doc["projects"]):
        if not isinstance(p, dict) or "warehouseProjectId" not in p:
            raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                    f"{source}: projects[{i}] has no warehouseProjectId")
        projects[str(p["warehouseProjectId"])] = p
        nested = p.get("issuances")
        for iss in nested if isinstance(nested, list) else []:
            if isinstance(iss, dict) and "id" in iss:
                issued_for[str(iss["id"])] = str(p["warehouseProjectId"])
    top = doc.get("issuances")
    for iss in top if isinstance(top, list) else []:
        if isinstance(iss, dict) and "id" in iss and "warehouseProjectId" in iss:
            issued_for[str(iss["id"])] = str(iss["warehouseProjectId"])
    out = []
    for i, u in enumerate(doc["units"]):
        where = f"{source}: units[{i}]"
        if not isinstance(u, dict):
            raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                    f"{where} is not an object")
        # CAD Trust links a unit to its project through its issuance (issuanceId, or the
        # issuance record the API nests in the unit); hesuan's export also names it
        nested_issuance = u.get("issuance")
        key = u.get("warehouseProjectId") or (
            nested_issuance.get("warehouseProjectId") if isinstance(nested_issuance, dict)
            else None) or issued_for.get(str(u.get("issuanceId", "")))
        p = projects.get(str(key or ""))
        if p is None:
            raise RegistryRejection(Rejection.foreign_export_must_be_readable,
                                    f"{where}: neither its warehouseProjectId nor its "
                                    "issuance names a project of the export")
        start, end = u.get("unitBlockStart"), u.get("unitBlockEnd")
        if start is None or end is None:
            block = str(u.get("serialNumberBlock", ""))
            start, _, end = block.rpartition("-") if block.count("-") == 1 else ("", "", "")
            start = start or None
        out.append(record(p.get("registryOfOrigin") or p.get("currentRegistry"),
                          p.get("originProjectId") or p.get("projectId"),
                          u.get("vintageYear"), start, end, where))
    return out


def check_not_ours(records: list[ForeignIssuance], registry_code: str) -> None:
    """Refuse records of this registry itself (its own issuances are not foreign)."""
    for r in records:
        if r.registry.upper() == registry_code.upper():
            raise RegistryRejection(Rejection.foreign_registry_must_not_be_this_registry,
                                    f"{r.registry} is this registry; import other "
                                    "registries' exports only")
