"""Look up IPCC Tier 1 defaults in the standards library, the edition always explicit.

The edition (``"2006"`` or ``"2019"``) selects the dataset: ``ipcc2006_afolu@2006`` or
``ipcc2019_afolu@2019``. The 2019 Refinement only re-publishes the tables it changed; for a
table it left unchanged (Table 4.3 carbon fraction, Table 4.5 BCEF) the 2019 edition reads the
2006 table, as the Refinement directs, and the returned record names its dataset, so every
result can say which edition each number came from. Nothing else falls back across editions.

Class conventions (declared here once): above-ground-biomass classes of Table 4.4 and
growing-stock classes of Table 4.5 are read as half-open intervals ``(lower, upper]``, so a
value equal to a printed bound falls in the lower class (see each dataset's notes).
"""

from __future__ import annotations

import math
import re
from typing import Literal, get_args

from hesuan.errors import FactorNotFoundError, InputError
from hesuan.standards import Dataset, FactorRecord, load_dataset

Edition = Literal["2006", "2019"]
EDITIONS: tuple[str, ...] = get_args(Edition)

DATASETS: dict[str, tuple[str, str]] = {
    "2006": ("ipcc2006_afolu", "2006"),
    "2019": ("ipcc2019_afolu", "2019"),
}

CLIMATE_ZONES: tuple[str, ...] = (
    "polar_dry", "polar_moist", "boreal_dry", "boreal_moist", "cool_temperate_dry",
    "cool_temperate_moist", "warm_temperate_dry", "warm_temperate_moist", "tropical_dry",
    "tropical_moist", "tropical_wet", "tropical_montane",
)
"""IPCC climate zones (2006 Vol. 4 Ch. 3 Annex 3A.5, Figure 3A.5.2 / 2019 Figure 3A.5.2)."""

SOIL_TYPES: tuple[str, ...] = ("hac", "lac", "sandy", "spodic", "volcanic", "wetland")
"""IPCC mineral soil classes of Table 2.3 (high/low activity clay, sandy, spodic, volcanic,
wetland)."""

#: Tables the 2019 Refinement did not re-publish: read from the 2006 edition.
_UNCHANGED_IN_2019 = ("carbon_fraction", "bcef")


def check_edition(edition: str) -> Edition:
    """Return ``edition`` if it is ``"2006"`` or ``"2019"``; otherwise raise InputError."""
    if edition not in EDITIONS:
        raise InputError.single(f"unknown IPCC edition {edition!r}", field="edition",
                                expected="2006 or 2019")
    return edition  # type: ignore[return-value]


def dataset(edition: str, table: str = "") -> Dataset:
    """Return the factor dataset of ``edition``.

    For ``table`` ``carbon_fraction``/``bcef`` in 2019: the 2006 one, see module docstring.
    """
    edition = check_edition(edition)
    if edition == "2019" and table in _UNCHANGED_IN_2019:
        edition = "2006"
    return load_dataset(*DATASETS[edition])


def _not_found(what: str, edition: str, tried: list[str]) -> FactorNotFoundError:
    return FactorNotFoundError(
        f"IPCC {edition}: no default for {what} (tried {', '.join(tried)}); the cell is printed "
        "as NA, given only as a range, or not shipped - see the dataset's notes "
        f"(`hesuan factors show {'@'.join(DATASETS[edition])}`), or give the value yourself"
    )


def _zone_parts(zone: str) -> tuple[str, str]:
    if zone not in CLIMATE_ZONES:
        raise InputError.single(f"unknown climate zone {zone!r}", field="climate_zone",
                                expected=", ".join(CLIMATE_ZONES))
    if zone == "tropical_montane":
        return "tropical_montane", ""
    temp, _, moist = zone.rpartition("_")
    return temp, ("moist" if moist == "wet" else moist)


