"""The write use cases as types: one frozen request type per use case.

A request names its use case by its type, not by a string: the API's routes build one from
their validated body (:func:`from_body`), the write engine (:mod:`hesuan.registry.engine`)
queues it, carries it to the writer process (:func:`to_wire` / :func:`from_wire`: tagged by
its type's :attr:`WriteRequest.operation`, decoded by :data:`REQUEST_TYPES`, and validated
again there) and runs it in a transaction with :meth:`WriteRequest.run`, which calls the
use case's function (:mod:`.parties`, :mod:`.units`, :mod:`.foreign`) with the request's
fields, each by name — the rules stay in those functions.

The fields a caller set are the request's payload (:meth:`WriteRequest.payload`): what its
idempotency record hashes, with ``operation`` (the name the ``requests`` table and the
journal store; unchanged from the use case's function name).
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from hesuan.registry.domain.foreign import ForeignItmos
from hesuan.registry.service import foreign, parties, units
from hesuan.registry.service.tx import Tx

R = TypeVar("R", bound="WriteRequest")
REQUEST_TYPES: dict[str, type[WriteRequest]] = {}
"""Every request type by its :attr:`~WriteRequest.operation` (the writer's decoder)."""


class WriteRequest(BaseModel):
    """A write use case's request: its fields, checked against their types when built."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    operation: ClassVar[str]
    """The use case's stored name (``requests.operation``, the journal's replies)."""
    forwarded: ClassVar[bool] = True
    """Whether the writer process takes it from an HTTP worker (not the bootstrap, which
    has no actor and runs only where the database is opened)."""
    confined: ClassVar[bool] = False
    """Whether its effect is confined to the accounts :meth:`accounts` names (and their
    blocks, and the chain): the write engine may then run it in a wave with others."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("operation")
        if name is not None:
            if name in REQUEST_TYPES:
                raise TypeError(f"two request types for the use case {name}")
            REQUEST_TYPES[name] = cls

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run the use case in ``tx``: all its checks, then its writes; its result."""
        raise NotImplementedError

    def accounts(self) -> frozenset[int] | None:
        """Return the accounts a :attr:`confined` request reads or writes.

        ``None`` if they cannot be told from its fields: it then runs alone.
        """
        return None

    def prefetch(self, tx: Tx) -> None:
        """Send the first reads of a :attr:`confined` request without waiting for them."""

    def fields(self) -> dict[str, Any]:
        """Return the fields the caller set (bytes as bytes)."""
        return self.model_dump(exclude_unset=True)

    def payload(self) -> dict[str, Any]:
        """Return the fields the caller set, as JSON values (bytes as hex).

        They are what the idempotency record hashes with :attr:`operation`.
        """
        return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in self.fields().items()}


def to_wire(request: WriteRequest) -> dict[str, Any]:
    """``request`` as a JSON object (bytes left for the frame's encoder)."""
    return {"type": request.operation, "fields": request.fields()}


def from_wire(message: Any) -> WriteRequest:
    """Return the request :func:`to_wire` gave.

    Anything else raises a ``TypeError`` or a pydantic ``ValidationError``.
    """
    if not (isinstance(message, dict) and set(message) == {"type", "fields"}
            and isinstance(message["fields"], dict)):
        raise TypeError("not a write request")
    cls = REQUEST_TYPES.get(message["type"]) if isinstance(message["type"], str) else None
    if cls is None or not cls.forwarded:
        raise TypeError("not a write use case the writer takes")
    return cls.model_validate(message["fields"])


def from_body(cls: type[R], body: BaseModel, **path: Any) -> R:
    """Return the request ``cls`` from a route's validated ``body`` and its path parameters.

    Dates in the body become ISO strings.
    """
    fields = {k: (v.isoformat() if isinstance(v, date) else v)
              for k, v in body.model_dump().items()}
    return cls.model_validate({**path, **fields})


# -- parties, tokens, accounts -------------------------------------------------------------
class Bootstrap(WriteRequest):
    """Initialise a registry: its administrator, system accounts and chain genesis.

    Run only where the database is opened, never forwarded from an HTTP worker.
    ``admin_name`` names the administrator; ``registry_code`` is the registry's code in
    its serials; ``share_of_proceeds_pct`` and ``overall_mitigation_pct`` are the
    shares of each issuance [%, decimal text in 0–100] taken to the levy and cancellation
    accounts; ``rounding`` is how those shares round to whole units (``up``, ``down`` or
    ``half_up``).
    """

    operation: ClassVar[str] = "bootstrap"
    forwarded: ClassVar[bool] = False
    admin_name: str = "Registry administrator"
    registry_code: str = "HSN"
    share_of_proceeds_pct: str = "0"
    overall_mitigation_pct: str = "0"
    rounding: str = "up"

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.bootstrap` with these fields."""
        return parties.bootstrap(
            tx, admin_name=self.admin_name, registry_code=self.registry_code,
            share_of_proceeds_pct=self.share_of_proceeds_pct,
            overall_mitigation_pct=self.overall_mitigation_pct, rounding=self.rounding)


class CreateParty(WriteRequest):
    """Register a party (administrator) and give it its first bearer token.

    ``role`` is its first role and ``additional_roles`` any others; ``country`` the
    country a host-country authority acts for; ``token_ttl_days`` the token's lifetime
    [days] (``None``: no expiry).
    """

    operation: ClassVar[str] = "create_party"
    name: str
    role: str
    country: str | None = None
    token_ttl_days: int | None = None
    additional_roles: list[str] | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.create_party` with these fields."""
        return parties.create_party(tx, name=self.name, role=self.role, country=self.country,
                                    token_ttl_days=self.token_ttl_days,
                                    additional_roles=self.additional_roles)


class GrantRole(WriteRequest):
    """Give party ``party_id`` the role ``role`` as well (administrator)."""

    operation: ClassVar[str] = "grant_role"
    party_id: int
    role: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.grant_role` with these fields."""
        return parties.grant_role(tx, party_id=self.party_id, role=self.role)


class RevokeRole(WriteRequest):
    """Take the role ``role`` from party ``party_id`` (administrator)."""

    operation: ClassVar[str] = "revoke_role"
    party_id: int
    role: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.revoke_role` with these fields."""
        return parties.revoke_role(tx, party_id=self.party_id, role=self.role)


class RevokeTokens(WriteRequest):
    """Revoke every bearer token of party ``party_id``, giving ``reason`` (administrator)."""

    operation: ClassVar[str] = "revoke_tokens"
    party_id: int
    reason: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.revoke_tokens` with these fields."""
        return parties.revoke_tokens(tx, party_id=self.party_id, reason=self.reason)


class IssueToken(WriteRequest):
    """Issue a bearer token to a party (:func:`.parties.issue_token`)."""

    operation: ClassVar[str] = "issue_token"
    party_id: int | None = None
    label: str | None = None
    ttl_days: int | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.issue_token` with this request's fields."""
        return parties.issue_token(tx, party_id=self.party_id, label=self.label,
                                   ttl_days=self.ttl_days)


class RevokeToken(WriteRequest):
    """Revoke one bearer token by its fingerprint (:func:`.parties.revoke_token`)."""

    operation: ClassVar[str] = "revoke_token"
    fingerprint: str
    party_id: int | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.revoke_token` with this request's fields."""
        return parties.revoke_token(tx, fingerprint=self.fingerprint, party_id=self.party_id)


class OpenAccount(WriteRequest):
    """Open a holding account named ``name``.

    For the caller's party, or (administrator) for party ``party_id``.
    """

    operation: ClassVar[str] = "open_account"
    party_id: int | None = None
    name: str = ""

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.open_account` with these fields."""
        return parties.open_account(tx, party_id=self.party_id, name=self.name)


# -- projects, documents, reports ----------------------------------------------------------
class CreateProject(WriteRequest):
    """List a proponent's project.

    ``methodology_id`` and ``methodology_version`` name its methodology in the standards
    library's catalogue; ``host_country``, ``host_region`` and ``sector`` where and what
    it is; ``crediting_start`` and ``crediting_end`` its crediting period (ISO dates);
    ``buffer_pct`` the share of each issuance held in the pooled buffer [%, decimal text
    in 0–100]; ``forward_account_id`` the proponent's account issued units are forwarded
    to; ``external_project_id`` the id other registries know the project by.
    """

    operation: ClassVar[str] = "create_project"
    name: str
    methodology_id: str
    methodology_version: str
    host_country: str
    host_region: str
    sector: str
    crediting_start: str
    crediting_end: str
    buffer_pct: str = "0"
    forward_account_id: int | None = None
    external_project_id: str | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.create_project` with these fields."""
        return parties.create_project(
            tx, name=self.name, methodology_id=self.methodology_id,
            methodology_version=self.methodology_version, host_country=self.host_country,
            host_region=self.host_region, sector=self.sector,
            crediting_start=self.crediting_start, crediting_end=self.crediting_end,
            buffer_pct=self.buffer_pct, forward_account_id=self.forward_account_id,
            external_project_id=self.external_project_id)


class TransitionProject(WriteRequest):
    """Move project ``project_id`` to lifecycle status ``status``, giving ``reason``."""

    operation: ClassVar[str] = "transition_project"
    project_id: int
    status: str
    reason: str = ""

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.transition_project` with these fields."""
        return parties.transition_project(tx, project_id=self.project_id, status=self.status,
                                          reason=self.reason)


class AddDocument(WriteRequest):
    """Attach a document to project ``project_id``.

    ``name`` is its file name, ``kind`` what it is (design document, validation report
    ...), ``content`` its bytes.
    """

    operation: ClassVar[str] = "add_document"
    project_id: int
    name: str
    kind: str
    content: bytes

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.add_document` with these fields."""
        return parties.add_document(tx, project_id=self.project_id, name=self.name,
                                    kind=self.kind, content=self.content)


class SubmitReport(WriteRequest):
    """Submit a proponent's monitoring report for project ``project_id``.

    ``period_start`` and ``period_end`` bound the monitoring period (ISO dates);
    ``reported_quantity`` is the claimed quantity [whole units (1 unit = 1 t CO2e)];
    ``quantification`` the hesuan quantification report it carries; ``factor_dataset``
    is no longer read.
    """

    operation: ClassVar[str] = "submit_report"
    project_id: int
    period_start: str
    period_end: str
    reported_quantity: int
    quantification: str
    factor_dataset: str | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.submit_report` with these fields."""
        return parties.submit_report(
            tx, project_id=self.project_id, period_start=self.period_start,
            period_end=self.period_end, reported_quantity=self.reported_quantity,
            quantification=self.quantification, factor_dataset=self.factor_dataset)


class VerifyReport(WriteRequest):
    """Approve (``approve``) or reject a monitoring report as its verifier.

    ``verified_quantity`` is the quantity verified [whole units (1 unit = 1 t CO2e)], at
    most the reported one; ``comment`` the verifier's remark; ``attestation`` its signed
    attestation of a report carrying a quantification report.
    """

    operation: ClassVar[str] = "verify_report"
    report_id: int
    verified_quantity: int
    approve: bool = True
    comment: str = ""
    attestation: str | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.verify_report` with these fields."""
        return parties.verify_report(
            tx, report_id=self.report_id, verified_quantity=self.verified_quantity,
            approve=self.approve, comment=self.comment, attestation=self.attestation)


class AccreditVerifier(WriteRequest):
    """Accredit verifier ``party_id`` for ``sector`` (administrator).

    ``public_key`` is the Ed25519 public key (64 hex digits) its attestations must be
    signed with.
    """

    operation: ClassVar[str] = "accredit_verifier"
    party_id: int
    sector: str
    public_key: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.parties.accredit_verifier` with these fields."""
        return parties.accredit_verifier(tx, party_id=self.party_id, sector=self.sector,
                                         public_key=self.public_key)


# -- units ---------------------------------------------------------------------------------
class Issue(WriteRequest):
    """Issue ``quantity`` verified units for report ``report_id`` (administrator).

    ``quantity`` in whole units (1 unit = 1 t CO2e); ``vintage`` the calendar year the
    units are of, inside the monitoring period.
    """

    operation: ClassVar[str] = "issue"
    report_id: int
    quantity: int
    vintage: int | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.issue` with these fields."""
        return units.issue(tx, report_id=self.report_id, quantity=self.quantity,
                           vintage=self.vintage)


class Transfer(WriteRequest):
    """Move ``quantity`` units from account ``from_account`` to ``to_account``.

    ``quantity`` in whole units (1 unit = 1 t CO2e). ``serial_start``–``serial_end``
    name a serial range inside one block of the sender; ``project_id`` and ``vintage``
    (calendar year) restrict which units are taken.
    """

    operation: ClassVar[str] = "transfer"
    confined: ClassVar[bool] = True
    from_account: int
    to_account: int
    quantity: int
    serial_start: int | None = None
    serial_end: int | None = None
    project_id: int | None = None
    vintage: int | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.transfer` with these fields."""
        return units.transfer(tx, from_account=self.from_account, to_account=self.to_account,
                              quantity=self.quantity, serial_start=self.serial_start,
                              serial_end=self.serial_end, project_id=self.project_id,
                              vintage=self.vintage)

    def accounts(self) -> frozenset[int] | None:
        """Return the accounts :func:`.units.transfer_accounts` finds in these fields."""
        return units.transfer_accounts({
            "from_account": self.from_account, "to_account": self.to_account,
            "quantity": self.quantity, "serial_start": self.serial_start,
            "serial_end": self.serial_end, "project_id": self.project_id,
            "vintage": self.vintage})

    def prefetch(self, tx: Tx) -> None:
        """Send the reads of :func:`.units.prefetch_transfer` for this transfer."""
        units.prefetch_transfer(tx, from_account=self.from_account, to_account=self.to_account,
                                quantity=self.quantity, serial_start=self.serial_start,
                                serial_end=self.serial_end, project_id=self.project_id,
                                vintage=self.vintage)


class Retire(WriteRequest):
    """Retire ``quantity`` units from account ``from_account`` for a claim.

    ``quantity`` in whole units (1 unit = 1 t CO2e); ``beneficiary`` is who the claim is
    made for, ``purpose`` the retirement purpose (``voluntary``, ``ndc``, ``corsia``,
    ``oimp`` or ``other``), ``claim_start``–``claim_end`` the claim period (ISO dates),
    ``note`` the public statement. Serial range, project and vintage select units as for
    :class:`Transfer`.
    """

    operation: ClassVar[str] = "retire"
    from_account: int
    quantity: int
    beneficiary: str
    purpose: str
    claim_start: str
    claim_end: str
    note: str = ""
    serial_start: int | None = None
    serial_end: int | None = None
    project_id: int | None = None
    vintage: int | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.retire` with these fields."""
        return units.retire(tx, from_account=self.from_account, quantity=self.quantity,
                            beneficiary=self.beneficiary, purpose=self.purpose,
                            claim_start=self.claim_start, claim_end=self.claim_end,
                            note=self.note, serial_start=self.serial_start,
                            serial_end=self.serial_end, project_id=self.project_id,
                            vintage=self.vintage)


class Cancel(WriteRequest):
    """Cancel ``quantity`` units from account ``from_account`` (administrator).

    ``quantity`` in whole units (1 unit = 1 t CO2e), ``reason`` why. Serial range,
    project and vintage select units as for :class:`Transfer`; ``kind`` is the kind of
    cancellation and ``loss_project_id`` the project whose loss a buffer reversal covers.
    """

    operation: ClassVar[str] = "cancel"
    from_account: int
    quantity: int
    reason: str
    serial_start: int | None = None
    serial_end: int | None = None
    project_id: int | None = None
    vintage: int | None = None
    kind: str = "administrative"
    loss_project_id: int | None = None

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.cancel` with these fields."""
        return units.cancel(tx, from_account=self.from_account, quantity=self.quantity,
                            reason=self.reason, serial_start=self.serial_start,
                            serial_end=self.serial_end, project_id=self.project_id,
                            vintage=self.vintage, kind=self.kind,
                            loss_project_id=self.loss_project_id)


class BufferReversal(WriteRequest):
    """Cancel ``quantity`` units from the pooled buffer after a loss at a project.

    ``project_id`` is the project that lost them; ``quantity`` in whole units (1 unit =
    1 t CO2e); ``reason`` is the loss (fire, harvest ...).
    """

    operation: ClassVar[str] = "buffer_reversal"
    project_id: int
    quantity: int
    reason: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.buffer_reversal` with these fields."""
        return units.buffer_reversal(tx, project_id=self.project_id, quantity=self.quantity,
                                     reason=self.reason)


# -- Article 6, other registries -----------------------------------------------------------
class Authorise(WriteRequest):
    """Authorise issuance ``issuance_id``'s units for Article 6 uses (host-country authority).

    ``uses`` are the authorised uses (``ndc``, ``corsia``, ``oimp``), ``first_transfer``
    when an OIMP use is first transferred (``authorisation``, ``issuance`` or
    ``use_or_cancellation``), ``reference`` the authorisation's reference and
    ``authorised_on`` its date (ISO).
    """

    operation: ClassVar[str] = "authorise"
    issuance_id: int
    uses: list[str]
    first_transfer: str
    reference: str
    authorised_on: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.authorise` with these fields."""
        return units.authorise(tx, issuance_id=self.issuance_id, uses=self.uses,
                               first_transfer=self.first_transfer, reference=self.reference,
                               authorised_on=self.authorised_on)


class CorrespondingAdjustment(WriteRequest):
    """Record a corresponding adjustment's ``status`` for authorisation ``authorisation_id``.

    Made by the host-country authority; ``reporting_year`` is the year it is reported for.
    """

    operation: ClassVar[str] = "corresponding_adjustment"
    authorisation_id: int
    status: str
    reporting_year: int

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.units.corresponding_adjustment` with these fields."""
        return units.corresponding_adjustment(
            tx, authorisation_id=self.authorisation_id, status=self.status,
            reporting_year=self.reporting_year)


class RecordForeignIssuances(WriteRequest):
    """Record blocks another registry issued (administrator).

    ``source`` names the export they come from; ``records`` are its rows (registry,
    external project id, vintage, first and last serial).
    """

    operation: ClassVar[str] = "record_foreign_issuances"
    source: str
    records: list[dict[str, Any]]

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.foreign.record_foreign_issuances` with these fields."""
        return foreign.record_foreign_issuances(tx, source=self.source, records=self.records)


class ForeignItmosBlock(BaseModel):
    """A block of ITMOs as another Party's registry names it, typed on the wire.

    The fields of :class:`~hesuan.registry.domain.foreign.ForeignItmos`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    registry_id: str
    approach_id: str
    first_transferring_party: str
    first_id: int
    last_id: int
    vintage: int
    authorization_id: str
    authorised_on: str
    purposes: str
    sector: str
    transferring_party: str
    acquired_on: str

    def domain(self) -> ForeignItmos:
        """Return the block as the domain's :class:`ForeignItmos`."""
        return ForeignItmos(**self.model_dump())


class SetItmoRegistryId(WriteRequest):
    """Set this registry's Party ITMO registry ID, once (administrator).

    ``itmo_registry_id`` is the registry part of its ITMOs' unique identifiers (``KEN01``).
    """

    operation: ClassVar[str] = "set_itmo_registry_id"
    itmo_registry_id: str

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.foreign.set_itmo_registry_id` with these fields."""
        return foreign.set_itmo_registry_id(tx, itmo_registry_id=self.itmo_registry_id)


class RecordForeignItmos(WriteRequest):
    """Record ITMOs that reached ``account_id`` from another Party's registry (administrator).

    ``records`` are the blocks as that registry names them.
    """

    operation: ClassVar[str] = "record_foreign_itmos"
    account_id: int
    records: list[ForeignItmosBlock]

    def run(self, tx: Tx) -> dict[str, Any]:
        """Run :func:`.foreign.record_foreign_itmos` with these fields."""
        return foreign.record_foreign_itmos(tx, account_id=self.account_id,
                                            records=[r.domain() for r in self.records])
