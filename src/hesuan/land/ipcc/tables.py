"""Tier 1 calculations over tables of strata (CSV in, Polars out), with the edition explicit.

Each reader checks every row and reports all problems at once, naming file, line (the
header is line 1) and column. Every output row names the edition and the factor record of
each default it used (``dataset@version:id``), or ``user`` where the input gave the value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from hesuan.errors import HesuanError, InputError, Problem
from hesuan.land.ipcc import equations as eq
from hesuan.land.ipcc import factors as fx
from hesuan.land.ipcc.columns import (
    FOREST_COLUMNS,
    FOREST_OPTIONAL,
    SOC_COLUMNS,
    STOCK_DIFF_COLUMNS,
    STOCK_DIFF_OPTIONAL,
)


def _read(path: Path, required: dict[str, str], optional: dict[str, str]) -> list[dict[str, str]]:
    """Read an IPCC input table with the one table reader (:func:`hesuan.io.tables.read_table`:
    CSV in any usual encoding and delimiter, Parquet or Excel), as text cells.

    The ``required`` columns must be in the header, the ``optional`` ones may be; any other
    column is refused. A table with a ``stratum`` column must name each stratum once (a
    repeated stratum would be counted twice). The rows hold the columns of the header only.
    """
    from hesuan.io.spec import ColumnSpec, TableSpec
    from hesuan.io.tables import read_table

    file = str(path)
    if not path.is_file():
        raise InputError.single("file not found", file=file, expected="a CSV file")
    columns = tuple(ColumnSpec(c, "str", description=d, in_header=True,
                               required=c == "stratum") for c, d in required.items())
    # Optional columns are kept as read (text), so that the header says which were given.
    spec = TableSpec(path.stem, columns, key=("stratum",) if "stratum" in required else (),
                     unknown_columns="keep", min_rows=0)
    frame = read_table(path, spec).frame
    unknown = [c for c in frame.columns if c not in required and c not in optional]
    if unknown:
        raise InputError.single(f"unknown column(s) {', '.join(unknown)}", file=file, row=1,
                                expected="columns among " + ", ".join(
                                    list(required) + list(optional)))
    if frame.height == 0:
        raise InputError.single("no data rows", file=file, row=2, expected="at least one row")
    return [{k: ("" if v is None else str(v).strip()) for k, v in row.items()}
            for row in frame.to_dicts()]


#: Largest number any IPCC input column may hold: beyond every land area (the Earth's land
#: is 1.5 × 10¹⁰ ha), volume or stock of a real inventory, and small enough that every
#: product of the equations stays finite.
MAX_INPUT_VALUE = 1e12


def _number(row: dict[str, str], name: str, line: int, file: str, problems: list[Problem],
            *, default: float | None = None, positive: bool = False) -> float:
    text = row.get(name, "")
    if text == "" and default is not None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        problems.append(Problem(f"{text!r} is not a valid number", file, line, name,
                                "a positive number" if positive else "a number >= 0"))
        return math.nan
    if value > MAX_INPUT_VALUE:
        problems.append(Problem(f"{text!r} is beyond any real inventory", file, line, name,
                                f"a number <= {MAX_INPUT_VALUE:g}"))
        return math.nan
    return value


def _lookup(where: tuple[int, str, str], problems: list[Problem],
            fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    line, file, column = where
    try:
        return fn(*args, **kwargs)
    except HesuanError as exc:
        problems.append(Problem(str(exc).replace("\n", " "), file, line, column))
        return None


def forest_gain_loss(path: str | Path, edition: str) -> pl.DataFrame:
    """Gain-loss biomass carbon change per stratum of forest land remaining forest land.

    Columns of the CSV: :data:`FOREST_COLUMNS` (required) and :data:`FOREST_OPTIONAL`.

    Returns
    -------
    One row per stratum: gain, loss and change [t C / yr], CO2 [t CO2 / yr] (negative =
    removal), the factors used and their sources, and the edition.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2 Eqs. 2.7, 2.9, 2.10, 2.11-2.14; Tables 4.3, 4.4, 4.9 (2006 or 2019).
    """
    fx.check_edition(edition)
    path = Path(path)
    file = str(path)
    rows = _read(path, FOREST_COLUMNS, FOREST_OPTIONAL)
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        line = i + 2
        n = len(problems)
        area = _number(row, "area_ha", line, file, problems)
        agb = _number(row, "above_ground_biomass_t_dm_per_ha", line, file, problems)
        removals = _number(row, "removals_m3_per_yr", line, file, problems, default=0.0)
        fg_trees = _number(row, "fuelwood_trees_m3_per_yr", line, file, problems, default=0.0)
        fg_parts = _number(row, "fuelwood_parts_m3_per_yr", line, file, problems, default=0.0)
        a_dist = _number(row, "disturbed_area_ha_per_yr", line, file, problems, default=0.0)
        fd = _number(row, "disturbance_fraction", line, file, problems, default=1.0)
        bcef_r = _number(row, "bcef_r_t_dm_per_m3", line, file, problems, default=0.0)
        density = _number(row, "wood_density_t_dm_per_m3", line, file, problems, default=0.0)
        if (removals > 0 or fg_trees > 0) and row.get("bcef_r_t_dm_per_m3", "") == "":
            problems.append(Problem("removals or fuelwood trees given without BCEF_R", file,
                                    line, "bcef_r_t_dm_per_m3",
                                    "BCEF_R in t d.m./m3 (Table 4.5; not a BEF)"))
        if fg_parts > 0 and row.get("wood_density_t_dm_per_m3", "") == "":
            problems.append(Problem("fuelwood parts given without wood density", file, line,
                                    "wood_density_t_dm_per_m3", "D in t d.m./m3"))
        if fd > 1:
            problems.append(Problem(f"{fd} is above 1", file, line, "disturbance_fraction",
                                    "a fraction in 0 … 1"))
        if row.get("growth_t_dm_per_ha_yr", ""):
            gw, gw_src = _number(row, "growth_t_dm_per_ha_yr", line, file, problems), "user"
        else:
            origin = row.get("forest_origin") or "natural"
            if origin == "plantation":
                rec = _lookup((line, file, "species"), problems, fx.plantation_growth, edition,
                              row["domain"], row["ecological_zone"], row["continent"],
                              row.get("species") or "all", row["age_class"])
            elif origin == "natural":
                rec = _lookup((line, file, "ecological_zone/continent/age_class"), problems,
                              fx.net_growth,
                              edition, row["domain"], row["ecological_zone"],
                              row["continent"], row["age_class"])
            else:
                problems.append(Problem(f"unknown forest origin {origin!r}", file, line,
                                        "forest_origin", "natural, plantation"))
                rec = None
            gw, gw_src = (rec.value, rec.key) if rec else (math.nan, "")
        if row.get("root_shoot_ratio", ""):
            r, r_src = _number(row, "root_shoot_ratio", line, file, problems), "user"
        else:
            rec = _lookup(
                (line, file, "above_ground_biomass_t_dm_per_ha"), problems,
                fx.root_shoot_ratio, edition, row["domain"],
                row.get("r_ecological_zone") or row["ecological_zone"], agb,
                vegetation=row.get("vegetation") or "all",
                continent=row.get("r_continent") or "all",
                origin=row.get("r_origin") or ("natural" if edition == "2019" else "all"))
            r, r_src = (rec.value, rec.key) if rec else (math.nan, "")
        if row.get("carbon_fraction", ""):
            cf, cf_src = _number(row, "carbon_fraction", line, file, problems), "user"
        else:
            rec = fx.carbon_fraction(edition)
            cf, cf_src = rec.value, rec.key
        if len(problems) > n:
            continue
        g_total = eq.total_growth_from_net_growth_t_dm_per_ha_yr(gw, r)
        gain = eq.biomass_gain_t_c_per_yr(area, g_total, cf)
        l_wood = eq.wood_removal_loss_t_c_per_yr(removals, bcef_r, r, cf)
        l_fuel = eq.fuelwood_loss_t_c_per_yr(fg_trees, fg_parts, bcef_r, r, density, cf)
        l_dist = eq.disturbance_loss_t_c_per_yr(a_dist, agb, r, cf, fd)
        loss = eq.biomass_loss_t_c_per_yr(l_wood, l_fuel, l_dist)
        change = eq.gain_loss_biomass_change_t_c_per_yr(gain, loss)
        out.append({
            "stratum": row["stratum"], "edition": edition, "area_ha": area,
            "growth_t_dm_per_ha_yr": gw, "growth_source": gw_src,
            "root_shoot_ratio": r, "root_shoot_source": r_src,
            "carbon_fraction": cf, "carbon_fraction_source": cf_src,
            "gain_t_c_per_yr": gain, "loss_wood_removals_t_c_per_yr": l_wood,
            "loss_fuelwood_t_c_per_yr": l_fuel, "loss_disturbance_t_c_per_yr": l_dist,
            "loss_t_c_per_yr": loss, "change_t_c_per_yr": change,
            "co2_t_per_yr": eq.co2_emission_t(change),
            "method": "IPCC 2006 Vol. 4 Ch. 2 gain-loss, Eqs. 2.7, 2.9-2.14",
        })
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the forest strata")
    return pl.DataFrame(out)


def forest_stock_difference(path: str | Path, edition: str) -> pl.DataFrame:
    """Biomass carbon change per stratum by the stock-difference method.

    At each inventory: above-ground biomass AGB = V × BCEF_S [t d.m./ha], with BCEF_S chosen
    by the growing-stock class of V (Table 4.5) and R by the AGB class (Table 4.4); stock
    C = A × V × BCEF_S × (1 + R) × CF; change = (C_t2 − C_t1) / (t2 − t1).

    Columns of the CSV: :data:`STOCK_DIFF_COLUMNS` and :data:`STOCK_DIFF_OPTIONAL`.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2 Eq. 2.8; Tables 4.3, 4.4, 4.5 (2006 or 2019 Refinement).
    """
    fx.check_edition(edition)
    path = Path(path)
    file = str(path)
    rows = _read(path, STOCK_DIFF_COLUMNS, STOCK_DIFF_OPTIONAL)
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        line = i + 2
        n = len(problems)
        area = _number(row, "area_ha", line, file, problems)
        t1 = _number(row, "year_t1", line, file, problems)
        t2 = _number(row, "year_t2", line, file, problems)
        if math.isfinite(t1) and math.isfinite(t2) and t2 <= t1:
            problems.append(Problem(f"year_t2 {t2:g} is not after year_t1 {t1:g}", file, line,
                                    "year_t2", "a later year than year_t1"))
        if row.get("carbon_fraction", ""):
            cf, cf_src = _number(row, "carbon_fraction", line, file, problems), "user"
        else:
            rec = fx.carbon_fraction(edition)
            cf, cf_src = rec.value, rec.key
        result: dict[str, Any] = {"stratum": row["stratum"], "edition": edition,
                                  "area_ha": area}
        for tag in ("t1", "t2"):
            column = f"growing_stock_{tag}_m3_per_ha"
            volume = _number(row, column, line, file, problems)
            if not math.isfinite(volume):
                continue
            bcef = _lookup((line, file, column), problems, fx.bcef, edition, "s",
                           row["bcef_zone"], row["forest_type"], volume)
            if bcef is None:
                continue
            agb = volume * bcef.value
            r = _lookup((line, file, column), problems, fx.root_shoot_ratio, edition,
                        row["domain"], row["ecological_zone"], agb,
                        vegetation=row.get("vegetation") or "all",
                        continent=row.get("r_continent") or "all",
                        origin=row.get("r_origin") or ("natural" if edition == "2019" else "all"))
            if r is None:
                continue
            result.update({
                f"growing_stock_{tag}_m3_per_ha": volume, f"bcef_s_{tag}": bcef.value,
                f"bcef_s_{tag}_source": bcef.key, f"agb_{tag}_t_dm_per_ha": agb,
                f"root_shoot_ratio_{tag}": r.value, f"root_shoot_{tag}_source": r.key,
                f"stock_{tag}_t_c": eq.biomass_carbon_stock_t_c(area, volume, bcef.value,
                                                                r.value, cf),
            })
        if len(problems) > n:
            continue
        change = eq.stock_difference_change_t_c_per_yr(result["stock_t1_t_c"],
                                                       result["stock_t2_t_c"], t1, t2)
        result.update({
            "carbon_fraction": cf, "carbon_fraction_source": cf_src,
            "change_t_c_per_yr": change, "co2_t_per_yr": eq.co2_emission_t(change),
            "method": "IPCC 2006 Vol. 4 Ch. 2 stock-difference, Eq. 2.8",
        })
        out.append(result)
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the forest strata")
    return pl.DataFrame(out)


def _soc_factors(edition: str, zone: str, prefix: str, row: dict[str, str], line: int,
                 file: str, problems: list[Problem]) -> tuple[float, list[str]]:
    land_use = row[f"{prefix}_land_use"]
    if land_use == "native":
        return 1.0, ["native: F_LU = F_MG = F_I = 1"]
    if land_use not in ("cropland", "grassland"):
        problems.append(Problem(f"unknown land use {land_use!r}", file, line,
                                f"{prefix}_land_use", "native, cropland, grassland"))
        return math.nan, []
    product, sources = 1.0, []
    for factor in ("f_lu", "f_mg", "f_i"):
        column = f"{prefix}_{factor}"
        level = row.get(column, "") or (
            "all" if land_use == "grassland" and factor == "f_lu" else "")
        rec = _lookup((line, file, column), problems, fx.stock_change_factor, edition,
                      land_use, factor, level, zone)
        if rec is None:
            return math.nan, []
        product *= rec.value
        sources.append(rec.key)
    return product, sources


def soc_change(path: str | Path, edition: str) -> pl.DataFrame:
    """Mineral-soil organic carbon change per stratum (Tier 1, Eq. 2.25).

    Columns of the CSV: :data:`SOC_COLUMNS`; optional ``soc_ref_t_c_per_ha`` (overrides
    Table 2.3) and ``transition_years`` (D, default 20).

    Returns
    -------
    One row per stratum: SOC at the start and end [t C], change [t C / yr] = (SOC_0 −
    SOC_(0−T)) / max(D, T), CO2 [t CO2 / yr] (negative = removal), sources, edition.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2 Eq. 2.25; Tables 2.3, 5.5, 6.2 (2006 or 2019 Refinement).
    """
    fx.check_edition(edition)
    path = Path(path)
    file = str(path)
    rows = _read(path, SOC_COLUMNS, {"soc_ref_t_c_per_ha": "[t C/ha] SOC_REF if known",
                                     "transition_years": "D [yr], default 20"})
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        line = i + 2
        n = len(problems)
        area = _number(row, "area_ha", line, file, problems)
        y0 = _number(row, "year_start", line, file, problems)
        y1 = _number(row, "year_end", line, file, problems)
        d = _number(row, "transition_years", line, file, problems, positive=True,
                    default=eq.DEFAULT_SOC_TRANSITION_YEARS)
        if math.isfinite(y0) and math.isfinite(y1) and y1 <= y0:
            problems.append(Problem(f"year_end {y1:g} is not after year_start {y0:g}", file,
                                    line, "year_end", "a later year than year_start"))
        zone = row["climate_zone"]
        if row.get("soc_ref_t_c_per_ha", ""):
            ref, ref_src = _number(row, "soc_ref_t_c_per_ha", line, file, problems), "user"
        else:
            rec = _lookup((line, file, "climate_zone/soil_type"), problems, fx.soc_reference,
                          edition, zone, row["soil_type"])
            ref, ref_src = (rec.value, rec.key) if rec else (math.nan, "")
        f_before, src_before = _soc_factors(edition, zone, "before", row, line, file, problems)
        f_now, src_now = _soc_factors(edition, zone, "now", row, line, file, problems)
        if len(problems) > n:
            continue
        soc_before = eq.soc_stock_t_c(ref, f_before, 1.0, 1.0, area)
        soc_now = eq.soc_stock_t_c(ref, f_now, 1.0, 1.0, area)
        change = eq.soc_change_t_c_per_yr(soc_now, soc_before, y1 - y0, d)
        out.append({
            "stratum": row["stratum"], "edition": edition, "area_ha": area,
            "soc_ref_t_c_per_ha": ref, "soc_ref_source": ref_src,
            "factors_before": f_before, "factors_before_sources": "; ".join(src_before),
            "factors_now": f_now, "factors_now_sources": "; ".join(src_now),
            "soc_before_t_c": soc_before, "soc_now_t_c": soc_now,
            "inventory_years": y1 - y0, "transition_years": d,
            "change_t_c_per_yr": change, "co2_t_per_yr": eq.co2_emission_t(change),
            "method": "IPCC 2006 Vol. 4 Ch. 2 Eq. 2.25 (Tier 1, mineral soils, 0-30 cm)",
        })
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the soil strata")
    return pl.DataFrame(out)


STOCKS_OPTIONAL: dict[str, str] = {
    "name": "class name",
    "soil_land_use": "native | cropland | grassland: adds an IPCC Tier 1 mineral-soil pool "
                     "(then carbon_t_c_per_ha must exclude soil)",
    "soil_f_lu": "Table 5.5/6.2 F_LU level", "soil_f_mg": "F_MG level", "soil_f_i": "F_I level",
    "soil_t_c_per_ha": "[t C/ha] the class's soil stock if known (instead of soil_land_use)",
}


@dataclass(frozen=True)
class ClassStocks:
    """A stocks table: carbon per class, names, and the optional Tier 1 soil pool."""

    carbon_t_c_per_ha: dict[int, float]
    names: dict[int, str]
    soc_t_c_per_ha: dict[int, float] | None = None
    soc_sources: dict[int, str] | None = None


def read_stocks(path: str | Path, *, edition: str | None = None,
                climate_zone: str | None = None, soil_type: str | None = None) -> ClassStocks:
    """Read a class → carbon stock table.

    Columns: ``class`` (integer code), ``carbon_t_c_per_ha`` ([t C / ha]), optional ``name``,
    and optionally a separate soil pool per class: either ``soil_t_c_per_ha`` (your value) or
    ``soil_land_use``, ``soil_f_lu``, ``soil_f_mg``, ``soil_f_i``, giving the mineral-soil
    stock SOC_REF × F_LU × F_MG × F_I [t C / ha] from the IPCC defaults of ``edition`` for
    ``climate_zone`` and ``soil_type`` (Eq. 2.25; Tables 2.3, 5.5, 6.2). With a soil pool,
    ``carbon_t_c_per_ha`` must hold the other pools only.
    """
    path = Path(path)
    file = str(path)
    rows = _read(path, {"class": "integer code", "carbon_t_c_per_ha": "[t C/ha]"},
                 STOCKS_OPTIONAL)
    with_soil = "soil_land_use" in rows[0] or "soil_t_c_per_ha" in rows[0]
    needs_defaults = any(row.get("soil_land_use") for row in rows)
    if needs_defaults and (edition is None or climate_zone is None or soil_type is None):
        raise InputError.single(
            "soil columns given: the IPCC soil pool needs --edition, --climate-zone and "
            "--soil-type", file=file, row=1, field="soil_land_use",
            expected="all three options, or no soil_* columns")
    problems: list[Problem] = []
    stocks: dict[int, float] = {}
    names: dict[int, str] = {}
    soc: dict[int, float] = {}
    soc_sources: dict[int, str] = {}
    ref: Any = None
    if needs_defaults:
        assert edition is not None and climate_zone is not None and soil_type is not None
        ref = _lookup((1, file, "--climate-zone/--soil-type"), problems, fx.soc_reference,
                      edition, climate_zone, soil_type)
    for i, row in enumerate(rows):
        line = i + 2
        try:
            code = int(row["class"])
            if code < 0:
                raise ValueError
        except ValueError:
            problems.append(Problem(f"{row['class']!r} is not a class code", file, line,
                                    "class", "an integer >= 0"))
            continue
        if code in stocks:
            problems.append(Problem(f"class {code} appears twice", file, line, "class",
                                    "each class once"))
        stocks[code] = _number(row, "carbon_t_c_per_ha", line, file, problems)
        names[code] = row.get("name", "") or str(code)
        if not with_soil:
            continue
        if row.get("soil_t_c_per_ha"):
            if row.get("soil_land_use"):
                problems.append(Problem("both soil_t_c_per_ha and soil_land_use given", file,
                                        line, "soil_t_c_per_ha", "one of the two"))
            soc[code] = _number(row, "soil_t_c_per_ha", line, file, problems)
            soc_sources[code] = "user"
        elif not row.get("soil_land_use"):
            problems.append(Problem("no soil stock for this class", file, line,
                                    "soil_land_use", "soil_land_use (IPCC defaults) or "
                                    "soil_t_c_per_ha"))
        elif ref is not None:
            assert edition is not None and climate_zone is not None
            factor, sources = _soc_factors(edition, climate_zone, "soil", row, line, file,
                                           problems)
            soc[code] = ref.value * factor
            soc_sources[code] = "; ".join([ref.key, *sources])
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the stocks table")
    if with_soil:
        return ClassStocks(stocks, names, soc, soc_sources)
    return ClassStocks(stocks, names)
