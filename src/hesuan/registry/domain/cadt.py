"""Climate Action Data Trust (CAD Trust) data model: project, issuance and unit records.

Field names follow the CAD Trust's public data model as its reference implementation
declares it (repository ``Chia-Network/cadt``: ``src/models/projects/projects.modeltypes.cjs``,
``src/models/issuances/issuances.modeltypes.cjs``, ``src/models/units/units.modeltypes.cjs``)
and the team's reference list (``reference/registry.md``): unit statuses ``Held, Retired,
Cancelled, Expired, Buffer, Exported, Pending Export``; corresponding-adjustment
declaration ``Committed | Not Required | Unknown`` and status ``Not Started | Pending |
Completed``; unit types ``Reduction - nature, Reduction - technical, Removal - nature,
Removal - technical``. ``unitBlockStart``, ``unitBlockEnd`` and ``unitCount`` are in the
reference list (CAD Trust data model v2) but not in that model file.

A unit record is one block with its status; the block's holder (``unitOwner``) is left
empty because holdings per account are private in this registry. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hesuan.registry.domain.model import AccountKind, cad_unit_status

UNIT_STATUSES = ("Held", "Retired", "Cancelled", "Expired", "Buffer", "Exported",
                 "Pending Export")
CA_DECLARATIONS = ("Committed", "Not Required", "Unknown")
CA_STATUSES = ("Not Started", "Pending", "Completed")
UNIT_TYPES = ("Reduction - nature", "Reduction - technical", "Removal - nature",
              "Removal - technical")

#: Registry project lifecycle → CAD Trust ``projectStatus`` (picklist values not checked
#: against the CAD Trust governance picklist: ``verified = false``).
PROJECT_STATUS = {"listed": "Listed", "validated": "Validated", "registered": "Registered",
                  "suspended": "Suspended", "withdrawn": "Withdrawn"}

#: Sectors whose units are removals by nature (the sink methodologies of hesuan); every
#: other sector's units are exported as technical reductions.
NATURE_REMOVAL_SECTORS = frozenset({"AFOLU", "FORESTRY", "LAND USE", "LULUCF"})


def unit_type(sector: str) -> str:
    """CAD Trust ``unitType`` of a project's units, from its sector."""
    return "Removal - nature" if sector.strip().upper() in NATURE_REMOVAL_SECTORS \
        else "Reduction - technical"


@dataclass(frozen=True)
class CadtProject:
    """A project record of the Climate Action Data Trust data model.

    Field names as CADT spells them.
    """

    warehouseProjectId: str
    currentRegistry: str
    projectId: str
    originProjectId: str
    registryOfOrigin: str
    program: str
    projectName: str
    projectLink: str
    projectDeveloper: str
    sector: str
    projectType: str
    coveredByNDC: str
    projectStatus: str
    projectStatusDate: str
    unitMetric: str
    methodology: str
    countryJurisdiction: str
    inCountryJurisdiction: str


@dataclass(frozen=True)
class CadtIssuance:
    """An issuance record of the CADT data model."""

    id: str
    warehouseProjectId: str
    startDate: str
    endDate: str
    verificationApproach: str
    verificationReportDate: str
    verificationBody: str


@dataclass(frozen=True)
class CadtUnit:
    """A unit record of the CADT data model: one block of serials with its status."""

    warehouseUnitId: str
    issuanceId: str
    warehouseProjectId: str
    unitOwner: str
    serialNumberBlock: str
    unitBlockStart: int
    unitBlockEnd: int
    unitCount: int
    vintageYear: int
    unitType: str
    unitStatus: str
    unitStatusReason: str
    unitRegistryLink: str
    correspondingAdjustmentDeclaration: str
    correspondingAdjustmentStatus: str


@dataclass(frozen=True)
class CadtExport:
    """A CADT export: projects, issuances and units."""

    projects: tuple[CadtProject, ...]
    issuances: tuple[CadtIssuance, ...]
    units: tuple[CadtUnit, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return the export as JSON-ready data (``format: cadt/1``)."""
        return {"format": "cadt/1", "projects": [asdict(p) for p in self.projects],
                "issuances": [asdict(i) for i in self.issuances],
                "units": [asdict(u) for u in self.units]}


def project_key(registry: str, project_id: int) -> str:
    """Return this registry's stable ``warehouseProjectId`` of a project."""
    return f"{registry}-P{project_id}"


def project_record(registry: str, p: Any, developer: str, link: str) -> CadtProject:
    """Return a project's CAD Trust record.

    ``originProjectId`` is its external id when it has one (the id the double-issuance check across
    registries matches), else its id here.
    """
    return CadtProject(
        warehouseProjectId=project_key(registry, p.id), currentRegistry=registry,
        projectId=str(p.id), originProjectId=p.external_project_id or str(p.id),
        registryOfOrigin=registry,
        program=registry, projectName=p.name, projectLink=link, projectDeveloper=developer,
        sector=p.sector, projectType=p.methodology_id, coveredByNDC="Unknown",
        projectStatus=PROJECT_STATUS[p.status], projectStatusDate=p.created_at[:10],
        unitMetric="tCO2e", methodology=f"{p.methodology_id} {p.methodology_version}",
        countryJurisdiction=p.host_country, inCountryJurisdiction=p.host_region)


def issuance_record(registry: str, i: Any, verifier: str) -> CadtIssuance:
    """Return the CADT issuance record of issuance row ``i``, verified by ``verifier``."""
    return CadtIssuance(
        id=f"{registry}-I{i.id}", warehouseProjectId=project_key(registry, i.project_id),
        startDate=i.period_start, endDate=i.period_end, verificationApproach="",
        verificationReportDate=i.reported_at[:10], verificationBody=verifier)


def unit_record(registry: str, b: Any, serial: str, kind: AccountKind, sector: str,
                ca_declaration: str | None, ca_status: str | None, link: str) -> CadtUnit:
    """Return the CADT unit record of block row ``b`` held in an account of ``kind``."""
    status = cad_unit_status(kind)
    reason = {"Retired": "retirement", "Cancelled": "cancellation",
              "Buffer": "non-permanence buffer"}.get(status, "")
    return CadtUnit(
        warehouseUnitId=f"{registry}-U{b.serial_start}", issuanceId=f"{registry}-I{b.issuance_id}",
        warehouseProjectId=project_key(registry, b.project_id), unitOwner="",
        serialNumberBlock=serial, unitBlockStart=b.serial_start, unitBlockEnd=b.serial_end,
        unitCount=b.serial_end - b.serial_start + 1, vintageYear=b.vintage,
        unitType=unit_type(sector), unitStatus=status, unitStatusReason=reason,
        unitRegistryLink=link,
        correspondingAdjustmentDeclaration=ca_declaration or "Not Required",
        correspondingAdjustmentStatus=ca_status or "Not Started")
