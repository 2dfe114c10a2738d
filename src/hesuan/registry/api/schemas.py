"""Request and response schemas of the REST API (Pydantic), separate from the tables.

Every request model forbids unknown fields (``extra="forbid"`` → 422) and uses strict
integers, so ``"quantity": 1.5`` or ``"quantity": "10"`` is refused, never rounded.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from hesuan.registry.api.policy import PolicyViolation, check_json_text

Quantity = Annotated[StrictInt, Field(gt=0, le=10**15, description="whole units (1 = 1 t CO2e)")]
Serial = Annotated[StrictInt, Field(ge=1, le=2**62)]
Id = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Pct = Annotated[str, Field(pattern=r"^(100(\.0+)?|[0-9]{1,2}(\.[0-9]{1,6})?)$",
                           description="percentage 0–100 as a decimal string, e.g. '20'")]


def iso_3166_alpha_2(code: str) -> str:
    """Return ``code`` if ISO 3166-1 lists it as an alpha-2 country code, else raise ValueError.

    The list is pycountry's copy of the standard, from Debian's iso-codes.
    """
    import pycountry

    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. KE, CN, "
                         "DE)")
    return code


Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"),
                    AfterValidator(iso_3166_alpha_2)]


def _strict_json_text(text: str) -> str:
    """Check that a JSON file carried as text obeys the request policy too (``api/policy.py``)."""
    try:
        check_json_text(text, "quantification")
    except PolicyViolation as exc:
        raise ValueError(exc.message) from None
    return text


class Strict(BaseModel):
    """Base of every request body: unknown fields refused, text stripped of surrounding space."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Error(BaseModel):
    """Every refusal: the rule broken (a stable code) and a sentence saying why."""

    code: str
    message: str


RoleName = Literal["host_authority", "proponent", "verifier", "holder", "admin"]


class PartyCreate(Strict):
    """A new party: name, role (and up to four more), country, token lifetime [days]."""

    name: Text
    role: RoleName
    additional_roles: Annotated[list[RoleName], Field(max_length=4)] = []
    country: Country | None = None
    token_ttl_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = None


class RoleGrant(Strict):
    """Another role for a party, named by ``role``."""

    role: RoleName


class TokenCreate(Strict):
    """A new bearer token of your party: a label and a lifetime [days] (default the maximum).

    The lifetime's range (1–3650 days) is the registry's rule, refused by name
    (``token_lifetime_must_lie_in_1_3650_days``).
    """

    label: Annotated[str, Field(max_length=100)] | None = None
    ttl_days: Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)] | None = None


Fingerprint = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$",
                                   description="a token's SHA-256, 64 hexadecimal digits")]


class TokenView(BaseModel):
    """One of your tokens as the registry keeps it: never its secret."""

    fingerprint: Fingerprint
    label: str | None
    created_at: str
    expires_at: str | None
    revoked: bool
    revoked_seq: int | None


class IssuedToken(BaseModel):
    """A token just issued: the secret ``token`` appears in this answer only.

    A retry with the same idempotency key answers ``token`` ``None`` with a ``token_note``:
    the stored reply never keeps the secret.
    """

    party_id: int
    token: str | None
    token_note: str | None = None
    fingerprint: Fingerprint
    label: str | None
    created_at: str
    expires_at: str
    event_seq: int


class RevokedToken(BaseModel):
    """A token just revoked."""

    party_id: int
    fingerprint: Fingerprint
    revoked_at: str
    event_seq: int


class AccountCreate(Strict):
    """A new holding account, of the caller's party unless ``party_id`` is given."""

    party_id: Id | None = None
    name: Annotated[str, Field(max_length=200)] = ""


class ProjectCreate(Strict):
    """A new project: methodology, host country and region, sector, crediting period, buffer [%]."""

    name: Text
    methodology_id: Annotated[str, Field(min_length=1, max_length=80)]
    methodology_version: Annotated[str, Field(min_length=1, max_length=40)]
    host_country: Country
    host_region: Annotated[str, Field(min_length=1, max_length=120)]
    sector: Annotated[str, Field(min_length=1, max_length=80)]
    crediting_start: date
    crediting_end: date
    buffer_pct: Pct = "0"
    forward_account_id: Id | None = None
    #: the id other registries know the project by (double-issuance check across registries)
    external_project_id: Annotated[str, Field(min_length=1, max_length=120)] | None = None


