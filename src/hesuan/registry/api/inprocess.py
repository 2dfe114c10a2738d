"""A synchronous httpx transport that serves requests with the API application in this process.

No socket, no server thread: the CLI's local mode and the tests use it, so that local and remote use
pass through the same validation, authorisation and idempotency.
"""

from __future__ import annotations

from typing import Any

import httpx


class InProcessTransport(httpx.BaseTransport):
    """``httpx.Client(transport=InProcessTransport(app), base_url="http://registry.local")``."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve ``request`` with the API application in this process; return the whole response."""
        import anyio

        async def call() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers,
                                  content=body)

        return anyio.run(call)
