"""Article 6.2 reporting in the agreed electronic format (AEF): layout, codes and ITMO ids.

Decision 6/CMA.4, annex II outlines the agreed electronic format a participating Party
submits each year, as a spreadsheet (the AEF template) with **Table 1: Heading** (Party,
reported year), **Table 2: Actions** (what happened to internationally transferred
mitigation outcomes, ITMOs, during the year) and **Table 3: Holdings** (the ITMOs held).
Each row names a block of ITMOs by its first and last unique identifier and the
underlying unit block it stems from.

The columns, their order, the three header rows (group cells and merged ranges) and the
table titles below are those of that spreadsheet as drafted at CMA.4 (November 2022) and
kept by UNDP's National Carbon Registry (checked against a description of it in
``tests/registry/data/aef_template_6cma4.json``; ``tests/registry/SOURCE.md`` names the copy
read). The spreadsheet lists the allowed values of *Cooperative approach*, *Sector(s)*,
*Purposes for authorization* and *First transfer definition*; it leaves the *Action type*
to "decision 2/CMA.3, annex, paragraph 20(a) and any further relevant guidance", for which
the action types of the CAD Trust's AEF picklist are used (:class:`ActionType`).

Each ITMO's unique identifier holds the elements decision 6/CMA.4, annex I, para. 5 names
(:func:`itmo_identifier`), and a submission's Holdings must follow from its Actions, block
by block (:func:`check_balance`). The later five-table layout of decision 4/CMA.6 is
:mod:`hesuan.registry.domain.aef6`.

The functions here are pure: the rows are built by ``service/exports.py`` from one
consistent read of the registry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from enum import StrEnum
from itertools import pairwise

from hesuan.errors import HesuanError
from hesuan.io.spec import ColumnSpec, TableSpec
from hesuan.registry.domain.model import AuthorisedUse, FirstTransfer

TEMPLATE = "AEF template, Decision 6/CMA.4 annex II (Heading, Actions, Holdings)"
"""What the layout of the export follows."""

METRIC = "GHG"
"""The metric of every block (template footnote f: "GHG or non-GHG"); one unit of this
registry is one tonne of CO2 equivalent."""

COOPERATIVE_APPROACHES = ("Cooperative approach", "Article 6.4 mechanism")
"""The template's list for *Cooperative approach* (a Party writes the approach's name/ID)."""

SECTORS = ("Energy", "IPPU", "AFOLU", "Waste")
"""The template's list for *Sector(s)* (the IPCC sectors)."""


class AefExportError(HesuanError):
    """A registry record cannot be written in the agreed electronic format."""


class ActionType(StrEnum):
    """AEF action types (Decision 2/CMA.3, annex, para. 20(a)).

    The values of the CAD Trust's AEF picklist ``aefT3ActionsType``. A *Transfer* is an
    international transfer as the transferring Party reports it (with the acquiring
    Party), an *Acquisition* the same transfer as the acquiring Party reports it.
    """

    authorization = "Authorization"
    transfer = "Transfer"
    acquisition = "Acquisition"
    use = "Use"
    cancellation = "Cancellation"
    first_transfer = "First Transfer"


#: Registry retirement purpose → (action type, purposes for cancellation). A use towards
#: an NDC or for international mitigation purposes is a *Use*; the rest are cancellations.
RETIREMENT_ACTION: dict[str, tuple[ActionType, str]] = {
    "ndc": (ActionType.use, "NDC"),
    "corsia": (ActionType.use, "OIMP (CORSIA)"),
    "oimp": (ActionType.use, "OIMP"),
    "voluntary": (ActionType.cancellation, "Voluntary cancellation"),
    "other": (ActionType.cancellation, "Other purposes"),
}

OMGE_PURPOSE = "OMGE"
"""Purposes for cancellation of a cancellation for overall mitigation in global emissions."""

#: Authorised OIMP uses → the words of *OIMP authorized by the Party*.
OIMP_TEXT: dict[str, str] = {
    AuthorisedUse.corsia.value: "CORSIA",
    AuthorisedUse.oimp.value: "Other international mitigation purposes",
}

