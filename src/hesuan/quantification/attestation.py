"""Verifiers' attestations of quantification reports, signed with Ed25519.

A verifier attests one report by its hash: the attestation names the report's
``report_sha256``, methodology, period and creditable units, the verifier and its public
key, and carries an Ed25519 signature (RFC 8032, via the ``cryptography`` package) over the
canonical JSON of everything else. Anyone can check it offline
(``hesuan verify-attestation``); the registry also checks that the key is the one it holds for
an accredited verifier.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from hesuan.errors import HesuanError, InputError
from hesuan.quantification.report import QuantificationReport, canonical_bytes

ATTESTATION_SCHEMA: Literal["hesuan.attestation/1"] = "hesuan.attestation/1"


class AttestationError(HesuanError):
    """An attestation's signature does not verify, or it attests another report."""


class Attestation(BaseModel):
    """A signed statement: this verifier verified the report with this hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_id: Literal["hesuan.attestation/1"] = ATTESTATION_SCHEMA
    report_sha256: str
    methodology_key: str
    period_start: str
    period_end: str
    net_creditable_units: int
    verified_units: int
    verifier: str
    public_key: str          # Ed25519 public key, 32 bytes as hex
    statement: str
    attested_at: str
    signature: str = ""      # Ed25519 signature, 64 bytes as hex

    def signed_bytes(self) -> bytes:
        """Return what is signed: the canonical JSON of every field but ``signature``."""
        return canonical_bytes(self.model_dump(exclude={"signature"}))

    @property
    def sha256(self) -> str:
        """Return the SHA-256 (hex) of the attestation's canonical JSON, signature included."""
        import hashlib

        return hashlib.sha256(canonical_bytes(self.model_dump())).hexdigest()


def new_key() -> tuple[bytes, str]:
    """Return a new Ed25519 key pair: (private key as PEM bytes, public key as hex)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, public_key_hex(pem)


def public_key_hex(private_pem: bytes) -> str:
    """Return the public key (hex) of a PEM private key."""
    from cryptography.hazmat.primitives import serialization

    key = _private(private_pem)
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


def _private(private_pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError.single(f"not a PEM private key ({exc})",
                                expected="an Ed25519 key from `hesuan attest keygen`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError.single("the key is not an Ed25519 key",
                                expected="an Ed25519 key from `hesuan attest keygen`")
    return key


def attest(report: QuantificationReport, private_pem: bytes, *, verifier: str,
           verified_units: int | None = None,
           statement: str = "verified with reasonable assurance",
           at: str | None = None) -> Attestation:
    """Sign an attestation of ``report`` (its ``report_sha256``) with a verifier's key."""
    units = report.removals.net_creditable_units if verified_units is None else verified_units
    if not 0 < units <= report.removals.net_creditable_units:
        raise InputError.single(f"verified units {units} must lie in 1–"
                                f"{report.removals.net_creditable_units}",
                                field="verified_units",
                                expected="at most the report's net creditable units")
    draft = Attestation(
        report_sha256=report.report_sha256, methodology_key=report.methodology_key,
        period_start=report.period_start, period_end=report.period_end,
        net_creditable_units=report.removals.net_creditable_units, verified_units=units,
        verifier=verifier, public_key=public_key_hex(private_pem), statement=statement,
        attested_at=at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    signature = _private(private_pem).sign(draft.signed_bytes()).hex()
    return draft.model_copy(update={"signature": signature})


def parse_attestation(text: str, file: str = "attestation") -> Attestation:
    """Parse an attestation's JSON (schema-checked)."""
    try:
        return Attestation.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise InputError.single(f"not an attestation ({str(exc).splitlines()[0]})", file=file,
                                expected="hesuan.attestation/1 JSON") from None


def verify_attestation(att: Attestation, report: QuantificationReport | None = None,
                       public_key: str | None = None) -> None:
    """Check the signature offline.

    If given, also check that it attests ``report`` and was made with ``public_key``.

    Raises
    ------
    AttestationError
        naming what does not hold.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if public_key is not None and public_key.lower() != att.public_key.lower():
        raise AttestationError(f"attestation signed with key {att.public_key[:16]}…, not the "
                               f"verifier's key {public_key[:16]}…")
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(att.public_key))
        key.verify(bytes.fromhex(att.signature), att.signed_bytes())
    except (InvalidSignature, ValueError):
        raise AttestationError("the attestation's Ed25519 signature does not verify: it was "
                               "not signed by this key, or was changed after signing") from None
    if report is not None:
        if report.report_sha256 != att.report_sha256:
            raise AttestationError(f"the attestation is of report {att.report_sha256[:16]}…, "
                                   f"not {report.report_sha256[:16]}…")
        if att.verified_units > report.removals.net_creditable_units:
            raise AttestationError(f"attested {att.verified_units} units > the report's "
                                   f"{report.removals.net_creditable_units}")


def write_key(path: Path) -> str:
    """Write a new private key (PEM, mode 0600) to ``path``; return the public key hex."""
    pem, pub = new_key()
    if path.exists():
        raise InputError.single("file exists; refusing to overwrite a key", file=str(path))
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return pub
