"""The steps shared by the afforestation methodologies (AR-ACM0003 with AR-TOOL14, CCER-14-001-V01).

Plots → trees → strata → stocks → removals → report.

Each step is a plain function over Polars frames or NumPy arrays that calls the cited
equations of :mod:`hesuan.quantification.equations`; :func:`run_afforestation` runs them in
order and records each one (function, clause, inputs and outputs) in the report. A
methodology module supplies its spec, its applicability conditions and its uncertainty rule.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from hesuan import __version__
from hesuan.errors import InputError, Problem
from hesuan.quantification import equations as eq
from hesuan.quantification.parameters import DefaultReference, ParameterSet
from hesuan.quantification.project import (
    GROWTH_SPEC,
    PLOTS_SPEC,
    TREES_SPEC,
    MonitoringEvent,
    Project,
    first_problem_rows,
    read_strata,
    read_table,
    sha256_file,
)
from hesuan.quantification.report import (
    ApplicabilityResult,
    DatasetUse,
    EventResult,
    ExAnteYear,
    InputFile,
    ParameterValue,
    QuantificationReport,
    Removals,
    StepRecord,
    StratumResult,
    Uncertainty,
    Vintage,
    sealed,
)
from hesuan.quantification.spec import MethodologySpec

Array = eq.Array

ROUNDING = ("whole t CO2e rounded down (floor) for the period; vintages by days per calendar "
            "year, largest remainder")
TOOL14 = "AR-TOOL14 v04.2"

#: Rule giving (credited change, deduction, discount fraction) from (change, u, target); it is
#: applied to the sampled tree stock change only (AR-TOOL14 v04.2 §6.1 para 18).
UncertaintyRule = Callable[[float, float, float], tuple[float, float, float]]


class ApplicabilityError(InputError):
    """The project does not meet an applicability condition of its methodology."""


@dataclass
class Recorder:
    """Collects the report's step records as the run goes."""

    steps: list[StepRecord]

    def add(self, name: str, fn: Callable[..., Any], clause: str, inputs: dict[str, Any],
            outputs: dict[str, Any], verified: bool = False) -> None:
        """Record one step: the function that ran, its clause, its inputs and outputs."""
        self.steps.append(StepRecord(name=name, function=f"{fn.__module__}.{fn.__qualname__}",
                                     clause=clause, verified=verified,
                                     inputs=_jsonable(inputs), outputs=_jsonable(outputs)))


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, np.floating | np.integer):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            v = str(v)
        if isinstance(v, list):
            v = [str(x) if isinstance(x, float) and not math.isfinite(x) else x for x in v]
        out[k] = v
    return out


# --- step: applicability --------------------------------------------------------------------

def check_applicability(spec: MethodologySpec, project: Project) -> list[ApplicabilityResult]:
    """Test each applicability condition of the methodology on the project's declared facts.

    The facts are ``[applicability]`` of the project file; the first condition not met is refused
    with its name.
    """
    results = []
    problems = []
    for c in spec.conditions:
        value = project.applicability.get(c.fact)
        met = value is not None and c.test(value)
        results.append(ApplicabilityResult(condition=c.name, clause=c.clause, met=met,
                                           value=value))
        if not met:
            problems.append(Problem(
                f"{c.name}: {spec.key} {c.clause} requires {c.expected}; the project states "
                f"{c.fact} = {value!r}", str(project.path), None, f"applicability.{c.fact}",
                c.expected))
    if problems:
        raise ApplicabilityError(problems=tuple(problems),
                                 summary=f"not applicable: {problems[0]}")
    return results


def referenced_datasets(species: ParameterSet, species_ids: list[str]) -> list[DatasetUse]:
    """Return one entry per standards-library dataset the species table takes defaults from.

    Each with its ``id@version``, the SHA-256 of its ``factors.csv``, the records read and
    whether all of them are verified (factor records carry no such claim: ``False``).
    """
    by_key: dict[str, list[DefaultReference]] = {}
    for ref in species.references(species_ids):
        by_key.setdefault(ref.dataset_key, []).append(ref)
    return [DatasetUse(key=key, table="factors.csv", sha256=refs[0].table_sha256,
                       records=sorted({r.record_id for r in refs}),
                       verified=all(r.verified for r in refs))
            for key, refs in sorted(by_key.items())]


# --- step: trees → plot biomass -------------------------------------------------------------

def species_frame(species: ParameterSet) -> pl.DataFrame:
    """Return the species records as a frame to join trees with."""
    recs = list(species.species.values())
    return pl.DataFrame({
        "species": [r.id for r in recs], "sp_method": [r.method for r in recs],
        "sp_a": [r.a for r in recs], "sp_b": [r.b for r in recs], "sp_c": [r.c for r in recs],
        "sp_dbh_min": [r.dbh_min_cm for r in recs], "sp_dbh_max": [r.dbh_max_cm for r in recs],
        "sp_d": [r.wood_density_t_per_m3 for r in recs], "sp_bef": [r.bef for r in recs],
        "sp_r": [r.root_shoot if r.root_shoot is not None else math.nan for r in recs],
        "sp_cf": [r.carbon_fraction for r in recs],
    }, schema_overrides={"sp_r": pl.Float64})


