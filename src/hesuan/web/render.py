"""Jinja2 environment and page rendering (autoescaped, gettext-translated)."""

from __future__ import annotations

import json
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from hesuan import __version__
from hesuan.web import i18n
from hesuan.web.security import csrf_token

env = jinja2.Environment(
    loader=jinja2.PackageLoader("hesuan.web", "templates"),
    autoescape=jinja2.select_autoescape(("html", "xml", "svg")),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True, lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
env.filters.update(num=i18n.number, int=i18n.integer, pct=i18n.percent, day=i18n.day,
                   moment=i18n.moment)


def json_data(value: Any) -> Markup:
    """``value`` as JSON safe inside ``<script type="application/json">`` (no ``</``)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


env.filters["json_data"] = json_data
env.globals.update(version=__version__, locales=i18n.LOCALES, locale_names=i18n.NAMES)


def page(request: Request, template: str, status_code: int = 200, **context: Any
         ) -> HTMLResponse:
    """Render ``template`` for ``request`` with the common context (user, CSRF token, locale)."""
    settings = request.app.state.settings
    html = env.get_template(template).render(
        request=request, locale=i18n.current.get(), user=getattr(request.state, "actor", None),
        csrf=csrf_token(settings.secret, request.state.sid), path=request.url.path,
        query=str(request.url.query), **context)
    return HTMLResponse(html, status_code=status_code)


def fragment(template: str, **context: Any) -> str:
    """Render ``template`` with ``context`` only (for reports and PDF documents)."""
    return env.get_template(template).render(locale=i18n.current.get(), **context)
