# ruff: noqa: E501  (rendered by Alembic autogenerate; long CHECK expressions on one line)
"""Initial registry schema: tables, constraints, append-only triggers, exclusion constraint.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    # SQLite has no exclusion constraint: existing blocks are disjoint, so only the block
    # with the greatest start ≤ NEW.serial_end can overlap the new range (one index probe).
    """CREATE TRIGGER blocks_disjoint_insert BEFORE INSERT ON blocks
       WHEN (SELECT serial_end FROM blocks WHERE serial_start <= NEW.serial_end
             ORDER BY serial_start DESC LIMIT 1) >= NEW.serial_start
       BEGIN SELECT RAISE(ABORT, 'blocks must not share serials'); END""",
    """CREATE TRIGGER blocks_disjoint_update BEFORE UPDATE OF serial_start, serial_end ON blocks
       WHEN (SELECT serial_end FROM blocks WHERE serial_start <= NEW.serial_end
             AND id != NEW.id ORDER BY serial_start DESC LIMIT 1) >= NEW.serial_start
       BEGIN SELECT RAISE(ABORT, 'blocks must not share serials'); END""",
    """CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TRIGGER blocks_terminal_update BEFORE UPDATE ON blocks
       WHEN OLD.status IN ('retired', 'cancelled')
       BEGIN SELECT RAISE(ABORT, 'retired or cancelled units never move'); END""",
    """CREATE TRIGGER blocks_terminal_delete BEFORE DELETE ON blocks
       WHEN OLD.status IN ('retired', 'cancelled')
       BEGIN SELECT RAISE(ABORT, 'retired or cancelled units never move'); END""",
]

_PG_STATEMENTS = [
    # No two blocks share a serial, whatever the application does. Serials are unique across
    # the registry, so the range alone is the key (no btree_gist column needed).
    """ALTER TABLE blocks ADD CONSTRAINT ex_blocks_serials_disjoint
       EXCLUDE USING gist (int8range(serial_start, serial_end, '[]') WITH &&)""",
    """CREATE FUNCTION hesuan_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$""",
    """CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION hesuan_refuse('events are append-only')""",
    """CREATE TRIGGER blocks_terminal BEFORE UPDATE OR DELETE ON blocks
       FOR EACH ROW WHEN (OLD.status IN ('retired', 'cancelled'))
       EXECUTE FUNCTION hesuan_refuse('retired or cancelled units never move')""",
]


def upgrade() -> None:
    """Create the registry's tables."""
    op.create_table('documents',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('serial_start', sa.BigInteger(), nullable=True),
    sa.Column('serial_end', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('seq >= 1', name='ck_event_seq_positive'),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_events_project', 'events', ['project_id'], unique=False)
    op.create_index('ix_events_serials', 'events', ['serial_start', 'serial_end'], unique=False)
    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint("role IN ('admin','host_authority','proponent','verifier','holder')", name='ck_party_role'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('registry_meta',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('registry_code', sa.String(length=8), nullable=False),
    sa.Column('head_seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('next_serial', sa.BigInteger(), nullable=False),
    sa.Column('share_of_proceeds_pct', sa.String(length=16), nullable=False),
    sa.Column('overall_mitigation_pct', sa.String(length=16), nullable=False),
    sa.Column('rounding', sa.String(length=16), nullable=False),
    sa.Column('retirement_account_id', sa.Integer(), nullable=False),
    sa.Column('cancellation_account_id', sa.Integer(), nullable=False),
    sa.Column('buffer_account_id', sa.Integer(), nullable=False),
    sa.Column('levy_account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint('head_seq >= 0 AND next_serial >= 1', name='ck_meta_counters'),
    sa.CheckConstraint('id = 1', name='ck_meta_single_row'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('requests',
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('payload_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint("status IN ('ok','failed')", name='ck_request_status'),
    sa.PrimaryKeyConstraint('party_id', 'idempotency_key', name='pk_requests')
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint("kind IN ('holding','issuance','retirement','cancellation','buffer','levy')", name='ck_account_kind'),
    sa.CheckConstraint('balance >= 0', name='ck_account_balance_non_negative'),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('proponent_id', sa.Integer(), nullable=False),
    sa.Column('methodology_id', sa.String(length=80), nullable=False),
    sa.Column('methodology_version', sa.String(length=40), nullable=False),
    sa.Column('host_country', sa.String(length=2), nullable=False),
    sa.Column('host_region', sa.String(length=120), nullable=False),
    sa.Column('sector', sa.String(length=80), nullable=False),
    sa.Column('crediting_start', sa.String(length=10), nullable=False),
    sa.Column('crediting_end', sa.String(length=10), nullable=False),
    sa.Column('buffer_pct', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('issuance_account_id', sa.Integer(), nullable=False),
    sa.Column('forward_account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint('crediting_start <= crediting_end', name='ck_project_crediting_period'),
    sa.ForeignKeyConstraint(['proponent_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('tokens',
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('token_sha256')
    )
    op.create_table('cancellations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('blocks_json', sa.Text(), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_cancellation_quantity_positive'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('project_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['documents.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('proponent_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.String(length=10), nullable=False),
    sa.Column('period_end', sa.String(length=10), nullable=False),
    sa.Column('reported_quantity', sa.BigInteger(), nullable=False),
    sa.Column('quantification_sha256', sa.String(length=64), nullable=False),
    sa.Column('factor_dataset', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('verifier_id', sa.Integer(), nullable=True),
    sa.Column('verified_quantity', sa.BigInteger(), nullable=True),
    sa.Column('issued_quantity', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint('issued_quantity >= 0 AND issued_quantity <= COALESCE(verified_quantity, 0)', name='ck_report_issued_le_verified'),
    sa.CheckConstraint('period_start <= period_end', name='ck_report_period'),
    sa.CheckConstraint('reported_quantity > 0', name='ck_report_quantity_positive'),
    sa.CheckConstraint('verified_quantity IS NULL OR (verified_quantity >= 0 AND verified_quantity <= reported_quantity)', name='ck_report_verified_le_reported'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['proponent_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['verifier_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('retirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('beneficiary', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('claim_start', sa.String(length=10), nullable=False),
    sa.Column('claim_end', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('blocks_json', sa.Text(), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_retirement_quantity_positive'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('issuances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('serial_start', sa.BigInteger(), nullable=False),
    sa.Column('serial_end', sa.BigInteger(), nullable=False),
    sa.Column('buffer_quantity', sa.BigInteger(), nullable=False),
    sa.Column('share_of_proceeds_quantity', sa.BigInteger(), nullable=False),
    sa.Column('overall_mitigation_quantity', sa.BigInteger(), nullable=False),
    sa.Column('forwarded_quantity', sa.BigInteger(), nullable=False),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.CheckConstraint('buffer_quantity + share_of_proceeds_quantity + overall_mitigation_quantity + forwarded_quantity = serial_end - serial_start + 1', name='ck_issuance_deductions_sum'),
    sa.CheckConstraint('serial_start >= 1 AND serial_end >= serial_start', name='ck_issuance_range'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('serial_start')
    )
    op.create_table('authorisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuance_id', sa.Integer(), nullable=False),
    sa.Column('authority_id', sa.Integer(), nullable=False),
    sa.Column('uses', sa.String(length=60), nullable=False),
    sa.Column('first_transfer', sa.String(length=30), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('authorised_on', sa.String(length=10), nullable=False),
    sa.Column('ca_declaration', sa.String(length=20), nullable=False),
    sa.Column('ca_status', sa.String(length=20), nullable=False),
    sa.Column('ca_reporting_year', sa.Integer(), nullable=True),
    sa.Column('event_seq', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['issuance_id'], ['issuances.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuance_id')
    )
    op.create_table('blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial_start', sa.BigInteger(), nullable=False),
    sa.Column('serial_end', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('issuance_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.CheckConstraint("status IN ('held','retired','cancelled')", name='ck_block_status'),
    sa.CheckConstraint('serial_start >= 1 AND serial_end >= serial_start', name='ck_block_range'),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['issuance_id'], ['issuances.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('serial_start')
    )
    op.create_index('ix_blocks_account', 'blocks', ['account_id', 'serial_start'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in _PG_STATEMENTS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Refuse: the registry's history is never dropped."""
    raise NotImplementedError("the registry's history is never dropped")
