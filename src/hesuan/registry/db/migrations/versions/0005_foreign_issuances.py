"""Issuances recorded from other registries' public exports, and projects' external ids.

Adds ``projects.external_project_id`` (the id under which other registries know a project,
e.g. its CAD Trust ``originProjectId``; the double-issuance check matches on it) and
``foreign_issuances`` (one row per block another registry issued: registry, external
project id, vintage, block start/end; journaled by ``foreign_issuances_recorded`` events).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add projects' external ids and the table of other registries' issuances."""
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("external_project_id", sa.String(length=120), nullable=True))
    op.create_table(
        "foreign_issuances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registry", sa.String(length=80), nullable=False),
        sa.Column("external_project_id", sa.String(length=120), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("block_start", sa.String(length=120), nullable=False),
        sa.Column("block_end", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_foreign_issuances_block", "foreign_issuances",
                    ["registry", "external_project_id", "vintage", "block_start"], unique=True)
    op.create_index("ix_foreign_issuances_project_vintage", "foreign_issuances",
                    ["external_project_id", "vintage"])


def downgrade() -> None:
    """Drop the table of other registries' issuances and projects' external ids."""
    op.drop_index("ix_foreign_issuances_project_vintage", table_name="foreign_issuances")
    op.drop_index("ux_foreign_issuances_block", table_name="foreign_issuances")
    op.drop_table("foreign_issuances")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("external_project_id")
