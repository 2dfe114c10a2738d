"""``summary.json`` of a transport run: a declared, frozen type with a published JSON Schema.

:class:`TransportSummary` is what :func:`hesuan.transport.calculate` returns in
``result.summary``, what ``summary.json`` holds (:func:`hesuan.transport.write_summary`) and
what the CLI and the HTML report read. Its JSON Schema is ``docs/schemas/
transport-summary.schema.json`` (written by ``python -m hesuan.transport.schema``; a test
checks the file is current). Every number is finite or ``null``: no ``NaN`` ever leaves.

:func:`build_summary` adds up the per-batch partial sums (:func:`chain.summary_partials`)
with the equations of :mod:`hesuan.transport.intensity`.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, field_validator

from hesuan.io.provenance import Provenance
from hesuan.transport.chain import RunContext
from hesuan.transport.intensity import (
    chain_intensity_g_per_tkm,
    hub_intensity_kg_per_t,
    intensity_g_per_tkm,
)


class _Frozen(BaseModel):
    """Immutable; unknown keys refused; non-finite numbers read as ``None``."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    @field_validator("*", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value


class _Sums(_Frozen):
    tkm: float
    """[t·km]"""
    ttw_kg_co2e: float | None
    wtt_kg_co2e: float | None
    wtw_kg_co2e: float | None
    co2_combustion_kg: float | None
    refrigerant_kg_co2e: float | None
    n_legs: int
    n_legs_without_split: int
    wtw_without_split_kg_co2e: float | None
    intensity_wtw_g_per_tkm: float | None
    """[g CO2e / t·km]; null where the group has no t·km"""
    intensity_ttw_g_per_tkm: float | None
    """[g CO2e / t·km]; null unless every leg of the group has a TTW/WTT split"""


class ModeRow(_Sums):
    """Totals of one mode."""

    mode: str


class TocRow(_Sums):
    """Totals of one transport operation category."""

    toc: str
    mode: str


class MethodRow(_Sums):
    """Totals of one calculation method (fuel, user/TOC/default intensity)."""

    method: str


class DataTypeRow(_Sums):
    """Totals by data type (primary, modelled, default)."""

    data_type: str


class HocRow(_Frozen):
    """Totals of one hub operation category."""

    hoc: str
    hub_t: float
    """[t] tonnes leaving the hubs of the HOC"""
    ttw_kg_co2e: float | None
    wtt_kg_co2e: float | None
    wtw_kg_co2e: float | None
    n_rows: int
    intensity_wtw_kg_per_t: float | None
    """[kg CO2e / t]"""


class DistanceRow(_Frozen):
    """How many legs got their distance by which rule."""

    mode: str | None
    distance_basis: str | None
    distance_rule: str | None
    n_legs: int


class TocIntensity(_Frozen):
    """A TOC's own fuel-based intensity (g_TOC = G_TOC / T_TOC of its fuel-based legs)."""

    toc: str
    toc_fuel_tkm: float
    toc_g_ttw: float | None
    toc_g_wtt: float | None


class FuelRow(_Frozen):
    """A fuel behind fuel-based legs (the fuel table of CLECAT guide Table 14)."""

    fuel: str
    region: str
    operation_g_co2e_per_mj: float | None
    total_g_co2e_per_mj: float | None
    source_ttw: str | None
    source_wtt: str | None


class FactorDataset(_Frozen):
    """A factor dataset used, with its licence."""

    dataset: str
    title: str
    licence: str
    licence_url: str
    attribution: str
    citation: str
    shipped: bool
    gwp_set: str


class Warning_(_Frozen):
    """A plausibility warning: legs whose numbers are possible but unusual."""

    code: str
    message: str
    n_legs: int
    lines: tuple[int, ...]
    """input lines (header = 1) of the first legs concerned"""


