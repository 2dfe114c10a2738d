"""The methodology catalogue: the shipped records against the publishers' pages, the file
format's rules (every problem names file, line and field), and lookup with near matches.

Publisher pages the expected values were read from (2026-11-25):
- Verra, "VM0047 Afforestation, Reforestation, and Revegetation, v1.0" —
  verra.org/methodologies/vm0047-afforestation-reforestation-and-revegetation-v1-0/
  ("Active since 28 September 2023", sectoral scope 14, replaces AR-ACM0003 and AR-AMS0007);
- Verra, revision page of VM0047 — status active, "Active Since 14 May 2025" (v1.1);
- Verra, "ICVCM approves updated version of Verra's ARR methodology" — v1.0 projects must
  request pipeline listing by 31 December 2025 and registration by 31 December 2026;
- CAF via tanpaifang.com/tanhui/2023/1113/102068.html — 《温室气体自愿减排项目方法学 造林碳汇
  (CCER-14-001-V01)》 issued by the MEE General Office, in force from 24 October 2023;
- AR-AMS0007 cover page "Version 03.1, Sectoral scope(s): 14";
- standards.iteh.ai sample of ISO 14083:2023 — "First edition 2023-03";
- Gold Standard TPDDTEC revision history — v3.1 released 25.08.2017, v4.0 current.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hesuan.errors import DatasetError
from hesuan.standards import (
    METHODOLOGY_COLUMNS,
    MethodologyNotFoundError,
    list_datasets,
    load_methodologies,
    load_methodologies_path,
    resolve_methodology,
)
from hesuan.standards.methodologies import normalise_id, normalise_version

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "src/hesuan/standards/data/methodologies/2026-11"

MANIFEST = """\
id = "my_methods"
version = "1"
title = "My methodologies"
publisher = "Me"
url = "https://example.org"
licence = "CC0-1.0"
licence_url = "https://creativecommons.org/publicdomain/zero/1.0/"
attribution = "none needed"
redistributable = true
citation = "Me (2026). My methodologies."
"""
GOOD = {
    "id": "MY-AR-1", "version": "1.0", "title": "My afforestation", "programme": "Mine",
    "publisher": "Me", "sector": "AFOLU", "sectoral_scope": "", "quantifies": "removals",
    "quantification": "land", "quantity_key": "net_removals_t_co2e",
    "url": "https://example.org/ar", "text_licence": "CC0-1.0", "status": "active",
    "valid_from": "2024-01-01", "valid_to": "", "aliases": "MYAR", "read_at": "example.org",
    "description": "trees", "notes": "",
}


def make_catalogue(tmp_path: Path, rows: list[dict[str, str]],
                   header: tuple[str, ...] = METHODOLOGY_COLUMNS) -> Path:
    folder = tmp_path / "my_methods"
    folder.mkdir()
    (folder / "dataset.toml").write_text(MANIFEST, encoding="utf-8")
    with (folder / "methodologies.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(header), lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        load_methodologies_path(folder)
    return [str(p) for p in caught.value.problems]


# --------------------------------------------------------------------------- shipped


def test_shipped_catalogue_loads_with_its_licence() -> None:
    cat = load_methodologies()
    assert cat.info.key == "methodologies@2026-12"
    assert cat.info.licence == "Apache-2.0" and cat.info.redistributable
    keys = {r.key for r in cat}
    assert {"AR-ACM0003@02.0", "AR-AMS0007@03.1", "CCER-14-001@V01", "VM0047@1.0",
            "VM0047@1.1", "ISO-14083@2023", "hesuan-land-carbon-stock-change@1"} <= keys
    for r in cat:
        assert r.url and r.text_licence and r.read_at, r.key
        assert r.catalogue == "methodologies@2026-12"


def test_shipped_records_match_the_publishers_pages() -> None:
    vm10, vm11 = resolve_methodology("VM0047", "1.0"), resolve_methodology("VM0047", "1.1")
    assert (vm10.valid_from, vm10.valid_to, vm10.status) == ("2023-09-28", "2025-12-31",
                                                             "superseded")
    assert (vm11.valid_from, vm11.status) == ("2025-05-14", "active")
    assert vm11.quantifies == "removals" and "14" in vm11.sectoral_scope
    ccer = resolve_methodology("CCER-14-001", "V01")
    assert ccer.valid_from == "2023-10-24" and "造林碳汇" in ccer.title
    assert "CCER-14-001-V01" in ccer.aliases
    ams = resolve_methodology("AR-AMS0007", "03.1")
    assert ams.programme == "UNFCCC CDM" and "other than wetlands" in ams.title
    acm = resolve_methodology("AR-ACM0003")
    assert acm.version == "02.0" and "except wetlands" in acm.title
    assert "UNVERIFIED" in acm.notes      # version read only in secondary sources
    iso = resolve_methodology("ISO-14083", "2023")
    assert (iso.quantifies, iso.quantification, iso.valid_from) == ("inventory", "transport",
                                                                    "2023-03")
    assert not iso.crediting
    assert resolve_methodology("GS-TPDDTEC", "3.1").valid_from == "2017-08-25"


def test_hesuan_methodology_reads_the_key_land_carbon_writes() -> None:
    own = resolve_methodology("hesuan-land-carbon-stock-change", "1")
    assert (own.programme, own.quantifies, own.quantification) == ("hesuan", "removals", "land")
    assert own.quantity_key == "sequestration_t_co2e"
    carbon = (ROOT / "src/hesuan/land/carbon.py").read_text(encoding="utf-8")
    assert '"sequestration_t_co2e"' in carbon or "sequestration_t_co2e=" in carbon


def test_catalogue_is_not_a_factor_dataset() -> None:
    assert "methodologies" not in {i.id for i in list_datasets()}


# --------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(("given", "version", "key"), [
    ("VM0047", "1.1", "VM0047@1.1"),
    ("vm 0047", "v1.1", "VM0047@1.1"),
    ("VM0047", "1", "VM0047@1.0"),
    ("VM0047", None, "VM0047@1.1"),              # newest active version
    ("ccer-14-001-v01", "1", "CCER-14-001@V01"),  # alias, V01 ≡ 1
    ("AR-AMS0007", "3.1", "AR-AMS0007@03.1"),
    ("ISO 14083", "2023", "ISO-14083@2023"),
    ("AR-ACM0003@2", None, "AR-ACM0003@02.0"),
])
def test_resolve_accepts_loose_spellings(given: str, version: str | None, key: str) -> None:
    assert resolve_methodology(given, version).key == key


def test_unknown_id_lists_near_matches() -> None:
    with pytest.raises(MethodologyNotFoundError) as caught:
        resolve_methodology("AR-ACM003", "02.0")
    assert caught.value.near[0] == "AR-ACM0003"
    assert "did you mean AR-ACM0003" in str(caught.value)
    with pytest.raises(MethodologyNotFoundError) as caught:
        resolve_methodology("VM0048", "1.0")
    assert caught.value.near == ("VM0047",)


def test_unknown_version_lists_the_catalogued_versions() -> None:
    with pytest.raises(MethodologyNotFoundError) as caught:
        resolve_methodology("VM0047", "2.0")
    assert caught.value.near == ("VM0047@1.0", "VM0047@1.1")
    assert "no version '2.0'" in str(caught.value)


@pytest.mark.parametrize(("text", "normal"), [
    ("02.0", "2"), ("V01", "1"), ("1.0", "1"), ("v1.1", "1.1"), ("2023", "2023"),
    ("Version 3.1", "3.1"), ("1.10", "1.10"),
])
def test_version_normalisation(text: str, normal: str) -> None:
    assert normalise_version(text) == normal


def test_id_normalisation() -> None:
    assert normalise_id("ar-acm 0003") == normalise_id("AR_ACM0003") == "ARACM0003"


# --------------------------------------------------------------------------- validation


def test_good_catalogue_of_ones_own_loads(tmp_path: Path) -> None:
    cat = load_methodologies_path(make_catalogue(tmp_path, [GOOD]))
    assert cat.resolve("myar", "1").key == "MY-AR-1@1.0"


def test_every_bad_cell_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    other = GOOD | {"aliases": ""}     # rows below must not clash with GOOD's alias
    rows = [
        GOOD,
        other | {"id": "B", "quantifies": "sinks"},                           # line 3
        other | {"id": "C", "status": "retired", "valid_from": "24/10/2023"},  # line 4
        other | {"id": "D", "quantification": "land", "quantity_key": ""},     # line 5
        other | {"id": "E", "valid_from": "2025-01-01", "valid_to": "2024"},   # line 6
        other | {"id": "F", "url": ""},                                       # line 7
        other,                                       # line 8: duplicate id + version
        other | {"id": "G", "aliases": "MY-AR-1"},   # line 9: alias naming another id
        other | {"id": "H", "quantification": "none"},  # line 10: a key for 'none'
    ]
    problems = problems_of(make_catalogue(tmp_path, rows))
    table = str(tmp_path / "my_methods" / "methodologies.csv")
    expected = [
        ("line 3", "field 'quantifies'", "unknown value 'sinks'"),
        ("line 4", "field 'status'", "unknown status 'retired'"),
        ("line 4", "field 'valid_from'", "not a date"),
        ("line 5", "field 'quantity_key'", "must name the summary.json key"),
        ("line 6", "field 'valid_to'", "before valid_from"),
        ("line 7", "field 'url'", "empty"),
        ("line 8", "field 'version'", "duplicate methodology MY-AR-1@1.0"),
        ("line 9", "field 'aliases'", "already names methodology MY-AR-1"),
        ("line 10", "field 'quantity_key'", "quantification none reads no summary key"),
    ]
    for line, field, message in expected:
        assert any(p.startswith(table) and line in p and field in p and message in p
                   for p in problems), (line, field, message, problems)
    assert len(problems) == len(expected), problems


def test_missing_and_unknown_columns_are_named(tmp_path: Path) -> None:
    header = (*(c for c in METHODOLOGY_COLUMNS if c != "status"), "colour")
    problems = problems_of(make_catalogue(tmp_path, [GOOD], header=header))
    assert any("line 1" in p and "field 'status'" in p and "missing column" in p
               for p in problems)
    assert any("line 1" in p and "field 'colour'" in p and "unknown column" in p
               for p in problems)


def test_manifest_without_licence_fails(tmp_path: Path) -> None:
    folder = make_catalogue(tmp_path, [GOOD])
    manifest = folder / "dataset.toml"
    manifest.write_text(MANIFEST.replace('licence = "CC0-1.0"\n', ""), encoding="utf-8")
    problems = problems_of(folder)
    assert any(str(manifest) in p and "field 'licence'" in p for p in problems)


def test_shipped_folder_validates_as_a_users_would() -> None:
    assert len(load_methodologies_path(SHIPPED)) == len(load_methodologies())


# --------------------------------------------------------------------------- docs


def test_docs_and_notice_list_every_methodology() -> None:
    standards = (ROOT / "docs/standards.md").read_text(encoding="utf-8")
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    cat = load_methodologies()
    assert f"- {cat.info.key}:" in notice and cat.info.licence in notice
    for r in cat:
        assert f"`{r.key}`" in standards, r.key
        assert r.id in notice and r.text_licence in notice, r.key
