"""FastAPI application: routers, error mapping, OpenAPI metadata."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from hesuan import __version__
from hesuan.registry.api.routes import audit, explorer, operations, parties
from hesuan.registry.api.schemas import Error
from hesuan.registry.domain.codes import RegistryRejection, http_status
from hesuan.registry.service import Registry
from hesuan.registry.service.writer import WriterUnavailable

ERROR_RESPONSES: dict[int | str, dict] = {
    code: {"model": Error} for code in (400, 401, 403, 404, 409)
}


def create_app(registry: Registry) -> FastAPI:
    """The registry's API over ``registry``; its /docs (Swagger UI) and /redoc pages load
    their scripts from the server itself (fastapi-offline's copies), never from a CDN."""
    app = FastAPIOffline(
        title="hesuan registry",
        version=__version__,
        description="Serialised carbon units from verified quantification to retirement. "
                    "Reads of the public explorer need no token; every change needs a bearer "
                    "token and an Idempotency-Key header.",
    )
    app.state.registry = registry

    @app.exception_handler(RegistryRejection)
    async def _rejection(_: Request, exc: RegistryRejection) -> JSONResponse:
        return JSONResponse(status_code=http_status(exc.code),
                            content={"code": exc.code.value, "message": exc.message})

    @app.exception_handler(WriterUnavailable)
    async def _no_writer(_: Request, exc: WriterUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503,
                            content={"code": "writer_unavailable", "message": str(exc)})

    for module in (parties, operations, explorer, audit):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    return app
