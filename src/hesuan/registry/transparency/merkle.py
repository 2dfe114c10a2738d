"""Merkle Tree Hash, inclusion proofs and consistency proofs of RFC 9162 (pure functions).

A log of ``n`` entries ``D[0:n]`` has the Merkle Tree Hash (RFC 9162 §2.1.1; RFC 6962 §2.1):

* ``MTH({}) = SHA-256()``
* ``MTH({d}) = SHA-256(0x00 ‖ d)`` (a leaf)
* ``MTH(D[0:n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))`` for ``n > 1``, with ``k`` the
  largest power of two smaller than ``n`` (a node).

Proofs are computed from *perfect subtrees*: the node ``(level, index)`` is the hash of the
``2**level`` leaves ``[index·2**level, (index+1)·2**level)``. Every element of an inclusion
or consistency proof is the hash of a range ``[lo, hi)`` whose ``lo`` is a multiple of the
smallest power of two ≥ ``hi − lo``; such a range is a left-to-right list of perfect
subtrees (one per set bit of ``hi − lo``), folded right to left (:func:`fold`). So a proof
of a tree of any size needs at most ``log2(n)**2`` stored nodes and no rehashing of leaves:
:func:`inclusion_ranges` and :func:`consistency_ranges` say which ranges, :func:`range_nodes`
which nodes, and a node store (``hesuan.registry.transparency.store``) reads them in one
query.

References
----------
RFC 9162, Certificate Transparency Version 2.0, §2.1.1 (Merkle Tree Hash), §2.1.3.1
(PATH, inclusion proof generation), §2.1.3.2 (verifying an inclusion proof), §2.1.4.1
(PROOF/SUBPROOF, consistency proof generation), §2.1.4.2 (verifying consistency).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from hesuan.errors import HesuanError

HASH_SIZE = 32  # bytes of SHA-256
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A perfect subtree: ``(level, index)`` covers leaves ``[index·2**level, (index+1)·2**level)``."""

Range = tuple[int, int]
"""Leaves ``[lo, hi)``."""


