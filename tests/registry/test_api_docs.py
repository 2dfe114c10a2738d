"""The API docs pages work offline: every script and style sheet they load is served by the
registry itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from hesuan.registry.api import create_app
from hesuan.registry.api.inprocess import InProcessTransport
from hesuan.registry.engine import Registry


@pytest.fixture
def client(tmp_path: Path):
    reg = Registry.open(str(tmp_path / "r.db"))
    http = httpx.Client(base_url="http://registry.local",
                        transport=InProcessTransport(create_app(reg)))
    yield http
    http.close()
    reg.close()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(client: httpx.Client, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets, r.text
    for url in assets:
        assert not url.startswith(("http://", "https://", "//")), url
        got = client.get(url)
        assert got.status_code == 200 and len(got.content) > 100, url
    assert "/openapi.json" in r.text
