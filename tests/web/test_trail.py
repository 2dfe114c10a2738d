"""The trail of a retired serial on its public page and its retirement certificate (no
browser): the demo chain quantify → attest → issue → retire of the bundled example plots
(:func:`hesuan.cli.quantify.run_demo`), served by the web application through a test client.
The expected report hash and units are read from the quantification report file the demo
wrote, not from the registry."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hesuan.quantification.check import parse_report
from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.web import mount
from hesuan.web.settings import WebSettings


def retire_every_block(reg: Registry) -> dict[str, Any]:
    """Retire all the demo's units left with the proponent and the buyer: one retirement of
    blocks of every vintage (the registry picks the blocks)."""
    from hesuan.registry.domain.model import Role
    from hesuan.registry.service import Actor

    administrator = Actor(0, Role.admin)  # the account views check the role only
    accounts = {a["name"]: a for a in reg.query("accounts", actor=administrator, limit=100,
                                                offset=0)}
    buyer = accounts["Acme Airlines holding"]
    seller = next(a for a in accounts.values() if a["kind"] == "holding" and a is not buyer)
    reg.transfer(Actor(seller["party_id"], Role.proponent), "t-all", quantity=seller["balance"],
                 from_account=seller["id"], to_account=buyer["id"])
    return reg.retire(Actor(buyer["party_id"], Role.holder), "t-retire-all",
                      from_account=buyer["id"], quantity=seller["balance"] + buyer["balance"],
                      beneficiary="Acme Airlines, every vintage", purpose="voluntary",
                      claim_start="2025-01-01", claim_end="2025-12-31")


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    from hesuan.cli.quantify import run_demo

    folder = tmp_path_factory.mktemp("webtrail")
    run_demo(folder)
    out = folder / "quantification"
    facts = json.loads((out / "chain.json").read_text(encoding="utf-8"))
    text = (out / "quantification_2025-12-31.json").read_text(encoding="utf-8")
    facts["report"] = parse_report(text, "quantification_2025-12-31.json")
    reg = Registry.open(f"sqlite:///{out / 'registry.db'}")
    facts["every_block"] = retire_every_block(reg)
    app = mount(create_app(reg), WebSettings.from_env(folder / "state"))
    try:
        yield TestClient(app), facts
    finally:
        reg.close()


def _assert_trail(page: str, facts: dict[str, Any]) -> None:
    report = facts["report"]
    text = html.unescape(page)
    assert report.report_sha256 in text
    assert f"{report.removals.net_creditable_units:,}" in text  # en: thousands with commas
    assert "removals.net_creditable_units" in text  # labelled with where it came from
    assert "EcoVerify VVB" in text
    assert report.methodology_key in text
    units = {v.year: v.units for v in report.vintages}
    vintage = facts["retirement"]["blocks"][0]["vintage"]  # the retired block's vintage
    assert f"{units[vintage]:,}" in text


def test_a_retired_serials_public_page_shows_its_trail(chain) -> None:
    client, facts = chain
    r = client.get("/web/serials", params={"q": facts["retired_serial"]},
                   headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert "Trail of serial" in r.text
    _assert_trail(r.text, facts)
    # the quantification report is linked by its SHA-256 and opens through the public API
    sha = facts["report"]
    link = next(part.split('"')[0] for part in r.text.split('href="/documents/')[1:])
    doc = client.get(f"/documents/{link}")
    assert doc.status_code == 200
    assert parse_report(doc.content.decode("utf-8"), "document").report_sha256 == \
        sha.report_sha256
    # the same figures as the API route's JSON (one query behind both)
    api = client.get(f"/serials/{facts['retired_serial']}/trace").json()
    assert api["quantification"]["report_sha256"] == facts["report"].report_sha256


def test_the_retirement_certificate_carries_the_trail_in_chinese(chain) -> None:
    client, facts = chain
    rid = facts["retirement"]["retirement_id"]
    r = client.get(f"/web/retirements/{rid}", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    assert "追溯" in r.text
    _assert_trail(r.text, facts)


def test_a_retirement_of_several_blocks_shows_the_trail_of_every_block(chain) -> None:
    client, facts = chain
    ret = facts["every_block"]
    blocks = ret["blocks"]
    assert len({b["vintage"] for b in blocks}) == len(facts["vintages"]) >= 2
    r = client.get(f"/web/retirements/{ret['retirement_id']}",
                   headers={"Accept-Language": "en"})
    assert r.status_code == 200
    text = html.unescape(r.text)
    report = facts["report"]
    units = {v.year: v.units for v in report.vintages}
    for b in blocks:  # each block its own trail section, with its own vintage's units
        heading = f"Trail of block {b['serial']} (serials {b['serial_start']}–{b['serial_end']})"
        assert heading in text
        section = text.split(heading, 1)[1].split("Trail of block", 1)[0]
        assert f"units of vintage {b['vintage']}" in section
        assert f"{units[b['vintage']]:,}" in section
        assert report.report_sha256 in section
    assert text.count("Trail of block ") == len(blocks)


def test_the_trail_pages_pass_axe_in_a_browser(chain, browser) -> None:
    """axe-core 4.10.2 in chromium: 0 serious or critical violations on the serial page with
    its trail and on the certificate of the several-block retirement, in both languages."""
    from .conftest import axe_serious, serve

    client, facts = chain
    ret = facts["every_block"]
    with serve(client.app) as url:
        ctx = browser.new_context(bypass_csp=True)  # to inject axe-core itself
        try:
            page = ctx.new_page()
            serious = []
            for lang in ("en", "zh"):
                for path in (f"/web/serials?q={facts['retired_serial']}&lang={lang}",
                             f"/web/retirements/{ret['retirement_id']}?lang={lang}"):
                    page.goto(url + path)
                    assert page.locator("text=" + facts["report"].report_sha256).count() >= 1
                    serious += [(path, *v) for v in axe_serious(page)]
        finally:
            ctx.close()
    assert serious == []