class TransportSummary(_Frozen):
    """summary.json of ``hesuan transport calculate`` (ISO 14083:2023)."""

    standard: str
    """the standard the method follows: ISO 14083:2023"""
    framework: str
    wtw_t_co2e: float | None
    """[t CO2e] legs + hubs, well-to-wheel"""
    ttw_t_co2e: float | None
    """[t CO2e] operation (tank-to-wheel) emissions, legs + hubs"""
    wtt_t_co2e: float | None
    """[t CO2e] energy provision (well-to-tank) emissions, legs + hubs"""
    legs_wtw_t_co2e: float | None
    """[t CO2e] legs only"""
    hubs_wtw_t_co2e: float | None
    """[t CO2e] hub operations only"""
    refrigerant_t_co2e: float | None
    """[t CO2e] refrigerant leakage (part of TTW)"""
    co2_combustion_t: float | None
    """[t CO2] fossil-fuel combustion CO2 (GB/T 46531-2025) where the fuel is known"""
    co2_combustion_note: str
    tkm: float
    """[t·km] transport activity of the legs"""
    hub_t: float
    """[t] tonnes leaving hubs (not part of tkm)"""
    intensity_g_co2e_per_tkm: float | None
    """[g CO2e / t·km] chain intensity: (legs + hubs) / leg t·km (ISO 14083 clause 11)"""
    intensity_ttw_g_co2e_per_tkm: float | None
    """[g CO2e / t·km] operation part; null if a leg has no TTW/WTT split"""
    n_legs_without_ttw_wtt_split: int
    wtw_without_ttw_wtt_split_t_co2e: float | None
    ttw_wtt_note: str
    intensity_rule: str
    primary_data_share: float | None
    """[-] share of WTW emissions computed from primary data"""
    n_legs: int
    n_shipments: int
    n_hub_rows: int
    n_rejected: int
    per_mode: tuple[ModeRow, ...]
    per_toc: tuple[TocRow, ...]
    per_hoc: tuple[HocRow, ...]
    per_method: tuple[MethodRow, ...]
    per_data_type: tuple[DataTypeRow, ...]
    distances: tuple[DistanceRow, ...]
    toc_own_intensities: tuple[TocIntensity, ...]
    fuel_table: tuple[FuelRow, ...]
    gwp_set: str
    gwp_note: str
    factor_gwp_sets: tuple[str, ...]
    factor_datasets: tuple[FactorDataset, ...]
    scenario_rules: tuple[str, ...]
    circuity: float
    allocation: str
    engine: str = "local"
    rejects_file: str | None = None
    warnings: tuple[Warning_, ...] = ()
    inputs_read: tuple[str, ...] = ()
    """how each CSV/Excel input was read (format, encoding, delimiter)"""
    run_seconds: float | None = None
    """[s] wall time of the calculation"""
    provenance: Provenance | None = None
    """hesuan version, inputs with SHA-256, parameters, factor datasets, start time (UTC)"""


class ScenarioRow(_Frozen):
    """One line of a scenario comparison [t CO2e WTW]."""

    name: str
    baseline: float | None
    scenario: float | None
    difference: float | None
    change: float | None
    """[-] difference / baseline; null where the baseline is 0"""


class ScenarioDifference(_Frozen):
    """Scenario − baseline, in total and per mode."""

    rows: tuple[ScenarioRow, ...]
    wtw_t_co2e_difference: float | None
    intensity_baseline: float | None
    intensity_scenario: float | None


class ScenarioSummary(_Frozen):
    """``hesuan transport scenario --summary``: both runs and their difference."""

    baseline: TransportSummary
    scenario: TransportSummary
    difference: ScenarioDifference


def compare(base: TransportSummary, alt: TransportSummary) -> ScenarioDifference:
    """Difference scenario − baseline, in total and per mode [t CO2e WTW]."""
    def row(name: str, b: float, a: float) -> ScenarioRow:
        return ScenarioRow(name=name, baseline=b, scenario=a, difference=a - b,
                           change=(a - b) / b if b else None)

    get = {n: {r.mode: (r.wtw_kg_co2e or 0.0) / 1000 for r in s.per_mode}
           for n, s in (("b", base), ("a", alt))}
    modes = sorted(set(get["b"]) | set(get["a"]))
    rows = [row(m, get["b"].get(m, 0.0), get["a"].get(m, 0.0)) for m in modes]
    b_total, a_total = base.wtw_t_co2e or 0.0, alt.wtw_t_co2e or 0.0
    rows.append(row("total", b_total, a_total))
    return ScenarioDifference(rows=tuple(rows), wtw_t_co2e_difference=a_total - b_total,
                              intensity_baseline=base.intensity_g_co2e_per_tkm,
                              intensity_scenario=alt.intensity_g_co2e_per_tkm)


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts() if frame.height else []


