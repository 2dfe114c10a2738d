"""Parties with several roles: roles granted and revoked after a party's creation by the
administrator, as journaled events that ``verify`` replays; every authorisation check
considers all of the actor's roles. Each rule on SQLite and PostgreSQL, and two servers
racing to take a party's last two roles."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.engine import Registry

from .conftest import World, assert_sound


def _roles(reg: Registry, party_id: int) -> tuple[str, list[str]]:
    """The party's registered role and every role it holds, as stored."""
    with reg.read() as s, s.begin():
        first = s.execute(select(t.parties.c.role).where(t.parties.c.id == party_id)).scalar()
        held = s.execute(select(t.party_roles.c.role)
                         .where(t.party_roles.c.party_id == party_id,
                                t.party_roles.c.revoked_seq.is_(None))).scalars().all()
    return str(first), sorted(held)


def _events(reg: Registry, type_: str) -> list[Any]:
    with reg.read() as s, s.begin():
        return list(s.execute(select(t.events.c.actor, t.events.c.payload)
                              .where(t.events.c.type == type_)).all())


def test_a_granted_role_permits_what_it_permits_and_a_revoked_one_no_longer(
        world: World) -> None:
    """A holder given the proponent role lists a project; once the role is taken back, it
    cannot list another, and its first role is what it was. Both changes are events of the
    administrator that a full replay agrees with."""
    w, reg = world, world.reg
    holder = w.holder.party_id
    listing = dict(name="Holder's own", methodology_id="VM0047", methodology_version="1.1",
                   host_country="KE", host_region="Nakuru", sector="AFOLU",
                   crediting_start="2020-01-01", crediting_end="2039-12-31")
    with pytest.raises(RegistryRejection) as before:
        reg.create_project(w.holder, w.key(), **listing)
    assert before.value.code is Rejection.role_must_permit_operation

    out = reg.grant_role(w.admin, w.key(), party_id=holder, role="proponent")
    assert out["roles"] == ["holder", "proponent"] and out["role"] == "holder"
    assert _roles(reg, holder) == ("holder", ["holder", "proponent"])
    project = reg.create_project(w.holder, w.key(), **listing)  # the same token, new role
    assert project["status"] == "listed"

    out = reg.revoke_role(w.admin, w.key(), party_id=holder, role="proponent")
    assert out["roles"] == ["holder"]
    with pytest.raises(RegistryRejection) as after:
        reg.create_project(w.holder, w.key(), **{**listing, "name": "Another"})
    assert after.value.code is Rejection.role_must_permit_operation

    granted, revoked = _events(reg, "role_granted"), _events(reg, "role_revoked")
    assert [e.actor for e in granted + revoked] == [w.admin.party_id] * 2
    report = reg.verify(full=True)
    assert report["ok"], report["problems"]


def test_the_registered_role_can_be_revoked_and_granted_again(world: World) -> None:
    """The role a party was registered with is revoked like any other (the registration
    stays a fact: ``parties.role`` is unchanged), and can be granted again; the rows keep
    the revoking event's number while revoked."""
    w, reg = world, world.reg
    verifier = w.verifier.party_id
    reg.grant_role(w.admin, w.key(), party_id=verifier, role="holder")
    out = reg.revoke_role(w.admin, w.key(), party_id=verifier, role="verifier")
    assert out["roles"] == ["holder"]
    assert _roles(reg, verifier) == ("verifier", ["holder"])
    with pytest.raises(RegistryRejection) as exc:
        reg.verify_report(w.verifier, w.key(), report_id=w.report_id, verified_quantity=1)
    assert exc.value.code is Rejection.role_must_permit_operation
    with reg.read() as s, s.begin():
        revoked = s.execute(select(t.party_roles.c.revoked_seq).where(
            (t.party_roles.c.party_id == verifier)
            & (t.party_roles.c.role == "verifier"))).scalar()
    assert revoked == out["event_seq"]
    again = reg.grant_role(w.admin, w.key(), party_id=verifier, role="verifier")
    assert again["roles"] == ["holder", "verifier"]
    assert _roles(reg, verifier) == ("verifier", ["holder", "verifier"])
    assert_sound(reg)
    assert reg.verify(full=True)["ok"]


@pytest.mark.parametrize(("code", "change"), [
    (Rejection.role_must_permit_operation,
     lambda w: w.reg.grant_role(w.proponent, w.key(), party_id=w.holder.party_id,
                                role="verifier")),
    (Rejection.party_must_exist,
     lambda w: w.reg.grant_role(w.admin, w.key(), party_id=999, role="verifier")),
    (Rejection.role_must_be_known,
     lambda w: w.reg.grant_role(w.admin, w.key(), party_id=w.holder.party_id, role="owner")),
    (Rejection.role_must_not_be_held,
     lambda w: w.reg.grant_role(w.admin, w.key(), party_id=w.holder.party_id, role="holder")),
    (Rejection.admin_role_must_stand_alone,
     lambda w: w.reg.grant_role(w.admin, w.key(), party_id=w.holder.party_id, role="admin")),
    (Rejection.admin_role_must_stand_alone,
     lambda w: w.reg.grant_role(w.admin, w.key(), party_id=w.admin.party_id, role="holder")),
    (Rejection.text_must_not_be_empty,  # the verifier has no country: no authority
     lambda w: w.reg.grant_role(w.admin, w.key(), party_id=w.verifier.party_id,
                                role="host_authority")),
    (Rejection.role_must_be_held,
     lambda w: w.reg.revoke_role(w.admin, w.key(), party_id=w.holder.party_id,
                                 role="verifier")),
    (Rejection.party_must_keep_a_role,
     lambda w: w.reg.revoke_role(w.admin, w.key(), party_id=w.holder.party_id, role="holder")),
    (Rejection.party_must_keep_a_role,
     lambda w: w.reg.revoke_role(w.admin, w.key(), party_id=w.admin.party_id, role="admin")),
], ids=["not-admin", "no-party", "unknown-role", "held", "admin-to-holder",
        "role-to-admin", "authority-without-country", "not-held", "last-role", "admin-role"])