#: First-transfer rule of an authorisation → *First transfer definition* (template list;
#: Decision 2/CMA.3, annex, para. 2(b)).
FIRST_TRANSFER_TEXT: dict[str, str] = {
    FirstTransfer.authorisation.value: "Authorization",
    FirstTransfer.issuance.value: "Issuance",
    FirstTransfer.use_or_cancellation.value: "Use or cancellation",
}

#: Words of a project's sector → the template's sector (IPCC 2006 sectors: transport and
#: other fuel combustion are Energy; forestry and land use are AFOLU).
_SECTOR_WORDS: tuple[tuple[str, str], ...] = (
    ("afolu", "AFOLU"), ("lulucf", "AFOLU"), ("forest", "AFOLU"), ("land", "AFOLU"),
    ("agri", "AFOLU"), ("ippu", "IPPU"), ("industrial process", "IPPU"), ("waste", "Waste"),
    ("energy", "Energy"), ("transport", "Energy"), ("fuel", "Energy"))


def sector(project_id: int, text: str) -> str:
    """Return the template's *Sector(s)* of a project whose sector is ``text``."""
    low = text.strip().lower()
    for word, name in _SECTOR_WORDS:
        if word in low:
            return name
    raise AefExportError(
        f"project {project_id}: sector {text!r} names none of the AEF sectors "
        f"{', '.join(SECTORS)} (expected a sector such as 'AFOLU' or 'Energy')")


def purposes_for_authorization(uses: list[str]) -> str:
    """*Purposes for authorization* (template list: NDC, OIMP, NDC and OIMP)."""
    ndc = AuthorisedUse.ndc.value in uses
    oimp = any(u in OIMP_TEXT for u in uses)
    return "NDC and OIMP" if ndc and oimp else "NDC" if ndc else "OIMP"


def oimp_authorized(uses: list[str]) -> str:
    """*OIMP authorized by the Party* (footnote o: filled when OIMP is authorised)."""
    return "; ".join(OIMP_TEXT[u] for u in uses if u in OIMP_TEXT)


APPROACH_ID_PATTERN = r"CA[0-9]{4}"
"""A cooperative approach ID: ``CANNNN`` (common nomenclatures, Table 9(a))."""

PARTY_REGISTRY_ID_PATTERN = r"[A-Z]{3}[0-9]{2}"
"""A Party ITMO registry ID: the Party's alpha-3 code and two digits (common nomenclatures,
Table 28), e.g. ``KEN01``."""

REGISTRY_CODE_PATTERN = r"[A-Z][A-Z0-9]{1,7}"
"""This registry's own code (``registry_meta.registry_code``), e.g. ``HSN``."""

ITMO_ID_PATTERN = (rf"{APPROACH_ID_PATTERN}-(?:{REGISTRY_CODE_PATTERN})-[A-Z]{{3}}-[0-9]+-"
                   r"[0-9]{4}")
"""An ITMO unique identifier as :func:`itmo_identifier` writes it."""

ITMO_ID_TEXT = "APPROACH-REGISTRY-PARTY-SERIAL-VINTAGE"


def check_approach_id(approach_id: str) -> str:
    """Return ``approach_id`` if it is a cooperative approach ID (``CANNNN``).

    Raises
    ------
    AefExportError
        Any other text.
    """
    if re.fullmatch(APPROACH_ID_PATTERN, approach_id) is None:
        raise AefExportError(f"cooperative approach ID {approach_id!r}: expected the ID the "
                             "centralized accounting and reporting platform assigned, CA and "
                             "four digits (common nomenclatures), e.g. CA0004")
    return approach_id


def check_registry_id(registry_id: str) -> str:
    """Return ``registry_id`` if it is a Party ITMO registry ID (``KEN01``) or a registry code.

    Raises
    ------
    AefExportError
        Any other text.
    """
    if re.fullmatch(REGISTRY_CODE_PATTERN, registry_id) is None:
        raise AefExportError(f"registry ID {registry_id!r}: expected the Party ITMO registry "
                             "ID (alpha-3 Party code and two digits, e.g. KEN01) or this "
                             "registry's code (2-8 capitals or digits, e.g. HSN)")
    return registry_id


