"""The methodology catalogue: the shipped records against the publishers' pages, the file
format's rules (every problem names file, line and field), the published format-1 versions
still loading as written, and lookup with near matches.

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
    MethodologyRecord,
    list_datasets,
    load_methodologies,
    load_methodologies_path,
    resolve_methodology,
)
from hesuan.standards.methodologies import FORMAT1_COLUMNS, normalise_id, normalise_version

ROOT = Path(__file__).parents[2]
DATA = ROOT / "src/hesuan/standards/data/methodologies"
CURRENT = "2026-12-07"
SHIPPED = DATA / CURRENT

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
    "module": "my_ar", "tools": "AR-TOOL14 v04.2; AR-TOOL02 v01",
    "report_schema": "hesuan.quantification-report/1", "url": "https://example.org/ar",
    "text_licence": "CC0-1.0", "status": "active",
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
    assert cat.info.key == f"methodologies@{CURRENT}"
    assert cat.info.licence == "Apache-2.0" and cat.info.redistributable
    keys = {r.key for r in cat}
    assert {"AR-ACM0003@02.0", "AR-AMS0007@03.1", "CCER-14-001@V01", "VM0047@1.0",
            "VM0047@1.1", "ISO-14083@2023", "hesuan-land-carbon-stock-change@1"} <= keys
    for r in cat:
        assert r.url and r.text_licence and r.read_at, r.key
        assert r.catalogue == f"methodologies@{CURRENT}"
        assert not (r.quantification or r.quantity_key), r.key   # format 2: no summary path


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
    assert (iso.quantifies, iso.module, iso.valid_from) == ("inventory", "", "2023-03")
    assert not iso.crediting
    assert resolve_methodology("GS-TPDDTEC", "3.1").valid_from == "2017-08-25"


def test_current_records_name_the_module_or_say_reports_are_refused() -> None:
    """Only AR-ACM0003@02.0 and CCER-14-001@V01 have a module (docs/quantification.md); every
    other record says that the registry refuses its monitoring reports, and no record speaks of
    a summary any more."""
    with_module = {r.key: (r.module, r.tools, r.report_schema)
                   for r in load_methodologies() if r.has_module}
    assert with_module == {
        "AR-ACM0003@02.0": ("ar_acm0003", ("AR-TOOL14 v04.2",),
                            "hesuan.quantification-report/1"),
        "CCER-14-001@V01": ("ccer_14_001", ("AR-TOOL14 v04.2",),
                            "hesuan.quantification-report/1"),
    }
    for r in load_methodologies():
        assert "summary must" not in r.notes and "external summary" not in r.notes, r.key
        if not r.has_module and r.crediting:
            assert "methodology_must_have_quantification_module" in r.notes, r.key
    description = load_methodologies().info.description
    assert "summary.json" not in description and "quantification module" in description


def test_published_format1_versions_load_as_written() -> None:
    """Published versions are immutable: 2026-11 and 2026-12 keep their summary columns, and
    the unversioned loader takes the newest (2026-12-07 after 2026-12)."""
    old, older = load_methodologies("2026-12"), load_methodologies("2026-11")
    assert (old.info.key, older.info.key) == ("methodologies@2026-12", "methodologies@2026-11")
    acm = old.resolve("AR-ACM0003", "02.0")
    assert (acm.quantification, acm.quantity_key, acm.module) == (
        "report", "net_creditable_units", "")
    own = older.resolve("hesuan-land-carbon-stock-change", "1")
    assert (own.quantification, own.quantity_key) == ("land", "sequestration_t_co2e")
    assert "quantity_key" in own.as_dict() and "quantity_key" not in (
        load_methodologies().resolve("AR-ACM0003", "02.0").as_dict())
    assert {r.key for r in old} == {r.key for r in load_methodologies()}
    assert load_methodologies().info.key == f"methodologies@{CURRENT}"
    with pytest.raises(MethodologyNotFoundError) as caught:
        load_methodologies("2026-12-08")
    assert caught.value.near == ("2026-11", "2026-12", CURRENT)


def test_current_version_changes_only_the_module_columns_and_notes() -> None:
    """The new version corrects what the records say about quantification; ids, versions,
    titles, status and dates are those of 2026-12."""
    def facts(r: MethodologyRecord) -> tuple[str, ...]:
        return (r.key, r.title, r.programme, r.status, r.valid_from, r.valid_to, r.url,
                r.text_licence, r.read_at, *r.aliases)
    assert [facts(r) for r in load_methodologies()] == [
        facts(r) for r in load_methodologies("2026-12")]


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
        other | {"id": "D", "report_schema": ""},                             # line 5
        other | {"id": "E", "valid_from": "2025-01-01", "valid_to": "2024"},   # line 6
        other | {"id": "F", "url": ""},                                       # line 7
        other,                                       # line 8: duplicate id + version
        other | {"id": "G", "aliases": "MY-AR-1"},   # line 9: alias naming another id
        other | {"id": "H", "module": ""},        # line 10: tools, schema without module
        other | {"id": "I", "module": "My-AR", "report_schema": "x/1"},   # line 11
        other | {"id": "J", "quantifies": "inventory"},   # line 12: an inventory with module
        other | {"id": "K", "module": "", "report_schema": "", "tools": ""},   # line 13: good
    ]
    problems = problems_of(make_catalogue(tmp_path, rows))
    table = str(tmp_path / "my_methods" / "methodologies.csv")
    expected = [
        ("line 3", "field 'quantifies'", "unknown value 'sinks'"),
        ("line 4", "field 'status'", "unknown status 'retired'"),
        ("line 4", "field 'valid_from'", "not a date"),
        ("line 5", "field 'report_schema'", "empty"),
        ("line 6", "field 'valid_to'", "before valid_from"),
        ("line 7", "field 'url'", "empty"),
        ("line 8", "field 'version'", "duplicate methodology MY-AR-1@1.0"),
        ("line 9", "field 'aliases'", "already names methodology MY-AR-1"),
        ("line 10", "field 'report_schema'", "report_schema given without a module"),
        ("line 11", "field 'module'", "bad module name 'My-AR'"),
        ("line 11", "field 'report_schema'", "unknown report schema 'x/1'"),
        ("line 12", "field 'module'", "an inventory standard yields no creditable report"),
    ]
    for line, field, message in expected:
        assert any(p.startswith(table) and line in p and field in p and message in p
                   for p in problems), (line, field, message, problems)
    assert len(problems) == len(expected), problems


def test_format1_catalogue_of_ones_own_is_checked_by_its_own_rules(tmp_path: Path) -> None:
    old = {k: v for k, v in GOOD.items() if k not in ("module", "tools", "report_schema")}
    old |= {"quantification": "land", "quantity_key": "net_removals_t_co2e"}
    rows = [old, old | {"id": "B", "aliases": "", "quantity_key": ""},          # line 3
            old | {"id": "C", "aliases": "", "quantification": "summary"}]    # line 4
    problems = problems_of(make_catalogue(tmp_path, rows, header=FORMAT1_COLUMNS))
    assert len(problems) == 2, problems
    assert any("line 3" in p and "field 'quantity_key'" in p and "summary.json key" in p
               for p in problems)
    assert any("line 4" in p and "field 'quantification'" in p and "'summary'" in p
               for p in problems)
    folder = tmp_path / "good"
    folder.mkdir()
    good = make_catalogue(folder, [old], header=FORMAT1_COLUMNS)
    record = load_methodologies_path(good).resolve("MY-AR-1", "1")
    assert (record.quantification, record.module, record.tools) == ("land", "", ())


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


@pytest.mark.parametrize("version", ["2026-11", "2026-12", CURRENT])
def test_shipped_folder_validates_as_a_users_would(version: str) -> None:
    assert len(load_methodologies_path(DATA / version)) == len(load_methodologies(version))


# --------------------------------------------------------------------------- docs


def test_docs_and_notice_list_every_methodology() -> None:
    standards = (ROOT / "docs/standards.md").read_text(encoding="utf-8")
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    cat = load_methodologies()
    assert f"- {cat.info.key}:" in notice and cat.info.licence in notice
    for r in cat:
        assert f"`{r.key}`" in standards, r.key
        assert r.id in notice and r.text_licence in notice, r.key
