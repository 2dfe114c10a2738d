"""The REST API: auth, roles, idempotency over HTTP, bad input (each a 4xx with a clear
message and no change of state), OpenAPI."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.db import tables as t
from hesuan.registry.engine.registry import TOKEN_MEMORY_S

from .conftest import World, assert_sound, attestation, fresh_summary


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        yield c


def _h(w: World, who: str, key: str | None = "auto") -> dict[str, str]:
    h = {"Authorization": f"Bearer {w.tokens[who]}"}
    if key:
        h["Idempotency-Key"] = w.key() if key == "auto" else key
    return h


def _head(w: World) -> int:
    return int(w.reg.verify()["head_seq"])


def test_public_explorer_needs_no_token(world: World, client: httpx.Client) -> None:
    assert client.get("/projects").json()[0]["name"] == "Mau Forest"
    iss = client.get("/issuances", params={"limit": 1}).json()
    assert iss[0]["serial"].startswith("HSN-KE-1-2024-1-1000-")
    hist = client.get(f"/serials/{iss[0]['serial']}").json()
    assert hist["serial"] == 1 and hist["account_kind"] == "holding"
    assert hist["holder_name"] is None and hist["account_id"] is None  # holdings are private
    assert hist["asked_block"]["exists"] is False  # the issued block was split
    assert [(p["status"], p["account_kind"]) for p in hist["asked_block"]["now_in"]] == [
        ("held", "holding"), ("cancelled", "cancellation"), ("held", "levy"),
        ("held", "buffer")]
    assert client.get("/audit/verify").json()["ok"] is True
    assert len(client.get("/audit/events", params={"limit": 5}).json()) == 5
    assert client.get("/projects", params={"limit": 501}).status_code == 422
    assert "openapi" in client.get("/openapi.json").json()


def test_transfer_and_retire_over_http(world: World, client: httpx.Client) -> None:
    w = world
    r = client.post("/transfers", headers=_h(w, "proponent"), json={
        "from_account": w.proponent_account, "to_account": w.holder_account, "quantity": 40})
    assert r.status_code == 201, r.text
    r = client.post("/retirements", headers=_h(w, "holder"), json={
        "from_account": w.holder_account, "quantity": 15, "beneficiary": "City of Nairobi",
        "purpose": "voluntary", "claim_start": "2024-01-01", "claim_end": "2024-12-31"})
    assert r.status_code == 201, r.text
    assert client.get("/retirements").json()[0]["beneficiary"] == "City of Nairobi"
    acc = client.get(f"/accounts/{w.holder_account}", headers=_h(w, "holder", None)).json()
    assert acc["balance"] == 25
    assert_sound(w.reg)


@pytest.mark.parametrize(("who", "method", "path", "body", "status", "code"), [
    # the public cannot write
    (None, "post", "/transfers", {"from_account": 5, "to_account": 7, "quantity": 1}, 401,
     "token_must_be_valid"),
    # a holder cannot move another's units
    ("holder", "post", "/transfers", {"from_account": 5, "to_account": 7, "quantity": 1}, 403,
     "account_must_belong_to_actor"),
    # a proponent cannot verify (its own) report
    ("proponent", "post", "/reports/1/verification", {"verified_quantity": 1}, 403,
     "role_must_permit_operation"),
    # only the administrator issues
    ("verifier", "post", "/issuances", {"report_id": 1, "quantity": 1}, 403,
     "role_must_permit_operation"),
    ("holder", "post", "/parties", {"name": "x", "role": "holder"}, 403,
     "role_must_permit_operation"),
    # an account's view is its owner's
    ("holder2", "get", "/accounts/7", None, 403, "account_must_belong_to_actor"),
    (None, "get", "/accounts/7", None, 401, "token_must_be_valid"),
])
def test_authorisation_on_every_route(world: World, client: httpx.Client, who: str | None,
                                      method: str, path: str, body: Any, status: int,
                                      code: str) -> None:
    headers = {"Idempotency-Key": world.key()}
    if who:
        headers |= _h(world, who)
    head = _head(world)
    r = client.request(method, path, json=body, headers=headers)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert _head(world) == head


def test_expired_and_unknown_tokens(world: World, client: httpx.Client) -> None:
    """A revoked token (``revoke_tokens``: it expires now, journaled) is refused once the
    process's memory of it lapses (``TOKEN_MEMORY_S``); editing it in the database instead
    is refused by its trigger."""
    w = world
    assert client.get("/accounts/7", headers=_h(w, "holder")).status_code != 401  # remembered
    with pytest.raises(DBAPIError), w.reg.engine.begin() as conn:
        conn.execute(update(t.tokens).where(t.tokens.c.party_id == w.holder.party_id).values(
            party_id=w.admin.party_id))
    w.reg.revoke_tokens(w.admin, w.key(), party_id=w.holder.party_id, reason="device lost")
    time.sleep(TOKEN_MEMORY_S + 0.1)
    r = client.post("/accounts", headers=_h(w, "holder"), json={})
    assert r.status_code == 401 and "expired" in r.json()["message"]
    r = client.post("/accounts", headers={"Authorization": "Bearer wrong",
                                          "Idempotency-Key": "k"}, json={})
    assert r.status_code == 401 and "unknown" in r.json()["message"]


def test_tokens_are_hashed_at_rest(world: World) -> None:
    from sqlalchemy import select
    with world.reg.read() as s, s.begin():
        stored = {r[0] for r in s.execute(select(t.tokens.c.token_sha256)).all()}
        responses = " ".join(r[0] for r in s.execute(select(t.requests.c.response)).all())
    for token in world.tokens.values():
        assert token not in stored and token not in responses


def _transfer(w: World, **kw: Any) -> dict[str, Any]:
    return {"from_account": w.proponent_account, "to_account": w.holder_account,
            "quantity": 10} | kw


@pytest.mark.parametrize(("body", "status", "needle"), [
    ("{not json", 400, "JSON"),  # the request policy: not JSON at all → 400
    ({"from_account": 5, "to_account": 7, "quantity": 1, "colour": "red"}, 422, "colour"),
    ({"from_account": 5, "to_account": 7, "quantity": -3}, 422, "quantity"),
    ({"from_account": 5, "to_account": 7, "quantity": 1.5}, 422, "quantity"),
    ({"from_account": 5, "to_account": 7, "quantity": "10"}, 422, "quantity"),
    ({"from_account": 5, "to_account": 7, "quantity": 2, "serial_start": 729,
      "serial_end": 730 + 1}, 409, "serial_range_must_lie_in_one_held_block"),
    ({"from_account": 5, "to_account": 99999, "quantity": 1}, 404, "account_must_exist"),
    ({"from_account": 5, "to_account": 7, "quantity": 100000}, 409,
     "quantity_must_not_exceed_balance"),
])
def test_bad_input_is_a_clear_4xx_without_effect(world: World, client: httpx.Client, body: Any,
                                                 status: int, needle: str) -> None:
    head = _head(world)
    headers = _h(world, "proponent") | {"Content-Type": "application/json"}
    if isinstance(body, str):
        r = client.post("/transfers", headers=headers, content=body)
    else:
        r = client.post("/transfers", headers=headers, json=body)
    assert r.status_code == status, r.text
    assert needle in r.text
    assert _head(world) == head
    assert_sound(world.reg)


def test_idempotency_over_http(world: World, client: httpx.Client) -> None:
    w = world
    h = _h(w, "proponent", key="abc")
    a = client.post("/transfers", headers=h, json=_transfer(w))
    b = client.post("/transfers", headers=h, json=_transfer(w))
    assert a.status_code == b.status_code == 201
    assert a.json()["blocks"] == b.json()["blocks"]
    c = client.post("/transfers", headers=h, json=_transfer(w, quantity=11))
    assert (c.status_code, c.json()["code"]) == (409, "idempotency_key_must_match_payload")
    r = client.post("/transfers", headers=_h(w, "proponent", key=None), json=_transfer(w))
    assert (r.status_code, r.json()["code"]) == (400, "idempotency_key_must_be_given")
    acc = client.get(f"/accounts/{w.holder_account}", headers=_h(w, "holder", None)).json()
    assert acc["balance"] == 10


def test_full_lifecycle_over_http(world: World, client: httpx.Client) -> None:
    import base64
    w = world
    r = client.post("/projects", headers=_h(w, "proponent"), json={
        "name": "Cookstoves", "methodology_id": "CCER-14-001", "methodology_version": "V01",
        "host_country": "KE", "host_region": "Kisumu", "sector": "AFOLU",
        "crediting_start": "2022-01-01", "crediting_end": "2026-12-31"})
    assert r.status_code == 201, r.text
    pid = r.json()["project_id"]
    doc = client.post(f"/projects/{pid}/documents", headers=_h(w, "proponent"), json={
        "name": "pdd.txt", "kind": "pdd", "content_base64": base64.b64encode(b"PDD").decode()})
    assert doc.status_code == 201
    assert client.post(f"/projects/{pid}/transitions", headers=_h(w, "verifier"),
                       json={"status": "validated"}).status_code == 200
    assert client.post(f"/projects/{pid}/transitions", headers=_h(w, "admin"),
                       json={"status": "registered"}).status_code == 200
    report = fresh_summary()
    rep = client.post("/reports", headers=_h(w, "proponent"), json={
        "project_id": pid, "period_start": "2024-01-01", "period_end": "2024-12-31",
        "reported_quantity": 100, "quantification": report})
    assert rep.status_code == 201, rep.text
    rid = rep.json()["report_id"]
    assert client.post(f"/reports/{rid}/verification", headers=_h(w, "verifier"),
                       json={"verified_quantity": 90,
                             "attestation": attestation(report, 90)}).status_code == 200
    iss = client.post("/issuances", headers=_h(w, "admin"), json={"report_id": rid,
                                                                  "quantity": 90})
    assert iss.status_code == 201, iss.text
    assert iss.json()["serial_start"] == 1001
    project = client.get(f"/projects/{pid}").json()
    assert project["documents"][0]["sha256"] == doc.json()["sha256"]
    assert client.get(f"/documents/{doc.json()['sha256']}").content == b"PDD"
    quantification = client.get(f"/documents/{rep.json()['quantification_sha256']}")
    # Stored byte for byte as sent (a trailing newline included), so its SHA-256 is the file's.
    assert report.endswith("\n")
    assert quantification.content == report.encode("utf-8")
    assert rep.json()["quantification_sha256"] == hashlib.sha256(report.encode()).hexdigest()
    assert client.get(f"/documents/{'0' * 64}").status_code == 404
    assert_sound(w.reg)


@pytest.mark.parametrize(("methodology_id", "version", "needle"), [
    ("VM0048", "1.0", "did you mean VM0047"),                   # no such id: near ids
    ("VM0047", "9.9", "VM0047@1.1"),                            # no such version: versions
    ("ISO 14083", "2023", "methodology_must_permit_crediting"),  # inventory, not crediting
])
def test_project_methodology_must_be_catalogued_over_http(
        world: World, client: httpx.Client, methodology_id: str, version: str,
        needle: str) -> None:
    head = _head(world)
    r = client.post("/projects", headers=_h(world, "proponent"), json={
        "name": "Sink", "methodology_id": methodology_id, "methodology_version": version,
        "host_country": "KE", "host_region": "Nakuru", "sector": "AFOLU",
        "crediting_start": "2024-01-01", "crediting_end": "2033-12-31"})
    assert r.status_code == 422, r.text
    assert r.json()["code"].startswith("methodology_must_")
    assert needle in r.text
    assert _head(world) == head
    assert_sound(world.reg)


def test_project_methodology_is_stored_as_catalogued_over_http(world: World,
                                                               client: httpx.Client) -> None:
    r = client.post("/projects", headers=_h(world, "proponent"), json={
        "name": "Sink", "methodology_id": "ar-ams0007", "methodology_version": "3.1",
        "host_country": "KE", "host_region": "Nakuru", "sector": "AFOLU",
        "crediting_start": "2024-01-01", "crediting_end": "2033-12-31"})
    assert r.status_code == 201, r.text
    project = client.get(f"/projects/{r.json()['project_id']}").json()
    assert (project["methodology_id"], project["methodology_version"]) == ("AR-AMS0007", "03.1")
