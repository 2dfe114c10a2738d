"""The shipped crosswalks to the IUCN Global Ecosystem Typology and their use in the extent
account.

Class lists: GB/T 21010-2017 (12 一级类, 73 二级类; the standard's foreword counts 73
二级类), ESA WorldCover 10 m 2021 v200 (11 classes, values 10 … 100, product user manual
v2.0), CLCD (Yang & Huang 2021, ESSD 13: 3907, 9 classes, values 1 … 9). EFG codes: IUCN GET
2.1 (Keith et al. 2022).
"""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import rasterio

from hesuan.errors import DatasetError
from hesuan.land.seea import change_matrix, extent_account
from hesuan.land.seea.crosswalk import efg_list, load_crosswalk, to_efg
from hesuan.standards.loaders import DATA_ROOT


def test_shipped_crosswalks_cover_the_class_lists():
    g = load_crosswalk("gbt21010")
    assert sum(r.level == 1 for r in g.rows) == 12
    assert sum(r.level == 2 for r in g.rows) == 73
    assert {r.raster_code for r in g.rows if r.level == 1} == set(range(1, 13))
    w = load_crosswalk("worldcover")
    assert w.codes == (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100)
    c = load_crosswalk("clcd")
    assert c.codes == tuple(range(1, 10))
    for xw in (g, w, c):
        assert xw.info.licence and xw.info.citation
        assert all(r.rationale for r in xw.rows)
        assert all(r.efg_code in efg_list() for r in xw.rows)
        assert not any(r.verified and r.alternatives for r in xw.rows), xw.info.key


def test_definitional_rows_are_verified():
    g, w, c = (load_crosswalk(n) for n in ("gbt21010", "worldcover", "clcd"))
    assert g.efg_of(101) == "F3.3"          # 水田 → rice paddies
    assert g.efg_of(303) == "MFT1.2"        # 红树林地 → mangroves
    assert g.efg_of(1103) == "F3.1"         # 水库水面 → large reservoirs
    assert g.efg_of(1110) == "T6.1"
    assert w.efg_of(95) == "MFT1.2" and w.efg_of(50) == "T7.4" and w.efg_of(70) == "T6.1"
    assert c.efg_of(8) == "T7.4" and c.efg_of(6) == "T6.1"
    forest = next(r for r in c.rows if r.raster_code == 2)
    assert not forest.verified and "T1.1" in forest.alternatives
    assert efg_list()["T7.1"] == "Annual croplands"


def test_a_bad_crosswalk_is_named_row_by_row(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(DATA_ROOT / "seea_crosswalk_clcd" / "2021", folder)
    path = folder / "crosswalk.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[2] = rows[2].replace(",T2.2,", ",T2.9,")
    rows.append(rows[1].replace(",false,", ",maybe,"))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_crosswalk(folder)
    text = str(err.value)
    assert "line 3" in text and "'T2.9' is no IUCN GET functional group" in text
    assert "raster code 1 also on line 2" in text and "field 'verified'" in text
    with pytest.raises(DatasetError, match="no crosswalk 'corine'"):
        load_crosswalk("corine")


def test_extent_account_by_functional_group_keeps_every_identity():
    """CLCD classes 1 cropland, 2 forest, 3 shrub, 8 impervious: forest and shrub both book
    to T-groups of their own; 3 ha of cropland become impervious, 1 ha of shrub forest."""
    xw = load_crosswalk("clcd")
    opening = np.array([[1, 1, 1, 1], [2, 2, 3, 3], [8, 8, 2, 2]])
    closing = np.array([[8, 8, 8, 1], [2, 2, 2, 3], [8, 8, 2, 2]])
    m = change_matrix(opening, closing, xw.codes, xw.names, 1.0)
    e = to_efg(m, xw)
    # one group per class here, in the order of the CLCD values 1 … 9
    assert e.names == ("T7.1", "T2.2", "T3.2", "T4.5", "F2.2", "T6.1", "T5.4", "T7.4",
                       "TF1.3")
    pos = {n: i for i, n in enumerate(e.names)}
    assert e.area_ha[pos["T7.1"], pos["T7.4"]] == 3
    assert e.area_ha[pos["T3.2"], pos["T2.2"]] == 1
    assert e.area_ha.sum() == 12
    acc = extent_account(e, [(e.codes[pos["T7.1"]], e.codes[pos["T7.4"]])])
    i = pos["T7.4"]
    assert acc.opening[i] == 2 and acc.closing[i] == 5 and acc.managed_expansion[i] == 3


def _tif(path, data):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype="uint8", nodata=0, crs="EPSG:32650",
                       transform=rasterio.Affine(100, 0, 500000, 0, -100, 3000000)) as ds:
        ds.write(data.astype(np.uint8), 1)
    return path


def test_cli_extent_with_crosswalk(tmp_path, capsys):
    from hesuan.cli import main

    a = _tif(tmp_path / "a.tif", np.array([[1, 1, 1, 1], [2, 2, 3, 3], [8, 8, 2, 0]]))
    b = _tif(tmp_path / "b.tif", np.array([[8, 8, 8, 1], [2, 2, 2, 3], [8, 8, 2, 0]]))
    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "extent", "--opening", str(a), "--closing", str(b),
              "--crosswalk", "clcd", "--managed", "T7.1:T7.4", "--out", str(tmp_path / "o"),
              "--json"])
    assert ex.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["crosswalk"] == "seea_crosswalk_clcd@2021"
    i = doc["types"].index("T7.4")
    assert doc["rows"]["Additions: managed expansion"][i] == 3
    assert doc["nodata_ha"] == 1
    with (tmp_path / "o" / "crosswalk_used.csv").open(encoding="utf-8") as f:
        used = {r["raster_code"]: r for r in csv.DictReader(f)}
    assert set(used) == {"1", "2", "3", "8"} and used["8"]["verified"] == "true"
    assert (tmp_path / "o" / "extent_account.xlsx").is_file()
    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "extent", "--opening", str(a), "--closing", str(b),
              "--crosswalk", "clcd", "--managed", "1:8", "--out", str(tmp_path / "p")])
    assert ex.value.code == 2
    assert "FROM:TO among T7.1" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_cli_shows_a_crosswalk(capsys):
    from hesuan.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["land", "seea", "crosswalk", "worldcover", "--json"])
    assert ex.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["raster_code"]: r for r in doc["rows"]}
    assert rows[95]["efg_code"] == "MFT1.2" and rows[95]["verified"] is True
    assert rows[10]["efg_name"] == "Deciduous temperate forests" and not rows[10]["verified"]
    assert doc["licence"] == "CC0-1.0"
