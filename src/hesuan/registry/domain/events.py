"""The audit log: canonical JSON events in a SHA-256 hash chain, with an RFC 6962 Merkle root.

Every state change of the registry is one event ``{seq, type, at, actor, payload}``. Its
hash is ``SHA-256(prev_hash ‖ canonical_json(event))`` (``prev_hash`` as 32 raw bytes; the
first event's is 32 zero bytes). Canonical JSON here is: UTF-8, keys sorted, no whitespace,
no floats (quantities are integers, decimals are strings) — the subset of RFC 8785 (JSON
Canonicalization Scheme) that needs no number formatting rules.

**Public and private parts.** What decides an outcome but is not public — the account ids
of holdings, who moved units between them, token hashes, idempotency keys and stored
replies — is split off into the event's *private part* (:func:`split_event`): a canonical
JSON object with a random 128-bit salt, stored beside the event. The hashed body carries
only its SHA-256 under ``"private"`` (a salted hash commitment: the salt keeps small
integers such as account ids from being found by trying them). The public feed therefore
shows every hashed body in full and anyone can recompute the chain, while only the
registry's operator, who holds the private parts, can replay holdings. Events written
before the split (no private part) hash as they always did.

References
----------
RFC 8785, JSON Canonicalization Scheme (JCS). RFC 6962, Certificate Transparency,
section 2.1 (Merkle hash trees: leaf = H(0x00 ‖ entry), node = H(0x01 ‖ left ‖ right)).
"""

from __future__ import annotations

import hashlib
import json
import os
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
    """Return whether ``value`` holds no float and no non-string key.

    :func:`_no_floats` without building a path for every value: it runs on every event of the hot
    path.
    """
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
               payload: dict[str, Any], private_sha256: str | None = None) -> dict[str, Any]:
    """Return the hashed content of one event.

    ``actor`` and ``payload`` as published; the private part only by its SHA-256.
    """
    body = {"seq": seq, "type": type_, "at": at, "actor": actor, "payload": payload}
    if private_sha256 is not None:
        body["private"] = private_sha256
    return body


#: Payload keys that go into the private part, for every event type.
PRIVATE_ALWAYS = frozenset({"request_key", "requests"})
#: … and per event type (account ids that would let the public replay holdings, secrets).
PRIVATE_KEYS: dict[str, frozenset[str]] = {
    "registry_initialised": frozenset({"admin_token_sha256"}),
    "party_created": frozenset({"token_sha256", "token_expires_at"}),
    "token_issued": frozenset({"token_sha256", "expires_at", "label"}),
    "token_revoked": frozenset({"token_sha256"}),
    "units_moved": frozenset({"from_account", "to_account"}),
    "project_listed": frozenset({"forward_account_id"}),
    "retirement_recorded": frozenset({"account_id"}),
    "cancellation_recorded": frozenset({"account_id"}),
    "foreign_itmos_acquired": frozenset({"account_id"}),
}
#: Event types whose actor is private: who moved units, who opened a holding account.
ACTOR_PRIVATE = frozenset({"units_moved", "account_opened"})
SALT_BYTES = 16


def split_event(type_: str, actor: int | None, payload: dict[str, Any],
                ) -> tuple[int | None, dict[str, Any], dict[str, Any] | None]:
    """Return ``(published actor, public payload, private part or None)`` of an event.

    A holding account's ``account_opened`` is private as a whole but for its kind; other
    accounts (a project's pending account) are public.
    """
    private_keys = PRIVATE_ALWAYS | PRIVATE_KEYS.get(type_, frozenset())
    if type_ == "account_opened" and payload.get("kind") == "holding":
        private_keys = private_keys | (payload.keys() - {"kind"})
    public = {k: v for k, v in payload.items() if k not in private_keys}
    private = {k: v for k, v in payload.items() if k in private_keys}
    shown_actor = actor
    if type_ in ACTOR_PRIVATE and (type_ != "account_opened" or payload.get("kind") == "holding"):
        private["actor"] = actor
        shown_actor = None
    if not private:
        return shown_actor, public, None
    private["salt"] = os.urandom(SALT_BYTES).hex()
    return shown_actor, public, private


def merged_payload(payload: dict[str, Any], private: dict[str, Any] | None) -> dict[str, Any]:
    """Return the whole payload of an event.

    Its public part and its private part (without the salt and the actor).
    """
    if not private:
        return payload
    return {**payload, **{k: v for k, v in private.items() if k not in ("salt", "actor")}}


