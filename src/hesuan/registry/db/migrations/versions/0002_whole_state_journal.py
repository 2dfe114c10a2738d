"""Whole-state journal: private event parts, several roles per party, append-only guards.

The guards are on every table written only once.

* ``events.private``: the salted private part of an event (account ids of holdings, token
  hashes, idempotency keys and stored replies); the hashed event body carries only its
  SHA-256, so the public feed can be re-hashed by anyone without showing holdings.
* ``party_roles``: every role a party holds (``parties.role`` stays its first role); filled
  from ``parties.role`` for existing parties.
* triggers refusing UPDATE and DELETE on ``parties``, ``party_roles``, ``tokens`` (but
  for a token's expiry, which a journaled revocation sets), ``requests``, ``documents`` and
  ``project_documents`` (rows written once), beside the ones of 0001 on ``events`` and on
  retired or cancelled blocks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: tables whose rows are written once and never changed (besides ``events``); a token's
#: expiry alone may change (``revoke_tokens``, journaled)
WRITE_ONCE = ("parties", "party_roles", "tokens", "requests", "documents",
              "project_documents")
_FROZEN_COLUMNS = {"tokens": "token_sha256, party_id, created_at"}


def _sqlite_triggers(table: str) -> list[str]:
    of = f" OF {_FROZEN_COLUMNS[table]}" if table in _FROZEN_COLUMNS else ""
    return [f"""CREATE TRIGGER {table}_write_once_update BEFORE UPDATE{of} ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} rows are written once'); END""",
            f"""CREATE TRIGGER {table}_write_once_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} rows are written once'); END"""]


def _pg_trigger(table: str) -> str:
    of = f" OF {_FROZEN_COLUMNS[table]}" if table in _FROZEN_COLUMNS else ""
    return (f"CREATE TRIGGER {table}_write_once BEFORE UPDATE{of} OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION hesuan_refuse('{table} rows are written once')")


def upgrade() -> None:
    """Add private event parts, party roles and the append-only guards."""
    op.add_column("events", sa.Column("private", sa.Text(), nullable=True))
    op.create_table(
        "party_roles",
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint("role IN ('admin','host_authority','proponent','verifier','holder')",
                           name="ck_party_roles_role"),
        sa.PrimaryKeyConstraint("party_id", "role", name="pk_party_roles"),
    )
    op.execute("INSERT INTO party_roles (party_id, role) SELECT id, role FROM parties")
    dialect = op.get_bind().dialect.name
    for table in WRITE_ONCE:
        if dialect == "postgresql":
            op.execute(_pg_trigger(table))
        else:
            for statement in _sqlite_triggers(table):
                op.execute(statement)


def downgrade() -> None:
    """Refuse: the registry's history is never dropped."""
    raise NotImplementedError("the registry's history is never dropped")
