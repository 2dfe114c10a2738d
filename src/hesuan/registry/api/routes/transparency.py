"""The transparency log (public).

Public key, signed tree heads, inclusion and consistency proofs, retirement certificates. Files
these routes serve are checked offline by ``hesuan registry verify-proof``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from hesuan.registry.api.deps import IdPath
from hesuan.registry.transparency.documents import (
    ConsistencyProof,
    InclusionProof,
    PublicKey,
    RetirementCertificate,
    SignedTreeHead,
)
from hesuan.registry.transparency.log import TransparencyLog

router = APIRouter(prefix="/transparency", tags=["transparency"])

Size = Annotated[int, Query(ge=1, le=2**62, description="a tree size (number of events)")]


def _log(request: Request) -> TransparencyLog:
    log: TransparencyLog = request.app.state.transparency
    return log


@router.get("/public-key")
def public_key(request: Request) -> PublicKey:
    """Return the Ed25519 key that signs this log's tree heads (PEM) and its key id."""
    return _log(request).public_key()


@router.get("/tree-head")
async def tree_head(request: Request) -> SignedTreeHead:
    """Return the signed head of the tree of every event committed so far."""
    return await run_in_threadpool(_log(request).tree_head)


@router.get("/inclusion")
async def inclusion(request: Request,
                    seq: Annotated[int, Query(ge=1, le=2**62, description="event number")],
                    tree_size: Size | None = None) -> InclusionProof:
    """Return the audit path of event ``seq`` in the tree of ``tree_size`` events.

    Default: the current signed tree head's.
    """
    return await run_in_threadpool(_log(request).inclusion, seq, tree_size)


@router.get("/consistency")
async def consistency(request: Request, first: Size,
                      second: Size | None = None) -> ConsistencyProof:
    """Return the proof that the tree of ``first`` events is a prefix of the tree of ``second``.

    Default ``second``: the current signed tree head's.
    """
    return await run_in_threadpool(_log(request).consistency, first, second)


@router.get("/retirements/{retirement_id}/certificate")
async def retirement_certificate(retirement_id: IdPath,
                                 request: Request) -> RetirementCertificate:
    """Return a retirement's public statement, its event's inclusion proof and the signed tree head.

    The tree head is the one the proof leads to.
    """
    return await run_in_threadpool(_log(request).retirement_certificate, retirement_id)
