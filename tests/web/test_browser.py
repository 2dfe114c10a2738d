"""The web application in a real browser (Playwright driving Debian's chromium): every page
renders with no console error in English and Chinese, the workbenches run their bundled
examples, transfers and retirements go through the forms, refusals say why, the certificate
PDF carries its serial range, CSRF and authorisation are enforced, axe-core finds no serious
accessibility violation. Screenshots at desktop and phone widths go to ``build/web-artifacts``
(or ``HESUAN_WEB_ARTIFACTS``)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hesuan.web import i18n

from .conftest import ARTIFACTS, Console, Site, axe_serious, sign_in

CJK = re.compile(r"[\u4e00-\u9fff]")

PUBLIC_PAGES = [
    "/web/", "/web/projects", "/web/projects/1", "/web/issuances", "/web/retirements",
    "/web/retirements/1", "/web/serials?q=700",
    "/web/serials?q=GS1-1-KE-GS7495-16-2025-30645-608-30350", "/web/audit", "/web/login",
    "/web/standards", "/web/standards/search?q=articulated+diesel",
    "/web/standards/ipcc_gwp100/AR6", "/web/standards/ipcc_gwp100/AR6/gwp.n2o",
    "/web/standards/methodologies", "/web/transport", "/web/land", "/web/land/ipcc",
    "/web/learn", "/web/learn/transport", "/web/learn/land", "/web/learn/ipcc",
    "/web/learn/gep", "/web/learn/seea", "/web/learn/habitat",
    "/web/learn/quantification",
]


def _shoot(page: Any, name: str, phone: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"/jobs/[0-9a-f]{24}", "/job", name)
    safe = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "home"
    for label, width in (("desktop", 1280), ("phone", 390))[:2 if phone else 1]:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{safe}-{label}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def _run_example(page: Any, site: Site, area: str, form: str = "example") -> str:
    """Start the bundled example of a workbench (its form ``form``) and wait for its result
    page."""
    page.goto(f"{site.url}/web/{area}")
    page.click(f"#{form} button[type=submit]")
    page.wait_for_url(re.compile(rf".*/web/{area}/jobs/[0-9a-f]{{24}}$"))
    if area == "transport":
        page.wait_for_selector("#run", timeout=60_000)
        page.wait_for_load_state("load")
        with page.expect_navigation():
            page.click("#run")
    try:
        page.wait_for_selector("article.document", timeout=90_000)
    except Exception as exc:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"failed-{area}.png"))
        raise AssertionError(f"{area}: no result at {page.url}: "
                             f"{page.inner_text('main')}") from exc
    return str(page.url)


def _catalogue_phrases() -> list[str]:
    """English UI phrases of two words or more whose translation differs."""
    from .test_i18n import extracted

    zh = i18n.translations("zh")
    return [m for m in extracted()
            if len(m.split()) >= 2 and "%(" not in m and zh.gettext(m) != m]


@dataclass
class Session:
    """One signed-in visitor who has run both workbenches' examples (shared by the page
    tests, so each example runs once)."""

    ctx: Any
    console: Console
    page: Any
    transport: str
    land: str
    nature: list[str]


@pytest.fixture(scope="module")
def session(site: Site, browser: Any) -> Iterator[Session]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    console = Console()
    ctx.on("page", console.watch)
    page = ctx.new_page()
    sign_in(page, site, "holder")
    transport = _run_example(page, site, "transport")
    assert page.locator("canvas#by-mode").count() == 1
    land = _run_example(page, site, "land")
    page.wait_for_selector(".leaflet-image-layer", state="attached")
    nature = []  # GEP, SEEA extent, habitat quality (+ condition) of their bundled examples
    for form, heading in (("example-gep", "Gross Ecosystem Product (GEP) account"),
                          ("example-extent", "SEEA ecosystem extent account"),
                          ("example-habitat", "Habitat quality")):
        nature.append(_run_example(page, site, "land", form))
        assert page.locator("article.document h1").inner_text() == heading
        if form != "example-extent":  # results that are rasters are drawn on the map
            page.wait_for_selector(".leaflet-image-layer", state="attached")
    try:
        yield Session(ctx, console, page, transport, land, nature)
    finally:
        ctx.close()


def _label(session: Session, path: str) -> str:
    """A screenshot's suffix telling the natural-capital runs apart (one job page each)."""
    names = ("-gep", "-seea-extent", "-habitat")
    return names[session.nature.index(path)] if path in session.nature else ""