def tree_biomass_by_plot(trees: pl.DataFrame, species: pl.DataFrame, file: str
                         ) -> pl.DataFrame:
    """Trees → per-plot sums.

    Above-ground biomass [t d.m.], carbon-weighted biomass with the species' own root-to-shoot
    ratios, and the part left for the default R function.

    Checks every tree: species given and in the species dataset with an allometric
    equation, DBH given and inside the equation's valid range.

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1 eqs. (2)–(4) [T14 p.24] via
    :func:`~hesuan.quantification.equations.agb_allometric_kg`.
    """
    j = trees.join(species, on="species", how="left")
    if "height_m" not in j.columns:
        j = j.with_columns(pl.lit(None, dtype=pl.Float64).alias("height_m"))
    no_species = pl.col("species").is_null() | (pl.col("species") == "")
    checks: list[tuple[pl.Expr, str, str, str]] = [
        (no_species, "species", "tree without species", "a species id of the species dataset"),
        (~no_species & pl.col("sp_a").is_null(), "species", "unknown species {species!r}",
         "a species id of the species dataset"),
        (pl.col("sp_method").eq("volume"), "species",
         "species {species!r} has no allometric equation (method volume)",
         "per-tree rows only for allometry species; give volume_m3 per plot instead"),
        (pl.col("dbh_cm").is_null(), "dbh_cm", "missing DBH",
         "a diameter at breast height [cm]"),
        ((pl.col("dbh_cm") < pl.col("sp_dbh_min")) | (pl.col("dbh_cm") > pl.col("sp_dbh_max")),
         "dbh_cm", "DBH {dbh_cm} cm is outside the valid range {sp_dbh_min}–{sp_dbh_max} "
         "cm of the allometric equation of {species}", "a DBH inside the equation's range"),
        ((pl.col("sp_c") != 0) & (pl.col("height_m").is_null() | (pl.col("height_m") <= 0)),
         "height_m", "the equation of {species} needs a height", "a height > 0 [m]"),
    ]
    # one pass over the trees decides whether any check fails; only then the per-check rows
    if j.select(pl.any_horizontal([m.fill_null(False) for m, *_ in checks]).any()).item():
        problems: list[Problem] = []
        for mask, fld, message, expected in checks:
            problems += first_problem_rows(j, mask, file, fld, message, expected)
        raise InputError(problems=tuple(problems), summary=f"{file}: bad trees")
    agb_t = eq.agb_allometric_kg(pl.col("dbh_cm"), pl.col("height_m").fill_null(1.0),
                                 pl.col("sp_a"), pl.col("sp_b"), pl.col("sp_c")) / 1000.0
    has_r = pl.col("sp_r").is_not_nan()
    return (j.lazy().with_columns(agb_t.alias("agb_t"))
            .group_by("plot")
            .agg(pl.col("agb_t").sum().alias("agb_t"),
                 (pl.col("sp_cf") * eq.total_biomass(pl.col("agb_t"), pl.col("sp_r")))
                 .filter(has_r).sum().alias("cb_fixed_t"),
                 (pl.col("sp_cf") * pl.col("agb_t")).filter(~has_r).sum().alias("cagb_default_t"),
                 pl.len().alias("trees"))
            .collect())


def volume_biomass_by_plot(plots: pl.DataFrame, species: pl.DataFrame, file: str
                           ) -> pl.DataFrame:
    """Return per-plot sums for plots measured by stand volume, with ``V · D · BEF``.

    Those are plots with ``volume_m3`` and ``species`` given; the sums are those of
    :func:`tree_biomass_by_plot`.

    References
    ----------
    AR-TOOL14 v04.2, Appendix 1 eq. (5) [T14 p.24] via
    :func:`~hesuan.quantification.equations.agb_from_volume_t`.
    """
    if "volume_m3" not in plots.columns:
        return pl.DataFrame(schema={"plot": pl.String, "agb_t": pl.Float64,
                                    "cb_fixed_t": pl.Float64, "cagb_default_t": pl.Float64,
                                    "trees": pl.UInt32})
    v = plots.filter(pl.col("volume_m3").is_not_null())
    j = v.join(species, on="species", how="left")
    problems = first_problem_rows(j, pl.col("sp_d").is_null() | (pl.col("sp_d") <= 0), file,
                                  "species", "species {species!r} has no wood density and BEF",
                                  "a species of method volume")
    problems += first_problem_rows(j, pl.col("volume_m3") < 0, file, "volume_m3",
                                   "negative volume {volume_m3}", "a volume >= 0 [m3]")
    if problems:
        raise InputError(problems=tuple(problems), summary=f"{file}: bad volume plots")
    agb: pl.Expr = eq.agb_from_volume_t(pl.col("volume_m3"), pl.col("sp_d"), pl.col("sp_bef"))
    has_r = pl.col("sp_r").is_not_nan()
    return j.select(
        "plot", agb.alias("agb_t"),
        pl.when(has_r).then(pl.col("sp_cf") * eq.total_biomass(agb, pl.col("sp_r")))
        .otherwise(0.0).alias("cb_fixed_t"),
        pl.when(has_r).then(0.0).otherwise(pl.col("sp_cf") * agb).alias("cagb_default_t"),
        pl.lit(0, dtype=pl.UInt32).alias("trees"))


