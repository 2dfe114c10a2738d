"""The registry's transparency log: signed tree heads and proofs over the journal.

:class:`TransparencyLog` is what the API serves: the newest signed tree head (signing a new
one when the journal has grown), inclusion proofs for any event, consistency proofs between
two tree sizes, and retirement certificates that carry their inclusion proof.

Before it signs a new head the log proves to itself that the head it signed last is a
prefix of the new tree (a consistency proof from the stored nodes): a journal rewritten
behind its back is then refused with :class:`LogForked` rather than signed. Someone who
also deletes the stored heads makes it sign the rewritten tree — and every holder of an
earlier head (a witness) finds that the new head is not consistent with it
(``docs/registry.md``, "Transparency log").
"""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, desc, select
from sqlalchemy.exc import IntegrityError

from hesuan.registry.db import tables as t
from hesuan.registry.db.engine import read_engine
from hesuan.registry.domain.events import StoredEvent, public_event
from hesuan.registry.transparency import merkle, store
from hesuan.registry.transparency.documents import (
    ConsistencyProof,
    InclusionProof,
    LoggedEvent,
    PublicKey,
    RetirementCertificate,
    SignedTreeHead,
)
from hesuan.registry.transparency.heads import (
    ORIGIN,
    key_id,
    public_key_document,
    sign_head,
)


