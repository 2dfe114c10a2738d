"""Privacy: what the public sees (projects, issuances, retirements, block status, every
hashed event body) and what it does not (holdings per account, token hashes, idempotency
keys, stored replies) — checked against the public event feed, not only the account
route. Also: parties with several roles, and a split block's whereabouts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection
from hesuan.registry.domain.events import GENESIS_HASH, canonical_json, chain_hash

from .conftest import VERIFIER_PUBLIC_KEY, World, assert_sound, attestation, fresh_summary
from .test_tamper import _activity


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        yield c


def _feed(client: httpx.Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get("/audit/events", params={"after_seq": len(out), "limit": 500})
        assert page.status_code == 200
        if not page.json():
            return out
        out.extend(page.json())


def test_public_feed_recomputes_the_chain_but_not_the_holdings(world: World,
                                                               client: httpx.Client) -> None:
    w = world
    _activity(w)
    feed = _feed(client)
    # anyone can recompute every hash from the feed alone
    prev = GENESIS_HASH
    for ev in feed:
        assert set(ev) == {"seq", "type", "at", "actor", "payload", "private_sha256",
                           "prev_hash", "hash"}
        body = {k: ev[k] for k in ("seq", "type", "at", "actor", "payload")}
        if ev["private_sha256"] is not None:
            body["private"] = ev["private_sha256"]
        assert ev["prev_hash"] == prev
        assert chain_hash(prev, canonical_json(body)) == ev["hash"]
        prev = ev["hash"]
    assert prev == w.reg.verify()["head_hash"]
    # … but no holding account, mover, key, token hash or reply is in it
    text = json.dumps(feed)
    with w.reg.read() as s, s.begin():
        keys = [r[0] for r in s.execute(select(t.requests.c.idempotency_key)).all()]
        tokens = [r[0] for r in s.execute(select(t.tokens.c.token_sha256)).all()]
        holdings = [r[0] for r in s.execute(select(t.accounts.c.id)
                                            .where(t.accounts.c.kind == "holding")).all()]
    keys = [k for k in keys if len(k) == 32]  # (World.key(): uuid4 hex; the fixed ones are
    assert keys and tokens and holdings       # words such as "issue" found in any text)
    for secret in [*keys, *tokens]:
        assert secret not in text
    moved = [ev for ev in feed if ev["type"] == "units_moved"]
    assert moved and all(ev["actor"] is None for ev in moved)
    for ev in feed:
        payload = ev["payload"]
        assert not {"from_account", "to_account", "request_key", "requests",
                    "token_sha256"} & payload.keys()
        if ev["type"] in ("retirement_recorded", "cancellation_recorded"):
            assert "account_id" not in payload
        if ev["type"] == "account_opened" and payload["kind"] == "holding":
            assert payload == {"kind": "holding"} and ev["actor"] is None
        if ev["type"] == "project_listed":
            assert "forward_account_id" not in payload
    # what is public stays public: issuances, retirements with beneficiary, block status
    assert any(ev["type"] == "units_issued" and ev["payload"]["serial_count"] == 1000
               for ev in feed)
    retired = [ev for ev in feed if ev["type"] == "retirement_recorded"]
    assert retired[0]["payload"]["beneficiary"] == "Airline passengers 2024"
    assert {ev["payload"]["reason"] for ev in moved} >= {"transfer", "retirement"}
    public_retirement = client.get("/retirements").json()[0]
    assert "account_id" not in public_retirement
    assert public_retirement["beneficiary"] == "Airline passengers 2024"
    # the account route stays owner-only
    assert client.get(f"/accounts/{w.holder_account}",
                      headers={"Authorization": f"Bearer {w.tokens['holder2']}"}
                      ).status_code == 403


def test_an_accounts_history_is_for_its_owner_with_the_private_parts(world: World) -> None:
    """``account_events``: what the public feed shows only by SHA-256 (the accounts a
    transfer moved units between, the account a retirement took them from), for the
    accounts' owner and the administrator alone, never a request key."""
    w = world
    _activity(w)
    mine = w.reg.query("account_events", actor=w.holder, account_ids=[w.holder_account])
    assert [e["seq"] for e in mine] == sorted((e["seq"] for e in mine), reverse=True)
    # the account's opening, then _activity's 300 and 7 units to the holder and its CORSIA
    # retirement of 20 (the moved block and the retirement record); nothing else names it
    transfers = [e["payload"]["serial_count"] for e in mine if e["type"] == "units_moved"
                 and e["payload"]["reason"] == "transfer"]
    assert sorted(transfers) == [7, 300]
    assert all(e["payload"]["to_account"] == w.holder_account for e in mine
               if e["type"] == "units_moved" and e["payload"]["reason"] == "transfer")
    retired = [e for e in mine if e["type"] == "retirement_recorded"]
    assert len(retired) == 1 and retired[0]["payload"]["account_id"] == w.holder_account
    assert {e["type"] for e in mine} == {"account_opened", "units_moved", "retirement_recorded"}
    assert mine[-1]["type"] == "account_opened"
    assert not any({"request_key", "requests"} & e["payload"].keys() for e in mine)
    everyone = w.reg.query("account_events", actor=w.admin, account_ids=[w.holder_account])
    assert [e["seq"] for e in everyone] == [e["seq"] for e in mine]
    # the administrator sees the sender's account, the holder does not (another party's)
    assert all(e["payload"]["from_account"] == w.proponent_account for e in everyone
               if e["type"] == "units_moved" and e["payload"]["reason"] == "transfer")
    assert len(w.reg.query("account_events", actor=w.holder, account_ids=[w.holder_account],
                           limit=2)) == 2
    with pytest.raises(RegistryRejection) as refused:
        w.reg.query("account_events", actor=w.holder2, account_ids=[w.holder_account])
    assert refused.value.code is Rejection.account_must_belong_to_actor
    with pytest.raises(RegistryRejection) as missing:
        w.reg.query("account_events", actor=w.admin, account_ids=[10**6])
    assert missing.value.code is Rejection.account_must_exist


