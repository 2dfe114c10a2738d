"""Issuance, transfers, retirements, cancellations, buffer reversals, Article 6 records."""

from __future__ import annotations

from fastapi import APIRouter, status

from hesuan.registry.api.deps import CurrentActor, IdempotencyKey, RegistryDep
from hesuan.registry.api.schemas import (
    AuthorisationCreate,
    BufferReversalCreate,
    CancellationCreate,
    CorrespondingAdjustmentCreate,
    IssuanceCreate,
    Result,
    RetirementCreate,
    TransferCreate,
)
from hesuan.registry.service import requests as rq
from hesuan.registry.service.requests import from_body

router = APIRouter(tags=["units"])
CREATED = status.HTTP_201_CREATED


@router.post("/issuances", status_code=CREATED)
async def issue(body: IssuanceCreate, reg: RegistryDep, actor: CurrentActor,
                key: IdempotencyKey = None) -> Result:
    """Issue verified units with deductions (administrator)."""
    return await reg.write_async(actor, key, from_body(rq.Issue, body))


@router.post("/transfers", status_code=CREATED)
async def transfer(body: TransferCreate, reg: RegistryDep, actor: CurrentActor,
                   key: IdempotencyKey = None) -> Result:
    """Transfer units from one of your holding accounts to another holding account."""
    return await reg.write_async(actor, key, from_body(rq.Transfer, body))


@router.post("/retirements", status_code=CREATED)
async def retire(body: RetirementCreate, reg: RegistryDep, actor: CurrentActor,
                 key: IdempotencyKey = None) -> Result:
    """Retire units from one of your holding accounts, with a public statement."""
    return await reg.write_async(actor, key, from_body(rq.Retire, body))


@router.post("/cancellations", status_code=CREATED)
async def cancel(body: CancellationCreate, reg: RegistryDep, actor: CurrentActor,
                 key: IdempotencyKey = None) -> Result:
    """Cancel units administratively, e.g. to correct an error (administrator)."""
    return await reg.write_async(actor, key, from_body(rq.Cancel, body))


@router.post("/buffer-reversals", status_code=CREATED)
async def buffer_reversal(body: BufferReversalCreate, reg: RegistryDep, actor: CurrentActor,
                          key: IdempotencyKey = None) -> Result:
    """Cancel buffer units after a reversal at a project (administrator)."""
    return await reg.write_async(actor, key, from_body(rq.BufferReversal, body))


@router.post("/authorisations", status_code=CREATED)
async def authorise(body: AuthorisationCreate, reg: RegistryDep, actor: CurrentActor,
                    key: IdempotencyKey = None) -> Result:
    """Authorise an issuance's units for Article 6 uses (host-country authority)."""
    return await reg.write_async(actor, key, from_body(rq.Authorise, body))


@router.post("/corresponding-adjustments", status_code=CREATED)
async def corresponding_adjustment(body: CorrespondingAdjustmentCreate, reg: RegistryDep,
                                   actor: CurrentActor, key: IdempotencyKey = None) -> Result:
    """Record the status of a corresponding adjustment (host-country authority)."""
    return await reg.write_async(actor, key, from_body(rq.CorrespondingAdjustment, body))
