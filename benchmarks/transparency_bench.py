"""Transparency log at scale: tree extension and proof times for a journal of N events.

    python benchmarks/transparency_bench.py [--events 100000] [--db postgresql://…]

Builds a registry, appends N synthetic events to its journal (a valid hash chain; the
tree reads only ``seq``, ``prev_hash`` and ``hash``), then times: extending the tree from
nothing (once), signing a tree head, inclusion proofs of random events, consistency proofs
between random sizes, and — as the baseline in the same run — recomputing the root from
every event (what a proof would cost if it rehashed the log). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, update

from hesuan.registry.db import tables as t
from hesuan.registry.domain.events import chain_hash
from hesuan.registry.engine import Registry
from hesuan.registry.transparency import merkle
from hesuan.registry.transparency.log import TransparencyLog


def _append_events(reg: Registry, count: int) -> int:
    with reg.engine.begin() as conn:
        meta = conn.execute(select(t.registry_meta)).one()
        seq, prev = int(meta.head_seq), meta.head_hash
        rows = []
        for _ in range(count):
            seq += 1
            body = f'{{"seq":{seq},"type":"bench","payload":{{}}}}'
            h = chain_hash(prev, body)
            rows.append({"seq": seq, "type": "bench", "at": "2026-01-01T00:00:00+00:00",
                         "actor": None, "payload": "{}", "prev_hash": prev, "hash": h})
            prev = h
            if len(rows) == 5000:
                conn.execute(insert(t.events), rows)
                rows = []
        if rows:
            conn.execute(insert(t.events), rows)
        conn.execute(update(t.registry_meta).values(head_seq=seq, head_hash=prev))
    return seq


def _ms(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--proofs", type=int, default=200)
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.mkdtemp()) / "bench.db")
    reg = Registry.open(db)
    reg.bootstrap()
    size = _append_events(reg, args.events)
    log = TransparencyLog(reg.engine, Ed25519PrivateKey.generate())
    t0 = time.perf_counter()
    head = log.tree_head()
    build_s = time.perf_counter() - t0
    rng = random.Random(1)
    inclusion = _ms(lambda: log.inclusion(rng.randint(1, size), size), args.proofs)
    consistency = _ms(lambda: log.consistency(rng.randint(1, size - 1), size), args.proofs)
    _append_events(reg, 10)
    sign_new = _ms(log.tree_head, 1)
    sign_same = _ms(log.tree_head, 20)

    def full_rehash() -> None:
        with reg.read() as s, s.begin():
            hashes = s.execute(select(t.events.c.hash).order_by(t.events.c.seq)).scalars()
            merkle.root_of(bytes.fromhex(h) for h in hashes)

    rehash = _ms(full_rehash, 3)
    med = statistics.median
    print(json.dumps({
        "backend": reg.dialect, "events": size, "tree_head_root": head.root_hash[:16],
        "build_tree_from_nothing_s": round(build_s, 2),
        "inclusion_proof_ms_median": round(med(inclusion), 2),
        "inclusion_proof_ms_p95": round(sorted(inclusion)[int(0.95 * len(inclusion))], 2),
        "consistency_proof_ms_median": round(med(consistency), 2),
        "consistency_proof_ms_p95": round(sorted(consistency)[int(0.95 * len(consistency))], 2),
        "sign_new_head_after_10_events_ms": round(sign_new[0], 2),
        "tree_head_unchanged_ms_median": round(med(sign_same), 2),
        "baseline_rehash_whole_log_ms_median": round(med(rehash), 1),
        "rehash_over_inclusion_proof": round(med(rehash) / med(inclusion), 1),
    }, indent=1))
    reg.close()


if __name__ == "__main__":
    main()
