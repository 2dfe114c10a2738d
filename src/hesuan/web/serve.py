"""The app that ``hesuan serve`` runs in each HTTP worker.

The registry's REST API with the web application mounted at ``/web``.
"""

from __future__ import annotations

from typing import cast

from fastapi import FastAPI


def app_from_env() -> FastAPI:
    """App factory for uvicorn's workers (``hesuan.web.serve:app_from_env``).

    The REST API built from the environment by :func:`hesuan.registry.api.server.app_from_env`, with
    the web application mounted on it (:func:`hesuan.web.mount`).
    """
    from hesuan.registry.api.server import app_from_env as api_from_env
    from hesuan.web import mount

    return mount(cast(FastAPI, api_from_env()))