class ProofError(HesuanError, ValueError):
    """A proof that does not verify, or a request for a proof that cannot exist."""


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 ‖ entry)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Return the largest power of two smaller than ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(lo: int, hi: int) -> list[Node]:
    """Return the perfect subtrees that make up ``[lo, hi)``, left to right.

    ``lo`` must be a multiple of the smallest power of two ≥ ``hi − lo`` (true of every
    range of an RFC 9162 proof and of ``[0, n)``): the subtrees are then the set bits of
    ``hi − lo``, largest first.
    """
    if not 0 <= lo < hi:
        raise ValueError(f"empty or negative range [{lo}, {hi})")
    nodes: list[Node] = []
    at = lo
    for level in range((hi - lo).bit_length() - 1, -1, -1):
        if (hi - lo) >> level & 1:
            if at % (1 << level):
                raise ValueError(f"range [{lo}, {hi}) is not aligned")
            nodes.append((level, at >> level))
            at += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Return the hash of a range from the hashes of its :func:`range_nodes`.

    Right to left: ``MTH(D[k:n])`` is the right child of every split.
    """
    value = hashes[-1]
    for left in reversed(hashes[:-1]):
        value = node_hash(left, value)
    return value


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Return the ranges whose hashes form the audit path of leaf ``index``, in proof order.

    In a tree of ``size`` leaves (RFC 9162 §2.1.3.1, ``PATH(m, D[n])``).
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    out: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:  # the recursion, iterated from the root down; proof lists leaf-up
        k = _split(hi - lo)
        if index - lo < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[Range]:
    """Return the ranges whose hashes form a consistency proof, in proof order.

    From the tree of ``first`` leaves to the tree of ``second`` leaves (RFC 9162 §2.1.4.1,
    ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``).
    """
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from a tree of {first} leaves to one of "
                         f"{second}")
    siblings: list[Range] = []  # SUBPROOF(m, D[lo:hi], whole) iterated from the root down
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    start = [] if whole else [(lo, hi)]  # the subtree both trees share, unless the root
    return start + siblings[::-1]  # each level's sibling follows the deeper part


def needed_nodes(ranges: Iterable[Range]) -> set[Node]:
    """Every perfect subtree that the hashes of ``ranges`` need."""
    return {node for lo, hi in ranges for node in range_nodes(lo, hi)}


def range_hashes(ranges: Iterable[Range], nodes: Mapping[Node, bytes]) -> list[bytes]:
    """Return the hash of each range from the node hashes ``nodes``.

    ``nodes`` holds :func:`needed_nodes` of ``ranges``.
    """
    return [fold([nodes[n] for n in range_nodes(lo, hi)]) for lo, hi in ranges]


def root_from_nodes(size: int, nodes: Callable[[Sequence[Node]], Mapping[Node, bytes]]
                    ) -> bytes:
    """``MTH(D[0:size])`` from a node store (``nodes(ids) → {id: hash}``)."""
    if size == 0:
        return EMPTY_ROOT
    ids = range_nodes(0, size)
    found = nodes(ids)
    return fold([found[n] for n in ids])


def root_of(entries: Iterable[bytes]) -> bytes:
    """``MTH(D)`` of the entries (bottom-up with a stack: O(n) time, O(log n) memory)."""
    stack: list[tuple[int, bytes]] = []
    for entry in entries:
        value, size = leaf_hash(entry), 1
        while stack and stack[-1][0] == size:
            value = node_hash(stack.pop()[1], value)
            size *= 2
        stack.append((size, value))
    if not stack:
        return EMPTY_ROOT
    return fold([v for _, v in stack])


def _check_sizes(*hashes: bytes) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"a hash of {len(h)} bytes where SHA-256 has {HASH_SIZE}")


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Check an audit path (RFC 9162 §2.1.3.2); raises :class:`ProofError` if it fails.

    ``leaf`` is the leaf's hash ``SHA-256(0x00 ‖ entry)``, ``root`` the tree head's hash.
    """
    _check_sizes(leaf, root, *proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree is deep")
    if r != root:
        raise ProofError("the audit path does not lead to the tree head's root hash")


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Check a consistency proof (RFC 9162 §2.1.4.2); raises :class:`ProofError` if it fails.

    Equal sizes need an empty proof and equal roots; the empty tree is a prefix of every tree, but
    no proof from it exists: a first size of 0 is refused, as Go's ``proof.VerifyConsistency``
    refuses it).
    """
    _check_consistency_sizes(first, second, first_root, second_root, proof)
    if first == second:
        return
    _check_sizes(first_root, second_root, *proof)
    if not proof:
        raise ProofError("the consistency proof is empty")
    fr, sr = _consistency_roots(first, second, first_root, proof)
    if fr != first_root:
        raise ProofError("the proof does not lead to the earlier tree head's root hash")
    if sr != second_root:
        raise ProofError("the proof does not lead to the later tree head's root hash")


def _check_consistency_sizes(first: int, second: int, first_root: bytes, second_root: bytes,
                             proof: Sequence[bytes]) -> None:
    """Refuse sizes no consistency proof can join; check the equal-size case in full."""
    if first > second:
        raise ProofError(f"the first tree ({first} leaves) is larger than the second "
                         f"({second})")
    if first == 0:
        raise ProofError("no consistency proof exists from the empty tree")
    if first == second:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if first_root != second_root:
            raise ProofError("two tree heads of the same size have different roots")


def _consistency_roots(first: int, second: int, first_root: bytes,
                       proof: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Return the two roots a consistency proof leads to (RFC 9162 §2.1.4.2, steps 1–6).

    ``0 < first < second``; raises :class:`ProofError` if the proof's length does not match
    the trees' depth.
    """
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the first root is a node of both
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    return fr, sr
