"""The statements of one write transaction: the interface a use case talks to.

A use case talks to the database through a :class:`TxSession`:

- :meth:`TxSession.fetch` — a statement whose rows are needed now (reads, locks);
- :meth:`TxSession.fetch_later` — a statement sent now whose rows are taken later;
- :meth:`TxSession.write` — a statement whose result is not needed (``INSERT``/``UPDATE``
  without ``RETURNING``);
- :meth:`TxSession.append` — rows to insert at the end of the transaction
  (:meth:`TxSession.insert_appended`), one statement per table whatever their number;
- :meth:`TxSession.execute` — anything else, through SQLAlchemy as usual.

This class runs each as a plain SQLAlchemy call. The write engine's group commits on
PostgreSQL use a pipelined session with the same interface
(:class:`hesuan.registry.engine.pipeline.PipelinedSession`), which sends writes without
waiting for the server; the use cases cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Row

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


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
