"""RFC 9162 Merkle tree, inclusion and consistency proofs against published test vectors.

Vectors: ``cases/merkle_probes.json`` — the leaf inputs, root hashes and the 196 inclusion
and consistency verification probes of Google's transparency-dev/merkle (Go), the
reference implementation behind Trillian and the Go Certificate Transparency log (SOURCE
and licence in the file). Generation is checked two ways: against the probes' valid
("happy path") proofs, which that implementation generated, and against a direct
transcription of the RFC's recursive definitions (``_path`` and ``_subproof`` below).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hesuan.registry.transparency import merkle as m

CASES = json.loads((Path(__file__).parent / "cases" / "merkle_probes.json").read_text())
LEAVES = [bytes.fromhex(x) for x in CASES["leaf_inputs"]]
ROOTS = [bytes.fromhex(x) for x in CASES["root_hashes"]]


def _mth(entries: list[bytes]) -> bytes:  # RFC 9162 §2.1.1, literally
    n = len(entries)
    if n == 0:
        return m.EMPTY_ROOT
    if n == 1:
        return m.leaf_hash(entries[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return m.node_hash(_mth(entries[:k]), _mth(entries[k:]))


def _path(i: int, entries: list[bytes]) -> list[bytes]:  # RFC 9162 §2.1.3.1, literally
    n = len(entries)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if i < k:
        return [*_path(i, entries[:k]), _mth(entries[k:])]
    return [*_path(i - k, entries[k:]), _mth(entries[:k])]


def _subproof(mm: int, entries: list[bytes], b: bool) -> list[bytes]:  # §2.1.4.1
    n = len(entries)
    if mm == n:
        return [] if b else [_mth(entries)]
    k = 1 << ((n - 1).bit_length() - 1)
    if mm <= k:
        return [*_subproof(mm, entries[:k], b), _mth(entries[k:])]
    return [*_subproof(mm - k, entries[k:], False), _mth(entries[:k])]


def _memory_nodes(entries: list[bytes]):
    """A node store over ``entries``: every perfect subtree's hash by (level, index)."""
    level = [m.leaf_hash(e) for e in entries]
    table = {(0, i): h for i, h in enumerate(level)}
    depth = 0
    while len(level) > 1:
        depth += 1
        level = [m.node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        table.update({(depth, i): h for i, h in enumerate(level)})
    return table


def _proof(ranges, table) -> list[bytes]:
    return m.range_hashes(ranges, table)


@pytest.mark.parametrize("size", range(9))
def test_root_hashes_match_the_reference_roots(size: int) -> None:
    assert m.root_of(LEAVES[:size]) == ROOTS[size]
    table = _memory_nodes(LEAVES[:size])
    assert m.root_from_nodes(size, lambda ids: {i: table[i] for i in ids}) == ROOTS[size]


@pytest.mark.parametrize("probe", CASES["inclusion"], ids=lambda p: p["file"])
def test_inclusion_probes(probe: dict) -> None:
    proof = [bytes.fromhex(p) for p in probe["proof"]]
    root = bytes.fromhex(probe["root"] or "")
    leaf = bytes.fromhex(probe["leaf_hash"] or "")
    if probe["valid"]:
        m.verify_inclusion(probe["leaf_index"], probe["tree_size"], leaf, proof, root)
    else:
        with pytest.raises(m.ProofError):
            m.verify_inclusion(probe["leaf_index"], probe["tree_size"], leaf, proof, root)


@pytest.mark.parametrize("probe", CASES["consistency"], ids=lambda p: p["file"])
def test_consistency_probes(probe: dict) -> None:
    proof = [bytes.fromhex(p) for p in probe["proof"]]
    r1, r2 = bytes.fromhex(probe["root1"] or ""), bytes.fromhex(probe["root2"] or "")
    args = (probe["size1"], probe["size2"], r1, r2, proof)
    if probe["valid"]:
        m.verify_consistency(*args)
    else:
        with pytest.raises(m.ProofError):
            m.verify_consistency(*args)


def test_generated_proofs_equal_the_reference_implementations_happy_paths() -> None:
    table = _memory_nodes(LEAVES)
    checked = 0
    for p in CASES["inclusion"]:
        if p["valid"] and p["tree_size"] <= 8 and p["root"] == CASES["root_hashes"][p["tree_size"]]:
            got = _proof(m.inclusion_ranges(p["leaf_index"], p["tree_size"]), table)
            assert [h.hex() for h in got] == p["proof"]
            checked += 1
    for p in CASES["consistency"]:
        if p["valid"] and p["size1"] < p["size2"] <= 8:
            got = _proof(m.consistency_ranges(p["size1"], p["size2"]), table)
            assert [h.hex() for h in got] == p["proof"]
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 13, 16, 33, 64, 100])
def test_proofs_equal_the_rfc_definitions_and_verify(n: int) -> None:
    entries = [i.to_bytes(4, "big") for i in range(n)]
    table = _memory_nodes(entries)
    for size in range(1, n + 1):
        root = _mth(entries[:size])
        for i in range(size):
            proof = _proof(m.inclusion_ranges(i, size), table)
            assert proof == _path(i, entries[:size])
            m.verify_inclusion(i, size, m.leaf_hash(entries[i]), proof, root)
        for first in range(1, size + 1):
            proof = _proof(m.consistency_ranges(first, size), table)
            assert proof == _subproof(first, entries[:size], True)
            m.verify_consistency(first, size, _mth(entries[:first]), root, proof)


def test_a_rewritten_prefix_is_not_consistent() -> None:
    entries = [i.to_bytes(4, "big") for i in range(20)]
    old_root = _mth(entries[:11])
    forged = [*entries[:5], b"theft", *entries[6:]]
    table = _memory_nodes(forged)
    proof = _proof(m.consistency_ranges(11, 20), table)
    with pytest.raises(m.ProofError):
        m.verify_consistency(11, 20, old_root, _mth(forged), proof)