def soc_reference(edition: str, climate_zone: str, soil_type: str) -> FactorRecord:
    """Return the reference soil organic carbon stock SOC_REF [t C / ha, 0-30 cm] of Table 2.3.

    Parameters
    ----------
    edition : ``"2006"`` or ``"2019"``
    climate_zone : one of :data:`CLIMATE_ZONES`
    soil_type : one of :data:`SOIL_TYPES`

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 2 Table 2.3 (p. 2.31); 2019 Refinement Vol. 4 Ch. 2 Table 2.3 (updated).
    """
    ds = dataset(edition)
    temp, _ = _zone_parts(climate_zone)
    if soil_type not in SOIL_TYPES:
        raise InputError.single(f"unknown soil type {soil_type!r}", field="soil_type",
                                expected=", ".join(SOIL_TYPES))
    # Both editions print one Boreal column; 2019 adds one Polar column.
    zone = temp if temp in ("boreal", "polar") else climate_zone
    factor_id = f"soc_ref.{zone}.{soil_type}"
    if factor_id not in ds:
        raise _not_found(f"SOC_REF {climate_zone}/{soil_type}", edition, [factor_id])
    return ds.get(factor_id)


def _climate_classes(climate_zone: str) -> list[str]:
    """Return the printed climate classes of Tables 5.5/6.2 that cover ``climate_zone``.

    Most specific first.
    """
    temp, moist = _zone_parts(climate_zone)
    groups = {
        "polar": [],
        "boreal": ["cool_temperate_boreal", "temperate_boreal", "temperate_boreal_tropical"],
        "cool_temperate": ["cool_temperate_boreal", "temperate_boreal",
                           "temperate_boreal_tropical"],
        "warm_temperate": ["warm_temperate", "temperate_boreal", "temperate_boreal_tropical"],
        "tropical": ["tropical", "temperate_boreal_tropical"],
        "tropical_montane": ["tropical_montane"],
    }[temp]
    out: list[str] = []
    for group in groups:
        if moist:
            out.append(f"{group}_{moist}")
        out.append(group)
    if moist:
        out.append(f"all_{moist}")
    out.append("all")
    return out


def stock_change_levels(edition: str, land_use: str, factor: str) -> list[str]:
    """Return the management levels shipped for ``land_use`` (cropland/grassland) and ``factor``."""
    prefix = f"{land_use}.{factor}."
    return sorted({r.id.split(".")[2] for r in dataset(edition) if r.id.startswith(prefix)})


def stock_change_factor(
    edition: str, land_use: str, factor: str, level: str, climate_zone: str
) -> FactorRecord:
    """Relative stock change factor F_LU, F_MG or F_I [dimensionless].

    Parameters
    ----------
    edition : ``"2006"`` or ``"2019"``
    land_use : ``"cropland"`` (Table 5.5) or ``"grassland"`` (Table 6.2)
    factor : ``"f_lu"``, ``"f_mg"`` or ``"f_i"``
    level : a level of that table, e.g. ``"long_term_cultivated"``, ``"no_till"``,
        ``"high_with_manure"``, ``"improved"`` (:func:`stock_change_levels` lists them)
    climate_zone : one of :data:`CLIMATE_ZONES`

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 5 Table 5.5 and Ch. 6 Table 6.2; 2019 Refinement Vol. 4 Tables 5.5
    and 6.2 (updated).
    """
    if land_use not in ("cropland", "grassland"):
        raise InputError.single(f"unknown land use {land_use!r}", field="land_use",
                                expected="cropland, grassland (or native: all factors 1)")
    if factor not in ("f_lu", "f_mg", "f_i"):
        raise InputError.single(f"unknown factor {factor!r}", field="factor",
                                expected="f_lu, f_mg, f_i")
    levels = stock_change_levels(edition, land_use, factor)
    if level not in levels:
        raise InputError.single(
            f"unknown {land_use} {factor} level {level!r} in IPCC {edition}", field=factor,
            expected=", ".join(levels))
    ds = dataset(edition)
    tried = [f"{land_use}.{factor}.{level}.{c}" for c in _climate_classes(climate_zone)]
    for factor_id in tried:
        if factor_id in ds:
            return ds.get(factor_id)
    raise _not_found(f"{land_use} {factor} {level} in {climate_zone}", edition, tried)


_BOUNDS = re.compile(r"^(agb|gs)_(\d+(?:\.\d+)?)_(\d+(?:\.\d+)?|inf)$")


