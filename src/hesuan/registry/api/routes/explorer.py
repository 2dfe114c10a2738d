"""The public explorer (no token) and account views (owner or administrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from hesuan.registry.api.deps import CurrentActor, IdPath, Limit, Offset, RegistryDep
from hesuan.registry.api.schemas import Result

router = APIRouter(tags=["explorer"])

# a serial (ASCII digits, at most 18: below 2**62) or a block identifier (hyphen-separated
# ASCII letters and digits, each numeric part at most 18 digits)
SERIAL_PATTERN = r"^(?:[0-9]{1,18}|[A-Za-z0-9]{1,18}(?:-[A-Za-z0-9]{1,18}){2,12})$"


@router.get("/health", responses={503: {"description": "writes cannot be committed now"}})
async def health(reg: RegistryDep) -> JSONResponse:
    """Report whether the API and its writer process answer.

    ``{"status": "ok", "writer": "ok"}``, or 503 with ``"writer": "unavailable"`` while the writer
    process does not answer (writes would get 503 ``writer_unavailable``).
    """
    writer = await reg.writer_state()
    ok = writer == "ok"
    return JSONResponse(status_code=200 if ok else 503,
                        content={"status": "ok" if ok else "degraded", "writer": writer})


@router.get("/projects")
def projects(reg: RegistryDep, limit: Limit = 100, offset: Offset = 0) -> list[Result]:
    """Projects, oldest first."""
    return reg.query("projects", limit=limit, offset=offset)


@router.get("/projects/{project_id}")
def project(project_id: IdPath, reg: RegistryDep) -> Result:
    """One project with its documents (by SHA-256) and monitoring reports."""
    return reg.query("project", project_id=project_id)


@router.get("/reports/{report_id}")
def report(report_id: IdPath, reg: RegistryDep) -> Result:
    """Return monitoring report ``report_id``."""
    return reg.query("report", report_id=report_id)


@router.get("/documents/{sha256}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def document(sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
             reg: RegistryDep) -> Response:
    """Return a project document or quantification file, by its SHA-256 (public)."""
    return Response(reg.query("document", sha256=sha256), media_type="application/octet-stream")


@router.get("/schemas/quantification-report.json")
def quantification_report_schema() -> Result:
    """Return the JSON Schema of the quantification report a monitoring report carries.

    ``hesuan.quantification-report/1``, as published in docs/schemas/.
    """
    from hesuan.quantification.report import json_schema

    return json_schema()


@router.get("/serials/{serial}/trace")
def trace(serial: Annotated[str, Path(min_length=1, max_length=80, pattern=SERIAL_PATTERN)],
          reg: RegistryDep) -> Result:
    """Trace a serial back to the plot data.

    Issuance, report, signed attestation, and every number of its quantification with the step,
    clause, dataset record and input file.
    """
    return reg.query("trace", serial=serial)


@router.get("/issuances")
def issuances(reg: RegistryDep, project_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
              limit: Limit = 100, offset: Offset = 0) -> list[Result]:
    """Issuances with serial ranges, deductions and Article 6 status."""
    return reg.query("issuances", project_id=project_id, limit=limit, offset=offset)


@router.get("/retirements")
def retirements(reg: RegistryDep, limit: Limit = 100, offset: Offset = 0) -> list[Result]:
    """Retirements with beneficiary, purpose, claim period and public statement."""
    return reg.query("retirements", limit=limit, offset=offset)


@router.get("/retirements/{retirement_id}")
def retirement(retirement_id: IdPath, reg: RegistryDep) -> Result:
    """Return retirement ``retirement_id`` with its blocks."""
    return reg.query("retirement", retirement_id=retirement_id)


@router.get("/serials/{serial}")
def serial(serial: Annotated[str, Path(min_length=1, max_length=80, pattern=SERIAL_PATTERN)],
           reg: RegistryDep,
           limit: Limit = 100, offset: Offset = 0) -> Result:
    """Return who holds or retired serial X, and its history of events.

    X is an integer or a hesuan block identifier.
    """
    return reg.query("serial_history", serial=serial, limit=limit, offset=offset)


@router.get("/accounts/{account_id}")
def account(account_id: IdPath, reg: RegistryDep, actor: CurrentActor, limit: Limit = 100,
            offset: Offset = 0) -> Result:
    """Return an account's balance and blocks (its owner or the administrator)."""
    return reg.query("account", actor=actor, account_id=account_id, limit=limit, offset=offset)


@router.get("/accounts")
def accounts(reg: RegistryDep, actor: CurrentActor, limit: Limit = 100,
             offset: Offset = 0) -> list[Result]:
    """Your accounts (the administrator: all accounts)."""
    return reg.query("accounts", actor=actor, limit=limit, offset=offset)
