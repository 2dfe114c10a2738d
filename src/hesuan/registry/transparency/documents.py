"""The files of the transparency log.

Signed tree heads and proofs (pydantic models; their JSON Schema is published in
``docs/schemas/transparency.schema.json``).

These are what the API serves and what ``hesuan registry verify-proof`` checks offline.
Hashes are lowercase hex (64 characters), the signature is base64 (RFC 4648 §4).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Hex32 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="32 bytes, lowercase hex")]
Count = Annotated[int, Field(ge=0, le=2**62)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SignedTreeHead(_Document):
    """The log's signed statement that its tree of ``tree_size`` events has ``root_hash``.

    The signature is Ed25519 (RFC 8032) over :func:`~.heads.signed_text`: the tree head as a
    C2SP ``tlog-checkpoint`` body — origin, tree size, base64 root hash, one per line —
    followed by the line ``timestamp <ms>``.
    """

    format: Literal["hesuan-tree-head/1"] = "hesuan-tree-head/1"
    origin: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\n\r]+$")]
    tree_size: Count
    root_hash: Hex32
    timestamp_ms: Count
    key_id: Annotated[Hex32, Field(description="SHA-256 of the public key's DER "
                                               "SubjectPublicKeyInfo (RFC 6962 §3.2 LogID)")]
    signature: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{86}==$",
                                    description="Ed25519 signature, base64")]


class LoggedEvent(_Document):
    """One journal event as hashed.

    ``SHA-256(prev_hash ‖ canonical JSON of {seq, type, at, actor, payload[, private]})``, where
    ``private`` is the SHA-256 of the event's salted private part (``private_sha256`` here; absent
    for events without one) and ``actor`` is null when it is private
    (``hesuan.registry.domain.events``).
    """

    seq: Annotated[int, Field(ge=1, le=2**62)]
    type: Annotated[str, Field(min_length=1, max_length=40)]
    at: Annotated[str, Field(min_length=1, max_length=40)]
    actor: int | None
    payload: dict[str, Any]
    private_sha256: Hex32 | None = None
    prev_hash: Hex32
    hash: Hex32


class InclusionProof(_Document):
    """Event ``event.seq`` is leaf ``event.seq − 1`` of the tree of ``tree_size`` events.

    ``audit_path`` leads from its leaf hash to that tree's root (RFC 9162 §2.1.3).
    """

    format: Literal["hesuan-inclusion-proof/1"] = "hesuan-inclusion-proof/1"
    tree_size: Count
    leaf_index: Count
    event: LoggedEvent
    audit_path: list[Hex32]


class ConsistencyProof(_Document):
    """A proof that one tree of events is a prefix of a later one (RFC 9162 §2.1.4).

    The tree of ``first_size`` events is a prefix of the tree of ``second_size``.
    """

    format: Literal["hesuan-consistency-proof/1"] = "hesuan-consistency-proof/1"
    first_size: Count
    second_size: Count
    proof: list[Hex32]


class PublicKey(_Document):
    """The log's Ed25519 public key, as PEM (SubjectPublicKeyInfo) and its key id."""

    algorithm: Literal["Ed25519"] = "Ed25519"
    key_id: Hex32
    public_key_pem: Annotated[str, Field(min_length=1, max_length=1000)]


class RetirementCertificate(_Document):
    """A retirement's public statement with the proof that its event is in the log."""

    format: Literal["hesuan-retirement-certificate/1"] = "hesuan-retirement-certificate/1"
    retirement_id: Annotated[int, Field(ge=1)]
    statement: str
    inclusion: InclusionProof
    tree_head: SignedTreeHead


def json_schema() -> dict[str, Any]:
    """One JSON Schema document defining every file of the transparency log."""
    defs: dict[str, Any] = {}
    for model in (SignedTreeHead, InclusionProof, ConsistencyProof, PublicKey,
                  RetirementCertificate):
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://hesuan.org/schemas/transparency.schema.json",
            "title": "hesuan registry transparency log files", "$defs": defs,
            "anyOf": [{"$ref": f"#/$defs/{name}"} for name in
                      ("SignedTreeHead", "InclusionProof", "ConsistencyProof", "PublicKey",
                       "RetirementCertificate")]}
