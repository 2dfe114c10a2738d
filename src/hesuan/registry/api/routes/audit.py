"""The audit log and its verification (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hesuan.registry.api.deps import RegistryDep
from hesuan.registry.api.schemas import Result

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/events")
def events(reg: RegistryDep, after_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[Result]:
    """Events in chain order, with their hashes, after ``after_seq``."""
    return reg.query("events", after_seq=after_seq, limit=limit)


@router.get("/verify")
def verify(reg: RegistryDep) -> Result:
    """Recompute the hash chain, replay the log into balances, check every invariant."""
    return reg.verify(public=True)