class ProjectTransition(Strict):
    """A project's move to a new status, with the reason."""

    status: Literal["validated", "registered", "suspended", "withdrawn"]
    reason: Annotated[str, Field(max_length=2000)] = ""


class DocumentCreate(Strict):
    """A document attached to a project: name, kind and content (base64)."""

    name: Text
    kind: Annotated[str, Field(min_length=1, max_length=40)] = "document"
    content_base64: Annotated[str, Field(min_length=1, max_length=28_000_000)]


class ReportCreate(Strict):
    """A monitoring report: project, period, reported quantity [units], quantification report."""

    project_id: Id
    period_start: date
    period_end: date
    reported_quantity: Quantity
    # Hashed and signed as sent: never stripped (its SHA-256 must equal the file's).
    quantification: Annotated[str, StringConstraints(strip_whitespace=False),
                              Field(min_length=2, max_length=5_000_000,
                                    description="the hesuan quantification report, "
                                    "as the file's text (strict JSON, nesting ≤ 32)"),
                              AfterValidator(_strict_json_text)]
    factor_dataset: Annotated[str, Field(max_length=120)] | None = None


class ReportVerification(Strict):
    """A verifier's decision on a report.

    Verified quantity [units], approval, comment and the signed attestation.
    """

    verified_quantity: Annotated[StrictInt, Field(ge=0, le=10**15)]
    approve: StrictBool = True
    comment: Annotated[str, Field(max_length=2000)] = ""
    attestation: Annotated[str, StringConstraints(strip_whitespace=False),
                           Field(max_length=100_000,
                                      description="the verifier's signed attestation "
                                      "(hesuan.attestation/1 JSON), required for reports "
                                      "carrying a quantification report")] | None = None


class VerifierAccreditation(Strict):
    """A verifier's accreditation for a sector, with its Ed25519 public key."""

    sector: Annotated[str, Field(min_length=1, max_length=40)]
    public_key: Annotated[str, Field(min_length=64, max_length=64,
                                     description="Ed25519 public key, 64 hex digits")]


class IssuanceCreate(Strict):
    """An issuance of units for a verified report, optionally for one vintage."""

    report_id: Id
    quantity: Quantity
    vintage: Annotated[StrictInt, Field(ge=1900, le=2200)] | None = None


class _Selection(Strict):
    quantity: Quantity
    serial_start: Serial | None = None
    serial_end: Serial | None = None
    project_id: Id | None = None
    vintage: Annotated[StrictInt, Field(ge=1900, le=2200)] | None = None


class TransferCreate(_Selection):
    """A transfer of units between two accounts."""

    from_account: Id
    to_account: Id


class RetirementCreate(_Selection):
    """A retirement of units for a beneficiary, purpose and claim period."""

    from_account: Id
    beneficiary: Text
    purpose: Literal["voluntary", "ndc", "corsia", "oimp", "other"]
    claim_start: date
    claim_end: date
    note: Annotated[str, Field(max_length=2000)] = ""


class CancellationCreate(_Selection):
    """A cancellation of units, with the reason."""

    from_account: Id
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class BufferReversalCreate(Strict):
    """A cancellation of ``quantity`` units from the pooled buffer after a loss at a project."""

    project_id: Id
    quantity: Quantity
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class AuthorisationCreate(Strict):
    """An authorisation of an issuance for uses under Article 6, with its first transfer."""

    issuance_id: Id
    uses: Annotated[list[Literal["ndc", "corsia", "oimp"]], Field(min_length=1, max_length=3)]
    first_transfer: Literal["authorisation", "issuance", "use_or_cancellation"]
    reference: Text
    authorised_on: date


class CorrespondingAdjustmentCreate(Strict):
    """The status of a corresponding adjustment of an authorisation, for a reporting year."""

    authorisation_id: Id
    status: Literal["Pending", "Completed"]
    reporting_year: Annotated[StrictInt, Field(ge=2021, le=2200)]


Result = dict[str, Any]