def test_a_transfers_counterparty_account_is_not_in_the_history(world: World) -> None:
    """Holdings per account are private (docs/registry.md, "Privacy"): of a transfer between
    two parties the receiver's history names its own account but not the sender's, the
    sender's its own but not the receiver's; the administrator's names both."""
    w = world
    w.reg.transfer(w.proponent, w.key(), from_account=w.proponent_account,
                   to_account=w.holder_account, quantity=50)
    w.reg.transfer(w.holder, w.key(), from_account=w.holder_account,
                   to_account=w.holder2_account, quantity=10)

    def moved(actor: Any, account: int) -> list[dict[str, Any]]:
        return [e["payload"] for e in w.reg.query("account_events", actor=actor,
                                                  account_ids=[account])
                if e["type"] == "units_moved" and e["payload"]["reason"] == "transfer"]

    received = moved(w.holder2, w.holder2_account)
    assert [(p["from_account"], p["to_account"]) for p in received] == [
        (None, w.holder2_account)]
    sent = moved(w.holder, w.holder_account)
    assert [(p["from_account"], p["to_account"]) for p in sent] == [
        (w.holder_account, None), (None, w.holder_account)]
    assert [(p["from_account"], p["to_account"]) for p in moved(w.admin, w.holder_account)
            ] == [(w.holder_account, w.holder2_account), (w.proponent_account, w.holder_account)]
    for p in [*received, *sent]:
        assert p["serial_count"] in (10, 50)  # the rest of the payload is still there


