"""Pipelining: how a group commit's statements reach PostgreSQL.

A use case talks to the database through a
:class:`~hesuan.registry.service.session.TxSession` (its reads, writes and appended rows).
On SQLite (in-process, no network) they are plain SQLAlchemy calls. On PostgreSQL a
write group commit uses :class:`PipelinedSession`: psycopg's pipeline mode
(`libpq pipeline mode <https://www.postgresql.org/docs/current/libpq-pipeline-mode.html>`_)
queues writes without waiting for the server and sends them with the next read, so a
transfer's block split, balance updates, event and idempotency record cost no round trip of
their own. Statements still run on the server in the order they were issued, inside the same
transaction, so every read sees every earlier write. What changes is *when* a failing write
is reported: at the next read or at the end of the batch, possibly while another request of
the batch is running. Such a failure is raised as :class:`PipelineFailed`, and the caller
(:meth:`hesuan.registry.engine.core.GroupCommit._commit_batch`) rolls the whole batch back and
re-runs its requests one by one without the pipeline, where each failure is its own again.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table

from hesuan.registry.service.session import Params, TxSession

# psycopg SQL of each statement object and parameter-name set (PostgreSQL only), with the
# named-tuple type of its rows (None for a statement that returns none)
_COMPILED: dict[tuple[int, frozenset[str]], tuple[Any, str, dict[str, Any], Any]] = {}
_COMPILED_AT_MOST = 512
# PostgreSQL multi-row INSERT of a table's appended rows, per column set: (table, SQL, columns)
_UNNEST: dict[tuple[int, frozenset[str]], tuple[Table, str, tuple[str, ...]]] = {}


class PipelineFailed(Exception):
    """A pipelined statement failed on the server; the transaction is aborted.

    ``sqlstate`` is the server's error code (``40001``/``40P01`` mean: retry the batch).
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"a pipelined statement failed: {cause}")
        self.sqlstate: str | None = getattr(cause, "sqlstate", None)


