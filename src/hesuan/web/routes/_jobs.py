"""What the workbench routes share: the web state, and the visitor's own background jobs."""

from __future__ import annotations

from fastapi import HTTPException, Request

from hesuan.web.i18n import _
from hesuan.web.state import Job, WebState, sid_digest


def web_state(request: Request) -> WebState:
    """Return the web application's state (sessions and jobs) of the app serving ``request``."""
    state: WebState = request.app.state.web
    return state


def owned_job(request: Request, job_id: str, kind: str) -> Job:
    """Return the visitor's own job of ``kind`` (``"transport"``, ``"land"``).

    404 for any other id, kind or owner, so job ids reveal nothing.
    """
    job = web_state(request).job(job_id) if len(job_id) == 24 and job_id.isalnum() else None
    if job is None or job.kind != kind or job.owner != sid_digest(request.state.sid):
        raise HTTPException(404, _("There is no such job in this session."))
    return job
