"""An unverified national edition with the user's own prices and coefficients: the
outside-region deduction it allows, oxygen release it does not count, and the CLI path."""

from __future__ import annotations

import json

import pytest

from hesuan.cli import main
from hesuan.examples import path as example

QUANTITIES = """region,year,ecosystem_type,indicator,quantity,unit,outside_quantity
c,2025,wetland,provisioning.water_supply.volume,2.0,yi m**3,0.5
c,2025,forest,regulating.oxygen_release.o2,1000,t,
c,2025,forest,regulating.carbon_sequestration.co2,1000,t CO2,
"""
PRICES = """indicator,price,price_per,currency,price_year,source
provisioning.water_supply.volume,3.0,m**3,CNY,2025,county price bureau 2025
regulating.oxygen_release.o2,1000,t,CNY,2025,industrial oxygen quote
regulating.carbon_sequestration.co2,60,t CO2,CNY,2025,national carbon market 2025 mean
regulating.water_conservation.volume,8.0,m**3,CNY,2025,reservoir cost survey
regulating.soil_retention.sediment_volume,20,m**3,CNY,2025,dredging cost
regulating.soil_retention.nitrogen,900,t,CNY,2025,fertiliser price
regulating.soil_retention.phosphorus,3000,t,CNY,2025,fertiliser price
regulating.climate_regulation.transpiration,0.6,kWh,CNY,2025,electricity price
regulating.climate_regulation.evaporation,0.6,kWh,CNY,2025,electricity price
"""


def test_gbt_edition_with_own_prices(tmp_path, capsys):
    q = tmp_path / "q.csv"
    q.write_text(QUANTITIES, encoding="utf-8")
    p = tmp_path / "prices.csv"
    p.write_text(PRICES, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as ex:
        main(["land", "gep", "run", "--edition", "gep_gbt46869@2025", "--quantities", str(q),
              "--prices", str(p), "--out", str(out), "--no-report", "--json"])
    assert ex.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    gep = next(t for t in doc["totals"] if t["key"] == "gep")
    # water: (2.0 − 0.5) 亿 m³ × 3 元; CO2 1000 t × 60; O2 not counted by this edition
    assert gep["value_current"] == pytest.approx(1.5e8 * 3.0 + 1000 * 60)
    rows = json.loads((out / "gep.json").read_text(encoding="utf-8"))["account"]["rows"]
    o2 = next(r for r in rows if r["indicator"] == "regulating.oxygen_release.o2")
    assert o2["counted"] is False and o2["verified"] is False
    assert all(r["price"]["source"].startswith(str(p)) for r in rows)


def test_rasters_need_coefficients_the_edition_lacks(tmp_path, capsys):
    """GB/T 46869 ships no coefficients: soil retention stops with a clear message, and
    --coefficient supplies them."""
    p = tmp_path / "prices.csv"
    p.write_text(PRICES, encoding="utf-8")
    cpi = tmp_path / "cpi.csv"
    cpi.write_text("year,index\n2015,100\n2020,110\n2025,118\n", encoding="utf-8")
    args = ["land", "gep", "run", "--edition", "gep_gbt46869@2025", "--price-index", str(cpi),
            "--layers", str(example("gep", "layers.csv")),
            "--types", str(example("gep", "types.csv")), "--prices", str(p),
            "--ac-days", "90", "--no-report", "--no-maps"]
    with pytest.raises(SystemExit) as ex:
        main([*args, "--out", str(tmp_path / "a")])
    assert ex.value.code == 2
    assert "sediment_deposition_ratio" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ex:
        main([*args, "--out", str(tmp_path / "b"), "--json",
              "--coefficient", "sediment_deposition_ratio=0.24",
              "--coefficient", "soil_bulk_density=1.3",
              "--coefficient", "soil_n_content=0.001", "--coefficient", "soil_p_content=0.0005"])
    assert ex.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert {t["year"] for t in doc["totals"]} == {2015, 2020}
