"""The typed write requests (``service/requests.py``): one type per use case, built from a
route's validated body, carried to the writer process by type and rebuilt there, hashed
for the idempotency record as earlier versions hashed the same request."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from pydantic import ValidationError

from hesuan.registry.api.schemas import RetirementCreate, TransferCreate
from hesuan.registry.domain.events import canonical_json
from hesuan.registry.engine.group import _digest
from hesuan.registry.engine.writer import decode, encode
from hesuan.registry.service import requests as rq

EXAMPLES: list[rq.WriteRequest] = [
    rq.Bootstrap(registry_code="HSN"),
    rq.CreateParty(name="A", role="holder", additional_roles=["verifier"]),
    rq.GrantRole(party_id=2, role="verifier"), rq.RevokeRole(party_id=2, role="verifier"),
    rq.RevokeTokens(party_id=2, reason="lost"), rq.OpenAccount(),
    rq.IssueToken(label="laptop", ttl_days=30), rq.RevokeToken(fingerprint="ab" * 32),
    rq.CreateProject(name="P", methodology_id="VM0047", methodology_version="1.1",
                     host_country="KE", host_region="Nakuru", sector="AFOLU",
                     crediting_start="2020-01-01", crediting_end="2039-12-31"),
    rq.TransitionProject(project_id=1, status="validated"),
    rq.AddDocument(project_id=1, name="PDD", kind="pdd", content=bytes(range(256))),
    rq.SubmitReport(project_id=1, period_start="2024-01-01", period_end="2024-12-31",
                    reported_quantity=5, quantification="{}"),
    rq.VerifyReport(report_id=1, verified_quantity=5, approve=False),
    rq.AccreditVerifier(party_id=3, sector="AFOLU", public_key="ab" * 32),
    rq.Issue(report_id=1, quantity=5, vintage=2024),
    rq.Transfer(from_account=1, to_account=2, quantity=5, serial_start=1, serial_end=5),
    rq.Retire(from_account=1, quantity=1, beneficiary="B", purpose="voluntary",
              claim_start="2024-01-01", claim_end="2024-12-31"),
    rq.Cancel(from_account=1, quantity=1, reason="error"),
    rq.BufferReversal(project_id=1, quantity=1, reason="fire"),
    rq.Authorise(issuance_id=1, uses=["ndc"], first_transfer="issuance", reference="R",
                 authorised_on="2025-01-01"),
    rq.CorrespondingAdjustment(authorisation_id=1, status="Pending", reporting_year=2025),
    rq.RecordForeignIssuances(source="verra.json", records=[{"registry": "VCS"}]),
    rq.RecordForeignItmos(account_id=7, records=[rq.ForeignItmosBlock(
        registry_id="CHE01", approach_id="CA0001", first_transferring_party="CH", first_id=1,
        last_id=10, vintage=2023, authorization_id="CH-1", authorised_on="2024-01-05",
        purposes="NDC", sector="Energy", transferring_party="CH", acquired_on="2025-03-01")]),
    rq.SetItmoRegistryId(itmo_registry_id="KEN01"),
]


def test_every_use_case_has_one_request_type_and_each_is_exemplified() -> None:
    assert sorted(type(r).operation for r in EXAMPLES) == sorted(rq.REQUEST_TYPES)
    assert all(rq.REQUEST_TYPES[type(r).operation] is type(r) for r in EXAMPLES)


@pytest.mark.parametrize("request_", [r for r in EXAMPLES if r.forwarded],
                         ids=lambda r: type(r).operation)
def test_a_request_crosses_to_the_writer_unchanged(request_: rq.WriteRequest) -> None:
    """Tagged by its type, its fields as JSON (bytes as base64), rebuilt by the registry
    of request types: the same request, with the same fields set."""
    again = rq.from_wire(decode(encode(rq.to_wire(request_))))
    assert type(again) is type(request_) and again == request_
    assert again.fields() == request_.fields()


def test_a_request_refuses_fields_it_does_not_have_or_of_the_wrong_type() -> None:
    for bad in ({"from_account": 1, "to_account": 2, "quantity": 1, "actor": 1},
                {"from_account": "1", "to_account": 2, "quantity": 1},
                {"from_account": True, "to_account": 2, "quantity": 1},
                {"from_account": 1, "to_account": 2}):
        with pytest.raises(ValidationError):
            rq.Transfer.model_validate(bad)
    with pytest.raises(TypeError):
        rq.from_wire({"type": "transfer_all", "fields": {}})
    with pytest.raises(TypeError):
        rq.from_wire(["transfer", {}])
    with pytest.raises(TypeError):  # the bootstrap runs only where the database is opened
        rq.from_wire(rq.to_wire(rq.Bootstrap()))


def test_the_idempotency_digest_is_the_one_earlier_versions_stored() -> None:
    """A route's request hashes as ``{"operation": use case, "payload": body}`` did when
    routes passed the body as keyword arguments (dates as ISO text), so a retry of a
    request recorded before keeps its key's outcome; a Python caller's request hashes the
    fields it set."""
    body = RetirementCreate(from_account=7, quantity=3, beneficiary="City of Nairobi",
                            purpose="voluntary", claim_start=date(2024, 1, 1),
                            claim_end=date(2024, 12, 31))
    before = {k: (v.isoformat() if isinstance(v, date) else v)
              for k, v in body.model_dump().items()}
    old = hashlib.sha256(canonical_json({"operation": "retire", "payload": before})
                         .encode()).hexdigest()
    assert _digest(rq.from_body(rq.Retire, body)) == old
    kwargs = {"from_account": 1, "to_account": 2, "quantity": 5}
    assert _digest(rq.Transfer(**kwargs)) == hashlib.sha256(canonical_json(
        {"operation": "transfer", "payload": kwargs}).encode()).hexdigest()
    full = rq.from_body(rq.Transfer, TransferCreate(**kwargs))
    assert full.payload() == {**kwargs, "serial_start": None, "serial_end": None,
                              "project_id": None, "vintage": None}


def test_the_wire_block_of_foreign_itmos_has_the_domain_blocks_fields() -> None:
    # ForeignItmosBlock is the typed wire form of the domain's ForeignItmos: the same
    # fields, in the same order, with the same types, so that .domain() carries every one.
    import dataclasses
    import typing

    from hesuan.registry.domain.foreign import ForeignItmos

    domain = {f.name: f.type for f in dataclasses.fields(ForeignItmos)}
    hints = typing.get_type_hints(ForeignItmos)
    wire = {name: info.annotation for name, info in rq.ForeignItmosBlock.model_fields.items()}
    assert list(wire) == list(domain)
    assert wire == {name: hints[name] for name in domain}