def alpha3(code: str) -> str:
    """Return the ISO 3166-1 alpha-3 code of the country with alpha-2 ``code`` (``KE`` → ``KEN``).

    The common nomenclatures identify Parties by alpha-3 codes.

    Raises
    ------
    AefExportError
        ``code`` is no ISO 3166-1 alpha-2 code.
    """
    import pycountry

    c = pycountry.countries.get(alpha_2=code)
    if c is None:
        raise AefExportError(f"country {code!r}: expected an ISO 3166-1 alpha-2 code such as "
                             "KE")
    return str(c.alpha_3)


def itmo_identifier(approach_id: str, registry_id: str, first_transferring_party: str,
                    serial: int, vintage: int) -> str:
    """Return the unique identifier of one ITMO: ``APPROACH-REGISTRY-PARTY-SERIAL-VINTAGE``.

    Decision 6/CMA.4, annex I, para. 5 names what an ITMO unique identifier comprises at a
    minimum: the identifier of the cooperative approach, of the originating Party
    registry, of the first transferring Party, the serial number and the vintage of the
    underlying mitigation outcome (as UNDP's National Carbon Registry and the
    secretariat's proposed form show it: ``CA002-BK1-BK-1236500-1237500-2022`` for a
    block; ``tests/registry/SOURCE.md``). Here: ``approach_id`` (``CANNNN``),
    ``registry_id`` (this registry's code, or the Party ITMO registry ID it was given),
    the first transferring Party as its alpha-3 code (the common nomenclatures' Party
    codes), the unit's serial (unique in this registry; one unit is one ITMO of 1 t
    CO2e) and the vintage. The identifier is built at export time from stored data; the
    stored block serials (``HSN-KE-12-2024-1-10-xx``) are unchanged.
    """
    return f"{approach_id}-{registry_id}-{first_transferring_party}-{serial}-{vintage:04d}"


@dataclass(frozen=True)
class AefHeading:
    """Table 1: Heading — the reporting Party and the reported year."""

    party: str
    reported_year: int
    registry: str


@dataclass(frozen=True)
class AefBlock:
    """The columns Table 2 and Table 3 share: which ITMOs and what they are."""

    article6_record_id: str
    cooperative_approach: str
    first_unique_identifier: str
    last_unique_identifier: str
    underlying_unit_block_start: int
    underlying_unit_block_end: int
    metric: str
    quantity_in_metric: int
    quantity_t_co2e: int
    conversion_factor: str
    first_transferring_party: str
    vintage: int
    sector: str
    activity_type: str
    authorization_date: str
    authorization_id: str
    purposes_for_authorization: str
    oimp_authorized: str
    first_transfer_definition: str


@dataclass(frozen=True)
class AefAction(AefBlock):
    """A row of Table 2: Actions [quantities: t CO2e]."""

    action_date: str = ""
    action_type: str = ""
    transferring_party: str = ""
    acquiring_party: str = ""
    purposes_for_cancellation: str = ""
    using_party_or_entity: str = ""
    first_transfer: str = ""


@dataclass(frozen=True)
class AefHolding(AefBlock):
    """A row of Table 3: Holdings."""


#: Column headings of the template, in order (its inner spacing and non-breaking spaces
#: kept; footnote letters and a trailing space dropped).
HEADINGS: dict[str, str] = {
    "article6_record_id": "Article 6 database record ID",
    "cooperative_approach": "Cooperative approach",
    "first_unique_identifier": "First unique identifier",
    "last_unique_identifier": "Last unique identifier",
    "underlying_unit_block_start": "Underlying unit block start ID",
    "underlying_unit_block_end": "Underlying unit last block end",
    "metric": "Metric",
    "quantity_in_metric": "Quantity (expressed in metric)",
    "quantity_t_co2e": "Quantity (t\u00a0CO2\u00a0eq)",
    "conversion_factor": "Conversion factor \u00a0(reporting Party)",
    "first_transferring_party": "First transferring participating Party",
    "vintage": "Vintage",
    "sector": "Sector(s)",
    "activity_type": "Activity type(s)",
    "authorization_date": "Date of authorization",
    "authorization_id": "Authorization ID",
    "purposes_for_authorization": "Purposes for authorization",
    "oimp_authorized": "OIMP authorized by the Party",
    "first_transfer_definition": "First transfer definition",
    "action_date": "Action date",
    "action_type": "Action type",
    "transferring_party": "Transferring participating Party",
    "acquiring_party": "Acquiring participating Party",
    "purposes_for_cancellation": "Purposes for cancellation",
    "using_party_or_entity": "Using participating Party or authorized entity or entities",
    "first_transfer": "First transfer",
}


