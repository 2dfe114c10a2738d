"""Reference test: the UN SEEALand stylised example (SEEA EA 2021 annex, online supplement
"SEEALand Stylised Example", Version 1, September 2021), the official SEEA EA teaching
example, as vendored in CSV form by SchmidtDSE/unseea (``research/seealand-fixture/``:
``ecosystem-assets.csv``, ``extent-account.csv``, ``change-matrix.csv``,
``condition-stage-2.csv``, ``condition-indices.csv``). The inputs are in
``cases/seealand/`` (SOURCE.md); the expected numbers below are the workbook's.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio

from hesuan.land.seea import (
    AccountingIdentityError,
    change_matrix,
    change_matrix_from_rasters,
    condition_indices,
    extent_account,
    read_condition_variables,
    rescale,
)
from hesuan.land.seea.extent import check_extent_identities

CASE = Path(__file__).parent / "cases" / "seealand"
CODES = (1, 2, 3, 4, 5, 6)
NAMES = ("forest", "lake", "cropland", "urban_area", "wetland", "seagrass")


def _grid(name: str) -> np.ndarray:
    return np.loadtxt(CASE / f"extent_{name}.csv", delimiter=",", dtype=np.int64)


def test_change_matrix_and_extent_account():
    """Tab #2 (extent account) and Tab #3 (change matrix): 2 ha of forest to cropland."""
    m = change_matrix(_grid("opening"), _grid("closing"), CODES, NAMES, 1.0, nodata=0)
    expected = np.diag([38, 30, 60, 50, 20, 50]).astype(float)
    expected[0, 2] = 2
    np.testing.assert_array_equal(m.area_ha, expected)
    assert m.nodata_ha == 6  # the 6 squares outside SEEALand in the 16 × 16 grid
    acc = extent_account(m, managed=[(1, 3)])
    assert acc.opening == (40, 30, 60, 50, 20, 50)
    assert acc.closing == (38, 30, 62, 50, 20, 50)
    assert acc.managed_expansion == (0, 0, 2, 0, 0, 0)
    assert acc.managed_reduction == (2, 0, 0, 0, 0, 0)
    assert acc.unmanaged_expansion == acc.unmanaged_reduction == (0,) * 6
    assert acc.net_change == (-2, 0, 2, 0, 0, 0)
    assert sum(acc.opening) == sum(acc.closing) == 250


def test_change_matrix_from_rasters(tmp_path):
    paths = []
    for name in ("opening", "closing"):
        p = tmp_path / f"{name}.tif"
        with rasterio.open(p, "w", driver="GTiff", width=16, height=16, count=1,
                           dtype="uint8", nodata=0, crs="EPSG:32650",
                           transform=rasterio.Affine(100, 0, 500000, 0, -100, 3000000)) as ds:
            ds.write(_grid(name).astype(np.uint8), 1)
        paths.append(p)
    m = change_matrix_from_rasters(paths[0], paths[1], CODES, NAMES)
    assert m.area_ha[0, 2] == pytest.approx(2.0) and m.area_ha.sum() == pytest.approx(250)


def test_identities_are_enforced():
    a = np.diag([1.0, 2.0])
    with pytest.raises(AccountingIdentityError, match="opening \\+ net change"):
        check_extent_identities(a, a.sum(1), a.sum(0), np.array([1.0, 0.0]))


def test_indicator_rescaling_reverses_and_clamps():
    """SEEA EA §5.61–5.62 with the workbook's rows (Tab #5)."""
    assert rescale(1.1, 2, 0) == pytest.approx(0.45)            # lake N, lower is better
    assert rescale(4.2, 35, 2) == pytest.approx(0.933333, abs=1e-6)
    assert rescale(13.9, 15, 30) == 0.0                        # seagrass patch size: clamped
    assert rescale(120, 0, 100) == 1.0


def test_condition_indices_of_all_six_types():
    """Tab #8: opening and closing condition values and their changes by ECT group."""
    expected = {  # opening, closing, change abiotic, biotic, landscape
        "forest": (0.6707407407407406, 0.6117592592592591, -0.005648148148148152,
                   -0.02833333333333332, -0.024999999999999994),
        "lake": (0.6261039886039885, 0.6717149702149702, 0.018648018648018683,
                 0.026962962962962966, 0.0),
        "cropland": (0.46791666666666665, 0.47133333333333327, -0.0016666666666666496,
                     0.0067499999999999505, -0.0016666666666666635),
        "urban_area": (0.5044047619047619, 0.4852142857142857, 0.012999999999999956,
                       -0.024190476190476207, -0.008000000000000007),
        "wetland": (0.5912619047619048, 0.5559761904761905, -0.021666666666666667,
                    -0.0036190476190475773, -0.010000000000000002),
        "seagrass": (0.4450202991452991, 0.36907051282051284, -0.027783119658119665,
                     -0.028166666666666673, -0.020000000000000004),
    }
    got = condition_indices(read_condition_variables(CASE / "condition_variables.csv"))
    assert set(got) == set(expected)
    for et, (o, c, da, db, dc) in expected.items():
        idx = got[et]
        assert idx.opening == pytest.approx(o, abs=1e-12), et
        assert idx.closing == pytest.approx(c, abs=1e-12), et
        for group, d in (("A", da), ("B", db), ("C", dc)):
            assert idx.sub_closing.get(group, 0) - idx.sub_opening.get(group, 0) == \
                pytest.approx(d, abs=1e-12), (et, group)
        assert math.isclose(sum(w for *_, w in idx.indicators), 1.0)


def test_cli_extent_and_condition(tmp_path, capsys):
    from hesuan.cli import main

    paths = []
    for name in ("opening", "closing"):
        p = tmp_path / f"{name}.tif"
        with rasterio.open(p, "w", driver="GTiff", width=16, height=16, count=1,
                           dtype="uint8", nodata=0, crs="EPSG:32650",
                           transform=rasterio.Affine(100, 0, 500000, 0, -100, 3000000)) as ds:
            ds.write(_grid(name).astype(np.uint8), 1)
        paths.append(p)
    types = tmp_path / "types.csv"
    types.write_text("code,ecosystem_type\n" + "".join(f"{c},{n}\n" for c, n in
                                                        zip(CODES, NAMES, strict=True)))
    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "extent", "--opening", str(paths[0]), "--closing",
              str(paths[1]), "--types", str(types), "--managed", "1:3", "--out",
              str(tmp_path / "out"), "--json"])
    assert ex.value.code == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"]["Closing extent"] == [38, 30, 62, 50, 20, 50]
    assert (tmp_path / "out" / "extent_account.csv").is_file()
    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "condition", str(CASE / "condition_variables.csv"), "--out",
              str(tmp_path / "cond.csv"), "--json"])
    assert ex.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["forest"]["opening"] == pytest.approx(0.6707407407407406)
