"""Tampering: change one byte of an event, delete one, reorder two, or edit stored state
behind the ledger's back — verification fails and names the first bad event."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from hesuan.registry.db import tables as t

from .conftest import World, assert_sound


def _unprotect(w: World) -> None:
    """What an attacker with database access would do first: drop the append-only guard."""
    with w.reg.engine.begin() as conn:
        if w.reg.dialect == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER events_append_only_update"))
            conn.execute(text("DROP TRIGGER events_append_only_delete"))


def _busy(w: World) -> None:
    for _ in range(3):
        w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                       to_account=w.holder_account, quantity=7)
    assert_sound(w.reg)


def test_changed_byte_is_named(world: World) -> None:
    _busy(world)
    _unprotect(world)
    with world.reg.engine.begin() as conn:
        seq, payload = conn.execute(select(t.events.c.seq, t.events.c.payload)
                                    .where(t.events.c.type == "units_moved")
                                    .order_by(t.events.c.seq.desc())).first()
        i = payload.index('"serial_end":') + len('"serial_end":')
        digit = "1" if payload[i] != "1" else "2"
        conn.execute(update(t.events).where(t.events.c.seq == seq)
                     .values(payload=payload[:i] + digit + payload[i + 1:]))
    out = world.reg.verify(full=True)
    assert not out["ok"] and out["first_bad_event"] == seq
    assert any(f"event {seq}: hash does not match" in p for p in out["problems"])


def test_deleted_event_is_named(world: World) -> None:
    _busy(world)
    _unprotect(world)
    with world.reg.engine.begin() as conn:
        conn.execute(t.events.delete().where(t.events.c.seq == 9))
    out = world.reg.verify(full=True)
    assert not out["ok"] and out["first_bad_event"] == 9
    assert any("event 9 is missing" in p for p in out["problems"])


def test_reordered_events_are_named(world: World) -> None:
    _busy(world)
    _unprotect(world)
    with world.reg.engine.begin() as conn:
        for a, b in ((6, 10_000_006), (7, 6), (10_000_006, 7)):
            conn.execute(update(t.events).where(t.events.c.seq == a).values(seq=b))
    out = world.reg.verify(full=True)
    assert not out["ok"] and out["first_bad_event"] == 6


def test_truncated_tail_is_detected(world: World) -> None:
    _busy(world)
    _unprotect(world)
    with world.reg.engine.begin() as conn:
        last = conn.execute(select(t.registry_meta.c.head_seq)).scalar()
        conn.execute(t.events.delete().where(t.events.c.seq == last))
    out = world.reg.verify(full=True)
    assert not out["ok"] and out["first_bad_event"] == last


@pytest.mark.parametrize("what", ["block_moved", "balance_changed"])
def test_state_edited_behind_the_ledger_is_reported(world: World, what: str) -> None:
    _busy(world)
    with world.reg.engine.begin() as conn:
        if what == "block_moved":
            conn.execute(update(t.blocks).where(t.blocks.c.account_id == world.holder_account)
                         .values(account_id=world.holder2_account))
        else:
            conn.execute(update(t.accounts).where(t.accounts.c.id == world.holder_account)
                         .values(balance=t.accounts.c.balance + 5))
    out = world.reg.verify(full=True)
    assert not out["ok"] and out["first_bad_event"] is None
    assert any(str(world.holder_account) in p for p in out["problems"])