def build_summary(combined: dict[str, pl.DataFrame], hubs: pl.DataFrame,
                  toc_table: pl.DataFrame, ctx: RunContext, n_legs: int, n_shipments: int,
                  n_rejected: int, *, engine: str = "local", rejects_file: str | None = None,
                  warnings: tuple[Warning_, ...] = (), inputs_read: tuple[str, ...] = (),
                  run_seconds: float | None = None,
                  provenance: Provenance | None = None) -> TransportSummary:
    """Totals, intensities, breakdowns by mode/TOC/HOC, data quality and sources."""
    def tot(name: str, col: str) -> float:
        frame = combined.get(name)
        return float(frame[col].sum()) if frame is not None and frame.height else 0.0

    leg = {c: tot("mode", c) for c in ("tkm", "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e",
                                       "co2_combustion_kg", "refrigerant_kg_co2e",
                                       "n_legs_without_split", "wtw_without_split_kg_co2e")}
    hub = {c: float(hubs[c].sum()) if hubs.height else 0.0
           for c in ("ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "co2_combustion_kg",
                     "mass_t", "refrigerant_kg_co2e")}
    total_wtw = leg["wtw_kg_co2e"] + hub["wtw_kg_co2e"]
    primary = 0.0
    dt = combined.get("data_type")
    if dt is not None and dt.height:
        primary = float(dt.filter(pl.col("data_type") == "primary")["wtw_kg_co2e"].sum())
    if hubs.height:
        primary += float(hubs.filter(pl.col("data_type") == "primary")["wtw_kg_co2e"].sum())

    def per(frame: pl.DataFrame | None, key: list[str]) -> list[dict[str, Any]]:
        if frame is None or not frame.height:
            return []
        # TTW intensity only where every leg of the group has a TTW/WTT split.
        return _records(frame.with_columns(
            intensity_g_per_tkm(pl.col("wtw_kg_co2e"), pl.col("tkm"))
            .alias("intensity_wtw_g_per_tkm"),
            pl.when(pl.col("n_legs_without_split") == 0)
            .then(intensity_g_per_tkm(pl.col("ttw_kg_co2e"), pl.col("tkm")))
            .otherwise(None).alias("intensity_ttw_g_per_tkm"),
        ).sort(key))

    hoc: list[dict[str, Any]] = []
    if hubs.height:
        hoc = _records(hubs.group_by("hoc").agg(
            pl.col("mass_t").sum().alias("hub_t"), pl.col("ttw_kg_co2e").sum(),
            pl.col("wtt_kg_co2e").sum(), pl.col("wtw_kg_co2e").sum(), pl.len().alias("n_rows"),
        ).with_columns(hub_intensity_kg_per_t(pl.col("wtw_kg_co2e"), pl.col("hub_t")).alias(
            "intensity_wtw_kg_per_t")).sort("hoc"))
    co2_known = leg["co2_combustion_kg"] + hub["co2_combustion_kg"]
    ttw_total = leg["ttw_kg_co2e"] + hub["ttw_kg_co2e"]
    return TransportSummary.model_validate({
        "standard": "ISO 14083:2023",
        "framework": "GLEC Framework v3 (method); factors from the datasets listed",
        "wtw_t_co2e": total_wtw / 1000,
        "ttw_t_co2e": ttw_total / 1000,
        "wtt_t_co2e": (leg["wtt_kg_co2e"] + hub["wtt_kg_co2e"]) / 1000,
        "legs_wtw_t_co2e": leg["wtw_kg_co2e"] / 1000,
        "hubs_wtw_t_co2e": hub["wtw_kg_co2e"] / 1000,
        "refrigerant_t_co2e": (leg["refrigerant_kg_co2e"] + hub["refrigerant_kg_co2e"]) / 1000,
        "co2_combustion_t": co2_known / 1000,
        "co2_combustion_note": "CO2 from fossil-fuel combustion only (GB/T 46531-2025), summed "
                               "over legs and hubs whose fuel is known",
        "tkm": leg["tkm"],
        "hub_t": hub["mass_t"],
        "intensity_g_co2e_per_tkm": chain_intensity_g_per_tkm(total_wtw, leg["tkm"])
        if leg["tkm"] else None,
        "intensity_ttw_g_co2e_per_tkm": chain_intensity_g_per_tkm(ttw_total, leg["tkm"])
        if leg["tkm"] and not leg["n_legs_without_split"] else None,
        "n_legs_without_ttw_wtt_split": int(leg["n_legs_without_split"]),
        "wtw_without_ttw_wtt_split_t_co2e": leg["wtw_without_split_kg_co2e"] / 1000,
        "ttw_wtt_note": "ttw_t_co2e and wtt_t_co2e exclude legs whose user intensity gave only "
                        "WTW (counted in n_legs_without_ttw_wtt_split); wtw_t_co2e includes them",
        "intensity_rule": "chain intensity = (leg + hub emissions) / transport t·km; hub tonnes "
                          "are not in the denominator (ISO 14083:2023 clause 11)",
        "primary_data_share": primary / total_wtw if total_wtw else None,
        "n_legs": n_legs,
        "n_shipments": n_shipments,
        "n_hub_rows": hubs.height,
        "n_rejected": n_rejected,
        "per_mode": per(combined.get("mode"), ["mode"]),
        "per_toc": per(combined.get("toc"), ["toc"]),
        "per_hoc": hoc,
        "per_method": per(combined.get("method"), ["method"]),
        "per_data_type": per(combined.get("data_type"), ["data_type"]),
        "distances": _records(combined["distance"]) if "distance" in combined else [],
        "toc_own_intensities": _records(toc_table.select(
            "toc", "toc_fuel_tkm", "toc_g_ttw", "toc_g_wtt").sort("toc"))
        if toc_table.height else [],
        "fuel_table": _fuel_table(combined.get("fuel"), hubs, ctx),
        "gwp_set": ctx.gwp_set,
        "gwp_note": "refrigerant GWPs and CO2e factors published with a per-gas split (DESNZ "
                    "TTW) use gwp_set; CO2e factors without one (e.g. WTT) keep their "
                    "publisher's set (factor_gwp_sets lists every set in the results)",
        "factor_gwp_sets": sorted(ctx.factors.factor_gwp_sets),
        "factor_datasets": ctx.factors.provenance(),
        "scenario_rules": [r.text for r in ctx.rules],
        "circuity": ctx.circuity,
        "allocation": "legs sharing a trip: by t·km (mass × the leg's own distance); hub "
                      "energy: by tonnes leaving the hub",
        "engine": engine,
        "rejects_file": rejects_file,
        "warnings": warnings,
        "inputs_read": inputs_read,
        "run_seconds": run_seconds,
        "provenance": provenance,
    })