def plot_stocks(plots: pl.DataFrame, by_plot: pl.DataFrame) -> pl.DataFrame:
    """Return the per-plot carbon stock per hectare [t CO2e / ha].

    With the default root-to-shoot function where the species has no own ratio.

    ``c_p = 44/12 · (Σ CF·AGB·(1+R_j) + Σ CF·AGB · (1 + R(b_p))) / A_p``, b_p = AGB_p / A_p.

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1 eq. (12) [T14 p.14] and Appendix 1 eq. (1) [T14 p.24] (per-plot
    biomass per hectare); the default R_j of Appendix 1 [T14 p.25], b the plot's
    above-ground biomass per hectare, by
    :func:`~hesuan.quantification.equations.root_shoot_default`.
    """
    keep = ["plot", "stratum", "area_ha_plot"] + (["shrub_cover"] if "shrub_cover" in plots.columns
                                                   else [])
    j = plots.select(keep).join(by_plot, on="plot", how="left") \
        .with_columns(pl.col("agb_t", "cb_fixed_t", "cagb_default_t").fill_null(0.0),
                      pl.col("trees").fill_null(0))
    area = j["area_ha_plot"].to_numpy()
    agb_per_ha = eq.plot_density(j["agb_t"].to_numpy(), area)
    r = eq.root_shoot_default(agb_per_ha)
    cb = j["cb_fixed_t"].to_numpy() + j["cagb_default_t"].to_numpy() * (1.0 + r)
    c_per_ha: Array = eq.carbon_stock_t_co2e(eq.plot_density(cb, area), 1.0)
    return j.with_columns(pl.Series("c_t_co2e_per_ha", c_per_ha),
                          pl.Series("agb_t_per_ha", agb_per_ha))


# --- step: strata → stock --------------------------------------------------------------------

@dataclass(frozen=True)
class StockEstimate:
    """The stratified carbon stock of one monitoring event [t CO2e] and its sampling uncertainty.

    Per-stratum results, tree and shrub stocks, the area-weighted mean per hectare and its variance,
    Student's t and the relative half-width ``u`` of the confidence interval.
    """

    date: dt.date
    strata: list[StratumResult]
    tree_stock: float
    shrub_stock: float
    mean: float
    var_mean: float
    t_val: float
    u: float

    @property
    def stock(self) -> float:
        """Return the total stock, trees + shrubs [t CO2e]."""
        return self.tree_stock + self.shrub_stock


def stratified_stock(date: dt.date, strata: pl.DataFrame, plots: pl.DataFrame,
                     confidence: float, file: str) -> tuple[StockEstimate, dict[str, Any]]:
    """Return per-stratum means and variances and the area-weighted total tree stock.

    Also the area-weighted mean, its variance and the relative half-width of its confidence
    interval.

    References
    ----------
    AR-TOOL14 v04.2, §8.1.1 eqs. (12)–(17) [T14 p.14–15] (stratified random sampling, t_VAL
    with n − M degrees of freedom).
    """
    names = strata["stratum"].to_list()
    index = {s: i for i, s in enumerate(names)}
    idx = np.array([index[s] for s in plots["stratum"].to_list()], dtype=np.int64)
    mean, var, n = eq.stratum_mean_variance(plots["c_t_co2e_per_ha"].to_numpy(), idx,
                                            len(names))
    empty = [names[i] for i in range(len(names)) if n[i] == 0]
    if empty:
        raise InputError.single(f"stratum {empty[0]!r} has no plots at the monitoring event "
                                f"of {date}", file=file, field="stratum",
                                expected="at least two plots in every stratum")
    area = strata["area_ha"].to_numpy()
    w = area / area.sum()
    b = eq.stratified_mean(w, mean)
    s2 = eq.stratified_variance_of_mean(w, var, n)
    dof = int(n.sum()) - len(names)
    t_val = eq.t_value(confidence, dof)
    u = eq.relative_uncertainty(t_val, s2, b)
    trees = plots.group_by("stratum").agg(pl.col("trees").sum())
    tcount = dict(zip(trees["stratum"].to_list(), trees["trees"].to_list(), strict=True))
    rows = [StratumResult(stratum=s, area_ha=float(area[i]), plots=int(n[i]),
                          trees=int(tcount.get(s, 0)), mean_t_co2e_per_ha=float(mean[i]),
                          variance_t_co2e_per_ha_sq=float(var[i]),
                          stock_t_co2e=float(area[i] * mean[i]))
            for i, s in enumerate(names)]
    est = StockEstimate(date, rows, float(area.sum()) * b, 0.0, b, s2, t_val, u)
    return est, {"plots": int(n.sum()), "strata": len(names), "degrees_of_freedom": dof,
                 "mean_t_co2e_per_ha": b, "variance_of_mean": s2, "t_value": t_val,
                 "relative_uncertainty": u, "tree_stock_t_co2e": est.tree_stock}


