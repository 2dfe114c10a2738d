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
    vintage = facts["vintages"][0]  # the retired units are of the first vintage issued
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
