# ruff: noqa: E501  (data-driven cases: one case per line)
"""Species-table cells that take a species group's default from a standards-library dataset.

Values checked against the cited tables: IPCC 2006 Vol. 4 Ch. 4 Table 4.14 (basic wood density
D of temperate and boreal taxa, p. 4.71: Pinus sylvestris 0.42, also in JRC forest_puller's
transcription), Table 4.13 (tropical taxa, pp. 4.64-4.70: Casuarina equisetifolia, tropical
Asia, 0.83, EFDB EF ID 512382), Table 4.4 (R, p. 4.49: temperate oceanic conifer forest,
above-ground biomass < 50 t/ha, 0.40) and Table 4.3 (CF, p. 4.48: 0.47).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from hesuan.errors import DatasetError
from hesuan.quantification import check_report, quantify, to_json
from hesuan.quantification.parameters import load_parameter_set
from hesuan.standards import DATA_ROOT

HEADER = ("id,name,method,a,b,c,dbh_min_cm,dbh_max_cm,wood_density_t_per_m3,bef,root_shoot,"
          "carbon_fraction,source,verified,notes\n")
IPCC = "ipcc2006_afolu@2006"
FACTORS = DATA_ROOT / "ipcc2006_afolu" / "2006" / "factors.csv"


def _dataset(tmp_path: Path, *rows: str) -> Path:
    folder = tmp_path / "my_species"
    folder.mkdir()
    (folder / "dataset.toml").write_text(
        'id = "my_species"\nversion = "1"\ntitle = "t"\npublisher = "p"\nurl = "u"\n'
        'licence = "CC0-1.0"\nlicence_url = "u"\nattribution = "a"\nredistributable = true\n'
        'citation = "c"\n', encoding="utf-8")
    (folder / "species.csv").write_text(HEADER + "".join(r + "\n" for r in rows),
                                        encoding="utf-8")
    return folder


def test_cells_resolve_to_the_cited_records(tmp_path: Path) -> None:
    folder = _dataset(
        tmp_path,
        f"pine,Scots pine,volume,,,,,,{IPCC}:wd.pinus_sylvestris,1.3,{IPCC}:r.temperate.oceanic.conifers.agb_0_50,{IPCC}:cf.all.all,IPCC 2006 defaults,false,",
        f"casuarina,Casuarina,volume,,,,,,{IPCC}:wd.casuarina_equisetifolia.tropical_asia,1.2,default,0.49,mine,true,",
    )
    ps = load_parameter_set(folder)
    pine, cas = ps.species["pine"], ps.species["casuarina"]
    assert pine.wood_density_t_per_m3 == pytest.approx(0.42)      # Table 4.14, p. 4.71
    assert pine.root_shoot == pytest.approx(0.40)                 # Table 4.4, p. 4.49
    assert pine.carbon_fraction == pytest.approx(0.47)            # Table 4.3, p. 4.48
    assert pine.bef == pytest.approx(1.3)                         # a number stays a number
    assert cas.wood_density_t_per_m3 == pytest.approx(0.83)       # Table 4.13, tropical Asia
    assert cas.root_shoot is None and cas.carbon_fraction == pytest.approx(0.49)
    assert [r.column for r in pine.defaults] == ["wood_density_t_per_m3", "root_shoot",
                                                 "carbon_fraction"]
    wd = pine.defaults[0]
    assert wd.reference == f"{IPCC}:wd.pinus_sylvestris" and wd.dataset_key == IPCC
    assert "Table 4.14" in wd.locator and not wd.verified
    assert wd.table_sha256 == hashlib.sha256(FACTORS.read_bytes()).hexdigest()
    assert [r.record_id for r in ps.references()] == [
        "wd.pinus_sylvestris", "r.temperate.oceanic.conifers.agb_0_50", "cf.all.all",
        "wd.casuarina_equisetifolia.tropical_asia"]


@pytest.mark.parametrize(("cell", "column", "message"), [
    (f"{IPCC[:-5]}:wd.pinus_sylvestris", "wood_density_t_per_m3",
     r"field 'wood_density_t_per_m3': 'ipcc2006_afolu:wd.pinus_sylvestris' is not a number or a dataset reference \(expected a number, or dataset@version:record_id with the version written out"),
    ("ipcc2006_afolu@2007:wd.pinus_sylvestris", "wood_density_t_per_m3",
     r"dataset 'ipcc2006_afolu' has no version '2007'; shipped: 2006"),
    ("nosuch@1:wd.pinus_sylvestris", "wood_density_t_per_m3", r"no shipped dataset 'nosuch'"),
    (f"{IPCC}:wd.pinus_sylvestri", "wood_density_t_per_m3",
     r"no factor 'wd.pinus_sylvestri' in dataset ipcc2006_afolu@2006; did you mean wd.pinus_sylvestris"),
    (f"{IPCC}:cf.all.all", "wood_density_t_per_m3",
     r"ipcc2006_afolu@2006:cf.all.all is a carbon_fraction record, not a wood_density \(expected a wood_density record\)"),
    (f"{IPCC}:bcef_s.boreal.pines.gs_0_20", "bef",
     r"is a bcef record, not a bef \(expected a bef record \(a BCEF in t d.m./m3 is D × BEF, not a BEF\)\)"),
    (f"{IPCC}:wd.abies", "root_shoot", r"is a wood_density record, not a root_shoot_ratio"),
    ("abc", "carbon_fraction", r"field 'carbon_fraction': 'abc' is not a number or a dataset reference \(expected a number, or dataset@version:record_id"),
    ("", "bef", r"field 'bef': not a number: '' \(expected a number\)"),
])
def test_bad_reference_names_file_line_field_and_what_was_expected(
        tmp_path: Path, cell: str, column: str, message: str) -> None:
    values = {"wood_density_t_per_m3": "0.4", "bef": "1.2", "root_shoot": "0.2",
              "carbon_fraction": "0.47"} | {column: cell}
    row = (f"x,x,volume,,,,,,{values['wood_density_t_per_m3']},{values['bef']},"
           f"{values['root_shoot']},{values['carbon_fraction']},s,false,")
    folder = _dataset(tmp_path, "ok,ok,volume,,,,,,0.4,1.2,0.2,0.47,s,false,", row)
    with pytest.raises(DatasetError) as info:
        load_parameter_set(folder)
    problems = info.value.problems
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith(f"{folder / 'species.csv'}, line 3, field '{column}'"), text
    assert re.search(message, text), text


def _use_defaults(species_csv: Path, *, literal: bool) -> None:
    """Give conifer_demo IPCC's R and CF, stand_demo IPCC's D: as references or as numbers."""
    text = species_csv.read_text(encoding="utf-8")
    r = "0.40" if literal else f"{IPCC}:r.temperate.oceanic.conifers.agb_0_50"
    cf = "0.47" if literal else f"{IPCC}:cf.all.all"
    wd = "0.42" if literal else f"{IPCC}:wd.pinus_sylvestris"
    old_conifer = ",0.25,0.47,illustrative values (not a published equation),"
    old_stand = "volume,,,,,,0.40,1.15,"
    assert old_conifer in text and old_stand in text
    text = text.replace(old_conifer, f",{r},{cf},illustrative values (not a published equation),", 1)
    text = text.replace(old_stand, f"volume,,,,,,{wd},1.15,", 1)
    species_csv.write_text(text, encoding="utf-8")


def test_quantification_with_dataset_defaults_records_them_and_reproduces(
        example: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    typed_project = tmp_path_factory.mktemp("typed") / "project"
    shutil.copytree(example.parent, typed_project)
    _use_defaults(example.parent / "species" / "species.csv", literal=False)
    _use_defaults(typed_project / "species" / "species.csv", literal=True)
    report = quantify(example)[-1]
    used = {d.key: d for d in report.datasets}
    ipcc = used[IPCC]
    assert ipcc.table == "factors.csv"
    assert ipcc.sha256 == hashlib.sha256(FACTORS.read_bytes()).hexdigest()
    assert ipcc.records == ["cf.all.all", "r.temperate.oceanic.conifers.agb_0_50",
                            "wd.pinus_sylvestris"]
    assert not ipcc.verified and not report.verified
    params = {p.name: p for p in report.parameters}
    assert params["species.conifer_demo.root_shoot"].source == f"{IPCC}:r.temperate.oceanic.conifers.agb_0_50"
    assert params["species.conifer_demo.root_shoot"].value == pytest.approx(0.40)
    assert params["species.stand_demo.wood_density_t_per_m3"].value == pytest.approx(0.42)
    assert params["species.stand_demo.wood_density_t_per_m3"].unit == "t dm / m**3"
    assert not params["species.conifer_demo.carbon_fraction"].verified

    # the same numbers typed in give the same stocks, removals and ex-ante estimate
    typed = quantify(typed_project / "project.toml")[-1]
    assert IPCC not in {d.key for d in typed.datasets}
    assert not any(p.name.startswith("species.") for p in typed.parameters)
    assert typed.removals.model_dump() == report.removals.model_dump()
    assert [e.stock_t_co2e for e in typed.events] == [e.stock_t_co2e for e in report.events]
    assert [a.model_dump() for a in typed.ex_ante] == [a.model_dump() for a in report.ex_ante]
    # and the dataset-default run reproduces from its inputs (`hesuan quantify --check`)
    out = example.parent / "out.json"
    out.write_text(to_json(report), encoding="utf-8")
    check_report(out, example)


def test_a_default_changes_the_result(example: Path) -> None:
    before = quantify(example)[-1]
    _use_defaults(example.parent / "species" / "species.csv", literal=False)
    after = quantify(example)[-1]
    # conifer_demo's R goes from 0.25 to IPCC's 0.40: more below-ground carbon
    assert after.events[-1].stock_t_co2e > before.events[-1].stock_t_co2e
