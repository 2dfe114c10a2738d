"""``hesuan registry token list|issue|revoke`` and ``role grant|revoke``: local mode
(``--db``) and the HTTP client of remote mode (``--server``; here the API application in
this process) give the same answers and the same named refusals, on SQLite and
PostgreSQL."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from hesuan.cli import registry as cli
from hesuan.cli.registry import (
    DELETE_ROUTES,
    RegistryCliError,
    _InProcessClient,
    _LocalClient,
    app,
)
from hesuan.registry.engine import Registry


def test_delete_routes_are_the_apps() -> None:
    from hesuan.registry.api.routes import parties
    from hesuan.registry.service import requests

    routes = {(m, r.path): r for r in parties.router.routes for m in r.methods}
    for path, request_type in DELETE_ROUTES.items():
        route = routes[("DELETE", path)]
        assert issubclass(getattr(requests, request_type), requests.WriteRequest), path
        assert f"rq.{request_type}" in inspect.getsource(route.endpoint), path


@pytest.fixture
def registry_db(url: str) -> tuple[str, str, str]:
    """A registry with a holder party: its URL, the admin's and the holder's tokens."""
    reg = Registry.open(url)
    try:
        admin_token = reg.bootstrap()["token"]
        admin = reg.authenticate(admin_token)
        holder = reg.create_party(admin, "h", name="Holder", role="holder")["token"]
    finally:
        reg.close()
    return url, admin_token, holder


def _json(out: str) -> Any:
    return json.loads(out)


def _clients(db: str) -> list[Callable[[str], Any]]:
    return [lambda tok: _LocalClient(db, tok),
            lambda tok: _InProcessClient(Registry.open(db), tok)]


def _close(client: Any) -> None:
    client.close()
    if isinstance(client, _InProcessClient):
        client.http._transport._asgi.app.state.registry.close()


@pytest.mark.parametrize("mode", ["local", "remote"])
def test_token_commands_issue_list_and_revoke(registry_db: tuple[str, str, str], mode: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    db, _, holder = registry_db
    if mode == "remote":  # --server: the HTTP client, talking to the app in this process
        opened: list[Any] = []

        def connect(db_: str, server: str | None, token: str | None) -> Any:
            client = _InProcessClient(Registry.open(db), token)
            opened.append(client)
            return client
        monkeypatch.setattr(cli, "_connect", connect)
    runner = CliRunner()
    base = ["--db", db, "--json"]
    r = runner.invoke(app, ["token", "issue", "--label", "ci", "--ttl-days", "30",
                            "--token", holder, *base])
    assert r.exit_code == 0, r.output
    issued = _json(r.stdout)
    assert issued["token"].startswith("hsn_") and issued["label"] == "ci"
    r = runner.invoke(app, ["token", "list", "--token", issued["token"], *base])
    assert r.exit_code == 0, r.output
    listed = _json(r.stdout)
    assert issued["fingerprint"] in [x["fingerprint"] for x in listed]
    assert issued["token"] not in r.stdout
    r = runner.invoke(app, ["token", "issue", "--ttl-days", "0", "--token", holder, *base])
    assert r.exit_code != 0 and "token_lifetime_must_lie_in_1_3650_days" in str(r.exception)
    r = runner.invoke(app, ["token", "revoke", issued["fingerprint"], "--token", holder,
                            *base])
    assert r.exit_code == 0, r.output
    assert _json(r.stdout)["fingerprint"] == issued["fingerprint"]
    r = runner.invoke(app, ["token", "list", "--token", issued["token"], *base])
    assert "token_must_be_valid" in str(r.exception)
    r = runner.invoke(app, ["token", "revoke", issued["fingerprint"], "--token", holder,
                            *base])
    assert "token_must_not_be_revoked" in str(r.exception)
    if mode == "remote":
        for client in opened:
            client.http._transport._asgi.app.state.registry.close()


def test_role_commands_and_refusals_read_alike(registry_db: tuple[str, str, str]) -> None:
    db, admin, holder = registry_db
    runner = CliRunner()
    r = runner.invoke(app, ["role", "grant", "2", "proponent", "--token", admin, "--db", db,
                            "--json"])
    assert r.exit_code == 0, r.output
    assert _json(r.stdout)["roles"] == ["holder", "proponent"]
    r = runner.invoke(app, ["role", "revoke", "2", "proponent", "--token", admin, "--db", db,
                            "--json"])
    assert r.exit_code == 0 and _json(r.stdout)["roles"] == ["holder"]
    refusals = [("delete", ("/parties/{party_id}/roles/{role}", "k1"),
                 {"party_id": 2, "role": "holder"}),
                ("delete", ("/parties/{party_id}/roles/{role}", "k2"),
                 {"party_id": 2, "role": "king"}),
                ("delete", ("/parties/me/tokens/{fingerprint}", "k3"),
                 {"fingerprint": "nothex"}),
                ("delete", ("/parties/me/tokens/{fingerprint}", "k4"),
                 {"fingerprint": "0" * 64}),
                ("post", ("/parties/{party_id}/roles", {"role": "holder"}, "k5"),
                 {"party_id": 2})]
    for method, args, kwargs in refusals:
        messages = []
        for make in _clients(db):
            client = make(admin)
            try:
                with pytest.raises(RegistryCliError) as refused:
                    getattr(client, method)(*args, **kwargs)
            finally:
                _close(client)
            messages.append(str(refused.value))
        assert messages[0] == messages[1], (args, messages)
    r = runner.invoke(app, ["role", "grant", "2", "verifier", "--token", holder, "--db", db])
    assert "role_must_permit_operation" in str(r.exception)


def test_help_teaches() -> None:
    runner = CliRunner()
    for argv, words in ((["token", "--help"], ["issue", "revoke", "list", "Example"]),
                        (["token", "issue", "--help"], ["once", "--ttl-days", "--label"]),
                        (["role", "--help"], ["grant", "revoke", "Example"])):
        r = runner.invoke(app, argv, env={"COLUMNS": "200"})
        assert r.exit_code == 0
        assert all(w in r.stdout for w in words), (argv, r.stdout)
