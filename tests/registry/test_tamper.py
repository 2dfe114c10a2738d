"""The tamper suite: direct database edits an attacker with write access could make, each
of which verification must detect — on a fresh process (the start-up check, an auditor's
``hesuan registry verify``) and, where stated, on the live registry that verified before.

Each case is data: a name, the edit (plain SQL through the engine, the way an outsider with
the database's credentials would do it, dropping the append-only guards first where the edit
needs it) and a text that must appear among the problems verification reports. They are the
22 edits of the registry's tamper report (issue 17) plus five more.

One variant is **not** detectable from the database alone: a consistent re-hash of the whole
chain after redirecting a transfer, with the stored state and stored reply rewritten to
match (``test_consistent_rehash_needs_a_signed_tree_head``). Anyone holding an earlier signed
tree head of the transparency log detects it (the log's consistency proof fails); here the
live registry detects it because it remembers the hash of the last event it verified.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select, text, update

from hesuan.registry.db import tables as t
from hesuan.registry.domain.events import StoredEvent, canonical_json, chain_hash, digest
from hesuan.registry.engine import Registry
from hesuan.registry.service.audit import RegistryUnverified

from .conftest import World, assert_sound


def _activity(w: World) -> dict[str, Any]:
    """Every kind of record the cases edit: a transfer, a second (unauthorised) issuance,
    an authorisation with its corresponding adjustment pending, a CORSIA retirement, a
    cancellation, a document, and last a small transfer."""
    r = w.reg
    r.transfer(w.proponent, w.key(), from_account=w.proponent_account,
               to_account=w.holder_account, quantity=300)
    second = r.issue(w.admin, w.key(), report_id=w.report_id, quantity=100)
    auth = r.authorise(w.authority, w.key(), issuance_id=w.issuance_id, uses=["corsia"],
                       first_transfer="authorisation", reference="KE-LoA-1",
                       authorised_on="2025-01-10")
    r.corresponding_adjustment(w.authority, w.key(), authorisation_id=auth["authorisation_id"],
                               status="Pending", reporting_year=2025)
    ret = r.retire(w.holder, w.key(), from_account=w.holder_account, quantity=20,
                   beneficiary="Airline passengers 2024", purpose="corsia",
                   claim_start="2024-01-01", claim_end="2024-12-31")
    r.cancel(w.admin, w.key(), from_account=w.proponent_account, quantity=5,
             reason="correction of a data entry error")
    doc = r.add_document(w.proponent, w.key(), project_id=w.project_id, name="PDD", kind="pdd",
                         content=b"project design document")
    r.transfer(w.proponent, w.key(), from_account=w.proponent_account,
               to_account=w.holder_account, quantity=7)
    assert_sound(r)
    return {"issuance2": second["issuance_id"], "retirement": ret["retirement_id"],
            "document": doc["sha256"], "authorisation": auth["authorisation_id"]}


def _drop_guards(conn: Connection) -> None:
    """What an attacker with the database's credentials does first."""
    if conn.dialect.name == "postgresql":
        for table in ("events", "blocks", *t.WRITE_ONCE):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for name in t.protections("sqlite"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def _last(conn: Connection, type_: str) -> Any:
    return conn.execute(select(t.events).where(t.events.c.type == type_)
                        .order_by(t.events.c.seq.desc()).limit(1)).one()


def _rehash_from(conn: Connection, seq: int) -> None:
    """Recompute the chain from event ``seq`` on and store it (with the head)."""
    rows = conn.execute(select(t.events).where(t.events.c.seq >= seq)
                        .order_by(t.events.c.seq)).all()
    prev = rows[0].prev_hash
    for r in rows:
        ev = StoredEvent(r.seq, r.type, r.at, r.actor, r.payload, prev, r.hash, r.private)
        new = chain_hash(prev, canonical_json(ev.body()))
        conn.execute(update(t.events).where(t.events.c.seq == r.seq)
                     .values(prev_hash=prev, hash=new))
        prev = new
    conn.execute(update(t.registry_meta).values(head_hash=prev))


# -- the edits ------------------------------------------------------------------------
def event_byte_changed(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    ev = _last(conn, "units_issued")
    conn.execute(update(t.events).where(t.events.c.seq == ev.seq)
                 .values(payload=ev.payload.replace('"vintage":2024', '"vintage":2023')))


def middle_event_deleted(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    conn.execute(t.events.delete().where(t.events.c.seq == 9))


def events_swapped(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    for a, b in ((6, 10_000_006), (7, 6), (10_000_006, 7)):
        conn.execute(update(t.events).where(t.events.c.seq == a).values(seq=b))


def tail_truncated(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    last = conn.execute(select(t.registry_meta.c.head_seq)).scalar_one()
    conn.execute(t.events.delete().where(t.events.c.seq == last))


def last_event_deleted_head_rewound(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    last = conn.execute(select(t.registry_meta.c.head_seq)).scalar_one()
    prev = conn.execute(select(t.events.c.prev_hash).where(t.events.c.seq == last)).scalar_one()
    conn.execute(t.events.delete().where(t.events.c.seq == last))
    conn.execute(update(t.registry_meta).values(head_seq=last - 1, head_hash=prev))


def block_moved(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.blocks).where(t.blocks.c.account_id == w.holder_account,
                                        t.blocks.c.status == "held")
                 .values(account_id=w.holder2_account))


def balance_raised(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.accounts).where(t.accounts.c.id == w.holder_account)
                 .values(balance=t.accounts.c.balance + 5))


def account_reassigned(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.accounts).where(t.accounts.c.id == w.proponent_account)
                 .values(party_id=w.holder2.party_id))


def role_raised_to_admin(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    conn.execute(update(t.parties).where(t.parties.c.id == w.holder.party_id)
                 .values(role="admin"))


def role_row_planted(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(insert(t.party_roles).values(party_id=w.holder.party_id, role="verifier"))


def token_planted(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(insert(t.tokens).values(
        token_sha256=hashlib.sha256(b"hsn_attacker").hexdigest(), party_id=w.admin.party_id,
        expires_at=None, created_at="2025-01-01T00:00:00+00:00"))


def verified_quantity_raised(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.reports).where(t.reports.c.id == w.report_id)
                 .values(verified_quantity=5000))


def issued_quantity_lowered(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.reports).where(t.reports.c.id == w.report_id)
                 .values(issued_quantity=0))


def authorisation_forged(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(insert(t.authorisations).values(
        issuance_id=ids["issuance2"], authority_id=w.authority.party_id, uses="corsia,ndc",
        first_transfer="authorisation", reference="forged", authorised_on="2025-01-01",
        ca_declaration="Committed", ca_status="Not Started", ca_reporting_year=None,
        event_seq=0))


def authorised_uses_widened(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.authorisations).where(t.authorisations.c.issuance_id == w.issuance_id)
                 .values(uses="corsia,ndc,oimp"))


def ca_status_completed(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.authorisations).where(t.authorisations.c.issuance_id == w.issuance_id)
                 .values(ca_status="Completed"))


def forward_account_redirected(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.projects).where(t.projects.c.id == w.project_id)
                 .values(forward_account_id=w.holder2_account))


def buffer_zeroed(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.projects).where(t.projects.c.id == w.project_id)
                 .values(buffer_pct="0"))


def levies_zeroed(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.registry_meta).values(share_of_proceeds_pct="0",
                                                overall_mitigation_pct="0"))


