"""Every malformed request of issue 17's list gets a 4xx with a named code, changes
nothing and never echoes the input or a database error — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.api.policy import MAX_BODY_BYTES
from hesuan.registry.db import tables as t

from .conftest import SUMMARY, World


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(world.reg))
    with httpx.Client(transport=transport, base_url="http://testserver") as c:
        yield c


def _h(w: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.tokens[who]}", "Idempotency-Key": w.key(),
            "Content-Type": "application/json"}


def _head(w: World) -> int:
    return int(w.reg.verify()["head_seq"])


def _refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    text = r.text.lower()
    for leak in ("select ", "insert ", "psycopg", "sqlite3", "traceback", "[sql"):
        assert leak not in text


def _transfer_body(w: World, quantity: str = "1") -> str:
    return (f'{{"from_account": {w.proponent_account}, "to_account": {w.holder_account}, '
            f'"quantity": {quantity}}}')


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_body(world: World, client: httpx.Client, bad: str) -> None:
    before = _head(world)
    r = client.post("/transfers", headers=_h(world, "proponent"),
                    content=_transfer_body(world, bad))
    _refused(r, 400, "request_must_be_strict_json")
    assert "RFC 8259" in r.json()["message"]
    assert _head(world) == before


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"nul\\u0000x"'])
def test_lone_surrogates_and_nul_in_text(world: World, client: httpx.Client,
                                         text: str) -> None:
    before = _head(world)
    for path, body in (("/accounts", f'{{"name": {text}}}'),
                       ("/parties", f'{{"name": {text}, "role": "holder"}}')):
        r = client.post(path, headers=_h(world, "admin" if path == "/parties" else "holder"),
                        content=body)
        _refused(r, 400, "request_must_be_strict_json")
    # a NUL or surrogate in a key is refused the same way
    r = client.post("/accounts", headers=_h(world, "holder"), content=f'{{{text}: "x"}}')
    _refused(r, 400, "request_must_be_strict_json")
    assert _head(world) == before


def test_raw_invalid_utf8_body(world: World, client: httpx.Client) -> None:
    r = client.post("/accounts", headers=_h(world, "holder"),
                    content=b'{"name": "\xed\xa0\x80"}')  # a surrogate encoded as UTF-8
    _refused(r, 400, "request_must_be_strict_json")


@pytest.mark.parametrize("serial", ["²", "٣", "1" * 20, "99999999999999999999",
                                    "HSN-KE-1-2024-1-" + "9" * 20 + "-18", "1%00"])
@pytest.mark.parametrize("route", ["/serials/{}", "/serials/{}/trace"])
def test_bounded_serial_formats(world: World, client: httpx.Client, serial: str,
                                route: str) -> None:
    r = client.get(route.format(serial))
    assert 400 <= r.status_code < 500, r.text
    assert "input" not in r.json().get("detail", [{}])[0] if "detail" in r.json() else True


def test_a_deeply_nested_body_and_quantification(world: World, client: httpx.Client) -> None:
    before = _head(world)
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/accounts", headers=_h(world, "holder"),
                    content=f'{{"name": "x", "extra": {deep}}}')
    _refused(r, 400, "request_must_be_strict_json")
    nested = '{"kind": "land", "x": ' + "[" * 5000 + "]" * 5000 + "}"
    r = client.post("/reports", headers=_h(world, "proponent"), json={
        "project_id": world.project_id, "period_start": "2025-01-01",
        "period_end": "2025-12-31", "reported_quantity": 10, "quantification": nested})
    _refused(r, 422, "request_must_match_schema")
    assert "nests deeper" in r.json()["message"]
    r = client.post("/reports", headers=_h(world, "proponent"), json={
        "project_id": world.project_id, "period_start": "2025-01-01",
        "period_end": "2025-12-31", "reported_quantity": 10,
        "quantification": SUMMARY.replace("5000.4", "NaN")})
    _refused(r, 422, "request_must_match_schema")
    assert _head(world) == before


def test_a_body_over_the_limit(world: World, client: httpx.Client) -> None:
    before = _head(world)
    big = b'{"name": "' + b"x" * (64 * 1024 * 1024) + b'"}'
    r = client.post("/accounts", headers=_h(world, "holder"), content=big)
    _refused(r, 413, "request_body_too_large")
    assert str(MAX_BODY_BYTES) in r.json()["message"]

    assert _head(world) == before


def test_a_streamed_body_is_cut_at_the_limit() -> None:
    """No Content-Length: the policy counts the bytes as they arrive and stops reading."""
    import anyio

    from hesuan.registry.api.policy import RequestPolicy

    called, sent, chunks_read = [], [], [0]

    async def app(scope, receive, send):  # the routes: never reached
        called.append(scope)

    async def receive():
        chunks_read[0] += 1
        return {"type": "http.request", "body": b"x" * (1024 * 1024), "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/accounts", "raw_path": b"/accounts",
             "query_string": b"", "headers": [(b"content-type", b"application/json")]}
    anyio.run(RequestPolicy(app, max_body_bytes=4 * 1024 * 1024), scope, receive, send)
    assert not called and sent[0]["status"] == 413
    assert chunks_read[0] == 5  # stopped just past the limit, not at the end of the stream


def test_a_hand_written_naive_token_expiry_is_refused_not_a_5xx(
        world: World, client: httpx.Client) -> None:
    with world.reg.engine.begin() as conn:
        conn.execute(update(t.tokens).values(
            expires_at=(datetime.now() + timedelta(days=1)).isoformat()))  # no time zone
    world.reg.forget_tokens()
    r = client.get("/accounts", headers={"Authorization": f"Bearer {world.tokens['holder']}"})
    _refused(r, 401, "token_must_be_valid")
    assert "time zone" in r.json()["message"]


def test_validation_errors_do_not_echo_the_input(world: World, client: httpx.Client) -> None:
    r = client.post("/transfers", headers=_h(world, "proponent"),
                    content=_transfer_body(world, '"secret-value-123"'))
    _refused(r, 422, "request_must_match_schema")
    assert "secret-value-123" not in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "quantity"]
