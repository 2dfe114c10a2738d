"""Offline checks of the transparency log's files, with nothing but the log's public key.

``hesuan registry verify-proof`` runs these: a signed tree head's signature; an inclusion
proof (the event's content hashes to its chain hash, which is a leaf of the signed tree);
a consistency proof between two signed heads (the earlier tree is a prefix of the later);
a retirement certificate (its retirement event is in the signed tree). Each function
returns the list of what it checked and raises :class:`~.merkle.ProofError` at the first
thing that does not hold.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hesuan.registry.domain.events import canonical_json, chain_hash, event_body
from hesuan.registry.transparency.documents import (
    ConsistencyProof,
    InclusionProof,
    RetirementCertificate,
    SignedTreeHead,
)
from hesuan.registry.transparency.heads import check_head
from hesuan.registry.transparency.merkle import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def check_tree_head(public_key: Ed25519PublicKey, head: SignedTreeHead) -> list[str]:
    """Check a tree head's signature; return the check passed, as one line."""
    check_head(public_key, head)
    return [f"tree head of {head.tree_size} events signed by key {head.key_id[:16]}…"]


def check_inclusion(public_key: Ed25519PublicKey, head: SignedTreeHead,
                    proof: InclusionProof) -> list[str]:
    """Check that the event of ``proof`` is leaf ``seq − 1`` of the tree ``head`` signs.

    Returns the checks passed, one line each; raises :class:`ProofError` at the first failure.
    """
    done = check_tree_head(public_key, head)
    ev = proof.event
    if proof.tree_size != head.tree_size:
        raise ProofError(f"the proof is for a tree of {proof.tree_size} events, the tree "
                         f"head for {head.tree_size}")
    if proof.leaf_index != ev.seq - 1:
        raise ProofError(f"event {ev.seq} is leaf {ev.seq - 1}, not {proof.leaf_index}")
    try:
        body = canonical_json(event_body(ev.seq, ev.type, ev.at, ev.actor, ev.payload,
                                         ev.private_sha256))
    except TypeError as exc:
        raise ProofError(f"the event is not canonical JSON ({exc})") from None
    if chain_hash(ev.prev_hash, body) != ev.hash:
        raise ProofError(f"event {ev.seq}'s content does not hash to its chain hash")
    done.append(f"event {ev.seq} ({ev.type}) hashes to {ev.hash[:16]}…")
    verify_inclusion(proof.leaf_index, proof.tree_size, leaf_hash(bytes.fromhex(ev.hash)),
                     [bytes.fromhex(h) for h in proof.audit_path],
                     bytes.fromhex(head.root_hash))
    done.append(f"event {ev.seq} is in the signed tree of {head.tree_size} events")
    return done


def check_consistency(public_key: Ed25519PublicKey, earlier: SignedTreeHead,
                      later: SignedTreeHead, proof: ConsistencyProof) -> list[str]:
    """Check that the tree ``earlier`` signs is a prefix of the tree ``later`` signs.

    Returns the checks passed, one line each; raises :class:`ProofError` at the first failure.
    """
    done = check_tree_head(public_key, earlier) + check_tree_head(public_key, later)
    if (proof.first_size, proof.second_size) != (earlier.tree_size, later.tree_size):
        raise ProofError(f"the proof is from {proof.first_size} to {proof.second_size} "
                         f"events, the tree heads are of {earlier.tree_size} and "
                         f"{later.tree_size}")
    verify_consistency(earlier.tree_size, later.tree_size, bytes.fromhex(earlier.root_hash),
                       bytes.fromhex(later.root_hash),
                       [bytes.fromhex(h) for h in proof.proof])
    done.append(f"the tree of {earlier.tree_size} events is a prefix of the tree of "
                f"{later.tree_size}")
    return done


def check_certificate(public_key: Ed25519PublicKey,
                      certificate: RetirementCertificate) -> list[str]:
    """Check that the certificate's retirement event is in its signed tree.

    Returns the checks passed, one line each; raises :class:`ProofError` at the first failure.
    """
    done = check_inclusion(public_key, certificate.tree_head, certificate.inclusion)
    ev = certificate.inclusion.event
    if ev.type != "retirement_recorded" or ev.payload.get("retirement_id") != \
            certificate.retirement_id:
        raise ProofError(f"event {ev.seq} does not record retirement "
                         f"{certificate.retirement_id}")
    beneficiary = ev.payload.get("beneficiary")
    if not isinstance(beneficiary, str) or f"on behalf of {beneficiary}." not in \
            certificate.statement:
        raise ProofError("the statement's beneficiary is not the logged event's "
                         f"({beneficiary!r})")
    done.append(f"event {ev.seq} records retirement {certificate.retirement_id} on behalf "
                f"of {beneficiary}")
    return done
