"""Tokens a party issues and revokes itself.

Adds ``tokens.label`` (the owner's name for a token, written once) and
``tokens.revoked_seq`` (the sequence number of the ``token_revoked`` event that revoked it;
``NULL`` while not revoked one by one). A token row stays written once but for its expiry and
``revoked_seq``: the write-once trigger of ``tokens`` now refuses an UPDATE of
``token_sha256``, ``party_id``, ``created_at`` or ``label`` and every DELETE (same trigger
names, so the start-up check's list of protections is unchanged).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_REFUSE = "tokens rows are written once"
_FROZEN = "token_sha256, party_id, created_at, label"


def upgrade() -> None:
    """Add the label and revocation columns and freeze the label with the other columns."""
    op.add_column("tokens", sa.Column("label", sa.String(length=100), nullable=True))
    op.add_column("tokens", sa.Column("revoked_seq", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER tokens_write_once ON tokens")
        op.execute(f"CREATE TRIGGER tokens_write_once BEFORE UPDATE OF {_FROZEN} "
                   "OR DELETE ON tokens FOR EACH ROW "
                   f"EXECUTE FUNCTION hesuan_refuse('{_REFUSE}')")
    else:
        op.execute("DROP TRIGGER tokens_write_once_update")
        op.execute(f"CREATE TRIGGER tokens_write_once_update BEFORE UPDATE OF {_FROZEN} "
                   f"ON tokens BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")


def downgrade() -> None:
    """Refuse: the registry's history is never dropped."""
    raise NotImplementedError("the registry's history is never dropped")