def shrub_stock(strata: pl.DataFrame, plots: pl.DataFrame, defaults: ParameterSet,
                forest_agb: float | None, file: str) -> float:
    """Shrub carbon stock [t CO2e] from the mean crown cover of each stratum's plots.

    References
    ----------
    AR-TOOL14 v04.2, §11 paras 60–61, eqs. (26)–(27) [T14 p.20–21] via
    :func:`~hesuan.quantification.equations.shrub_biomass_t`
    and :func:`~hesuan.quantification.equations.carbon_stock_t_co2e`.
    """
    if "shrub_cover" not in plots.columns:
        return 0.0
    bad = first_problem_rows(plots, (pl.col("shrub_cover") < 0) | (pl.col("shrub_cover") > 1),
                             file, "shrub_cover", "crown cover {shrub_cover} outside 0–1",
                             "a fraction 0–1")
    if bad:
        raise InputError(problems=tuple(bad), summary=f"{file}: bad shrub cover")
    cover = plots.group_by("stratum").agg(pl.col("shrub_cover").fill_null(0.0).mean())
    j = strata.join(cover, on="stratum", how="left").with_columns(
        pl.col("shrub_cover").fill_null(0.0))
    cc = j["shrub_cover"].to_numpy()
    if forest_agb is None:
        if (cc >= defaults.value("shrub_cover_min")).any():
            raise InputError.single("shrub cover is given but not the forest biomass b_FOREST",
                                    field="project.forest_agb_t_per_ha",
                                    expected="above-ground biomass of forest in the region "
                                    "[t d.m./ha] (AR-TOOL14 names IPCC GPG-LULUCF 2003 "
                                    "Table 3A.1.4)")
        return 0.0
    b = eq.shrub_biomass_t(j["area_ha"].to_numpy(), cc, forest_agb, defaults.value("bdr_sf"),
                           defaults.value("root_shoot_shrub"), defaults.value("shrub_cover_min"))
    c: Array = eq.carbon_stock_t_co2e(b, defaults.value("cf_shrub"))
    return float(np.sum(c))


# --- one monitoring event --------------------------------------------------------------------

