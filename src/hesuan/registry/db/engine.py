"""Engines for SQLite (default) and PostgreSQL, and programmatic Alembic migrations.

SQLite: one file, WAL journal, ``busy_timeout`` and ``BEGIN IMMEDIATE`` for every write
transaction (the write lock is taken at the start, so two writers never both read a balance
and then both write). Read-only work uses a plain ``BEGIN`` through :func:`read_engine`.
PostgreSQL: READ COMMITTED plus explicit ``SELECT … FOR UPDATE`` row locks in the service,
with retries on SQLSTATE 40001/40P01.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration's revision. A database already at it is opened without importing
#: Alembic (about 0.2 s of every CLI call); ``tests/registry/test_service.py`` checks that it
#: is Alembic's head, so a new migration cannot be forgotten here.
HEAD_REVISION = "0008"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` (psycopg 3 driver implied) and plain SQLite paths."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, pool_size: int = 40) -> Engine:
    """Return an engine configured for the registry (see module docstring)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                          "check_same_thread": False, "isolation_level": None},
            pool_size=pool_size, max_overflow=10,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            readonly = conn.get_execution_options().get("hesuan_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def read_engine(engine: Engine) -> Engine:
    """Return the same pool, for read-only transactions that see one snapshot.

    Plain ``BEGIN`` on SQLite (a WAL reader keeps the snapshot of its first read until it ends),
    ``REPEATABLE READ READ ONLY`` on PostgreSQL (every statement of the transaction sees the
    snapshot of its first; READ COMMITTED would give each statement its own).
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(hesuan_readonly=True, isolation_level="REPEATABLE READ",
                                        postgresql_readonly=True)
    return engine.execution_options(hesuan_readonly=True)


def at_head(engine: Engine) -> bool:
    """Return whether the database's schema is at :data:`HEAD_REVISION`.

    Read in a read-only transaction; a database without Alembic's table is not.
    """
    try:
        with read_engine(engine).connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except DBAPIError:
        return False
    return version == HEAD_REVISION


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision.

    Idempotent; a database already there costs one read and no Alembic import.
    """
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # one migrator at a time when several processes open the same database
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7064971)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