class LogRequestError(Exception):
    """A request the log cannot answer as asked (HTTP ``status``, a named ``code``)."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class LogForked(RuntimeError):
    """The journal no longer extends the tree head this log signed last: it was rewritten."""


class TransparencyLog:
    """Signed tree heads and proofs for the registry stored behind ``engine``."""

    def __init__(self, engine: Engine, signing_key: Ed25519PrivateKey | None, *,
                 origin: str = ORIGIN) -> None:
        self.engine = engine
        self._read = read_engine(engine)
        self._key = signing_key
        self.origin = origin
        self.key_id = None if signing_key is None else key_id(signing_key.public_key())

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            raise LogRequestError("transparency_log_needs_signing_key",
                                  "this server has no signing key: start it with "
                                  "--signing-key (see 'hesuan registry keygen')", 404)
        return self._key

    def public_key(self) -> PublicKey:
        """Return the published form of the log's public key."""
        return public_key_document(self._signing_key().public_key())

    # -- tree heads ----------------------------------------------------------------------
    def _root(self, conn: Connection, size: int) -> bytes:
        return merkle.root_from_nodes(size, lambda ids: store.nodes_of(conn, ids))

    def _stored_head(self, conn: Connection, size: int | None = None) -> SignedTreeHead | None:
        q = select(store.tree_heads).where(store.tree_heads.c.key_id == self.key_id)
        q = (q.order_by(desc(store.tree_heads.c.tree_size)) if size is None
             else q.where(store.tree_heads.c.tree_size == size))
        row = conn.execute(q.limit(1)).first()
        if row is None:
            return None
        return SignedTreeHead(origin=self.origin, tree_size=int(row.tree_size),
                              root_hash=row.root_hash, timestamp_ms=int(row.timestamp_ms),
                              key_id=row.key_id, signature=row.signature)

    def _extended(self) -> int:
        """Extend the tree to the chain head; check that its last leaf is the head's hash."""
        with self._read.connect() as conn:
            meta = conn.execute(select(t.registry_meta.c.head_seq,
                                       t.registry_meta.c.head_hash)).first()
        if meta is None or meta.head_seq == 0:
            return 0
        size = int(meta.head_seq)
        try:
            store.extend(self.engine, size)
            with self._read.connect() as conn:
                last = store.nodes_of(conn, [(0, size - 1)])[(0, size - 1)]
        except store.LogGap as exc:
            raise LogForked(str(exc)) from None
        if last != merkle.leaf_hash(bytes.fromhex(meta.head_hash)):
            raise LogForked(f"the chain head's hash is not the tree's last leaf (event "
                            f"{size}): the journal was rewritten")
        return size

    def tree_head(self) -> SignedTreeHead:
        """Return the signed head of the tree of every event committed now.

        A stored one if the journal has not grown since; else a new one, once the last is proven its
        prefix.
        """
        key = self._signing_key()
        size = self._extended()
        with self._read.connect() as conn:
            root = self._root(conn, size)
            last = self._stored_head(conn)
            if last is not None:
                self._check_extends(conn, last, size, root)
                if last.tree_size == size:
                    return last
        head = sign_head(key, size, root, int(time.time() * 1000), self.origin)
        try:
            with self.engine.begin() as conn:
                conn.execute(store.tree_heads.insert().values(
                    tree_size=size, key_id=head.key_id, root_hash=head.root_hash,
                    timestamp_ms=head.timestamp_ms, signature=head.signature))
        except IntegrityError:  # another request signed this size meanwhile: serve that one
            with self._read.connect() as conn:
                stored = self._stored_head(conn, size)
            if stored is None or stored.root_hash != head.root_hash:
                raise LogForked(f"two different roots signed for {size} events") from None
            head = stored
        return head

    def _check_extends(self, conn: Connection, last: SignedTreeHead, size: int,
                       root: bytes) -> None:
        if last.tree_size > size:
            raise LogForked(f"the journal has {size} events, fewer than the {last.tree_size} "
                            "of the tree head signed last")
        if last.tree_size == 0:
            return
        proof = self._hashes(conn, merkle.consistency_ranges(last.tree_size, size)
                             if last.tree_size < size else [])
        try:
            merkle.verify_consistency(last.tree_size, size, bytes.fromhex(last.root_hash),
                                      root, proof)
        except merkle.ProofError as exc:
            raise LogForked(f"the journal does not extend the tree head of "
                            f"{last.tree_size} events signed last ({exc}): it was "
                            "rewritten; run 'hesuan registry verify'") from None

    @staticmethod
    def _hashes(conn: Connection, ranges: list[merkle.Range]) -> list[bytes]:
        return merkle.range_hashes(ranges, store.nodes_of(conn, sorted(
            merkle.needed_nodes(ranges))))

    # -- proofs --------------------------------------------------------------------------
    def _bounded_size(self, tree_size: int | None) -> int:
        """``tree_size`` if a signed head that large exists (default: a current head's)."""
        if tree_size is None:
            return self.tree_head().tree_size
        self._signing_key()
        with self._read.connect() as conn:
            last = self._stored_head(conn)
        size = self.tree_head().tree_size if last is None or last.tree_size < tree_size \
            else last.tree_size
        if tree_size > size:
            raise LogRequestError("tree_size_must_not_exceed_log",
                                  f"tree size {tree_size} exceeds the log's {size} events")
        return tree_size

    def inclusion(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """Return the audit path of event ``seq`` in the tree of ``tree_size`` events.

        Default ``tree_size``: the newest signed head's.
        """
        size = self._bounded_size(tree_size)
        if not 1 <= seq <= size:
            raise LogRequestError("event_must_be_in_tree",
                                  f"event {seq} is not in the tree of {size} events", 404)
        with self._read.connect() as conn:
            row = conn.execute(select(t.events).where(t.events.c.seq == seq)).first()
            if row is None:
                raise LogForked(f"event {seq} is missing from the journal")
            path = self._hashes(conn, merkle.inclusion_ranges(seq - 1, size))
        # the body as hashed and published: the private part by its SHA-256 only, the
        # actor unless private (domain/events.py)
        event = LoggedEvent(**public_event(StoredEvent(
            row.seq, row.type, row.at, row.actor, row.payload, row.prev_hash, row.hash,
            row.private)))
        return InclusionProof(tree_size=size, leaf_index=seq - 1, event=event,
                              audit_path=[h.hex() for h in path])

    def consistency(self, first: int, second: int | None = None) -> ConsistencyProof:
        """Return the proof that the tree of ``first`` events is a prefix of the tree of ``second``.

        Default ``second``: the newest signed head's.
        """
        size = self._bounded_size(second)
        if not 1 <= first <= size:
            raise LogRequestError("tree_sizes_must_be_ordered",
                                  f"no consistency proof from {first} to {size} events "
                                  f"(1 ≤ first ≤ second)")
        with self._read.connect() as conn:
            proof = self._hashes(conn, merkle.consistency_ranges(first, size)
                                 if first < size else [])
        return ConsistencyProof(first_size=first, second_size=size,
                                proof=[h.hex() for h in proof])

    def retirement_certificate(self, retirement_id: int) -> RetirementCertificate:
        """Return a retirement's statement, its event's inclusion proof and the signed head."""
        with self._read.connect() as conn:
            row = conn.execute(select(t.retirements.c.statement, t.retirements.c.event_seq)
                               .where(t.retirements.c.id == retirement_id)).first()
        if row is None:
            raise LogRequestError("retirement_must_exist",
                                  f"retirement {retirement_id} does not exist", 404)
        head = self.tree_head()
        proof = self.inclusion(int(row.event_seq), head.tree_size)
        return RetirementCertificate(retirement_id=retirement_id, statement=row.statement,
                                     inclusion=proof, tree_head=head)
