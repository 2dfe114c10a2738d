"""Signing in with an API token, and a party's own account pages.

Holdings by block and vintage, transfer / retire / cancel forms (the registry's rules refuse; the
page says why in words), recent history. The same use cases, roles and rejections as the REST API
(:meth:`Registry.write_async`), with the REST API's request schemas.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from hesuan.registry.api.schemas import (
    CancellationCreate,
    Fingerprint,
    RetirementCreate,
    TokenCreate,
    TransferCreate,
)
from hesuan.registry.domain.codes import RegistryRejection, Rejection, http_status
from hesuan.registry.domain.model import Role
from hesuan.registry.engine import Actor, Registry
from hesuan.registry.service import requests as rq
from hesuan.registry.service.requests import from_body
from hesuan.web.i18n import _
from hesuan.web.render import page
from hesuan.web.security import SID_COOKIE, is_tls, session_cookie
from hesuan.web.state import WebState
from hesuan.web.words import sentence

router = APIRouter()

class TokenRevocation(BaseModel):
    """The form of :meth:`Registry.revoke_tokens`.

    The registry checks role, party and reason.
    """

    model_config = ConfigDict(extra="forbid")
    party_id: int
    reason: str


class OneTokenRevocation(BaseModel):
    """The form of :meth:`Registry.revoke_token`: one token by its fingerprint.

    The registry checks that it exists, is the party's and is not revoked.
    """

    model_config = ConfigDict(extra="forbid")
    fingerprint: Fingerprint


FORMS: dict[str, type[BaseModel]] = {"transfer": TransferCreate, "retire": RetirementCreate,
                                     "cancel": CancellationCreate,
                                     "revoke_tokens": TokenRevocation,
                                     "issue_token": TokenCreate,
                                     "revoke_token": OneTokenRevocation}
#: The use case each form's body is a request of.
REQUESTS: dict[str, type[rq.WriteRequest]] = {"transfer": rq.Transfer, "retire": rq.Retire,
                                              "cancel": rq.Cancel,
                                              "revoke_tokens": rq.RevokeTokens,
                                              "issue_token": rq.IssueToken,
                                              "revoke_token": rq.RevokeToken}
INT_FIELDS = {"from_account", "to_account", "quantity", "serial_start", "serial_end",
              "project_id", "vintage", "party_id", "ttl_days"}
HISTORY_EVENTS = 500


def _reg(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def _next(value: str) -> str:
    """Return a safe local redirect target (no scheme, no host)."""
    return value if value.startswith("/web/") and not value.startswith("//") else "/web/account"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str, Query(max_length=200)] = "/web/account"
               ) -> Response:
    """Show the sign-in form."""
    return page(request, "account/login.html", title=_("Sign in"), next=_next(next), error="")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, token: Annotated[str, Form(max_length=200)],
                next: Annotated[str, Form(max_length=200)] = "/web/account") -> Response:
    """Check the API token with the registry and open a session under a new id."""
    reg = _reg(request)
    try:
        actor = await run_in_threadpool(reg.authenticate, token.strip())
    except RegistryRejection as exc:
        return page(request, "account/login.html", status_code=401, title=_("Sign in"),
                    next=_next(next), error=sentence(exc.code) or exc.message)
    state: WebState = request.app.state.web
    await run_in_threadpool(state.sign_out, request.state.sid)
    sid = await run_in_threadpool(state.sign_in, token.strip(), actor.party_id,
                                  request.app.state.settings.session_hours)
    request.state.sid_rotated = True
    response = RedirectResponse(_next(next), status_code=303)
    response.headers.append("set-cookie", session_cookie(SID_COOKIE, sid,
                                                         secure=is_tls(request.scope)).decode())
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out: end the session and give the browser a new session id."""
    state: WebState = request.app.state.web
    await run_in_threadpool(state.sign_out, request.state.sid)
    request.state.sid_rotated = True
    response = RedirectResponse("/web/", status_code=303)
    response.headers.append("set-cookie", session_cookie(
        SID_COOKIE, secrets.token_urlsafe(32), secure=is_tls(request.scope)).decode())
    return response


def _signed_in(request: Request) -> Actor | None:
    actor: Actor | None = request.state.actor
    return actor


def _holdings(reg: Registry, actor: Actor) -> dict[str, Any]:
    """Return the party's accounts with their blocks, and units per project and vintage."""
    accounts = reg.query("accounts", actor=actor, limit=100, offset=0)
    views = []
    by_vintage: dict[tuple[int, int], int] = defaultdict(int)
    for a in accounts:
        if actor.role is Role.admin and a["kind"] != "holding" and a["balance"] == 0:
            continue
        view = reg.query("account", actor=actor, account_id=a["id"], limit=200, offset=0)
        views.append(view)
        for b in view["blocks"]:
            by_vintage[(b["project_id"], b["vintage"])] += b["serial_end"] - b["serial_start"] + 1
    return {"accounts": views, "by_vintage": sorted(by_vintage.items())}


