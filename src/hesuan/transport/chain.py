"""Orchestration of the ISO 14083 calculation over batches of legs, and over hubs.

The steps, each a function here calling the equations of the sibling modules:

1. :func:`prepare_legs` — type and validate a batch against :mod:`spec`, apply defaults,
   compute standard-basis distances and t·km, apply scenario rules, join the factor tables.
2. :func:`trip_partials` (pass 1, only rows with a ``trip_id`` or fuel) — per-trip sums of
   fuel emissions and t·km, and per-TOC sums of fuel-based emissions; partial sums of all
   batches are added by :func:`combine_partials`, so a trip may span batches.
3. :func:`leg_emissions` (pass 2) — per leg: allocated trip fuel (by t·km), or a given
   intensity, or the TOC's own intensity, or the default of its vehicle class; refrigerant.
4. :func:`summary_partials` / :func:`build_summary` — totals by mode, TOC, data type, added
   across batches.
5. :func:`hub_emissions` — hub operations (small: in memory).

Engines (single process in :mod:`hesuan.transport.driver`, Dask in
:mod:`hesuan.transport.dask_engine`) call the same functions, so they give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from hesuan.errors import InputError
from hesuan.transport import distance as dist
from hesuan.transport.allocation import (
    allocate_by_key,
    freight_share_by_passenger_equivalents,
    reefer_share_by_teu_equivalents,
)
from hesuan.transport.energy import combustion_co2_kg, fuel_emissions_kg
from hesuan.transport.factors import ResolvedFactors
from hesuan.transport.intensity import (
    activity_emissions_kg,
    hub_emissions_kg,
    hub_intensity_kg_per_t,
    intensity_g_per_tkm,
    intensity_to_standard_basis,
    tonne_km,
)
from hesuan.transport.refrigerant import (
    HUB_DEFAULT_REFRIGERANT,
    hub_default_leak_kg,
    leakage_emissions_kg,
    refrigerant_gwp,
    road_reefer_default_emissions_kg,
)
from hesuan.transport.scenario import Rule, apply_rules
from hesuan.transport.spec import (
    DEFAULT_REGION,
    HUB_COLUMNS,
    LEG_COLUMNS,
    PLAUSIBLE_MAX_DISTANCE_KM,
    PLAUSIBLE_MAX_MASS_T,
    PLAUSIBLE_WTW_G_PER_TKM,
    REEFER_TEU_EQUIVALENTS,
    TRIP_ALLOCATION_COLUMNS,
)
from hesuan.transport.validate import (
    ERROR_SCHEMA,
    check_columns,
    check_refrigerants,
    normalise,
    rule,
    rules,
)

LEG_OUTPUT = (
    "shipment_id", "leg_id", "trip_id", "toc", "mode", "vehicle", "fuel",
    "temperature_control", "mass_t", "distance_given_km", "distance_given_basis",
    "distance_km", "distance_basis", "distance_rule", "distance_data_type", "tkm",
    "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "refrigerant_kg_co2e", "co2_combustion_kg",
    "intensity_wtw_g_per_tkm", "method", "data_type", "factor_ttw", "factor_wtt",
    "load_factor", "empty_running", "scenario_rule",
)


@dataclass
class RunContext:
    """Everything a batch needs besides its rows: factors and options (picklable)."""

    factors: ResolvedFactors
    circuity: float = dist.DEFAULT_CIRCUITY
    rules: tuple[Rule, ...] = ()
    reefer_tkm_per_year: float | None = None
    file: str | None = None
    regional_fuels: tuple[str, ...] = field(default=())
    leg_vehicles: pl.DataFrame = field(init=False, repr=False)
    leg_fuels: pl.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.regional_fuels:
            self.regional_fuels = tuple(sorted(set(
                self.factors.fuels.filter(pl.col("region") != "")["fuel"].to_list())))
        # The factor tables as joined to legs: their text columns (bases, factor references)
        # as Categorical, so a join gathers 4-byte codes, not strings, and the per-leg choice
        # between references (:func:`leg_emissions`) picks codes.
        self.leg_vehicles = _categorical_labels(self.factors.vehicles, ("mode", "vehicle"))
        self.leg_fuels = _categorical_labels(
            self.factors.fuels.rename({"region": "_region_key"}),
            ("fuel", "_region_key", "fuel_unit"))

    @property
    def gwp_set(self) -> str:
        """Return the GWP set of the factors' CO2e values."""
        return self.factors.gwp_set


