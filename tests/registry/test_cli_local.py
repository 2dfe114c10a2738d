"""The registry CLI's local mode calls the service directly, with the API's own request
models: the same routes' use cases, the same refusals as through the API application, and
none of the web stack imported."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pytest

from hesuan.cli.registry import (
    READ_ROUTES,
    WRITE_ROUTES,
    RegistryCliError,
    _InProcessClient,
    _LocalClient,
)
from hesuan.registry.engine import Registry


def _routes() -> dict[tuple[str, str], Any]:
    from hesuan.registry.api.routes import audit, explorer, operations, parties

    return {(method, route.path): route
            for module in (parties, operations, explorer, audit)
            for route in module.router.routes for method in route.methods}


def test_write_routes_are_the_apps() -> None:
    """Each local write runs the use case its route runs, validated by the route's model."""
    from hesuan.registry.api import schemas

    routes = _routes()
    from hesuan.registry.service import requests

    for path, (request_type, model) in WRITE_ROUTES.items():
        route = routes[("POST", path)]
        body = route.dependant.body_params
        assert [p.field_info.annotation for p in body] == [getattr(schemas, model)], path
        assert issubclass(getattr(requests, request_type), requests.WriteRequest), path
        assert f"rq.{request_type}" in inspect.getsource(route.endpoint), path


def test_read_routes_are_the_apps() -> None:
    routes = _routes()
    for path, query in READ_ROUTES.items():
        route = routes[("GET", path)]
        assert f'"{query}"' in inspect.getsource(route.endpoint), path
    assert "public=True" in inspect.getsource(routes[("GET", "/audit/verify")].endpoint)


@pytest.fixture
def registry_db(url: str) -> tuple[str, str]:
    """A registry on SQLite and on PostgreSQL (``url``, tests/registry/conftest.py)."""
    db = url
    reg = Registry.open(db)
    try:
        token = reg.bootstrap()["token"]
    finally:
        reg.close()
    return db, token


BAD_REQUESTS = [
    ("post", ("/parties", {"name": "T", "role": "proponent", "country": "XX"}, "k1"), {}),
    ("post", ("/parties", {"name": "T", "role": "king"}, "k2"), {}),
    ("post", ("/projects", {"name": "P", "methodology_id": "VM0047",
                            "methodology_version": "1", "host_country": "KE",
                            "host_region": "R", "sector": "AFOLU",
                            "crediting_start": "2020-01-01", "crediting_end": "2020-13-01",
                            "buffer_pct": "120"}, "k3"), {}),
    ("post", ("/projects/{project_id}/transitions", {"status": "validated"}, "k4"),
     {"project_id": 9}),
    ("post", ("/projects/{project_id}/transitions", {"status": "validated"}, "k5"),
     {"project_id": 0}),
    ("post", ("/transfers", {"from_account": 1, "to_account": 2, "quantity": 3}, "k6"), {}),
    ("post", ("/issuances", {"report_id": 1, "quantity": 0}, "k7"), {}),
    ("post", ("/parties", {"name": "nul\x00", "role": "holder"}, "k8"), {}),
    ("get", ("/projects/{project_id}", {"project_id": "abc"}), {}),
    ("get", ("/reports/{report_id}", {"report_id": "7"}), {}),
    ("get", ("/serials/{serial}", {"serial": "HSN-KE-1-2024-1-2-00"}), {}),
]


@pytest.mark.parametrize(("method", "args", "kwargs"), BAD_REQUESTS,
                         ids=[f"{m}-{a[0]}-{i}" for i, (m, a, _) in enumerate(BAD_REQUESTS)])
@pytest.mark.parametrize("token", ["admin", "unknown"])
def test_local_refusals_read_as_the_apis(registry_db: tuple[str, str], method: str,
                                         args: tuple, kwargs: dict, token: str) -> None:
    db, admin = registry_db
    bearer = admin if token == "admin" else "no-such-token"
    messages = []
    for make in (lambda: _LocalClient(db, bearer),
                 lambda: _InProcessClient(Registry.open(db), bearer)):
        client = make()
        try:
            with pytest.raises(RegistryCliError) as refused:
                getattr(client, method)(*args, **kwargs)
        finally:
            client.close()
            if isinstance(client, _InProcessClient):
                client_registry = client.http._transport._asgi.app.state.registry
                client_registry.close()
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith(("the request is not valid: ", "the request is not valid:\n"))\
        or "(HTTP 4" in messages[0]


def _both(db: str, token: str | None, path: str, ids: dict[str, Any],
          **params: Any) -> list[Any]:
    """The answers (or refusal messages) of the local mode and of the API application."""
    out: list[Any] = []
    for make in (lambda: _LocalClient(db, token),
                 lambda: _InProcessClient(Registry.open(db), token)):
        client = make()
        try:
            out.append(client.get(path, ids, **params))
        except RegistryCliError as exc:
            out.append(f"refused: {exc}")
        finally:
            client.close()
            if isinstance(client, _InProcessClient):
                client.http._transport._asgi.app.state.registry.close()
    return out


