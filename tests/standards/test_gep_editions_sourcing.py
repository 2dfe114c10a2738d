"""The national GEP editions whose texts could not be read ship no verified row and no price.

GB/T 46869—2025, the MEE 2020 guideline and the NDRC/NBS 2022 specification (发改基础〔2022〕
481号) were searched for in stored pages, code and documentation without finding their
indicator tables or prices (each manifest's notes list what was read and what was searched).
Until a text is read, a row must not claim to be checked against it, no default price may be
shipped, and each manifest must state the licence status of the source's text.
"""

from __future__ import annotations

import pytest

from hesuan.standards.gep_editions import load_gep_edition

UNREAD = ["gep_gbt46869@2025", "gep_mee2020@2020", "gep_ndrc_nbs2022@2022"]


@pytest.mark.parametrize("key", UNREAD)
def test_unread_edition_claims_nothing_it_has_not_read(key):
    ed = load_gep_edition(key)
    assert ed.indicators
    assert [i.id for i in ed.indicators if i.verified] == []
    assert [i.id for i in ed.indicators if i.price is not None] == []
    assert all(i.notes and i.locator == "not read" for i in ed.indicators)
    notes = ed.info.notes
    assert "has not been read" in notes and "Not found." in notes and "Licence." in notes


def test_gbt46869_title_is_the_catalogue_title():
    # main.spc.net.cn standard detail page: a 技术指南, terrestrial (陆域) GEP.
    assert load_gep_edition("gep_gbt46869@2025").info.title.startswith(
        "GB/T 46869—2025 生态系统评估 陆域生态产品总值核算技术指南")


def test_ndrc_lists_pest_control_from_the_secondary_summary_only():
    ind = load_gep_edition("gep_ndrc_nbs2022@2022").indicator("regulating.pest_control.area")
    assert ind is not None and ind.counted and not ind.verified
    assert "secondary summary" in ind.notes
