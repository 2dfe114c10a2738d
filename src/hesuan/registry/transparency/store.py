"""The Merkle tree of the journal, kept in the database as perfect-subtree hashes.

Leaf ``i`` of the tree is event ``seq = i + 1``; its entry is the event's 32-byte chain hash
(``SHA-256(prev_hash ‖ canonical JSON)``, :mod:`hesuan.registry.domain.events`), so a leaf
fixes the event's content and, through the chain, everything before it. The tree's root at
the chain head is the ``merkle_root`` that ``verify`` reports.

``merkle_nodes`` holds the hash of every perfect subtree ``(level, idx)`` of the events
appended so far (about two rows per event). It is derived data: :func:`extend` appends the
nodes of new events in chunks, reading only the O(log n) nodes of the tree's right edge, and
a proof reads at most ``log2(n)**2`` nodes in one query (:mod:`.merkle`). Several processes
may extend it at once: they compute the same rows, and inserts of rows already present are
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from hesuan.registry.db import tables as t
from hesuan.registry.transparency.merkle import Node, leaf_hash, node_hash, range_nodes

metadata = MetaData()

merkle_nodes = Table(
    "merkle_nodes", metadata,
    Column("level", SmallInteger, primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
)

tree_heads = Table(
    "tree_heads", metadata,
    Column("tree_size", BigInteger, primary_key=True),
    Column("key_id", String(64), primary_key=True),
    Column("root_hash", String(64), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("signature", String(88), nullable=False),
)

CHUNK = 5_000  # events per transaction while extending the tree
_IN_AT_MOST = 400  # node ids per query


class LogGap(RuntimeError):
    """The journal no longer continues the tree.

    An event is missing, or the first new event's ``prev_hash`` is not the chain hash the tree's
    last leaf holds (the journal before it was rewritten; ``verify`` names the event).
    """


def stored_size(conn: Connection) -> int:
    """How many leaves (events) the node table holds."""
    last = conn.execute(select(func.max(merkle_nodes.c.idx))
                        .where(merkle_nodes.c.level == 0)).scalar()
    return 0 if last is None else int(last) + 1


def read_nodes(conn: Connection, ids: Iterable[Node]) -> dict[Node, bytes]:
    """Return the stored hashes of the perfect subtrees ``ids`` (those present)."""
    wanted = sorted(set(ids))
    found: dict[Node, bytes] = {}
    for start in range(0, len(wanted), _IN_AT_MOST):
        by_level: dict[int, list[int]] = {}
        for level, idx in wanted[start:start + _IN_AT_MOST]:
            by_level.setdefault(level, []).append(idx)
        # one primary-key probe per node: (level = L AND idx IN (…)) OR … (a row-value IN
        # is not matched to the index by SQLite)
        where = or_(*(and_(merkle_nodes.c.level == level, merkle_nodes.c.idx.in_(idxs))
                      for level, idxs in by_level.items()))
        rows = conn.execute(select(merkle_nodes.c.level, merkle_nodes.c.idx,
                                   merkle_nodes.c.hash).where(where))
        found.update({(int(r.level), int(r.idx)): bytes(r.hash) for r in rows})
    return found


def nodes_of(conn: Connection, ids: Sequence[Node]) -> Mapping[Node, bytes]:
    """:func:`read_nodes`, failing if one is missing (the tree was not extended that far)."""
    found = read_nodes(conn, ids)
    missing = [n for n in ids if n not in found]
    if missing:
        raise LogGap(f"the Merkle tree lacks {len(missing)} node(s), e.g. {missing[0]}")
    return found


def _insert_ignoring_present(conn: Connection, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(merkle_nodes).on_conflict_do_nothing(), rows)


def extend(engine: Engine, upto: int) -> int:
    """Append the nodes of events ``stored_size + 1 … upto`` to the node table.

    In chunks of ``CHUNK`` events, one transaction each; return the tree size now stored.
    """
    with engine.execution_options(hesuan_readonly=True).connect() as conn:
        size = stored_size(conn)  # (no write lock when there is nothing to add)
    if size >= upto:
        return size
    while True:
        with engine.begin() as conn:
            size = stored_size(conn)
            if size >= upto:
                return size
            frontier = range_nodes(0, size) if size else []
            known = nodes_of(conn, [*frontier, (0, size - 1)] if size else [])
            stack = [(level, known[(level, idx)]) for level, idx in frontier]
            last_leaf = known.get((0, size - 1))
            end = min(upto, size + CHUNK)
            rows = conn.execute(select(t.events.c.seq, t.events.c.prev_hash, t.events.c.hash)
                                .where(t.events.c.seq > size, t.events.c.seq <= end)
                                .order_by(t.events.c.seq)).all()
            new: list[dict[str, object]] = []
            for row in rows:
                if row.seq != size + 1:
                    raise LogGap(f"event {size + 1} is missing from the journal")
                if last_leaf is not None and leaf_hash(bytes.fromhex(row.prev_hash)) != \
                        last_leaf:
                    raise LogGap(f"event {row.seq} does not follow the event the tree holds "
                                 f"as leaf {size - 1}: the journal before it was rewritten")
                last_leaf = None
                value, level, idx = leaf_hash(bytes.fromhex(row.hash)), 0, size
                new.append({"level": 0, "idx": idx, "hash": value})
                while stack and stack[-1][0] == level:
                    value = node_hash(stack.pop()[1], value)
                    level, idx = level + 1, idx >> 1
                    new.append({"level": level, "idx": idx, "hash": value})
                stack.append((level, value))
                size += 1
            if size != end:
                raise LogGap(f"event {size + 1} is missing from the journal")
            _insert_ignoring_present(conn, new)
