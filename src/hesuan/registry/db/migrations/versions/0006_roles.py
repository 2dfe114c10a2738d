"""Roles granted and revoked after a party's creation.

Adds ``party_roles.revoked_seq``: the sequence number of the ``role_revoked`` event that
took the role (``NULL`` while the party holds it). The rows stay written once but for that
column, as a token's expiry: the write-once trigger of ``party_roles`` now refuses an
UPDATE of ``party_id`` or ``role`` and every DELETE (same trigger names, so the start-up
check's list of protections is unchanged).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_REFUSE = "party_roles rows are written once"


def upgrade() -> None:
    """Add ``party_roles.revoked_seq`` and narrow the write-once trigger to allow setting it."""
    op.add_column("party_roles", sa.Column("revoked_seq", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER party_roles_write_once ON party_roles")
        op.execute("CREATE TRIGGER party_roles_write_once BEFORE UPDATE OF party_id, role "
                   "OR DELETE ON party_roles FOR EACH ROW "
                   f"EXECUTE FUNCTION hesuan_refuse('{_REFUSE}')")
    else:
        op.execute("DROP TRIGGER party_roles_write_once_update")
        op.execute("CREATE TRIGGER party_roles_write_once_update BEFORE UPDATE OF party_id, "
                   f"role ON party_roles BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")


def downgrade() -> None:
    """Refuse: the registry's history is never dropped."""
    raise NotImplementedError("the registry's history is never dropped")