def _fuel_table(fuel_legs: pl.DataFrame | None, hubs: pl.DataFrame,
                ctx: RunContext) -> list[dict[str, Any]]:
    """Return the fuels behind fuel-based legs.

    Operation and total g CO2e/MJ and their sources (the fuel table of an ISO 14083 report, CLECAT
    guide Table 14, pp. 53–54).
    """
    used: set[str] = set() if fuel_legs is None or not fuel_legs.height else set(
        fuel_legs["fuel"].drop_nulls().to_list())
    if hubs.height and "factor_ttw" in hubs.columns and \
            hubs["factor_wtt"].str.contains("electricity").any():
        used |= {"electricity"}
    rows = ctx.factors.fuels.filter(pl.col("fuel").is_in(sorted(used))
                                    & (pl.col("fuel_unit") == "MJ"))
    return [{"fuel": r["fuel"], "region": r["region"] or "any",
             "operation_g_co2e_per_mj": r["f_ttw_kg_per_unit"] * 1000,
             "total_g_co2e_per_mj": (r["f_ttw_kg_per_unit"] + r["f_wtt_kg_per_unit"]) * 1000,
             "source_ttw": r["f_factor_ttw"], "source_wtt": r["f_factor_wtt"]}
            for r in rows.iter_rows(named=True)]
