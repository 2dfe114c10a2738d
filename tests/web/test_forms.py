"""The forms of the web pages as rendered HTML (no browser): every posted form carries the
session's CSRF token, every field has its label, each account form has its own idempotency
key, the administrator's cancel form goes through the registry and says a refusal in words,
a refused form keeps what was typed in it (and only in it), and the account page shows the
holdings by block and by vintage and the history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.web import mount
from hesuan.web.settings import WebSettings

from .seed import Seeded, seed
from .test_browser import PUBLIC_PAGES


@dataclass
class Form:
    attrs: dict[str, str]
    inputs: list[dict[str, str]] = field(default_factory=list)
    selected: dict[str, str] = field(default_factory=dict)


class Page(HTMLParser):
    """The forms, labels and ids of one page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.labels: set[str] = set()
        self.ids: list[str] = []
        self.controls: list[dict[str, str]] = []  # inputs and selects outside forms too
        self._form: Form | None = None
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "form":
            self._form = Form(a)
            self.forms.append(self._form)
        elif tag == "label" and "for" in a:
            self.labels.add(a["for"])
        elif tag in ("input", "select"):
            self.controls.append({"tag": tag, **a})
            if self._form is not None:
                self._form.inputs.append({"tag": tag, **a})
            self._select = a.get("name") if tag == "select" else self._select
        elif tag == "option" and "selected" in a and self._form is not None and self._select:
            self._form.selected[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def form(self, form_id: str) -> Form:
        found = [f for f in self.forms if f.attrs.get("id") == form_id]
        assert len(found) == 1, form_id
        return found[0]

    def values(self, form_id: str) -> dict[str, str]:
        """The visible fields of a form by name, with their values."""
        return {i["name"]: i.get("value", "") for i in self.form(form_id).inputs
                if i["tag"] == "input" and i.get("type") != "hidden"}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Seeded]]:
    folder = tmp_path_factory.mktemp("webforms")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    seeded = seed(reg)
    app = mount(create_app(reg), WebSettings.from_env(folder / "state"))
    try:
        yield TestClient(app), seeded
    finally:
        reg.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


def _signed_in(client: TestClient, seeded: Seeded, who: str) -> TestClient:
    """A new visitor signed in as ``who`` (English pages)."""
    c = TestClient(client.app, headers={"Accept-Language": "en"})
    r = c.post("/web/login", data={"token": seeded.tokens[who],
                                   "csrf": _csrf(c.get("/web/login").text)})
    assert r.status_code == 200 and str(r.url).endswith("/web/account")
    return c


def _send(c: TestClient, operation: str, form_id: str, **typed: str) -> tuple[int, str]:
    """Send the account page's form ``form_id``: its hidden fields and ``typed``."""
    before = Page(c.get("/web/account").text)
    hidden = {i["name"]: i["value"] for i in before.form(form_id).inputs
              if i.get("type") == "hidden"}
    fields = {i["name"] for i in before.form(form_id).inputs if i.get("type") != "hidden"}
    assert set(typed) <= fields, "a field the form does not have"
    r = c.post(f"/web/account/{operation}", data={**hidden, **typed})
    return r.status_code, r.text


def test_every_posted_form_carries_the_sessions_csrf_token_and_every_field_its_label(
        web) -> None:
    client, seeded = web
    admin = _signed_in(client, seeded, "admin")
    checked = 0
    for path in [*PUBLIC_PAGES, "/web/account"]:
        r = admin.get(path)
        assert r.status_code == 200, path
        page = Page(r.text)
        token = _csrf(r.text)
        for form in page.forms:
            if form.attrs.get("method", "get").lower() != "post":
                continue
            csrf = [i["value"] for i in form.inputs if i.get("name") == "csrf"]
            assert csrf == [token], (path, form.attrs)
            checked += 1
        for control in page.controls:
            if control.get("type") != "hidden":
                assert control.get("id") in page.labels, (path, control)
        assert len(page.ids) == len(set(page.ids)), (path, sorted(page.ids))
    # the administrator's account page alone has seven: sign out, transfer, retire, cancel,
    # revoke its token, create a token, revoke a party's tokens
    assert checked >= 7 + len(PUBLIC_PAGES)


def test_each_account_form_has_its_own_idempotency_key(web) -> None:
    client, seeded = web
    page = Page(_signed_in(client, seeded, "admin").get("/web/account").text)
    keys = [i["value"] for f in page.forms for i in f.inputs if i.get("name") == "key"]
    assert len(keys) == 6  # transfer, retire, cancel, revoke its token, create, revoke all
    assert len(keys) == len(set(keys)), keys


