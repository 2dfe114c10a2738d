"""Transparency log: the Merkle tree's perfect-subtree hashes and the signed tree heads.

Revision ID: 0003
Revises: 0001

Both tables hold derived, public data: ``merkle_nodes`` can be rebuilt from the events at
any time, and every row of ``tree_heads`` carries its own Ed25519 signature (the signing
key is never stored in the database).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables of the transparency log's subtree hashes and signed tree heads."""
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("idx", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_merkle_nodes"),
        sa.CheckConstraint("level >= 0 AND level < 64 AND idx >= 0",
                           name="ck_merkle_node_position"),
    )
    op.create_table(
        "tree_heads",
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.String(88), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "tree_size", name="pk_tree_heads"),
        sa.CheckConstraint("tree_size >= 0", name="ck_tree_head_size"),
    )


def downgrade() -> None:
    """Drop the transparency log's tables (the journal itself is kept)."""
    op.drop_table("tree_heads")
    op.drop_table("merkle_nodes")
