"""ITMOs acquired from another Party's registry.

Adds ``foreign_itmos``: one row per block of ITMOs that reached a holder's account here
from another Party's registry, as that registry names them (originating Party ITMO
registry, cooperative approach, first transferring Party, first and last serial, vintage),
with its authorisation's ID, date, purposes and sector, the transferring Party and the day
it arrived; journaled by ``foreign_itmos_acquired`` events. Adds
``registry_meta.itmo_registry_id``: this registry's Party ITMO registry ID, the registry
part of its ITMOs' unique identifiers (set once, journaled by ``itmo_registry_id_set``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the table of ITMOs acquired from another Party's registry and the ITMO registry ID."""
    op.add_column("registry_meta",
                  sa.Column("itmo_registry_id", sa.String(length=16), nullable=True))
    op.create_table(
        "foreign_itmos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("registry_id", sa.String(length=16), nullable=False),
        sa.Column("approach_id", sa.String(length=6), nullable=False),
        sa.Column("first_transferring_party", sa.String(length=2), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.String(length=200), nullable=False),
        sa.Column("authorised_on", sa.String(length=10), nullable=False),
        sa.Column("purposes", sa.String(length=20), nullable=False),
        sa.Column("sector", sa.String(length=10), nullable=False),
        sa.Column("transferring_party", sa.String(length=2), nullable=False),
        sa.Column("acquired_on", sa.String(length=10), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_foreign_itmos_block", "foreign_itmos",
                    ["registry_id", "approach_id", "first_transferring_party", "vintage",
                     "first_id"], unique=True)


def downgrade() -> None:
    """Drop the table of ITMOs acquired from another Party's registry."""
    op.drop_index("ux_foreign_itmos_block", table_name="foreign_itmos")
    op.drop_table("foreign_itmos")
    with op.batch_alter_table("registry_meta") as batch:
        batch.drop_column("itmo_registry_id")
