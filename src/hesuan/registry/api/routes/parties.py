"""Parties, accounts, projects, documents, monitoring reports."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Path, status

from hesuan.registry.api.deps import CurrentActor, IdempotencyKey, IdPath, RegistryDep
from hesuan.registry.api.schemas import (
    AccountCreate,
    DocumentCreate,
    IssuedToken,
    PartyCreate,
    ProjectCreate,
    ProjectTransition,
    ReportCreate,
    ReportVerification,
    Result,
    RevokedToken,
    RoleGrant,
    RoleName,
    TokenCreate,
    TokenView,
    VerifierAccreditation,
)
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.service import requests as rq
from hesuan.registry.service.requests import from_body

router = APIRouter(tags=["parties and projects"])
CREATED = status.HTTP_201_CREATED


@router.post("/parties", status_code=CREATED)
async def create_party(body: PartyCreate, reg: RegistryDep, actor: CurrentActor,
                       key: IdempotencyKey = None) -> Result:
    """Register a party (administrator only); the response shows its token once."""
    return await reg.write_async(actor, key, from_body(rq.CreateParty, body))


@router.get("/parties/me/tokens")
def own_tokens(reg: RegistryDep, actor: CurrentActor) -> list[TokenView]:
    """Your party's tokens: fingerprint, label, dates, whether revoked — never a secret."""
    return [TokenView(**row) for row in reg.query("tokens", party_id=actor.party_id)]


@router.post("/parties/me/tokens", status_code=CREATED)
async def issue_token(body: TokenCreate, reg: RegistryDep, actor: CurrentActor,
                      key: IdempotencyKey = None) -> IssuedToken:
    """Issue your party a new token; the answer shows the secret once (only its hash is kept).

    A retry with the same idempotency key gets the same answer without the secret (the
    stored reply never keeps it, as for ``POST /parties``).
    """
    return IssuedToken(**await reg.write_async(actor, key, from_body(rq.IssueToken, body)))


@router.delete("/parties/me/tokens/{fingerprint}")
async def revoke_token(fingerprint: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
                       reg: RegistryDep, actor: CurrentActor,
                       key: IdempotencyKey = None) -> RevokedToken:
    """Revoke one of your tokens by its fingerprint (the administrator: any party's token).

    The token that authenticates this request may be revoked: the answer arrives, the
    next request with it is refused.
    """
    return RevokedToken(**await reg.write_async(actor, key,
                                                rq.RevokeToken(fingerprint=fingerprint)))


@router.post("/parties/{party_id}/roles", status_code=CREATED)
async def grant_role(party_id: IdPath, body: RoleGrant, reg: RegistryDep, actor: CurrentActor,
                     key: IdempotencyKey = None) -> Result:
    """Give a party another role (administrator); journaled, replayed by verify."""
    return await reg.write_async(actor, key, from_body(rq.GrantRole, body, party_id=party_id))


@router.delete("/parties/{party_id}/roles/{role}")
async def revoke_role(party_id: IdPath, role: RoleName, reg: RegistryDep, actor: CurrentActor,
                      key: IdempotencyKey = None) -> Result:
    """Take a role from a party that holds others (administrator)."""
    return await reg.write_async(actor, key, rq.RevokeRole(party_id=party_id, role=role))


@router.post("/accounts", status_code=CREATED)
async def open_account(body: AccountCreate, reg: RegistryDep, actor: CurrentActor,
                       key: IdempotencyKey = None) -> Result:
    """Open a holding account for yourself (the administrator: for any party)."""
    return await reg.write_async(actor, key, from_body(rq.OpenAccount, body))


@router.post("/projects", status_code=CREATED)
async def create_project(body: ProjectCreate, reg: RegistryDep, actor: CurrentActor,
                         key: IdempotencyKey = None) -> Result:
    """List a project (proponent only)."""
    return await reg.write_async(actor, key, from_body(rq.CreateProject, body))


@router.post("/projects/{project_id}/transitions")
async def transition_project(project_id: IdPath, body: ProjectTransition, reg: RegistryDep,
                             actor: CurrentActor, key: IdempotencyKey = None) -> Result:
    """Validate (verifier), register/suspend (administrator) or withdraw a project."""
    return await reg.write_async(actor, key, from_body(rq.TransitionProject, body,
                                                       project_id=project_id))


@router.post("/projects/{project_id}/documents", status_code=CREATED)
async def add_document(project_id: IdPath, body: DocumentCreate, reg: RegistryDep,
                       actor: CurrentActor, key: IdempotencyKey = None) -> Result:
    """Attach a document, stored by its SHA-256."""
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise RegistryRejection(Rejection.text_must_not_be_empty,
                                "content_base64 is not valid base64") from None
    return await reg.write_async(actor, key, rq.AddDocument(
        project_id=project_id, name=body.name, kind=body.kind, content=content))


@router.post("/parties/{party_id}/accreditations", status_code=CREATED)
async def accredit_verifier(party_id: IdPath, body: VerifierAccreditation, reg: RegistryDep,
                            actor: CurrentActor, key: IdempotencyKey = None) -> Result:
    """Accredit a verifier for a sector with its Ed25519 public key (administrator)."""
    return await reg.write_async(actor, key, from_body(rq.AccreditVerifier, body,
                                                       party_id=party_id))


@router.post("/reports", status_code=CREATED)
async def submit_report(body: ReportCreate, reg: RegistryDep, actor: CurrentActor,
                        key: IdempotencyKey = None) -> Result:
    """Submit a monitoring report carrying a hesuan quantification (proponent)."""
    return await reg.write_async(actor, key, from_body(rq.SubmitReport, body))


@router.post("/reports/{report_id}/verification")
async def verify_report(report_id: IdPath, body: ReportVerification, reg: RegistryDep,
                        actor: CurrentActor, key: IdempotencyKey = None) -> Result:
    """Approve a verified quantity ≤ reported, or reject (verifier, never the proponent)."""
    return await reg.write_async(actor, key, from_body(rq.VerifyReport, body,
                                                       report_id=report_id))
