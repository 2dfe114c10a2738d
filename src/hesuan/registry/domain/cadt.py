"""Climate Action Data Trust (CAD Trust) data model, v1.

Project, location, issuance and unit records.

Field names, types, required fields and enumerations are those of the CAD Trust's
reference implementation (``Chia-Network/cadt``: ``src/models/*/*.modeltypes.cjs``, the Joi
rules of ``src/validations/``, the governance picklist ``governance.stub.js``), checked in as
the JSON Schema ``cadt_v1.schema.json`` beside this module (its ``description`` names the
files and commit). :func:`schema` loads it; the tests validate every export against it.

Where this registry has no value for a field CAD Trust requires, the rule is fixed here
(``docs/registry.md``, "CAD Trust export"): ``projectLink``/``unitRegistryLink`` are pages
of this registry's public API under the given base link; ``coveredByNDC`` is ``Unknown``;
``verificationApproach`` is :data:`VERIFICATION_APPROACH`; a project's one location is its
host country with its region (``geographicIdentifier``: ``CC/region``); and, because
holdings are private here, ``unitOwner`` is ``null`` and ``countryJurisdictionOfOwner`` is
the host country of the unit's project (the jurisdiction of the registry that holds it),
not the owner's. Pure: no I/O beyond reading the schema file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from hesuan.errors import HesuanError
from hesuan.registry.domain.model import AccountKind, cad_unit_status

SCHEMA_FILE = "cadt_v1.schema.json"
FORMAT = "cadt/1"


class CadtExportError(HesuanError):
    """A registry record cannot be written in the CAD Trust data model."""


@cache
def schema() -> dict[str, Any]:
    """Return the checked-in JSON Schema of an export (CAD Trust data model v1)."""
    text = resources.files("hesuan.registry.domain").joinpath(SCHEMA_FILE).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _enum(table: str, field: str) -> tuple[str, ...]:
    return tuple(schema()["$defs"][table]["properties"][field]["enum"])


UNIT_STATUSES = _enum("unit", "unitStatus")
CA_DECLARATIONS = _enum("unit", "correspondingAdjustmentDeclaration")
CA_STATUSES = _enum("unit", "correspondingAdjustmentStatus")
UNIT_TYPES = _enum("unit", "unitType")
PROJECT_STATUSES = _enum("project", "projectStatus")
COUNTRIES = _enum("unit", "countryJurisdictionOfOwner")

#: Registry project lifecycle → CAD Trust ``projectStatus`` (picklist ``projectStatusValues``:
#: a validated project is not registered yet, so *Listed*; the picklist has no suspension,
#: and a suspended project stays *Registered*).
PROJECT_STATUS = {"listed": "Listed", "validated": "Listed", "registered": "Registered",
                  "suspended": "Registered", "withdrawn": "Withdrawn"}

VERIFICATION_APPROACH = "Verified monitoring report"
"""``verificationApproach`` of every issuance: each follows a monitoring report verified by
an accredited verifier."""

#: ISO 3166-1 alpha-2 → CAD Trust country name, where the picklist's spelling is none of
#: the ISO names (pycountry's name, common name or official name).
_COUNTRY_SPELLING = {
    "AG": "Antigua and Barduba", "CI": "Cote d'Ivoire", "CD": "Democratic Republic of Congo",
    "DO": "Domincan Republic", "GQ": "Equatorial New Guinea", "GW": "Guinea Bissau",
    "FM": "Micronesia", "KR": "Republic of Korea", "PS": "State of Palestine",
    "SZ": "Swaziland", "MK": "The Former Yugoslav Republic of Macedonia", "TR": "Turkey"}

#: Sectors whose units are removals by nature (the sink methodologies of hesuan); every
#: other sector's units are exported as technical reductions.
NATURE_REMOVAL_SECTORS = frozenset({"AFOLU", "FORESTRY", "LAND USE", "LULUCF"})


def country_name(code: str, where: str) -> str:
    """Return the CAD Trust picklist name of the country with ISO 3166-1 alpha-2 ``code``."""
    import pycountry

    if code in _COUNTRY_SPELLING:
        return _COUNTRY_SPELLING[code]
    c = pycountry.countries.get(alpha_2=code)
    for name in (getattr(c, "name", None), getattr(c, "common_name", None),
                 getattr(c, "official_name", None)):
        if name in COUNTRIES:
            return str(name)
    raise CadtExportError(f"{where}: country {code!r} is not in the CAD Trust country "
                          "picklist (countries), so the record cannot be exported")


def unit_type(sector: str) -> str:
    """CAD Trust ``unitType`` of a project's units, from its sector."""
    return "Removal - nature" if sector.strip().upper() in NATURE_REMOVAL_SECTORS \
        else "Reduction - technical"


