"""The web application's own state.

Signed-in sessions and background jobs, in one SQLite database under the state folder (shared by the
HTTP workers). The registry's ledger is never stored here.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
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
    # the lease of a queued or running job: the process that holds it and its last sign of
    # life; a job whose holder stopped is marked failed when next looked at
    Column("worker_host", String(255)),
    Column("worker_pid", Integer),
    Column("heartbeat_at", String(40)),
)

ACTIVE = ("queued", "checking", "running")
"""Statuses of a job that a worker holds (its lease must be kept alive)."""
LEASE_S = 30.0
"""[s] a job whose worker gave no sign of life for this long is taken as lost."""
WORKER_LOST = "worker_lost"
"""``jobs.error`` prefix of a job whose worker stopped: ``worker_lost|pid|host|last``."""
HOST = socket.gethostname()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stamp() -> str:
    """Return the time now to the millisecond (a lease's heartbeat)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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

    worker_host: str | None = None
    worker_pid: int | None = None
    heartbeat_at: str | None = None

    @property
    def fraction(self) -> float:
        """[0–1] share of the work done (0 while unknown)."""
        return self.done / self.total if self.total else 0.0

    @property
    def message(self) -> str | None:
        """The job's error in the page's language (a lost worker is explained)."""
        if self.error is None or not self.error.startswith(WORKER_LOST + "|"):
            return self.error
        from hesuan.web.i18n import _

        _code, pid, host, last = [*self.error.split("|", 3), "", "", ""][:4]
        return _("The worker that ran this job stopped before it finished (process "
                 "%(pid)s on %(host)s; last sign of life %(last)s). Nothing of it was kept: "
                 "start the run again.") % {"pid": pid, "host": host, "last": last}


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this host (signal 0 probes without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class WebState:
    """Sessions and jobs in ``<state_dir>/web.db``; job files in ``<state_dir>/jobs/<id>``."""

    def __init__(self, state_dir: Path, lease_s: float = LEASE_S) -> None:
        self.dir = state_dir
        self.lease_s = lease_s
        self.engine: Engine = create_engine(f"sqlite:///{state_dir / 'web.db'}",
                                            connect_args={"timeout": 30})

        @event.listens_for(self.engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        metadata.create_all(self.engine)
        with self.engine.begin() as c:  # a state folder written before jobs had leases
            have = {r[1] for r in c.exec_driver_sql("PRAGMA table_info(jobs)")}
            for name, kind in (("worker_host", "VARCHAR(255)"), ("worker_pid", "INTEGER"),
                               ("heartbeat_at", "VARCHAR(40)")):
                if name not in have:
                    c.exec_driver_sql(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

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
        """Return the job ``job_id``.

        A queued or running job whose worker is gone is first marked failed (:meth:`reap`),
        so the page says so instead of waiting forever.
        """
        with self.engine.connect() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            return None
        m = dict(row._mapping)
        m["params"] = json.loads(m["params"])
        job = Job(**m)
        if job.status in ACTIVE and self._lost(job):
            self.reap(job)
            return self.job(job_id)
        return job

    def _lost(self, job: Job) -> bool:
        """No sign of life within the lease, or its process is gone from this host."""
        last = datetime.fromisoformat(job.heartbeat_at or job.created_at)
        if (datetime.now(UTC) - last).total_seconds() > self.lease_s:
            return True
        return (job.worker_pid is not None and job.worker_host == HOST
                and not _alive(job.worker_pid))

    def reap(self, job: Job) -> None:
        """Mark a lost job failed — only if nobody touched it since it was read."""
        error = "|".join((WORKER_LOST, str(job.worker_pid or "?"), job.worker_host or "?",
                          job.heartbeat_at or job.created_at))
        with self.engine.begin() as c:
            c.execute(update(jobs).where(jobs.c.id == job.id, jobs.c.status == job.status,
                                         jobs.c.heartbeat_at.is_(job.heartbeat_at)
                                         if job.heartbeat_at is None else
                                         jobs.c.heartbeat_at == job.heartbeat_at)
                      .values(status="failed", error=error, finished_at=_now()))

    def hold(self, job_ids: list[str]) -> None:
        """Renew the lease of ``job_ids`` for this process (its pid and the time now)."""
        if job_ids:
            with self.engine.begin() as c:
                c.execute(update(jobs).where(jobs.c.id.in_(job_ids),
                                             jobs.c.status.in_(ACTIVE))
                          .values(worker_host=HOST, worker_pid=os.getpid(),
                                  heartbeat_at=_stamp()))

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
