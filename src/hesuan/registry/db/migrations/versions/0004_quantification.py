"""Quantification reports and verifiers' attestations.

Adds to ``reports`` the content hash of a hesuan quantification report and the SHA-256 of the
verifier's signed attestation; makes a quantification (file or report content) back at most
one monitoring report (unique indexes); adds ``verifier_accreditations`` (verifier, sector,
Ed25519 public key).

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the quantification and attestation hashes of reports, and verifier accreditations."""
    op.add_column("reports", sa.Column("quantification_report_sha256", sa.String(length=64),
                                       nullable=True))
    op.add_column("reports", sa.Column("attestation_sha256", sa.String(length=64),
                                       nullable=True))
    op.create_index("ux_reports_quantification_sha256", "reports", ["quantification_sha256"],
                    unique=True)
    op.create_index("ux_reports_quantification_report_sha256", "reports",
                    ["quantification_report_sha256"], unique=True)
    op.create_table(
        "verifier_accreditations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("accredited_at", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_verifier_accreditations_party_sector", "verifier_accreditations",
                    ["party_id", "sector"], unique=True)


def downgrade() -> None:
    """Drop verifier accreditations and the reports' quantification and attestation hashes."""
    op.drop_index("ux_verifier_accreditations_party_sector",
                  table_name="verifier_accreditations")
    op.drop_table("verifier_accreditations")
    op.drop_index("ux_reports_quantification_report_sha256", table_name="reports")
    op.drop_index("ux_reports_quantification_sha256", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("attestation_sha256")
        batch.drop_column("quantification_report_sha256")
