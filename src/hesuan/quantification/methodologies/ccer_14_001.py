"""China CCER-14-001-V01 温室气体自愿减排项目方法学 造林碳汇 (afforestation carbon sink).

Ministry of Ecology and Environment, 2023.

Applicability: clause 2 (适用条件) — arbor, bamboo and shrub afforestation, not economic
forest, corridor greening on non-forest land or urban/village/industrial greening, and
conditions a) to e). These were read in a copy of the methodology's text
(renrendoc.com/paper/339638050.html, pages 1–5) and are ``verified = true``. The quantification
steps are AR-TOOL14 v04.2's (:mod:`~hesuan.quantification.equations`), checked in the tool's
text and flagged so; that CCER-14-001-V01 prescribes exactly them, its precision rule, its
net-removals clause and its defaults were not checked in the CCER text: those steps are
``verified = false``, and so is every CCER report.

Baseline: the project's stated baseline removals only. An IPCC Tier 1 baseline
(``[baseline] ipcc_forest_gain_loss``) is refused with
``baseline_source_must_be_permitted_by_methodology``: the CCER text's baseline clause was not
read, so hesuan does not assume it permits one (it fails closed).

Uncertainty rule: when the relative half-width of the 90 % confidence interval of the tree
stock change exceeds the precision target (10 %), the lower bound of the interval is credited
(the conservative choice); below it nothing is deducted. As in AR-TOOL14 (§6.1 para 18), the
rule applies to the sampled tree change; the shrub change is added as it is.
"""

from __future__ import annotations

from hesuan.quantification import equations as eq
from hesuan.quantification.methodologies.afforestation import TOOL14, run_afforestation
from hesuan.quantification.methodologies.ar_acm0003 import INPUTS, PARAMETERS
from hesuan.quantification.project import Project
from hesuan.quantification.spec import Condition, MethodologySpec, register

CLAUSE = "CCER-14-001-V01 clause 2"
FOREST_TYPES = ("protection", "special_purpose", "timber", "bamboo", "shrub")
"""Afforestation the methodology covers (防护林, 特种用途林, 用材林, 竹子, 灌木)."""


def _is(value: object) -> bool:
    return value is True


def _is_not(value: object) -> bool:
    return value is False


CONDITIONS = (
    Condition("afforestation_type_must_be_covered", f"{CLAUSE} (scope)", "forest_type",
              "arbor (protection, special-purpose, timber), bamboo or shrub afforestation; "
              "not economic forest (经济林), non-forest-land corridor greening or "
              "urban/village/industrial greening", lambda v: v in FOREST_TYPES, True),
    Condition("land_must_be_planned_afforestation_land_for_3_years", f"{CLAUSE} a)",
              "non_forest_planned_years",
              "land that was planned afforestation land not meeting the forest definition for "
              "≥ 3 years before the start", lambda v: isinstance(v, int | float) and v >= 3,
              True),
    Condition("land_tenure_must_be_documented", f"{CLAUSE} b)", "tenure_documented",
              "clear tenure with a title, contract or certificate (true)", _is, True),
    Condition("parcel_must_be_at_least_400_m2", f"{CLAUSE} c)", "min_parcel_area_m2",
              "every parcel ≥ 400 m² (≥ 667 m² for projects started in 2019 or earlier)",
              lambda v: isinstance(v, int | float) and v >= 400, True),
    Condition("land_must_not_be_wetland", f"{CLAUSE} d)", "wetland", "wetland = false",
              _is_not, True),
    Condition("scattered_trees_must_not_be_removed", f"{CLAUSE} e)",
              "scattered_trees_removed", "no removal of scattered trees or bamboo (false)",
              _is_not, True),
    Condition("shrub_removal_must_not_exceed_20_pct", f"{CLAUSE} e)", "shrub_removal_pct",
              "removal of shrubs and bamboo under 2 cm DBH ≤ 20 % of the area",
              lambda v: isinstance(v, int | float) and 0 <= v <= 20, True),
)


def precision_rule(change: float, u: float, target: float) -> tuple[float, float, float]:
    """Conservative deduction (:func:`~hesuan.quantification.equations.lower_bound_change`).

    ``(credited change, deduction, fraction of the half-width deducted)``.
    """
    credited, deduction = eq.lower_bound_change(change, u, target)
    return credited, deduction, (1.0 if deduction > 0 else 0.0)


def run(project: Project) -> list:
    """Quantify a project under CCER-14-001-V01 (lower bound of the 90 % confidence interval).

    A project started by 2019 whose smallest parcel is under 667 m² is refused (clause 2 c)).
    """
    started = project.start.year
    parcel = project.applicability.get("min_parcel_area_m2")
    if started <= 2019 and isinstance(parcel, int | float) and parcel < 667:
        from hesuan.quantification.methodologies.afforestation import ApplicabilityError
        raise ApplicabilityError.single(
            f"parcel_must_be_at_least_667_m2_for_projects_started_by_2019: the project "
            f"started in {started} and its smallest parcel is {parcel} m²",
            file=project.path, field="applicability.min_parcel_area_m2",
            expected="≥ 667 m² (CCER-14-001-V01 clause 2 c))")
    return run_afforestation(SPEC, project, precision_rule,
                             "conservative deduction (lower bound of the 90 % CI)",
                             "CCER-14-001-V01 monitoring: sampling precision [not verified]",
                             "AFOLU")


SPEC = register(MethodologySpec(
    id="CCER-14-001", version="V01", title="造林碳汇 afforestation carbon sink (China CCER)",
    tools=(TOOL14,), inputs=INPUTS, parameters=PARAMETERS, conditions=CONDITIONS,
    uncertainty_rule="conservative deduction", run=run, baseline_sources=()))
