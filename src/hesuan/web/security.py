"""Request security of the web pages.

The visitor's session cookie, CSRF tokens, the Content-Security-Policy and other response headers,
and the request-size limit.

* Every visitor gets a random session id in an ``HttpOnly``, ``SameSite=Lax`` cookie
  (``Secure`` when the request came over TLS); signing in stores the party's token on the
  server under a *new* id (no session fixation) and the cookie never holds a token.
* Every form carries a CSRF token, HMAC-SHA256 of the session id under the server's secret;
  every POST without the right one is refused (403) before its route runs.
* The CSP allows scripts, styles and images only from this server: the pages have no inline
  script or style (data for charts travels in ``<script type="application/json">``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from fastapi import Request
from starlette.datastructures import Headers

from hesuan.web import i18n

SID_COOKIE = "hesuan_sid"
LANG_COOKIE = "hesuan_lang"
COOKIE_PATH = "/"
_SID_FORM = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


class BodyTooLarge(Exception):
    """A request body above the upload limit."""


def csrf_token(secret: bytes, sid: str) -> str:
    """[hex] the CSRF token of session ``sid`` (HMAC-SHA256, RFC 2104)."""
    return hmac.new(secret, b"csrf:" + sid.encode(), hashlib.sha256).hexdigest()[:40]


def session_cookie(name: str, value: str, *, secure: bool, max_age: int | None = None) -> bytes:
    """Return a ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Secure over TLS, path-scoped."""
    parts = [f"{name}={value}", f"Path={COOKIE_PATH}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts).encode()


def is_tls(scope: Scope) -> bool:
    """Return whether the request came over TLS."""
    return scope.get("scheme") == "https"


class WebMiddleware:
    """ASGI middleware of the web sub-application (see the module docstring)."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized body; give the request its session id and locale, then pass it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _plain(send, 413, "request body too large")
            return
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header: treat as none
            cookies = SimpleCookie()
        sid = cookies[SID_COOKIE].value if SID_COOKIE in cookies else ""
        new_sid = not _SID_FORM.match(sid)
        if new_sid:
            sid = secrets.token_urlsafe(32)
        query = scope.get("query_string", b"").decode("latin-1")
        asked = re.search(r"(?:^|&)lang=(en|zh)(?:&|$)", query)
        stored = cookies[LANG_COOKIE].value if LANG_COOKIE in cookies else ""
        locale = (asked.group(1) if asked else
                  stored if stored in i18n.LOCALES else i18n.pick(headers.get("accept-language")))
        state = scope.setdefault("state", {})
        state["sid"] = sid
        state["locale"] = locale
        token = i18n.current.set(locale)
        seen = 0
        secure = is_tls(scope)

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                out = list(message.get("headers", []))
                names = {k.lower() for k, _ in out}
                out += [h for h in HEADERS if h[0] not in names]
                if new_sid and not state.get("sid_rotated"):
                    out.append((b"set-cookie", session_cookie(SID_COOKIE, sid, secure=secure)))
                if asked:
                    out.append((b"set-cookie", session_cookie(
                        LANG_COOKIE, locale, secure=secure, max_age=365 * 86400)))
                message["headers"] = out
            await send(message)

        try:
            await self.app(scope, limited, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _plain(send, 413, "request body too large")
        finally:
            i18n.current.reset(token)


async def _plain(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS]})
    await send({"type": "http.response.body", "body": text.encode()})


async def require_csrf(request: Request) -> None:
    """Router dependency: refuse a POST/PUT/PATCH/DELETE without the session's token.

    The token is the form field ``csrf`` or the header ``X-CSRF-Token``.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form(max_files=8, max_fields=200)
        value = form.get("csrf")
        sent = value if isinstance(value, str) else ""
    expected = csrf_token(request.app.state.settings.secret, request.state.sid)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused
