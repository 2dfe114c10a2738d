"""Bad inputs of ``hesuan land habitat``: each gets one clear InputError, and no outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from hesuan.errors import InputError
from hesuan.land.habitat import run

CASE = Path(__file__).parent / "cases" / "habitat_parity"


@pytest.fixture
def case(tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder, ignore=shutil.ignore_patterns("invest_*", "*.py"))
    return folder


def _run(case: Path, out: Path, **kw) -> InputError:
    with pytest.raises(InputError) as exc:
        run(case / "lulc.tif", case / "threats.csv", case / "sensitivity.csv", out, **kw)
    assert not out.exists() or not any(p.suffix == ".tif" for p in out.iterdir())
    return exc.value


def _write_threat(path: Path, data: np.ndarray, x0: float = 500000.0, px: float = 30.0,
                  crs: str = "EPSG:32650") -> None:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype="float32", crs=crs,
                       transform=from_origin(x0, 3400000.0, px, px)) as ds:
        ds.write(data.astype(np.float32), 1)


def test_threat_raster_not_aligned(case, tmp_path):
    _write_threat(case / "threat_roads.tif", np.ones((200, 200)), x0=500030.0)
    msg = str(_run(case, tmp_path / "o"))
    assert "threat_roads.tif" in msg and "differs from the LULC map's" in msg
    assert "roads" in msg


def test_threat_raster_other_size(case, tmp_path):
    _write_threat(case / "threat_urban.tif", np.ones((100, 200)))
    msg = str(_run(case, tmp_path / "o"))
    assert "threat_urban.tif" in msg and "200 × 100 px" in msg


def test_threat_raster_other_crs(case, tmp_path):
    _write_threat(case / "threat_urban.tif", np.ones((200, 200)), crs="EPSG:32651")
    msg = str(_run(case, tmp_path / "o"))
    assert "threat_urban.tif" in msg and "CRS" in msg


def test_threat_values_outside_0_1(case, tmp_path):
    data = np.zeros((200, 200))
    data[10, 20] = 2.0
    _write_threat(case / "threat_roads.tif", data)
    msg = str(_run(case, tmp_path / "o"))
    assert "threat_roads.tif" in msg and "row 10, column 20" in msg and "0 to 1" in msg


def test_sensitivity_missing_threat_column(case, tmp_path):
    (case / "sensitivity.csv").write_text(
        "lucode,name,habitat,roads\n1,forest,1,0.8\n2,grass,0.7,0.5\n3,crop,0.3,0.3\n"
        "4,urban,0,0\n")
    err = _run(case, tmp_path / "o")
    assert any(p.field == "urban" and p.file and p.file.endswith("sensitivity.csv")
               for p in err.problems)


def test_sensitivity_value_not_a_number(case, tmp_path):
    (case / "sensitivity.csv").write_text(
        "lucode,name,habitat,roads,urban\n1,forest,1,0.8,0.9\n2,grass,0.7,high,0.6\n"
        "3,crop,0.3,0.3,0.4\n4,urban,0,0,0\n")
    err = _run(case, tmp_path / "o")
    assert [(p.row, p.field) for p in err.problems] == [(3, "roads")]


def test_negative_weight(case, tmp_path):
    (case / "threats.csv").write_text(
        "threat,max_dist_km,weight,decay,raster\n"
        "roads,1.2,-0.7,linear,threat_roads.tif\n"
        "urban,2.5,1.0,exponential,threat_urban.tif\n")
    err = _run(case, tmp_path / "o")
    assert [(p.row, p.field) for p in err.problems] == [(2, "weight")]


def test_unknown_decay_and_missing_raster(case, tmp_path):
    (case / "threats.csv").write_text(
        "threat,max_dist_km,weight,decay,raster\n"
        "roads,1.2,0.7,gaussian,threat_roads.tif\n"
        "urban,2.5,1.0,exponential,threat_urban.tif\n")
    err = _run(case, tmp_path / "o")
    assert [(p.row, p.field) for p in err.problems] == [(2, "decay")]
    (case / "threats.csv").write_text(
        "threat,max_dist_km,weight,decay,raster\nroads,1.2,0.7,linear,nowhere.tif\n")
    (case / "sensitivity.csv").write_text("lucode,habitat,roads\n1,1,1\n2,1,1\n3,1,1\n4,0,0\n")
    err = _run(case, tmp_path / "o2")
    assert err.problems[0].row == 2 and "nowhere.tif" in str(err)


def test_lulc_code_not_in_sensitivity(case, tmp_path):
    (case / "sensitivity.csv").write_text(
        "lucode,name,habitat,roads,urban\n1,forest,1,0.8,0.9\n2,grass,0.7,0.5,0.6\n"
        "3,crop,0.3,0.3,0.4\n")
    msg = str(_run(case, tmp_path / "o"))
    assert "code 4" in msg and "lulc.tif" in msg


def test_half_saturation_must_be_positive(case, tmp_path):
    err = _run(case, tmp_path / "o", half_saturation=0.0)
    assert err.problems[0].field == "half_saturation"


def test_cli_json_and_bad_input_exit_code(case, tmp_path, capsys):
    from hesuan.cli import main

    args = ["land", "habitat", "--lulc", str(case / "lulc.tif"), "--threats",
            str(case / "threats.csv"), "--sensitivity", str(case / "sensitivity.csv"),
            "--half-saturation", "0.4"]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out", str(tmp_path / "o"), "--json"])
    assert exc.value.code in (0, None)
    summary = json.loads(capsys.readouterr().out)
    assert summary["habitat_pixels"] == 33591 and 0 < summary["mean_quality_habitat"] < 1
    (case / "threats.csv").write_text("threat,max_dist_km,weight,decay,raster\n"
                                      "roads,-1,0.7,linear,threat_roads.tif\n")
    with pytest.raises(SystemExit) as exc:
        main([*args, "--out", str(tmp_path / "o2")])
    assert exc.value.code == 2
    assert "max_dist_km" in capsys.readouterr().err
