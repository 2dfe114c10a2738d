"""FastAPI application: routers, the request policy, error mapping, OpenAPI metadata.

Every error body is ``{"code", "message"}`` (422s add ``detail``: where and what, never the
input echoed back). A database or internal failure is answered with a fixed sentence: the
exception, its SQL and parameters go to the server's log, never to the client.
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DBAPIError

from hesuan import __version__
from hesuan.registry.api.policy import PolicyViolation, RequestPolicy
from hesuan.registry.api.routes import (
    audit,
    explorer,
    exports,
    operations,
    parties,
    transparency,
)
from hesuan.registry.api.schemas import Error
from hesuan.registry.domain.codes import RegistryRejection, http_status
from hesuan.registry.engine import Registry
from hesuan.registry.engine.writer import WriterUnavailable
from hesuan.registry.transparency.log import LogForked, LogRequestError, TransparencyLog

log = logging.getLogger("hesuan.registry.api")

ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"model": Error} for code in (400, 401, 403, 404, 409, 413)
}


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"code": code, "message": message,
                                                     **extra})


def create_app(registry: Registry, *, signing_key: Ed25519PrivateKey | None = None
               ) -> FastAPI:
    """Return the registry's API over ``registry``.

    ``signing_key`` signs the transparency log's tree heads (without it the ``/transparency`` routes
    answer 404). Its /docs (Swagger UI) and /redoc pages load their scripts from the server itself
    (fastapi-offline's copies), never from a CDN.
    """
    app = FastAPIOffline(
        title="hesuan registry",
        version=__version__,
        description="Serialised carbon units from verified quantification to retirement. "
                    "Reads of the public explorer need no token; every change needs a bearer "
                    "token and an Idempotency-Key header.",
    )
    app.state.registry = registry
    app.state.transparency = TransparencyLog(registry.engine, signing_key)
    app.add_middleware(RequestPolicy)

    @app.exception_handler(RegistryRejection)
    async def _rejection(_: Request, exc: RegistryRejection) -> JSONResponse:
        return _error(http_status(exc.code), exc.code.value, exc.message)

    @app.exception_handler(PolicyViolation)
    async def _policy(_: Request, exc: PolicyViolation) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""),
                   "type": e.get("type", "")} for e in exc.errors()[:20]]
        where = ".".join(str(p) for p in detail[0]["loc"]) if detail else "request"
        first = f"{where}: {detail[0]['msg']}" if detail else "invalid request"
        return _error(422, "request_must_match_schema", first, detail=detail)

    @app.exception_handler(WriterUnavailable)
    async def _no_writer(_: Request, exc: WriterUnavailable) -> JSONResponse:
        log.error("writer unavailable: %s", exc)
        return _error(503, "writer_unavailable",
                      "the registry cannot take writes now; retry with the same "
                      "Idempotency-Key (the outcome of a request already sent is unknown)")

    @app.exception_handler(LogRequestError)
    async def _log_request(_: Request, exc: LogRequestError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(LogForked)
    async def _forked(_: Request, exc: LogForked) -> JSONResponse:
        log.critical("transparency log refuses to sign: %s", exc)
        return _error(503, "journal_must_extend_signed_tree_head", str(exc))

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error", exc_info=exc)
        return _error(503, "database_unavailable",
                      "the registry's database could not complete the request")

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return _error(500, "internal_error", "the registry could not complete the request")

    for module in (parties, operations, explorer, audit, transparency, exports):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    return app