def test_a_party_may_hold_several_roles(world: World) -> None:
    """A proponent that is also a verifier lists a project, may validate another's project,
    never its own, and holds and moves units like any holder."""
    w, r = world, world.reg
    both = r.create_party(w.admin, w.key(), name="Forest Co-op", role="proponent",
                          additional_roles=["verifier"], country="KE")
    assert both["roles"] == ["proponent", "verifier"]
    actor = r.authenticate(both["token"])
    own = r.create_project(actor, w.key(), name="Co-op forest", methodology_id="VM0047",
                           methodology_version="1.1", host_country="KE", host_region="Nakuru",
                           sector="AFOLU", crediting_start="2020-01-01",
                           crediting_end="2039-12-31")["project_id"]
    with pytest.raises(RegistryRejection) as exc:
        r.transition_project(actor, w.key(), project_id=own, status="validated")
    assert exc.value.code is Rejection.verifier_must_not_be_proponent
    other = r.create_project(w.proponent, w.key(), name="Another",
                             methodology_id="CCER-14-001", methodology_version="V01",
                             host_country="KE",
                             host_region="Nakuru", sector="AFOLU",
                             crediting_start="2020-01-01",
                             crediting_end="2039-12-31")["project_id"]
    assert r.transition_project(actor, w.key(), project_id=other,
                                status="validated")["status"] == "validated"
    r.transition_project(w.admin, w.key(), project_id=other, status="registered")
    report = r.submit_report(w.proponent, w.key(), project_id=other, period_start="2024-01-01",
                             period_end="2024-12-31", reported_quantity=10,
                             quantification=(text := fresh_summary()))["report_id"]
    r.accredit_verifier(w.admin, w.key(), party_id=actor.party_id, sector="AFOLU",
                        public_key=VERIFIER_PUBLIC_KEY)
    assert r.verify_report(actor, w.key(), report_id=report, verified_quantity=10,
                           attestation=attestation(text, 10))["status"] == "verified"
    account = r.open_account(actor, w.key())["account_id"]
    r.transfer(w.proponent, w.key(), from_account=w.proponent_account, to_account=account,
               quantity=5)
    r.transfer(actor, w.key(), from_account=account, to_account=w.holder_account, quantity=2)
    with pytest.raises(RegistryRejection) as exc:  # still not an administrator
        r.issue(actor, w.key(), report_id=report, quantity=1)
    assert exc.value.code is Rejection.role_must_permit_operation
    assert_sound(r)
    assert r.verify(full=True)["ok"]


def test_a_split_block_says_where_it_went(world: World) -> None:
    w, r = world, world.reg
    block = r.query("issuances")[0]["serial"]  # 1–1000, split at issuance
    r.retire(w.proponent, w.key(), from_account=w.proponent_account,
             quantity=30, beneficiary="B", purpose="voluntary", claim_start="2024-01-01",
             claim_end="2024-12-31")
    out = r.query("serial_history", serial=block)
    assert out["serial"] == 1 and out["block"] != block
    assert out["asked_block"]["block"] == block and out["asked_block"]["exists"] is False
    now_in = out["asked_block"]["now_in"]
    assert (now_in[0]["serial_start"], now_in[-1]["serial_end"]) == (1, 1000)
    assert [(p["serial_start"], p["serial_end"], p["status"]) for p in now_in][:2] == [
        (1, 700, "held"), (701, 730, "retired")]
    same = r.query("serial_history", serial=out["block"])  # the block as it is now
    assert same["asked_block"]["exists"] is True


def test_several_roles_over_http(world: World, client: httpx.Client) -> None:
    h = {"Authorization": f"Bearer {world.tokens['admin']}", "Idempotency-Key": world.key()}
    r = client.post("/parties", headers=h, json={"name": "Agency", "role": "proponent",
                                                 "additional_roles": ["holder"]})
    assert r.status_code == 201 and r.json()["roles"] == ["holder", "proponent"]
    h["Idempotency-Key"] = world.key()
    r = client.post("/parties", headers=h, json={"name": "X", "role": "admin",
                                                 "additional_roles": ["holder"]})
    assert r.status_code == 422 and r.json()["code"] == "admin_role_must_stand_alone"
