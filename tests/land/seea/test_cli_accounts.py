"""``hesuan land seea supply-use`` and ``asset`` on the SEEALand inputs (SEEA EA 2021 annex,
online supplement V1 2021: Tabs #10, #11 and #14; see test_seealand_accounts.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASE = Path(__file__).parent / "cases" / "seealand"


def _run(argv, capsys):
    from hesuan.cli import main

    with pytest.raises(SystemExit) as ex:
        main(argv)
    captured = capsys.readouterr()
    return ex.value.code, captured.out, captured.err


def test_supply_use_cli_writes_both_tables(tmp_path, capsys):
    code, out, _ = _run(["land", "seea", "supply-use", "--flows", str(CASE / "flows.csv"),
                         "--out", str(tmp_path / "sut"), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["physical"]["recreation"] == 9800          # Tab #10, TOTAL SUPPLY
    assert sum(doc["monetary"].values()) == 83125         # Tab #11, TOTAL SUPPLY
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "sut" / "supply_use.xlsx")
    assert wb.sheetnames == ["Physical SUT", "Monetary SUT"]
    text = (tmp_path / "sut" / "supply_use_monetary.csv").read_text(encoding="utf-8")
    assert "TOTAL SUPPLY" in text and "TOTAL USE" in text


def test_supply_use_cli_refuses_an_unbalanced_table(tmp_path, capsys):
    bad = tmp_path / "flows.csv"
    bad.write_text((CASE / "flows.csv").read_text(encoding="utf-8").replace(
        "use,Fisheries,industry,9,", "use,Fisheries,industry,8,"), encoding="utf-8")
    code, _, err = _run(["land", "seea", "supply-use", "--flows", str(bad), "--out",
                         str(tmp_path / "sut")], capsys)
    assert code == 2
    assert "wild_fish_provisioning: supply 9 ≠ use 8" in err
    assert not (tmp_path / "sut").exists()


def test_asset_cli_account(tmp_path, capsys):
    code, out, _ = _run(["land", "seea", "asset", "--flows", str(CASE / "expected_flows.csv"),
                         "--rate", "0.02", "--years", "100", "--timing", "end",
                         "--condition", str(CASE / "condition_variables.csv"),
                         "--currency", "XXX", "--price-year", "2020",
                         "--out", str(tmp_path / "asset"), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    rows = doc["rows"]
    # Tab #14 opening and closing values (independent of the Tab #13 errata)
    assert sum(rows["Opening value"]) == pytest.approx(3572206.8756907415, rel=1e-12)
    assert sum(rows["Closing value"]) == pytest.approx(3623450.8157908367, rel=1e-12)
    forest = doc["types"].index("forest")
    assert rows["Ecosystem degradation"][forest] == pytest.approx(-108111.08092207431,
                                                                  rel=1e-9)
    assert (tmp_path / "asset" / "monetary_asset_account.xlsx").is_file()
    assert (tmp_path / "asset" / "npv_decomposition.csv").is_file()


@pytest.mark.parametrize(("extra", "message"), [
    (["--timing", "middle"], "timing 'middle'"),
    (["--volume-entry", "forest=loss"], "entry 'loss'"),
    (["--volume-entry", "forest"], "bad --volume-entry 'forest'"),
    (["--catastrophic", "=5"], "bad --catastrophic '=5'"),
    (["--catastrophic", "moon=5"], "ecosystem types ['moon'] have no service flows"),
    (["--rate", "-2"], "discount rate -2.0"),
])
def test_asset_cli_bad_options(tmp_path, capsys, extra, message):
    argv = ["land", "seea", "asset", "--flows", str(CASE / "expected_flows.csv"), "--rate",
            "0.02", "--years", "100", "--currency", "XXX", "--price-year", "2020", "--out",
            str(tmp_path / "asset"), *extra]
    code, _, err = _run(argv, capsys)
    assert code == 2 and message in err
    assert not (tmp_path / "asset").exists()


def test_asset_table_errors_name_file_row_and_field(tmp_path, capsys):
    bad = tmp_path / "flows.csv"
    lines = (CASE / "expected_flows.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",1600,1450,", ",1600,-5,")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = _run(["land", "seea", "asset", "--flows", str(bad), "--rate", "0.02",
                         "--years", "100", "--currency", "XXX", "--price-year", "2020",
                         "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and "line 4" in err and "flow_closing" in err
