"""SQLAlchemy Core tables of the registry (the schema the Alembic migrations build).

State tables (``blocks``, ``accounts`` …) are a projection of the append-only ``events``
table; both are written in the same transaction. Constraints back the domain rules so that a
missed lock cannot create units: non-negative balances, ``serial_start ≤ serial_end``, unique
block starts, issued ≤ verified, and on PostgreSQL an exclusion constraint that no two blocks
share a serial (see ``migrations/versions/0001_initial.py``). Rows written once (parties,
their roles, tokens, idempotency records, documents) and events refuse UPDATE and DELETE
(triggers, ``0002_whole_state_journal.py``); ``verify`` checks the triggers are in place.

An event's ``payload`` is its public part, ``private`` its salted private part (holdings'
account ids, token hashes, idempotency keys, stored replies; see ``domain/events.py``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

registry_meta = Table(
    "registry_meta", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("registry_code", String(8), nullable=False),
    Column("head_seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("next_serial", BigInteger, nullable=False),
    Column("share_of_proceeds_pct", String(16), nullable=False),
    Column("overall_mitigation_pct", String(16), nullable=False),
    Column("rounding", String(16), nullable=False),
    Column("retirement_account_id", Integer, nullable=False),
    Column("cancellation_account_id", Integer, nullable=False),
    Column("buffer_account_id", Integer, nullable=False),
    Column("levy_account_id", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("itmo_registry_id", String(16), nullable=True),
    CheckConstraint("id = 1", name="ck_meta_single_row"),
    CheckConstraint("head_seq >= 0 AND next_serial >= 1", name="ck_meta_counters"),
)

parties = Table(
    "parties", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("country", String(2)),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("role IN ('admin','host_authority','proponent','verifier','holder')",
                    name="ck_party_role"),
)

party_roles = Table(
    "party_roles", metadata,
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("role", String(20), nullable=False),
    # the role_revoked event that took the role (NULL while held; migration 0006)
    Column("revoked_seq", BigInteger, nullable=True),
    PrimaryKeyConstraint("party_id", "role", name="pk_party_roles"),
    CheckConstraint("role IN ('admin','host_authority','proponent','verifier','holder')",
                    name="ck_party_roles_role"),
)
"""Every role a party holds or held (``parties.role`` is the one it was registered with);
granted and revoked by ``service.parties``: a role is held while ``revoked_seq`` is NULL."""

tokens = Table(
    "tokens", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("expires_at", String(40)),
    Column("created_at", String(40), nullable=False),
    # the owner's name for it and the token_revoked event that revoked it (migration 0007)
    Column("label", String(100), nullable=True),
    Column("revoked_seq", BigInteger, nullable=True),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("project_id", Integer),
    Column("name", String(200), nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("balance >= 0", name="ck_account_balance_non_negative"),
    CheckConstraint(
        "kind IN ('holding','issuance','retirement','cancellation','buffer','levy')",
        name="ck_account_kind"),
)

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("proponent_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("methodology_id", String(80), nullable=False),
    Column("methodology_version", String(40), nullable=False),
    Column("host_country", String(2), nullable=False),
    Column("host_region", String(120), nullable=False),
    Column("sector", String(80), nullable=False),
    Column("crediting_start", String(10), nullable=False),
    Column("crediting_end", String(10), nullable=False),
    Column("buffer_pct", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    Column("issuance_account_id", Integer, nullable=False),
    Column("forward_account_id", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    # the id other registries know the project by (migration 0005_foreign_issuances)
    Column("external_project_id", String(120)),
    CheckConstraint("crediting_start <= crediting_end", name="ck_project_crediting_period"),
)

documents = Table(
    "documents", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
)

project_documents = Table(
    "project_documents", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("sha256", String(64), ForeignKey("documents.sha256"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("created_at", String(40), nullable=False),
)

reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("proponent_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("period_start", String(10), nullable=False),
    Column("period_end", String(10), nullable=False),
    Column("reported_quantity", BigInteger, nullable=False),
    Column("quantification_sha256", String(64), nullable=False),
    Column("factor_dataset", String(120), nullable=False),
    Column("status", String(20), nullable=False),
    Column("verifier_id", Integer, ForeignKey("parties.id")),
    Column("verified_quantity", BigInteger),
    Column("issued_quantity", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
    # hesuan quantification reports: content hash (report_sha256) and the verifier's signed
    # attestation (its document's SHA-256); migration 0004_quantification
    Column("quantification_report_sha256", String(64)),
    Column("attestation_sha256", String(64)),
    Index("ux_reports_quantification_sha256", "quantification_sha256", unique=True),
    Index("ux_reports_quantification_report_sha256", "quantification_report_sha256",
          unique=True),
    CheckConstraint("reported_quantity > 0", name="ck_report_quantity_positive"),
    CheckConstraint("period_start <= period_end", name="ck_report_period"),
    CheckConstraint("verified_quantity IS NULL OR "
                    "(verified_quantity >= 0 AND verified_quantity <= reported_quantity)",
                    name="ck_report_verified_le_reported"),
    CheckConstraint("issued_quantity >= 0 AND issued_quantity <= COALESCE(verified_quantity, 0)",
                    name="ck_report_issued_le_verified"),
)

verifier_accreditations = Table(
    # a verifier's accreditation for a sector, with the Ed25519 public key its attestations
    # must verify under (migration 0004_quantification)
    "verifier_accreditations", metadata,
    Column("id", Integer, primary_key=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("sector", String(40), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("accredited_at", String(40), nullable=False),
    Index("ux_verifier_accreditations_party_sector", "party_id", "sector", unique=True),
)

issuances = Table(
    "issuances", metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("serial_start", BigInteger, nullable=False, unique=True),
    Column("serial_end", BigInteger, nullable=False),
    Column("buffer_quantity", BigInteger, nullable=False),
    Column("share_of_proceeds_quantity", BigInteger, nullable=False),
    Column("overall_mitigation_quantity", BigInteger, nullable=False),
    Column("forwarded_quantity", BigInteger, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("serial_start >= 1 AND serial_end >= serial_start",
                    name="ck_issuance_range"),
    CheckConstraint("buffer_quantity + share_of_proceeds_quantity + overall_mitigation_quantity"
                    " + forwarded_quantity = serial_end - serial_start + 1",
                    name="ck_issuance_deductions_sum"),
)

blocks = Table(
    "blocks", metadata,
    Column("id", Integer, primary_key=True),
    Column("serial_start", BigInteger, nullable=False, unique=True),
    Column("serial_end", BigInteger, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("issuance_id", Integer, ForeignKey("issuances.id"), nullable=False),
    Column("status", String(12), nullable=False),
    CheckConstraint("serial_start >= 1 AND serial_end >= serial_start", name="ck_block_range"),
    CheckConstraint("status IN ('held','retired','cancelled')", name="ck_block_status"),
    Index("ix_blocks_account", "account_id", "serial_start"),
)

retirements = Table(
    "retirements", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("beneficiary", String(200), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("claim_start", String(10), nullable=False),
    Column("claim_end", String(10), nullable=False),
    Column("note", Text, nullable=False),
    Column("statement", Text, nullable=False),
    Column("blocks_json", Text, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("quantity > 0", name="ck_retirement_quantity_positive"),
)

cancellations = Table(
    "cancellations", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("project_id", Integer),
    Column("quantity", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("blocks_json", Text, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("created_at", String(40), nullable=False),
    CheckConstraint("quantity > 0", name="ck_cancellation_quantity_positive"),
)

authorisations = Table(
    "authorisations", metadata,
    Column("id", Integer, primary_key=True),
    Column("issuance_id", Integer, ForeignKey("issuances.id"), nullable=False, unique=True),
    Column("authority_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("uses", String(60), nullable=False),
    Column("first_transfer", String(30), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("authorised_on", String(10), nullable=False),
    Column("ca_declaration", String(20), nullable=False),
    Column("ca_status", String(20), nullable=False),
    Column("ca_reporting_year", Integer),
    Column("event_seq", BigInteger, nullable=False),
)

foreign_itmos = Table(
    # blocks of ITMOs acquired from another Party's registry, as that registry names them
    # (migration 0008); held in a holder's account here, reported in the AEF
    "foreign_itmos", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("registry_id", String(16), nullable=False),
    Column("approach_id", String(6), nullable=False),
    Column("first_transferring_party", String(2), nullable=False),
    Column("first_id", BigInteger, nullable=False),
    Column("last_id", BigInteger, nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("authorization_id", String(200), nullable=False),
    Column("authorised_on", String(10), nullable=False),
    Column("purposes", String(20), nullable=False),
    Column("sector", String(10), nullable=False),
    Column("transferring_party", String(2), nullable=False),
    Column("acquired_on", String(10), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Index("ux_foreign_itmos_block", "registry_id", "approach_id", "first_transferring_party",
          "vintage", "first_id", unique=True),
)

foreign_issuances = Table(
    # blocks issued by other registries, from their public exports (migration 0005); the
    # double-issuance check refuses to issue for a project/vintage found here
    "foreign_issuances", metadata,
    Column("id", Integer, primary_key=True),
    Column("registry", String(80), nullable=False),
    Column("external_project_id", String(120), nullable=False),
    Column("vintage", Integer, nullable=False),
    Column("block_start", String(120), nullable=False),
    Column("block_end", String(120), nullable=False),
    Column("source", String(200), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Index("ux_foreign_issuances_block", "registry", "external_project_id", "vintage",
          "block_start", unique=True),
    Index("ix_foreign_issuances_project_vintage", "external_project_id", "vintage"),
)

events = Table(
    "events", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("at", String(40), nullable=False),
    Column("actor", Integer),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("project_id", Integer),
    Column("serial_start", BigInteger),
    Column("serial_end", BigInteger),
    Column("private", Text),
    CheckConstraint("seq >= 1", name="ck_event_seq_positive"),
    Index("ix_events_serials", "serial_start", "serial_end"),
    Index("ix_events_project", "project_id"),
)

requests = Table(
    "requests", metadata,
    Column("party_id", Integer, nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("operation", String(40), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("status", String(10), nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    PrimaryKeyConstraint("party_id", "idempotency_key", name="pk_requests"),
    CheckConstraint("status IN ('ok','failed')", name="ck_request_status"),
)



#: Tables whose rows are written once (UPDATE and DELETE refused by triggers, migration 0002;
#: but ``tokens.expires_at``, ``tokens.revoked_seq`` (migration 0007) and
#: ``party_roles.revoked_seq``, migration 0006).
WRITE_ONCE = ("parties", "party_roles", "tokens", "requests", "documents", "project_documents")


def protections(dialect: str) -> tuple[str, ...]:
    """Return the names of the triggers that guard the journal and the write-once tables.

    What the migrations create; ``verify`` and the start-up check require every one.
    """
    if dialect == "postgresql":
        return ("events_append_only", "blocks_terminal",
                *(f"{t}_write_once" for t in WRITE_ONCE))
    return ("blocks_disjoint_insert", "blocks_disjoint_update", "events_append_only_update",
            "events_append_only_delete", "blocks_terminal_update", "blocks_terminal_delete",
            *(f"{t}_write_once_{op}" for t in WRITE_ONCE for op in ("update", "delete")))
