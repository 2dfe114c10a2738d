"""Reference test: final ecosystem services of the Baiyangdian wetland, 2011.

Source: 江波, 陈媛媛, 肖洋, 赵娟娟, 欧阳志云. 白洋淀湿地生态系统最终服务价值评估. 生态学报
2017, 37(8): 2497–2505, doi:10.5846/stxb201410091984 — Sections 2.1–2.4 (quantities,
prices, coefficients) and Table 3 (quantity, value and share of the eight services); full
text on the ChinaXiv mirror (DreamBlooms/ChinaXiv-201601-to-202209,
md/ChinaXiv-201704.00322V1.md).

It doubles as the test of a *user edition*: the study's prices and coefficients are an
edition folder of its own (``cases/baiyangdian2011/edition``), loaded with
:func:`load_gep_edition_path`. Every row is derived from the paper's inputs with the cited
equations of :mod:`hesuan.land.gep.equations`, valued by :func:`compute_account`, and
compared with Table 3 to its printed precision (values in 10⁸ 元, 2 decimals).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hesuan.land.gep import QuantityRow, compute_account, equations
from hesuan.standards.gep_editions import load_gep_edition_path

CASE = Path(__file__).parent / "cases" / "baiyangdian2011"
YI = 1e8

# Table 3: value [10⁸ 元] and share [%] as printed
TABLE3 = {
    "aquatic_products": (3.62, 10.18), "raw_materials": (1.67, 4.70),
    "water_supply": (0.49, 1.38), "flood_regulation": (14.97, 42.11),
    "carbon_sequestration": (0.22, 0.62), "oxygen_release": (0.45, 1.26),
    "recreation": (13.15, 36.99), "non_use": (0.98, 2.76),
}


@pytest.fixture(scope="module")
def edition():
    return load_gep_edition_path(CASE / "edition")


def _quantities(edition) -> list[QuantityRow]:
    reed_t = 3.74e4                                     # 芦苇产量 3.74×10⁴ t (2.1.2)
    co2 = equations.co2_from_dry_matter_t(reed_t, edition.coefficient("co2_per_dry_matter")
                                          .value)       # 1.63 kg CO2 / kg (2.2.2)
    o2 = equations.oxygen_from_dry_matter_t(reed_t, edition.coefficient("o2_per_dry_matter")
                                            .value)     # 1.2 kg O2 / kg (2.2.3)
    flood = (2.90 - 1.26) + 0.81                         # 10⁸ m³, two rising periods (2.2.1)
    tourist_payers = 135e4 / 1.52 * 0.75 * (1 - 0.0704)  # 61.92×10⁴ (2.3.2)
    non_use = (equations.contingent_value(11.31, 12, 0.8344, tourist_payers)
               + equations.contingent_value(11.89, 12, 0.9049, 2.90e4 * (1 - 0.1805))
               + equations.contingent_value(7.38, 12, 0.8370, 41.48e4 * (1 - 0.1805)))
    row = lambda indicator, q, unit: QuantityRow("baiyangdian", 2011, "wetland",  # noqa: E731
                                                 indicator, q, unit)
    return [
        row("provisioning.aquatic_products.output", 3.62, "yi CNY"),
        row("provisioning.raw_materials.reed_top", 0.4 * reed_t, "t"),
        row("provisioning.raw_materials.reed_middle", 0.4 * reed_t, "t"),
        row("provisioning.raw_materials.reed_low", 0.2 * reed_t, "t"),
        row("provisioning.water_supply.volume", 0.98, "yi m**3"),
        row("regulating.flood_regulation.volume", flood, "yi m**3"),
        # the CO2 quantity, priced per t C: converted through the carbon context (× 12/44)
        row("regulating.carbon_sequestration.carbon", co2, "t CO2"),
        row("regulating.oxygen_release.o2", o2, "t"),
        row("cultural.recreation.travel_cost", 135e4, "visit"),
        row("cultural.non_use.contingent", non_use, "CNY"),
    ]


def test_every_service_of_table_3(edition):
    account = compute_account(edition, _quantities(edition))
    assert account.edition == "gep_baiyangdian2011@2017"
    gep = account.total("gep").current.amount
    for service, (printed, share) in TABLE3.items():
        value = account.total(service).current.amount
        assert round(value / YI, 2) == pytest.approx(printed, abs=1e-9), service
        # the shares are of the unrounded values (O2: 0.4488 / 35.55 = 1.26 %, not 1.27)
        assert round(100 * value / gep, 2) == pytest.approx(share, abs=0.011), service
    for category, printed in (("provisioning", 5.78), ("regulating", 15.64),
                              ("cultural", 14.13), ("gep", 35.55)):
        assert round(account.total(category).current.amount / YI, 2) == printed, category
    # 22.60×10⁴ 元/hm² over the 157.29 km² of wetland (Section 2.4)
    assert gep / 15729 / 1e4 == pytest.approx(22.60, abs=0.005)


def test_physical_quantities(edition):
    q = {r.indicator: r for r in _quantities(edition)}
    co2 = q["regulating.carbon_sequestration.carbon"].quantity
    assert equations.carbon_from_co2_t(co2) / 1e4 == pytest.approx(1.66, abs=0.005)
    assert q["regulating.oxygen_release.o2"].quantity / 1e4 == pytest.approx(4.49, abs=0.005)
    assert q["regulating.flood_regulation.volume"].quantity == pytest.approx(2.45)
    # recreation by the travel cost method (Eq. 8)
    assert equations.travel_cost_value(135e4, 52.47, 343.33, 578.03) / YI == \
        pytest.approx(13.15, abs=0.005)
    # each non-use part (Section 2.3.2): tourists 0.70, county town 0.03, villages 0.25
    assert equations.contingent_value(11.31, 12, 0.8344, 61.92e4) / YI == pytest.approx(
        0.70, abs=0.005)
    assert equations.contingent_value(11.89, 12, 0.9049, 2.37e4) / YI == pytest.approx(
        0.03, abs=0.005)
    assert equations.contingent_value(7.38, 12, 0.8370, 33.99e4) / YI == pytest.approx(
        0.25, abs=0.005)


def test_documented_inconsistencies():
    """What the recomputation finds in the paper (see SOURCE.md)."""
    # county-town payers: 2.90×10⁴ × (1 − 18.05 %) = 2.3766×10⁴, printed 2.37 (2.38 rounded)
    assert round(2.90 * (1 - 0.1805), 2) == 2.38
    # the O2 share: 0.45 / 35.55 = 1.27 %, printed 1.26 % (from the unrounded 0.4488)
    assert round(100 * 0.45 / 35.55, 2) == 1.27
    assert round(100 * 3.74 * 1.2 * 1e4 * 1000 / 35.55e8, 2) == 1.26