def _categorical_labels(table: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """``table`` with its text columns other than the join ``keys`` as Categorical."""
    return table.with_columns(pl.col(c).cast(pl.Categorical) for c, t in table.schema.items()
                              if t == pl.String and c not in keys)


def _label(text: str) -> pl.Expr:
    """Return a label literal as Categorical (labels chosen per leg stay 4-byte codes)."""
    return pl.lit(text, dtype=pl.Categorical)


# ----------------------------------------------------------------------------- step 1


def _default_vehicle_expr(ctx: RunContext) -> pl.Expr:
    """Return the default vehicle class of each leg's mode and temperature control (text).

    Chosen among Categorical literals (one pass over 4-byte codes per table entry instead of
    a column of strings each), then cast to text once.
    """
    expr: pl.Expr = pl.lit(None, dtype=pl.Categorical)
    for (mode, tc), vehicle in ctx.factors.default_vehicle.items():
        expr = pl.when((pl.col("mode") == mode) & (pl.col("temperature_control") == tc)) \
            .then(_label(vehicle)).otherwise(expr)
    return expr.cast(pl.String)


def compute_distances(frame: pl.DataFrame, circuity: float) -> pl.DataFrame:
    """Standard-basis distance per leg, with the rule and data type that produced it.

    Given distances: :func:`hesuan.transport.distance.to_standard_basis` and its
    :func:`~hesuan.transport.distance.distance_rule`. Coordinates only: air → WGS84
    geodesic; sea → searoute; road/rail/IWW →
    :func:`~hesuan.transport.distance.modelled_surface_km` of the geodesic (modelled).
    ``distance_rule`` and ``distance_data_type`` are Categorical.
    """
    mode = pl.col("mode")
    d = pl.col("distance_km")
    basis = pl.col("distance_basis")
    given = frame.with_columns(
        dist.to_standard_basis(d, basis, mode).alias("distance_km"),
        dist.distance_rule(d, basis, mode).alias("distance_rule"),
        _label("primary").alias("distance_data_type"),
        pl.when(mode == "air").then(pl.lit("gcd")).otherwise(pl.lit("sfd"))
        .alias("distance_basis"),
    )
    need_expr = d.is_null() & pl.all_horizontal(
        pl.col(c).is_not_null() for c in ("origin_lat", "origin_lon", "dest_lat", "dest_lon"))
    need = frame.select(need_expr.alias("n"))["n"].to_numpy()
    if not need.any():
        return given
    sub = frame.filter(need_expr)
    c = sub.select("origin_lat", "origin_lon", "dest_lat", "dest_lon").to_numpy()
    is_sea = sub.select((mode == "sea").fill_null(False)).to_series().to_numpy()
    ok = dist.valid_coordinates(c[:, 0], c[:, 1]) & dist.valid_coordinates(c[:, 2], c[:, 3])
    c = np.where(ok[:, None], c, 0.0)
    out = np.full(c.shape[0], np.nan)
    if is_sea.any():
        out[is_sea] = dist.sea_route_km(c[is_sea, 0], c[is_sea, 1], c[is_sea, 2],
                                        c[is_sea, 3])
    rest = ~is_sea
    if rest.any():
        out[rest] = dist.geodesic_km(c[rest, 0], c[rest, 1], c[rest, 2], c[rest, 3])
    out[~ok] = np.nan
    idx = np.flatnonzero(need)
    # only the measured rows change: scatter the numbers into the column (no full-column
    # copies); their labels come from the mode (as Polars expressions, no Python strings)
    measured = pl.Series(need)
    surface = measured & (mode != "sea") & (mode != "air")
    return given.with_columns(
        given["distance_km"].fill_null(np.nan).scatter(idx, pl.Series(out, dtype=pl.Float64)),
    ).with_columns(
        pl.when(surface).then(dist.modelled_surface_km(pl.col("distance_km"), circuity))
        .otherwise(pl.col("distance_km")).alias("distance_km"),
        pl.when(measured).then(
            pl.when(mode == "sea").then(_label("searoute"))
            .when(mode == "air").then(_label("geodesic"))
            .otherwise(_label(f"geodesic×{circuity:g}")))
        .otherwise(pl.col("distance_rule")).alias("distance_rule"),
        pl.when(measured).then(
            pl.when(mode == "air").then(_label("primary")).otherwise(_label("modelled")))
        .otherwise(pl.col("distance_data_type")).alias("distance_data_type"),
    )


def prepare_legs(batch: pl.DataFrame, ctx: RunContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type, validate, default, measure and join one batch of legs.

    ``batch`` must carry ``_row`` (0-based position in the whole input). Returns the prepared
    rows (all of them, invalid ones included) and the error rows (``_row``, ``column``,
    ``message``, ``expected``).
    """
    typed, errors0 = normalise(batch, LEG_COLUMNS)
    errors = [errors0, *check_columns(typed, LEG_COLUMNS)]
    std_basis = pl.when(pl.col("mode") == "air").then(pl.lit("gcd")).otherwise(pl.lit("sfd"))

    def or_default(name: str, default: pl.Expr) -> pl.Expr:
        # a column with no value (typically an optional column the input lacks) is the
        # default itself: a literal then stays one scalar instead of a column of copies
        if typed[name].null_count() == typed.height:
            return default
        return pl.coalesce(name, default)

    typed = typed.with_columns(
        pl.col("distance_km").alias("distance_given_km"),
        or_default("distance_basis", std_basis).alias("distance_given_basis"),
        or_default("distance_basis", std_basis).alias("distance_basis"),
        or_default("intensity_basis", std_basis).alias("intensity_basis"),
        or_default("temperature_control", pl.lit("ambient")).alias("temperature_control"),
        or_default("region", pl.lit(DEFAULT_REGION)).alias("region"),
        or_default("intensity_source", pl.lit("primary")).alias("intensity_source"),
        or_default("refrigerant", pl.lit(HUB_DEFAULT_REFRIGERANT)).alias("refrigerant"),
    )
    no_distance = pl.col("distance_km").is_null() & pl.any_horizontal(
        pl.col(c).is_null() for c in ("origin_lat", "origin_lon", "dest_lat", "dest_lon"))
    errors.extend(rules(typed, [
        (no_distance, "distance_km", "no distance and no coordinates",
         "distance_km, or origin_lat, origin_lon, dest_lat, dest_lon"),
        ((pl.col("mode") == "air") & (pl.col("distance_basis") == "actual")
         & (pl.col("distance_km") <= dist.AIR_DAF_KM), "distance_km",
         pl.lit("actual air distance <= 95 km gives no great-circle distance: ")
         + pl.col("distance_km").cast(pl.String),
         "an actual flight distance > 95 km (GCD = actual − 95 km)"),
        (pl.col("fuel_amount").is_not_null() & pl.col("fuel_unit").is_null(),
         "fuel_unit", "fuel_amount without a unit", "L | kg | kWh | MJ"),
        (pl.col("fuel_amount").is_not_null() & pl.col("fuel").is_null(),
         "fuel", "fuel_amount without a fuel", " | ".join(ctx.factors.fuel_keys())),
        (pl.col("intensity_ttw_g_per_tkm").is_not_null()
         & pl.col("intensity_wtw_g_per_tkm").is_null(), "intensity_wtw_g_per_tkm",
         "intensity_ttw_g_per_tkm given without intensity_wtw_g_per_tkm",
         "the total (WTW) intensity too"),
        (pl.col("freight_units").is_not_null()
         & pl.col("unit_passenger_equivalents").is_null(), "unit_passenger_equivalents",
         "freight_units without their passenger-equivalents",
         "passenger-equivalents of one unit (ISO 14083 Table G.5: car 1.3, bus 10, rigid "
         "truck 10, articulated truck 18)"),
        *((pl.col(c).is_not_null() & pl.col("trip_id").is_null(), c,
           f"{c} given on a leg without a trip_id",
           "a trip_id naming the vehicle trip whose load it describes")
          for c in TRIP_ALLOCATION_COLUMNS),
    ]))
    errors.extend(check_refrigerants(typed, ctx.gwp_set))
    typed = compute_distances(typed, ctx.circuity)
    errors.append(rule(typed, ~pl.col("distance_km").is_finite() & pl.col("distance_given_km")
                       .is_null() & ~no_distance, "origin_lat",
                       "no distance from these coordinates (impossible coordinates, or no sea "
                       "route between them)", "latitude in [-90, 90], longitude in "
                       "[-180, 180] (WGS84 degrees); for sea legs, ports on the sea network"))
    typed = typed.with_columns(tkm=tonne_km(pl.col("mass_t"), pl.col("distance_km")))
    typed = apply_rules(typed, ctx.rules)
    if "scenario_rule" not in typed.columns:
        typed = typed.with_columns(scenario_rule=pl.lit(None, dtype=pl.String))
    typed = typed.with_columns(
        pl.coalesce("vehicle", _default_vehicle_expr(ctx)).alias("vehicle"),
        pl.when(pl.col("fuel").is_in(list(ctx.regional_fuels))).then(pl.col("region"))
        .otherwise(pl.lit("")).alias("_region_key"),
    ).with_columns(
        pl.coalesce("toc", pl.concat_str(
            [pl.col("mode"), pl.coalesce("vehicle", pl.lit("unspecified")),
             pl.col("temperature_control")], separator="/")).alias("toc"),
    )
    typed = typed.join(ctx.leg_vehicles, on=["mode", "vehicle"], how="left")
    typed = typed.join(ctx.leg_fuels, on=["fuel", "_region_key", "fuel_unit"], how="left")
    keys = ctx.factors.vehicle_keys()
    known_vehicle = pl.col("v_basis").is_not_null()
    errors.extend(rules(typed, [
        (pl.col("vehicle").is_not_null() & ~known_vehicle & pl.col("mode").is_not_null(),
         "vehicle", pl.lit("unknown vehicle class ") + pl.col("vehicle")
         + pl.lit(" for mode ") + pl.col("mode"),
         "a key listed by `hesuan transport keys` for that mode, e.g. "
         + "; ".join(f"{m}: {', '.join(sorted(v)[:6])} …" for m, v in sorted(keys.items()))),
        (pl.col("fuel").is_not_null() & ~pl.col("fuel").is_in(ctx.factors.fuel_keys()), "fuel",
         pl.lit("unknown fuel ") + pl.col("fuel"), " | ".join(ctx.factors.fuel_keys())),
        (pl.col("fuel").is_in(ctx.factors.fuel_keys())
         & pl.col("fuel_unit").is_not_null() & pl.col("fuel_amount").is_not_null()
         & pl.col("f_ttw_kg_per_unit").is_null(), "fuel_unit",
         pl.lit("no factor for ") + pl.col("fuel") + pl.lit(" in ")
         + pl.col("fuel_unit") + pl.lit(" (region ") + pl.col("region") + pl.lit(")"),
         "a unit and region the fuel's factors support (electricity: kWh or MJ; "
         "regions " + ", ".join(sorted(set(ctx.factors.fuels["region"].to_list()) - {""}))
         + ")"),
        (pl.col("vehicle").is_null() & pl.col("fuel_amount").is_null()
         & pl.col("trip_id").is_null() & pl.col("intensity_wtw_g_per_tkm").is_null()
         & pl.col("mode").is_in(list(dist.MODES)), "vehicle",
         pl.lit("no data for the emissions of a ") + pl.col("mode")
         + pl.lit(" leg: no fuel, no intensity, and no shipped default class"),
         "fuel_amount + fuel_unit, or intensity_wtw_g_per_tkm, or a vehicle "
         "class of a dataset you load with --factors"),
    ]))
    err = pl.concat([e.cast(ERROR_SCHEMA) for e in errors])  # type: ignore[arg-type]
    return typed, err


# ----------------------------------------------------------------------------- step 2

TRIP_SCHEMA = {"trip_id": pl.String, "trip_tkm": pl.Float64, "trip_fuel_ttw": pl.Float64,
               "trip_fuel_wtt": pl.Float64, "trip_fuel_co2": pl.Float64,
               "trip_n_fuel": pl.Int64, "trip_n_co2": pl.Int64, "trip_refr": pl.Float64,
               "trip_toc": pl.Categorical, "trip_factor_ttw": pl.Categorical,
               "trip_factor_wtt": pl.Categorical, "trip_passengers": pl.Float64,
               "trip_freight_pe": pl.Float64, "trip_all_teu": pl.Float64,
               "trip_all_reefer_teu": pl.Float64, "trip_reefer_factor": pl.Float64,
               "trip_reefer_factor_min": pl.Float64, "trip_tkm_reefer": pl.Float64,
               "trip_first_row": pl.Int64, "trip_last_row": pl.Int64}
"""Per-trip sums; the labels as Categorical (a run may have millions of trips sharing a few
TOCs and factor references: 4-byte codes instead of a string per trip). The trip's load
(passengers, freight passenger-equivalents, TEU) is 0 where not given. ``trip_first_row``
and ``trip_last_row``: the input positions (``_row``) of the trip's first and last leg
(null for a trip of the trips table that no leg names), for :class:`TripIndex`."""
_TRIP_LOAD = ("trip_passengers", "trip_freight_pe", "trip_all_teu", "trip_all_reefer_teu")
TOC_SCHEMA = {"toc": pl.String, "toc_fuel_ttw": pl.Float64, "toc_fuel_wtt": pl.Float64,
              "toc_fuel_tkm": pl.Float64}


def _gwps(names: list[str], gwp_set: str) -> dict[str, float]:
    """GWPs of the refrigerants named in a batch (unknown names were rejected earlier)."""
    from hesuan.errors import FactorNotFoundError

    out = {}
    for name in names:
        try:
            out[name] = refrigerant_gwp(name, gwp_set)[0]
        except FactorNotFoundError:
            continue
    return out


def _own(frame: pl.DataFrame, ctx: RunContext) -> list[pl.Expr]:
    """Row-level fuel and refrigerant emissions (before any allocation)."""
    names = frame.filter(pl.col("refrigerant_kg").is_not_null())["refrigerant"].unique()
    gwp = _gwps(names.drop_nulls().to_list(), ctx.gwp_set)
    refr_gwp = pl.col("refrigerant").replace_strict(gwp, default=None, return_dtype=pl.Float64) \
        if gwp else pl.lit(None, dtype=pl.Float64)
    amount = pl.col("fuel_amount")
    return [
        fuel_emissions_kg(amount, pl.col("f_ttw_kg_per_unit")).alias("_fuel_ttw"),
        fuel_emissions_kg(amount, pl.col("f_wtt_kg_per_unit")).alias("_fuel_wtt"),
        combustion_co2_kg(amount, pl.col("f_co2_kg_per_unit")).alias("_fuel_co2"),
        leakage_emissions_kg(pl.col("refrigerant_kg"), refr_gwp).alias("_refr"),
    ]


def trip_partials(prepared: pl.DataFrame, ctx: RunContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pass 1 on one batch: partial per-trip sums and per-TOC fuel sums of no-trip legs."""
    rows = prepared.filter(pl.col("trip_id").is_not_null() | pl.col("fuel_amount").is_not_null())
    rows = rows.with_columns(_own(rows, ctx))
    in_trips = rows.filter(pl.col("trip_id").is_not_null())
    given = [c for c in TRIP_ALLOCATION_COLUMNS if in_trips[c].null_count() < in_trips.height]
    # the trip's load: summed only where this batch gives some (else literal zeros, so that
    # runs without passengers or TEU keep their pass 1 as it was)
    load = [
        pl.col("passengers").sum().alias("trip_passengers"),
        (pl.col("freight_units") * pl.col("unit_passenger_equivalents")).sum()
        .alias("trip_freight_pe"),
        pl.col("trip_teu").sum().alias("trip_all_teu"),
        pl.col("reefer_teu").sum().alias("trip_all_reefer_teu"),
        pl.col("reefer_teu_factor").max().alias("trip_reefer_factor"),
        pl.col("reefer_teu_factor").min().alias("trip_reefer_factor_min"),
    ] if given else []
    reefer = (pl.col("temperature_control") == "reefer").fill_null(False)
    reefer_tkm = [pl.when(reefer).then(pl.col("tkm")).otherwise(0.0).sum()
                  .alias("trip_tkm_reefer")] \
        if in_trips.select(reefer.any()).item() else []
    trips = in_trips.group_by("trip_id").agg(
        pl.col("tkm").sum().alias("trip_tkm"),
        pl.col("_fuel_ttw").sum().alias("trip_fuel_ttw"),
        pl.col("_fuel_wtt").sum().alias("trip_fuel_wtt"),
        pl.col("_fuel_co2").sum().alias("trip_fuel_co2"),
        pl.col("_fuel_ttw").is_not_null().sum().cast(pl.Int64).alias("trip_n_fuel"),
        pl.col("_fuel_co2").is_not_null().sum().cast(pl.Int64).alias("trip_n_co2"),
        pl.col("_refr").sum().alias("trip_refr"),
        pl.col("toc").first().alias("trip_toc"),
        pl.col("f_factor_ttw").drop_nulls().first().alias("trip_factor_ttw"),
        pl.col("f_factor_wtt").drop_nulls().first().alias("trip_factor_wtt"),
        pl.col("_row").min().alias("trip_first_row"), pl.col("_row").max().alias("trip_last_row"),
        *load, *reefer_tkm,
    )
    trips = trips.with_columns(
        [pl.lit(0.0).alias(c) for c in (*_TRIP_LOAD, "trip_tkm_reefer") if c not in trips.columns]
        + ([] if given else [pl.lit(None, dtype=pl.Float64).alias(c)
                             for c in ("trip_reefer_factor", "trip_reefer_factor_min")]))
    single = rows.filter(pl.col("trip_id").is_null() & pl.col("_fuel_ttw").is_not_null())
    tocs = single.group_by("toc").agg(
        pl.col("_fuel_ttw").sum().alias("toc_fuel_ttw"),
        pl.col("_fuel_wtt").sum().alias("toc_fuel_wtt"),
        pl.col("tkm").sum().alias("toc_fuel_tkm"),
    )
    return (trips.select(*TRIP_SCHEMA).cast(TRIP_SCHEMA),  # type: ignore[arg-type]
            tocs.cast(TOC_SCHEMA))  # type: ignore[arg-type]


def _check_trips_allocatable(trips: pl.DataFrame) -> None:
    """Check that every trip's fuel and refrigerant can be shared by t·km.

    A trip whose legs carry no t·km (all masses 0, or a trip of the trips table that no leg names)
    cannot be allocated, and its emissions would vanish. Stop with the trip ids instead.

    References
    ----------
    ISO 14083:2023, allocation of a transport operation's emissions by transport activity
    (t·km); CLECAT guide pp. 31-36: the allocated parts must sum back to the total.
    """
    has_emissions = (pl.col("trip_n_fuel") > 0) | (pl.col("trip_refr").fill_null(0.0) > 0)
    bad = trips.filter(has_emissions & ~(pl.col("trip_tkm").fill_null(0.0) > 0))
    if bad.height:
        ids = bad["trip_id"].cast(pl.String).sort().to_list()
        shown = ", ".join(ids[:20]) + (f" … ({len(ids)} in all)" if len(ids) > 20 else "")
        raise InputError.single(
            f"trip(s) {shown} carry fuel or refrigerant but no transport activity: no leg "
            "names them, or their legs' t·km sum to 0, so the emissions cannot be allocated "
            "by t·km", field="trip_id",
            expected="every trip with fuel to have at least one leg with mass_t > 0 and a "
                     "distance")


def _teu_split() -> pl.Expr:
    """Trips whose fuel is split between ambient and reefer containers (TEU given)."""
    return (pl.col("trip_all_teu") > 0) | (pl.col("trip_all_reefer_teu") > 0)


def _freight_share() -> pl.Expr:
    """Freight's share of each trip (1 on trips without passengers)."""
    return pl.when(pl.col("trip_passengers") > 0).then(freight_share_by_passenger_equivalents(
        pl.col("trip_freight_pe"), pl.col("trip_passengers"))).otherwise(1.0)


def _reefer_share() -> pl.Expr:
    """Return the reefer containers' share of each split trip's fuel."""
    return reefer_share_by_teu_equivalents(
        pl.col("trip_all_teu"), pl.col("trip_all_reefer_teu"),
        pl.col("trip_reefer_factor").fill_null(REEFER_TEU_EQUIVALENTS))


def _check_trip_loads(trips: pl.DataFrame) -> None:
    """Refuse trip loads that cannot share the trip's fuel.

    Refused: passengers with no freight passenger-equivalents, conflicting reefer factors,
    reefer TEU without (or above) the trip's TEU, and a TEU split whose ambient or reefer
    part has no legs of its kind to carry it (the trip ids are named).

    Parameters
    ----------
    trips : the run's per-trip sums (:data:`TRIP_SCHEMA`)

    References
    ----------
    ISO 14083:2023 Annex G, Table G.5; CLECAT/UBA guide (2024) Examples 2 and 4,
    pp. 32–35: the allocated parts must sum back to the trip's total.
    """
    reefer_tkm = pl.col("trip_tkm_reefer")
    ambient_tkm = pl.col("trip_tkm") - reefer_tkm
    has_refr = pl.col("trip_refr").fill_null(0.0) > 0
    share = _reefer_share()
    teu, reefer_teu = pl.col("trip_all_teu"), pl.col("trip_all_reefer_teu")
    counted = (teu > 0) & (reefer_teu <= teu)  # a split the first checks let through
    checks = (
        (pl.col("trip_reefer_factor") != pl.col("trip_reefer_factor_min"), "reefer_teu_factor",
         "give different reefer_teu_factor values", "one reefer_teu_factor per trip"),
        ((pl.col("trip_passengers") > 0) & ~(pl.col("trip_freight_pe") > 0), "freight_units",
         "carry passengers but no freight units, so freight's share of the trip is 0",
         "freight_units and unit_passenger_equivalents on the trip's freight legs"),
        ((reefer_teu > 0) & ~(teu > 0), "trip_teu",
         "give reefer_teu without trip_teu",
         "trip_teu: all containers of the trip (ambient and reefer), on any of its rows"),
        (reefer_teu > teu, "reefer_teu",
         "give more reefer TEU than trip_teu", "reefer_teu <= trip_teu"),
        (counted & (((share > 0) | has_refr) != (reefer_tkm > 0)), "temperature_control",
         "have reefer TEU (or refrigerant) without reefer legs, or reefer legs without "
         "reefer TEU", "reefer_teu > 0 exactly when the trip has legs with "
         "temperature_control = reefer"),
        (counted & ((share < 1) != (ambient_tkm > 0)), "temperature_control",
         "have ambient TEU without ambient legs, or ambient legs without ambient TEU",
         "trip_teu > reefer_teu exactly when the trip has ambient legs"),
    )
    for mask, field_name, what, expected in checks:
        bad = trips.filter(mask.fill_null(False))
        if bad.height:
            ids = bad["trip_id"].cast(pl.String).sort().to_list()
            shown = ", ".join(ids[:20]) + (f" … ({len(ids)} in all)" if len(ids) > 20 else "")
            raise InputError.single(f"trip(s) {shown} {what}", field=field_name,
                                    expected=expected)


def combine_partials(trips: list[pl.DataFrame], tocs: list[pl.DataFrame]
                     ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Add the partial sums of all batches; derive each TOC's own fuel-based intensity."""
    t = pl.concat(trips) if trips else pl.DataFrame(schema=TRIP_SCHEMA)
    t = t.group_by("trip_id").agg(
        pl.col("trip_tkm", "trip_fuel_ttw", "trip_fuel_wtt", "trip_fuel_co2", "trip_n_fuel",
               "trip_n_co2", "trip_refr").sum(),
        pl.col("trip_toc", "trip_factor_ttw", "trip_factor_wtt").drop_nulls().first(),
        pl.col(*_TRIP_LOAD, "trip_tkm_reefer").sum(),
        pl.col("trip_reefer_factor").max(), pl.col("trip_reefer_factor_min").min(),
        pl.col("trip_first_row").min(), pl.col("trip_last_row").max(),
    )
    _check_trips_allocatable(t)
    _check_trip_loads(t)
    # a trip's own intensity for the other legs of its TOC: of its freight share; a trip
    # split between ambient and reefer containers carries two TOCs and is not used
    freight = _freight_share()
    from_trips = t.filter((pl.col("trip_n_fuel") > 0) & ~_teu_split()).with_columns(
        pl.col("trip_fuel_ttw", "trip_fuel_wtt") * freight).select(
        pl.col("trip_toc").alias("toc"), pl.col("trip_fuel_ttw").alias("toc_fuel_ttw"),
        pl.col("trip_fuel_wtt").alias("toc_fuel_wtt"), pl.col("trip_tkm").alias("toc_fuel_tkm"))
    c = pl.concat([*(x.cast(TOC_SCHEMA) for x in tocs),  # type: ignore[arg-type]
                   from_trips.cast(TOC_SCHEMA)])  # type: ignore[arg-type]
    c = c.group_by("toc").agg(pl.all().sum()).filter(pl.col("toc_fuel_tkm") > 0).with_columns(
        intensity_g_per_tkm(pl.col("toc_fuel_ttw"), pl.col("toc_fuel_tkm")).alias("toc_g_ttw"),
        intensity_g_per_tkm(pl.col("toc_fuel_wtt"), pl.col("toc_fuel_tkm")).alias("toc_g_wtt"),
    )
    return t, c


@dataclass(frozen=True)
class TripIndex:
    """The run's per-trip sums (:func:`combine_partials`), found by their legs' input rows.

    Pass 2 needs, for each batch, the trips its legs name. Filtering the whole trip table
    by the batch's trip ids would hash every trip of the run once per batch (quadratic in
    the input's size); trips whose legs lie within ``span`` input rows of each other
    (typically all: a trip's legs are neighbours in the input) are instead kept sorted by
    their first leg's row, so a batch's candidates are one slice found by binary search;
    the others (``wide``) are candidates of every batch.
    """

    near: pl.DataFrame
    first_rows: np.ndarray
    wide: pl.DataFrame
    span: int

    @classmethod
    def of(cls, trips: pl.DataFrame, span: int) -> TripIndex:
        """Index ``trips`` (:data:`TRIP_SCHEMA`) for batches of about ``span`` rows.

        Trips no leg names (no ``trip_first_row``) are no batch's: left out.
        """
        named = trips.filter(pl.col("trip_first_row").is_not_null())
        is_near = (pl.col("trip_last_row") - pl.col("trip_first_row")) <= span
        near = named.filter(is_near).sort("trip_first_row")
        return cls(near=near, first_rows=near["trip_first_row"].to_numpy(),
                   wide=named.filter(~is_near), span=span)

    def covering(self, first_row: int, last_row: int) -> pl.DataFrame:
        """Return the trips that may have a leg in input rows ``first_row``–``last_row``.

        A superset: :func:`leg_emissions` keeps those its legs name.
        """
        lo = int(np.searchsorted(self.first_rows, first_row - self.span, side="left"))
        hi = int(np.searchsorted(self.first_rows, last_row, side="right"))
        near = self.near.slice(lo, hi - lo)
        return near if not self.wide.height else pl.concat([near, self.wide])

    def for_batch(self, prepared: pl.DataFrame) -> pl.DataFrame:
        """Return the candidate trips of a prepared batch (by its ``_row`` range)."""
        if not prepared.height:
            return self.near.head(0)
        rows = prepared["_row"]
        return self.covering(int(rows.min()), int(rows.max()))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- step 3


def _by_tkm(trip_total: str) -> pl.Expr:
    """Return a leg's part of its trip's total, by t·km.

    Parameters
    ----------
    trip_total : name of the trip column to share [kg]

    Returns
    -------
    part : [kg] the leg's part
    """
    return allocate_by_key(pl.col(trip_total), pl.col("tkm"), pl.col("trip_tkm"))


def _load_allocation() -> Callable[[str], pl.Expr]:
    """Return a leg's part of a trip total on trips with passengers or containers.

    The freight share (passenger-equivalents) of the total, then on a TEU-split trip the
    ambient or the reefer share (TEU-equivalents) as the leg's temperature control says —
    refrigerant wholly to the reefer legs — shared by t·km among the legs of that kind.

    Returns
    -------
    allocated : trip column name → the leg's part of it [kg], as :func:`_by_tkm`
    """
    split = _teu_split()
    is_reefer = pl.col("temperature_control") == "reefer"
    reefer = _reefer_share()
    freight = _freight_share()
    key_sum = pl.when(split).then(
        pl.when(is_reefer).then(pl.col("trip_tkm_reefer"))
        .otherwise(pl.col("trip_tkm") - pl.col("trip_tkm_reefer"))).otherwise(pl.col("trip_tkm"))

    def allocated(trip_total: str) -> pl.Expr:
        pool = (pl.when(is_reefer).then(1.0).otherwise(0.0) if trip_total == "trip_refr"
                else pl.when(is_reefer).then(reefer).otherwise(1.0 - reefer))
        share = pl.when(split).then(pool).otherwise(1.0) * freight
        return allocate_by_key(pl.col(trip_total) * share, pl.col("tkm"), key_sum)

    return allocated


def leg_emissions(prepared: pl.DataFrame, trips: pl.DataFrame, tocs: pl.DataFrame,
                  ctx: RunContext) -> pl.DataFrame:
    """Pass 2 on one batch: emissions of each leg, its method, data type and factors.

    ``method``, ``data_type``, ``factor_ttw`` and ``factor_wtt`` come out as Categorical
    (the API casts them back to text for in-memory results; Parquet stores them as
    dictionary-encoded text either way).
    """
    f = prepared.with_columns(_own(prepared, ctx))
    allocated: Callable[[str], pl.Expr] = _by_tkm
    if trips.height:
        # only the trips of this batch: no hash table over all the run's trips per batch
        ids = prepared["trip_id"].drop_nulls().unique().implode()
        mine = trips.filter(pl.col("trip_id").is_in(ids))
        if mine.select(pl.any_horizontal((pl.col(c) > 0).any() for c in _TRIP_LOAD)).item():
            allocated = _load_allocation()
        f = f.join(mine, on="trip_id", how="left")
    else:
        f = f.with_columns([pl.lit(None, dtype=d).alias(n) for n, d in TRIP_SCHEMA.items()
                            if n != "trip_id"])
    # "toc:<toc>", the reference of a TOC's own intensity, built once per TOC
    f = f.join(tocs.select("toc", "toc_g_ttw", "toc_g_wtt", (pl.lit("toc:") + pl.col("toc"))
                           .cast(pl.Categorical).alias("_toc_factor")), on="toc", how="left")
    in_trip = pl.col("trip_id").is_not_null()
    trip_fuel = in_trip & (pl.col("trip_n_fuel") > 0)
    own_fuel = ~in_trip & pl.col("_fuel_ttw").is_not_null()
    user = pl.col("intensity_wtw_g_per_tkm").is_not_null()
    toc_ok = pl.col("toc_g_ttw").is_not_null()
    def std(value: str, basis: str) -> pl.Expr:
        return intensity_to_standard_basis(pl.col(value), pl.col(basis), pl.col("mode"),
                                           pl.col("distance_km"))

    g_user_wtw = std("intensity_wtw_g_per_tkm", "intensity_basis")
    g_user_ttw = std("intensity_ttw_g_per_tkm", "intensity_basis")
    g_def_ttw = std("v_ttw_g_per_tkm", "v_basis")
    g_def_wtt = std("v_wtt_g_per_tkm", "v_basis")
    method = (pl.when(trip_fuel | own_fuel).then(_label("fuel"))
              .when(user).then(_label("user_intensity"))
              .when(toc_ok).then(_label("toc_intensity"))
              .otherwise(_label("default_intensity")))
    f = f.with_columns(method.alias("method"))
    m = pl.col("method")
    tkm = pl.col("tkm")
    ttw = (pl.when(trip_fuel).then(allocated("trip_fuel_ttw"))
           .when(own_fuel).then(pl.col("_fuel_ttw"))
           .when(m == "user_intensity").then(activity_emissions_kg(tkm, g_user_ttw))
           .when(m == "toc_intensity").then(activity_emissions_kg(tkm, pl.col("toc_g_ttw")))
           .otherwise(activity_emissions_kg(tkm, g_def_ttw)))
    wtt = (pl.when(trip_fuel).then(allocated("trip_fuel_wtt"))
           .when(own_fuel).then(pl.col("_fuel_wtt"))
           .when(m == "user_intensity").then(activity_emissions_kg(tkm, g_user_wtw - g_user_ttw))
           .when(m == "toc_intensity").then(activity_emissions_kg(tkm, pl.col("toc_g_wtt")))
           .otherwise(activity_emissions_kg(tkm, g_def_wtt)))
    wtw_user = activity_emissions_kg(tkm, g_user_wtw)
    co2 = (pl.when(trip_fuel & (pl.col("trip_n_co2") > 0)).then(allocated("trip_fuel_co2"))
           .when(own_fuel).then(pl.col("_fuel_co2")))
    refr = (pl.when(in_trip).then(allocated("trip_refr")).otherwise(pl.col("_refr")))
    if ctx.reefer_tkm_per_year:
        gwp = refrigerant_gwp(HUB_DEFAULT_REFRIGERANT, ctx.gwp_set)[0]
        refr = pl.when(refr.is_null() & (pl.col("temperature_control") == "reefer")
                       & (pl.col("mode") == "road")).then(
            road_reefer_default_emissions_kg(tkm, gwp, ctx.reefer_tkm_per_year)
        ).otherwise(refr)
    f = f.with_columns(ttw.alias("_ttw"), wtt.alias("_wtt"), wtw_user.alias("_wtw_user"),
                       co2.alias("co2_combustion_kg"),
                       refr.fill_null(0.0).alias("refrigerant_kg_co2e"))
    f = f.with_columns(
        (pl.col("_ttw") + pl.col("refrigerant_kg_co2e")).alias("ttw_kg_co2e"),
        pl.col("_wtt").alias("wtt_kg_co2e"),
    ).with_columns(
        pl.when((m == "user_intensity") & pl.col("_ttw").is_null())
        .then(pl.col("_wtw_user") + pl.col("refrigerant_kg_co2e"))
        .otherwise(pl.col("ttw_kg_co2e") + pl.col("wtt_kg_co2e")).alias("wtw_kg_co2e"),
    ).with_columns(
        intensity_g_per_tkm(pl.col("wtw_kg_co2e"), tkm).alias("intensity_wtw_g_per_tkm"),
        pl.when(m == "fuel").then(_label("primary"))
        .when(m == "toc_intensity").then(_label("primary"))
        .when(m == "default_intensity").then(_label("default"))
        .when(pl.col("distance_data_type") == "modelled").then(_label("modelled"))
        .otherwise(pl.col("intensity_source").cast(pl.Categorical)).alias("data_type"),
        pl.when(trip_fuel).then(pl.col("trip_factor_ttw"))
        .when(own_fuel).then(pl.col("f_factor_ttw"))
        .when(m == "user_intensity").then(_label("user intensity"))
        .when(m == "toc_intensity").then(pl.col("_toc_factor"))
        .otherwise(pl.col("v_factor_ttw")).alias("factor_ttw"),
        pl.when(trip_fuel).then(pl.col("trip_factor_wtt"))
        .when(own_fuel).then(pl.col("f_factor_wtt"))
        .when(m == "user_intensity").then(_label("user intensity"))
        .when(m == "toc_intensity").then(pl.col("_toc_factor"))
        .otherwise(pl.col("v_factor_wtt")).alias("factor_wtt"),
    )
    return f.select(*LEG_OUTPUT, "_row")


def leg_key_hash(raw: bool = False) -> pl.Expr:
    """64-bit hash of each leg's key (shipment_id, leg_id), as ``_key_hash``.

    Of prepared rows (text, stripped), or of ``raw`` input rows (cast and stripped first, same
    hash).
    """
    def key(c: str) -> pl.Expr:
        return pl.col(c).cast(pl.String).str.strip_chars() if raw else pl.col(c)

    return pl.struct(key("shipment_id"), key("leg_id")).hash(seed=14083).alias("_key_hash")


def plausibility(result: pl.DataFrame) -> list[tuple[str, str, int, list[int]]]:
    """Legs whose numbers are possible but unusual: (code, message, count, first lines).

    Declared in :data:`hesuan.transport.spec.PLAUSIBLE_WTW_G_PER_TKM` (intensities from the
    user's own data: fuel, a given or a TOC intensity), :data:`~hesuan.transport.spec.
    PLAUSIBLE_MAX_DISTANCE_KM` and :data:`~hesuan.transport.spec.PLAUSIBLE_MAX_MASS_T`.
    """
    own = pl.col("method").is_in(["fuel", "user_intensity", "toc_intensity"])
    g = pl.col("intensity_wtw_g_per_tkm")
    checks: list[tuple[str, str, pl.Expr]] = []
    for mode, (lo, hi) in PLAUSIBLE_WTW_G_PER_TKM.items():
        checks.append((
            f"intensity_{mode}",
            f"{mode} legs whose own data (fuel, given or TOC intensity) give a WTW intensity "
            f"outside {lo:g}–{hi:g} g CO2e/t·km (DESNZ 2025 HGV ≈ 100–130 for road): check "
            "fuel amounts and units, masses and distances",
            own & (pl.col("mode") == mode) & (pl.col("tkm") > 0) & ((g < lo) | (g > hi))))
    checks.append(("distance", f"legs longer than {PLAUSIBLE_MAX_DISTANCE_KM:,.0f} km "
                   "(more than once round the Earth)",
                   pl.col("distance_km") > PLAUSIBLE_MAX_DISTANCE_KM))
    checks.append(("mass", f"legs carrying more than {PLAUSIBLE_MAX_MASS_T:,.0f} t "
                   "(more than the largest ships)", pl.col("mass_t") > PLAUSIBLE_MAX_MASS_T))
    # one query: per check, the count and the first 10 input lines
    found = result.lazy().select(
        pl.struct(mask.fill_null(False).sum().alias("n"),
                  (pl.col("_row").filter(mask.fill_null(False)).head(10) + 2).implode()
                  .alias("lines")).alias(code)
        for code, _, mask in checks).collect().row(0)
    return [(code, message, int(hit["n"]), list(hit["lines"]))
            for (code, message, _), hit in zip(checks, found, strict=True) if hit["n"]]


# ----------------------------------------------------------------------------- step 4

_SUMS = ("tkm", "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "co2_combustion_kg",
         "refrigerant_kg_co2e")


_SUMMARY_KEYS = ("toc", "mode", "data_type", "method", "distance_basis", "distance_rule", "fuel")


def summary_partials(legs: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Return the sums of one batch by mode, TOC, data type and distance rule.

    They add up across batches.

    One pass over the legs groups them by all the keys at once (a few hundred groups); each
    breakdown then adds up those groups.
    """
    # A user may give only a WTW intensity: such legs have no TTW/WTT split. Count them and
    # their WTW, so that TTW and WTT totals never silently pass for complete.
    no_split = pl.col("ttw_kg_co2e").is_null()
    fine = legs.group_by(*_SUMMARY_KEYS).agg(
        *(pl.col(c).sum() for c in _SUMS),
        pl.len().alias("n_legs"),
        no_split.sum().cast(pl.Int64).alias("n_legs_without_split"),
        pl.when(no_split).then(pl.col("wtw_kg_co2e")).otherwise(0.0).sum()
        .alias("wtw_without_split_kg_co2e"),
    )
    sums = [pl.col(c).sum() for c in (*_SUMS, "n_legs", "n_legs_without_split",
                                      "wtw_without_split_kg_co2e")]
    n_legs = pl.col("n_legs").sum()
    return {
        "mode": fine.group_by("mode").agg(sums),
        "toc": fine.group_by("toc", "mode").agg(sums),
        "data_type": fine.group_by("data_type").agg(sums),
        "method": fine.group_by("method").agg(sums),
        "distance": fine.group_by("mode", "distance_basis", "distance_rule").agg(n_legs),
        "fuel": fine.filter(pl.col("method") == "fuel").group_by("fuel").agg(n_legs),
    }


def combine_summary_partials(parts: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Return the summary sums of every batch added up (see :func:`summary_partials`)."""
    out = {}
    keys = {"mode": ["mode"], "toc": ["toc", "mode"], "data_type": ["data_type"],
            "method": ["method"], "distance": ["mode", "distance_basis", "distance_rule"],
            "fuel": ["fuel"]}
    for name, by in keys.items():
        frames = [p[name] for p in parts if p[name].height]
        if not frames:
            out[name] = parts[0][name] if parts else pl.DataFrame()
            continue
        out[name] = pl.concat(frames).group_by(by).agg(pl.all().sum()).sort(by)
    return out


# ----------------------------------------------------------------------------- step 5

HUB_OUTPUT = ("shipment_id", "hub_id", "hub_type", "hoc", "temperature_control", "mass_t",
              "ttw_kg_co2e", "wtt_kg_co2e", "wtw_kg_co2e", "refrigerant_kg_co2e",
              "co2_combustion_kg", "intensity_wtw_kg_per_t", "method", "data_type",
              "factor_ttw", "factor_wtt")


def prepare_hubs(hubs: pl.DataFrame, ctx: RunContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type, validate and join factors for the hub table."""
    typed, e0 = normalise(hubs, HUB_COLUMNS)
    errors = [e0, *check_columns(typed, HUB_COLUMNS)]
    typed = typed.with_columns(
        pl.coalesce("temperature_control", pl.lit("ambient")).alias("temperature_control"),
        pl.coalesce("region", pl.lit(DEFAULT_REGION)).alias("region"),
        pl.coalesce("intensity_source", pl.lit("primary")).alias("intensity_source"),
        pl.coalesce("refrigerant", pl.lit(HUB_DEFAULT_REFRIGERANT)).alias("refrigerant"),
    ).with_columns(
        (pl.col("temperature_control") != "ambient").alias("_tc"),
        pl.when(pl.col("fuel").is_in(list(ctx.regional_fuels))).then(pl.col("region"))
        .otherwise(pl.lit("")).alias("_region_key"),
    ).with_columns(
        pl.coalesce("hoc", pl.concat_str([pl.col("hub_type"), pl.when(pl.col("_tc"))
                                          .then(pl.lit("temperature_controlled"))
                                          .otherwise(pl.lit("ambient"))], separator="/"))
        .alias("hoc"))
    typed = typed.join(ctx.factors.fuels.rename({"region": "_region_key"}),
                       on=["fuel", "_region_key", "fuel_unit"], how="left")
    elec = ctx.factors.fuels.filter((pl.col("fuel") == "electricity")
                                    & (pl.col("fuel_unit") == "kWh")).select(
        pl.col("region"), pl.col("f_wtt_kg_per_unit").alias("e_wtt"),
        pl.col("f_ttw_kg_per_unit").alias("e_ttw"), pl.col("f_factor_wtt").alias("e_factor"))
    typed = typed.join(elec, on="region", how="left")
    errors.extend(check_refrigerants(typed, ctx.gwp_set))
    errors.append(rule(typed, pl.col("fuel_amount").is_not_null() & pl.col("fuel_unit").is_null(),
                       "fuel_unit", "fuel_amount without a unit", "L | kg | kWh | MJ"))
    errors.append(rule(typed, pl.col("fuel").is_not_null()
                       & ~pl.col("fuel").is_in(ctx.factors.fuel_keys()), "fuel",
                       pl.lit("unknown fuel ") + pl.col("fuel"),
                       " | ".join(ctx.factors.fuel_keys())))
    errors.append(rule(typed, pl.col("electricity_kwh").is_not_null() & pl.col("e_wtt").is_null(),
                       "region", pl.lit("no electricity factor for region ") + pl.col("region"),
                       ", ".join(sorted(elec["region"].to_list()))))
    has_energy = (pl.col("fuel_amount").is_not_null() | pl.col("electricity_kwh").is_not_null()
                  | pl.col("refrigerant_kg").is_not_null()).any().over("hub_id")
    errors.append(rule(typed, pl.col("intensity_wtw_kg_per_t").is_null() & ~has_energy,
                       "intensity_wtw_kg_per_t",
                       "hub row with neither an intensity nor energy data for its hub",
                       "intensity_wtw_kg_per_t, or fuel_amount/electricity_kwh on a row of "
                       "the same hub_id (no default hub intensities are shipped)"))
    err = pl.concat([e.cast(ERROR_SCHEMA) for e in errors])  # type: ignore[arg-type]
    return typed, err


def hub_emissions(typed: pl.DataFrame, ctx: RunContext) -> pl.DataFrame:
    """Hub operation emissions: ``H_TCE × g_HOC`` with ``g_HOC`` from the hub's energy.

    A hub's energy (fuel, electricity, refrigerant; on any of its rows) is pooled and shared
    by the tonnes *leaving* the hub on its rows without a given intensity (allocation by
    mass). Without refrigerant data, the CLECAT defaults (0.5 g R-404A/t ambient, 1.2 g/t
    temperature-controlled, p. 42) are added to energy-based hubs.
    """
    gwp = _gwps(typed["refrigerant"].drop_nulls().unique().to_list(), ctx.gwp_set)
    gwp_404a = refrigerant_gwp(HUB_DEFAULT_REFRIGERANT, ctx.gwp_set)[0]
    amount = pl.col("fuel_amount")
    f = typed.with_columns(
        fuel_emissions_kg(amount, pl.col("f_ttw_kg_per_unit")).fill_null(0).alias("_ttw"),
        (fuel_emissions_kg(amount, pl.col("f_wtt_kg_per_unit")).fill_null(0)
         + fuel_emissions_kg(pl.col("electricity_kwh"), pl.col("e_wtt")).fill_null(0))
        .alias("_wtt"),
        combustion_co2_kg(amount, pl.col("f_co2_kg_per_unit")).alias("_co2"),
        leakage_emissions_kg(pl.col("refrigerant_kg"), pl.col("refrigerant").replace_strict(
            gwp, default=None, return_dtype=pl.Float64)).alias("_refr"),
    )
    pool = pl.col("intensity_wtw_kg_per_t").is_null()
    f = f.with_columns(
        pool.alias("_pool"),
        pl.col("_refr").is_not_null().any().over("hub_id").alias("_hub_refr_known"),
    )
    default_leak = hub_default_leak_kg(pl.col("mass_t").fill_null(0), pl.col("_tc"))
    f = f.with_columns(
        pl.when(pl.col("_pool") & ~pl.col("_hub_refr_known")).then(
            leakage_emissions_kg(default_leak, pl.lit(gwp_404a)))
        .otherwise(None).alias("_refr_default"))
    f = f.with_columns(
        pl.col("_ttw").sum().over("hub_id").alias("_h_ttw"),
        pl.col("_wtt").sum().over("hub_id").alias("_h_wtt"),
        pl.col("_co2").sum().over("hub_id").alias("_h_co2"),
        pl.col("_co2").is_not_null().any().over("hub_id").alias("_h_co2_known"),
        pl.col("_refr").fill_null(0).sum().over("hub_id").alias("_h_refr"),
        pl.when(pl.col("_pool")).then(pl.col("mass_t")).otherwise(0.0).sum().over("hub_id")
        .alias("_h_t"),
    )
    # Hub energy is shared by the tonnes leaving the hub (ISO 14083:2023, hub activity = mass
    # leaving); a hub with energy but no tonnes cannot allocate it: stop, never drop it.
    stranded = f.filter(pl.col("_pool") & ~(pl.col("_h_t") > 0) & (
        (pl.col("_h_ttw").fill_null(0.0) > 0) | (pl.col("_h_wtt").fill_null(0.0) > 0)
        | (pl.col("_h_refr") > 0)))
    if stranded.height:
        hubs = ", ".join(sorted(stranded["hub_id"].cast(pl.String).unique().to_list())[:20])
        raise InputError.single(
            f"hub(s) {hubs} have energy or refrigerant but 0 tonnes leaving: their emissions "
            "cannot be allocated", field="mass_t",
            expected="mass_t > 0 on at least one row of each hub with energy data")
    def allocated(hub_total: str) -> pl.Expr:
        # the row's part of its hub's total, by tonnes leaving
        return allocate_by_key(pl.col(hub_total), pl.col("mass_t"), pl.col("_h_t"))

    p = pl.col("_pool")
    refr = pl.when(p).then(allocated("_h_refr") + pl.col("_refr_default").fill_null(0)) \
        .otherwise(0.0)
    given_ttw = hub_emissions_kg(pl.col("mass_t"), pl.col("intensity_ttw_kg_per_t"))
    given_wtw = hub_emissions_kg(pl.col("mass_t"), pl.col("intensity_wtw_kg_per_t"))
    f = f.with_columns(
        refr.alias("refrigerant_kg_co2e"),
        pl.when(p).then(allocated("_h_ttw") + refr).otherwise(given_ttw)
        .alias("ttw_kg_co2e"),
        pl.when(p).then(allocated("_h_wtt")).otherwise(given_wtw - given_ttw)
        .alias("wtt_kg_co2e"),
        pl.when(p & pl.col("_h_co2_known")).then(allocated("_h_co2"))
        .alias("co2_combustion_kg"),
        pl.when(p).then(pl.lit("energy")).otherwise(pl.lit("user_intensity")).alias("method"),
        pl.when(p).then(pl.lit("primary")).otherwise(pl.col("intensity_source"))
        .alias("data_type"),
        pl.when(p).then(pl.concat_list(
            pl.col("f_factor_wtt"), pl.when(pl.col("electricity_kwh").is_not_null())
            .then(pl.col("e_factor"))).list.drop_nulls().explode().drop_nulls().unique().sort()
            .str.join(" + ").over("hub_id"))
        .otherwise(pl.lit("user intensity")).alias("factor_wtt"),
        pl.when(p).then(pl.col("f_factor_ttw").drop_nulls().unique().sort().str.join(" + ")
                        .over("hub_id"))
        .otherwise(pl.lit("user intensity")).alias("factor_ttw"),
    ).with_columns(
        pl.when(p).then(pl.col("ttw_kg_co2e") + pl.col("wtt_kg_co2e")).otherwise(given_wtw)
        .alias("wtw_kg_co2e"),
    ).with_columns(
        hub_intensity_kg_per_t(pl.col("wtw_kg_co2e"), pl.col("mass_t"))
        .alias("intensity_wtw_kg_per_t"),
        pl.when(p & ~pl.col("_hub_refr_known"))
        .then(pl.lit("energy+default_refrigerant")).otherwise(pl.col("method")).alias("method"),
    )
    return f.select(HUB_OUTPUT)
