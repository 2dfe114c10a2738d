"""Dependencies of the routes, as typed aliases (the FastAPI template's ``deps.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hesuan.registry.engine import Actor, Registry
from hesuan.registry.engine.writer import bearer_token

_bearer = HTTPBearer(auto_error=False, description="a party's token: Authorization: Bearer …")


async def get_registry(request: Request) -> Registry:  # async: no thread hand-off
    """Return the registry the application serves (``app.state.registry``)."""
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]


async def get_actor(registry: RegistryDep,
                    cred: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                    ) -> Actor:
    """Return the authenticated party (401 for a missing, unknown or expired token).

    A token this process has seen is answered on the event loop (no thread hand-off, no
    I/O); an unseen one is looked up in the database on a worker thread.
    """
    token = None if cred is None else cred.credentials
    bearer_token.set(token)  # forwarded with a write, for the writer to authenticate
    actor = registry.authenticate_known(token)
    if actor is not None:
        return actor
    return await run_in_threadpool(registry.authenticate, token)


CurrentActor = Annotated[Actor, Depends(get_actor)]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128,
           description="client-chosen unique key; a retry with the same key has its effect "
                       "once"),
]

Limit = Annotated[int, Query(ge=1, le=500, description="page size (1–500)")]
Offset = Annotated[int, Query(ge=0, le=10**9)]
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