def test_role_rules(world: World, code: Rejection, change: Callable[[World], Any]) -> None:
    """Each rule of a role change is a named refusal that changes nothing."""
    w = world
    before = {p: _roles(w.reg, p) for p in (w.admin.party_id, w.holder.party_id,
                                            w.verifier.party_id)}
    with pytest.raises(RegistryRejection) as exc:
        change(w)
    assert exc.value.code is code, exc.value
    assert {p: _roles(w.reg, p) for p in before} == before
    assert not _events(w.reg, "role_granted") and not _events(w.reg, "role_revoked")
    assert_sound(w.reg)


def test_role_rows_are_written_once_but_for_their_revocation(world: World) -> None:
    """A role's row cannot be deleted or renamed (the write-once trigger); a revocation
    written by hand, without its journaled event, differs from the replayed journal."""
    w, reg = world, world.reg
    this = (t.party_roles.c.party_id == w.proponent.party_id) \
        & (t.party_roles.c.role == "proponent")
    for statement in (delete(t.party_roles).where(this),
                      update(t.party_roles).where(this).values(role="verifier")):
        with pytest.raises(DBAPIError, match="written once"), reg.engine.begin() as conn:
            conn.execute(statement)
    with reg.engine.begin() as conn:  # the proponent's role taken with no event
        conn.execute(update(t.party_roles).where(this).values(revoked_seq=1))
    report = reg.verify(full=True)
    assert not report["ok"]
    assert any("party_roles" in p for p in report["problems"]), report["problems"]


def _take(barrier: threading.Barrier, outcomes: list[Any], i: int, reg: Registry,
          actor: Any, key: str, party: int, role: str) -> None:
    """Revoke ``role`` once both racers are ready; the outcome into ``outcomes[i]``."""
    barrier.wait()
    try:
        outcomes[i] = reg.revoke_role(actor, key, party_id=party, role=role)["roles"]
    except RegistryRejection as rej:
        outcomes[i] = rej.code


def test_two_servers_racing_to_take_both_remaining_roles_leave_one(url: str) -> None:
    """Two registries on one database (two servers) each take one of a party's two roles
    at the same moment, many times over: every time exactly one succeeds, the other is
    refused ``party_must_keep_a_role``, and the party keeps one role."""
    from .conftest import build_world

    first = Registry.open(url, pool_size=5)
    second = Registry.open(url, pool_size=5)
    try:
        w = build_world(first)
        party = w.holder.party_id
        admin2 = second.authenticate(w.tokens["admin"])
        for n in range(8):
            first.grant_role(w.admin, w.key(), party_id=party, role="proponent")
            barrier = threading.Barrier(2)
            outcomes: list[Any] = [None, None]
            threads = [threading.Thread(target=_take, args=(
                barrier, outcomes, i, reg, actor, f"race-{n}-{i}", party, role))
                for i, (reg, role, actor) in enumerate(((first, "holder", w.admin),
                                                        (second, "proponent", admin2)))]
            for th in threads:
                th.start()
            for th in threads:
                th.join(timeout=60)
            refused = [o for o in outcomes if o is Rejection.party_must_keep_a_role]
            kept = [o for o in outcomes if isinstance(o, list)]
            assert len(refused) == 1 and len(kept) == 1, outcomes
            left = _roles(first, party)[1]
            assert left == kept[0] and len(left) == 1
            if left == ["proponent"]:  # back to a holder for the next round
                first.grant_role(w.admin, w.key(), party_id=party, role="holder")
                first.revoke_role(w.admin, w.key(), party_id=party, role="proponent")
        report = first.verify(full=True)
        assert report["ok"], report["problems"]
    finally:
        second.close()
        first.close()


def test_roles_over_http(world: World) -> None:
    """``POST /parties/{id}/roles`` and ``DELETE /parties/{id}/roles/{role}``: the
    administrator's, with an idempotency key; anyone else is refused; an unknown role is a
    422 before any rule runs."""
    w = world
    transport = InProcessTransport(create_app(w.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        def h(who: str, key: str | None = None) -> dict[str, str]:
            return {"Authorization": f"Bearer {w.tokens[who]}",
                    "Idempotency-Key": key or w.key()}

        path = f"/parties/{w.holder.party_id}/roles"
        granted = c.post(path, headers=h("admin", "g1"), json={"role": "verifier"})
        assert granted.status_code == 201, granted.text
        assert granted.json()["roles"] == ["holder", "verifier"]
        replay = c.post(path, headers=h("admin", "g1"), json={"role": "verifier"})
        assert replay.json()["idempotent_replay"] is True
        assert c.post(path, headers=h("holder"), json={"role": "proponent"}).json()["code"] \
            == "role_must_permit_operation"
        assert c.post(path, headers=h("admin"), json={"role": "owner"}).status_code == 422
        assert c.delete(f"{path}/owner", headers=h("admin")).status_code == 422
        revoked = c.delete(f"{path}/verifier", headers=h("admin"))
        assert revoked.status_code == 200 and revoked.json()["roles"] == ["holder"]
        last = c.delete(f"{path}/holder", headers=h("admin"))
        assert last.status_code == 409 and last.json()["code"] == "party_must_keep_a_role"
    assert_sound(w.reg)
