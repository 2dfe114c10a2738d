"""The declared results of the land commands: what ``summary.json`` holds, as frozen types.

:class:`CarbonSummary` is the ``summary.json`` of ``hesuan land carbon``; the IPCC commands'
summaries are :class:`IpccTableSummary` and :class:`TransitionsSummary`; that of ``hesuan
land seea supply-use`` is :class:`SupplyUseSummary`.
Each carries a :class:`hesuan.io.provenance.Provenance` (hesuan version, every input file's
name, SHA-256 and size, the parameters, the datasets used and their licences, the run
time). Their JSON Schemas are published in ``docs/schemas/`` (``scripts/land_schemas.py``
writes them; a test checks they are current).
Reports and the CLI read these types, never string keys of a dict.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hesuan.io.provenance import DatasetUse, Provenance

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class _Model(BaseModel):
    model_config = _FROZEN

    def to_json(self) -> str:
        """Strict JSON (no NaN/Infinity; ``None`` fields left out)."""
        data = self.model_dump(mode="json", exclude_none=True)
        return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False)


def now_utc() -> str:
    """Return the current time, ISO 8601 in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def datasets_used(keys: list[str]) -> list[DatasetUse]:
    """:class:`DatasetUse` records (with their licences) of ``id@version`` keys."""
    from hesuan.standards import list_datasets

    licences = {f"{d.id}@{d.version}": d.licence for d in list_datasets()}
    out = []
    for key in sorted(set(keys)):
        ident, _, version = key.partition("@")
        out.append(DatasetUse(ident, version, licences.get(key, "")))
    return out


def finite(value: float, name: str) -> float:
    """``value`` if finite; else a ValueError naming ``name`` (never a NaN in a summary)."""
    if not math.isfinite(value):
        raise ValueError(f"{name} is {value}")
    return value


# --- land carbon ---------------------------------------------------------------------


class Interval(_Model):
    """A 95 % interval: standard deviation and bounds, in the quantity's unit."""

    sd: float
    ci95_low: float
    ci95_high: float


class MonteCarloInterval(Interval):
    """IPCC Approach 2: mean, standard deviation and 2.5/97.5 percentiles of the draws."""

    mean: float


class Uncertainty(_Model):
    """Global intervals by quantity (IPCC 2006 Vol. 1 Ch. 3, Approaches 1 and 2)."""

    approach1: dict[str, Interval]
    approach2: dict[str, MonteCarloInterval]
    assumptions: str
    mc_samples: int = Field(description="[draws] Monte Carlo sample size (0: none).")
    seed: int


class ValuationSummary(_Model):
    """Inputs and constant of the valuation (InVEST's definitions)."""

    price_per_t_c: float = Field(description="[currency/t C]")
    discount_rate_pct: float = Field(description="[%/yr]")
    price_change_pct: float = Field(description="[%/yr]")
    years: list[int] = Field(description="[year] baseline and alternate.")
    constant_per_t_c: float = Field(description="[currency/t C] NPV per tonne sequestered.")


class PoolTotals(_Model):
    """[t C] storage of each pool."""

    c_above: float
    c_below: float
    c_soil: float
    c_dead: float


class OutputFile(_Model):
    """One published output file."""

    path: str
    kind: Literal["raster", "class_map", "table", "summary", "report", "figure"]
    format: str = Field(description="cog, vrt, csv, json, html or png.")
    units: str | None = None


class CarbonSummary(_Model):
    """``summary.json`` of ``hesuan land carbon``. Totals in t C / t CO2e; NPV in currency."""

    schema_id: Literal["hesuan.land.carbon/1"] = "hesuan.land.carbon/1"
    storage_base_t_c: float
    storage_base_t_co2e: float
    storage_alt_t_c: float | None = None
    storage_alt_t_co2e: float | None = None
    sequestration_t_c: float | None = Field(
        None, description="[t C] alternate − baseline over pixels valid in both maps.")
    sequestration_t_co2e: float | None = None
    gains_t_c: float | None = None
    losses_t_c: float | None = None
    npv: float | None = Field(None, description="[currency] NPV of the sequestration.")
    uncertainty: Uncertainty | None = None
    variance_share_by_class: dict[str, dict[str, float]] | None = Field(
        None, description="Quantity → lucode → share of its Approach 1 variance.")
    units: dict[str, str]
    pixel_area_ha: float = Field(description="[ha] area of one pixel.")
    pixels_valid_base: int
    pixels_valid_alt: int | None = None
    pixels_valid_both: int | None = None
    storage_by_pool_t_c: dict[str, PoolTotals]
    valuation: ValuationSummary | None = None
    method: str
    engine: str
    factor_dataset: str
    pixel_rule: str | None = None
    regions_overlap_area: float | None = Field(
        None, description="[CRS unit²] area covered by more than one polygon.")
    raster_format: str | None = None
    crs: str = Field(description="CRS of the maps.")
    regions_id_field: str | None = None
    regions_reprojected_from: str | None = Field(
        None, description="CRS the regions were read in (reprojected to the maps').")
    outputs: dict[str, OutputFile] = Field(
        description="The model's output files (the folder's hesuan-manifest.json lists every "
                    "file published, with its SHA-256).")
    seconds: float = Field(description="[s] wall time of the run.")
    provenance: Provenance


