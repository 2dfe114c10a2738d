"""``verify``: recompute the hash chain, rebuild the whole state from the journal, compare.

Verification checks, in order: the append-only protections (triggers) are in place; the hash
chain (and each event's private part against the SHA-256 its body carries); every event's
actor against the role its type requires (:class:`~hesuan.registry.domain.replay.Journal`);
every table that decides an outcome against the one rebuilt from the events, key by key and
column by column; the ledger's invariants; each stored document against its SHA-256.

**Incremental.** A :class:`Verified` state (the rebuilt tables after event N, its hash, the
Merkle accumulator) lets the next call replay only the events after N: it checks that event
N still has the hash it had, then continues the chain from it. The stored tables are always
compared in full, in one snapshot. A full replay runs at start-up (:func:`startup_check`) and
whenever a call has found a problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from hesuan.errors import HesuanError
from hesuan.registry.db import tables as t
from hesuan.registry.domain.events import (
    GENESIS_HASH,
    MerkleAccumulator,
    StoredEvent,
    canonical_json,
    chain_hash,
    digest,
    verify_chain,
)
from hesuan.registry.domain.replay import (
    COMPARED,
    Difference,
    Journal,
    ReplayError,
    Row,
    check_invariants,
    compare_tables,
    compare_with_replay,
)
from hesuan.registry.service.queries import snapshot

BATCH = 5_000
#: Tables whose keys and values the public ``/audit/verify`` does not show (holdings, token
#: hashes, idempotency keys): a difference there is named by table and column only.
PRIVATE_TABLES = frozenset({"accounts", "tokens", "requests", "foreign_itmos"})


class RegistryUnverified(HesuanError):
    """The database failed verification or lacks its append-only protections.

    It is not served (``hesuan serve --allow-unverified`` serves it anyway, for forensics).
    """


@dataclass
class Verified:
    """What a successful verification leaves for the next one to continue from."""

    seq: int
    hash: str
    journal: Journal
    merkle: MerkleAccumulator
    documents: set[str] = field(default_factory=set)


def _stream(session: Session, after: int, max_events: int) -> Iterator[StoredEvent]:
    last, seen = after, 0
    while True:
        rows = session.execute(select(t.events).where(t.events.c.seq > last)
                               .order_by(t.events.c.seq).limit(BATCH)).all()
        if not rows:
            return
        for r in rows:
            seen += 1
            if seen > max_events:
                raise RuntimeError(f"audit log longer than the limit of {max_events} events")
            yield StoredEvent(r.seq, r.type, r.at, r.actor, r.payload, r.prev_hash, r.hash,
                              r.private)
        last = rows[-1].seq


def missing_protections(session: Session) -> list[str]:
    """Return the append-only guards that are absent, disabled or no longer refuse.

    The triggers and, on PostgreSQL, the exclusion constraint and the refusing function.
    """
    dialect = session.get_bind().dialect.name
    wanted = t.protections(dialect)
    if dialect == "postgresql":
        rows = session.execute(text(
            "SELECT tg.tgname, tg.tgenabled FROM pg_trigger tg "
            "JOIN pg_class c ON c.oid = tg.tgrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT tg.tgisinternal"
        )).all()
        enabled = {name for name, state in rows if state != "D"}
        missing = [f"trigger {n}" + (" is disabled" if n in {r[0] for r in rows} else "")
                   for n in wanted if n not in enabled]
        body = session.execute(text(
            "SELECT p.prosrc FROM pg_proc p WHERE p.proname = 'hesuan_refuse' "
            "AND p.pronamespace = current_schema()::regnamespace")).scalar()
        if body is None or "RAISE EXCEPTION" not in body.upper():
            missing.append("function hesuan_refuse no longer refuses")
        if session.execute(text(
                "SELECT 1 FROM pg_constraint WHERE conname = 'ex_blocks_serials_disjoint' "
                "AND connamespace = current_schema()::regnamespace")).first() is None:
            missing.append("constraint ex_blocks_serials_disjoint")
        return missing
    found: dict[str, str | None] = dict(session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
    return [f"trigger {n}" + ("" if n not in found else " no longer refuses")
            for n in wanted if "RAISE(ABORT" not in (found.get(n) or "").upper()]


def _stored(session: Session) -> dict[str, dict[Any, Row]]:
    """Return the stored rows of every compared table, keyed as :class:`Journal` keys them."""
    def rows(table: Table) -> list[Any]:
        return list(session.execute(select(table)).all())

    def cols(r: Any, table: str) -> Row:
        m = r._mapping
        return {c: m[c] for c in COMPARED[table] if c in m}

    out: dict[str, dict[Any, Row]] = {}
    for name in ("registry_meta", "parties", "accounts", "projects", "reports", "issuances",
                 "retirements", "cancellations", "authorisations", "verifier_accreditations",
                 "foreign_issuances", "foreign_itmos"):
        out[name] = {r.id: cols(r, name) for r in rows(getattr(t, name))}
    out["party_roles"] = {(r.party_id, r.role): {"revoked_seq": r.revoked_seq}
                          for r in rows(t.party_roles)}
    out["tokens"] = {r.token_sha256: cols(r, "tokens") for r in rows(t.tokens)}
    out["verifier_accreditations"] = {(r.party_id, r.sector): {"public_key": r.public_key}
                                      for r in rows(t.verifier_accreditations)}
    out["requests"] = {(r.party_id, r.idempotency_key): {
        "operation": r.operation, "payload_sha256": r.payload_sha256, "status": r.status,
        "response_sha256": digest(r.response)} for r in rows(t.requests)}
    docs = session.execute(select(t.project_documents).order_by(t.project_documents.c.id)).all()
    out["project_documents"] = {i: cols(r, "project_documents")
                                for i, r in enumerate(docs, start=1)}
    return out


def _documents(session: Session, journal: Journal, checked: set[str]) -> list[str]:
    """Each document not yet checked hashes to its key; every referenced one is stored."""
    problems = []
    stored = set(session.execute(select(t.documents.c.sha256)).scalars())
    for sha in sorted(journal.document_refs - stored):
        problems.append(f"documents {sha[:12]}…: referenced by the journal, not stored")
    for sha in sorted(stored - checked):
        content, size = session.execute(select(t.documents.c.content, t.documents.c.size_bytes)
                                        .where(t.documents.c.sha256 == sha)).one()
        if hashlib.sha256(bytes(content)).hexdigest() != sha or size != len(content):
            problems.append(f"documents {sha[:12]}…: content does not hash to its key")
        else:
            checked.add(sha)
    return problems


def _hashes_to(r: Any, expected: str) -> bool:
    """Return whether the stored event ``r`` still has hash ``expected`` and hashes to it.

    The anchor of an incremental verification: its content must still hash to ``expected``.
    """
    ev = StoredEvent(r.seq, r.type, r.at, r.actor, r.payload, r.prev_hash, r.hash, r.private)
    try:
        return ev.hash == expected and \
            chain_hash(ev.prev_hash, canonical_json(ev.body())) == expected
    except (ValueError, TypeError):
        return False


def _shown(d: Difference, public: bool) -> dict[str, Any]:
    if public and d.table in PRIVATE_TABLES:
        return {"table": d.table, "key": None, "column": d.column, "stored": None,
                "journal": None}
    return {"table": d.table, "key": repr(d.key), "column": d.column,
            "stored": d.stored, "journal": d.journal}


def verify(session: Session, *, max_events: int, since: Verified | None = None,
           public: bool = False) -> tuple[dict[str, Any], Verified | None]:
    """Return a verification report and the state a next call may continue from.

    The report: ``ok``, the first bad event if any, every problem, the differences by table, key and
    column; the state is ``None`` unless ``ok``. ``public`` withholds the keys and values of
    :data:`PRIVATE_TABLES`.
    """
    meta = session.execute(select(t.registry_meta)).first()
    if meta is None:
        return {"ok": False, "events": 0, "first_bad_event": None,
                "problems": ["registry not initialised"], "differences": []}, None
    problems = [f"protection: {m} (append-only guard missing)"
                for m in missing_protections(session)]
    start = since
    if start is not None:
        row = session.execute(select(t.events).where(t.events.c.seq == start.seq)).first()
        if meta.head_seq < start.seq or row is None or not _hashes_to(row, start.hash):
            problems.append(f"event {start.seq}: changed or removed since it was verified "
                            f"(hash was {start.hash[:12]}…)")
            start = None
    journal = Journal() if start is None else start.journal
    merkle = MerkleAccumulator.empty() if start is None else start.merkle
    after = (0, GENESIS_HASH) if start is None else (start.seq, start.hash)
    new = list(_stream(session, after[0], max_events))
    fault, count = verify_chain(new, meta.head_seq, meta.head_hash, after=after)
    first_bad = None
    if fault is not None:
        first_bad = fault.seq
        problems.append(f"event {fault.seq}: {fault.reason}")
    replayed = True
    for ev in new:
        if fault is not None and ev.seq >= fault.seq:
            replayed = False
            break
        merkle.add(ev.hash)
        try:
            journal.apply(ev.seq, ev.type, ev.at, ev.actor, ev.hash, ev.full_payload())
        except (ReplayError, KeyError, ValueError, TypeError, IndexError) as exc:
            first_bad = ev.seq if first_bad is None else first_bad
            problems.append(f"event {ev.seq}: cannot be replayed ({exc!r})")
            replayed = False
            break
    if journal.problems:
        first_bad = first_bad or int(journal.problems[0].split()[1].rstrip(":"))
        problems.extend(f"rule: {p}" for p in journal.problems[:50])
    snap = snapshot(session)
    problems.extend(f"invariant: {p}" for p in check_invariants(snap))
    differences: list[Difference] = []
    if replayed:
        problems.extend(f"replay: {p}" for p in compare_with_replay(snap, journal.units))
        differences = compare_tables(_stored(session), journal.tables())
        problems.extend(f"state: {d}" if not (public and d.table in PRIVATE_TABLES) else
                        f"state: {d.table}, column {d.column or '(whole row)'} differs from "
                        "the journal" for d in differences)
    documents = set() if start is None else set(start.documents)
    problems.extend(_documents(session, journal, documents))
    ok = not problems
    report = {
        "ok": ok,
        "events": count,
        "head_seq": meta.head_seq,
        "head_hash": meta.head_hash,
        "merkle_root": merkle.root() if fault is None else None,
        "first_bad_event": first_bad,
        "problems": problems[:50],
        "differences": [_shown(d, public) for d in differences[:50]],
        "units_issued": sum(e - s + 1 for (_, _, s, e) in snap.issuances.values()),
        "blocks": len(snap.blocks),
        "incremental_from": None if start is None else start.seq,
    }
    state = Verified(meta.head_seq, meta.head_hash, journal, merkle, documents) if ok else None
    return report, state


def startup_check(report: dict[str, Any]) -> None:
    """Raise :class:`RegistryUnverified` with an operator's message unless ``report`` is ok.

    ``report`` is a full :func:`verify`.
    """
    if report["ok"]:
        return
    shown = "\n  ".join(report["problems"][:10])
    raise RegistryUnverified(
        f"the registry database failed verification and is not served:\n  {shown}\n"
        "Run `hesuan registry verify --db …` for the whole report. To inspect the database "
        "through the API anyway (forensics; every reply then comes from unverified state), "
        "start the server with --allow-unverified.")