def test_every_page_renders_without_console_errors(site: Site, session: Session) -> None:
    page = session.page
    page.goto(f"{site.url}/web/?lang=en")
    for path in [*PUBLIC_PAGES, "/web/account", session.transport, session.land,
                 *session.nature]:
        response = page.goto(path if path.startswith("http") else site.url + path)
        assert response is not None and response.ok, path
        assert page.get_attribute("html", "lang") == "en"
        page.wait_for_load_state("load")
        _shoot(page, f"en{path.replace(site.url, '')}{_label(session, path)}")
    assert session.console.errors == []


def test_chinese_locale_renders_every_page_with_no_untranslated_string(
        site: Site, session: Session) -> None:
    page = session.page
    console = session.console
    page.goto(f"{site.url}/web/?lang=zh")
    phrases = _catalogue_phrases()
    for path in [*PUBLIC_PAGES, "/web/account", session.transport, session.land,
                 *session.nature]:
        response = page.goto(path if path.startswith("http") else site.url + path)
        assert response is not None and response.ok, path
        assert page.get_attribute("html", "lang") == "zh-Hans"
        # text the page quotes in its own language (the registry's English statements) is
        # data, not UI: it is marked data-quoted and left out
        text = page.evaluate("() => { const b = document.body.cloneNode(true); "
                             "b.querySelectorAll('[data-quoted]').forEach(e => e.remove()); "
                             "return b.innerText; }")
        left = [p for p in phrases if p in text]
        assert left == [], (path, left)
        for selector in ("nav a", "button", "label", "legend", "caption"):
            for element in page.locator(f"main {selector}, header {selector}").all():
                words = element.inner_text().strip()
                if words and not CJK.search(words) and words not in ("English",) \
                        and not re.fullmatch(r"[\w@.:\-–/ ·]*\d[\w@.:\-–/ ·]*|[\w@.\-]+", words):
                    pytest.fail(f"{path}: untranslated {selector} {words!r}")
        _shoot(page, f"zh{path.replace(site.url, '')}{_label(session, path)}", phone=False)
    page.goto(f"{site.url}/web/?lang=en")
    assert console.errors == []


