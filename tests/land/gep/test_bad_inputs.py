"""Bad input gets a clear error naming file, row and field; a failed run leaves no output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hesuan.errors import DatasetError, FactorNotFoundError, InputError
from hesuan.examples import path as example
from hesuan.land.gep import (
    Money,
    PriceIndex,
    QuantityRow,
    compute_account,
    read_price_index,
    read_prices,
    read_quantities,
)
from hesuan.land.gep.run import run
from hesuan.standards.gep_editions import load_gep_edition, load_gep_edition_path

GARZE = load_gep_edition("gep_garze2010", "2017")
HEADER = "region,year,ecosystem_type,indicator,quantity,unit\n"


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_negative_quantity_names_file_row_field(tmp_path):
    p = _write(tmp_path, "q.csv", HEADER + "a,2010,,regulating.water_conservation.volume,"
               "-5,m**3\n")
    with pytest.raises(InputError) as err:
        read_quantities(p)
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == (str(p), 2, "quantity")
    assert "negative" in pr.message


def test_missing_columns_are_all_listed(tmp_path):
    p = _write(tmp_path, "q.csv", "region,year,quantity\na,2010,1\n")
    with pytest.raises(InputError) as err:
        read_quantities(p)
    assert {x.field for x in err.value.problems} == {"ecosystem_type", "indicator", "unit"}


def test_price_without_year_or_currency(tmp_path):
    p = _write(tmp_path, "prices.csv", "indicator,price,price_per,currency,price_year,source\n"
               "regulating.water_conservation.volume,7.06,m**3,,2010,mine\n"
               "regulating.soil_retention.nitrogen,875,t,CNY,,mine\n")
    with pytest.raises(InputError) as err:
        read_prices(p)
    got = {(x.row, x.field) for x in err.value.problems}
    assert got == {(2, "currency"), (3, "price_year")}


def test_edition_price_without_year_is_a_dataset_error(tmp_path):
    folder = tmp_path / "ed"
    shutil.copytree(GARZE.info.path, folder)
    csv = folder / "indicators.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    cells = lines[9].split(",")
    cells[12] = ""  # price_year of regulating.water_conservation.volume
    lines[9] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        load_gep_edition_path(folder)
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == (str(csv), 10, "price_year")


def test_ecosystem_type_without_a_price():
    q = QuantityRow("a", 2010, "shrub", "regulating.pest_control.area", 10.0, "ha",
                    source="q.csv:7")
    with pytest.raises(InputError) as err:
        compute_account(GARZE, [q])
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == ("q.csv", 7, "ecosystem_type")
    assert "shrub" in pr.message


def test_unverified_edition_without_prices_asks_for_yours():
    ed = load_gep_edition("gep_gbt46869", "2025")
    q = QuantityRow("a", 2024, "", "regulating.water_conservation.volume", 1e6, "m**3",
                    source="q.csv:2")
    with pytest.raises(InputError) as err:
        compute_account(ed, [q])
    assert "no price" in str(err.value) and "not read" in str(err.value)
    assert "--prices" in (err.value.problems[0].expected or "")


def test_missing_price_index_year(tmp_path):
    idx = read_price_index(_write(tmp_path, "cpi.csv", "year,index\n2010,100\n2015,114\n"))
    q = QuantityRow("a", 2020, "", "regulating.water_conservation.volume", 1e6, "m**3",
                    source="q.csv:2")
    with pytest.raises(InputError) as err:
        compute_account(GARZE, [q], price_index=idx)
    pr = err.value.problems[0]
    assert pr.file == str(tmp_path / "cpi.csv") and "2020" in pr.message
    # without any index: a price of 2010 cannot be used for 2020
    with pytest.raises(InputError, match="no price index"):
        compute_account(GARZE, [q])


def test_price_index_rebasing_is_p_t_equals_p_base_times_ratio():
    idx = PriceIndex("CNY", {2010: 100.0, 2020: 127.5}, "test")
    assert idx.adjust(Money(7.06, "CNY", 2010), 2020).amount == pytest.approx(7.06 * 1.275)
    q = QuantityRow("a", 2020, "", "regulating.water_conservation.volume", 1e6, "m**3")
    acc = compute_account(GARZE, [q], price_index=idx, constant_year=2010)
    row = acc.rows[0]
    assert row.value.price_year == 2010 and row.value.amount == pytest.approx(7.06e6)
    assert row.value_current.price_year == 2020
    assert row.value_current.amount == pytest.approx(7.06e6 * 1.275)
    assert row.value_constant is not None and row.value_constant.amount == pytest.approx(7.06e6)


def test_outside_deduction_only_where_the_edition_allows():
    gbt = load_gep_edition("gep_gbt46869", "2025")
    prices = {("provisioning.water_supply.volume", ""): read_prices_row()}
    ok = compute_account(gbt, [QuantityRow("a", 2025, "", "provisioning.water_supply.volume",
                                           100.0, "m**3", 30.0)], prices=prices)
    assert ok.rows[0].net_quantity == pytest.approx(70.0)
    with pytest.raises(InputError, match="does not deduct"):
        compute_account(GARZE, [QuantityRow("a", 2010, "", "provisioning.water_supply.domestic",
                                            100.0, "m**3", 30.0)])


def read_prices_row():
    from hesuan.land.gep.accounts import Price

    return Price(Money(2.0, "CNY", 2025), "m**3", "test", "")


def test_unit_that_a_price_cannot_value():
    q = QuantityRow("a", 2010, "", "regulating.water_conservation.volume", 5.0, "t",
                    source="q.csv:3")
    with pytest.raises(InputError) as err:
        compute_account(GARZE, [q])
    assert err.value.problems[0].field == "unit"


def test_oxygen_not_counted_by_gbt_edition():
    gbt = load_gep_edition("gep_gbt46869", "2025")
    ind = gbt.indicator("regulating.oxygen_release.o2")
    assert ind is not None and not ind.counted and not ind.verified and ind.notes
    assert all(not i.verified and i.notes for i in gbt.indicators)


def test_unknown_edition():
    with pytest.raises(FactorNotFoundError, match="gep_garze2010@2017"):
        load_gep_edition("gep_nowhere")


def test_failed_run_leaves_no_output(tmp_path):
    q = _write(tmp_path, "q.csv", HEADER + "a,2020,,regulating.water_conservation.volume,"
               "5,m**3\n")
    out = tmp_path / "out"
    with pytest.raises(InputError):
        run("gep_garze2010@2017", out, quantities=q, layers=example("gep", "layers.csv"),
            types=example("gep", "types.csv"), whole_map="a")
    assert not out.exists() or not any(out.rglob("*"))


def test_cli_prints_one_message_exit_2(tmp_path, capsys):
    from hesuan.cli import main

    q = _write(tmp_path, "q.csv", HEADER + "a,2010,,regulating.water_conservation.volume,"
               "x,m**3\n")
    with pytest.raises(SystemExit) as ex:
        main(["land", "gep", "run", "--edition", "gep_garze2010@2017", "--quantities", str(q),
              "--out", str(tmp_path / "out")])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "quantity" in err and "Traceback" not in err


def test_quantities_from_an_excel_workbook(tmp_path):
    """Excel-friendly input: the same table as .xlsx reads the same rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["region", "year", "ecosystem_type", "indicator", "quantity", "unit"])
    ws.append(["garze", 2010, "", "regulating.water_conservation.volume", 321.49, "yi m**3"])
    ws.append(["garze", 2010, "forest", "regulating.pest_control.area", 158, "wan ha"])
    path = tmp_path / "q.xlsx"
    wb.save(path)
    rows = read_quantities(path)
    acc = compute_account(GARZE, rows)
    assert acc.total("water_conservation").current.amount == pytest.approx(321.49e8 * 7.06)
    assert acc.total("pest_control").current.amount == pytest.approx(158e4 * 375)


def test_missing_raster_named_before_any_output(tmp_path):
    layers = tmp_path / "layers.csv"
    layers.write_text("year,field,path\n2020,ecosystem,"
                      f"{example('gep', 'ecosystem_2020.tif')}\n2020,precip_mm,nowhere.tif\n"
                      f"2020,runoff_mm,{example('gep', 'runoff_mm_2020.tif')}\n"
                      f"2020,et_mm,{example('gep', 'et_mm_2020.tif')}\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        run("gep_garze2010@2017", out, layers=layers, types=example("gep", "types.csv"))
    pr = err.value.problems[0]
    assert pr.field == "precip_mm" and pr.file is not None and pr.file.endswith("nowhere.tif")
    assert not out.exists()
