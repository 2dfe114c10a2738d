"""The registry's REST API (FastAPI).

``create_app(registry)`` builds the application; ``hesuan serve`` runs it with uvicorn.

``create_app`` is imported on first use, so that the request models (``schemas``) and the
request policy (``policy``) can be used without importing FastAPI (the CLI's local mode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hesuan.registry.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hesuan.registry.api.app import create_app

        return create_app
    raise AttributeError(name)
