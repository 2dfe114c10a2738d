"""Tokens a party issues and revokes itself: ``IssueToken`` and ``RevokeToken`` as
journaled events that ``verify`` replays, every refusal named, the REST routes under
``/parties/me/tokens``, and the secret never stored, published or answered twice. On
SQLite and PostgreSQL (the ``world`` fixture, tests/registry/conftest.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.domain.codes import RegistryRejection, Rejection

from .conftest import World, assert_sound


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        yield c


def _h(w: World, token: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key or w.key()}


def _code(exc: pytest.ExceptionInfo[RegistryRejection]) -> Rejection:
    return exc.value.code


def test_a_party_issues_itself_a_token_that_authenticates_it(world: World) -> None:
    """The token is answered once, stored as its SHA-256, expires within the maximum, and a
    full replay of the journal rebuilds its row (label, expiry)."""
    w, reg = world, world.reg
    out = reg.issue_token(w.holder, w.key(), label="laptop", ttl_days=30)
    assert out["token"].startswith("hsn_") and out["label"] == "laptop"
    assert out["fingerprint"] == hashlib.sha256(out["token"].encode()).hexdigest()
    assert reg.authenticate(out["token"]).party_id == w.holder.party_id
    listed = reg.query("tokens", party_id=w.holder.party_id)
    assert listed[0]["fingerprint"] == out["fingerprint"]
    assert listed[0]["revoked"] is False and listed[0]["expires_at"] == out["expires_at"]
    with reg.read() as s, s.begin():
        stored = s.execute(select(t.tokens).where(t.tokens.c.party_id == w.holder.party_id)
                           ).all()
        events = s.execute(select(t.events.c.payload, t.events.c.private)).all()
    assert all(out["token"] not in str(r) for r in stored)
    assert all(out["token"] not in (e.payload or "") + (e.private or "") for e in events)
    default = reg.issue_token(w.holder, w.key())  # omitted lifetime: the maximum
    assert default["expires_at"] > out["expires_at"] and default["label"] is None
    report = reg.verify(full=True)
    assert report["ok"], report["problems"]


def test_token_refusals_are_named(world: World) -> None:
    w, reg = world, world.reg
    for days in (0, -1, 3651):
        with pytest.raises(RegistryRejection) as exc:
            reg.issue_token(w.holder, w.key(), ttl_days=days)
        assert _code(exc) is Rejection.token_lifetime_must_lie_in_1_3650_days
    with pytest.raises(RegistryRejection) as exc:
        reg.issue_token(w.holder, w.key(), label="x" * 101)
    assert _code(exc) is Rejection.token_label_must_fit_100_characters
    with pytest.raises(RegistryRejection) as exc:  # only the administrator issues for others
        reg.issue_token(w.holder, w.key(), party_id=w.holder2.party_id)
    assert _code(exc) is Rejection.token_must_belong_to_actor
    with pytest.raises(RegistryRejection) as exc:
        reg.revoke_token(w.holder, w.key(), fingerprint="0" * 64)
    assert _code(exc) is Rejection.token_must_exist
    theirs = reg.issue_token(w.holder2, w.key())
    with pytest.raises(RegistryRejection) as exc:  # not yours
        reg.revoke_token(w.holder, w.key(), fingerprint=theirs["fingerprint"])
    assert _code(exc) is Rejection.token_must_belong_to_actor
    reg.revoke_token(w.holder2, w.key(), fingerprint=theirs["fingerprint"])
    with pytest.raises(RegistryRejection) as exc:
        reg.revoke_token(w.holder2, w.key(), fingerprint=theirs["fingerprint"])
    assert _code(exc) is Rejection.token_must_not_be_revoked
    with pytest.raises(RegistryRejection) as exc:
        reg.authenticate(theirs["token"])
    assert _code(exc) is Rejection.token_must_be_valid
    assert_sound(reg)


def test_the_administrator_issues_and_revokes_for_another_party(world: World) -> None:
    w, reg = world, world.reg
    out = reg.issue_token(w.admin, w.key(), party_id=w.holder.party_id, label="support")
    assert out["party_id"] == w.holder.party_id
    assert reg.authenticate(out["token"]).party_id == w.holder.party_id
    gone = reg.revoke_token(w.admin, w.key(), fingerprint=out["fingerprint"])
    assert gone["party_id"] == w.holder.party_id
    with pytest.raises(RegistryRejection):
        reg.authenticate(out["token"])
    with pytest.raises(RegistryRejection) as exc:  # a party named, the token not its own
        reg.revoke_token(w.admin, w.key(), fingerprint=hashlib.sha256(
            w.tokens["holder2"].encode()).hexdigest(), party_id=w.holder.party_id)
    assert _code(exc) is Rejection.token_must_belong_to_actor
    assert_sound(reg)


def test_revoking_the_token_of_this_very_request_is_allowed(world: World) -> None:
    """The answer arrives; the next request with the token is refused at once (the
    process forgets the tokens it remembered)."""
    w, reg = world, world.reg
    own = hashlib.sha256(w.tokens["holder"].encode()).hexdigest()
    reg.authenticate(w.tokens["holder"])  # remembered by this process
    out = reg.revoke_token(w.holder, w.key(), fingerprint=own)
    assert out["fingerprint"] == own
    with pytest.raises(RegistryRejection) as exc:
        reg.authenticate(w.tokens["holder"])
    assert _code(exc) is Rejection.token_must_be_valid
    assert_sound(reg)


def test_verify_detects_an_edited_or_planted_token(world: World) -> None:
    """A token un-revoked by hand (its revocation and expiry reset) is found by verify, as
    is a label rewritten (refused by the trigger) or a token planted."""
    w, reg = world, world.reg
    out = reg.issue_token(w.holder, w.key(), label="phone", ttl_days=5)
    reg.revoke_token(w.holder, w.key(), fingerprint=out["fingerprint"])
    tok = t.tokens.c
    with reg.engine.begin() as conn:
        conn.execute(update(t.tokens).where(tok.token_sha256 == out["fingerprint"])
                     .values(revoked_seq=None, expires_at=None))
    report = reg.verify(full=True)
    assert not report["ok"]
    assert any("tokens" in str(p) for p in report["problems"]), report["problems"]
    with pytest.raises(DBAPIError), reg.engine.begin() as conn:
        conn.execute(update(t.tokens).where(tok.token_sha256 == out["fingerprint"])
                     .values(label="renamed"))


def test_rest_routes_list_issue_and_revoke(world: World, client: httpx.Client) -> None:
    """The secret is in the 201 answer only: not in a retry's answer, not in the list, not
    in the public event feed or any later response."""
    w = world
    key = w.key()
    r = client.post("/parties/me/tokens", json={"label": "ci", "ttl_days": 7},
                    headers=_h(w, w.tokens["holder"], key))
    assert r.status_code == 201, r.text
    issued = r.json()
    secret, fp = issued["token"], issued["fingerprint"]
    again = client.post("/parties/me/tokens", json={"label": "ci", "ttl_days": 7},
                        headers=_h(w, w.tokens["holder"], key))
    assert again.status_code == 201 and again.json()["token"] is None
    assert again.json()["fingerprint"] == fp  # the same answer, without the secret
    mine = client.get("/parties/me/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert mine.status_code == 200
    rows = mine.json()
    assert fp in [x["fingerprint"] for x in rows]
    assert {x["fingerprint"] for x in rows} == {
        x["fingerprint"] for x in w.reg.query("tokens", party_id=w.holder.party_id)}
    bad = client.post("/parties/me/tokens", json={"ttl_days": 4000},
                      headers=_h(w, w.tokens["holder"]))
    assert bad.status_code == 422
    assert bad.json()["code"] == "token_lifetime_must_lie_in_1_3650_days"
    other = client.delete(f"/parties/me/tokens/{fp}", headers=_h(w, w.tokens["holder2"]))
    assert other.status_code == 403 and other.json()["code"] == "token_must_belong_to_actor"
    assert client.delete("/parties/me/tokens/XYZ",
                         headers=_h(w, w.tokens["holder"])).status_code == 422
    gone = client.delete(f"/parties/me/tokens/{fp}", headers=_h(w, secret))
    assert gone.status_code == 200, gone.text
    assert client.get("/parties/me/tokens",
                      headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    twice = client.delete(f"/parties/me/tokens/{fp}", headers=_h(w, w.tokens["holder"]))
    assert twice.status_code == 409 and twice.json()["code"] == "token_must_not_be_revoked"
    later = [client.get("/audit/events", params={"limit": 500}).text,
             client.get("/parties/me/tokens", headers=_h(w, w.tokens["holder"])).text,
             client.get("/audit/verify").text, again.text, gone.text]
    assert all(secret not in text for text in later)
    events = json.loads(later[0])
    issued_events = [e for e in events if e["type"] == "token_issued"]
    assert issued_events and all("token_sha256" not in e["payload"] and "label" not in
                                 e["payload"] for e in issued_events)
    assert_sound(w.reg)


def test_tokens_need_a_token(client: httpx.Client) -> None:
    assert client.get("/parties/me/tokens").status_code == 401
    assert client.post("/parties/me/tokens", json={}).status_code == 401