def _in_class(record: FactorRecord, value: float) -> bool:
    match = _BOUNDS.match(record.id.rsplit(".", 1)[-1])
    if match is None:
        return False
    lower = float(match.group(2))
    upper = math.inf if match.group(3) == "inf" else float(match.group(3))
    # (lower, upper]: a value on a printed bound falls in the lower class; 0 is in the first.
    return (lower < value or (lower == 0 and value >= 0)) and value <= upper


def root_shoot_ratio(
    edition: str,
    domain: str,
    ecological_zone: str,
    above_ground_biomass_t_dm_per_ha: float,
    *,
    vegetation: str = "all",
    continent: str = "all",
    origin: str = "all",
) -> FactorRecord:
    """Root-to-shoot ratio R [dimensionless] of Table 4.4, by above-ground-biomass class.

    Parameters
    ----------
    edition : ``"2006"`` or ``"2019"``
    domain : ``tropical``, ``subtropical``, ``temperate``, ``boreal``
    ecological_zone : e.g. ``rainforest``, ``moist_deciduous``, ``dry``, ``oceanic``,
        ``continental``, ``mountain``, ``coniferous`` (as in the dataset's activity paths)
    above_ground_biomass_t_dm_per_ha : [t d.m. / ha]
        Selects the class; classes are ``(lower, upper]``.
    vegetation : ``all``, ``conifers``/``conifer``, ``quercus``, ``eucalyptus``,
        ``other_broadleaf`` (temperate rows)
    continent, origin : 2019 only (``africa``, ``americas``, ``asia``, ``europe``,
        ``oceania``; ``natural``, ``planted``). Rows printed for all continents, origins or
        vegetation types (``all``) are used when no more specific row exists.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 4 Table 4.4 (p. 4.49); 2019 Refinement Vol. 4 Ch. 4 Table 4.4.
    """
    ds = dataset(edition)
    if edition == "2019":
        # 2019 prints one row for the three boreal zones, and one for the three temperate
        # zones of Asia: accept the 2006 zone names for them.
        if domain == "boreal" and ecological_zone in ("coniferous", "tundra_woodland",
                                                      "mountain"):
            ecological_zone = "coniferous_tundra_woodland_mountain"
        elif (domain == "temperate" and continent == "asia"
              and ecological_zone in ("oceanic", "continental", "mountain")):
            ecological_zone = "oceanic_continental_mountain"
    # Most specific printed row first; then rows the table prints for every continent /
    # origin / vegetation of the zone ("all"), in this fixed order.
    if edition == "2006":
        prefixes = [f"{domain}/{ecological_zone}/{v}/" for v in dict.fromkeys((vegetation, "all"))]
    else:
        prefixes = [f"{domain}/{ecological_zone}/{c}/{o}/{v}/"
                    for c in dict.fromkeys((continent, "all"))
                    for o in dict.fromkeys((origin, "all"))
                    for v in dict.fromkeys((vegetation, "all"))]
    tried: list[str] = []
    for prefix in prefixes:
        candidates = [r for r in ds if r.parameter == "root_shoot_ratio"
                      and r.activity.startswith("forest/root_shoot/" + prefix)]
        tried += [r.id for r in candidates] or ["r." + prefix.replace("/", ".") + "*"]
        for record in candidates:
            if _in_class(record, above_ground_biomass_t_dm_per_ha):
                return record
    raise _not_found(f"R for {prefixes[0]} at AGB {above_ground_biomass_t_dm_per_ha} t d.m./ha",
                     edition, tried)


def net_growth(
    edition: str, domain: str, ecological_zone: str, continent: str, age_class: str
) -> FactorRecord:
    """Above-ground net biomass growth G_W [t d.m. / ha / yr] of natural forests (Table 4.9).

    Parameters
    ----------
    age_class : 2006: ``le20`` (≤ 20 years), ``gt20`` or ``all``; 2019: ``primary``,
        ``secondary_le20``, ``secondary_gt20`` or ``all``. Where the table prints no split
        for the row, the ``all`` row is used.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 4 Table 4.9 (pp. 4.57-4.58); 2019 Refinement Table 4.9 (updated).
    """
    ds = dataset(edition)
    base = f"gw.{domain}.{ecological_zone}.{continent}"
    tried = [f"{base}.{age_class}", f"{base}.all"]
    for factor_id in tried:
        if factor_id in ds:
            return ds.get(factor_id)
    raise _not_found(f"G_W {domain}/{ecological_zone}/{continent}/{age_class}", edition, tried)


