"""The web sub-application and the hook that mounts it into the registry's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from hesuan.errors import HesuanError, InputError
from hesuan.registry.domain.codes import RegistryRejection, http_status
from hesuan.registry.engine import Registry
from hesuan.registry.engine.writer import WriterUnavailable
from hesuan.web import i18n
from hesuan.web.i18n import _
from hesuan.web.jobs import JobRunner
from hesuan.web.render import page
from hesuan.web.security import CsrfRefused, WebMiddleware, require_csrf
from hesuan.web.settings import WebSettings
from hesuan.web.state import WebState
from hesuan.web.words import sentence

STATIC = Path(__file__).parent / "static"
PREFIX = "/web"


async def load_actor(request: Request) -> None:
    """Router dependency: the signed-in party (``request.state.actor``) or ``None``."""
    request.state.actor = None
    state: WebState = request.app.state.web
    token = await run_in_threadpool(state.token_of, request.state.sid)
    if token is None:
        return
    reg: Registry = request.app.state.registry
    try:
        actor = reg.authenticate_known(token)
        if actor is None:
            actor = await run_in_threadpool(reg.authenticate, token)
    except RegistryRejection:  # expired since sign-in: signed out
        await run_in_threadpool(state.sign_out, request.state.sid)
        return
    request.state.actor = actor


def create_web_app(registry: Registry, settings: WebSettings | None = None) -> FastAPI:
    """Return the web application over ``registry`` (its own FastAPI app, mounted at ``/web``)."""
    from hesuan.web.routes import account, explorer, land, learn, standards, transport

    settings = settings or WebSettings.from_env(
        registry_url=registry.engine.url.render_as_string(hide_password=True))
    web = FastAPI(title="hesuan web", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.registry = registry
    web.state.settings = settings
    web.state.web = WebState(settings.state_dir)
    web.state.jobs = JobRunner(web.state.web)
    web.add_middleware(WebMiddleware, max_body_bytes=settings.max_upload_bytes)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    deps = [Depends(require_csrf), Depends(load_actor)]
    for module in (explorer, account, transport, land, standards, learn):
        router: APIRouter = module.router
        web.include_router(router, dependencies=deps)

    @web.exception_handler(RegistryRejection)
    async def _rejection(request: Request, exc: RegistryRejection) -> Response:
        return page(request, "error.html", status_code=http_status(exc.code),
                    title=_("The registry refused"), code=exc.code.value,
                    words=sentence(exc.code), detail=exc.message)

    @web.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _exc: CsrfRefused) -> Response:
        request.state.actor = None
        return page(request, "error.html", status_code=403, title=_("Form expired"),
                    code="csrf_token_must_match",
                    words=_("This form is not from this session. Reload the page and send it "
                            "again."), detail="")

    @web.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> Response:
        return page(request, "error.html", status_code=422, title=_("The input has problems"),
                    code="input_error", words=exc.summary, problems=list(exc.problems),
                    detail="")

    @web.exception_handler(HesuanError)
    async def _hesuan(request: Request, exc: HesuanError) -> Response:
        return page(request, "error.html", status_code=422, title=_("The input has problems"),
                    code="error", words=str(exc), detail="")

    @web.exception_handler(WriterUnavailable)
    async def _writer(request: Request, exc: WriterUnavailable) -> Response:
        return page(request, "error.html", status_code=503, title=_("Try again shortly"),
                    code="writer_unavailable", words=str(exc), detail="")

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not hasattr(request.state, "actor"):
            request.state.actor = None
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "?"
                           for e in exc.errors())
        return page(request, "error.html", status_code=422, title=_("The input has problems"),
                    code="request_invalid", words=_("Check these fields: ") + fields,
                    detail="")

    @web.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not hasattr(request.state, "actor"):
            request.state.actor = None
        title = _("Not found") if exc.status_code == 404 else _("Request refused")
        return page(request, "error.html", status_code=exc.status_code, title=title,
                    code=str(exc.status_code), words=str(exc.detail), detail="")

    return web


def mount(app: FastAPI, settings: WebSettings | None = None) -> FastAPI:
    """Mount the web application at ``/web`` of the registry API ``app``; return ``app``.

    ``app`` holds the registry in ``app.state.registry``; ``/`` redirects to the web application.
    """
    web = create_web_app(app.state.registry, settings)
    app.mount(PREFIX, web)

    @app.get("/", include_in_schema=False)
    async def _home() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=307)

    app.state.web_app = web
    return app


__all__ = ["PREFIX", "create_web_app", "i18n", "mount"]