def retirement_beneficiary_rewritten(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.retirements).where(t.retirements.c.id == ids["retirement"])
                 .values(beneficiary="Someone else"))


def retirement_statement_rewritten(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    row = conn.execute(select(t.retirements.c.statement)
                       .where(t.retirements.c.id == ids["retirement"])).scalar_one()
    conn.execute(update(t.retirements).where(t.retirements.c.id == ids["retirement"])
                 .values(statement=row.replace("20 unit(s)", "200 unit(s)")))


def cancellation_reason_rewritten(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(update(t.cancellations).values(reason="routine"))


def stored_reply_forged(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    row = conn.execute(select(t.requests).where(t.requests.c.operation == "transfer",
                                                t.requests.c.status == "ok")).first()
    reply = json.loads(row.response) | {"to_account": w.holder2_account}
    conn.execute(update(t.requests).where(t.requests.c.party_id == row.party_id,
                                          t.requests.c.idempotency_key == row.idempotency_key)
                 .values(response=json.dumps(reply)))


def stored_success_planted(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(insert(t.requests).values(
        party_id=w.holder.party_id, idempotency_key="never-sent", operation="retire",
        payload_sha256="0" * 64, status="ok", response='{"retirement_id": 99}',
        created_at="2025-01-01T00:00:00+00:00"))


def accreditation_planted(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    conn.execute(insert(t.verifier_accreditations).values(
        party_id=w.verifier.party_id, sector="energy", public_key="ab" * 32,
        accredited_at="2025-01-01T00:00:00+00:00"))


def document_replaced(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)
    conn.execute(update(t.documents).where(t.documents.c.sha256 == ids["document"])
                 .values(content=b"another design document"))


def append_only_guards_dropped(conn: Connection, w: World, ids: dict[str, Any]) -> None:
    _drop_guards(conn)


@dataclass(frozen=True)
class Case:
    edit: Callable[[Connection, World, dict[str, Any]], None]
    expect: str
    """A text that must appear in one of the problems verification reports."""


CASES = [
    Case(event_byte_changed, "hash does not match"),
    Case(middle_event_deleted, "event 9 is missing"),
    Case(events_swapped, "event 6"),
    Case(tail_truncated, "chain head says"),
    Case(last_event_deleted_head_rewound, "requests"),
    Case(block_moved, "replay: stored block"),
    Case(balance_raised, "balance"),
    Case(account_reassigned, "accounts"),
    Case(role_raised_to_admin, "column role"),
    Case(role_row_planted, "party_roles"),
    Case(token_planted, "tokens"),
    Case(verified_quantity_raised, "column verified_quantity"),
    Case(issued_quantity_lowered, "column issued_quantity"),
    Case(authorisation_forged, "authorisations"),
    Case(authorised_uses_widened, "column uses"),
    Case(ca_status_completed, "column ca_status"),
    Case(forward_account_redirected, "column forward_account_id"),
    Case(buffer_zeroed, "column buffer_pct"),
    Case(levies_zeroed, "column share_of_proceeds_pct"),
    Case(retirement_beneficiary_rewritten, "column beneficiary"),
    Case(retirement_statement_rewritten, "column statement"),
    Case(cancellation_reason_rewritten, "column reason"),
    Case(stored_reply_forged, "column response_sha256"),
    Case(stored_success_planted, "requests"),
    Case(accreditation_planted, "verifier_accreditations"),
    Case(document_replaced, "does not hash to its key"),
    Case(append_only_guards_dropped, "append-only guard missing"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.edit.__name__ for c in CASES])
def test_direct_edit_is_detected(world: World, url: str, case: Case) -> None:
    ids = _activity(world)
    with world.reg.engine.begin() as conn:
        case.edit(conn, world, ids)
    fresh = Registry.open(url, pool_size=2)  # an auditor, or the server starting
    try:
        out = fresh.verify()
        assert not out["ok"]
        assert any(case.expect in p for p in out["problems"]), out["problems"]
        with pytest.raises(RegistryUnverified, match="--allow-unverified"):
            fresh.check_startup()
        assert fresh.check_startup(allow_unverified=True)["ok"] is False  # forensics
    finally:
        fresh.close()
    assert world.reg.verify()["ok"] is False  # the live registry, incrementally, too


def test_public_verify_withholds_private_values(world: World) -> None:
    _activity(world)
    with world.reg.engine.begin() as conn:
        token_planted(conn, world, {})
    out = world.reg.verify(public=True)
    assert not out["ok"]
    planted = hashlib.sha256(b"hsn_attacker").hexdigest()
    assert planted not in json.dumps(out)
    assert {"table": "tokens", "key": None, "column": None, "stored": None,
            "journal": None} in out["differences"]


def test_consistent_rehash_needs_a_signed_tree_head(world: World, url: str) -> None:
    """The one edit the database alone cannot reveal: the last transfer redirected to
    another holder in its event's private part, its stored reply and the reply's digest in
    the journal rewritten, blocks and balances moved, and the chain re-hashed from there to
    the head. A fresh process finds everything consistent — only an earlier signed tree
    head of the transparency log (a witness, any client that kept one) exposes it. The live
    registry that verified before the rewrite detects it: the event it verified last no
    longer has the hash it had."""
    w = world
    _activity(w)
    with w.reg.engine.begin() as conn:
        _drop_guards(conn)
        moved = _last(conn, "units_moved")
        private = json.loads(moved.private) | {"to_account": w.holder2_account}
        conn.execute(update(t.events).where(t.events.c.seq == moved.seq)
                     .values(private=canonical_json(private)))
        request = conn.execute(select(t.requests).where(
            t.requests.c.idempotency_key == private["request_key"])).one()
        reply = json.loads(request.response) | {"to_account": w.holder2_account}
        conn.execute(update(t.requests).where(
            t.requests.c.idempotency_key == request.idempotency_key)
            .values(response=json.dumps(reply)))
        recorded = _last(conn, "requests_recorded")
        journal = json.loads(recorded.private)
        for entry in journal["requests"]:
            if entry[1] == request.idempotency_key:
                entry[4] = digest(json.dumps(reply))
        conn.execute(update(t.events).where(t.events.c.seq == recorded.seq)
                     .values(private=canonical_json(journal)))
        conn.execute(update(t.blocks).where(t.blocks.c.serial_start == moved.serial_start)
                     .values(account_id=w.holder2_account))
        for account, delta in ((w.holder_account, -7), (w.holder2_account, 7)):
            conn.execute(update(t.accounts).where(t.accounts.c.id == account)
                         .values(balance=t.accounts.c.balance + delta))
        _rehash_from(conn, moved.seq)
        for table in ("events", "blocks", *t.WRITE_ONCE):  # guards back in place
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    if w.reg.dialect == "sqlite":  # (SQLite's dropped triggers come back by migration)
        with w.reg.engine.begin() as conn:
            _recreate_sqlite_guards(conn)
    fresh = Registry.open(url, pool_size=2)
    try:
        assert fresh.verify()["ok"] is True  # the documented exception: needs the key
    finally:
        fresh.close()
    live = w.reg.verify()
    assert not live["ok"]
    assert any("changed or removed since it was verified" in p for p in live["problems"])


def _recreate_sqlite_guards(conn: Connection) -> None:
    import importlib.util
    from pathlib import Path

    from hesuan.registry.db import engine

    versions = Path(engine.__file__).parent / "migrations" / "versions"
    specs = []
    for name in ("0001_initial", "0002_whole_state_journal"):
        spec = importlib.util.spec_from_file_location(name, versions / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        specs.append(module)
    for statement in specs[0]._SQLITE_TRIGGERS:
        conn.execute(text(statement))
    for table in specs[1].WRITE_ONCE:
        for statement in specs[1]._sqlite_triggers(table):
            conn.execute(text(statement))


def test_serve_refuses_a_tampered_database(tmp_path: Any, capsys: Any) -> None:
    """``hesuan serve`` names the problem and the override, exits 2, serves nothing."""
    from hesuan.cli import main

    from .conftest import build_world

    db = tmp_path / "tampered.db"
    reg = Registry.open(f"sqlite:///{db}", pool_size=2)
    try:
        w = build_world(reg)
        with reg.engine.begin() as conn:
            levies_zeroed(conn, w, {})
    finally:
        reg.close()
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--db", str(db), "--port", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "failed verification" in err and "share_of_proceeds_pct" in err
    assert "--allow-unverified" in err
