"""The web application's own state.

Signed-in sessions and background jobs, in one SQLite database under the state folder (shared by the
HTTP workers). The registry's ledger is never stored here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)

metadata = MetaData()

sessions = Table(
    "sessions", metadata,
    Column("sid_sha256", String(64), primary_key=True),
    Column("token", Text, nullable=False),  # the party's API token, never sent back out
    Column("party_id", Integer, nullable=False),
    Column("expires_at", String(40), nullable=False),
)

jobs = Table(
    "jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),  # transport | land
    Column("owner", String(64), nullable=False),  # SHA-256 of the visitor's session id
    Column("status", String(12), nullable=False),  # queued | running | done | failed
    Column("done", Integer, nullable=False, default=0),
    Column("total", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("params", Text, nullable=False, default="{}"),
    Column("created_at", String(40), nullable=False),
    Column("finished_at", String(40)),
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sid_digest(sid: str) -> str:
    """[hex] SHA-256 of a session id: the database never holds a usable cookie value."""
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    """One background run and where its files are."""

    id: str
    kind: str
    owner: str
    status: str
    done: int
    total: int
    error: str | None
    params: dict[str, Any]
    created_at: str
    finished_at: str | None

    @property
    def fraction(self) -> float:
        """[0–1] share of the work done (0 while unknown)."""
        return self.done / self.total if self.total else 0.0


class WebState:
    """Sessions and jobs in ``<state_dir>/web.db``; job files in ``<state_dir>/jobs/<id>``."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir
        self.engine: Engine = create_engine(f"sqlite:///{state_dir / 'web.db'}",
                                            connect_args={"timeout": 30})

        @event.listens_for(self.engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        metadata.create_all(self.engine)

    # -- sessions ---------------------------------------------------------------------------
    def sign_in(self, token: str, party_id: int, hours: float) -> str:
        """Store a session for ``token``; return the new session id (the cookie's value)."""
        sid = secrets.token_urlsafe(32)
        expires = (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")
        with self.engine.begin() as c:
            c.execute(delete(sessions).where(sessions.c.expires_at < _now()))
            c.execute(insert(sessions).values(sid_sha256=sid_digest(sid), token=token,
                                              party_id=party_id, expires_at=expires))
        return sid

    def token_of(self, sid: str | None) -> str | None:
        """Return the API token of a live signed-in session, else ``None``."""
        if not sid:
            return None
        with self.engine.connect() as c:
            row = c.execute(select(sessions.c.token, sessions.c.expires_at)
                            .where(sessions.c.sid_sha256 == sid_digest(sid))).first()
        if row is None or row.expires_at < _now():
            return None
        return str(row.token)

    def sign_out(self, sid: str | None) -> None:
        """End session ``sid`` (nothing without one)."""
        if sid:
            with self.engine.begin() as c:
                c.execute(delete(sessions).where(sessions.c.sid_sha256 == sid_digest(sid)))

    # -- jobs -------------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        """Return the folder of job ``job_id``."""
        return self.dir / "jobs" / job_id

    def new_job(self, kind: str, owner: str, params: dict[str, Any]) -> Job:
        """Create a queued job of ``kind`` owned by ``owner``, with its folder."""
        job_id = secrets.token_hex(12)
        self.job_dir(job_id).mkdir(parents=True)
        with self.engine.begin() as c:
            c.execute(insert(jobs).values(id=job_id, kind=kind, owner=owner, status="queued",
                                          done=0, total=0, params=json.dumps(params),
                                          created_at=_now()))
        job = self.job(job_id)
        assert job is not None
        return job

    def job(self, job_id: str) -> Job | None:
        """Return job ``job_id``, ``None`` if there is none."""
        with self.engine.connect() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            return None
        m = dict(row._mapping)
        m["params"] = json.loads(m["params"])
        return Job(**m)

    def update_job(self, job_id: str, **values: Any) -> None:
        """Update job ``job_id`` (a finished status also stamps the finishing time)."""
        if values.get("status") in ("done", "failed", "checked"):
            values["finished_at"] = _now()
        with self.engine.begin() as c:
            c.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    def jobs_of(self, owner: str, kind: str, limit: int = 20) -> list[Job]:
        """Return the newest ``limit`` jobs of ``kind`` owned by ``owner``."""
        with self.engine.connect() as c:
            ids = c.execute(select(jobs.c.id).where(jobs.c.owner == owner, jobs.c.kind == kind)
                            .order_by(jobs.c.created_at.desc()).limit(limit)).scalars().all()
        return [j for j in (self.job(i) for i in ids) if j is not None]
