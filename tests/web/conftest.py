"""Fixtures of the browser tests: a seeded registry served with the web application by
uvicorn in a thread, and Debian's chromium driven by Playwright (its own browser download is
not used). The tests skip, saying why, when Playwright or chromium is missing."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .seed import Seeded, seed

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(os.environ.get("HESUAN_WEB_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "build" / "web-artifacts"))


def chromium_path() -> str | None:
    for candidate in (os.environ.get("HESUAN_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class Site:
    url: str
    seeded: Seeded
    app: Any


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from hesuan.registry.api import create_app
    from hesuan.registry.engine import Registry
    from hesuan.web import mount
    from hesuan.web.settings import WebSettings

    folder = tmp_path_factory.mktemp("web")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    seeded = seed(reg)
    app = mount(create_app(reg), WebSettings.from_env(folder / "state"))
    try:
        with serve(app) as url:
            yield Site(url, seeded, app)
    finally:
        reg.close()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free local port in a thread; yield its address."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright for Python is not installed "
                                      "(pip install playwright)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no chromium found (apt-get install chromium, or set HESUAN_CHROMIUM)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Console:
    """Console errors and uncaught page errors of one browser context."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))


@pytest.fixture
def context(browser: Any) -> Iterator[tuple[Any, Console]]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    console = Console()
    ctx.on("page", console.watch)
    try:
        yield ctx, console
    finally:
        ctx.close()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def axe_serious(page: Any) -> list[tuple[str, str, str]]:
    """axe-core's serious and critical violations of the page now open (WCAG 2.1 A/AA and
    best practice): ``(rule id, help, the offending elements)``. The context must bypass
    the CSP to inject axe."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations'], "
        "runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', "
        "'best-practice']}})).violations")
    return [(v["id"], v["help"], " ".join(n["html"][:120] for n in v["nodes"][:3]))
            for v in result if v["impact"] in ("serious", "critical")]


def sign_in(page: Any, site: Site, who: str) -> None:
    page.goto(f"{site.url}/web/login")
    page.fill("#token", site.seeded.tokens[who])
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/web/account")
