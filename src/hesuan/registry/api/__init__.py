"""The registry's REST API (FastAPI).

``create_app(registry)`` builds the application; ``hesuan serve`` runs it with uvicorn.
"""

from hesuan.registry.api.app import create_app

__all__ = ["create_app"]
