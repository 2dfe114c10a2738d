"""SEEA EA ecosystem services supply and use tables, physical and monetary.

SEEA EA 2021 Chapter 7 and Table 7.1 (physical), Chapter 9 (monetary): for every final
ecosystem service, the **supply** is recorded by the ecosystem type that supplies it (plus
supply from non-resident ecosystem assets, i.e. imports) and the **use** by the economic
unit that uses it: industries (by ISIC section), households (final consumption), government
(final consumption), the rest of the world (exports), or ecosystem types (intermediate
services). By construction, total supply equals total use of every service (as the TOTAL
SUPPLY and TOTAL USE columns of the SEEALand workbook, Tabs #10 and #11, show): this
identity is checked before a table is returned, and a table that breaks it raises
:class:`SupplyUseMismatchError` naming the service and the gap.

A table is built from :class:`ServiceFlow` entries. The entries come from a table of one's
own (:func:`read_flows`) or from the typed results of hesuan's engines:

- :func:`flows_from_gep` — the valued rows of a GEP account (:class:`GepAccount`), the
  physical quantity in the unit the price is per and the value at current prices;
- :func:`flows_from_carbon` — carbon sequestration per land-cover class of a
  ``hesuan land carbon`` run (InVEST method), as global climate regulation in t CO2
  (:func:`hesuan.land.equations.to_t_co2e`);
- :func:`flows_from_ipcc` — net removals per stratum of an IPCC Tier 1 table
  (``co2_t_per_yr``, negative = removal; :mod:`hesuan.land.ipcc.tables`).

The engines say who supplies a service, not who uses it: the use side is allocated by a
:class:`UseAllocation` (per service, shares of users that add up to 1).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from hesuan.errors import InputError, Problem

Side = Literal["supply", "use"]
Terms = Literal["physical", "monetary"]

USER_GROUPS = ("industry", "government", "household", "exports", "ecosystem")
"""Groups of users of SEEA EA Table 7.1: industries (ISIC), government final consumption,
household final consumption, exports (final services to non-residents) and ecosystem types
(intermediate services)."""

SUPPLIER_GROUPS = ("ecosystem", "imports")
"""Groups of suppliers: resident ecosystem types and non-resident ecosystem assets."""

SECTIONS = ("provisioning", "regulating", "cultural")
"""The broad service sections of the SEEA EA reference list of ecosystem services
(Chapter 6: provisioning, regulating and
maintenance, cultural)."""

_SECTION_LABEL = {"provisioning": "Provisioning services",
                  "regulating": "Regulating and maintenance services",
                  "cultural": "Cultural services"}

_TOL = 1e-9


class SupplyUseMismatchError(InputError):
    """Supply and use of an ecosystem service differ (SEEA EA 2021 Chapter 7: supply = use)."""


@dataclass(frozen=True)
class ServiceFlow:
    """One entry of a supply and use table: ``quantity`` [``unit``] of ``service`` supplied
    by (``side="supply"``) or used by (``side="use"``) ``party`` of ``group``.

    ``value`` is the monetary value in ``currency`` at ``price_year`` prices (``None`` when
    only the physical flow is known); ``source`` says where the entry came from.
    """

    service: str
    section: str
    unit: str
    side: Side
    party: str
    group: str
    quantity: float
    value: float | None = None
    currency: str | None = None
    price_year: int | None = None
    source: str = ""


@dataclass(frozen=True)
class UseAllocation:
    """Per service, the users and the share of the supply each uses: ``{service: ((group,
    user, share), ...)}``; the shares of a service add up to 1."""

    shares: Mapping[str, tuple[tuple[str, str, float], ...]]
    source: str = ""

    def __post_init__(self) -> None:
        problems = []
        for service, parts in self.shares.items():
            for group, _, share in parts:
                if group not in USER_GROUPS:
                    problems.append(Problem(f"unknown user group {group!r} of {service!r}",
                                            self.source or None, field="user_group",
                                            expected=" | ".join(USER_GROUPS)))
                if not (math.isfinite(share) and share >= 0):
                    problems.append(Problem(f"share {share!r} of {service!r}",
                                            self.source or None, field="share",
                                            expected="a number >= 0"))
            total = sum(s for *_, s in parts)
            if abs(total - 1) > 1e-9:
                problems.append(Problem(f"the shares of {service!r} add up to {total:g}",
                                        self.source or None, field="share",
                                        expected="shares of each service adding up to 1"))
        if problems:
            raise InputError(problems=tuple(problems),
                             summary=f"use allocation: {len(problems)} problem(s)")

    @classmethod
    def single(cls, services: Iterable[str], group: str, user: str) -> UseAllocation:
        """Every service used wholly by one user."""
        return cls({s: ((group, user, 1.0),) for s in services})

    def allocate(self, supply: Sequence[ServiceFlow]) -> list[ServiceFlow]:
        """The use entries of ``supply`` (summed per service), split by the shares."""
        totals: dict[str, list[ServiceFlow]] = defaultdict(list)
        for f in supply:
            totals[f.service].append(f)
        out: list[ServiceFlow] = []
        for service, flows in totals.items():
            if service not in self.shares:
                raise InputError.single(
                    f"no user for service {service!r}", file=self.source or None,
                    field="service", expected="a row per service: service, user, user_group, "
                    "share (see docs/seea.md)")
            q = math.fsum(f.quantity for f in flows)
            values = [f.value for f in flows]
            v = None if any(x is None for x in values) else math.fsum(
                x for x in values if x is not None)
            first = flows[0]
            for group, user, share in self.shares[service]:
                out.append(ServiceFlow(service, first.section, first.unit, "use", user, group,
                                       q * share, None if v is None else v * share,
                                       first.currency, first.price_year,
                                       self.source or "allocation"))
        return out


@dataclass(frozen=True)
class SupplyUseTable:
    """A supply and use table in one set of terms (SEEA EA Table 7.1 physical, 9.1 monetary).

    Rows are ``services`` (section, service, unit — the unit is the currency and price year
    in monetary terms); ``supply`` has one column per ``suppliers`` entry (group, name),
    ``use`` one per ``users`` entry (group, name). ``supply.sum(axis=1) == use.sum(axis=1)``
    holds for every service (checked when built).
    """

    terms: Terms
    services: tuple[tuple[str, str, str], ...]
    suppliers: tuple[tuple[str, str], ...]
    users: tuple[tuple[str, str], ...]
    supply: NDArray[np.float64]
    use: NDArray[np.float64]
    currency: str | None = None
    price_year: int | None = None

    @property
    def total_supply(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = self.supply.sum(axis=1)
        return out

    @property
    def total_use(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = self.use.sum(axis=1)
        return out

    def supply_of(self, service: str, supplier: str) -> float:
        i = [s for _, s, _ in self.services].index(service)
        j = [n for _, n in self.suppliers].index(supplier)
        return float(self.supply[i, j])

    def use_of(self, service: str, user: str) -> float:
        i = [s for _, s, _ in self.services].index(service)
        j = [n for _, n in self.users].index(user)
        return float(self.use[i, j])

    def layout(self) -> list[list[object]]:
        """The table in the SEEA EA layout: a SUPPLY block (services × ecosystem types,
        imports, total supply) above a USE block (services × industries, total industry,
        government, households, total resident economic units, exports, total use by
        economic units, ecosystem types, total use by ecosystem assets, total use)."""
        eco = [n for g, n in self.suppliers if g == "ecosystem"]
        imp = [n for g, n in self.suppliers if g == "imports"]
        unit_col = "unit" if self.terms == "physical" else "currency (price year)"
        rows: list[list[object]] = [["SUPPLY", "", unit_col, *eco,
                                     "Total supply by resident ecosystem assets",
                                     *(f"Imports: {n}" for n in imp), "TOTAL SUPPLY"]]
        col = {s: j for j, s in enumerate(self.suppliers)}
        for i, block in self._sections():
            if block:
                rows.append([_SECTION_LABEL.get(block, block)])
            _, name, unit = self.services[i]
            r = self.supply[i]
            resident = sum(r[col[("ecosystem", n)]] for n in eco)
            rows.append(["", name, unit, *(float(r[col[("ecosystem", n)]]) for n in eco),
                         float(resident), *(float(r[col[("imports", n)]]) for n in imp),
                         float(r.sum())])
        ucol = {u: j for j, u in enumerate(self.users)}
        ind = [n for g, n in self.users if g == "industry"]
        gov = [n for g, n in self.users if g == "government"]
        hh = [n for g, n in self.users if g == "household"]
        exp = [n for g, n in self.users if g == "exports"]
        eco_u = [n for g, n in self.users if g == "ecosystem"]
        rows.append([])
        rows.append(["USE", "", unit_col, *ind, "Total industry", *gov, *hh,
                     "Total use by resident economic units", *exp,
                     "Total use by economic units", *eco_u,
                     "Total use by ecosystem assets", "TOTAL USE"])
        for i, block in self._sections():
            if block:
                rows.append([_SECTION_LABEL.get(block, block)])
            _, name, unit = self.services[i]
            u = self.use[i]

            def pick(group: str, names: list[str], row: NDArray[np.float64] = u
                     ) -> list[float]:
                return [float(row[ucol[(group, n)]]) for n in names]

            industry = pick("industry", ind)
            resident = sum(industry) + sum(pick("government", gov)) + sum(pick("household", hh))
            economic = resident + sum(pick("exports", exp))
            ecosystem = pick("ecosystem", eco_u)
            rows.append(["", name, unit, *industry, sum(industry), *pick("government", gov),
                         *pick("household", hh), resident, *pick("exports", exp), economic,
                         *ecosystem, sum(ecosystem), float(u.sum())])
        return rows

    def _sections(self) -> list[tuple[int, str]]:
        """Row indices in order, each with its section when it starts one (else "")."""
        out, last = [], None
        for i, (sec, _, _) in enumerate(self.services):
            out.append((i, sec if sec != last else ""))
            last = sec
        return out


def supply_use_table(flows: Iterable[ServiceFlow], terms: Terms = "physical"
                     ) -> SupplyUseTable:
    """The supply and use table of ``flows`` in ``terms``, supply = use checked.

    Physical terms: every entry of a service must have the same unit. Monetary terms: every
    entry needs a value, and all values one currency and price year. Raises
    :class:`InputError` for a bad entry and :class:`SupplyUseMismatchError` when the supply
    and the use of a service differ by more than 10⁻⁹ of the larger.
    """
    entries = list(flows)
    problems: list[Problem] = []
    units: dict[str, str] = {}
    sections: dict[str, str] = {}
    money = {(f.currency, f.price_year) for f in entries if terms == "monetary"}
    for f in entries:
        where = f.source or None
        groups = SUPPLIER_GROUPS if f.side == "supply" else USER_GROUPS
        if f.side not in ("supply", "use"):
            problems.append(Problem(f"side {f.side!r} of {f.service!r}", where, field="side",
                                    expected="supply | use"))
            continue
        if f.group not in groups:
            problems.append(Problem(f"unknown {f.side} group {f.group!r} of {f.service!r}",
                                    where, field="group", expected=" | ".join(groups)))
        if f.section not in SECTIONS:
            problems.append(Problem(f"unknown section {f.section!r} of {f.service!r}", where,
                                    field="section", expected=" | ".join(SECTIONS)))
        if sections.setdefault(f.service, f.section) != f.section:
            problems.append(Problem(f"{f.service!r} is in two sections", where,
                                    field="section", expected=sections[f.service]))
        amount = f.quantity if terms == "physical" else f.value
        if amount is None or not math.isfinite(amount) or amount < 0:
            what = "quantity" if terms == "physical" else "value"
            problems.append(Problem(f"{what} {amount!r} of {f.service!r} ({f.party})", where,
                                    field=what, expected="a finite number >= 0"))
        if terms == "physical" and units.setdefault(f.service, f.unit) != f.unit:
            problems.append(Problem(f"{f.service!r} in {f.unit!r} and {units[f.service]!r}",
                                    where, field="unit", expected="one unit per service"))
    if terms == "monetary" and len(money) > 1:
        problems.append(Problem(f"values in {sorted(money, key=str)}", field="currency",
                                expected="one currency and price year per table"))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"supply and use ({terms}): {len(problems)} problem(s)")
    order = {s: i for i, s in enumerate(SECTIONS)}
    names = sorted(sections, key=lambda s: (order[sections[s]],
                                            [f.service for f in entries].index(s)))
    suppliers = _parties(entries, "supply", SUPPLIER_GROUPS)
    users = _parties(entries, "use", USER_GROUPS)
    row = {s: i for i, s in enumerate(names)}
    scol = {p: j for j, p in enumerate(suppliers)}
    ucol = {p: j for j, p in enumerate(users)}
    supply = np.zeros((len(names), len(suppliers)))
    use = np.zeros((len(names), len(users)))
    for f in entries:
        amount = float(f.quantity if terms == "physical" else f.value or 0.0)
        if f.side == "supply":
            supply[row[f.service], scol[(f.group, f.party)]] += amount
        else:
            use[row[f.service], ucol[(f.group, f.party)]] += amount
    currency, year = next(iter(money)) if money else (None, None)
    unit_of = {s: units.get(s, "") for s in names}
    if terms == "monetary":
        unit_of = {s: f"{currency} ({year})" for s in names}
    table = SupplyUseTable(terms, tuple((sections[s], s, unit_of[s]) for s in names),
                           tuple(suppliers), tuple(users), supply, use, currency, year)
    check_supply_equals_use(table)
    return table


def check_supply_equals_use(table: SupplyUseTable) -> None:
    """SEEA EA Chapter 7: total supply = total use of every service; raises
    :class:`SupplyUseMismatchError` naming each service that breaks it."""
    problems = []
    for (_, name, unit), s, u in zip(table.services, table.total_supply, table.total_use,
                                     strict=True):
        if abs(s - u) > _TOL * max(1.0, abs(s), abs(u)):
            problems.append(Problem(f"{name}: supply {s:,.6g} ≠ use {u:,.6g} {unit} "
                                    f"(off by {s - u:+,.6g})", field="quantity",
                                    expected="total supply = total use (SEEA EA Chapter 7)"))
    if problems:
        raise SupplyUseMismatchError(problems=tuple(problems),
                                     summary=f"supply and use ({table.terms}) do not balance "
                                     f"for {len(problems)} service(s)")


def _parties(entries: list[ServiceFlow], side: str, groups: Sequence[str]
             ) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for f in entries:
        if f.side == side:
            seen.setdefault((f.group, f.party), None)
    return sorted(seen, key=lambda p: groups.index(p[0]))


# --------------------------------------------------------------------------- from engines


def flows_from_gep(account: object, allocation: UseAllocation, *, region: str | None = None,
                   year: int | None = None, level: Literal["indicator", "service"] =
                   "indicator", sections: Mapping[str, str] | None = None
                   ) -> list[ServiceFlow]:
    """Supply entries of the counted rows of a GEP account (``hesuan.land.gep``
    :class:`~hesuan.land.gep.accounts.GepAccount`), one per ecosystem type and indicator
    (``level="indicator"``, the row named by the indicator id) or service (``"service"``:
    only where the indicators of a service share one unit, e.g. not soil retention's m³ of
    sediment and t of nutrients), and their use by ``allocation`` (keyed by the same names).

    The physical flow is the net quantity (after the outside-region deduction) in the unit
    the price is per; the monetary flow the value at the accounting year's prices. The
    GEP categories map to the SEEA EA sections (provisioning → provisioning, regulating →
    regulating and maintenance, cultural → cultural) unless ``sections`` says otherwise.
    A row without an ecosystem type is supplied by ``"all"`` (as in the GEP totals).
    """
    from hesuan.land.gep.accounts import GepAccount

    if not isinstance(account, GepAccount):
        raise TypeError("flows_from_gep needs a GepAccount")
    supply = [_gep_flow(level, sections, r.region, r.year, r.ecosystem_type, r.category,
                        r.service, r.indicator, r.net_quantity, r.price.per,
                        r.value_current.amount, r.value_current.currency,
                        r.value_current.price_year, f"GEP {account.edition}")
              for r in account.rows if r.counted and region in (None, r.region)
              and year in (None, r.year)]
    merged = _merge(supply)
    return merged + allocation.allocate(merged)


GEP_ROW_COLUMNS = ("region", "year", "ecosystem_type", "category", "service", "indicator",
                   "net_quantity", "price_per", "value_current", "current_price_year",
                   "currency", "counted")
GEP_ROW_OTHER = ("name_zh", "quantity", "quantity_unit", "outside_quantity", "price",
                 "price_currency", "price_year", "price_source", "valuation", "value",
                 "value_price_year", "value_constant", "constant_price_year", "verified",
                 "method", "source")
"""The other columns of ``gep_rows.csv`` (:meth:`GepAccount.to_frame`), read and ignored."""


def flows_from_gep_table(path: str | Path, allocation: UseAllocation, *,
                         region: str | None = None, year: int | None = None,
                         level: Literal["indicator", "service"] = "indicator"
                         ) -> list[ServiceFlow]:
    """As :func:`flows_from_gep`, from the ``gep_rows.csv`` (or ``.parquet``) table that
    ``hesuan land gep`` writes (:data:`GEP_ROW_COLUMNS` are used)."""
    from hesuan.land.gep.tables import read_table

    file = str(path)
    frame = read_table(path, GEP_ROW_COLUMNS, GEP_ROW_OTHER)
    supply: list[ServiceFlow] = []
    problems: list[Problem] = []
    for i, r in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        if r["counted"] not in ("true", "false"):
            problems.append(Problem(f"{r['counted']!r}", file, line, "counted",
                                    "true | false"))
            continue
        q = _num(r["net_quantity"], file, line, "net_quantity", problems)
        v = _num(r["value_current"], file, line, "value_current", problems)
        y = _num(r["year"], file, line, "year", problems)
        py = _num(r["current_price_year"], file, line, "current_price_year", problems)
        if None in (q, v, y, py) or r["counted"] == "false":
            continue
        assert q is not None and v is not None and y is not None and py is not None
        if (region is not None and r["region"] != region) or (year is not None
                                                              and int(y) != year):
            continue
        supply.append(_gep_flow(level, None, r["region"], int(y), r["ecosystem_type"] or "",
                                r["category"], r["service"], r["indicator"], q,
                                r["price_per"], v, r["currency"], int(py), file))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the GEP rows")
    merged = _merge(supply)
    return merged + allocation.allocate(merged)


def _gep_flow(level: str, sections: Mapping[str, str] | None, region: str, year: int,
              ecosystem_type: str, category: str, service: str, indicator: str,
              net_quantity: float, per: str, value: float, currency: str, price_year: int,
              source: str) -> ServiceFlow:
    """One supply entry of a counted GEP row (see :func:`flows_from_gep`)."""
    name = indicator if level == "indicator" else service
    return ServiceFlow(name, (sections or {}).get(name, category), per, "supply",
                       ecosystem_type or "all", "ecosystem", net_quantity, value, currency,
                       price_year, f"{source} {region} {year} {indicator}")


CLIMATE_SERVICE = "global_climate_regulation"


def flows_from_carbon(names: Sequence[str], sequestration_t_c: Sequence[float] | NDArray[
        np.float64], allocation: UseAllocation, *, price_per_t_co2: tuple[float, str, int]
        | None = None, service: str = CLIMATE_SERVICE, source: str = "hesuan land carbon"
        ) -> list[ServiceFlow]:
    """Global climate regulation from carbon sequestration per class [t C] (e.g.
    ``CarbonResult.accounts.by_class["sequestration_t_c"]`` with ``pools.names``), in t CO2
    (44/12, :func:`hesuan.land.equations.to_t_co2e`).

    A class whose stock fell (negative sequestration) supplies no service: SEEA EA records
    the global climate regulation service (carbon sequestration and retention, Chapter 6),
    not net emissions; such a class raises
    :class:`InputError` naming it, so that the emission is reported elsewhere and the class
    left out knowingly (pass only the classes that sequester). ``price_per_t_co2`` =
    (price, currency, price year) values the flow.
    """
    from hesuan.land.equations import to_t_co2e

    seq = np.asarray(sequestration_t_c, dtype=np.float64)
    if seq.shape != (len(names),):
        raise ValueError("one sequestration per class name")
    bad = [(n, float(s)) for n, s in zip(names, seq, strict=True) if not s >= 0]
    if bad:
        raise InputError.single(
            f"classes with a net carbon loss (t C): {bad[:10]}", field="sequestration_t_c",
            expected="sequestration >= 0 per class: a net emission is no ecosystem service "
            "(SEEA EA Chapter 6); leave the class out of the supply and use table")
    co2 = to_t_co2e(seq)
    supply = [_priced(service, "regulating", "t CO2", str(n), float(q), price_per_t_co2,
                      source) for n, q in zip(names, co2, strict=True) if q > 0]
    return supply + allocation.allocate(supply)


def flows_from_ipcc(frame: object, allocation: UseAllocation, *,
                    ecosystem_of: Mapping[str, str] | None = None,
                    price_per_t_co2: tuple[float, str, int] | None = None,
                    service: str = CLIMATE_SERVICE, source: str = "IPCC Tier 1"
                    ) -> list[ServiceFlow]:
    """Global climate regulation from an IPCC Tier 1 result table (``stratum``,
    ``co2_t_per_yr`` with negative = removal, as :func:`hesuan.land.ipcc.tables.
    forest_gain_loss` returns): the removal −CO2 [t CO2/yr] of every stratum that removes,
    booked to ``ecosystem_of[stratum]`` (default: the stratum's name). A stratum that emits
    raises :class:`InputError` (see :func:`flows_from_carbon`)."""
    import polars as pl

    if not isinstance(frame, pl.DataFrame) or not {"stratum", "co2_t_per_yr"} <= set(
            frame.columns):
        raise TypeError("flows_from_ipcc needs an IPCC result frame with stratum, co2_t_per_yr")
    emitters = [(r["stratum"], r["co2_t_per_yr"]) for r in frame.iter_rows(named=True)
                if r["co2_t_per_yr"] > 0]
    if emitters:
        raise InputError.single(
            f"strata with net emissions (t CO2/yr): {emitters[:10]}", field="co2_t_per_yr",
            expected="removals (negative CO2) only: a net emission is no ecosystem service "
            "(SEEA EA Chapter 6); leave the stratum out")
    supply = [_priced(service, "regulating", "t CO2", (ecosystem_of or {}).get(
        r["stratum"], r["stratum"]), -float(r["co2_t_per_yr"]), price_per_t_co2,
        f"{source} {r.get('edition', '')} {r['stratum']}".strip())
        for r in frame.iter_rows(named=True) if r["co2_t_per_yr"] < 0]
    merged = _merge(supply)
    return merged + allocation.allocate(merged)


def _priced(service: str, section: str, unit: str, party: str, quantity: float,
            price: tuple[float, str, int] | None, source: str) -> ServiceFlow:
    if price is None:
        return ServiceFlow(service, section, unit, "supply", party, "ecosystem", quantity,
                           source=source)
    p, currency, year = price
    return ServiceFlow(service, section, unit, "supply", party, "ecosystem", quantity,
                       quantity * p, currency, year, source)


def _merge(flows: list[ServiceFlow]) -> list[ServiceFlow]:
    """Sum entries of the same service, side and party (units must agree)."""
    acc: dict[tuple[str, str, str, str], ServiceFlow] = {}
    for f in flows:
        key = (f.service, f.side, f.group, f.party)
        old = acc.get(key)
        if old is None:
            acc[key] = f
            continue
        if old.unit != f.unit or (old.currency, old.price_year) != (f.currency, f.price_year):
            raise InputError.single(f"{f.service!r} of {f.party!r} in {f.unit!r} and "
                                    f"{old.unit!r} ({old.source}; {f.source})", field="unit",
                                    expected="one unit and currency per service (GEP: "
                                    "level='indicator')")
        value = None if old.value is None or f.value is None else old.value + f.value
        acc[key] = ServiceFlow(f.service, f.section, f.unit, f.side, f.party, f.group,
                               old.quantity + f.quantity, value, f.currency, f.price_year,
                               old.source)
    return list(acc.values())


# --------------------------------------------------------------------------- tables


FLOW_COLUMNS = ("service", "section", "side", "party", "group", "quantity", "unit")
FLOW_OPTIONAL = ("value", "currency", "price_year", "note")
ALLOCATION_COLUMNS = ("service", "user", "user_group", "share")


def read_flows(path: str | Path) -> list[ServiceFlow]:
    """A table of supply and use entries (:data:`FLOW_COLUMNS`, optional
    :data:`FLOW_OPTIONAL`); every problem with file, row and field."""
    from hesuan.land.gep.tables import read_table

    file = str(path)
    frame = read_table(path, FLOW_COLUMNS, FLOW_OPTIONAL)
    problems: list[Problem] = []
    out: list[ServiceFlow] = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        before = len(problems)
        side = row["side"]
        if side not in ("supply", "use"):
            problems.append(Problem(f"unknown side {side!r}", file, line, "side",
                                    "supply | use"))
        groups = SUPPLIER_GROUPS if side == "supply" else USER_GROUPS
        if row["group"] not in groups:
            problems.append(Problem(f"unknown group {row['group']!r}", file, line, "group",
                                    " | ".join(groups)))
        if row["section"] not in SECTIONS:
            problems.append(Problem(f"unknown section {row['section']!r}", file, line,
                                    "section", " | ".join(SECTIONS)))
        for c in ("service", "party", "unit"):
            if not row[c]:
                problems.append(Problem("empty", file, line, c, f"a {c}"))
        q = _num(row["quantity"], file, line, "quantity", problems)
        v = _num(row.get("value"), file, line, "value", problems, optional=True)
        year = None
        if v is not None:
            if not row.get("currency"):
                problems.append(Problem("a value without a currency", file, line, "currency",
                                        "an ISO 4217 code, e.g. CNY"))
            y = _num(row.get("price_year"), file, line, "price_year", problems)
            if y is not None:
                year = int(y)
        if len(problems) > before or q is None:
            continue
        out.append(ServiceFlow(row["service"], row["section"], row["unit"], side,
                               row["party"], row["group"], q, v, row.get("currency") or None,
                               year, f"{file}:{line}"))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the flows table")
    return out


def read_allocation(path: str | Path) -> UseAllocation:
    """A use allocation table (:data:`ALLOCATION_COLUMNS`): per service, its users and
    their shares (adding up to 1)."""
    from hesuan.land.gep.tables import read_table

    file = str(path)
    frame = read_table(path, ALLOCATION_COLUMNS, ("note",))
    problems: list[Problem] = []
    shares: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        if row["user_group"] not in USER_GROUPS:
            problems.append(Problem(f"unknown user group {row['user_group']!r}", file, line,
                                    "user_group", " | ".join(USER_GROUPS)))
            continue
        s = _num(row["share"], file, line, "share", problems)
        if s is not None:
            shares[row["service"]].append((row["user_group"], row["user"], s))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the allocation")
    return UseAllocation({k: tuple(v) for k, v in shares.items()}, source=file)


def _num(text: str | None, file: str, line: int, field: str, problems: list[Problem],
         optional: bool = False) -> float | None:
    if text in (None, ""):
        if not optional:
            problems.append(Problem("empty", file, line, field, "a number"))
        return None
    try:
        x = float(text)
    except ValueError:
        problems.append(Problem(f"not a number: {text!r}", file, line, field, "a number"))
        return None
    if not math.isfinite(x) or x < 0:
        problems.append(Problem(f"{text!r}", file, line, field, "a finite number >= 0"))
        return None
    return x