def test_transfer_and_retirement_through_the_forms_and_the_certificate(
        site: Site, context: Any) -> None:
    from pypdf import PdfReader

    ctx, console = context
    page = ctx.new_page()
    sign_in(page, site, "holder")
    s = site.seeded
    page.fill("#t-from", str(s.holder_account))
    page.fill("#t-to", str(s.other_account))
    page.fill("#t-q", "10")
    page.click("#form-transfer button[type=submit]")
    assert "Transferred 10 units" in page.inner_text("p.ok")
    page.fill("#r-from", str(s.holder_account))
    page.fill("#r-q", "5")
    page.fill("#r-b", "Browser test beneficiary")
    page.fill("#r-cs", "2024-01-01")
    page.fill("#r-ce", "2024-12-31")
    page.click("#form-retire button[type=submit]")
    notice = page.inner_text("p.ok")
    found = re.search(r"as R(\d+)", notice)
    assert found, notice
    rid = found.group(1)
    page.goto(f"{site.url}/web/retirements/{rid}")
    facts = page.inner_text("dl.facts")
    serial_range = re.search(r"(\d+)–(\d+)", facts.split("Serial range")[1])
    assert serial_range is not None
    first, last = int(serial_range.group(1)), int(serial_range.group(2))
    assert last - first + 1 == 5
    assert page.locator("img[alt='QR code of this page']").count() == 1
    pdf = ctx.request.get(f"{site.url}/web/retirements/{rid}/certificate.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert f"{first}–{last}" in text
    assert "Browser test beneficiary" in text
    assert console.errors == []


def test_a_rejected_transfer_shows_its_reason(site: Site, context: Any) -> None:
    ctx, _ = context
    page = ctx.new_page()
    sign_in(page, site, "holder")
    page.fill("#t-from", str(site.seeded.holder_account))
    page.fill("#t-to", str(site.seeded.other_account))
    page.fill("#t-q", "999999")
    page.click("#form-transfer button[type=submit]")
    refusal = page.inner_text("#refusal")
    assert "The account does not hold that many units." in refusal
    assert "quantity_must_not_exceed_balance" in refusal
    page.fill("#t-from", str(site.seeded.other_account))  # someone else's account
    page.fill("#t-to", str(site.seeded.holder_account))
    page.fill("#t-q", "1")
    page.click("#form-transfer button[type=submit]")
    assert "That account belongs to another party." in page.inner_text("#refusal")


def test_csrf_and_authorisation_refusals(site: Site, context: Any, browser: Any) -> None:
    ctx, _ = context
    page = ctx.new_page()
    page.goto(f"{site.url}/web/login")
    token = page.get_attribute("input[name=csrf]", "value")
    form = {"from_account": str(site.seeded.holder_account),
            "to_account": str(site.seeded.other_account), "quantity": "1"}
    forged = ctx.request.post(f"{site.url}/web/account/transfer",
                              form={**form, "csrf": "0" * 40})
    assert forged.status == 403
    anonymous = ctx.request.post(f"{site.url}/web/account/transfer",
                                 form={**form, "csrf": token})
    assert anonymous.status == 401  # a valid form, but nobody is signed in
    bad_token = ctx.request.post(f"{site.url}/web/login", form={"token": "hsn_nope",
                                                                "csrf": token})
    assert bad_token.status == 401
    sign_in(page, site, "holder")
    # the token of one session is no good in another
    other = browser.new_context()
    try:
        stolen = other.request.post(f"{site.url}/web/account/transfer",
                                    form={**form, "csrf": token})
        assert stolen.status == 403
    finally:
        other.close()
    cookies = {c["name"]: c for c in ctx.cookies()}
    assert cookies["hesuan_sid"]["httpOnly"] and cookies["hesuan_sid"]["sameSite"] == "Lax"
    response = page.goto(f"{site.url}/web/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_accessibility_axe_finds_no_serious_violation(site: Site, browser: Any,
                                                     session: Session) -> None:
    """Every page, the workbenches' result pages (maps, charts, reports) among them, in
    English and in Chinese."""
    ctx = browser.new_context(bypass_csp=True)  # to inject axe-core itself
    try:
        ctx.add_cookies(session.ctx.cookies())  # the signed-in session that ran the examples
        page = ctx.new_page()
        serious = []
        for lang in ("zh", "en"):
            page.goto(f"{site.url}/web/?lang={lang}")
            for path in [*PUBLIC_PAGES, "/web/account", session.transport, session.land,
                         *session.nature]:
                page.goto(path if path.startswith("http") else site.url + path)
                page.wait_for_load_state("load")
                serious += [(lang, path, *v) for v in axe_serious(page)]
        assert serious == []
    finally:
        ctx.close()


def test_learn_runs_the_worked_example_in_place(site: Site, context: Any) -> None:
    ctx, console = context
    page = ctx.new_page()
    page.goto(f"{site.url}/web/learn/transport")
    page.click("#learn-run")
    page.wait_for_selector("#steps ol")
    # CLECAT/UBA guide to ISO 14083 (2024), Case A: 75.1 kg CO2e
    assert "hesuan computed 75.1 kg CO2e" in page.inner_text("#steps")
    assert console.errors == []


LEARN_RUNS = ["ipcc", "gep", "seea", "habitat", "quantification"]


@pytest.mark.parametrize("name", LEARN_RUNS)
def test_learn_page_runs_in_place_in_both_languages(site: Site, browser: Any,
                                                     name: str) -> None:
    """Each Learn page runs its example in place, in English and in Chinese: no console error,
    no untranslated UI phrase, no serious axe violation with the steps shown; screenshots."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    console = Console()
    ctx.on("page", console.watch)
    phrases = _catalogue_phrases()
    try:
        page = ctx.new_page()
        for lang in ("en", "zh"):
            page.goto(f"{site.url}/web/learn/{name}?lang={lang}")
            page.click("#learn-run")
            page.wait_for_selector("#steps ol", timeout=60_000)
            if lang == "zh":
                text = page.inner_text("main")
                assert [p for p in phrases if p in text] == [], name
            assert axe_serious(page) == [], (lang, name)
            _shoot(page, f"{lang}/web/learn/{name}-run", phone=lang == "en")
        assert console.errors == []
    finally:
        ctx.close()


def test_api_tokens_listed_and_revoked_through_the_form(site: Site, context: Any) -> None:
    import hashlib

    reg = site.app.state.registry
    admin = reg.authenticate(site.seeded.tokens["admin"])
    lost = reg.create_party(admin, "browser-token-party", name="Lost token Ltd",
                            role="holder")
    ctx, console = context
    page = ctx.new_page()
    sign_in(page, site, "admin")
    page.goto(f"{site.url}/web/account?lang=en")
    mine = hashlib.sha256(site.seeded.tokens["admin"].encode()).hexdigest()[:12]
    assert mine in page.inner_text("#tokens")
    assert site.seeded.tokens["admin"] not in page.content()
    page.fill("#k-p", str(lost["party_id"]))
    page.fill("#k-r", "token reported lost")
    with page.expect_navigation():
        page.click("#form-revoke button[type=submit]")
    assert (f"Every token of party {lost['party_id']} was revoked"
            in page.inner_text("[role=status]"))
    reg.forget_tokens()
    with pytest.raises(Exception, match="token_must_be_valid"):
        reg.authenticate(lost["token"])
    _shoot(page, "en/web/account-tokens", phone=False)
    assert console.errors == []


def test_a_token_created_in_the_browser_works_once_shown_and_dies_when_revoked(
        site: Site, context: Any) -> None:
    """Create a token with the form, see its secret once, call the REST API with it, revoke
    it with its own button: the REST API then refuses it (401)."""
    import hashlib

    import httpx

    ctx, console = context
    page = ctx.new_page()
    sign_in(page, site, "admin")
    page.goto(f"{site.url}/web/account?lang=en")
    page.fill("#t-l", "browser script")
    page.fill("#t-d", "3")
    with page.expect_navigation():
        page.click("#form-token button[type=submit]")
    assert "Copy this token now" in page.inner_text("#new-token")
    secret = page.input_value("#new-token-value")
    assert secret.startswith("hsn_")
    _shoot(page, "en/web/account-new-token", phone=False)
    bearer = {"Authorization": f"Bearer {secret}"}
    listed = httpx.get(f"{site.url}/parties/me/tokens", headers=bearer)
    assert listed.status_code == 200
    sha = hashlib.sha256(secret.encode()).hexdigest()
    assert [t["label"] for t in listed.json() if t["fingerprint"] == sha] == ["browser script"]
    page.goto(f"{site.url}/web/account?lang=en")
    assert secret not in page.content()  # shown once
    with page.expect_navigation():
        page.click(f"#tokens form:has(input[value='{sha}']) button[type=submit]")
    assert f"The token {sha[:12]}… was revoked" in page.inner_text("[role=status]")
    refused = httpx.get(f"{site.url}/parties/me/tokens", headers=bearer)
    assert refused.status_code == 401 and refused.json()["code"] == "token_must_be_valid"
    assert console.errors == []