class PipelinedSession(TxSession):
    """A :class:`TxSession` on PostgreSQL (psycopg 3) whose writes are pipelined.

    Statements are compiled once by SQLAlchemy for the connection's dialect and then run on
    the driver connection's cursor. Calls to :meth:`execute` (the SQLAlchemy path) first
    leave pipeline mode, so code that is not on the hot path keeps working unchanged.
    """

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._raw: Any = conn.connection.driver_connection
        assert self._raw is not None, "connection is closed"
        self._cursor = self._raw.cursor()  # plain tuples: rows are named by _compiled
        self._pipeline: Any = None

    # -- pipeline mode -------------------------------------------------------------------
    def _enter(self) -> None:
        if self._pipeline is None:
            self._pipeline = self._raw.pipeline()
            self._pipeline.__enter__()

    def flush(self) -> None:
        """Leave pipeline mode: wait for every queued statement, raise if one failed."""
        import psycopg

        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        try:
            pipeline.__exit__(None, None, None)
        except psycopg.Error as exc:
            raise PipelineFailed(exc) from exc

    def commit(self) -> None:
        """Send ``COMMIT`` behind the queued statements and wait once, for all of them.

        The batch's last writes and its commit share one round trip. A failure of any of them
        (the commit's included) is raised as :class:`PipelineFailed`.
        """
        import psycopg

        self._enter()
        try:
            self._raw.commit()  # (psycopg: COMMIT, then a pipeline sync)
        except psycopg.Error as exc:
            raise PipelineFailed(exc) from exc
        self.flush()

    def abandon(self) -> None:
        """Leave pipeline mode after a failure, ignoring what the server says."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            with contextlib.suppress(Exception):  # the transaction is rolled back next anyway
                pipeline.__exit__(None, None, None)

    # -- statements ----------------------------------------------------------------------
    def _sql(self, statement: Any, keys: frozenset[str]) -> tuple[str, dict[str, Any]]:
        """``statement`` compiled for psycopg (``%(name)s`` parameters) and its constants.

        Compiled once per statement object and set of parameter names (an ``INSERT`` names
        exactly the columns it is given, as SQLAlchemy's ``executemany`` does) for the life
        of the process: the hot path's statements are module constants.
        """
        sql, constants, _ = self._compiled(statement, keys)
        return sql, constants

    def _compiled(self, statement: Any, keys: frozenset[str]) -> tuple[str, dict[str, Any], Any]:
        """Return :meth:`_sql` and the named-tuple type of the statement's rows.

        The type is built once: cheaper than letting psycopg describe every result.
        """
        if isinstance(statement, str):
            return statement, {}, None
        key = (id(statement), keys)
        hit = _COMPILED.get(key)
        if hit is None or hit[0] is not statement:  # (the entry keeps its statement alive)
            compiled = statement.compile(dialect=self.dialect, column_keys=sorted(keys))
            constants = {k: v for k, v in compiled.params.items() if k not in keys}
            columns = getattr(statement, "selected_columns", None)
            row_type = None if columns is None else collections.namedtuple(
                "Row", [c.key for c in columns], rename=True)
            hit = (statement, str(compiled), constants, row_type)
            if len(_COMPILED) >= _COMPILED_AT_MOST:
                _COMPILED.clear()
            _COMPILED[key] = hit
        return hit[1], hit[2], hit[3]

    def execute(self, statement: Any, params: Params = None) -> Any:
        """Leave pipeline mode (:meth:`flush`), then run ``statement`` through SQLAlchemy."""
        self.flush()
        return super().execute(statement, params)

    def exec_driver_sql(self, sql: str) -> None:
        """Queue ``sql`` as it is in the pipeline, counted as a write."""
        self.write(sql)  # (counted there)

    def fetch(self, statement: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Return the rows of ``statement``, waiting for it (and every queued write) once."""
        import psycopg

        values = dict(params or {})
        sql, constants, row_type = self._compiled(statement, frozenset(values))
        self._enter()
        try:
            self._cursor.execute(sql, {**constants, **values})
            rows: list[Any] = self._cursor.fetchall()
        except psycopg.Error as exc:
            raise PipelineFailed(exc) from exc
        return rows if row_type is None else list(map(row_type._make, rows))

    def fetch_later(self, statement: Any, params: Mapping[str, Any] | None = None, *,
                    fresh_plan: bool = False) -> Callable[[], list[Any]]:
        """Queue ``statement`` on a cursor of its own; the returned call takes its rows.

        ``fresh_plan`` has the server plan it afresh rather than from a prepared statement.
        """
        import psycopg

        values = dict(params or {})
        sql, constants, row_type = self._compiled(statement, frozenset(values))
        self._enter()
        cursor = self._raw.cursor()  # its own result slot
        try:
            cursor.execute(sql, {**constants, **values}, prepare=False if fresh_plan else None)
        except psycopg.Error as exc:
            raise PipelineFailed(exc) from exc

        def rows() -> list[Any]:
            try:
                taken: list[Any] = cursor.fetchall()
            except psycopg.Error as exc:
                raise PipelineFailed(exc) from exc
            return taken if row_type is None else list(map(row_type._make, taken))

        return rows

    def insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` into ``table`` in one ``INSERT … SELECT * FROM unnest(array, …)``.

        One statement (prepared once by psycopg) whatever the number of rows, one result to
        process; the arrays are sent in binary (no escaping of text).
        """
        import psycopg

        columns = tuple(rows[0])
        key = (id(table), frozenset(columns))
        hit = _UNNEST.get(key)
        if hit is None or hit[0] is not table:
            quote = self.dialect.identifier_preparer
            arrays = ", ".join(f"%b::{table.c[c].type.compile(dialect=self.dialect)}[]"
                               for c in columns)
            sql = (f"INSERT INTO {quote.format_table(table)} "
                   f"({', '.join(quote.quote(c) for c in columns)}) "
                   f"SELECT * FROM unnest({arrays})")
            hit = _UNNEST[key] = (table, sql, columns)
        _, sql, order = hit
        self._enter()
        try:
            self._cursor.execute(sql, [[r[c] for r in rows] for c in order])
        except psycopg.Error as exc:
            raise PipelineFailed(exc) from exc

    def write(self, statement: Any, params: Params = None) -> None:
        """Queue ``statement`` in the pipeline (once per parameter set for a list); no result."""
        import psycopg

        self.writes += 1
        self._enter()
        try:
            if isinstance(params, Sequence) and not isinstance(params, Mapping):
                if not params:
                    return
                sql, constants = self._sql(statement, frozenset(params[0]))
                self._cursor.executemany(sql, [{**constants, **p} for p in params])
            else:
                values = dict(params or {})
                sql, constants = self._sql(statement, frozenset(values))
                self._cursor.execute(sql, {**constants, **values} if (constants or values)
                                     else None)
        except psycopg.Error as exc:
            raise PipelineFailed(exc) from exc


def session_for(conn: Connection, *, pipelined: bool) -> TxSession:
    """Return a pipelined session on PostgreSQL when asked for, else a plain one."""
    if pipelined and conn.dialect.name == "postgresql":
        return PipelinedSession(conn)
    return TxSession(conn)