def _history(reg: Registry, actor: Actor, account_ids: set[int]) -> list[dict[str, Any]]:
    """Events among the registry's newest ``HISTORY_EVENTS`` that name one of the accounts."""
    return list(reg.query("account_events", actor=actor, account_ids=sorted(account_ids),
                          window=HISTORY_EVENTS, limit=100))


def _account_page(request: Request, actor: Actor, *, status_code: int = 200,
                  notice: str = "", refusal: dict[str, str] | None = None,
                  values: dict[str, str] | None = None, form: str = "",
                  secret: str = "") -> Response:
    from hesuan.web.queries import own_tokens, token_fingerprint

    reg = _reg(request)
    holdings = _holdings(reg, actor)
    own = {a["id"] for a in holdings["accounts"]}
    state: WebState = request.app.state.web
    token = state.token_of(request.state.sid)
    return page(request, "account/home.html", status_code=status_code, title=_("Account"),
                holdings=holdings, history=_history(reg, actor, own), notice=notice,
                refusal=refusal, values=values or {}, form=form,
                key=str(uuid.uuid4()), is_admin=actor.role is Role.admin,
                tokens=own_tokens(reg, actor.party_id), party_id=actor.party_id,
                this_token=token_fingerprint(token) if token else "", secret=secret)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    """Show the signed-in party's account page (or send to the sign-in form)."""
    actor = _signed_in(request)
    if actor is None:
        return RedirectResponse("/web/login?next=/web/account", status_code=303)
    return _account_page(request, actor)


@router.post("/account/{operation}", response_class=HTMLResponse)
async def operate(request: Request, operation: str) -> Response:
    """Run a transfer, retirement or cancellation from the form, as the REST API would."""
    actor = _signed_in(request)
    if actor is None:
        return page(request, "error.html", status_code=401, title=_("Sign in"),
                    code=Rejection.token_must_be_valid.value,
                    words=_("Sign in to use your accounts."), detail="")
    if operation not in FORMS:
        return page(request, "error.html", status_code=404, title=_("Not found"),
                    code="404", words=_("There is no such operation."), detail="")
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    key = values.pop("key", "")[:128] or None
    values.pop("csrf", None)
    args: dict[str, Any] = {}
    problems: list[str] = []
    for name, text in values.items():
        text = text.strip()
        if name == "uses" or text == "":
            continue
        if name in INT_FIELDS:
            if not text.isdigit():
                problems.append(_("%(field)s must be a whole number") % {"field": _(name)})
                continue
            args[name] = int(text)
        else:
            args[name] = text
    if not problems:
        try:
            body = FORMS[operation].model_validate(args)
        except ValidationError as exc:
            problems += [f"{_(str(e['loc'][0])) if e['loc'] else ''}: {e['msg']}"
                         for e in exc.errors()]
    if problems:
        return await run_in_threadpool(
            _account_page, request, actor, status_code=422, values=values, form=operation,
            refusal={"code": "request_invalid", "words": _("Check these fields."),
                     "detail": "; ".join(problems)})
    reg = _reg(request)
    try:
        result = await reg.write_async(actor, key, from_body(REQUESTS[operation], body))
    except RegistryRejection as exc:
        return await run_in_threadpool(
            _account_page, request, actor, status_code=http_status(exc.code), values=values,
            form=operation, refusal={"code": exc.code.value, "words": sentence(exc.code),
                                     "detail": exc.message})
    notice = _notice(operation, result)
    secret = str(result.get("token") or "") if operation == "issue_token" else ""
    answer = await run_in_threadpool(_account_page, request, actor, notice=notice,
                                     secret=secret)
    if secret:  # the one answer that shows a token: never kept by a cache
        answer.headers["Cache-Control"] = "no-store"
    return answer


def _notice(operation: str, result: dict[str, Any]) -> str:
    blocks = ", ".join(str(b.get("serial", "")) for b in result.get("blocks", [])[:5])
    if operation == "transfer":
        return _("Transferred %(n)s units: %(blocks)s") % {"n": result.get("quantity", ""),
                                                          "blocks": blocks}
    if operation == "retire":
        return _("Retired %(n)s units as R%(id)s: %(blocks)s") % {
            "n": result.get("quantity", ""), "id": result.get("retirement_id", ""),
            "blocks": blocks}
    if operation == "issue_token":
        return _("A new token was issued; its fingerprint starts %(fp)s.") % {
            "fp": str(result.get("fingerprint", ""))[:12]}
    if operation == "revoke_token":
        return _("The token %(fp)s… was revoked at %(at)s.") % {
            "fp": str(result.get("fingerprint", ""))[:12], "at": result.get("revoked_at", "")}
    if operation == "revoke_tokens":
        return _("Every token of party %(party)s was revoked at %(at)s.") % {
            "party": result.get("party_id", ""), "at": result.get("revoked_at", "")}
    return _("Cancelled %(n)s units: %(blocks)s") % {"n": result.get("quantity", ""),
                                                    "blocks": blocks}
