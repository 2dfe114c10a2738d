"""The statements of one write transaction, and how they reach the database.

A use case talks to the database through a :class:`TxSession`:

- :meth:`TxSession.fetch` — a statement whose rows are needed now (reads, locks);
- :meth:`TxSession.write` — a statement whose result is not needed (``INSERT``/``UPDATE``
  without ``RETURNING``);
- :meth:`TxSession.append` — rows to insert at the end of the transaction
  (:meth:`TxSession.insert_appended`), one statement per table whatever their number;
- :meth:`TxSession.execute` — anything else, through SQLAlchemy as usual.

On SQLite (in-process, no network) all three are plain SQLAlchemy calls. On PostgreSQL a
write group commit uses :class:`PipelinedSession`: psycopg's pipeline mode
(`libpq pipeline mode <https://www.postgresql.org/docs/current/libpq-pipeline-mode.html>`_)
queues writes without waiting for the server and sends them with the next read, so a
transfer's block split, balance updates, event and idempotency record cost no round trip of
their own. Statements still run on the server in the order they were issued, inside the same
transaction, so every read sees every earlier write. What changes is *when* a failing write
is reported: at the next read or at the end of the batch, possibly while another request of
the batch is running. Such a failure is raised as :class:`PipelineFailed`, and the caller
(:meth:`hesuan.registry.service.core.Registry._commit_batch`) rolls the whole batch back and
re-runs its requests one by one without the pipeline, where each failure is its own again.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Row

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
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


class TxSession:
    """Statements of one write transaction on a SQLAlchemy :class:`Connection`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self._appended: dict[Table, list[dict[str, Any]]] = {}
        self.writes = 0
        """Statements sent so far that may have changed a row (a request that fails after
        writing cannot simply be dropped from its batch)."""

    def execute(self, statement: Any, params: Params = None) -> Any:
        """Run ``statement`` through SQLAlchemy and return its result."""
        if not getattr(statement, "is_select", False):
            self.writes += 1
        return self.conn.execute(statement, params)

    def exec_driver_sql(self, sql: str) -> None:
        """Run ``sql`` as it is, counted as a write."""
        self.writes += 1
        self.conn.exec_driver_sql(sql)

    def fetch(self, statement: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Return the rows of ``statement`` (attribute access by column name)."""
        rows: list[Row[Any]] = list(self.conn.execute(statement, params))
        return rows

    def fetch_later(self, statement: Any, params: Mapping[str, Any] | None = None, *,
                    fresh_plan: bool = False) -> Callable[[], list[Any]]:
        """Send ``statement`` now, take its rows later (call the result).

        Several reads sent this way before the first is taken share one round trip on PostgreSQL.

        ``fresh_plan``: on PostgreSQL, plan the statement at every run instead of letting
        the driver prepare it. A prepared statement keeps its plan until the table is next
        analysed, so a plan made while a table was nearly empty (a sequential scan) would
        go on being used as the table grows; a statement on a table that grows with every
        request, and whose plan depends on its size, asks for a fresh plan (the plan of a
        small lookup costs about 0.05 ms of the server's time).
        """
        rows = self.fetch(statement, params)
        return lambda: rows

    def write(self, statement: Any, params: Params = None) -> None:
        """Run ``statement`` (a list of parameter sets runs it once per set); no result."""
        self.writes += 1
        self.conn.execute(statement, params)

    def commit(self) -> None:
        """Commit the transaction once every statement issued so far has run.

        The caller's ``with conn.begin()`` block then has nothing left to commit.
        """
        self.conn.commit()

    def append(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue ``rows`` (each with the same columns) for :meth:`insert_appended`.

        For rows that nothing reads before the transaction ends (events, idempotency
        records): a group commit then inserts each table's rows with one statement.
        """
        self._appended.setdefault(table, []).extend(dict(r) for r in rows)

    def insert_appended(self) -> None:
        """Insert the rows queued by :meth:`append`, and forget them.

        Table by table, in the order first appended.
        """
        appended, self._appended = self._appended, {}
        for table, rows in appended.items():
            self.writes += 1
            self.insert_rows(table, rows)

    def insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (each with the same columns, at least one) into ``table``."""
        self.conn.execute(insert(table), rows)


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

        The batch's last writes and its commit share one round trip. A failure of any of them (the
        commit's included) is raised as :class:`PipelineFailed`.
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

        Built once: cheaper than letting psycopg describe every result.
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
        """Run ``statement`` after the queued writes."""
        self.flush()
        return super().execute(statement, params)

    def exec_driver_sql(self, sql: str) -> None:
        """Queue ``sql`` as a write of the pipeline."""
        self.write(sql)  # (counted there)

    def fetch(self, statement: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run ``statement`` in the pipeline and return its rows."""
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
        """Send ``statement`` now; return a function that waits for its rows and returns them.

        ``fresh_plan`` plans the statement for these parameters instead of reusing a prepared plan.
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
        """All ``rows`` in one ``INSERT … SELECT * FROM unnest(array, …)``.

        One statement (prepared once by psycopg) whatever the number of rows, one result to process;
        the arrays are sent in binary (no escaping of text).
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
        """Queue ``statement`` in the pipeline without waiting.

        A list of parameter sets runs the statement once for each.
        """
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
