r"""Signed tree heads: Ed25519 keys kept in files, signing and checking tree heads.

The log's signing key never enters the database: ``hesuan registry keygen`` writes it to a
PEM file (PKCS #8, mode 0600) beside its public key, and ``hesuan serve --signing-key`` (or
``HESUAN_REGISTRY_SIGNING_KEY``) reads it at start. What is signed is the tree head in the
C2SP ``tlog-checkpoint`` text form — ``<origin>\n<tree size>\n<base64 root hash>\n`` — with
one extension line ``timestamp <milliseconds since 1970>\n``; the key id is the SHA-256 of
the public key's DER SubjectPublicKeyInfo, as RFC 6962 §3.2 defines a log's LogID.

References
----------
RFC 8032, Edwards-Curve Digital Signature Algorithm (Ed25519). RFC 9162 §4.10 (signed tree
heads). C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hesuan.errors import InputError
from hesuan.registry.transparency.documents import PublicKey, SignedTreeHead
from hesuan.registry.transparency.merkle import ProofError

ORIGIN = "hesuan-registry"
KEY_ENV = "HESUAN_REGISTRY_SIGNING_KEY"


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, hex (RFC 6962 §3.2)."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_key_document(public_key: Ed25519PublicKey) -> PublicKey:
    """Return the published form of a public key: its key id and PEM text."""
    pem = public_key.public_bytes(serialization.Encoding.PEM,
                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return PublicKey(key_id=key_id(public_key), public_key_pem=pem)


def write_key_pair(path: Path) -> tuple[Path, Path]:
    """Write a new Ed25519 private key to ``path`` and its public key to ``path`` + ``.pub``.

    The private key is PKCS #8 PEM, mode 0600; an existing file is never overwritten.
    """
    public_path = path.with_name(path.name + ".pub")
    for p in (path, public_path):
        if p.exists():
            raise InputError.single("the key file exists already; keys are never "
                                    "overwritten", file=p, expected="a new path")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public_path.write_text(public_key_document(key.public_key()).public_key_pem)
    return path, public_path


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """Return the Ed25519 private key in the PEM file ``path`` (clear errors otherwise)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError.single(f"cannot read the signing key ({exc.strerror})", file=p,
                                expected="a key file written by 'hesuan registry keygen'"
                                ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError.single("not an Ed25519 private key", file=p,
                                expected="a PEM file written by 'hesuan registry keygen'")
    return key


def load_public_key(text: str | bytes, source: str) -> Ed25519PublicKey:
    """Return an Ed25519 public key from PEM text.

    A ``.pub`` file or the API's ``public_key_pem``.
    """
    data = text.encode() if isinstance(text, str) else text
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError.single("not an Ed25519 public key", file=source,
                                expected="a PEM public key (keygen's .pub file)")
    return key


def signed_text(origin: str, tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    """Return the bytes an Ed25519 tree-head signature covers (checkpoint body + timestamp)."""
    return (f"{origin}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"
            f"timestamp {timestamp_ms}\n").encode()


def sign_head(key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, timestamp_ms: int,
              origin: str = ORIGIN) -> SignedTreeHead:
    """Return the tree head of ``tree_size`` events with root ``root_hash``, signed with ``key``.

    ``timestamp_ms`` is in milliseconds since 1970.
    """
    signature = key.sign(signed_text(origin, tree_size, root_hash, timestamp_ms))
    return SignedTreeHead(origin=origin, tree_size=tree_size, root_hash=root_hash.hex(),
                          timestamp_ms=timestamp_ms, key_id=key_id(key.public_key()),
                          signature=base64.b64encode(signature).decode())


def check_head(public_key: Ed25519PublicKey, head: SignedTreeHead) -> None:
    """Raise :class:`ProofError` unless ``head`` is signed by ``public_key``."""
    if head.key_id != key_id(public_key):
        raise ProofError(f"the tree head names key {head.key_id[:16]}…, not the given "
                         f"public key {key_id(public_key)[:16]}…")
    text = signed_text(head.origin, head.tree_size, bytes.fromhex(head.root_hash),
                       head.timestamp_ms)
    try:
        public_key.verify(base64.b64decode(head.signature), text)
    except InvalidSignature:
        raise ProofError("the tree head's signature does not verify with the public "
                         "key") from None