@dataclass(frozen=True)
class CadtLocation:
    """A project location record of the Climate Action Data Trust data model.

    Field names as CADT spells them.
    """

    id: str
    country: str
    inCountryRegion: str | None
    geographicIdentifier: str


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
    projectLocations: tuple[CadtLocation, ...]


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
    projectLocationId: str
    unitOwner: None
    countryJurisdictionOfOwner: str
    serialNumberBlock: str
    unitBlockStart: str
    unitBlockEnd: str
    unitCount: int
    vintageYear: int
    unitType: str
    unitStatus: str
    unitStatusReason: str | None
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
        """Return the export as one JSON object: its format, projects, issuances and units."""
        return {"format": FORMAT, "projects": [asdict(p) for p in self.projects],
                "issuances": [asdict(i) for i in self.issuances],
                "units": [asdict(u) for u in self.units]}


def project_key(registry: str, project_id: int) -> str:
    """Return this registry's stable ``warehouseProjectId`` of a project."""
    return f"{registry}-P{project_id}"


def location_key(registry: str, project_id: int) -> str:
    """Return this registry's stable ``id`` of a project's location record."""
    return f"{registry}-L{project_id}"


def project_record(registry: str, p: Any, developer: str, link: str) -> CadtProject:
    """Return a project's CAD Trust record.

    ``originProjectId`` is its external id when it has one (the id the double-issuance check
    across registries matches), else its id here. ``link`` is the public base URL of this
    registry's API.
    """
    where = f"project {p.id}"
    if not developer.strip():
        raise CadtExportError(f"{where}: its proponent has no name (projectDeveloper)")
    return CadtProject(
        warehouseProjectId=project_key(registry, p.id), currentRegistry=registry,
        projectId=str(p.id), originProjectId=p.external_project_id or str(p.id),
        registryOfOrigin=registry,
        program=registry, projectName=p.name, projectLink=f"{link}/projects/{p.id}",
        projectDeveloper=developer, sector=p.sector, projectType=p.methodology_id,
        coveredByNDC="Unknown", projectStatus=PROJECT_STATUS[p.status],
        projectStatusDate=p.created_at[:10], unitMetric="tCO2e",
        methodology=f"{p.methodology_id} {p.methodology_version}",
        projectLocations=(CadtLocation(
            id=location_key(registry, p.id), country=country_name(p.host_country, where),
            inCountryRegion=p.host_region or None,
            geographicIdentifier=f"{p.host_country}/{p.host_region}" if p.host_region
            else p.host_country),))


def issuance_record(registry: str, i: Any, verifier: str) -> CadtIssuance:
    """Return the CADT issuance record of issuance row ``i``, verified by ``verifier``."""
    return CadtIssuance(
        id=f"{registry}-I{i.id}", warehouseProjectId=project_key(registry, i.project_id),
        startDate=i.period_start, endDate=i.period_end,
        verificationApproach=VERIFICATION_APPROACH,
        verificationReportDate=i.reported_at[:10], verificationBody=verifier)


def unit_record(registry: str, b: Any, serial: str, kind: AccountKind, sector: str,
                country: str, ca_declaration: str | None, ca_status: str | None,
                link: str) -> CadtUnit:
    """One block as a unit record.

    ``country`` is the host country (ISO alpha-2) of the block's project.
    """
    status = cad_unit_status(kind)
    reason = {"Retired": "retirement", "Cancelled": "cancellation",
              "Buffer": "non-permanence buffer"}.get(status)
    return CadtUnit(
        warehouseUnitId=f"{registry}-U{b.serial_start}", issuanceId=f"{registry}-I{b.issuance_id}",
        warehouseProjectId=project_key(registry, b.project_id),
        projectLocationId=location_key(registry, b.project_id), unitOwner=None,
        countryJurisdictionOfOwner=country_name(country, f"project {b.project_id}"),
        serialNumberBlock=serial, unitBlockStart=str(b.serial_start),
        unitBlockEnd=str(b.serial_end),
        unitCount=b.serial_end - b.serial_start + 1, vintageYear=b.vintage,
        unitType=unit_type(sector), unitStatus=status, unitStatusReason=reason,
        unitRegistryLink=f"{link}/serials/{b.serial_start}/trace",
        correspondingAdjustmentDeclaration=ca_declaration or "Not Required",
        correspondingAdjustmentStatus=ca_status or "Not Started")