def digest(text: str) -> str:
    """SHA-256 of UTF-8 ``text``, lowercase hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    private_json: str | None = None

    def body(self) -> dict[str, Any]:
        """Return the hashed body as stored.

        Raises ``ValueError``/``TypeError`` if the stored text is not canonical JSON, or the private
        part does not match the stored actor.
        """
        payload = json.loads(self.payload_json)
        if canonical_json(payload) != self.payload_json:
            raise ValueError("payload is not in canonical form")
        if self.private_json is None:
            return event_body(self.seq, self.type, self.at, self.actor, payload)
        private = json.loads(self.private_json)
        if not isinstance(private, dict) or canonical_json(private) != self.private_json:
            raise ValueError("private part is not canonical JSON")
        shown = self.actor
        if "actor" in private:
            if private["actor"] != self.actor:
                raise ValueError("private part names another actor than the event row")
            shown = None
        return event_body(self.seq, self.type, self.at, shown, payload,
                          digest(self.private_json))

    def full_payload(self) -> dict[str, Any]:
        """Public and private payload together (for replay by the operator)."""
        private = None if self.private_json is None else json.loads(self.private_json)
        return merged_payload(json.loads(self.payload_json), private)


@dataclass(frozen=True)
class ChainFault:
    """The first event at which the chain breaks, and why."""

    seq: int
    reason: str


def verify_chain(events: Iterable[StoredEvent], head_seq: int, head_hash: str, *,
                 after: tuple[int, str] = (0, GENESIS_HASH),
                 ) -> tuple[ChainFault | None, int]:
    """Recompute the chain; return ``(first fault or None, number of events checked)``.

    Detects a changed byte (hash mismatch or unparsable payload), a deleted event (gap in
    ``seq``), reordered events (``seq`` inside the hashed body disagrees, or the chain link
    breaks) and a truncated tail (the stored head disagrees).

    With ``after = (seq, hash)`` the events from ``seq + 1`` on are checked, continuing from
    an event already verified (incremental verification); the count includes the ``seq``
    events before.
    """
    prev = after[1]
    expected_seq = after[0] + 1
    count = after[0]
    for ev in events:
        if ev.seq != expected_seq:
            return ChainFault(expected_seq, f"event {expected_seq} is missing "
                                            f"(next stored event is {ev.seq})"), count
        if ev.prev_hash != prev:
            return ChainFault(ev.seq, "prev_hash does not match the hash of the event "
                                      "before it"), count
        try:
            body = canonical_json(ev.body())
        except (ValueError, TypeError) as exc:
            return ChainFault(ev.seq, f"payload is not canonical JSON ({exc})"), count
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


@dataclass
class MerkleAccumulator:
    """The RFC 6962 Merkle Tree Hash of a growing list, one leaf at a time.

    The stack of :func:`merkle_root`, kept between calls: incremental verification adds only new
    events.
    """

    stack: list[tuple[int, bytes]]
    size: int = 0

    @classmethod
    def empty(cls) -> MerkleAccumulator:
        """Return the accumulator of the empty list."""
        return cls([], 0)

    def add(self, leaf_hex: str) -> None:
        """Add the leaf whose data hash is ``leaf_hex``.

        RFC 6962 leaf hash ``SHA-256(0x00 ‖ data)``.
        """
        node = hashlib.sha256(b"\x00" + bytes.fromhex(leaf_hex)).digest()
        width = 1
        while self.stack and self.stack[-1][0] == width:
            _, left = self.stack.pop()
            node = hashlib.sha256(b"\x01" + left + node).digest()
            width *= 2
        self.stack.append((width, node))
        self.size += 1

    def root(self) -> str:
        """Return the Merkle Tree Hash (hex) of the leaves added so far."""
        if not self.stack:
            return hashlib.sha256(b"").hexdigest()
        node = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node.hex()


def public_event(ev: StoredEvent) -> dict[str, Any]:
    """Return an event as the public feed shows it.

    The hashed body (public payload, the private part by its SHA-256 only, the actor unless
    private), its ``prev_hash`` and ``hash``. ``chain_hash(prev_hash, canonical_json(body))`` gives
    ``hash``.
    """
    body = ev.body()
    private = body.pop("private", None)
    return {**body, "private_sha256": private, "prev_hash": ev.prev_hash, "hash": ev.hash}


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
