"""Public exports (no token, read-only): Article 6.2 AEF tables and CAD Trust records.

The agreed electronic format (AEF) tables of a Party and the CAD Trust data-model records.

The same functions as ``hesuan registry export`` build them, in one read-only snapshot
(:meth:`Registry.read`: REPEATABLE READ READ ONLY on PostgreSQL), under the same privacy
rule: only what is public leaves — projects, issuances, authorisations, retirements,
cancellations, block status — never which account holds a block.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hesuan.errors import HesuanError
from hesuan.registry.api.deps import RegistryDep
from hesuan.registry.api.schemas import Error
from hesuan.registry.domain import aef, aef6, cadt
from hesuan.registry.service import exports

router = APIRouter(prefix="/exports", tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AefSubmission(BaseModel):
    """AEF Tables 1–3 of one Party and reported year (Decision 6/CMA.4, annex II).

    The fields are the template's columns, in its order (``columns`` gives their headings);
    ``balance`` gives each block's start, came into being, acquired, transferred, used or
    cancelled and end, checked to add up.
    """

    heading: aef.AefHeading
    actions: list[aef.AefAction]
    holdings: list[aef.AefHolding]
    balance: list[aef.BalanceLine]
    columns: dict[str, list[str]]


class Aef6Submission(BaseModel):
    """The five tables of decision 4/CMA.6, annex II, of one Party and reported year.

    ``columns`` gives each table's headings, in the format's order.
    """

    layout: Literal["4/CMA.6"]
    submission: aef6.Submission
    authorizations: list[aef6.Authorization]
    actions: list[aef6.Action]
    holdings: list[aef6.Block]
    authorized_entities: list[aef6.AuthorizedEntity]
    columns: dict[str, list[str]]


class CadtDocument(BaseModel):
    """Projects (with their locations), issuances and units in the CAD Trust data model v1.

    Valid against the JSON Schema ``cadt_v1.schema.json``.
    """

    format: Literal["cadt/1"]
    projects: list[cadt.CadtProject]
    issuances: list[cadt.CadtIssuance]
    units: list[cadt.CadtUnit]


def _refusal(exc: HesuanError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"code": "export_not_possible",
                                                  "message": str(exc)})


Party = Annotated[str, Query(pattern="^[A-Z]{2}$", description="reporting Party, ISO 3166-1 "
                                                                "alpha-2 (e.g. KE)")]
Year = Annotated[int, Query(ge=1900, le=9999, description="reported year, e.g. 2025")]
ApproachId = Annotated[str, Query(pattern=f"^{aef.APPROACH_ID_PATTERN}$",
                                  description="cooperative approach ID (CANNNN, common "
                                              "nomenclatures), part of every ITMO unique "
                                              "identifier, e.g. CA0004")]
RegistryId = Annotated[str | None, Query(pattern=f"^{aef.REGISTRY_CODE_PATTERN}$",
                                         description="Party ITMO registry ID (e.g. KEN01) in "
                                                     "the ITMO unique identifiers: if given, "
                                                     "must be the registry's setting "
                                                     "(default: the setting, else this "
                                                     "registry's code)")]

_AEF_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"text/csv": {}, XLSX: {}},
          "description": "JSON (``format=json``), one table as CSV (``format=csv``) or the "
                         "workbook laid out as the AEF template (Decision 6/CMA.4) "
                         "(``format=xlsx``)"},
    422: {"model": Error, "description": "a record cannot be written in the format (e.g. a "
                                         "sector outside the AEF's list)"}}


@router.get("/aef", response_model=AefSubmission | Aef6Submission, responses=_AEF_RESPONSES)
def export_aef(reg: RegistryDep, party: Party, year: Year, approach_id: ApproachId,
               registry_id: RegistryId = None,
               layout: Annotated[aef6.AefLayout, Query(
                   description="the format: decision 6/CMA.4 (Tables 1-3, the AEF "
                               "template) or decision 4/CMA.6 (five tables)")]
               = aef6.AefLayout.cma4,
               format: Literal["json", "csv", "xlsx"] = "json",
               table: Annotated[Literal["actions", "holdings", "submission", "authorizations",
                                        "authorized_entities"],
                                Query(description="the table of a CSV answer (submission, "
                                                  "authorizations and authorized_entities: "
                                                  "layout 4/CMA.6 only)")] = "actions",
               cooperative_approach: Annotated[str, Query(min_length=1, max_length=200)]
               = aef.COOPERATIVE_APPROACHES[0]) -> Response | AefSubmission | Aef6Submission:
    """Return a Party's agreed-electronic-format tables for a reported year.

    Its international transfers and acquisitions of ITMOs are *Transfer* and *Acquisition*
    actions naming the other Party, never a holder; its holdings are the ITMOs held in
    its holders' and the registry's accounts at the end of the year, including ITMOs
    acquired from another Party, checked to follow from the actions; each ITMO's unique
    identifier is ``approach_id``-registry-Party-serial-vintage. CSV cells never start a
    formula.
    """
    try:
        with reg.read() as s, s.begin():
            tables = exports.aef_tables(s, party=party, year=year, approach_id=approach_id,
                                        registry_id=registry_id,
                                        cooperative_approach=cooperative_approach)
    except HesuanError as exc:
        return _refusal(exc)
    name = f"aef-{party}-{year}"
    try:
        if format == "csv":
            return Response(exports.aef_csv(tables, table, layout),
                            media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{name}-{table}.csv"'})
        if format == "xlsx":
            return Response(exports.aef_xlsx(tables, layout), media_type=XLSX,
                            headers={"Content-Disposition":
                                     f'attachment; filename="{name}.xlsx"'})
        if layout is aef6.AefLayout.cma6:
            five = exports.aef6_tables(tables)
            return Aef6Submission(
                layout="4/CMA.6", submission=five.submission,
                authorizations=list(five.authorizations), actions=list(five.actions),
                holdings=list(five.holdings),
                authorized_entities=list(five.authorized_entities),
                columns={k: list(v[1]) for k, v in aef6.TABLES.items()})
    except HesuanError as exc:
        return _refusal(exc)
    return AefSubmission(heading=tables.heading, actions=list(tables.actions),
                         holdings=list(tables.holdings), balance=list(tables.balance),
                         columns={"actions": list(aef.columns(aef.AefAction)),
                                  "holdings": list(aef.columns(aef.AefHolding))})


@router.get("/cadt", response_model=CadtDocument,
            responses={422: {"model": Error,
                             "description": "a record cannot be written in the data model"}})
def export_cadt(reg: RegistryDep, request: Request) -> Response | CadtDocument:
    """Return every project, issuance and unit block in the CAD Trust data model.

    Links point at this API (``projectLink``: ``/projects/{id}``, ``unitRegistryLink``:
    ``/serials/{serial}/trace``). Holders are not exported.
    """
    link = str(request.base_url).rstrip("/")
    try:
        with reg.read() as s, s.begin():
            export = exports.cadt_records(s, registry_link=link)
    except HesuanError as exc:
        return _refusal(exc)
    return CadtDocument(format="cadt/1", projects=list(export.projects),
                        issuances=list(export.issuances), units=list(export.units))