@dataclass(frozen=True)
class Group:
    """A group cell of the template's header rows.

    Its text, the columns it spans (1-based, inclusive) and the rows it spans (relative to
    the first header row).
    """

    text: str
    first_col: int
    last_col: int
    first_row: int
    last_row: int


#: The group cells above the headings (template rows 8–9 of Actions, 4–5 of Holdings).
ACTION_GROUPS: tuple[Group, ...] = (
    Group("Article 6 database record ID", 1, 1, 0, 2), Group("Cooperative approach", 2, 2, 0, 2),
    Group("ITMO", 3, 14, 0, 0), Group("First transfer definition", 19, 19, 0, 2),
    Group("Actions", 20, 26, 0, 0), Group("Unique identifier", 3, 6, 1, 1),
    Group("Metric and quantity", 7, 10, 1, 1), Group("ITMO details", 11, 14, 1, 1),
    Group("Authorization", 15, 18, 1, 1), Group("Action details", 20, 25, 1, 1))
HOLDING_GROUPS: tuple[Group, ...] = tuple(g for g in ACTION_GROUPS if g.first_col < 20)

ACTIONS_TITLE, HOLDINGS_TITLE, HEADING_TITLE = "Table 2: Actions", "Table3: Holdings", \
    "Table 1: Heading"


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

    A written table is checked against it.
    """
    ints = {"underlying_unit_block_start", "underlying_unit_block_end", "quantity_in_metric",
            "quantity_t_co2e", "vintage"}
    allowed: dict[str, tuple[str, ...]] = {
        "metric": (METRIC,), "action_type": tuple(a.value for a in ActionType),
        "cooperative_approach": COOPERATIVE_APPROACHES, "sector": SECTORS,
        "purposes_for_authorization": ("NDC", "OIMP", "NDC and OIMP"),
        "first_transfer_definition": tuple(FIRST_TRANSFER_TEXT.values()),
        "first_transfer": ("Yes", "No")}
    required = {"cooperative_approach", "first_unique_identifier", "last_unique_identifier",
                *ints, "metric", "first_transferring_party", "sector", "authorization_date",
                "authorization_id", "purposes_for_authorization", "action_date",
                "action_type", "first_transfer"}
    cols = []
    for f in fields(row_type):
        ident = f.name.endswith("unique_identifier")
        cols.append(ColumnSpec(
            HEADINGS[f.name], "int" if f.name in ints else "str",
            minimum=1 if f.name in ints else None, allowed=allowed.get(f.name),
            required=f.name in required, in_header=True,
            pattern=ITMO_ID_PATTERN if ident else None,
            pattern_text=ITMO_ID_TEXT if ident else ""))
    return TableSpec(name, tuple(cols), key=(HEADINGS["first_unique_identifier"],)
                     if row_type is AefHolding else (), min_rows=0, description=description)


ACTIONS_SPEC = _spec("aef_actions", AefAction, "AEF Table 2: Actions (Decision 6/CMA.4, annex II)")
HOLDINGS_SPEC = _spec("aef_holdings", AefHolding,
                      "AEF Table 3: Holdings (Decision 6/CMA.4, annex II)")


@dataclass(frozen=True)
class BalanceLine:
    """What became of one Party's ITMOs of one authorised issuance in the reported year.

    Quantities in t CO2e: held at the start of the year (``start``), ITMOs that came into
    being in the year (``issued``: the authorised issuance, once both issued and
    authorised, less what was used or cancelled before), ``acquired`` and
    ``transferred`` (the *Acquisition* and *Transfer* rows), ``used_or_cancelled`` (the
    *Use* and *Cancellation* rows of ITMOs) and held at the end (``end``: the Holdings
    rows). ``first_unique_identifier`` names the issuance's first ITMO.
    """

    first_unique_identifier: str
    start: int
    issued: int
    acquired: int
    transferred: int
    used_or_cancelled: int
    end: int

    @property
    def expected_end(self) -> int:
        """Return the holdings the year's actions leave: start + issued + acquired − out."""
        return (self.start + self.issued + self.acquired - self.transferred
                - self.used_or_cancelled)


