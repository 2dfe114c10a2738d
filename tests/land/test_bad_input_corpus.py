"""Bad-input corpus of ``hesuan land carbon`` and ``hesuan land ipcc``: each case runs the
command, which must exit 2 with one message naming the problem, no traceback, and leave
no output file behind (no partial or mixed set of outputs).

Cases are data: (id, how to build the inputs, arguments, expected message fragment).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hesuan.cli import main

from .conftest import POOLS_CSV, write_lulc

#: A folder that cannot be created even by root (sysfs refuses new entries).
UNWRITABLE = Path("/sys/hesuan_land_out")

Build = Callable[[Path], dict[str, Path]]


def _maps(tmp: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    base = rng.choice([1, 2, 3], size=(40, 50)).astype(np.uint8)
    alt = np.where(rng.random(base.shape) < 0.2, 1, base).astype(np.uint8)
    pools = tmp / "pools.csv"
    pools.write_text(POOLS_CSV)
    return {"base": write_lulc(tmp / "base.tif", base), "alt": write_lulc(tmp / "alt.tif", alt),
            "pools": pools}


def _pools_with(value: str) -> Build:
    def build(tmp: Path) -> dict[str, Path]:
        files = _maps(tmp)
        files["pools"].write_text(POOLS_CSV.replace("1,100,20,50,10", f"1,{value},20,50,10"))
        return files
    return build


def _truncated(tmp: Path) -> dict[str, Path]:
    files = _maps(tmp)
    big = np.random.default_rng(2).integers(1, 4, size=(1200, 1100)).astype(np.uint8)
    path = tmp / "cut.tif"
    import rasterio

    with rasterio.open(path, "w", driver="GTiff", width=1100, height=1200, count=1,
                       dtype="uint8", crs="EPSG:32650", nodata=255, tiled=True,
                       blockxsize=256, blockysize=256, compress="deflate",
                       transform=rasterio.Affine(30, 0, 500_000, 0, -30, 3_400_000)) as ds:
        ds.write(big, 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    files["base"] = path
    return files


def _not_a_tiff(tmp: Path) -> dict[str, Path]:
    files = _maps(tmp)
    files["base"].write_bytes(b"II*\x00" + os.urandom(2000))
    return files


def _out_is_file(tmp: Path) -> dict[str, Path]:
    files = _maps(tmp)
    (tmp / "out").write_text("not a folder")
    return files


def _out_below_file(tmp: Path) -> dict[str, Path]:
    files = _maps(tmp)
    (tmp / "file.txt").write_text("x")
    files["out"] = tmp / "file.txt" / "out"
    return files


def _unwritable(tmp: Path) -> dict[str, Path]:
    files = _maps(tmp)
    files["out"] = UNWRITABLE
    return files


CARBON_CASES: list[tuple[str, Build, list[str], str]] = [
    ("pools 1e308", _pools_with("1e308"), [], "1e+308 is above the maximum"),
    ("pools nan", _pools_with("nan"), [], "not a finite number"),
    ("pools inf", _pools_with("inf"), [], "not a finite number"),
    ("pools -inf", _pools_with("-inf"), [], "not a finite number"),
    ("pools text", _pools_with("lots"), [], "not a number: 'lots'"),
    ("truncated GeoTIFF", _truncated, [], "truncated or corrupt"),
    ("not a GeoTIFF", _not_a_tiff, [], "not a raster GDAL can read"),
    ("--out is a file", _out_is_file, [], "is a file, not a folder"),
    ("--out below a file", _out_below_file, [], "which is a file, not a folder"),
    ("--out unwritable", _unwritable, [], "cannot be made (permission denied)"),
    ("npv unknown output", _maps, ["--outputs", "npv"], "needs --alt and valuation"),
    ("unknown output", _maps, ["--outputs", "c_everything"], "unknown raster output"),
    ("valuation overflow", _maps,
     ["--price", "1e12", "--discount", "-99.99", "--price-change", "0", "--years", "2000",
      "2900"], "valuation constant"),
    ("bad raster format", _maps, ["--raster-format", "png"], "unknown raster format"),
]


def _invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.is_dir() \
        else []


@pytest.mark.parametrize(("build", "extra", "fragment"),
                         [c[1:] for c in CARBON_CASES], ids=[c[0] for c in CARBON_CASES])
def test_land_carbon_bad_input(tmp_path, capsys, build, extra, fragment):
    files = build(tmp_path)
    out = files.get("out", tmp_path / "out")
    before = _files(out)
    argv = ["land", "carbon", "--lulc", str(files["base"]), "--pools", str(files["pools"]),
            "--out", str(out), "--mc-samples", "0", *extra]
    if "--price" in extra:
        argv += ["--alt", str(files["alt"])]
    code, _, err = _invoke(argv, capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert fragment in " ".join(err.split()), err
    assert _files(out) == before, "no output may be written"


def test_second_run_into_the_same_folder_never_mixes(tmp_path, capsys):
    """A folder holding an earlier run is refused; --overwrite replaces its whole set (the
    first run's extra rasters do not stay beside the new ones)."""
    files = _maps(tmp_path)
    out = tmp_path / "out"
    common = ["land", "carbon", "--lulc", str(files["base"]), "--pools", str(files["pools"]),
              "--alt", str(files["alt"]), "--out", str(out), "--mc-samples", "0",
              "--no-report"]
    assert _invoke(common, capsys)[0] == 0
    first = _files(out)
    assert "c_soil_alt.tif" in first and "hesuan-manifest.json" in first
    code, _, err = _invoke([*common, "--outputs", "c_storage"], capsys)
    assert code == 2 and "earlier run" in err and "--overwrite" in " ".join(err.split())
    assert _files(out) == first
    code, _, err = _invoke([*common, "--outputs", "c_storage", "--overwrite"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.tif")) == ["c_storage_alt.tif",
                                                         "c_storage_bas.tif"]
    manifest = json.loads((out / "hesuan-manifest.json").read_text())
    assert sorted(f["path"] for f in manifest["files"]) == sorted(
        ["c_storage_alt.tif", "c_storage_bas.tif", "classes.csv", "summary.json"])
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_user_file_in_the_folder_is_left_alone(tmp_path, capsys):
    files = _maps(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    argv = ["land", "carbon", "--lulc", str(files["base"]), "--pools", str(files["pools"]),
            "--out", str(out), "--mc-samples", "0", "--no-report"]
    assert _invoke(argv, capsys)[0] == 0
    assert _invoke([*argv, "--overwrite"], capsys)[0] == 0
    assert (out / "notes.txt").read_text() == "mine"


def test_json_output_and_provenance(tmp_path, capsys):
    """--json prints the summary (strict JSON); provenance names every input with its
    SHA-256 and is shown in the HTML report."""
    import hashlib

    files = _maps(tmp_path)
    out = tmp_path / "out"
    code, stdout, err = _invoke(
        ["land", "carbon", "--lulc", str(files["base"]), "--pools", str(files["pools"]),
         "--alt", str(files["alt"]), "--out", str(out), "--mc-samples", "50", "--json"],
        capsys)
    assert code == 0, err
    data = json.loads(stdout)
    assert data == json.loads((out / "summary.json").read_text())
    prov = data["provenance"]
    digest = hashlib.sha256(files["pools"].read_bytes()).hexdigest()
    roles = {f["role"]: f for f in prov["inputs"]}
    assert roles["carbon_pools_path"]["sha256"] == digest
    assert set(roles) == {"lulc_bas_path", "lulc_alt_path", "carbon_pools_path"}
    assert prov["parameters"]["mc_samples"] == 50 and prov["run_utc"].endswith("Z")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert digest in html and prov["hesuan_version"] in html


# --- IPCC -------------------------------------------------------------------------------

def _soc(tmp: Path, edit: Callable[[list[str], list[str]], list[str]]) -> Path:
    """The bundled soc_strata.csv with its data rows replaced by ``edit(header, rows)``."""
    from hesuan.examples import path

    lines = path("land", "ipcc", "soc_strata.csv").read_text(encoding="utf-8").split()
    target = tmp / "soc.csv"
    target.write_text("\n".join([lines[0], *edit(lines[0].split(","), lines[1:])]) + "\n")
    return target


def _huge_area(header: list[str], rows: list[str]) -> list[str]:
    cells = rows[0].split(",")
    cells[header.index("area_ha")] = "1e308"
    return [",".join(cells)]


IPCC_CASES: list[tuple[str, Callable[[list[str], list[str]], list[str]], str, str]] = [
    ("repeated stratum", lambda h, rows: [rows[0], rows[1], rows[0]], "out.csv",
     "duplicate key notill_maize (first on line 2)"),
    ("area 1e308", _huge_area, "out.csv", "beyond any real inventory"),
    ("--out a folder", lambda h, rows: rows, "folder.csv", "is a folder"),
    ("--out wrong extension", lambda h, rows: rows, "out.parquet", "the name does not end in .csv"),
]


@pytest.mark.parametrize(("build", "out_name", "fragment"),
                         [c[1:] for c in IPCC_CASES], ids=[c[0] for c in IPCC_CASES])
def test_land_ipcc_soc_bad_input(tmp_path, capsys, build, out_name, fragment):
    strata = _soc(tmp_path, build)
    (tmp_path / "folder.csv").mkdir()
    before = _files(tmp_path)
    code, _, err = _invoke(["land", "ipcc", "soc", str(strata), "--edition", "2006",
                            "--out", str(tmp_path / out_name)], capsys)
    assert code == 2, err
    assert "Traceback" not in err and fragment in " ".join(err.split()), err
    assert _files(tmp_path) == before


def test_land_ipcc_soc_unwritable_out(tmp_path, capsys):
    from hesuan.examples import path

    code, _, err = _invoke(["land", "ipcc", "soc", str(path("land", "ipcc", "soc_strata.csv")),
                            "--edition", "2006", "--out", str(UNWRITABLE / "o.csv")], capsys)
    assert code == 2 and "permission denied" in err


def test_land_ipcc_json_and_transitions_folder(tmp_path, capsys):
    from hesuan.examples import path

    out = tmp_path / "soc.csv"
    code, stdout, err = _invoke(["land", "ipcc", "soc", str(path("land", "ipcc",
                                 "soc_strata.csv")), "--edition", "2006", "--out", str(out),
                                 "--json"], capsys)
    assert code == 0, err
    data = json.loads(stdout)
    assert data == json.loads(out.with_suffix(".json").read_text())
    assert data["provenance"]["inputs"][0]["sha256"] == data["input_sha256"]
    # Worked example of docs/land.md: 455.4 + 78.33 + 2521.3 t C/yr (2006 edition).
    assert data["change_t_c_per_yr"] == pytest.approx(455.4 + 78.3333333 + 2521.3, rel=1e-6)
    args = ["land", "ipcc", "transitions", "--from", str(path("land", "ipcc", "lulc_2010.tif")),
            "--to", str(path("land", "ipcc", "lulc_2020.tif")),
            "--stocks", str(path("land", "ipcc", "stocks.csv")), "--years", "2010", "2020",
            "--out", str(tmp_path / "t")]
    code, stdout, err = _invoke([*args, "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["co2_t_per_yr"] == pytest.approx(627.0)
    code, _, err = _invoke(args, capsys)
    assert code == 2 and "earlier run" in err
    assert _invoke([*args, "--overwrite"], capsys)[0] == 0


def test_land_ipcc_reads_a_chinese_excel_csv(tmp_path, capsys):
    """A strata table as Chinese Excel saves it (GBK, semicolons, CRLF, Chinese names) reads
    with the one table reader and gives the worked example's numbers (docs/land.md)."""
    from hesuan.examples import path

    lines = path("land", "ipcc", "soc_strata.csv").read_text(encoding="utf-8").split()
    rows = [line.replace(",", ";") for line in lines]
    names = (("notill_maize", "免耕玉米地块"), ("paddy_from_native", "原生林地改为水稻田"),
             ("improved_pasture", "改良草地高投入"))
    for i, (old, new) in enumerate(names, start=1):
        rows[i] = rows[i].replace(old, new)
    strata = tmp_path / "土壤.csv"
    strata.write_bytes("\r\n".join(rows).encode("gbk") + b"\r\n")
    code, stdout, err = _invoke(["land", "ipcc", "soc", str(strata), "--edition", "2006",
                                 "--out", str(tmp_path / "soc.csv"), "--json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["change_t_c_per_yr"] == pytest.approx(455.4 + 78.3333333 + 2521.3,
                                                                    rel=1e-6)
    assert "免耕玉米地块" in (tmp_path / "soc.csv").read_text(encoding="utf-8")


def test_pools_table_as_excel_saves_it(tmp_path, capsys):
    """A pools table saved by Excel ("CSV UTF-8": BOM, CRLF; semicolons as in many locales;
    InVEST's case-insensitive header) reads as the plain one and gives the same totals."""
    files = _maps(tmp_path)
    plain = tmp_path / "plain"
    excel = tmp_path / "excel"
    text = POOLS_CSV.replace(",", ";").replace("lucode", "LUCODE").replace("\n", "\r\n")
    (tmp_path / "pools_excel.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    for out, pools in ((plain, files["pools"]), (excel, tmp_path / "pools_excel.csv")):
        code, _, err = _invoke(["land", "carbon", "--lulc", str(files["base"]), "--pools",
                                str(pools), "--out", str(out), "--mc-samples", "0",
                                "--no-report", "--outputs", "none"], capsys)
        assert code == 0, err
    a, b = (json.loads((o / "summary.json").read_text()) for o in (plain, excel))
    assert a["storage_base_t_c"] == b["storage_base_t_c"]
    assert a["uncertainty"] == b["uncertainty"]


def test_land_ipcc_transitions_truncated_map(tmp_path, capsys):
    from hesuan.examples import path

    files = _truncated(tmp_path)
    out = tmp_path / "t"
    code, _, err = _invoke(["land", "ipcc", "transitions", "--from", str(files["base"]),
                            "--to", str(files["base"]), "--stocks",
                            str(path("land", "ipcc", "stocks.csv")), "--years", "2010", "2020",
                            "--out", str(out)], capsys)
    assert code == 2, err
    assert "truncated or corrupt" in err and "cut.tif" in err and "Traceback" not in err
    assert _files(out) == []
