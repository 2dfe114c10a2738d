"""The public registry explorer (no sign-in).

Overview with totals, projects, issuances, retirements and their certificates, serial search, the
audit chain and its verification.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.serials import parse_foreign_serial
from hesuan.registry.engine import Registry
from hesuan.web import queries
from hesuan.web.certificate import certificate_document, certificate_pdf
from hesuan.web.documents import render_html
from hesuan.web.i18n import _
from hesuan.web.render import fragment, page
from hesuan.web.trail import Trail, serial_trail

router = APIRouter()
PAGE = 50
Offset = Annotated[int, Query(ge=0, le=10**9)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _reg(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def _chart(title: str, unit: str, data: dict[Any, int], kind: str = "bar") -> dict[str, Any]:
    return {"title": title, "unit": unit, "kind": kind,
            "labels": [str(k) for k in data], "values": list(data.values())}


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    """Totals by vintage, methodology and status, and the chain head."""
    reg = _reg(request)
    totals = queries.totals(reg)
    head = queries.chain_head(reg)
    status = {_(k): v for k, v in sorted(totals.by_status.items())}
    charts = [
        ("by-vintage", _chart(_("Units issued by vintage"), _("units"),
                              totals.issued_by_vintage)),
        ("by-methodology", _chart(_("Units issued by methodology"), _("units"),
                                  totals.issued_by_methodology)),
        ("by-status", _chart(_("Units by status"), _("units"), status)),
    ]
    return page(request, "explorer/overview.html", title=_("Registry"), totals=totals,
                head=head, charts=charts)


@router.get("/projects", response_class=HTMLResponse)
def projects(request: Request, offset: Offset = 0) -> Response:
    """Show a page of projects."""
    rows = _reg(request).query("projects", limit=PAGE, offset=offset)
    return page(request, "explorer/projects.html", title=_("Projects"), rows=rows,
                offset=offset, limit=PAGE)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def project(request: Request, project_id: Id) -> Response:
    """Show a project with its issuances."""
    reg = _reg(request)
    p = reg.query("project", project_id=project_id)
    issued = reg.query("issuances", project_id=project_id, limit=100, offset=0)
    return page(request, "explorer/project.html", title=p["name"], p=p, issuances=issued)


ISSUANCES_PAGE = 25
"""Issuances per page: the registry's query formats each row's block identifier with two
look-ups, so a page of 25 costs about half of one of 50."""


@router.get("/issuances", response_class=HTMLResponse)
def issuances(request: Request, offset: Offset = 0) -> Response:
    """Show a page of issuances."""
    rows = _reg(request).query("issuances", limit=ISSUANCES_PAGE, offset=offset)
    return page(request, "explorer/issuances.html", title=_("Issuances"), rows=rows,
                offset=offset, limit=ISSUANCES_PAGE)


@router.get("/retirements", response_class=HTMLResponse)
def retirements(request: Request, offset: Offset = 0) -> Response:
    """Show a page of retirements."""
    rows = _reg(request).query("retirements", limit=PAGE, offset=offset)
    return page(request, "explorer/retirements.html", title=_("Retirements"), rows=rows,
                offset=offset, limit=PAGE)


def _public_url(request: Request, retirement_id: int) -> str:
    base = request.app.state.settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    return f"{base.rstrip('/')}/web/retirements/{retirement_id}"


@router.get("/retirements/{retirement_id}", response_class=HTMLResponse)
def retirement(request: Request, retirement_id: Id) -> Response:
    """Show a retirement with its certificate."""
    reg = _reg(request)
    r = reg.query("retirement", retirement_id=retirement_id)
    doc = certificate_document(r, _public_url(request, retirement_id), reg)
    return page(request, "explorer/retirement.html", title=doc.title, r=r,
                document=render_html(doc))


@router.get("/retirements/{retirement_id}/certificate.pdf")
async def certificate(request: Request, retirement_id: Id) -> Response:
    """Return the printable retirement certificate (PDF, with a QR code to its public page)."""
    reg = _reg(request)
    r = await run_in_threadpool(reg.query, "retirement", retirement_id=retirement_id)
    doc = await run_in_threadpool(certificate_document, r, _public_url(request, retirement_id),
                                  reg)
    pdf = await run_in_threadpool(certificate_pdf, doc)
    name = f"hesuan-retirement-{retirement_id}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/serials", response_class=HTMLResponse)
def serials(request: Request,
            q: Annotated[str, Query(max_length=120)] = "") -> Response:
    """Find the block that holds a serial (an integer or a hesuan block identifier).

    A foreign serial (Verra, Gold Standard, UNDP NCR) is parsed and explained.
    """
    text = q.strip()
    found: dict[str, Any] | None = None
    trail: Trail | None = None
    foreign: Any = None
    problem = ""
    if text:
        try:
            found = _reg(request).query("serial_history", serial=text, limit=100, offset=0)
            trail = serial_trail(_reg(request), text)
        except RegistryRejection as exc:
            if exc.code is Rejection.serial_must_be_well_formed or not text.isdigit():
                try:
                    foreign = parse_foreign_serial(text)
                except Exception:
                    foreign = None
            if foreign is None:
                problem = exc.message
        except ValueError as exc:
            problem = str(exc)
    return page(request, "explorer/serials.html", title=_("Serial search"), q=text,
                found=found, foreign=foreign, problem=problem, trail=trail)


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    """Show the chain head and the last 20 events of the journal."""
    reg = _reg(request)
    head = queries.chain_head(reg)
    recent: list[dict[str, Any]] = []
    if head is not None:
        recent = reg.query("events", after_seq=max(head.seq - 20, 0), limit=20)
    return page(request, "explorer/audit.html", title=_("Audit log"), head=head,
                events=list(reversed(recent)))


@router.post("/audit/verify", response_class=HTMLResponse)
async def verify(request: Request) -> HTMLResponse:
    """Recompute the chain, replay the log and check every invariant (htmx fragment).

    The public report, as the REST API's ``/audit/verify`` gives it: a difference in holdings,
    tokens or idempotency records is named by table and column, never by its values.
    """
    result = await run_in_threadpool(functools.partial(_reg(request).verify, public=True))
    return HTMLResponse(fragment("explorer/_verify.html", result=result))