# --- IPCC Tier 1 ----------------------------------------------------------------------


class IpccTableSummary(_Model):
    """The ``.json`` beside the CSV of ``hesuan land ipcc soc``, ``forest-gain-loss`` and the like.

    Also ``forest-stock-difference``; IPCC 2006 Vol. 4 Ch. 2 Eqs. 2.7-2.14, 2.8, 2.25.
    """

    schema_id: Literal["hesuan.land.ipcc.table/1"] = "hesuan.land.ipcc.table/1"
    command: Literal["soc", "forest-gain-loss", "forest-stock-difference"]
    edition: str = Field(description="IPCC edition of the default tables: 2006 or 2019.")
    input: str
    strata: int
    change_t_c_per_yr: float = Field(description="[t C/yr] carbon stock change (gain > 0).")
    co2_t_per_yr: float = Field(description="[t CO2/yr] emission (removals negative).")
    input_sha256: str
    factor_datasets: list[str]
    output: str
    seconds: float = Field(description="[s] wall time of the run.")
    provenance: Provenance


class StocksSource(_Model):
    """Where the class stocks of the transitions came from."""

    source: str
    file: str


class SoilPoolSummary(_Model):
    """The Tier 1 mineral-soil pool added to the transitions (Eq. 2.25)."""

    method: str
    edition: str | None
    climate_zone: str | None
    soil_type: str | None
    t_c_per_ha: dict[str, float] = Field(description="[t C/ha] soil stock by class.")
    sources: dict[str, str] = Field(description="Factor record (or user) by class.")


class TransitionsSummary(_Model):
    """``transitions.json`` of ``hesuan land ipcc transitions``."""

    schema_id: Literal["hesuan.land.ipcc.transitions/1"] = "hesuan.land.ipcc.transitions/1"
    command: Literal["transitions"] = "transitions"
    method: str
    stocks: StocksSource
    soil_pool: SoilPoolSummary | None = None
    years: list[int]
    pixel_area_ha: float = Field(description="[ha]")
    crs: str
    nodata_pixels: int
    inputs_sha256: dict[str, str] = Field(description="from/to map → SHA-256.")
    total_area_ha: float
    changed_area_ha: float
    carbon_change_t_c: float
    carbon_change_t_c_per_yr: float
    soc_change_t_c_per_yr: float
    co2_t_per_yr: float = Field(description="[t CO2/yr] emission (removals negative).")
    seconds: float = Field(description="[s] wall time of the run.")
    provenance: Provenance


#: Every published summary type, by schema file stem.
# --- SEEA supply and use -------------------------------------------------------------


class LeftOut(_Model):
    """A carbon class or IPCC stratum with a net loss, not booked as supply (SEEA EA Ch. 6)."""

    source: str = Field(description="The summary file it came from.")
    name: str
    amount: float = Field(description="In ``unit``: t C (class), t CO2/yr (stratum, > 0).")
    unit: str


class SupplyUseSummary(_Model):
    """``summary.json`` of ``hesuan land seea supply-use``.

    ``total_supply`` is, per terms (physical, monetary), the total supply of each service (in
    the service's unit, or ``currency`` at ``price_year`` prices); supply = use holds for each.
    The provenance lists every input file read, with its SHA-256.
    """

    schema_id: Literal["hesuan.land.seea.supply_use/1"] = "hesuan.land.seea.supply_use/1"
    total_supply: dict[str, dict[str, float]] = Field(
        description="Terms (physical | monetary) → service → total supply.")
    units: dict[str, str] = Field(description="Service → physical unit.")
    currency: str | None = None
    price_year: int | None = None
    left_out: list[LeftOut]
    provenance: Provenance


SCHEMAS: dict[str, type[_Model]] = {
    "land_carbon_summary": CarbonSummary,
    "land_ipcc_table_summary": IpccTableSummary,
    "land_ipcc_transitions_summary": TransitionsSummary,
    "land_seea_supply_use_summary": SupplyUseSummary,
}


def json_schema(model: type[_Model]) -> str:
    """Return the JSON Schema of ``model``, as published in ``docs/schemas/``."""
    return json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
