# ruff: noqa: E501  (data-driven cases: one case per line)
"""The methodology engine on the bundled example: reproducibility, bad input (file, row and
field named), CCER-14-001-V01 and AR-ACM0003 v02.0 applicability (each condition refused), the
AR-ACM0003 discount rule (AR-TOOL14 v04.2, tests/quantification/SOURCE.md), and the published
JSON Schema.

CCER applicability conditions: CCER-14-001-V01 clause 2 (适用条件) a)–e) and its scope
sentence, read in a copy of the methodology (renrendoc.com/paper/339638050.html, pp. 1–5).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import pytest

from hesuan.errors import InputError
from hesuan.quantification import check_report, quantify, to_json
from hesuan.quantification import equations as eq
from hesuan.quantification.check import ReportCheckError, parse_report
from hesuan.quantification.methodologies.afforestation import ApplicabilityError
from hesuan.quantification.report import content_hash, json_schema

ROOT = Path(__file__).parents[2]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _write(reports: list, folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    out = []
    for r in reports:
        p = folder / f"quantification_{r.period_end}.json"
        p.write_text(to_json(r), encoding="utf-8")
        out.append(p)
    return out


def test_example_gives_two_sealed_periods_with_consistent_numbers(example: Path) -> None:
    reports = quantify(example)
    assert [(r.period_start, r.period_end) for r in reports] == [
        ("2020-03-01", "2022-12-31"), ("2022-12-31", "2025-12-31")]
    for r in reports:
        rem = r.removals
        assert r.report_sha256 == content_hash(r.model_dump())
        assert rem.net_t_co2e == pytest.approx(
            rem.actual_t_co2e - rem.uncertainty_deduction_t_co2e - rem.baseline_t_co2e
            - rem.leakage_t_co2e - rem.project_emissions_t_co2e)
        assert rem.net_creditable_units == int(rem.net_creditable_t_co2e)  # floor of > 0
        assert sum(v.units for v in r.vintages) == rem.net_creditable_units
        assert r.events[-1].stock_t_co2e == pytest.approx(
            sum(s.stock_t_co2e for s in r.events[-1].strata)
            + r.events[-1].shrub_stock_t_co2e)
        assert r.methodology_key == "CCER-14-001@V01" and not r.verified
    # the second period's change is the difference of the two events' stocks
    second = reports[1]
    assert second.removals.actual_t_co2e == pytest.approx(
        second.events[1].stock_t_co2e - second.events[0].stock_t_co2e)
    # baseline 40 t/yr over 2022-12-31 → 2025-12-31 (1096 days)
    assert second.removals.baseline_t_co2e == pytest.approx(40.0 * 1096 / 365.25)


def test_rerunning_gives_the_same_hash(example: Path) -> None:
    a, b = quantify(example), quantify(example)
    assert [r.report_sha256 for r in a] == [r.report_sha256 for r in b]


def test_check_reproduces_and_refuses_a_changed_input_byte(example: Path,
                                                           tmp_path: Path) -> None:
    paths = _write(quantify(example), example.parent / "out")
    assert check_report(paths[1]).report_sha256 == json.loads(paths[1].read_text())[
        "report_sha256"]
    trees = example.parent / "trees_2025.csv"
    data = bytearray(trees.read_bytes())
    i = data.index(b"\n") + 1 + data[data.index(b"\n") + 1:].index(b",") - 1
    data[i] = ord("9") if data[i] != ord("9") else ord("8")   # one byte of a plot id
    trees.write_bytes(bytes(data))
    with pytest.raises(ReportCheckError, match=r"trees_2025\.csv has changed"):
        check_report(paths[1])


def test_a_changed_byte_in_the_report_breaks_its_seal(example: Path) -> None:
    text = to_json(quantify(example)[0])
    changed = text.replace('"net_creditable_units": ', '"net_creditable_units": 1', 1)
    with pytest.raises(ReportCheckError, match="report_sha256"):
        parse_report(changed)
    with pytest.raises(InputError, match="not a quantification report"):
        parse_report('{"schema_id": "hesuan.quantification-report/1"}')


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("trees_2022.csv", "A01,1,conifer_demo,", "A01,1,,", r"trees_2022.csv, line 2, field 'species': empty \(expected a value\)"),
    ("trees_2022.csv", "A01,1,conifer_demo,", "A01,1,oak,", r"line 2, field 'species': unknown species 'oak'"),
    ("trees_2022.csv", "A01,1,conifer_demo,", "A01,1,conifer_demo,99", r"line 2, field 'dbh_cm': DBH 99\S* cm is outside the valid range 2.0–60.0"),
    ("trees_2022.csv", "A01,1,conifer_demo,", "A01,1,conifer_demo,x", r"line 2, field 'dbh_cm': not a number"),
    ("trees_2022.csv", "A01,1,conifer_demo,", "Z99,1,conifer_demo,", r"line 2, field 'plot': tree in unknown plot 'Z99'"),
    ("plots_2022.csv", "A01,A-fir,400,", "A01,A-fir,0,", r"plots_2022.csv, line 2, field 'area_m2': 0 is below the minimum \(expected > 0\)"),
    ("plots_2022.csv", "A01,A-fir,400,", "A01,Q,400,", r"line 2, field 'stratum': unknown stratum 'Q'"),
    ("strata.csv", "C-slope,150.0", "C-slope,150.0\nD-empty,10", r"field 'stratum': stratum 'D-empty' has no plots"),
    ("project.toml", 'date = "2022-12-31"', 'date = "2019-12-31"', r"project.toml, field 'monitoring\[0\].date': monitoring date 2019-12-31 is before the project start 2020-03-01"),
    ("project.toml", 'methodology_version = "V01"', 'methodology_version = "V07"', r"project.toml, field 'project.methodology_version': methodology CCER-14-001 has no version 'V07'"),
])
def test_bad_input_names_file_row_and_field(example: Path, file: str, old: str, new: str,
                                            where: str) -> None:
    _edit(example.parent / file, old, new)
    with pytest.raises(InputError) as exc:
        quantify(example)
    assert re.search(where, str(exc.value)), str(exc.value)


CCER_REFUSALS = [
    ('forest_type = "protection"', 'forest_type = "economic"', "afforestation_type_must_be_covered"),
    ("non_forest_planned_years = 5", "non_forest_planned_years = 2", "land_must_be_planned_afforestation_land_for_3_years"),
    ("tenure_documented = true", "tenure_documented = false", "land_tenure_must_be_documented"),
    ("min_parcel_area_m2 = 2400", "min_parcel_area_m2 = 399", "parcel_must_be_at_least_400_m2"),
    ("wetland = false", "wetland = true", "land_must_not_be_wetland"),
    ("scattered_trees_removed = false", "scattered_trees_removed = true", "scattered_trees_must_not_be_removed"),
    ("shrub_removal_pct = 8", "shrub_removal_pct = 21", "shrub_removal_must_not_exceed_20_pct"),
]


@pytest.mark.parametrize(("old", "new", "rule"), CCER_REFUSALS)
def test_each_ccer_applicability_condition_refuses(example: Path, old: str, new: str,
                                                   rule: str) -> None:
    _edit(example, old, new)
    with pytest.raises(ApplicabilityError) as exc:
        quantify(example)
    assert rule in str(exc.value) and "applicability." in str(exc.value)


def test_ccer_parcels_of_projects_started_by_2019_need_667_m2(example: Path) -> None:
    # clause 2 c): ≥ 400 m², but ≥ 667 m² for projects started in 2019 or earlier
    _edit(example, 'start = "2020-03-01"', 'start = "2019-06-01"')
    _edit(example, "min_parcel_area_m2 = 2400", "min_parcel_area_m2 = 500")
    with pytest.raises(ApplicabilityError, match="667"):
        quantify(example)
    _edit(example, "min_parcel_area_m2 = 500", "min_parcel_area_m2 = 667")
    assert quantify(example)[0].period_start == "2019-06-01"


def test_missing_fact_is_refused_too(example: Path) -> None:
    _edit(example, "wetland = false\n", "")
    with pytest.raises(ApplicabilityError, match="land_must_not_be_wetland"):
        quantify(example)


def _as_ar_acm0003(example: Path) -> None:
    _edit(example, 'methodology = "CCER-14-001"', 'methodology = "AR-ACM0003"')
    _edit(example, 'methodology_version = "V01"', 'methodology_version = "02.0"')
    _edit(example, "[applicability]", "[applicability]\norganic_soil_disturbance_pct = 0"
          "\nrestricted_land_disturbance_pct = 0")


@pytest.mark.parametrize(("fact", "rule"), [
    ("organic_soil_disturbance_pct = 0", "organic_soil_disturbance_must_not_exceed_10_pct"),
    ("restricted_land_disturbance_pct = 0", "restricted_land_disturbance_must_not_exceed_10_pct"),
    ("wetland = false", "land_must_not_be_wetland")])
def test_each_ar_acm0003_applicability_condition_refuses(example: Path, fact: str,
                                                         rule: str) -> None:
    # AR-ACM0003 v02.0 §2.2 para 3 (a) not wetland, (b) soil disturbance ≤ 10 % of the area
    # of (i) organic soils and (ii) the cropland / grassland of appendices 1 and 2
    _as_ar_acm0003(example)
    name, _ = fact.split(" = ")
    _edit(example, fact, f"{name} = true" if name == "wetland" else f"{name} = 10.5")
    with pytest.raises(ApplicabilityError, match=rule):
        quantify(example)
    _edit(example, f"{name} = true" if name == "wetland" else f"{name} = 10.5",
          fact if name == "wetland" else f"{name} = 10")
    assert quantify(example)[0].applicability


def test_ar_acm0003_refuses_a_precision_target_other_than_the_tools(example: Path) -> None:
    # AR-TOOL14 v04.2 Appendix 2 Table 1 [T14 p.28]: no discount at U ≤ 10 %, the table's
    # fixed first row; a project's own defaults that move it would be silently ignored by
    # the table, so they are refused, naming the dataset file and the record
    import shutil

    from hesuan.quantification.parameters import DATA_ROOT

    _as_ar_acm0003(example)
    mine = example.parent / "my_defaults"
    shutil.copytree(DATA_ROOT / "ar_tool14_defaults" / "04.2", mine)
    _edit(mine / "parameters.csv", "precision_target,0.10,", "precision_target,0.15,")
    _edit(example, 'defaults = "ar_tool14_defaults@04.2"', 'defaults = "my_defaults"')
    with pytest.raises(InputError, match=r"precision_target = 0\.15") as err:
        quantify(example)
    assert "parameters.csv" in str(err.value)
    _edit(mine / "parameters.csv", "precision_target,0.15,", "precision_target,0.10,")
    assert quantify(example)[1].uncertainty.precision_target == 0.10


def test_ar_acm0003_discounts_the_tree_change_by_the_tool14_table(example: Path) -> None:
    _as_ar_acm0003(example)
    second = quantify(example)[1]
    u, rem = second.uncertainty, second.removals
    assert second.methodology_key == "AR-ACM0003@02.0" and u.rule == "AR-TOOL14 discount table"
    # AR-TOOL14 v04.2 §6.1 para 18 [T14 p.8]: ΔC_TREE with u from eq. (2) is discounted by
    # Appendix 2 Table 1 [T14 p.28] (that share of the half-width); shrubs are not sampled
    # and not discounted
    before, after = second.events
    tree_change = after.tree_stock_t_co2e - before.tree_stock_t_co2e
    shrub_change = after.shrub_stock_t_co2e - before.shrub_stock_t_co2e
    assert abs(shrub_change) > 1.0      # the example has shrubs at both events
    half_width = math.hypot(before.relative_uncertainty * before.tree_stock_t_co2e,
                            after.relative_uncertainty * after.tree_stock_t_co2e)
    assert u.relative_half_width == pytest.approx(half_width / tree_change)
    assert u.relative_half_width > 0.10 and u.discount_fraction > 0
    assert u.discount_fraction == eq.discount_fraction(u.relative_half_width)
    assert u.deduction_t_co2e == pytest.approx(u.discount_fraction * half_width)
    assert rem.actual_t_co2e == pytest.approx(tree_change + shrub_change)
    step = next(s for s in second.steps if s.name == "uncertainty")
    assert step.outputs["credited_change_t_co2e"] == pytest.approx(
        tree_change - u.deduction_t_co2e + shrub_change)
    assert step.verified and "Appendix 2 Table 1" in step.clause


def test_a_net_loss_yields_no_units(example: Path) -> None:
    # the 2025 measurement with every DBH at 2.5 cm: the stock falls
    import polars as pl

    trees = example.parent / "trees_2025.csv"
    pl.read_csv(trees).with_columns(pl.lit(2.5).alias("dbh_cm")).write_csv(trees)
    second = quantify(example)[1]
    assert second.removals.net_t_co2e < 0
    assert second.removals.net_creditable_units == 0
    assert all(v.units == 0 for v in second.vintages)


def test_strata_from_a_land_cover_raster(example: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    # 30 m cells (0.09 ha): class 1 → A-fir, 2 → B-mixed, 3 → C-slope
    codes = np.array([[1] * 10 + [2] * 8 + [3] * 6 + [9] * 2] * 100, dtype=np.uint8)
    tif = example.parent / "strata.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=26, height=100, count=1, dtype="uint8",
                       crs="EPSG:32650", transform=from_origin(500000, 3300000, 30, 30)) as ds:
        ds.write(codes, 1)
    _edit(example, 'file = "strata.csv"',
          'raster = "strata.tif"\nclasses = { 1 = "A-fir", 2 = "B-mixed", 3 = "C-slope" }')
    r = quantify(example)[0]
    areas = {s.stratum: s.area_ha for s in r.events[-1].strata}
    assert areas == pytest.approx({"A-fir": 90.0, "B-mixed": 72.0, "C-slope": 54.0})


def test_published_schema_is_current() -> None:
    published = json.loads((ROOT / "docs/schemas/quantification-report.schema.json")
                           .read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(json_schema()))


def test_ex_ante_estimate_from_the_growth_table(example: Path) -> None:
    ante = quantify(example)[0].ex_ante
    assert [a.year for a in ante] == list(range(2021, 2041))
    assert all(b.stock_t_co2e > a.stock_t_co2e for a, b in itertools.pairwise(ante))


def test_shrub_stock_from_mean_crown_cover(example: Path) -> None:
    # AR-TOOL14 §9 by hand for the 2022 event: per stratum (1 + 0.40) · A · 0.10 · 60 · CC,
    # CC the mean cover of its plots (all ≥ 5 %), then 44/12 · 0.47
    import polars as pl

    plots = pl.read_csv(example.parent / "plots_2022.csv")
    strata = pl.read_csv(example.parent / "strata.csv")
    cc = plots.group_by("stratum").agg(pl.col("shrub_cover").mean()).join(strata, on="stratum")
    assert (cc["shrub_cover"] >= 0.05).all()
    expected = sum(44 / 12 * 0.47 * 1.4 * a * 0.10 * 60.0 * c
                   for a, c in zip(cc["area_ha"], cc["shrub_cover"], strict=True))
    first = quantify(example)[0].events[-1]
    assert first.shrub_stock_t_co2e == pytest.approx(expected)
    assert first.stock_t_co2e == pytest.approx(first.tree_stock_t_co2e + expected)


def test_any_changed_input_byte_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    # property: changing any one byte of any input file the report names makes --check refuse
    import shutil

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .conftest import EXAMPLE

    folder = tmp_path_factory.mktemp("flip") / "project"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    report = quantify(folder / "project.toml")[1]
    path = folder / "out.json"
    path.write_text(to_json(report), encoding="utf-8")
    names = [f.path for f in report.inputs]

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(which=st.sampled_from(names), where=st.floats(0, 1), delta=st.integers(1, 255))
    def flip(which: str, where: float, delta: int) -> None:
        target = folder / which
        original = target.read_bytes()
        data = bytearray(original)
        i = min(int(where * len(data)), len(data) - 1)
        data[i] = (data[i] + delta) % 256
        target.write_bytes(bytes(data))
        try:
            with pytest.raises(ReportCheckError, match="has changed"):
                check_report(path, folder / "project.toml")
        finally:
            target.write_bytes(original)

    flip()
    assert check_report(path, folder / "project.toml").report_sha256 == report.report_sha256


def test_own_defaults_without_a_parameter_the_methodology_reads_name_it(example: Path) -> None:
    # A project's own defaults dataset must hold every parameter its methodology reads: a
    # missing line is an error naming the table and the id, not a KeyError.
    import shutil

    from hesuan.errors import DatasetError
    from hesuan.quantification.parameters import DATA_ROOT

    mine = example.parent / "my_defaults"
    shutil.copytree(DATA_ROOT / "ar_tool14_defaults" / "04.2", mine)
    table = mine / "parameters.csv"
    table.write_text("".join(line for line in table.read_text("utf-8").splitlines(True)
                             if not line.startswith("confidence,")), encoding="utf-8")
    _edit(example, 'defaults = "ar_tool14_defaults@04.2"', 'defaults = "my_defaults"')
    with pytest.raises(DatasetError, match="no parameter 'confidence'") as err:
        quantify(example)
    assert str(table) in str(err.value)
