"""The shipped crosswalks to the IUCN Global Ecosystem Typology and their use in the extent
account.

Official code lists the crosswalks are checked against:

- GB/T 21010-2017 土地利用现状分类, Table 1: 12 一级类 and 73 二级类 (the foreword counts 73
  二级类; codes and names as in the standard's table, read from public reproductions of the
  Third National Land Survey classification, Annex A Table A.1);
- ESA WorldCover 10 m 2021 v200 legend, product user manual (11 classes, values 10 … 100);
- CLCD, Yang & Huang 2021, ESSD 13: 3907 (9 classes, values 1 … 9).

EFG codes: IUCN GET 2.1 (Keith et al. 2022), the shipped list ``iucn_get_efg``.
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

GBT21010_2017 = {
    "01": "耕地", "0101": "水田", "0102": "水浇地", "0103": "旱地",
    "02": "园地", "0201": "果园", "0202": "茶园", "0203": "橡胶园", "0204": "其他园地",
    "03": "林地", "0301": "乔木林地", "0302": "竹林地", "0303": "红树林地", "0304": "森林沼泽",
    "0305": "灌木林地", "0306": "灌丛沼泽", "0307": "其他林地",
    "04": "草地", "0401": "天然牧草地", "0402": "沼泽草地", "0403": "人工牧草地",
    "0404": "其他草地",
    "05": "商服用地", "0501": "零售商业用地", "0502": "批发市场用地", "0503": "餐饮用地",
    "0504": "旅馆用地", "0505": "商务金融用地", "0506": "娱乐用地", "0507": "其他商服用地",
    "06": "工矿仓储用地", "0601": "工业用地", "0602": "采矿用地", "0603": "盐田",
    "0604": "仓储用地",
    "07": "住宅用地", "0701": "城镇住宅用地", "0702": "农村宅基地",
    "08": "公共管理与公共服务用地", "0801": "机关团体用地", "0802": "新闻出版用地",
    "0803": "教育用地", "0804": "科研用地", "0805": "医疗卫生用地", "0806": "社会福利用地",
    "0807": "文化设施用地", "0808": "体育用地", "0809": "公用设施用地", "0810": "公园与绿地",
    "09": "特殊用地", "0901": "军事设施用地", "0902": "使领馆用地", "0903": "监教场所用地",
    "0904": "宗教用地", "0905": "殡葬用地", "0906": "风景名胜设施用地",
    "10": "交通运输用地", "1001": "铁路用地", "1002": "轨道交通用地", "1003": "公路用地",
    "1004": "城镇村道路用地", "1005": "交通服务场站用地", "1006": "农村道路", "1007": "机场用地",
    "1008": "港口码头用地", "1009": "管道运输用地",
    "11": "水域及水利设施用地", "1101": "河流水面", "1102": "湖泊水面", "1103": "水库水面",
    "1104": "坑塘水面", "1105": "沿海滩涂", "1106": "内陆滩涂", "1107": "沟渠", "1108": "沼泽地",
    "1109": "水工建筑用地", "1110": "冰川及永久积雪",
    "12": "其他土地", "1201": "空闲地", "1202": "设施农用地", "1203": "田坎", "1204": "盐碱地",
    "1205": "沙地", "1206": "裸土地", "1207": "裸岩石砾地",
}
WORLDCOVER_2021 = {10: "Tree cover", 20: "Shrubland", 30: "Grassland", 40: "Cropland",
                   50: "Built-up", 60: "Bare / sparse vegetation", 70: "Snow and ice",
                   80: "Permanent water bodies", 90: "Herbaceous wetland", 95: "Mangroves",
                   100: "Moss and lichen"}
CLCD = {1: "Cropland", 2: "Forest", 3: "Shrub", 4: "Grassland", 5: "Water", 6: "Snow/Ice",
        7: "Barren", 8: "Impervious", 9: "Wetland"}


def test_the_reference_code_lists_have_the_published_sizes():
    assert sum(len(c) == 2 for c in GBT21010_2017) == 12
    assert sum(len(c) == 4 for c in GBT21010_2017) == 73
    assert all(c[:2] in GBT21010_2017 for c in GBT21010_2017)
    assert len(WORLDCOVER_2021) == 11 and len(CLCD) == 9


def test_gbt21010_has_every_code_exactly_once_with_its_name():
    rows = load_crosswalk("gbt21010").rows
    codes = [r.source_code for r in rows]
    assert sorted(codes) == sorted(GBT21010_2017)
    assert len(codes) == len(set(codes))
    for r in rows:
        assert r.source_name == GBT21010_2017[r.source_code], r.source_code
        assert r.level == (1 if len(r.source_code) == 2 else 2), r.source_code
        assert r.raster_code == int(r.source_code), r.source_code


@pytest.mark.parametrize(("name", "reference"), [("worldcover", WORLDCOVER_2021),
                                                 ("clcd", CLCD)])
def test_product_crosswalks_have_the_legend_codes_and_names(name, reference):
    xw = load_crosswalk(name)
    assert xw.codes == tuple(reference)
    assert {r.raster_code: r.source_name for r in xw.rows} == reference
    assert all(r.source_code == str(r.raster_code) and r.level == 1 for r in xw.rows)


@pytest.mark.parametrize("name", ["gbt21010", "worldcover", "clcd"])
def test_every_group_is_an_iucn_get_efg_and_verified_rows_are_unambiguous(name):
    xw = load_crosswalk(name)
    efg = efg_list()
    assert xw.info.licence and xw.info.citation and "Reviewed" in xw.info.notes
    for r in xw.rows:
        assert r.efg_code in efg, (r.source_code, r.efg_code)
        assert set(r.alternatives) <= set(efg), (r.source_code, r.alternatives)
        assert r.efg_code not in r.alternatives, r.source_code
        assert len(set(r.alternatives)) == len(r.alternatives), r.source_code
        assert r.rationale
        assert not (r.verified and r.alternatives), r.source_code


def test_definitional_rows_are_verified():
    g, w, c = (load_crosswalk(n) for n in ("gbt21010", "worldcover", "clcd"))
    by = {r.source_code: r for r in g.rows}
    assert by["0101"].efg_code == "F3.3" and by["0101"].verified       # 水田 → rice paddies
    assert by["0303"].efg_code == "MFT1.2" and by["0303"].verified     # 红树林地 → mangroves
    assert by["0403"].efg_code == "T7.2" and by["0403"].verified       # 人工牧草地 → sown pastures
    # 水库水面 is ≥ 100 000 m3 (GB/T 21010): small dams of F3.2 as well as F3.1 large reservoirs
    assert by["1103"].efg_code == "F3.1" and not by["1103"].verified
    assert "F3.2" in by["1103"].alternatives
    # GET T3.2 is sclerophyll shrubland of summer-dry climates: no shrub class is booked to it
    assert all(r.efg_code != "T3.2" for xw in (g, w, c) for r in xw.rows)
    assert by["1108"].efg_code == "TF1.3" and "MFT1.3" in by["1108"].alternatives
    assert w.efg_of(95) == "MFT1.2" and w.efg_of(50) == "T7.4" and w.efg_of(70) == "T6.1"
    assert all(r.verified == (r.raster_code in (50, 70, 95)) for r in w.rows)
    # CLCD's class definitions were not read: nothing in it is verified
    assert c.efg_of(8) == "T7.4" and c.efg_of(6) == "T6.1"
    assert not any(r.verified for r in c.rows)
    forest = next(r for r in c.rows if r.raster_code == 2)
    assert "T1.1" in forest.alternatives
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
    to T-groups of their own (shrub to T6.4); 3 ha of cropland become impervious, 1 ha of
    shrub forest."""
    xw = load_crosswalk("clcd")
    opening = np.array([[1, 1, 1, 1], [2, 2, 3, 3], [8, 8, 2, 2]])
    closing = np.array([[8, 8, 8, 1], [2, 2, 2, 3], [8, 8, 2, 2]])
    m = change_matrix(opening, closing, xw.codes, xw.names, 1.0)
    e = to_efg(m, xw)
    # one group per class here, in the order of the CLCD values 1 … 9
    assert e.names == ("T7.1", "T2.2", "T6.4", "T4.5", "F2.2", "T6.1", "T5.4", "T7.4",
                       "TF1.3")
    pos = {n: i for i, n in enumerate(e.names)}
    assert e.area_ha[pos["T7.1"], pos["T7.4"]] == 3
    assert e.area_ha[pos["T6.4"], pos["T2.2"]] == 1
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
    assert set(used) == {"1", "2", "3", "8"} and used["8"]["efg_code"] == "T7.4"
    assert used["8"]["verified"] == "false"
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