def test_the_administrator_cancels_units_through_the_form_and_is_told_why_not(web) -> None:
    client, seeded = web
    admin = _signed_in(client, seeded, "admin")
    forward = str(seeded.forward_account)  # the project's: 730 issued − 300 transferred
    status, html = _send(admin, "cancel", "form-cancel", from_account=forward,
                         quantity="999999", reason="too many")
    assert status == 409
    assert "The account does not hold that many units." in html
    assert "<code>quantity_must_not_exceed_balance</code>" in html
    page = Page(html)
    assert page.values("form-cancel") == {"from_account": forward, "quantity": "999999",
                                          "reason": "too many"}  # kept, to correct
    assert set(page.values("form-transfer").values()) == {""}  # the other forms: empty
    status, html = _send(admin, "cancel", "form-cancel", from_account=forward,
                         quantity="7", reason="Double counting found in the audit")
    assert status == 200
    assert re.search(r'<p class="ok" role="status">Cancelled 7 units: \S+', html), html
    assert set(Page(html).values("form-cancel").values()) == {""}
    reg = client.app.state.registry
    account = reg.query("account", actor=reg.authenticate(seeded.tokens["admin"]),
                        account_id=seeded.forward_account)
    assert account["balance"] == 430 - 7


def test_a_refused_retirement_keeps_its_values_and_names_the_rule(web) -> None:
    client, seeded = web
    holder = _signed_in(client, seeded, "holder")
    typed = {"from_account": str(seeded.other_account), "quantity": "1",
             "beneficiary": 'Ship & "Shore" Ltd', "purpose": "corsia",
             "claim_start": "2024-01-01", "claim_end": "2024-12-31", "note": "n"}
    status, html = _send(holder, "retire", "form-retire", **typed)
    assert status == 403
    assert "That account belongs to another party." in html
    assert "<code>account_must_belong_to_actor</code>" in html
    page = Page(html)
    assert page.values("form-retire") == {k: v for k, v in typed.items() if k != "purpose"}
    assert page.form("form-retire").selected == {"purpose": "corsia"}
    assert set(page.values("form-transfer").values()) == {""}


def test_the_account_page_shows_holdings_by_block_and_vintage_and_the_history(web) -> None:
    client, seeded = web
    html = _signed_in(client, seeded, "holder").get("/web/account").text
    # the holder received the tail 431–730 of the issuance's 730 units and retired its tail
    # 611–730 (docs/registry.md, "Serial numbers"): it holds 431–610, 180 units of 2024
    assert "Balance: <strong>180</strong>" in html
    assert re.search(r'<td class="num">431</td><td class="num">610</td>'
                     r'<td class="num">180</td><td>held</td>', html), html
    assert ('<td><a href="/web/projects/1">1</a></td><td>2024</td><td class="num">180</td>'
            in html)
    history = html.split("Recent history")[1]
    assert "<td>units_moved</td>" in history and "<td>retirement_recorded</td>" in history


def test_the_account_history_does_not_name_the_senders_account(web) -> None:
    """Holdings per account are private (docs/registry.md, "Privacy"): the holder's history
    shows the 300 units it received into its own account, not the proponent's account they
    came from; the administrator's shows both."""
    client, seeded = web

    def transfers(who: str) -> list[tuple[str, str]]:
        history = _signed_in(client, seeded, who).get("/web/account").text
        history = history.split("Recent history")[1]
        return re.findall(r"<td>units_moved</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>"
                          r'<td class="num">300</td>', history)

    assert transfers("holder") == [("", str(seeded.holder_account))]
    assert (str(seeded.forward_account), str(seeded.holder_account)) in transfers("admin")


def test_the_verify_button_gives_the_public_report(tmp_path) -> None:
    """The audit page's button (no sign-in) withholds private values as the REST API's
    ``/audit/verify`` does: a token row planted in the database is found, named by its
    table, but its hash is not shown."""
    import hashlib

    from sqlalchemy import insert

    from hesuan.registry.db import tables as t

    reg = Registry.open(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        seed(reg)
        planted = hashlib.sha256(b"hsn_attacker").hexdigest()
        with reg.engine.begin() as conn:
            conn.execute(insert(t.tokens).values(token_sha256=planted, party_id=1,
                                                 expires_at=None,
                                                 created_at="2025-01-01T00:00:00+00:00"))
        c = TestClient(mount(create_app(reg), WebSettings.from_env(tmp_path / "state")),
                       headers={"Accept-Language": "en"})
        r = c.post("/web/audit/verify", data={"csrf": _csrf(c.get("/web/audit").text)})
        assert r.status_code == 200
        assert "Verification failed" in r.text
        assert "tokens" in r.text and planted not in r.text
    finally:
        reg.close()
