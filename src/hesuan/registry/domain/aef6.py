"""The later agreed electronic format: the five tables of decision 4/CMA.6, annex II.

At CMA.6 (Baku, November 2024) the agreed electronic format was revised into five tables:
**Table 1: Submission**, **Table 2: Authorizations**, **Table 3: Actions**, **Table 4:
Holdings** and **Table 5: Authorized entities**. An ITMO block is no longer named by two
composite identifiers: its parts are columns of their own — *Cooperative approach ID*,
*First transferring participating Party ID*, *Party ITMO registry ID*, *First ID* and
*Last ID* (the serials) and *Vintage* — the elements of an ITMO unique identifier of
decision 6/CMA.4, annex I, para. 5. Parties are alpha-3 codes, the action types and
subtypes, sectors, mitigation types and first-transfer definitions those of the common
nomenclatures.

The column headings and their order below are those of the secretariat's draft
``AEF_CMA6_second_iteration.csv`` and the common nomenclatures of 17 February 2026 as
transcribed by UNDP's National Carbon Registry developers (checked against
``tests/registry/data/aef_layout_4cma6.json``; ``tests/registry/SOURCE.md`` names the
copy read). No official spreadsheet of these tables was found, so the workbook is laid
out plainly: one sheet per table, its title, then one heading row.

The rows are made from the same rows as the decision 6/CMA.4 layout
(:mod:`hesuan.registry.domain.aef`, built by ``service/exports.py`` from one consistent
read): pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from enum import StrEnum

from hesuan.registry.domain import aef
from hesuan.registry.domain.model import FirstTransfer


class AefLayout(StrEnum):
    """Which agreed electronic format an AEF export follows."""

    cma4 = "6/CMA.4"
    cma6 = "4/CMA.6"


NA = "NA"
""""Not applicable", as the format's footnotes ask for a field that does not apply."""

#: The registry's action types → (action type, action subtype) of the common nomenclatures
#: (Tables 25(b) and 26(b)); a cancellation's subtype follows its purpose.
_ACTION = {aef.ActionType.authorization.value: ("Authorization", ""),
           aef.ActionType.transfer.value: ("Transfer", ""),
           aef.ActionType.acquisition.value: ("Acquisition", ""),
           aef.ActionType.use.value: ("Use", "")}

#: First-transfer rule → *Action subtype* of a first transfer (Table 26(b)).
_FIRST_TRANSFER_SUBTYPE = {FirstTransfer.authorisation.value: "Authorization",
                           FirstTransfer.issuance.value: "Issuance",
                           FirstTransfer.use_or_cancellation.value: "Use or cancellation"}

#: A use's *Purposes for cancellation* (6/CMA.4) → the OIMP purpose it was used for.
_OIMP_PURPOSE = {"OIMP (CORSIA)": "CORSIA", "OIMP": "Other international mitigation purposes"}

#: First-transfer rule → *First transfer definition for OIMP* (Table 22(b), its spelling).
FIRST_TRANSFER_DEFINITIONS = {
    FirstTransfer.authorisation.value: "Authorisation",
    FirstTransfer.issuance.value: "Issuance",
    FirstTransfer.use_or_cancellation.value: "Use or Cancellation"}

SECTORS = ("Agriculture", "Building and construction", "Cross-sectoral mechanisms",
           "Energy generation", "Forestry and land use", "Industrial processes",
           "Transportation", "Urban development", "Waste management")
"""*Sector(s)* of the common nomenclatures (Table 15(b))."""

#: Words of a project's sector → the nomenclature's sector (the first that matches).
_SECTOR_WORDS: tuple[tuple[str, str], ...] = (
    ("forest", "Forestry and land use"), ("land", "Forestry and land use"),
    ("lulucf", "Forestry and land use"), ("afolu", "Forestry and land use"),
    ("agri", "Agriculture"), ("transport", "Transportation"), ("waste", "Waste management"),
    ("ippu", "Industrial processes"), ("industr", "Industrial processes"),
    ("building", "Building and construction"), ("urban", "Urban development"),
    ("energy", "Energy generation"), ("fuel", "Energy generation"))

