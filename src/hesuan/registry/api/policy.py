r"""The API's one request-validation policy, applied before any route runs.

Every request passes :class:`RequestPolicy` (an ASGI middleware), which refuses with a 4xx
and a named code — never a 5xx, never an echo of the input or of a database error:

* a body larger than ``MAX_BODY_BYTES`` (``request_body_too_large``, 413), whether its
  ``Content-Length`` says so or it streams past the limit;
* a JSON body that is not strict JSON (``request_must_be_strict_json``, 400): invalid UTF-8,
  ``NaN`` / ``Infinity`` (not JSON: RFC 8259 §6), a lone surrogate escape such as
  ``"\ud800"`` (not a Unicode scalar value, so not text: RFC 8259 §8.2), a NUL character in
  any string or key (PostgreSQL text cannot hold it; SQLite would store it silently), or
  nesting deeper than ``MAX_DEPTH`` arrays/objects;
* a path or query string that is not valid UTF-8 text or contains NUL
  (``request_must_be_strict_json`` is not the rule there: ``request_url_must_be_text``, 400).

:func:`check_json_text` is the same check for JSON carried inside a text field (a monitoring
report's quantification file). Route-level rules (types, bounds, patterns such as a serial's
digits) are the request models' and path parameters' (``schemas.py``, ``deps.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

MAX_BODY_BYTES = 32 * 1024 * 1024  # a document upload (≤ 28 MB of base64) is the largest
MAX_DEPTH = 32  # nested arrays/objects in a JSON body or a JSON text field

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class PolicyViolation(ValueError):
    """A request that breaks the policy: HTTP ``status`` and a stable ``code``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _reject_constant(name: str) -> Any:
    raise PolicyViolation("request_must_be_strict_json",
                          f"{name} is not a JSON number (RFC 8259 §6)")


def _check_text(text: str, where: str) -> None:
    bad = _BAD_TEXT.search(text)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
        raise PolicyViolation("request_must_be_strict_json",
                              f"{where} contains {what} (not allowed in text)")


def check_value(value: Any, where: str = "body", max_depth: int = MAX_DEPTH) -> None:
    """Walk a parsed JSON value.

    Nesting ≤ ``max_depth``, strings and keys without NUL or lone surrogates (iterative: no
    recursion limit to hit).
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise PolicyViolation("request_must_be_strict_json",
                                      f"{where} nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, sub in item.items():
                    _check_text(key, where)
                    stack.append((sub, depth + 1))
            else:
                stack.extend((sub, depth + 1) for sub in item)


def check_json_text(text: str | bytes, where: str = "body",
                    max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON (see the module docstring) and return the value.

    Raises :class:`PolicyViolation` naming ``where`` otherwise.
    """
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except PolicyViolation as exc:
        raise PolicyViolation(exc.code, f"{where}: {exc.message}") from None
    except RecursionError:
        raise PolicyViolation("request_must_be_strict_json",
                              f"{where} nests deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise PolicyViolation("request_must_be_strict_json",
                              f"{where} is not UTF-8") from None
    except ValueError as exc:
        raise PolicyViolation("request_must_be_strict_json",
                              f"{where} is not JSON ({str(exc).split(':')[0]})") from None
    check_value(value, where, max_depth)
    return value


def _check_url(scope: Scope) -> None:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")
    for part, name in ((raw_path, "path"), (scope.get("query_string", b""), "query string")):
        decoded = unquote_to_bytes(part)
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyViolation("request_url_must_be_text",
                                  f"the {name} is not UTF-8 text") from None
        if "\x00" in text:
            raise PolicyViolation("request_url_must_be_text",
                                  f"the {name} contains a NUL character")


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class RequestPolicy:
    """ASGI middleware enforcing the policy of this module (``app.add_middleware``)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request that breaks the policy before the application sees it.

        Others are passed on.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
            for name, value in scope.get("headers", ()):
                if name == b"content-length" and value.isdigit() and \
                        int(value) > self.max_body_bytes:
                    raise self._too_large()
            if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
                await self.app(scope, receive, send)
                return
            body, more = bytearray(), True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body_bytes:
                    raise self._too_large()
            if body and _is_json(scope):
                check_json_text(bytes(body))
        except PolicyViolation as exc:
            await _refuse(send, exc)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> PolicyViolation:
        return PolicyViolation("request_body_too_large",
                               f"request bodies are limited to {self.max_body_bytes} bytes",
                               413)


async def _refuse(send: Send, exc: PolicyViolation) -> None:
    body = json.dumps({"code": exc.code, "message": exc.message}).encode()
    await send({"type": "http.response.start", "status": exc.status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
