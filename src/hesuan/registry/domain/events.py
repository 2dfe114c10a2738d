"""The audit log: canonical JSON events in a SHA-256 hash chain, with an RFC 6962 Merkle root.

Every state change of the registry is one event ``{seq, type, at, actor, payload}``. Its
hash is ``SHA-256(prev_hash ‖ canonical_json(event))`` (``prev_hash`` as 32 raw bytes; the
first event's is 32 zero bytes). Canonical JSON here is: UTF-8, keys sorted, no whitespace,
no floats (quantities are integers, decimals are strings) — the subset of RFC 8785 (JSON
Canonicalization Scheme) that needs no number formatting rules.

References
----------
RFC 8785, JSON Canonicalization Scheme (JCS). RFC 6962, Certificate Transparency,
section 2.1 (Merkle hash trees: leaf = H(0x00 ‖ entry), node = H(0x01 ‖ left ‖ right)).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "00" * 32


def _no_floats(value: Any, path: str = "$") -> None:
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not allowed in events (use int or str)")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{path}: keys must be strings")
            _no_floats(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _no_floats(v, f"{path}[{i}]")


def _only_ints_and_strings(value: Any) -> bool:
    """Whether ``value`` holds no float and no non-string key (:func:`_no_floats` without
    building a path for every value: it runs on every event of the hot path)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or item is None or kind is bool:
            continue
        if isinstance(item, dict):
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, float):
            return False
    return True


def canonical_json(value: Any) -> str:
    """Canonical JSON text of ``value`` (sorted keys, no whitespace, no floats)."""
    if not _only_ints_and_strings(value):
        _no_floats(value)  # raises, naming where
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def event_body(seq: int, type_: str, at: str, actor: int | None,
               payload: dict[str, Any]) -> dict[str, Any]:
    """The hashed content of one event."""
    return {"seq": seq, "type": type_, "at": at, "actor": actor, "payload": payload}


def chain_hash(prev_hash: str, body_json: str) -> str:
    """``SHA-256(prev_hash ‖ body)`` as lowercase hex; ``prev_hash`` is hex of 32 bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body_json.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """One row of the event table as read back (nothing trusted yet)."""

    seq: int
    type: str
    at: str
    actor: int | None
    payload_json: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainFault:
    """The first event at which the chain breaks, and why."""

    seq: int
    reason: str


def verify_chain(events: Iterable[StoredEvent], head_seq: int,
                 head_hash: str) -> tuple[ChainFault | None, int]:
    """Recompute the chain; return ``(first fault or None, number of events checked)``.

    Detects a changed byte (hash mismatch or unparsable payload), a deleted event (gap in
    ``seq``), reordered events (``seq`` inside the hashed body disagrees, or the chain link
    breaks) and a truncated tail (the stored head disagrees).
    """
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for ev in events:
        if ev.seq != expected_seq:
            return ChainFault(expected_seq, f"event {expected_seq} is missing "
                                            f"(next stored event is {ev.seq})"), count
        if ev.prev_hash != prev:
            return ChainFault(ev.seq, "prev_hash does not match the hash of the event "
                                      "before it"), count
        try:
            payload = json.loads(ev.payload_json)
            body = canonical_json(event_body(ev.seq, ev.type, ev.at, ev.actor, payload))
        except (ValueError, TypeError) as exc:
            return ChainFault(ev.seq, f"payload is not canonical JSON ({exc})"), count
        if canonical_json(payload) != ev.payload_json:
            return ChainFault(ev.seq, "payload is not in canonical form"), count
        if chain_hash(prev, body) != ev.hash:
            return ChainFault(ev.seq, "hash does not match the event's content"), count
        prev = ev.hash
        expected_seq += 1
        count += 1
    if count != head_seq or prev != head_hash:
        return ChainFault(count + 1 if count < head_seq else head_seq,
                          f"chain head says {head_seq} events ending in {head_hash[:12]}…, "
                          f"log has {count} ending in {prev[:12]}…"), count
    return None, count


def merkle_root(leaf_hashes_hex: Iterable[str]) -> str:
    """RFC 6962 Merkle Tree Hash over entries (here: the events' chain hashes, as bytes).

    ``MTH({}) = SHA-256()``; ``MTH({d}) = SHA-256(0x00 ‖ d)``; for n > 1, split at the largest
    power of two k < n: ``SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))`` (RFC 6962, §2.1).
    Computed bottom-up with a stack, O(n) time and O(log n) memory.
    """
    stack: list[tuple[int, bytes]] = []  # (size of subtree, hash)
    n = 0
    for leaf in leaf_hashes_hex:
        node = hashlib.sha256(b"\x00" + bytes.fromhex(leaf)).digest()
        size = 1
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            node = hashlib.sha256(b"\x01" + left + node).digest()
            size *= 2
        stack.append((size, node))
        n += 1
    if n == 0:
        return hashlib.sha256(b"").hexdigest()
    node = stack.pop()[1]
    while stack:  # fold the right spine: unequal subtrees join right to left
        node = hashlib.sha256(b"\x01" + stack.pop()[1] + node).digest()
    return node.hex()


def iter_bounded(rows: Iterator[StoredEvent], max_count: int) -> Iterator[StoredEvent]:
    """Yield at most ``max_count`` events, then fail loudly (every loop has a limit)."""
    for i, row in enumerate(rows):
        if i >= max_count:
            raise RuntimeError(f"audit log longer than the limit of {max_count} events")
        yield row
