"""Article 6.2 reporting in the agreed electronic format (AEF): row types and ITMO identifiers.

Decision 6/CMA.4 (Glasgow/Sharm el-Sheikh guidance on cooperative approaches, annex II)
sets out the agreed electronic format a participating Party submits each year: a heading
(Party, reporting year), an **Actions** table of what happened to internationally
transferred mitigation outcomes (ITMOs) during the year, and a **Holdings** table of the
ITMOs held at the end of it. Each row names a block of ITMOs by its *first and last unique
identifier* and the *underlying unit block* it stems from.

The column headings below follow the field list of the AEF as recorded in the team's
reference (``reference/registry.md``: first and last unique identifier, underlying block
start/end, metric, quantity, conversion factor, first transferring party, vintage, sector,
activity type, authorisation date and id, purposes for authorisation, first-transfer
definition, action date and type, transferring and acquiring party, purposes for
cancellation, using party or entity). The official AEF spreadsheet template of the UNFCCC
secretariat could not be consulted when this module was written, so the exact wording of
its headings is **not verified** (``VERIFIED_AGAINST_TEMPLATE = False``); a Party that
submits through the template copies these columns into it by name.

The functions here are pure: the rows are built by ``service/exports.py`` from one
consistent read of the registry.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from enum import StrEnum

from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.registry.domain.model import AuthorisedUse, FirstTransfer

VERIFIED_AGAINST_TEMPLATE = False
"""Whether the headings were checked against the UNFCCC's AEF template (they were not)."""

METRIC = "tCO2e"
"""The metric of every block: one unit of this registry is one tonne of CO2 equivalent."""

CONVERSION_FACTOR = 1
"""Conversion factor from the metric to t CO2e [t CO2e per unit] (1: the metric is t CO2e)."""


class ActionType(StrEnum):
    """AEF action types this registry records (Decision 6/CMA.4, annex II, Actions table)."""

    authorization = "Authorization"
    first_transfer = "First transfer"
    use = "Use"
    cancellation = "Cancellation"
    omge_cancellation = "Cancellation for OMGE"


#: Registry retirement purposes → the AEF's purposes for cancellation / use.
PURPOSE_TEXT: dict[str, str] = {
    "ndc": "Use towards NDC",
    "corsia": "Use for international mitigation purposes (CORSIA)",
    "oimp": "Use for other international mitigation purposes",
    "voluntary": "Voluntary cancellation",
    "other": "Other purposes",
}

#: Authorised uses → the AEF's purposes for authorisation.
USE_TEXT: dict[str, str] = {
    AuthorisedUse.ndc.value: "Use towards achievement of an NDC",
    AuthorisedUse.corsia.value: "OIMP (CORSIA)",
    AuthorisedUse.oimp.value: "Other international mitigation purposes",
}

#: First-transfer rule of an authorisation → the AEF's first-transfer definition
#: (Decision 2/CMA.3, annex, para. 2(b)).
FIRST_TRANSFER_TEXT: dict[str, str] = {
    FirstTransfer.authorisation.value: "Authorization",
    FirstTransfer.issuance.value: "Issuance",
    FirstTransfer.use_or_cancellation.value: "Use or cancellation",
}


def itmo_identifier(registry: str, country: str, project_id: int, vintage: int,
                    serial: int) -> str:
    """Return the unique identifier of one ITMO: ``REGISTRY-CC-PROJECT-VINTAGE-SERIAL``.

    Decision 2/CMA.3, annex, para. 29 asks that each ITMO carry a unique identifier; one
    unit of this registry is one ITMO of 1 t CO2e, so the registry code, host country,
    project, vintage and the unit's serial (unique in the registry) identify it.
    """
    return f"{registry}-{country}-{project_id}-{vintage:04d}-{serial}"


@dataclass(frozen=True)
class AefHeading:
    """The heading of a submission: the reporting Party and year."""

    party: str
    reporting_year: int
    registry: str
    template_verified: bool = VERIFIED_AGAINST_TEMPLATE


@dataclass(frozen=True)
class AefBlock:
    """The columns every AEF row shares: which ITMOs and what they are."""

    first_unique_identifier: str
    last_unique_identifier: str
    underlying_unit_block_start: int
    underlying_unit_block_end: int
    metric: str
    quantity: int
    quantity_t_co2e: int
    conversion_factor: int
    first_transferring_party: str
    vintage: int
    sector: str
    activity_type: str
    authorization_date: str
    authorization_id: str
    purposes_for_authorization: str
    first_transfer_definition: str


