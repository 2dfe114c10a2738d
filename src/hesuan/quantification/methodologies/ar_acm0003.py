"""CDM AR-ACM0003 (afforestation and reforestation of lands except wetlands).

Trees and shrubs are estimated by the tool AR-TOOL14 v04.2.

Uncertainty: the precision requirements are the tool's (AR-ACM0003 §6.3 para 24):
AR-TOOL14's discount table (Appendix 2, Table 1): the share of the 90 % confidence
interval's half-width given by
:func:`~hesuan.quantification.equations.discount_fraction` is deducted from the project's
tree stock change.

Verification status: the applicability conditions (§2.2 para 3), the net-removals equations
(§5.5 eq. (2), §5.7 eq. (5)) and the precision clause were read in the UNFCCC PDF of
version 02.0 (EB 75), the tool's equations, defaults and worked examples in that of AR-TOOL14
v04.2 (tests/quantification/SOURCE.md): ``verified = true`` for them. The IPCC Tier 1
baseline source stays ``verified = false``: the land engine's factors are not the tool's
defaults (see :func:`~hesuan.quantification.methodologies.afforestation.baseline_removals`).
"""

from __future__ import annotations

from hesuan.errors import InputError
from hesuan.quantification import equations as eq
from hesuan.quantification.methodologies.afforestation import (
    TOOL14,
    run_afforestation,
)
from hesuan.quantification.project import Project
from hesuan.quantification.spec import (
    BaselineSource,
    Condition,
    InputSpec,
    MethodologySpec,
    ParameterSpec,
    register,
)

INPUTS = (
    InputSpec("strata", "strata table (stratum, area_ha) or land-cover raster + classes",
              {"stratum": "stratum name", "area_ha": "stratum area [ha]"}),
    InputSpec("plots", "one row per sample plot and monitoring event",
              {"plot": "plot id", "stratum": "stratum", "area_m2": "plot area [m2]",
               "shrub_cover": "shrub crown cover [0–1] (optional)",
               "volume_m3": "stand volume [m3] (optional, volume method)",
               "species": "species id (volume method)"}),
    InputSpec("trees", "one row per tree (allometric method)",
              {"plot": "plot id", "species": "species id", "dbh_cm": "DBH [cm]",
               "height_m": "height [m] (for equations using it)"}, required=False),
)

PARAMETERS = (
    ParameterSpec("cf_tree", "t C / t dm", "ar_tool14_defaults@04.2:cf_tree", "AR-TOOL14 eq. (12)",
                  "carbon fraction of trees (species records may override)"),
    ParameterSpec("bef2", "1", "ar_tool14_defaults@04.2:bef2", "AR-TOOL14 Appendix 1 eq. (5)",
                  "biomass expansion factor (volume method)"),
    ParameterSpec("root_shoot", "1", None, "AR-TOOL14 Appendix 1",
                  "per species, or the default function R(b) when the record says default"),
    ParameterSpec("cf_shrub", "t C / t dm", "ar_tool14_defaults@04.2:cf_shrub",
                  "AR-TOOL14 eq. (26)",
                  "carbon fraction of shrubs"),
    ParameterSpec("root_shoot_shrub", "1", "ar_tool14_defaults@04.2:root_shoot_shrub",
                  "AR-TOOL14 eq. (26)", "R_S"),
    ParameterSpec("bdr_sf", "1", "ar_tool14_defaults@04.2:bdr_sf", "AR-TOOL14 eq. (27)", "BDR_SF"),
    ParameterSpec("forest_agb_t_per_ha", "t dm / ha", None, "AR-TOOL14 eq. (27)",
                  "b_FOREST, given by the project when shrubs are measured"),
    ParameterSpec("confidence", "1", "ar_tool14_defaults@04.2:confidence", "AR-TOOL14 eq. (15)",
                  "confidence level"),
    ParameterSpec("precision_target", "1", "ar_tool14_defaults@04.2:precision_target",
                  "AR-TOOL14 Appendix 2 Table 1",
                  "the tool's fixed 10 %: a half-width at or below it is not discounted (a "
                  "project's defaults may not change it)"),
)

CLAUSE = "AR-ACM0003 v02.0 §2.2 para 3"


def _pct_at_most_10(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 10


CONDITIONS = (
    Condition("land_must_not_be_wetland", f"{CLAUSE}(a)", "wetland",
              "wetland = false (lands except wetlands)", lambda v: v is False, True),
    Condition("organic_soil_disturbance_must_not_exceed_10_pct", f"{CLAUSE}(b)(i)",
              "organic_soil_disturbance_pct",
              "soil disturbance on land with organic soils ≤ 10 % of its area (0 if none)",
              _pct_at_most_10, True),
    Condition("restricted_land_disturbance_must_not_exceed_10_pct", f"{CLAUSE}(b)(ii)",
              "restricted_land_disturbance_pct",
              "soil disturbance on the cropland and grassland of the methodology's appendices "
              "1 and 2 ≤ 10 % of its area (0 if none)", _pct_at_most_10, True),
)


def discount_rule(change: float, u: float, target: float) -> tuple[float, float, float]:
    """AR-TOOL14 Appendix 2 discount: ``(credited change, deduction, discount fraction)``.

    By :func:`~hesuan.quantification.equations.discounted_change`: none at U ≤ 10 % (the
    table's first row, the tool's fixed threshold; ``target`` is not read), else the table's
    share of the half-width.
    """
    credited, deduction = eq.discounted_change(change, u)
    return credited, deduction, eq.discount_fraction(u)


def run(project: Project) -> list:
    """Quantify a project under AR-ACM0003 (uncertainty discounted by the AR-TOOL14 table).

    Raises
    ------
    hesuan.errors.InputError
        when the project's defaults set ``precision_target`` other than the tool's 10 %
        (the discount table's first row, which :func:`discount_rule` applies), and for any
        other bad input.
    """
    fixed = eq.DISCOUNT_TABLE[0][0]
    given = project.defaults.value("precision_target")
    if given != fixed:
        raise InputError.single(
            f"precision_target = {given:g}: AR-TOOL14 Appendix 2 fixes the half-width below "
            "which no discount applies at 10 %",
            file=str(project.defaults.folder / project.defaults.table),
            field="precision_target", expected=f"{fixed:g}")
    return run_afforestation(SPEC, project, discount_rule, "AR-TOOL14 discount table",
                             "AR-ACM0003 v02.0 §6.3 para 24; AR-TOOL14 v04.2 §6.1 para 18, "
                             "Appendix 2 Table 1 [T14 p.8, 28] (discount for uncertainty)",
                             "AFOLU", rule_verified=True,
                             net_clause="AR-ACM0003 v02.0 §5.7 eq. (5), §5.5 eq. (2) (net = "
                             "actual − baseline − leakage; actual = ΔC_P − GHG_E)",
                             net_verified=True)


SPEC = register(MethodologySpec(
    id="AR-ACM0003", version="02.0",
    title="Afforestation and reforestation of lands except wetlands (CDM)",
    tools=(TOOL14,), inputs=INPUTS, parameters=PARAMETERS, conditions=CONDITIONS,
    uncertainty_rule="AR-TOOL14 discount table", run=run,
    baseline_sources=(BaselineSource(
        "ipcc_forest_gain_loss",
        "AR-TOOL14 v04.2 §6.3 eqs. (9)–(10) [T14 p.10–11]: baseline tree carbon change from "
        "the IPCC default mean annual increment (Tier 1), zero from the steady-state year",
        False),)))
