"""Request security and limits of the web application, without a browser (Starlette's test
client): response headers, CSRF, the upload limit and type checks, job ownership, and the
Chinese certificate PDF."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.web import mount
from hesuan.web.settings import MiB, WebSettings

from .seed import Seeded, seed


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Seeded, Path]]:
    folder = tmp_path_factory.mktemp("websec")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    seeded = seed(reg)
    settings = WebSettings.from_env(folder / "state")
    settings = WebSettings(settings.state_dir, settings.secret, max_upload_bytes=1 * MiB)
    app = mount(create_app(reg), settings)
    try:
        yield TestClient(app), seeded, folder
    finally:
        reg.close()


def _csrf(client: TestClient, url: str = "/web/transport") -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(url).text)
    assert found
    return found.group(1)


def test_every_page_sends_the_security_headers_and_a_session_cookie(web) -> None:
    client, _, _ = web
    r = TestClient(client.app).get("/web/projects")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS the cookie is Secure


def test_a_post_without_the_session_csrf_token_is_refused(web) -> None:
    client, _, _ = web
    r = client.post("/web/transport/jobs", data={"example": "1", "csrf": "f" * 40})
    assert r.status_code == 403
    other = TestClient(client.app)
    token = _csrf(client)
    assert other.post("/web/transport/jobs", data={"example": "1",
                                                   "csrf": token}).status_code == 403


def test_uploads_above_the_limit_or_of_the_wrong_type_are_refused(web) -> None:
    client, _, _ = web
    token = _csrf(client)
    big = io.BytesIO(b"a," * (MiB // 2 + 10))
    r = client.post("/web/transport/jobs", data={"csrf": token},
                    files={"legs": ("legs.csv", big, "text/csv")})
    assert r.status_code == 413
    r = client.post("/web/transport/jobs", data={"csrf": token},
                    files={"legs": ("legs.parquet", io.BytesIO(b"not parquet"),
                                    "application/octet-stream")})
    assert r.status_code == 422
    assert "not a CSV, Parquet or XLSX file" in r.text
    r = client.post("/web/land/jobs", data={"csrf": token},
                    files={"lulc": ("map.tif", io.BytesIO(b"GIF89a"), "image/tiff"),
                           "pools": ("pools.csv", io.BytesIO(b"lucode\n1\n"), "text/csv")})
    assert r.status_code == 422
    assert "not a GeoTIFF" in r.text


def test_a_job_is_visible_only_to_the_session_that_started_it(web) -> None:
    client, _, _ = web
    r = client.post("/web/transport/jobs", data={"example": "1", "csrf": _csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    job = r.headers["location"]
    assert client.get(job).status_code == 200
    assert TestClient(client.app).get(job).status_code == 404


def test_the_account_pages_need_a_signed_in_party(web) -> None:
    client, seeded, _ = web
    anonymous = TestClient(client.app)
    r = anonymous.get("/web/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login")
    token = _csrf(anonymous, "/web/login")
    r = anonymous.post("/web/login", data={"token": "hsn_unknown", "csrf": token})
    assert r.status_code == 401
    assert "The API token is unknown or has expired." in r.text
    r = anonymous.post("/web/account/transfer", data={
        "csrf": token, "from_account": str(seeded.holder_account),
        "to_account": str(seeded.other_account), "quantity": "1"})
    assert r.status_code == 401


def test_the_certificate_pdf_in_chinese_carries_the_serial_range(web) -> None:
    from pypdf import PdfReader

    client, seeded, _ = web
    zh = TestClient(client.app)
    zh.get("/web/?lang=zh")
    r = zh.get(f"/web/retirements/{seeded.retirement_id}/certificate.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    # the seed retires 120 units from the tail block 431–730 → serials 611–730
    # (the recipient gets the tail: docs/registry.md, "Serial numbers")
    assert "611–730" in text
    assert "注销证书" in text


def test_workbench_runs_go_to_a_configured_dask_scheduler(tmp_path: Path) -> None:
    """With a scheduler the transport run of a Parquet upload goes through
    ``calculate_dask`` and gives the single-process totals (same functions, other engine)."""
    import json

    import polars as pl
    from dask.distributed import Client, LocalCluster

    from hesuan.examples import path as example_path
    from hesuan.transport import calculate
    from hesuan.web import transport_work

    legs = tmp_path / "legs.parquet"
    pl.read_csv(example_path("transport", "legs.csv"), infer_schema_length=0).write_parquet(legs)
    local = calculate(example_path("transport", "legs.csv")).summary
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        transport_work.run(tmp_path, legs, None, False, lambda done, total: None,
                           scheduler=cluster.scheduler_address)
    summary = json.loads((tmp_path / "result" / "summary.json").read_text("utf-8"))
    assert summary["wtw_t_co2e"] == pytest.approx(local.wtw_t_co2e, rel=1e-9)
    assert summary["n_legs"] == local.n_legs == 12


def test_the_certificates_qr_code_opens_its_public_page(web) -> None:
    """The QR code encodes the retirement's public page at the configured public address
    (``HESUAN_PUBLIC_URL``), and that page shows the retirement."""
    import html

    from hesuan.web.certificate import qr_data_uri

    client, seeded, folder = web
    base = WebSettings.from_env(folder / "state-public")
    settings = WebSettings(base.state_dir, base.secret,
                           public_url="https://registry.example.org/")
    public = TestClient(mount(create_app(client.app.state.registry), settings))
    page = html.unescape(public.get(f"/web/retirements/{seeded.retirement_id}").text)
    url = f"https://registry.example.org/web/retirements/{seeded.retirement_id}"
    found = re.search(r'<figure class="qr"><img src="([^"]+)"[^>]*><figcaption>([^<]+)<', page)
    assert found, page
    assert found.group(2) == url
    assert found.group(1) == qr_data_uri(url)  # the code is made from that address
    shown = public.get(url.removeprefix("https://registry.example.org"))
    assert shown.status_code == 200 and "Seed passengers 2024" in shown.text
