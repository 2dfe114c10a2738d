"""The baseline removals from IPCC Tier 1 through the land engine, where the methodology
permits it, on the bundled example.

Expected values by hand: the bundled baseline strata table (``baseline_ipcc.csv``) has one
stratum of 15 ha (600 ha × 2.5 % pre-project crown cover) in the subtropical humid zone of
continental Asia, older than 20 years: IPCC 2006 Vol. 4 Table 4.9 G_W = 2.0 t d.m./ha/yr,
Table 4.4 R = 0.20 (subtropical humid forest, AGB < 125 t/ha), Table 4.3 CF = 0.47, so
ΔC_G = 15 · 2.0 · 1.2 · 0.47 = 16.92 t C/yr (Eqs. 2.9–2.10) = 16.92 · 44/12 = 62.04 t CO2e/yr
— AR-TOOL14 v04.2 §6.3 eq. (10) [T14 p.10–11] in its IPCC form; over the second monitoring
period (2022-12-31 to 2025-12-31, 1096 days) 62.04 · 1096 / 365.25 = 186.163 t CO2e.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hesuan.errors import InputError
from hesuan.quantification import check_report, quantify, to_json
from hesuan.quantification.check import ReportCheckError

RATE = 15 * 2.0 * 1.2 * 0.47 * 44 / 12


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _ipcc_baseline(example: Path, cover: str = "0.025", threshold: str = "0.30") -> None:
    # 2.5 % pre-project crown cover, a forest threshold of 30 % (the tool's example Party)
    _edit(example, "removals_t_co2e_per_yr = 40.0",
          'ipcc_forest_gain_loss = "baseline_ipcc.csv"\nipcc_edition = "2006"'
          f"\npre_project_crown_cover = {cover}\nforest_crown_cover_threshold = {threshold}")


def _ar_acm0003(example: Path) -> None:
    _edit(example, 'methodology = "CCER-14-001"', 'methodology = "AR-ACM0003"')
    _edit(example, 'methodology_version = "V01"', 'methodology_version = "02.0"')
    _edit(example, "[applicability]", "[applicability]\norganic_soil_disturbance_pct = 0"
        "\nrestricted_land_disturbance_pct = 0")


def test_ar_acm0003_takes_the_baseline_from_ipcc_tier1(example: Path) -> None:
    _ar_acm0003(example)
    _ipcc_baseline(example)
    first, second = quantify(example)
    assert pytest.approx(62.04) == RATE
    assert second.removals.baseline_t_co2e == pytest.approx(RATE * 1096 / 365.25)
    assert second.removals.baseline_t_co2e == pytest.approx(186.163, abs=1e-3)
    assert first.removals.baseline_t_co2e == pytest.approx(
        RATE * (first.period_years * 365.25) / 365.25)
    step = next(s for s in second.steps if s.name == "baseline")
    assert step.function == "hesuan.land.ipcc.tables.forest_gain_loss"
    assert "AR-TOOL14 v04.2 §6.3 eqs. (9)–(10)" in step.clause and not step.verified
    assert step.outputs["gain_t_c_per_yr"] == pytest.approx(16.92)
    assert "ipcc2006_afolu@2006:gw.subtropical.humid.asia_continental.gt20" in \
        step.outputs["factor_records"]
    # recorded in the report's inputs with its SHA-256, and the parameter names its source
    import hashlib
    digest = hashlib.sha256((example.parent / "baseline_ipcc.csv").read_bytes()).hexdigest()
    assert {(f.role, f.path, f.sha256) for f in second.inputs} >= {
        ("baseline", "baseline_ipcc.csv", digest)}
    param = next(p for p in second.parameters if p.name == "baseline_removals")
    assert param.value == pytest.approx(RATE) and "forest-gain-loss" in param.source
    # net = credited change − baseline − leakage − emissions
    r = second.removals
    assert r.net_t_co2e == pytest.approx(r.actual_t_co2e - r.uncertainty_deduction_t_co2e
                                         - r.baseline_t_co2e - r.leakage_t_co2e
                                         - r.project_emissions_t_co2e)


def test_the_ipcc_baseline_is_checked_on_rerun(example: Path, tmp_path: Path) -> None:
    _ar_acm0003(example)
    _ipcc_baseline(example)
    report = quantify(example)[1]
    out = tmp_path / "q.json"
    out.write_text(to_json(report), encoding="utf-8")
    assert check_report(out, example).report_sha256 == report.report_sha256
    table = example.parent / "baseline_ipcc.csv"
    table.write_text(table.read_text(encoding="utf-8").replace(",15,", ",16,"),
                     encoding="utf-8")
    with pytest.raises(ReportCheckError, match="baseline"):
        check_report(out, example)


def test_the_ipcc_baseline_is_zero_from_the_steady_state_year(example: Path) -> None:
    # AR-TOOL14 v04.2 §6.3 [T14 p.10–11]: Δb_FOREST is 0 from the 20th year after the project
    # start; started 2002-03-01, the baseline runs to 2022-03-01: all of it falls in the first
    # period (2002-03-01 to 2022-12-31, 7305 days of it), none in the second
    _ar_acm0003(example)
    _ipcc_baseline(example)
    _edit(example, 'start = "2020-03-01"', 'start = "2002-03-01"')
    first, second = quantify(example)
    assert second.removals.baseline_t_co2e == 0.0
    assert first.removals.baseline_t_co2e == pytest.approx(RATE * 7305 / 365.25)


def test_ccer_refuses_an_ipcc_baseline_by_name(example: Path) -> None:
    _ipcc_baseline(example)
    with pytest.raises(InputError) as exc:
        quantify(example)
    assert "baseline_source_must_be_permitted_by_methodology" in str(exc.value)
    assert "baseline.ipcc_forest_gain_loss" in str(exc.value)


def test_baseline_strata_larger_than_the_project_are_refused(example: Path) -> None:
    _ar_acm0003(example)
    _ipcc_baseline(example)
    _edit(example.parent / "baseline_ipcc.csv", ",15,", ",601,")
    with pytest.raises(InputError, match="baseline_area_must_not_exceed_project_area"):
        quantify(example)


@pytest.mark.parametrize(("cover", "refused"), [("0.06", True), ("0.059", False)])
def test_the_crown_cover_method_needs_cover_under_20_pct_of_the_threshold(
        example: Path, cover: str, refused: bool) -> None:
    # AR-TOOL14 v04.2 §6.3 para 24 [T14 p.10], its example: a threshold of 30 % allows the
    # method "only if the mean pre-project tree crown cover is less than 20 per cent of 30
    # per cent (i.e. less than 6 per cent)"
    _ar_acm0003(example)
    _ipcc_baseline(example, cover=cover)
    if refused:
        with pytest.raises(InputError) as exc:
            quantify(example)
        assert "pre_project_crown_cover_must_be_under_20_pct_of_forest_threshold" in \
            str(exc.value) and "baseline.pre_project_crown_cover" in str(exc.value)
    else:
        step = next(s for s in quantify(example)[0].steps if s.name == "baseline")
        assert step.inputs["pre_project_crown_cover"] == pytest.approx(0.059)


def test_the_crown_cover_method_needs_both_covers(example: Path) -> None:
    _ar_acm0003(example)
    _ipcc_baseline(example)
    _edit(example, "\nforest_crown_cover_threshold = 0.30", "")
    with pytest.raises(InputError, match="baseline_crown_cover_must_be_given") as exc:
        quantify(example)
    assert "baseline.forest_crown_cover_threshold" in str(exc.value)
    _edit(example, "pre_project_crown_cover = 0.025", "pre_project_crown_cover = 1.5")
    with pytest.raises(InputError, match="not a fraction"):
        quantify(example)


def test_two_baseline_sources_are_refused(example: Path) -> None:
    _edit(example, "removals_t_co2e_per_yr = 40.0",
          'removals_t_co2e_per_yr = 40.0\nipcc_forest_gain_loss = "baseline_ipcc.csv"')
    with pytest.raises(InputError, match="one source of the baseline"):
        quantify(example)


def test_cli_names_the_refusal_and_writes_nothing(example: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from hesuan.cli import main

    _ipcc_baseline(example)
    out = tmp_path / "q"
    with pytest.raises(SystemExit) as exc:
        main(["quantify", str(example), "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "baseline_source_must_be_permitted_by_methodology" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
