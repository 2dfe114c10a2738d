"""Landscape value (景观增值): benefiting area × landscape premium per m², through the account.

The equation V = Σ A_i · P_i (:func:`hesuan.land.gep.equations.landscape_premium_value`) is
the form of the Shenzhen GEP practice, known second-hand (see the function's docstring).
The premiums in the hand computation are the hedonic estimates of Jim & Chen 2006
(*Landscape and Urban Planning* 78:422–434, abstract): a green-space view adds 7.1 % and
proximity to water 13.2 % to the price of a Guangzhou flat.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hesuan.errors import InputError
from hesuan.land.gep import (
    Money,
    PriceIndex,
    QuantityRow,
    compute_account,
    read_prices,
    read_quantities,
)
from hesuan.land.gep.accounts import Price
from hesuan.land.gep.equations import landscape_premium_value
from hesuan.standards.gep_editions import load_gep_edition

MEE = load_gep_edition("gep_mee2020", "2020")
INDICATOR = "cultural.landscape.premium"

# Jim & Chen 2006: +7.1 % for a green-space view, +13.2 % for proximity to water.
VIEW_SHARE, WATER_SHARE = 0.071, 0.132
FLAT_PRICE = 20_000.0  # [元/m²] an assumed mean sale price of the flats, 2020


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_landscape_premium_is_area_times_premium_by_hand():
    # V = Σ A_i · P_i with P_i = share_i × price per m²:
    #   green view: 120 000 m² × (0.071 × 20 000 = 1 420 元/m²) = 170 400 000 元
    #   water:       35 000 m² × (0.132 × 20 000 = 2 640 元/m²) =  92 400 000 元
    areas = np.array([120_000.0, 35_000.0])
    premiums = np.array([VIEW_SHARE, WATER_SHARE]) * FLAT_PRICE
    values = landscape_premium_value(areas, premiums)
    assert values.tolist() == pytest.approx([170_400_000.0, 92_400_000.0])
    assert float(values.sum()) == pytest.approx(262_800_000.0)
    # scalars work as well as arrays (one statistics row)
    assert landscape_premium_value(120_000.0, 1420.0) == pytest.approx(170_400_000.0)


def test_editions_carry_the_row_unverified_with_the_reason():
    for key in ("gep_gbt46869@2025", "gep_mee2020@2020", "gep_ndrc_nbs2022@2022"):
        ind = load_gep_edition(key).indicator(INDICATOR)
        assert ind is not None and ind.category == "cultural" and ind.counted
        assert not ind.verified and ind.price is None and ind.valuation == "hedonic_price"
        assert "not read" in ind.notes
    # the Garzê 2010 study counts recreation only (Table 3, 景观游憩 by travel cost)
    assert load_gep_edition("gep_garze2010", "2017").indicator(INDICATOR) is None


def test_account_with_a_landscape_row_current_and_constant_prices(tmp_path):
    q = _write(tmp_path, "q.csv", "region,year,ecosystem_type,indicator,quantity,unit\n"
               f"c,2025,urban_green,{INDICATOR},12,wan m**2\n")
    p = _write(tmp_path, "prices.csv", "indicator,price,price_per,currency,price_year,source\n"
               f"{INDICATOR},1420,m**2,CNY,2020,7.1 % of 20000 CNY/m2 (Jim & Chen 2006)\n")
    index = PriceIndex("CNY", {2020: 100.0, 2025: 110.0}, "test index")
    acc = compute_account(MEE, read_quantities(q), prices=read_prices(p), price_index=index,
                          constant_year=2020)
    row = acc.rows[0]
    assert (row.category, row.service, row.net_quantity) == ("cultural", "landscape", 120_000.0)
    assert row.price.valuation == "hedonic_price"
    # at the premium's year: 120 000 m² × 1 420 元/m² (the hand computation above)
    assert (row.value.currency, row.value.price_year) == ("CNY", 2020)
    assert row.value.amount == pytest.approx(170_400_000.0)
    # current prices of 2025: P_t = P_base × I_t / I_base = × 110 / 100
    assert row.value_current.price_year == 2025
    assert row.value_current.amount == pytest.approx(170_400_000.0 * 1.10)
    # constant 2020 prices: back to the premium's year
    assert row.value_constant is not None and row.value_constant.price_year == 2020
    assert row.value_constant.amount == pytest.approx(170_400_000.0)
    cultural = acc.total("cultural", "c", 2025)
    assert cultural.current.amount == pytest.approx(170_400_000.0 * 1.10)
    assert acc.total("landscape", "c", 2025).current.amount == cultural.current.amount
    assert acc.edition == "gep_mee2020@2020" and acc.edition_verified is False


def test_negative_area_in_the_table_names_file_row_field(tmp_path):
    q = _write(tmp_path, "q.csv", "region,year,ecosystem_type,indicator,quantity,unit\n"
               f"c,2025,,{INDICATOR},12,wan m**2\n"
               f"c,2025,,{INDICATOR},-3,wan m**2\n")
    with pytest.raises(InputError) as err:
        read_quantities(q)
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == (str(q), 3, "quantity")
    assert "negative" in pr.message


def test_negative_area_built_in_python_names_row_field():
    q = QuantityRow("c", 2025, "", INDICATOR, -1.0, "m**2", source="q.csv:4")
    with pytest.raises(InputError) as err:
        compute_account(MEE, [q])
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == ("q.csv", 4, "quantity")
    assert "negative" in pr.message and INDICATOR in pr.message


def test_missing_premium_names_row_and_asks_for_a_price():
    q = QuantityRow("c", 2025, "", INDICATOR, 120_000.0, "m**2", source="q.csv:2")
    with pytest.raises(InputError) as err:
        compute_account(MEE, [q])
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == ("q.csv", 2, "indicator")
    assert f"no price for {INDICATOR}" in pr.message and "not read" in pr.message
    assert "--prices" in (pr.expected or "")


def test_premium_row_without_a_price_names_row_and_field(tmp_path):
    p = _write(tmp_path, "prices.csv", "indicator,price,price_per,currency,price_year,source\n"
               f"{INDICATOR},,m**2,CNY,2020,hedonic study\n")
    with pytest.raises(InputError) as err:
        read_prices(p)
    pr = err.value.problems[0]
    assert (pr.file, pr.row, pr.field) == (str(p), 2, "price")


def test_area_that_a_premium_per_m2_cannot_value():
    q = QuantityRow("c", 2025, "", INDICATOR, 10.0, "t", source="q.csv:2")
    prices = {(INDICATOR, ""): Price(Money(1420.0, "CNY", 2025), "m**2", "test", "")}
    with pytest.raises(InputError) as err:
        compute_account(MEE, [q], prices=prices)
    pr = err.value.problems[0]
    assert (pr.row, pr.field) == (2, "unit") and "m**2" in pr.message



def test_cli_values_a_landscape_row_from_the_statistics_table(tmp_path, capsys):
    import json

    from hesuan.cli import main

    q = _write(tmp_path, "q.csv", "region,year,ecosystem_type,indicator,quantity,unit\n"
               f"c,2025,urban_green,{INDICATOR},12,wan m**2\n")
    p = _write(tmp_path, "prices.csv", "indicator,price,price_per,currency,price_year,source\n"
               f"{INDICATOR},1420,m**2,CNY,2020,7.1 % of 20000 CNY/m2 (Jim & Chen 2006)\n")
    cpi = _write(tmp_path, "cpi.csv", "year,index\n2020,100\n2025,110\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as ex:
        main(["land", "gep", "run", "--edition", "gep_mee2020@2020", "--quantities", str(q),
              "--prices", str(p), "--price-index", str(cpi), "--constant-year", "2020",
              "--out", str(out), "--no-report", "--json"])
    assert ex.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    cultural = next(t for t in doc["totals"] if t["key"] == "cultural")
    assert cultural["value_current"] == pytest.approx(170_400_000.0 * 1.10)
    assert (cultural["currency"], cultural["current_price_year"]) == ("CNY", 2025)
    assert cultural["value_constant"] == pytest.approx(170_400_000.0)
    assert cultural["constant_price_year"] == 2020
    rows = json.loads((out / "gep.json").read_text(encoding="utf-8"))["account"]["rows"]
    (row,) = rows
    assert row["indicator"] == INDICATOR and row["verified"] is False
    assert row["price"]["source"].startswith(str(p))
