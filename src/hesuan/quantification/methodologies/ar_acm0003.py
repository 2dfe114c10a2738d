"""CDM AR-ACM0003 (afforestation and reforestation of lands except wetlands).

Trees and shrubs are estimated by the tool AR-TOOL14 v04.2.

Uncertainty: AR-TOOL14's discount table (Appendix 2, Table 1): the share of the 90 % confidence
interval's half-width given by :func:`~hesuan.quantification.equations.discount_fraction`
is deducted from the project's stock change.

Verification status: the applicability conditions were not read in the UNFCCC text; the
tool's equation numbers, defaults and worked examples were checked against a page-referenced
transcription of the tool, not the UNFCCC PDF (docs/quantification.md): ``verified = false``.
"""

from __future__ import annotations

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
    ParameterSpec("bef2", "1", "ar_tool14_defaults@04.2:bef2", "AR-TOOL14 eq. (A1.5)",
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
                  "AR-TOOL14 Appendix 2", "half-width under which no discount applies"),
)

CONDITIONS = (
    Condition("land_must_not_be_wetland", "applicability conditions", "wetland",
              "wetland = false (lands except wetlands)", lambda v: v is False, False),
    Condition("organic_soil_disturbance_must_not_exceed_10_pct",
              "applicability conditions", "organic_soil_disturbance_pct",
              "soil disturbance on organic soils ≤ 10 % of their area",
              lambda v: isinstance(v, int | float) and 0 <= v <= 10, False),
)


def discount_rule(change: float, u: float, target: float) -> tuple[float, float, float]:
    """AR-TOOL14 Appendix discount: ``(credited change, deduction, discount fraction)``.

    Below the precision target no deduction; else :func:`~hesuan.quantification.equations.
    discounted_change`.
    """
    credited, deduction = eq.discounted_change(change, u)
    return credited, deduction, eq.discount_fraction(u)


def run(project: Project) -> list:
    """Quantify a project under AR-ACM0003 (uncertainty discounted by the AR-TOOL14 table)."""
    return run_afforestation(SPEC, project, discount_rule, "AR-TOOL14 discount table",
                             "AR-TOOL14 v04.2 Appendix 2 Table 1 [T14 p.28] (discount for "
                             "uncertainty)", "AFOLU")


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