@dataclass(frozen=True)
class AefAction(AefBlock):
    """A row of the Actions table [quantity: units = t CO2e]."""

    action_date: str = ""
    action_type: str = ""
    transferring_party: str = ""
    acquiring_party: str = ""
    purposes_for_cancellation: str = ""
    using_party_or_entity: str = ""


@dataclass(frozen=True)
class AefHolding(AefBlock):
    """A row of the Holdings table: ITMOs as the export's snapshot holds them."""

    status: str = ""


#: Column headings of each table, in the order the rows are written (the AEF's headings
#: in the reference list's words; see the module docstring on verification).
HEADINGS: dict[str, str] = {
    "first_unique_identifier": "First unique identifier",
    "last_unique_identifier": "Last unique identifier",
    "underlying_unit_block_start": "Underlying unit block start",
    "underlying_unit_block_end": "Underlying unit block end",
    "metric": "Metric",
    "quantity": "Quantity (in metric)",
    "quantity_t_co2e": "Quantity (tCO2e)",
    "conversion_factor": "Conversion factor",
    "first_transferring_party": "First transferring participating Party",
    "vintage": "Vintage",
    "sector": "Sector(s)",
    "activity_type": "Activity type(s)",
    "authorization_date": "Authorization date",
    "authorization_id": "Authorization ID",
    "purposes_for_authorization": "Purposes for authorization",
    "first_transfer_definition": "First transfer definition",
    "action_date": "Action date",
    "action_type": "Action type",
    "transferring_party": "Transferring participating Party",
    "acquiring_party": "Acquiring participating Party",
    "purposes_for_cancellation": "Purposes for cancellation",
    "using_party_or_entity": "Using participating Party or authorized entity or entities",
    "status": "Status",
}


def columns(row_type: type[AefBlock]) -> tuple[str, ...]:
    """Return the headings of a table of ``row_type`` rows, in order."""
    return tuple(HEADINGS[f.name] for f in fields(row_type))


def cells(row: AefBlock) -> tuple[object, ...]:
    """Return the cells of one row, in the order of :func:`columns`."""
    return astuple(row)


def in_year(date_or_time: str, year: int) -> bool:
    """Whether an ISO date or timestamp falls in calendar ``year``."""
    return date_or_time[:4] == f"{year:04d}"


def _spec(name: str, row_type: type[AefBlock], description: str) -> TableSpec:
    """Return the declared column schema of a table of ``row_type`` rows.

    What a written table is checked against.
    """
    ints = {"underlying_unit_block_start", "underlying_unit_block_end", "quantity",
            "quantity_t_co2e", "conversion_factor", "vintage"}
    allowed: dict[str, tuple[str, ...]] = {
        "metric": (METRIC,), "action_type": tuple(a.value for a in ActionType),
        "first_transfer_definition": tuple(FIRST_TRANSFER_TEXT.values()),
        "status": ("Held", "Retired", "Cancelled", "Buffer")}
    required = {"first_unique_identifier", "last_unique_identifier", *ints, "metric",
                "first_transferring_party", "authorization_date", "authorization_id",
                "purposes_for_authorization", "first_transfer_definition", "action_date",
                "action_type", "status"}
    cols = []
    for f in fields(row_type):
        cols.append(ColumnSpec(
            HEADINGS[f.name], "int" if f.name in ints else "str",
            minimum=1 if f.name in ints else None, allowed=allowed.get(f.name),
            required=f.name in required, in_header=True,
            pattern=r"[A-Z][A-Z0-9]{1,7}-[A-Z]{2}-[0-9]+-[0-9]{4}-[0-9]+"
            if f.name.endswith("unique_identifier") else None,
            pattern_text="REGISTRY-CC-PROJECT-VINTAGE-SERIAL"
            if f.name.endswith("unique_identifier") else ""))
    return TableSpec(name, tuple(cols), key=(HEADINGS["first_unique_identifier"],)
                     if row_type is AefHolding else (), min_rows=0, description=description)


ACTIONS_SPEC = _spec("aef_actions", AefAction, "AEF Actions table (Decision 6/CMA.4, annex II)")
HOLDINGS_SPEC = _spec("aef_holdings", AefHolding, "AEF Holdings table (Decision 6/CMA.4, annex II)")