def read_event(project: Project, event: MonitoringEvent, strata: pl.DataFrame,
               species: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Read and check one event's plot and tree tables → per-plot stocks."""
    pfile = str(event.plots_path)
    plots = read_table(event.plots_path, PLOTS_SPEC)
    known = set(strata["stratum"].to_list())
    problems = first_problem_rows(plots, ~pl.col("stratum").is_in(list(known)), pfile,
                                   "stratum", "unknown stratum {stratum!r}",
                                   "a stratum of the strata table")
    if problems:
        raise InputError(problems=tuple(problems), summary=f"{pfile}: bad plots")
    plots = plots.with_columns((pl.col("area_m2") / 10_000.0).alias("area_ha_plot"))
    parts = [volume_biomass_by_plot(plots, species, pfile)]
    n_rows = plots.height
    if event.trees_path is not None:
        tfile = str(event.trees_path)
        trees = read_table(event.trees_path, TREES_SPEC)
        orphans = first_problem_rows(trees, ~pl.col("plot").is_in(plots["plot"].implode()),
                                     tfile, "plot", "tree in unknown plot {plot!r}",
                                     f"a plot of {event.plots_path.name}")
        if orphans:
            raise InputError(problems=tuple(orphans), summary=f"{tfile}: bad trees")
        parts.append(tree_biomass_by_plot(trees, species, tfile))
        n_rows += trees.height
    by_plot = pl.concat(parts, how="vertical_relaxed").group_by("plot").agg(
        pl.col("agb_t", "cb_fixed_t", "cagb_default_t", "trees").sum())
    return plot_stocks(plots, by_plot), n_rows


def estimate_event(project: Project, event: MonitoringEvent, strata: pl.DataFrame,
                   species: pl.DataFrame, rec: Recorder) -> tuple[StockEstimate, int]:
    """Estimate the stock of one monitoring event, recording each step in ``rec``.

    Returns the estimate and the number of rows read.
    """
    confidence = project.defaults.value("confidence")
    plots, n_rows = read_event(project, event, strata, species)
    rec.add(f"plot_biomass[{event.date}]", plot_stocks,
            "AR-TOOL14 v04.2 Appendix 1 eqs. (1)–(5) and default R_j, §8.1.1 eq. (12) "
            "[T14 p.14, 24–25]",
            {"plots_file": project.rel(event.plots_path),
             "trees_file": project.rel(event.trees_path) if event.trees_path else None},
            {"plots": plots.height, "trees": int(plots["trees"].sum()),
             "agb_t": float(plots["agb_t"].sum()),
             "mean_plot_t_co2e_per_ha": float(plots["c_t_co2e_per_ha"].to_numpy().mean())},
            verified=True)
    est, out = stratified_stock(event.date, strata, plots, confidence, str(event.plots_path))
    rec.add(f"stratified_stock[{event.date}]", stratified_stock,
            "AR-TOOL14 v04.2 §8.1.1 eqs. (13)–(17) [T14 p.14–15]",
            {"confidence": confidence, "strata_area_ha": float(strata["area_ha"].sum())}, out,
            verified=True)
    shrubs = shrub_stock(strata, plots, project.defaults, project.forest_agb_t_per_ha,
                         str(event.plots_path))
    rec.add(f"shrub_stock[{event.date}]", shrub_stock,
            "AR-TOOL14 v04.2 §11 eqs. (26)–(27) [T14 p.20–21]",
            {"forest_agb_t_per_ha": project.forest_agb_t_per_ha},
            {"shrub_stock_t_co2e": shrubs}, verified=True)
    return StockEstimate(est.date, est.strata, est.tree_stock, shrubs, est.mean, est.var_mean,
                         est.t_val, est.u), n_rows


def _event_result(e: StockEstimate) -> EventResult:
    return EventResult(date=e.date.isoformat(), strata=e.strata, tree_stock_t_co2e=e.tree_stock,
                       shrub_stock_t_co2e=e.shrub_stock, stock_t_co2e=e.stock,
                       mean_t_co2e_per_ha=e.mean, variance_of_mean=e.var_mean,
                       t_value=e.t_val if math.isfinite(e.t_val) else -1.0,
                       relative_uncertainty=e.u if math.isfinite(e.u) else -1.0)


def days_by_year(start: dt.date, end: dt.date) -> dict[int, int]:
    """Days of the period (start exclusive, end inclusive) in each calendar year."""
    out: dict[int, int] = {}
    for year in range(start.year, end.year + 1):
        a = max(start, dt.date(year - 1, 12, 31))
        b = min(end, dt.date(year, 12, 31))
        if b > a:
            out[year] = (b - a).days
    return out


def ex_ante(project: Project, species: pl.DataFrame, strata: pl.DataFrame,
            rec: Recorder, baseline_t_co2e_per_yr: float) -> list[ExAnteYear]:
    """Ex-ante estimate from a growth table (stratum, year, species, volume_m3_per_ha).

    Stock per year by ``V · D · BEF · (1 + R)`` and its annual change net of baseline, leakage
    and project emissions.

    References
    ----------
    AR-TOOL14 v04.2, §8.2 paras 45–48 [T14 p.17] (growth modelling, ex ante: not subject to
    uncertainty control) with Appendix 1 eq. (5) [T14 p.24] applied to projected volumes;
    shrubs ex ante are zero (para 13 [T14 p.7] allows it).
    """
    if project.growth_path is None:
        return []
    file = str(project.growth_path)
    g = read_table(project.growth_path, GROWTH_SPEC)
    j = g.join(species, on="species", how="left").join(strata, on="stratum", how="left")
    bad = first_problem_rows(j, pl.col("sp_d").is_null() | pl.col("area_ha").is_null(), file,
                             "species", "unknown stratum or species without wood density "
                             "({stratum}, {species})", "a stratum and a volume species")
    if bad:
        raise InputError(problems=tuple(bad), summary=f"{file}: bad growth table")
    agb: Array = eq.agb_from_volume_t(j["volume_m3_per_ha"].to_numpy(), j["sp_d"].to_numpy(),
                                      j["sp_bef"].to_numpy())
    r = np.where(np.isnan(j["sp_r"].to_numpy()), eq.root_shoot_default(agb), j["sp_r"].to_numpy())
    c: Array = eq.carbon_stock_t_co2e(eq.total_biomass(agb, r), j["sp_cf"].to_numpy())
    j = j.with_columns(pl.Series("stock", c * j["area_ha"].to_numpy()))
    per_year = j.group_by("year").agg(pl.col("stock").sum()).sort("year")
    years = per_year["year"].to_list()
    stocks = per_year["stock"].to_list()
    other = (baseline_t_co2e_per_yr + project.leakage_t_co2e_per_yr
             + project.project_emissions_t_co2e_per_yr)
    out = []
    prev_y, prev_s = None, 0.0
    for y, s in zip(years, stocks, strict=True):
        span = 1.0 if prev_y is None else float(y - prev_y)
        out.append(ExAnteYear(year=int(y), stock_t_co2e=float(s),
                              net_removals_t_co2e=float(s - prev_s - other * span)))
        prev_y, prev_s = y, s
    rec.add("ex_ante", ex_ante,
            "AR-TOOL14 v04.2 §8.2 (ex ante) with Appendix 1 eq. (5) [T14 p.17, 24]",
            {"growth_file": project.rel(project.growth_path)},
            {"years": len(out), "final_stock_t_co2e": stocks[-1] if stocks else 0.0},
            verified=True)
    return out


# --- step: baseline removals ------------------------------------------------------------------

IPCC_BASELINE = "ipcc_forest_gain_loss"
STEADY_STATE_YEARS = 20
"""Years from the project start after which the default increment of the baseline trees is
zero (AR-TOOL14 v04.2 §6.3 eq. (10), Δb_FOREST: "the 20th year from the start of the CDM
project activity" unless justified [T14 p.11])."""


@dataclass(frozen=True)
class Baseline:
    """The baseline removals rate [t CO2e / yr], where it came from, and until when it runs.

    An end of ``None`` means the whole crediting period.
    """

    t_co2e_per_yr: float
    source: str
    until: dt.date | None
    files: list[InputFile]
    verified: bool

    def over(self, start: dt.date, end: dt.date) -> float:
        """Baseline removals of the period start–end [t CO2e] (days / 365.25)."""
        stop = end if self.until is None else min(end, self.until)
        return self.t_co2e_per_yr * max((stop - start).days, 0) / 365.25


def baseline_removals(spec: MethodologySpec, project: Project, area_ha: float,
                      rec: Recorder) -> Baseline:
    """Return the baseline net removals.

    The project's stated rate, or — where the methodology permits it — the IPCC Tier 1 gain of
    the pre-project trees computed by the land engine (``hesuan land ipcc forest-gain-loss`` on
    the project's baseline strata table).

    The Tier 1 form is AR-TOOL14 v04.2 §6.3 eq. (10) [T14 p.10–11]:
    ``ΔC_TREE_BSL,i = 44/12 · CF_TREE · Δb_FOREST · (1 + R_TREE) · CC_TREE_BSL,i · A_i``, the
    same as IPCC 2006 Vol. 4 Eqs. 2.9–2.10 (``ΔC_G = A · G_W · (1 + R) · CF``) with the
    baseline strata's area ``A_i · CC_TREE_BSL,i`` (area times crown cover); only the gain
    counts (eq. (10) has no loss term), and it is zero from the steady-state year (the 20th
    from the project start). The tool's own defaults differ in source: R_TREE 0.25 and
    Δb_FOREST from IPCC GPG-LULUCF 2003 Table 3A.1.5 "unless transparent and verifiable
    information" justifies others; the land engine takes both from the IPCC 2006 / 2019
    tables. The method is for the ex-ante baseline where the mean pre-project crown cover is
    below 20 % of the host Party's forest threshold (para 24): both are project facts, and a
    cover at or above that share is refused. A methodology that does not list the source
    refuses it by name.

    Raises
    ------
    InputError
        ``baseline_source_must_be_permitted_by_methodology``;
        ``baseline_crown_cover_must_be_given``;
        ``pre_project_crown_cover_must_be_under_20_pct_of_forest_threshold``; the baseline
        strata's area above the project area (``baseline_area_must_not_exceed_project_area``);
        the land engine's own errors (file, row, field).
    """
    if project.baseline_ipcc_path is None:
        rec.add("baseline", baseline_removals, f"{spec.id} baseline (project design)",
                {"source": "project"},
                {"baseline_t_co2e_per_yr": project.baseline_t_co2e_per_yr}, verified=True)
        return Baseline(project.baseline_t_co2e_per_yr, "project", None, [], True)
    from hesuan.land.ipcc.tables import forest_gain_loss

    file = str(project.path)
    permitted = {b.name: b for b in spec.baseline_sources}
    if IPCC_BASELINE not in permitted:
        raise InputError.single(
            f"baseline_source_must_be_permitted_by_methodology: {spec.key} does not permit "
            "an IPCC Tier 1 baseline (hesuan land ipcc forest-gain-loss): give the baseline "
            "removals of the project design as baseline.removals_t_co2e_per_yr",
            file=file, field=f"baseline.{IPCC_BASELINE}",
            expected=f"a baseline source {spec.key} permits: removals_t_co2e_per_yr")
    source = permitted[IPCC_BASELINE]
    cover, threshold = project.baseline_crown_cover, project.forest_crown_cover_threshold
    if cover is None or threshold is None:
        raise InputError.single(
            "baseline_crown_cover_must_be_given: the crown-cover baseline (AR-TOOL14 v04.2 "
            "§6.3 para 24) needs the mean pre-project tree crown cover and the host Party's "
            "forest crown-cover threshold", file=file,
            field=("baseline.pre_project_crown_cover" if cover is None
                   else "baseline.forest_crown_cover_threshold"),
            expected="fractions 0–1: baseline.pre_project_crown_cover and "
                     "baseline.forest_crown_cover_threshold")
    if not eq.crown_cover_method_applies(cover, threshold):
        raise InputError.single(
            f"pre_project_crown_cover_must_be_under_20_pct_of_forest_threshold: the mean "
            f"pre-project crown cover {cover:.1%} is not below 20 % of the forest threshold "
            f"{threshold:.0%} ({eq.CROWN_COVER_METHOD_SHARE * threshold:.1%}); AR-TOOL14 "
            "v04.2 §6.3 para 24 allows the crown-cover baseline only below it",
            file=file, field="baseline.pre_project_crown_cover",
            expected=f"below {eq.CROWN_COVER_METHOD_SHARE * threshold:.1%}, or the project "
                     "design's removals_t_co2e_per_yr")
    path = project.baseline_ipcc_path
    frame = forest_gain_loss(path, project.baseline_ipcc_edition)
    bsl_area = float(frame["area_ha"].sum())
    if bsl_area > area_ha * (1 + 1e-9):
        raise InputError.single(
            f"baseline_area_must_not_exceed_project_area: the baseline strata cover "
            f"{bsl_area:g} ha, the project {area_ha:g} ha", file=str(path), field="area_ha",
            expected=f"baseline strata within the project area ({area_ha:g} ha)")
    gain_t_c = float(frame["gain_t_c_per_yr"].sum())
    rate = eq.CO2_PER_C * gain_t_c
    records = sorted({str(v) for c in ("growth_source", "root_shoot_source",
                                       "carbon_fraction_source") for v in frame[c].to_list()})
    try:
        until = project.start.replace(year=project.start.year + STEADY_STATE_YEARS)
    except ValueError:  # 29 February
        until = dt.date(project.start.year + STEADY_STATE_YEARS, 2, 28)
    rec.add("baseline", forest_gain_loss, source.clause,
            {"source": "hesuan land ipcc forest-gain-loss",
             "strata_file": project.rel(path), "edition": project.baseline_ipcc_edition,
             "strata": frame.height, "area_ha": bsl_area,
             "pre_project_crown_cover": cover, "forest_crown_cover_threshold": threshold},
            {"gain_t_c_per_yr": gain_t_c, "baseline_t_co2e_per_yr": rate,
             "zero_from": until.isoformat(), "factor_records": records},
            verified=source.verified)
    return Baseline(rate, f"hesuan land ipcc forest-gain-loss (IPCC "
                    f"{project.baseline_ipcc_edition}): {', '.join(records)}", until,
                    [InputFile(role="baseline", path=project.rel(path),
                               sha256=sha256_file(path))], source.verified)


# --- the run ---------------------------------------------------------------------------------

def run_afforestation(spec: MethodologySpec, project: Project, rule: UncertaintyRule,
                      rule_name: str, rule_clause: str, catalogue_sector: str, *,
                      rule_verified: bool = False, net_clause: str | None = None,
                      net_verified: bool = False) -> list[QuantificationReport]:
    """Every monitoring period of the project, one sealed report each.

    Period k runs from event k − 1 (or the project start, with a zero tree stock: on land
    eligible for afforestation, pre-existing vegetation belongs to the baseline; AR-TOOL14
    v04.2 §6.1 [T14 p.8] sets C_TREE,t1 of the first verification to the pre-project stock,
    or 0 under the zero conditions of para 11) to event k.

    The uncertainty rule applies to the change of the tree stock, whose sampling uncertainty
    eq. (2) gives (para 18); the shrub change (eqs. (24), (26), from crown cover, no sampling
    uncertainty in the tool) is added to the credited tree change as it is.
    ``rule_verified`` and ``net_clause`` / ``net_verified`` say whether the methodology's
    uncertainty and net-removals clauses were read in its text.
    """
    base_steps: list[StepRecord] = []
    base = Recorder(base_steps)
    applicability = check_applicability(spec, project)
    base.add("applicability", check_applicability, f"{spec.key} applicability",
             {k: v for k, v in project.applicability.items()
              if isinstance(v, int | float | str | bool)},
             {"conditions": len(applicability), "met": all(a.met for a in applicability)},
             verified=all(c.verified for c in spec.conditions))
    strata = read_strata(project)
    base.add("stratification", read_strata,
             "AR-TOOL14 v04.2 §8.1.1 para 34 (stratified random sampling) [T14 p.13]",
             {"strata_file": project.rel(project.strata_path)},
             {"strata": strata.height, "area_ha": float(strata["area_ha"].sum()),
              "names": strata["stratum"].to_list()}, verified=True)
    species = species_frame(project.species)
    bsl = baseline_removals(spec, project, float(strata["area_ha"].sum()), base)
    ante = ex_ante(project, species, strata, base, bsl.t_co2e_per_yr)
    files = [InputFile(role="project", path=project.path.name,
                       sha256=sha256_file(project.path)),
             InputFile(role="strata", path=project.rel(project.strata_path),
                       sha256=sha256_file(project.strata_path))]
    if project.growth_path is not None:
        files.append(InputFile(role="growth", path=project.rel(project.growth_path),
                               sha256=sha256_file(project.growth_path)))
    files += bsl.files
    species_used = sorted(project.species.species)
    datasets = [
        DatasetUse(key=project.species.key, table=project.species.table,
                   sha256=project.species.sha256, records=species_used,
                   verified=all(project.species.species[s].verified for s in species_used)),
        DatasetUse(key=project.defaults.key, table=project.defaults.table,
                   sha256=project.defaults.sha256, records=sorted(project.defaults.parameters),
                   verified=all(p.verified for p in project.defaults.parameters.values())),
    ]
    datasets += referenced_datasets(project.species, species_used)
    parameters = [ParameterValue(name=p.id, value=p.value, unit=p.unit,
                                 source=f"{project.defaults.key}:{p.id}", verified=p.verified)
                  for p in project.defaults.parameters.values()]
    parameters += [ParameterValue(name=f"species.{sid}.{ref.column}", value=ref.value,
                                  unit=ref.unit, source=ref.reference, verified=ref.verified)
                   for sid in species_used for ref in project.species.species[sid].defaults]
    parameters += [
        ParameterValue(name="baseline_removals", value=bsl.t_co2e_per_yr,
                       unit="t CO2e / yr", source=bsl.source, verified=bsl.verified),
        ParameterValue(name="leakage", value=project.leakage_t_co2e_per_yr,
                       unit="t CO2e / yr", source="project", verified=True),
        ParameterValue(name="project_emissions", value=project.project_emissions_t_co2e_per_yr,
                       unit="t CO2e / yr", source="project", verified=True),
    ]
    reports = []
    prior_steps: dict[dt.date, list[StepRecord]] = {}
    prev: StockEstimate | None = None
    prev_date = project.start
    for event in project.events:
        rec = Recorder(list(base_steps))
        est, _rows = estimate_event(project, event, strata, species, rec)
        ev_files = [InputFile(role=f"plots[{event.date}]", path=project.rel(event.plots_path),
                              sha256=sha256_file(event.plots_path))]
        if event.trees_path is not None:
            ev_files.append(InputFile(role=f"trees[{event.date}]",
                                      path=project.rel(event.trees_path),
                                      sha256=sha256_file(event.trees_path)))
        prior_files = []
        if prev is not None:
            pe = project.events[project.events.index(event) - 1]
            prior_files = [InputFile(role=f"plots[{pe.date}]", path=project.rel(pe.plots_path),
                                     sha256=sha256_file(pe.plots_path))]
            if pe.trees_path is not None:
                prior_files.append(InputFile(role=f"trees[{pe.date}]",
                                             path=project.rel(pe.trees_path),
                                             sha256=sha256_file(pe.trees_path)))
            # the earlier event's steps, so that the report shows both stocks
            for s in reversed(prior_steps[pe.date]):
                rec.steps.insert(len(base_steps), s)
        years = (event.date - prev_date).days / 365.25
        c1 = prev.tree_stock if prev is not None else 0.0
        s1 = prev.shrub_stock if prev is not None else 0.0
        u1 = prev.u if prev is not None else 0.0
        tree_change = est.tree_stock - c1
        shrub_change = est.shrub_stock - s1
        change = tree_change + shrub_change
        u_change = eq.uncertainty_of_difference(c1, u1, est.tree_stock, est.u)
        rec.add("stock_change", eq.stock_change_per_year,
                "AR-TOOL14 v04.2 §6.1 eqs. (1)–(2), §7 eq. (11) (trees), §§9–10 eqs. (24)–(25) "
                "(shrubs) [T14 p.7–8, 12, 19]",
                {"tree_stock_t1_t_co2e": c1, "tree_stock_t2_t_co2e": est.tree_stock,
                 "shrub_stock_t1_t_co2e": s1, "shrub_stock_t2_t_co2e": est.shrub_stock,
                 "years": years, "u_t1": u1, "u_t2": est.u},
                {"tree_change_t_co2e": tree_change, "shrub_change_t_co2e": shrub_change,
                 "change_t_co2e": change,
                 "change_t_co2e_per_yr": eq.stock_change_per_year(c1 + s1, est.stock, years),
                 "relative_uncertainty_of_tree_change": u_change}, verified=True)
        target = project.defaults.value("precision_target")
        credited_trees, deduction, fraction = rule(tree_change, u_change, target)
        credited = credited_trees + shrub_change
        rec.add("uncertainty", rule, rule_clause,
                {"tree_change_t_co2e": tree_change, "relative_uncertainty": u_change,
                 "precision_target": target, "shrub_change_t_co2e": shrub_change},
                {"credited_tree_change_t_co2e": credited_trees,
                 "credited_change_t_co2e": credited, "deduction_t_co2e": deduction,
                 "discount_fraction": fraction}, verified=rule_verified)
        baseline = bsl.over(prev_date, event.date)
        leakage = project.leakage_t_co2e_per_yr * years
        emissions = project.project_emissions_t_co2e_per_yr * years
        net = net_removals(credited, baseline, leakage, emissions)
        creditable = max(net, 0.0)
        units = math.floor(creditable + 1e-9)
        rec.add("net_removals", net_removals, net_clause or f"{spec.id} net anthropogenic removals",
                {"actual_t_co2e": credited, "baseline_t_co2e": baseline,
                 "leakage_t_co2e": leakage, "project_emissions_t_co2e": emissions},
                {"net_t_co2e": net, "net_creditable_units": units}, verified=net_verified)
        vint = eq.split_vintages(units, days_by_year(prev_date, event.date))
        days = days_by_year(prev_date, event.date)
        rec.add("vintages", eq.split_vintages, "hesuan rounding rule: " + ROUNDING,
                {"units": units, "days_by_year": {str(k): v for k, v in days.items()}},
                {str(k): v for k, v in vint.items()}, verified=True)
        events = ([_event_result(prev)] if prev is not None else []) + [_event_result(est)]
        verified = all(s.verified for s in rec.steps) and all(d.verified for d in datasets)
        report = QuantificationReport(
            hesuan_version=__version__,
            project={"name": project.name, "start": project.start.isoformat(),
                     "area_ha": float(strata["area_ha"].sum())},
            methodology_id=spec.id, methodology_version=spec.version, methodology_key=spec.key,
            sector=catalogue_sector, tools=list(spec.tools),
            period_start=prev_date.isoformat(), period_end=event.date.isoformat(),
            period_years=years, project_file=project.path.name,
            inputs=files + prior_files + ev_files, datasets=datasets, parameters=parameters,
            applicability=applicability, steps=rec.steps, events=events,
            uncertainty=Uncertainty(confidence=project.defaults.value("confidence"),
                                    precision_target=target,
                                    relative_half_width=u_change if math.isfinite(u_change)
                                    else -1.0,
                                    rule=rule_name, clause=rule_clause,
                                    discount_fraction=fraction, deduction_t_co2e=deduction),
            removals=Removals(actual_t_co2e=change, baseline_t_co2e=baseline,
                              leakage_t_co2e=leakage, project_emissions_t_co2e=emissions,
                              uncertainty_deduction_t_co2e=deduction, net_t_co2e=net,
                              net_creditable_t_co2e=creditable, net_creditable_units=units,
                              rounding=ROUNDING),
            vintages=[Vintage(year=y, days=days[y], units=vint[y]) for y in sorted(days)],
            ex_ante=ante, verified=verified,
            generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        prior_steps[event.date] = [s for s in rec.steps[len(base_steps):]
                                    if s.name.endswith(f"[{event.date}]")]
        reports.append(sealed(report))
        prev, prev_date = est, event.date
    return reports


def net_removals(actual: float, baseline: float, leakage: float, emissions: float) -> float:
    """Net anthropogenic removals ``ΔC_ACTUAL − ΔC_BSL − LK − PE`` [t CO2e].

    References
    ----------
    AR-ACM0003 v02.0 §5.7 eq. (5) (net anthropogenic GHG removals = actual − baseline −
    leakage) with §5.5 eq. (2) (actual = ΔC_P − GHG_E, the project emissions);
    CCER-14-001-V01 (项目减排量 = 项目碳汇量 − 基线碳汇量 − 泄漏, leakage 0) [2ND].
    """
    return actual - baseline - leakage - emissions