def effective_day(authorised_on: str, issued_at: str, recorded_at: str) -> str:
    """Return the day an authorised issuance's units become ITMOs in this registry (ISO).

    The latest of the authorisation's own date (``authorised_on``), the day of the
    issuance (``issued_at``) and the day the registry recorded the authorisation
    (``recorded_at``): no unit is an ITMO before it exists or before it is authorised,
    and the registry executes no action on ITMOs before it knows they are ITMOs — an
    action is dated the day "on which the action was executed in the registry of the
    reporting Party" (AEF template, footnote q). An authorisation dated in the past
    therefore takes effect, for the holdings and the transfers, on the day it is
    recorded, so those of a year already reported never change afterwards; its *Date of
    authorization* column (footnote m) and its *Authorization* and *First Transfer* rows
    keep the dates it names.
    """
    return max(authorised_on[:10], issued_at[:10], recorded_at[:10])


@dataclass(frozen=True, order=True)
class HeldBlock:
    """A block of an issuance's units and the Party (ISO alpha-2) whose registry holds it."""

    serial_start: int
    serial_end: int
    party: str


def transfers_at_effective_date(host: str, held: Sequence[HeldBlock]) -> tuple[HeldBlock, ...]:
    """Return the blocks that are internationally transferred when the units become ITMOs.

    Units of an issuance may reach a holder of another Party before the host authorises
    them (a buyer abroad already holds the credits when they are authorised for NDC use
    or OIMP such as CORSIA). At the effective date (:func:`effective_day`) those units
    become ITMOs whose first transferring participating Party is the host, already held
    in another Party's accounts. Each Party reports the ITMOs it transferred and acquired
    (decision 2/CMA.3, annex, para. 20(a)) and its Holdings must follow from its Actions
    (the consistency check of para. 33(a); :func:`check_balance`). The texts read (the
    AEF template's footnotes, the common nomenclatures' action types; see
    ``tests/registry/SOURCE.md``) do not say how such ITMOs are reported, so this is
    hesuan's rule (``docs/registry.md``): every block held by another Party at that date
    is an international transfer dated that day — a *Transfer* by the host with the
    holder's Party as the acquiring Party, and an *Acquisition* by that Party. It agrees
    with the nomenclatures, which list "First transfer to another Party" among the
    subtypes of a first transfer and give an acquiring Party to first transfers and
    transfers alike. Where the authorisation defines the first transfer as the
    authorisation, the host's *First Transfer* row of the issuance is reported on the
    authorisation's date as well. A block back in the host's accounts by then moved no
    ITMO and yields nothing.

    Raises
    ------
    AefExportError
        Two blocks overlap (the registry's own record is inconsistent).
    """
    out = tuple(sorted(b for b in held if b.party != host))
    for before, after in pairwise(out):
        if after.serial_start <= before.serial_end:
            raise AefExportError(
                f"serials {before.serial_start}-{before.serial_end} and "
                f"{after.serial_start}-{after.serial_end} are held at once when the units "
                "become ITMOs (expected each serial in one block; run 'hesuan registry "
                "verify')")
    return out


def check_balance(party: str, year: int, lines: Sequence[BalanceLine]) -> None:
    """Refuse a submission whose Holdings do not follow from its Actions, block by block.

    For each issuance's ITMOs: holdings at the end of the year = holdings at its start +
    ITMOs that came into being + acquisitions − transfers − uses and cancellations
    (Decision 2/CMA.3, annex, para. 20(a): a Party reports what it transferred, acquired,
    held, cancelled and used; the Article 6 database checks the consistency of the
    reported information, para. 33(a)). Checked before anything is written.

    Raises
    ------
    AefExportError
        Naming the Party, the year, the block's first unique identifier and every term.
    """
    for line in lines:
        if line.end != line.expected_end or min(line.start, line.end) < 0:
            raise AefExportError(
                f"{party} {year}: the ITMOs of the block beginning {line.first_unique_identifier} "
                f"do not balance: held at the start {line.start} + came into being "
                f"{line.issued} + acquired {line.acquired} − transferred {line.transferred} − "
                f"used or cancelled {line.used_or_cancelled} = {line.expected_end}, but "
                f"{line.end} are held at the end (expected the Holdings to follow from the "
                "Actions; run 'hesuan registry verify')")
