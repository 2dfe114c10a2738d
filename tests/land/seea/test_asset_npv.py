"""NPV of service flows against two published references.

1. SEEALand (SEEA EA 2021 annex, online supplement V1 2021, Tab #12 "NPV by ET", as vendored
   by SchmidtDSE/unseea research/seealand-fixture/npv-by-et.csv): 100-year asset life, 2 %
   discount rate, flows at the end of each year.
2. 博文静, 王莉雁, 操建华, 王效科, 肖燚, 欧阳志云. 中国森林生态资产价值评估. 生态学报 2017,
   37(12): 4182–4190 (ChinaXiv mirror DreamBlooms/ChinaXiv-201601-to-202209,
   md/ChinaXiv-201706.00846V1.md): Eq. 3 (annuity-due), n = 100 years, r = 2.77 %
   (Section 2.2), Table 2 (China's forest asset values, 亿元).
"""

from __future__ import annotations

import pytest

from hesuan.land.seea import annuity_factor, npv


def test_seealand_forest_npv_end_of_period():
    opening = {"wood": (9000, 387885.16476101446), "climate": (4000, 172393.40656045085),
               "recreation": (8000, 344786.8131209017)}
    closing = {"wood": (7800, 336167.14279287914), "climate": (3250, 140069.64283036633),
               "recreation": (7250, 312463.0493908172)}
    for flows, total in ((opening, 905065.384442367), (closing, 788699.8350140627)):
        for flow, expected in flows.values():
            assert npv(flow, 0.02, 100, "end") == pytest.approx(expected, rel=1e-12)
        assert sum(npv(f, 0.02, 100) for f, _ in flows.values()) == pytest.approx(total,
                                                                                  rel=1e-12)


def test_bo2017_annuity_due_and_the_papers_inconsistency():
    """Section 2.2: 19.10 万亿元/a over 100 years at 2.77 % → "662 万亿元"; but Table 2, the
    abstract and Section 3 give 691 万亿元 and 19.92 万亿元/a — the two flows disagree."""
    factor = annuity_factor(0.0277, 100, "beginning")
    assert factor == pytest.approx(34.687, abs=5e-4)
    assert npv(19.10, 0.0277, 100, "beginning") == pytest.approx(662, abs=0.6)
    assert npv(19.92, 0.0277, 100, "beginning") == pytest.approx(691, abs=0.05)
    # Table 2's total indirect value 6 910 325.7 亿元 implies 19.92 万亿元/a, not 19.10
    assert 6910325.7 / factor / 1e4 == pytest.approx(19.92, abs=0.005)
    # the end-of-period convention of SEEA EA would give 2.77 % less
    assert npv(19.92, 0.0277, 100, "end") == pytest.approx(691 / 1.0277, abs=0.05)


def test_bo2017_table2_identities():
    """Table 2: direct = stumpage + forest products; asset = indirect + direct (亿元)."""
    rows = {  # indirect, direct, stumpage, forest products, asset (as printed)
        "广西": (682931.0, 10279.0, 2334.9, 7944.1, 693209.9),
        "广东": (632855.1, 1867.7, 1321.8, 545.9, 634722.8),
        "云南": (624275.6, 5672.9, 5428.0, 244.9, 629948.5),
        "山东": (69182.8, 6486.6, 200.0, 6286.6, 75669.4),
        "合计": (6910325.7, 75161.7, 44871.2, 30290.5, 6985487.4),
    }
    for name, (ind, direct, stump, prod, asset) in rows.items():
        assert stump + prod == pytest.approx(direct, abs=0.051), name
        assert ind + direct == pytest.approx(asset, abs=0.11), name
