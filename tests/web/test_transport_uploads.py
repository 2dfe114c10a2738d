"""The transport workbench with a visitor's own files (no browser): the Excel template and a
Parquet file go through the form — check, run, downloads — to the engine's totals for the
same legs; a file with bad rows lists each one with its line before running, and runs
without them. Expected figures come from :func:`hesuan.transport.calculate` on the same
rows, never from the page."""

from __future__ import annotations

import html
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from hesuan.examples import path as example_path
from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.transport import calculate
from hesuan.web import mount
from hesuan.web.settings import WebSettings

LEGS = example_path("transport", "legs.csv")
HUBS = example_path("transport", "hubs.csv")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("webtransport")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    reg.bootstrap()
    app = mount(create_app(reg), WebSettings.from_env(folder / "state"))
    try:
        yield TestClient(app, headers={"Accept-Language": "en"})
    finally:
        reg.close()


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/web/transport").text)
    assert found
    return found.group(1)


def _wait(client: TestClient, job: str, until: str) -> str:
    """Wait for the job's status to become ``until``; return its page's text."""
    deadline = time.monotonic() + 120
    while True:
        status = re.search(r"<strong>(\w+)</strong>",
                           client.get(f"/web/transport/jobs/{job}/status").text)
        assert status, "no status"
        if status.group(1) in (until, "failed"):
            break
        assert time.monotonic() < deadline, status.group(1)
        time.sleep(0.2)
    page = html.unescape(client.get(f"/web/transport/jobs/{job}").text)
    assert status.group(1) == until, page
    return page


def _upload(client: TestClient, legs: tuple[str, bytes, str]) -> tuple[str, str]:
    """Send ``legs`` and the example's hubs; return the job and its checked page."""
    r = client.post("/web/transport/jobs", data={"csrf": _csrf(client)},
                    files={"legs": legs, "hubs": ("hubs.csv", HUBS.read_bytes(), "text/csv")},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    job = r.headers["location"].rsplit("/", 1)[1]
    return job, _wait(client, job, "checked")


def _run(client: TestClient, job: str, skip_invalid: bool = False) -> dict:
    data = {"csrf": _csrf(client), **({"skip_invalid": "1"} if skip_invalid else {})}
    r = client.post(f"/web/transport/jobs/{job}/run", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = _wait(client, job, "done")
    assert "<article class=\"document\">" in page
    summary = client.get(f"/web/transport/jobs/{job}/files/summary.json")
    assert summary.status_code == 200
    data = summary.json()
    assert isinstance(data, dict)
    return data


def test_the_excel_template_and_a_parquet_file_run_to_the_engines_totals(
        client: TestClient) -> None:
    template = client.get("/web/transport/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    buf = io.BytesIO()
    pl.read_csv(LEGS, infer_schema_length=0).write_parquet(buf)
    expected = calculate(LEGS, HUBS).summary
    for legs in (("my-legs.xlsx", template.content, "application/vnd.openxmlformats-"
                                                    "officedocument.spreadsheetml.sheet"),
                 ("my-legs.parquet", buf.getvalue(), "application/octet-stream")):
        job, checked = _upload(client, legs)
        assert f"All {expected.n_legs} legs are valid." in checked, checked
        summary = _run(client, job)
        assert summary["n_legs"] == expected.n_legs == 12
        assert summary["wtw_t_co2e"] == pytest.approx(expected.wtw_t_co2e, rel=1e-12)
        for name in ("legs.parquet", "legs.csv"):
            assert client.get(f"/web/transport/jobs/{job}/files/{name}").status_code == 200
        pdf = client.get(f"/web/transport/jobs/{job}/report.pdf")
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
        _same_numbers(client.get(f"/web/transport/jobs/{job}").text, pdf.content)


def _same_numbers(page: str, pdf: bytes, at_least: int = 10) -> None:
    """The report's facts and table cells on the page (``at_least`` of them) are in its PDF
    too (one document model, two renderings)."""
    from pypdf import PdfReader

    article = page.split('<article class="document">')[1].split("</article>")[0]
    shown = [html.unescape(v) for v in re.findall(r"<(?:dd|td)[^>]*>([^<]+)</(?:dd|td)>",
                                                  article)]
    assert len(shown) >= at_least, article
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    squeeze = re.compile(r"\s+")
    flat = squeeze.sub("", text)
    missing = [v for v in shown if squeeze.sub("", v) not in flat]
    assert missing == [], missing


def test_bad_rows_are_listed_by_line_before_the_run_and_left_out_of_it(
        client: TestClient, tmp_path: Path) -> None:
    rows = pl.read_csv(LEGS, infer_schema_length=0)
    # spreadsheet lines 3 and 6 (the header is line 1): no number, no such mode
    bad = rows.with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("heavy")).otherwise(pl.col("mass_t"))
        .alias("mass_t"),
        pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("teleport")).otherwise(pl.col("mode"))
        .alias("mode"))
    good = tmp_path / "good.csv"
    bad.filter(~pl.int_range(pl.len()).is_in([1, 4])).write_csv(good)
    job, checked = _upload(client, ("mixed.csv", bad.write_csv().encode(), "text/csv"))
    assert "2 rows have problems; 10 legs are valid." in checked, checked
    table = checked.split("Problems per row")[1].split("</table>")[0]
    lines = re.findall(r"<tr><td>(\d+)</td>", table)
    assert lines == ["3", "6"]
    assert "mass_t" in table and "mode" in table
    assert '<input type="hidden" name="skip_invalid" value="1">' in checked
    summary = _run(client, job, skip_invalid=True)
    expected = calculate(good, HUBS).summary
    assert summary["n_legs"] == expected.n_legs == 10
    assert summary["wtw_t_co2e"] == pytest.approx(expected.wtw_t_co2e, rel=1e-12)
    rejects = client.get(f"/web/transport/jobs/{job}/files/rejects.csv")
    assert rejects.status_code == 200
    assert pl.read_csv(io.BytesIO(rejects.content), infer_schema_length=0)["line"].to_list() \
        == ["3", "6"]


def test_a_file_whose_every_row_is_bad_lists_them_all_and_offers_no_run(
        client: TestClient) -> None:
    rows = pl.read_csv(LEGS, infer_schema_length=0).head(3).with_columns(
        pl.lit("heavy").alias("mass_t"))
    _job, checked = _upload(client, ("all-bad.csv", rows.write_csv().encode(), "text/csv"))
    assert "3 rows have problems; 0 legs are valid." in checked, checked
    table = checked.split("Problems per row")[1].split("</table>")[0]
    assert re.findall(r"<tr><td>(\d+)</td>", table) == ["2", "3", "4"]
    assert 'id="run"' not in checked
    assert "Correct the file and upload it again." in checked