MITIGATION_TYPES = ("Emission reductions", "Removals", "Emission reductions and removals")
"""*Mitigation type* of the common nomenclatures (Table 36(b))."""


def sector(project_id: int, text: str) -> str:
    """Return the nomenclature's *Sector(s)* of a project whose sector is ``text``.

    Raises
    ------
    AefExportError
        ``text`` names none of them.
    """
    low = text.strip().lower()
    for word, name in _SECTOR_WORDS:
        if word in low:
            return name
    raise aef.AefExportError(
        f"project {project_id}: sector {text!r} names none of the sectors of the common "
        f"nomenclatures ({', '.join(SECTORS)}), so it cannot be written in the 4/CMA.6 layout")


def mitigation_type(template_sector: str) -> str:
    """Return the *Mitigation type* of ITMOs of a sector of the 6/CMA.4 template.

    Land-use units are removals, the rest reductions — the same rule as the CAD Trust
    export's ``unitType`` (:func:`hesuan.registry.domain.cadt.unit_type`).
    """
    return "Removals" if template_sector == "AFOLU" else "Emission reductions"


def dmy(day: str) -> str:
    """Return an ISO date ``YYYY-MM-DD`` as the format's ``dd/mm/yyyy``."""
    return f"{day[8:10]}/{day[5:7]}/{day[:4]}"


@dataclass(frozen=True)
class Submission:
    """A row of Table 1: Submission."""

    party: str
    version: str
    reported_year: int
    date_of_submission: str = ""
    review_status: str = ""
    consistency_check: str = ""
    ndc_first_year: str = ""
    ndc_last_year: str = ""
    review_report: str = ""


@dataclass(frozen=True)
class Authorization:
    """A row of Table 2: Authorizations."""

    authorization_id: str
    date_of_authorization: str
    cooperative_approach_id: str
    version: int
    authorized_quantity: int
    metric: str
    gwp_values: str
    non_ghg_metric: str
    sectors: str
    activity_types: str
    purposes_for_authorization: str
    authorized_parties: str
    authorized_entities: str
    oimp_authorized: str
    authorized_timeframe: str
    terms: str
    documentation: str
    first_transfer_definition: str
    additional_information: str


@dataclass(frozen=True)
class Block:
    """The columns Table 3 and Table 4 share from *Cooperative approach ID* to *Vintage*."""

    cooperative_approach_id: str
    authorization_id: str
    first_transferring_party: str
    registry_id: str
    first_id: int
    last_id: int
    unit_registry_id: str
    first_unit_id: str
    last_unit_id: str
    metric: str
    gwp_values: str
    non_ghg_metric: str
    quantity_t_co2e: int
    quantity_non_ghg: str
    mitigation_type: str
    vintage: int


@dataclass(frozen=True)
class Action:
    """A row of Table 3: Actions (its first three columns, then :class:`Block`, then the rest)."""

    action_date: str
    action_type: str
    action_subtype: str
    block: Block
    transferring_party: str
    acquiring_party: str
    oimp_purpose: str
    using_party: str
    using_entity: str
    ndc_year: str
    consistency_check: str
    additional_information: str


@dataclass(frozen=True)
class AuthorizedEntity:
    """A row of Table 5: Authorized entities."""

    date_of_authorization: str
    name: str
    country_of_incorporation: str
    identification_number: str
    cooperative_approach_id: str
    conditions: str
    change_conditions: str
    additional_information: str


@dataclass(frozen=True)
class Tables:
    """One Party's submission in the five tables of decision 4/CMA.6."""

    submission: Submission
    authorizations: tuple[Authorization, ...]
    actions: tuple[Action, ...]
    holdings: tuple[Block, ...]
    authorized_entities: tuple[AuthorizedEntity, ...] = ()


