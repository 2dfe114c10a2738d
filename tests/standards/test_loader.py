"""The dataset format's rules: every way a dataset can be wrong gives a clear error.

Rules from docs/dataset-format.md and issue 7 ("a dataset without source or licence fails;
bad dataset files (missing column, unknown unit, negative or non-numeric value, duplicate
id) each give a clear error").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hesuan.errors import DatasetError, FactorNotFoundError
from hesuan.standards import (
    FACTOR_COLUMNS,
    list_datasets,
    load_dataset,
    load_dataset_path,
    resolve_factor,
    search_factors,
)

MANIFEST = """\
id = "mine"
version = "1"
title = "My factors"
publisher = "Me"
url = "https://example.org"
licence = "CC0-1.0"
licence_url = "https://creativecommons.org/publicdomain/zero/1.0/"
attribution = "none needed"
redistributable = true
citation = "Me (2026). My factors."
gwp_set = "AR6"
"""
HEADER = ",".join(FACTOR_COLUMNS)
GOOD_ROW = ("road.truck.wtw,freight/road/truck,GB,WTW,CO2e,emission_factor,0.107,"
            "kg CO2e / tkm,AR6,actual,2024,My report,Table 1,")


def make_dataset(tmp_path: Path, rows: list[str], manifest: str = MANIFEST,
                 header: str = HEADER) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "dataset.toml").write_text(manifest, encoding="utf-8")
    (folder / "factors.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        load_dataset_path(folder)
    return [str(p) for p in caught.value.problems]


def test_good_dataset_loads_with_provenance(tmp_path: Path) -> None:
    ds = load_dataset_path(make_dataset(tmp_path, [GOOD_ROW]))
    record = ds.get("road.truck.wtw")
    assert record.value == pytest.approx(0.107)
    assert record.key == "mine@1:road.truck.wtw"
    assert record.distance_basis == "actual"
    assert record.value_in("g CO2e / tkm") == pytest.approx(107.0)
    assert ds.info.licence == "CC0-1.0" and not ds.info.shipped


def test_missing_column_names_it(tmp_path: Path) -> None:
    header = HEADER.replace(",unit", "")
    row = GOOD_ROW.replace(",kg CO2e / tkm", "")
    (problem,) = problems_of(make_dataset(tmp_path, [row], header=header))
    assert "factors.csv, line 1, field 'unit': missing column" in problem


def test_unknown_unit_names_line_and_field(tmp_path: Path) -> None:
    row = GOOD_ROW.replace("kg CO2e / tkm", "kg CO2e / parsec_of_goods")
    (problem,) = problems_of(make_dataset(tmp_path, [GOOD_ROW.replace("road.truck", "x"), row]))
    assert "line 3, field 'unit'" in problem and "parsec_of_goods" in problem


@pytest.mark.parametrize(("value", "phrase"), [("-0.1", "below the minimum"),
                                               ("abc", "not a number"), ("", "empty"),
                                               ("nan", "not a finite number"),
                                               ("inf", "not a finite number")])
def test_bad_values(tmp_path: Path, value: str, phrase: str) -> None:
    row = GOOD_ROW.replace(",0.107,", f",{value},")
    problems = problems_of(make_dataset(tmp_path, [row]))
    assert any("line 2, field 'value'" in p and phrase in p for p in problems), problems


def test_duplicate_id_points_to_first_line(tmp_path: Path) -> None:
    (problem,) = problems_of(make_dataset(tmp_path, [GOOD_ROW, GOOD_ROW]))
    assert "line 3, field 'id'" in problem and "first on line 2" in problem


@pytest.mark.parametrize("key", ["licence", "url", "citation", "attribution"])
def test_dataset_without_source_or_licence_fails(tmp_path: Path, key: str) -> None:
    manifest = "\n".join(line for line in MANIFEST.splitlines()
                         if not line.startswith(f"{key} ="))
    problems = problems_of(make_dataset(tmp_path, [GOOD_ROW], manifest=manifest))
    assert any(f"field '{key}'" in p and "missing" in p for p in problems)


def test_row_without_source_fails(tmp_path: Path) -> None:
    row = GOOD_ROW.replace(",My report,", ",,")
    assert any("field 'source'" in p for p in problems_of(make_dataset(tmp_path, [row])))


def test_intensity_without_distance_basis_fails(tmp_path: Path) -> None:
    row = GOOD_ROW.replace(",actual,", ",,")
    assert any("distance basis" in p for p in problems_of(make_dataset(tmp_path, [row])))


def test_co2e_without_gwp_set_fails(tmp_path: Path) -> None:
    manifest = MANIFEST.replace('gwp_set = "AR6"\n', "")
    row = GOOD_ROW.replace(",AR6,", ",,")
    problems = problems_of(make_dataset(tmp_path, [row], manifest=manifest))
    assert any("GWP set" in p for p in problems)


def test_unit_must_fit_parameter(tmp_path: Path) -> None:
    row = GOOD_ROW.replace("emission_factor,0.107,kg CO2e / tkm", "density,0.107,kg CO2e / tkm")
    assert any("does not fit parameter 'density'" in p
               for p in problems_of(make_dataset(tmp_path, [row])))


def test_unknown_scope_and_basis_list_allowed_values(tmp_path: Path) -> None:
    row = GOOD_ROW.replace(",WTW,", ",WTX,").replace(",actual,", ",crow_flies,")
    problems = problems_of(make_dataset(tmp_path, [row]))
    assert any("one of TTW, WTT, WTW" in p for p in problems)
    assert any("one of sfd, gcd, actual" in p for p in problems)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    rows = [GOOD_ROW.replace(",0.107,", ",-1,"), GOOD_ROW.replace("road.truck.wtw", "b")
            .replace("kg CO2e / tkm", "furlong")]
    assert len(problems_of(make_dataset(tmp_path, rows))) >= 2


def test_every_shipped_dataset_is_cited_licensed_and_valid() -> None:
    infos = list_datasets()
    assert len(infos) >= 4
    for info in infos:
        assert info.redistributable and info.licence and info.attribution and info.citation
        ds = load_dataset(info.id, info.version)
        assert len(ds) > 0
        assert all(r.source and r.locator for r in ds)


def test_lookup_errors_are_helpful() -> None:
    info = list_datasets()[0]
    ds = load_dataset(info.id, info.version)
    first = ds.records[0].id
    with pytest.raises(FactorNotFoundError, match="did you mean"):
        ds.get(first + "x")
    with pytest.raises(FactorNotFoundError, match="shipped"):
        load_dataset("no_such_dataset")
    with pytest.raises(FactorNotFoundError, match="no version"):
        load_dataset(info.id, "1066")
    assert resolve_factor(f"{info.key}:{first}") == ds.get(first)


def test_search_finds_by_words() -> None:
    info = list_datasets()[0]
    record = load_dataset(info.id, info.version).records[0]
    words = record.id.split(".")[0]
    assert record in search_factors(words, dataset=info.key)
    assert search_factors("zzzz-no-such-word") == []


def test_the_glec_layout_example_loads() -> None:
    from hesuan.examples import path

    ds = load_dataset_path(path("factors", "my_glec_defaults"))
    assert ds.get("air.long_haul.freighter.wtw").distance_basis == "gcd"
    assert "MADE-UP" in ds.info.title


def test_factor_spec_declares_the_documented_columns() -> None:
    from hesuan.standards.loaders import FACTOR_SPEC
    from hesuan.standards.records import REQUIRED_VALUES

    assert FACTOR_SPEC.names == FACTOR_COLUMNS
    assert set(FACTOR_SPEC.required) == set(REQUIRED_VALUES)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_table_saved_by_excel_loads(tmp_path: Path, encoding: str) -> None:
    """Excel's "CSV UTF-8" (BOM) and Chinese Excel's default "CSV" (GB18030, here with a
    semicolon list separator and decimal commas as a European locale writes them)."""
    folder = make_dataset(tmp_path, [GOOD_ROW])
    delimiter = ";" if encoding == "gb18030" else ","
    row = GOOD_ROW + "公路货运"
    if delimiter == ";":
        row = row.replace(",", ";").replace(";0.107;", ";0,107;")
    text = "\r\n".join([HEADER.replace(",", delimiter), row]) + "\r\n"
    (folder / "factors.csv").write_bytes(text.encode(encoding))
    ds = load_dataset_path(folder)
    assert ds.records[0].value == pytest.approx(0.107)
    assert ds.records[0].notes == "公路货运"


def test_ragged_row_is_named(tmp_path: Path) -> None:
    (problem,) = problems_of(make_dataset(tmp_path, [GOOD_ROW + ",extra"]))
    assert "factors.csv, line 2: 15 fields, the header has 14 (too many)" in problem


def test_docs_column_table_is_the_spec() -> None:
    """docs/dataset-format.md shows markdown_table(FACTOR_SPEC), not a second description."""
    from hesuan.io.spec import markdown_table
    from hesuan.standards.loaders import FACTOR_SPEC

    docs = (Path(__file__).resolve().parents[2] / "docs" / "dataset-format.md").read_text(
        encoding="utf-8")
    assert markdown_table(FACTOR_SPEC) in docs
