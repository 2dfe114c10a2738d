"""The API tokens on the account pages (no browser): a party sees its own tokens by
fingerprint and dates — never a secret, never another party's —, the administrator revokes
a party's tokens through the registry's ``revoke_tokens`` use case, anyone else is refused
by the registry's own rule, a party creates a token (shown once) and revokes one of its
own (``issue_token``, ``revoke_token``), and every form needs the session's CSRF token."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.web import mount
from hesuan.web.settings import WebSettings


@pytest.fixture
def web(tmp_path) -> Iterator[tuple[Registry, TestClient, dict[str, str]]]:
    reg = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    tokens = {"admin": reg.bootstrap()["token"]}
    admin = reg.authenticate(tokens["admin"])
    for name, role in (("holder", "holder"), ("other", "holder")):
        tokens[name] = reg.create_party(admin, f"p-{name}", name=name, role=role,
                                        token_ttl_days=30)["token"]
    app = mount(create_app(reg), WebSettings.from_env(tmp_path / "state"))
    try:
        yield reg, TestClient(app), tokens
    finally:
        reg.close()


def _sign_in(client: TestClient, token: str) -> str:
    """Sign in; return the account page's CSRF token."""
    r = client.post("/web/login", data={"token": token, "csrf": _csrf(client, "/web/login")})
    assert r.status_code == 200 and "/web/account" in str(r.url)
    return _csrf(client, "/web/account")


def _csrf(client: TestClient, url: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(url).text)
    assert found
    return found.group(1)


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def test_a_party_sees_its_own_tokens_by_fingerprint_never_a_secret(web) -> None:
    _reg, client, tokens = web
    _sign_in(client, tokens["holder"])
    page = client.get("/web/account", headers={"Accept-Language": "en"}).text
    section = page.split('id="tokens"', 1)[1].split("</section>", 1)[0]
    assert _fingerprint(tokens["holder"]) in section
    assert "(this session)" in section and "valid" in section
    assert tokens["holder"] not in page  # the secret is never shown again
    for other in ("admin", "other"):  # nor another party's token or fingerprint
        assert _fingerprint(tokens[other]) not in page
        assert hashlib.sha256(tokens[other].encode()).hexdigest() not in page
    assert 'id="form-revoke"' not in page  # revoking is the administrator's


def test_the_administrator_revokes_a_partys_tokens_through_the_registry(web) -> None:
    reg, client, tokens = web
    holder = reg.authenticate(tokens["holder"])
    other = TestClient(client.app)
    _sign_in(other, tokens["holder"])
    csrf = _sign_in(client, tokens["admin"])
    r = client.post("/web/account/revoke_tokens", data={
        "csrf": csrf, "key": "k-1", "party_id": str(holder.party_id), "reason": "leaked"},
        headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert f"Every token of party {holder.party_id} was revoked" in r.text
    # the registry journaled it and the token is refused from now on, in the web app too
    events = reg.query("events", after_seq=0, limit=500)
    assert [e for e in events if e["type"] == "tokens_revoked"][-1]["payload"] == {
        "party_id": holder.party_id, "reason": "leaked"}
    reg.forget_tokens()
    assert reg.verify()["ok"]
    r = other.get("/web/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login")
    page = TestClient(client.app)
    r = page.post("/web/login", data={"token": tokens["holder"],
                                      "csrf": _csrf(page, "/web/login")})
    assert r.status_code == 401  # signing in with a revoked token is refused


def test_a_holder_is_refused_by_the_registrys_own_rule(web) -> None:
    reg, client, tokens = web
    csrf = _sign_in(client, tokens["holder"])
    other = reg.authenticate(tokens["other"])
    r = client.post("/web/account/revoke_tokens", data={
        "csrf": csrf, "key": "k-2", "party_id": str(other.party_id), "reason": "spite"},
        headers={"Accept-Language": "en"})
    assert r.status_code == 403
    assert "role_must_permit_operation" in r.text
    assert "Your role does not allow this operation." in r.text
    assert reg.authenticate(tokens["other"]).party_id == other.party_id  # still valid


def test_the_revocation_form_needs_the_sessions_csrf_token(web) -> None:
    reg, client, tokens = web
    _sign_in(client, tokens["admin"])
    other = reg.authenticate(tokens["other"])
    r = client.post("/web/account/revoke_tokens", data={
        "csrf": "0" * 40, "key": "k-3", "party_id": str(other.party_id), "reason": "x"})
    assert r.status_code == 403 and "csrf_token_must_match" in r.text
    reg.forget_tokens()
    assert reg.authenticate(tokens["other"]).party_id == other.party_id


def test_a_party_creates_a_token_sees_it_once_and_revokes_it(web) -> None:
    """The secret is on the answer page only (not cached), with the warning to copy it; it
    authenticates against the REST API until its own revoke button is pressed."""
    reg, client, tokens = web
    csrf = _sign_in(client, tokens["holder"])
    r = client.post("/web/account/issue_token", data={
        "csrf": csrf, "key": "k-t1", "label": "script", "ttl_days": "7"},
        headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    found = re.search(r'id="new-token-value" readonly value="(hsn_[^"]+)"', r.text)
    assert found and "Copy this token now" in r.text
    secret = found.group(1)
    api = TestClient(client.app)
    mine = api.get("/parties/me/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert mine.status_code == 200
    sha = hashlib.sha256(secret.encode()).hexdigest()
    assert [x["label"] for x in mine.json() if x["fingerprint"] == sha] == ["script"]
    again = client.get("/web/account", headers={"Accept-Language": "en"}).text
    assert secret not in again and _fingerprint(secret) in again and "script" in again
    r = client.post("/web/account/revoke_token", data={
        "csrf": csrf, "key": "k-t2", "fingerprint": sha}, headers={"Accept-Language": "en"})
    assert r.status_code == 200 and f"The token {sha[:12]}… was revoked" in r.text
    assert api.get("/parties/me/tokens",
                   headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert reg.verify(full=True)["ok"]


def test_token_forms_refuse_in_words(web) -> None:
    reg, client, tokens = web
    csrf = _sign_in(client, tokens["holder"])
    en = {"Accept-Language": "en"}
    r = client.post("/web/account/issue_token", data={"csrf": csrf, "key": "k-t3",
                                                      "ttl_days": "4000"}, headers=en)
    assert r.status_code == 422 and "A token&#39;s lifetime is 1 to 3650 days." in r.text
    other = hashlib.sha256(tokens["other"].encode()).hexdigest()
    r = client.post("/web/account/revoke_token", data={"csrf": csrf, "key": "k-t4",
                                                       "fingerprint": other}, headers=en)
    assert r.status_code == 403 and "That token belongs to another party." in r.text
    r = client.post("/web/account/issue_token", data={"csrf": "0" * 40, "key": "k-t5"})
    assert r.status_code == 403 and "csrf_token_must_match" in r.text
    zh = client.post("/web/account/issue_token", data={"csrf": csrf, "key": "k-t6",
                                                       "ttl_days": "0"},
                     headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and "令牌的有效期为 1 至 3650 天。" in zh.text
    reg.forget_tokens()
    assert reg.authenticate(tokens["other"]) is not None