#: Table name → (title, headings in order). The headings are those of
#: ``AEF_CMA6_second_iteration.csv`` (see the module docstring).
_BLOCK_HEADINGS = (
    "Cooperative approach ID", "Authorization ID", "First transferring participating Party ID",
    "Party ITMO registry ID", "First ID", "Last ID", "Underlying unit registry ID",
    "First unit ID", "Last unit ID", "Metric", "Applicable GWP value(s)",
    "Applicable non-GHG metric", "Quantity (t CO2 eq)", "Quantity (in non-GHG metric)",
    "Mitigation type", "Vintage")
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "submission": ("Table 1: Submission", (
        "Party", "Version", "Reported year", "Date of submission",
        "Review status of the initial report",
        "Result of the consistency check of this AEF submission",
        "First year of the NDC implementation period",
        "Last year of the NDC implementation period",
        "Reference to the Article 6 technical expert review report of the initial report")),
    "authorizations": ("Table 2: Authorizations", (
        "Authorization ID", "Date of authorization", "Cooperative approach ID",
        "Version of the authorization", "Authorized quantity", "Metric",
        "Applicable GWP value(s)", "Applicable non-GHG metric", "Sector(s)",
        "Activity type(s)", "Purposes for authorization", "Authorized Party(ies) ID",
        "Authorized entity(ies) ID", "OIMP authorized by the Party", "Authorized timeframe",
        "Authorization terms and conditions", "Authorization documentation",
        "First transfer definition for OIMP", "Additional explanatory information")),
    "actions": ("Table 3: Actions", (
        "Action date", "Action type", "Action subtype", *_BLOCK_HEADINGS,
        "Transferring participating Party ID", "Acquiring participating Party ID",
        "Purpose for which the ITMO has been used towards or cancelled for OIMP",
        "Using/cancelling participating Party ID", "Using/cancelling authorized entity ID",
        "Calendar year for which the ITMOs are used towards the Party's NDC",
        "Result of the consistency checks", "Additional explanatory information")),
    "holdings": ("Table 4: Holdings", _BLOCK_HEADINGS),
    "authorized_entities": ("Table 5: Authorized entities", (
        "Date of the authorization", "Name", "Country of incorporation",
        "Identification number", "Cooperative approach ID", "Conditions",
        "Change and revocation conditions", "Additional explanatory information")),
}


def cells(row: Submission | Authorization | Action | Block | AuthorizedEntity
          ) -> tuple[object, ...]:
    """Return the cells of one row, in the order of its table's headings."""
    if isinstance(row, Action):
        return (row.action_date, row.action_type, row.action_subtype, *astuple(row.block),
                *(getattr(row, f.name) for f in fields(Action)[4:]))
    return astuple(row)


def rows(tables: Tables, table: str) -> list[tuple[object, ...]]:
    """Return the rows of ``table`` (a key of :data:`TABLES`)."""
    content: dict[str, tuple[Submission | Authorization | Action | Block | AuthorizedEntity,
                             ...]] = {
        "submission": (tables.submission,), "authorizations": tables.authorizations,
        "actions": tables.actions, "holdings": tables.holdings,
        "authorized_entities": tables.authorized_entities}
    if table not in content:
        raise aef.AefExportError(f"table {table!r}: expected one of {', '.join(TABLES)}")
    return [cells(r) for r in content[table]]


def block(r: aef.AefBlock, registry_id: str) -> Block:
    """Return the Table 3/4 block columns of a 6/CMA.4 row ``r``.

    Its cooperative approach is the first element of its unique identifiers (an ITMO
    acquired from another registry keeps its own); ``registry_id`` is the Party ITMO
    registry where it is held and its actions tracked: this one.
    """
    return Block(
        r.first_unique_identifier.split("-", 1)[0], r.authorization_id,
        aef.alpha3(r.first_transferring_party), registry_id,
        r.underlying_unit_block_start, r.underlying_unit_block_end,
        NA, "", "",  # this registry is the ITMO registry: no underlying registry
        r.metric, "", NA, r.quantity_t_co2e, NA, mitigation_type(r.sector), r.vintage)