def test_account_views_are_the_services_ownership_rule(registry_db: tuple[str, str]) -> None:
    """An account is shown only to its owner or the administrator: the query's rule
    (``account_must_belong_to_actor``), the same refusal locally as through the API."""
    db, admin_token = registry_db
    reg = Registry.open(db)
    try:
        admin = reg.authenticate(admin_token)
        holder = reg.create_party(admin, "holder", name="Holder", role="holder")
        own = reg.open_account(reg.authenticate(holder["token"]), "acct", name="Own")
        admins = [a["id"] for a in reg.query("accounts", actor=admin)
                  if a["party_id"] == admin.party_id]
    finally:
        reg.close()
    page = {"limit": 100, "offset": 0}
    # another party's account: refused alike, with the named rule (403)
    refused = _both(db, holder["token"], "/accounts/{account_id}",
                    {"account_id": admins[0]}, **page)
    assert refused[0] == refused[1]
    assert refused[0] == (f"refused: account_must_belong_to_actor: account {admins[0]} "
                          "belongs to another party (HTTP 403)")
    # no token: refused alike before the account is read
    anonymous = _both(db, None, "/accounts/{account_id}", {"account_id": own["account_id"]},
                      **page)
    assert anonymous[0] == anonymous[1]
    assert anonymous[0].startswith("refused: token_must_be_valid: ")
    # the owner sees its account, the administrator any; a party lists only its own
    for token in (holder["token"], admin_token):
        shown = _both(db, token, "/accounts/{account_id}", {"account_id": own["account_id"]},
                      **page)
        assert shown[0] == shown[1]
        assert shown[0]["id"] == own["account_id"]
    listed = _both(db, holder["token"], "/accounts", {}, **page)
    assert listed[0] == listed[1]
    assert [a["id"] for a in listed[0]] == [own["account_id"]]
    everything = _both(db, admin_token, "/accounts", {}, **page)
    assert everything[0] == everything[1]
    assert {own["account_id"], *admins} <= {a["id"] for a in everything[0]}


def test_local_call_imports_no_web_stack(registry_db: tuple[str, str]) -> None:
    """The import budget of a local registry call: no FastAPI, Starlette, httpx, Polars or
    rasterio (their import is most of the start-up time, docs/benchmarks.md)."""
    db, token = registry_db
    code = ("import sys; from hesuan.cli import main\n"
            f"for argv in (['registry', 'show', 'projects', '--db', {db!r}],\n"
            f"             ['registry', 'party', 'T', '--role', 'holder', '--db', {db!r},\n"
            f"              '--token', {token!r}, '--json'],\n"
            f"             ['registry', 'show', 'account', '1', '--db', {db!r},\n"
            f"              '--token', {token!r}, '--json'],\n"
            f"             ['registry', 'show', 'accounts', '--db', {db!r},\n"
            f"              '--token', {token!r}, '--json'],\n"
            f"             ['registry', 'token', 'list', '--db', {db!r},\n"
            f"              '--token', {token!r}, '--json']):\n"
            "    try: main(argv)\n"
            "    except SystemExit as exc: assert not exc.code, exc.code\n"
            "heavy = [m for m in ('fastapi', 'starlette', 'httpx', 'polars', 'rasterio',"
            " 'alembic', 'hesuan.registry.api.app') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
    assert '"role": "holder"' in done.stdout
    assert '"blocks": []' in done.stdout  # the account view ran
    assert '"fingerprint": ' in done.stdout  # the token listing ran


def test_local_page_limit_is_the_services_rule(registry_db: tuple[str, str]) -> None:
    """A page limit out of 1–500 is refused by the query's own rule (the API's query
    parameter refuses it first, with the bounds of the same rule)."""
    client = _LocalClient(registry_db[0], None)
    try:
        with pytest.raises(RegistryCliError, match="page_limit_must_lie_in_1_500"):
            client.get("/projects", limit=501)
    finally:
        client.close()


def test_local_token_listing_is_the_routes_answer(registry_db: tuple[str, str]) -> None:
    """``registry token list --db`` runs the route's own query (``tokens`` of the token's
    party) in this process: the same rows as ``GET /parties/me/tokens``, and the same refusal
    without a valid token."""
    db, admin_token = registry_db
    reg = Registry.open(db)
    try:
        admin = reg.authenticate(admin_token)
        holder = reg.create_party(admin, "holder", name="Holder", role="holder")
        second = reg.issue_token(reg.authenticate(holder["token"]), "k-token", label="ci")
    finally:
        reg.close()
    listed = _both(db, holder["token"], "/parties/me/tokens", {})
    assert listed[0] == listed[1]
    assert second["fingerprint"] in [row["fingerprint"] for row in listed[0]]
    assert all(row["fingerprint"] != second["token"] for row in listed[0])
    admins = _both(db, admin_token, "/parties/me/tokens", {})
    assert admins[0] == admins[1]
    assert second["fingerprint"] not in [row["fingerprint"] for row in admins[0]]
    anonymous = _both(db, None, "/parties/me/tokens", {})
    assert anonymous[0] == anonymous[1]
    assert anonymous[0].startswith("refused: token_must_be_valid: ")