def plantation_growth(
    edition: str, domain: str, ecological_zone: str, continent: str, species: str,
    age_class: str,
) -> FactorRecord:
    """Above-ground net biomass growth G_W [t d.m. / ha / yr] of plantations (Table 4.10).

    Parameters
    ----------
    continent : ``africa``, ``americas``, ``asia`` (2019 temperate/boreal rows:
        ``americas``, ``asia_europe_north_america``)
    species : ``eucalyptus``, ``pinus``, ``tectona_grandis``, ``other_broadleaf``, ``other``
        or ``all`` (rows that print no species)
    age_class : ``le20``, ``gt20`` or ``all`` (2019 temperate/boreal rows:
        ``secondary_le20``, ``secondary_gt20``). A row with no age split uses its ``all`` row;
        a row with no species split its ``all`` species.

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 4 Table 4.10 (pp. 4.59-4.60); 2019 Refinement Table 4.10 (updated).
    """
    ds = dataset(edition)
    base = f"gwp.{domain}.{ecological_zone}.{continent}"
    tried = [f"{base}.{sp}.{age}" for sp in dict.fromkeys((species, "all"))
             for age in dict.fromkeys((age_class, "all"))]
    for factor_id in tried:
        if factor_id in ds:
            return ds.get(factor_id)
    raise _not_found(f"plantation G_W {domain}/{ecological_zone}/{continent}/{species}/"
                     f"{age_class}", edition, tried)


def bcef(
    edition: str, kind: str, zone: str, forest_type: str, growing_stock_m3_per_ha: float
) -> FactorRecord:
    """Biomass conversion and expansion factor BCEF [t d.m. / m3] of Table 4.5.

    Not a BEF: ``BCEF = BEF × D``. The 2019 edition reads the 2006 table (unchanged).

    Parameters
    ----------
    kind : ``s`` (growing stock), ``i`` (net increment) or ``r`` (removals)
    zone : ``boreal``, ``temperate``, ``mediterranean_dry_tropical_subtropical``,
        ``humid_tropical``
    forest_type : e.g. ``pines``, ``larch``, ``firs_and_spruces``, ``hardwoods``,
        ``other_conifers``, ``conifers``, ``natural_forests``
    growing_stock_m3_per_ha : [m3 / ha]
        Selects the class, read as (previous upper bound, upper bound].

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 4 Table 4.5 (pp. 4.50-4.52).
    """
    ds = dataset(edition, "bcef")
    prefix = f"forest/bcef_{kind}/{zone}/{forest_type}/"
    candidates = [r for r in ds if r.activity.startswith(prefix)]
    for record in candidates:
        if _in_class(record, growing_stock_m3_per_ha):
            return record
    raise _not_found(f"BCEF_{kind.upper()} {zone}/{forest_type} at {growing_stock_m3_per_ha} "
                     "m3/ha", edition, [r.id for r in candidates] or [prefix + "*"])


def carbon_fraction(edition: str, domain: str = "all", part: str = "all") -> FactorRecord:
    """Carbon fraction of dry matter CF [t C / t d.m.] of Table 4.3 (default ``all``: 0.47).

    Parameters
    ----------
    domain : ``all``, ``tropical_subtropical`` or ``temperate_boreal``
    part : ``all``, ``wood``, ``foliage``, ``broadleaved``, ``conifers`` …

    References
    ----------
    IPCC 2006 Vol. 4 Ch. 4 Table 4.3 (p. 4.48); not re-published in the 2019 Refinement.
    """
    ds = dataset(edition, "carbon_fraction")
    factor_id = f"cf.{domain}.{part}"
    if factor_id not in ds:
        raise _not_found(f"CF {domain}/{part}", edition, [factor_id])
    return ds.get(factor_id)
