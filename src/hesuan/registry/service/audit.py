"""``verify``: recompute the hash chain, replay the log, compare with stored state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hesuan.registry.db import tables as t
from hesuan.registry.domain.events import StoredEvent, merkle_root, verify_chain
from hesuan.registry.domain.replay import (
    Replay,
    ReplayError,
    check_invariants,
    compare_with_replay,
)
from hesuan.registry.service.queries import snapshot

BATCH = 5_000


def _stream(session: Session, max_events: int) -> Any:
    last = 0
    seen = 0
    while True:
        rows = session.execute(select(t.events).where(t.events.c.seq > last)
                               .order_by(t.events.c.seq).limit(BATCH)).all()
        if not rows:
            return
        for r in rows:
            seen += 1
            if seen > max_events:
                raise RuntimeError(f"audit log longer than the limit of {max_events} events")
            yield r
        last = rows[-1].seq


def verify(session: Session, *, max_events: int) -> dict[str, Any]:
    """A report: ``ok``, the first bad event (if any), invariant and replay differences."""
    meta = session.execute(select(t.registry_meta)).first()
    if meta is None:
        return {"ok": False, "events": 0, "first_bad_event": None,
                "problems": ["registry not initialised"]}
    rows = list(_stream(session, max_events))
    stored = [StoredEvent(r.seq, r.type, r.at, r.actor, r.payload, r.prev_hash, r.hash)
              for r in rows]
    fault, count = verify_chain(stored, meta.head_seq, meta.head_hash)
    problems: list[str] = []
    first_bad = None
    if fault is not None:
        first_bad = fault.seq
        problems.append(f"event {fault.seq}: {fault.reason}")
    state = Replay()
    import json
    for ev in stored:
        if fault is not None and ev.seq >= fault.seq:
            break
        try:
            state.apply(ev.seq, ev.type, json.loads(ev.payload_json))
        except (ReplayError, KeyError, ValueError, TypeError, AssertionError) as exc:
            first_bad = ev.seq if first_bad is None else first_bad
            problems.append(f"event {ev.seq}: cannot be replayed ({exc})")
            break
    snap = snapshot(session)
    problems.extend(f"invariant: {p}" for p in check_invariants(snap))
    if fault is None and not problems:
        problems.extend(f"replay: {p}" for p in compare_with_replay(snap, state))
    return {
        "ok": not problems,
        "events": count,
        "head_seq": meta.head_seq,
        "head_hash": meta.head_hash,
        "merkle_root": merkle_root(e.hash for e in stored),
        "first_bad_event": first_bad,
        "problems": problems[:50],
        "units_issued": sum(e - s + 1 for (_, _, s, e) in snap.issuances.values()),
        "blocks": len(snap.blocks),
    }
