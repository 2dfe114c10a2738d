"""The land workbench's GEP, SEEA and habitat-quality runs (no browser): each bundled example
through the form, as a background job, to its report page, maps, downloads and PDF; an
upload; refusals. Expected figures are computed here from the example rasters or read from
the engine's own output files, never copied from the page."""

from __future__ import annotations

import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient

from hesuan.examples import path as example_path
from hesuan.registry.api import create_app
from hesuan.registry.engine import Registry
from hesuan.web import mount
from hesuan.web.settings import WebSettings


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    folder = tmp_path_factory.mktemp("webland")
    reg = Registry.open(f"sqlite:///{folder / 'registry.db'}")
    reg.bootstrap()
    app = mount(create_app(reg), WebSettings.from_env(folder / "state"))
    try:
        yield TestClient(app), folder / "state"
    finally:
        reg.close()


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/web/land").text)
    assert found
    return found.group(1)


def _run(client: TestClient, data: dict[str, str], files: list | None = None) -> str:
    """Start a land run; wait for it; return the job's id."""
    r = client.post("/web/land/jobs", data={"csrf": _csrf(client), **data}, files=files,
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    job = r.headers["location"].rsplit("/", 1)[1]
    deadline = time.monotonic() + 120
    while True:
        status = client.get(f"/web/land/jobs/{job}/status").text
        if "running" not in status and "queued" not in status:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert "failed" not in status, status
    return job


def _num(cell: str) -> float:
    """A number as the English page writes it (thousands with commas)."""
    return float(cell.replace(",", ""))


def _text(client: TestClient, job: str, lang: str = "en") -> str:
    r = client.get(f"/web/land/jobs/{job}", headers={"Accept-Language": lang})
    assert r.status_code == 200
    return html.unescape(r.text)


def test_gep_of_the_bundled_county(web) -> None:
    client, state = web
    job = _run(client, {"analysis": "gep", "example": "1"})
    page = _text(client, job)
    result = state / "jobs" / job / "result"
    account = json.loads((result / "gep.json").read_text("utf-8"))["account"]
    gep = [t for t in account["by_category"] if t["key"] == "gep"]
    assert len(gep) == 2  # 2015 and 2020
    for t in gep:  # the page shows the engine's GEP (in 亿 = 10^8 CNY, two decimals)
        assert f"{t['current']['amount'] / 1e8:,.2f} 亿 CNY" in page
    assert "gep_garze2010@2017" in page
    # regulating-service maps of the last year, with their units, and the downloads
    assert "Water conservation 2020 [m3/ha]" in page
    png = client.get(f"/web/land/jobs/{job}/png/water_conservation_m3")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    xlsx = client.get(f"/web/land/jobs/{job}/files/gep.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(f"/web/land/jobs/{job}/files/../../secret").status_code == 404
    zh = _text(client, job, "zh-CN")
    assert "生态产品总值" in zh
    pdf = client.get(f"/web/land/jobs/{job}/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_gep_of_an_uploaded_quantities_table(web) -> None:
    client, _state = web
    text = example_path("gep", "quantities.csv").read_bytes()
    index = example_path("gep", "price_index.csv").read_bytes()
    job = _run(client, {"analysis": "gep"}, files=[
        ("quantities", ("quantities.csv", io.BytesIO(text), "text/csv")),
        ("price_index", ("price_index.csv", io.BytesIO(index), "text/csv"))])
    page = _text(client, job)
    assert "quantities.csv" in page and "provisioning" in page
    assert "Result maps" not in page  # tables only: no raster, no map


def test_seea_extent_account_of_the_bundled_maps(web) -> None:
    client, _state = web
    job = _run(client, {"analysis": "seea_extent", "example": "1"})
    page = _text(client, job)
    # SEEA EA Table 4.1: opening and closing extents are the maps' areas per type; the
    # example's pixels are 100 m × 100 m = 1 ha, so the area in ha is the pixel count
    for year, row in (("2015", "Opening extent"), ("2020", "Closing extent")):
        with rasterio.open(example_path("gep", f"ecosystem_{year}.tif")) as src:
            codes = src.read(1)
        line = page.split(f"<td>{row}</td>", 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r'<td class="num">([^<]*)</td>', line)
        counts = [int((codes == c).sum()) for c in range(1, 7)]
        assert [_num(c) for c in cells] == [*counts, sum(counts)]
    assert "5 → 1, 3 → 6" in page  # the managed conversions of the example
    csv = client.get(f"/web/land/jobs/{job}/files/extent_account.csv")
    assert csv.status_code == 200 and csv.text.startswith("row,")


def test_habitat_quality_and_its_condition_account(web) -> None:
    client, state = web
    job = _run(client, {"analysis": "habitat", "example": "1"})
    page = _text(client, job)
    result = state / "jobs" / job / "result"
    base = json.loads((result / "lulc" / "summary.json").read_text("utf-8"))
    alt = json.loads((result / "alt" / "summary.json").read_text("utf-8"))
    forest = next(c for c in base["classes"] if c["name"] == "forest")
    forest_alt = next(c for c in alt["classes"] if c["name"] == "forest")
    classes = page.split("<td class=\"num\">1</td><td>forest</td>", 1)[1].split("</tr>", 1)[0]
    assert _num(re.findall(r'<td class="num">([^<]*)</td>', classes)[-1]) == \
        pytest.approx(forest["mean_quality"], abs=5e-5)
    # the condition indicator of a class is its mean quality over its suitability H_j
    # (hesuan.land.habitat.condition; SEEA EA 2021 §5.61 with reference levels 0 and H_j)
    index = page.split("<td>forest</td><td>index</td>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', index)
    assert [_num(c) for c in cells[:2]] == pytest.approx(
        [forest["mean_quality"] / forest["habitat"],
         forest_alt["mean_quality"] / forest_alt["habitat"]], abs=5e-5)
    with rasterio.open(result / "lulc" / "quality.tif") as src:
        q = src.read(1, masked=True)
        assert float(np.ma.max(q)) <= 1.0
    assert "Habitat quality 2020 [-]" in page
    assert client.get(f"/web/land/jobs/{job}/png/quality_alt").status_code == 200
    assert client.get(f"/web/land/jobs/{job}/files/alt/quality.tif").status_code == 200


def test_seea_condition_of_an_uploaded_variables_table(web, tmp_path: Path) -> None:
    client, _state = web
    # SEEA EA 2021 §5.61: indicator = (value − lower) / (upper − lower), clamped to [0, 1]
    table = ("ecosystem_type,ect_class,variable,unit,opening,closing,lower_level,upper_level\n"
             "forest,A1,soil_carbon,t/ha,60,70,20,120\n"
             "forest,B1,canopy_cover,%,50,80,0,100\n")
    job = _run(client, {"analysis": "seea_condition"}, files=[
        ("variables", ("variables.csv", io.BytesIO(table.encode()), "text/csv"))])
    page = _text(client, job)
    # two classes, equal weights 0.5: opening 0.5·0.4 + 0.5·0.5, closing 0.5·0.5 + 0.5·0.8
    index = page.split("<td>forest</td><td>index</td>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', index)
    assert [_num(c) for c in cells[:2]] == pytest.approx([0.45, 0.65], abs=1e-12)


def test_a_bad_upload_is_refused_with_its_reason(web) -> None:
    client, _state = web
    r = client.post("/web/land/jobs", data={"csrf": _csrf(client), "analysis": "seea_extent"},
                    files=[("opening", ("a.tif", io.BytesIO(b"not a tiff"), "image/tiff"))])
    assert r.status_code == 422 and "GeoTIFF" in r.text
    r = client.post("/web/land/jobs", data={"csrf": _csrf(client), "analysis": "nothing"})
    assert r.status_code == 422


def test_habitat_quality_of_an_upload_with_its_threat_rasters(web, tmp_path: Path) -> None:
    """The upload's threats table names its rasters; they are saved beside it. The result
    is the engine's own on the same files (hesuan.land.habitat.run, InVEST's model)."""
    from hesuan.land.habitat import run
    from hesuan.web.land_analyses import habitat_example

    client, state = web
    files = habitat_example(tmp_path)
    threats = Path(files["threats_lulc"])
    rasters = [tmp_path / "cropland_2020.tif", tmp_path / "urban_2020.tif"]
    job = _run(client, {"analysis": "habitat"}, files=[
        ("lulc", ("lulc_2020.tif", Path(files["lulc"]).read_bytes(), "image/tiff")),
        ("threats_lulc", ("threats.csv", threats.read_bytes(), "text/csv")),
        ("sensitivity", ("sensitivity.csv", Path(files["sensitivity"]).read_bytes(),
                         "text/csv")),
        *[("threat_rasters", (r.name, r.read_bytes(), "image/tiff")) for r in rasters]])
    page = _text(client, job)
    expected = run(files["lulc"], threats, files["sensitivity"], tmp_path / "direct").summary
    # the upload runs with the engine's default half-saturation constant
    shown = json.loads((state / "jobs" / job / "result" / "view.json").read_text("utf-8"))
    assert shown["runs"]["lulc"]["mean_quality_habitat"] == expected.mean_quality_habitat
    assert "Habitat quality [-]" in page
    bad = client.post("/web/land/jobs", data={"csrf": _csrf(client), "analysis": "habitat"},
                      files=[("lulc", ("a.tif", Path(files["lulc"]).read_bytes(), "image/tiff")),
                             ("threats_lulc", ("t.csv", threats.read_bytes(), "text/csv")),
                             ("sensitivity", ("s.csv", b"lucode,habitat\n", "text/csv")),
                             ("threat_rasters", ("../x.tif", b"II*\x00", "image/tiff"))])
    assert bad.status_code == 422 and "file name" in bad.text


def test_carbon_of_uploaded_maps_and_pools(web) -> None:
    """The carbon form with the visitor's own files (here the bundled example's two maps
    and pools table, uploaded): the user guide's worked example totals, which InVEST 3.20.2
    reproduces (docs/land.md, "Worked example"), on the page and in summary.json."""
    client, _ = web
    files = [(field, (name, example_path("land", name).read_bytes(), mime))
             for field, name, mime in (("lulc", "lulc_2020.tif", "image/tiff"),
                                       ("alt", "lulc_2030.tif", "image/tiff"),
                                       ("pools", "pools.csv", "text/csv"))]
    job = _run(client, {"analysis": "carbon"}, files)
    summary = client.get(f"/web/land/jobs/{job}/files/summary.json").json()
    assert summary["storage_base_t_c"] == pytest.approx(493069.185, abs=5e-4)
    assert summary["storage_alt_t_c"] == pytest.approx(517505.58, abs=5e-4)
    assert summary["sequestration_t_c"] == pytest.approx(24436.395, abs=5e-4)
    assert summary["sequestration_t_co2e"] == pytest.approx(89600.115, abs=5e-4)
    page = _text(client, job)
    assert "lulc_2020.tif" in page  # the run is named after the first upload
    assert "<dd>493,069 t C</dd>" in page  # shown rounded to the tonne
    assert "<dd>24,436 t C = 89,600 t CO2e</dd>" in page
    assert client.get(f"/web/land/jobs/{job}/png/c_storage_bas").status_code == 200
    from .test_transport_uploads import _same_numbers

    pdf = client.get(f"/web/land/jobs/{job}/report.pdf")
    assert pdf.status_code == 200
    _same_numbers(client.get(f"/web/land/jobs/{job}").text, pdf.content, at_least=5)