def _action_type(r: aef.AefAction, rule: str) -> tuple[str, str]:
    """Return the nomenclature's (action type, subtype) of a 6/CMA.4 action ``r``.

    ``rule`` is the first-transfer rule of its authorisation (the subtype of a first
    transfer).
    """
    if r.action_type == aef.ActionType.first_transfer.value:
        return "First transfer", _FIRST_TRANSFER_SUBTYPE.get(rule, "Not yet defined")
    if r.action_type == aef.ActionType.cancellation.value:
        if r.purposes_for_cancellation == aef.OMGE_PURPOSE:
            return "Cancellation", "Mandatory cancellation to deliver OMGE"
        if r.purposes_for_cancellation == "Voluntary cancellation":
            return "Voluntary Cancellation", "Other cancellations"
        return "Cancellation", "Other cancellations"
    return _ACTION[r.action_type]


def action(r: aef.AefAction, registry_id: str, rule: str) -> Action:
    """Return the Table 3 row of a 6/CMA.4 action ``r`` (``rule``: its first-transfer rule).

    Transferring Party only on an *Acquisition*, acquiring Party only on a *Transfer*;
    the OIMP purpose and the using Party only on a use or cancellation for OIMP ("NA"
    where a field does not apply, as the format's footnotes ask); a retirement's
    beneficiary goes to the additional information (Table 5 holds no entity for it).
    """
    kind, subtype = _action_type(r, rule)
    use = r.action_type in (aef.ActionType.use.value, aef.ActionType.cancellation.value)
    oimp = _OIMP_PURPOSE.get(r.purposes_for_cancellation, "") if use else ""
    ndc = use and r.purposes_for_cancellation == "NDC"
    return Action(
        r.action_date, kind, subtype, block(r, registry_id),
        aef.alpha3(r.transferring_party) if kind == "Acquisition" else NA,
        aef.alpha3(r.acquiring_party) if kind == "Transfer" else NA,
        oimp or NA, aef.alpha3(r.transferring_party) if oimp else NA, "",
        "" if ndc else NA, "",
        f"Beneficiary: {r.using_party_or_entity}" if r.using_party_or_entity else "")


@dataclass(frozen=True)
class AuthorizationFacts:
    """What Table 2 needs of one authorisation that the 6/CMA.4 rows do not carry."""

    reference: str
    authorised_on: str
    quantity: int
    project_id: int
    project_sector: str
    uses: tuple[str, ...]
    first_transfer: str


def authorization(f: AuthorizationFacts, approach_id: str) -> Authorization:
    """Return the Table 2 row of an authorisation.

    The first-transfer definition only where OIMP is authorised (its footnote).
    """
    uses = list(f.uses)
    oimp = aef.oimp_authorized(uses)
    return Authorization(
        f.reference, dmy(f.authorised_on), approach_id, 1, f.quantity, aef.METRIC, "", NA,
        sector(f.project_id, f.project_sector), "", aef.purposes_for_authorization(uses), "",
        "", oimp, "", "", "", FIRST_TRANSFER_DEFINITIONS[f.first_transfer] if oimp else "",
        "")


def from_cma4(heading: aef.AefHeading, actions: tuple[aef.AefAction, ...],
              holdings: tuple[aef.AefHolding, ...],
              authorisations: tuple[AuthorizationFacts, ...], *, approach_id: str,
              registry_id: str) -> Tables:
    """Return the five tables of the submission whose 6/CMA.4 rows are given.

    ``authorisations`` are those of the issuances the rows cover; Table 2 lists those
    dated in the reported year. Table 1 names the Party (alpha-3), version 1.0 and the
    year; the date of submission and the NDC period are the Party's to fill, the review
    fields the CARP's. Table 5 is empty: this registry authorises no entities.
    """
    rules = {f.reference: f.first_transfer for f in authorisations}
    year = f"{heading.reported_year:04d}"
    return Tables(
        Submission(aef.alpha3(heading.party), "1.0", heading.reported_year),
        tuple(authorization(f, approach_id) for f in authorisations
              if f.authorised_on[:4] == year),
        tuple(action(r, registry_id, rules.get(r.authorization_id, "")) for r in actions),
        tuple(block(h, registry_id) for h in holdings))
