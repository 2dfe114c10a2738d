"""GEP accounts from tables.

Physical quantity × price, per region, year, ecosystem type and indicator, under one explicit
edition.

For every row of the quantities table:

1. the edition's indicator row is found (for the row's ecosystem type, else for every type);
   an indicator the edition does not count is carried with ``counted = false`` and left out
   of every total;
2. products from outside the region (``outside_quantity``) are deducted where the edition
   says so (GB/T 46869 defines GEP as the period's products minus those from outside);
3. the net quantity is converted into the unit the price is per (``hesuan.units``; carbon ↔
   CO2 only through the ``carbon`` context);
4. value = quantity × price (market price, replacement cost, shadow project, abatement cost
   or travel cost — the method is the edition's), at the price's year (a value given in
   money — a net output value, visitor spending — is priced 1 per unit of currency and taken
   at the prices of its own year); then re-based by the
   price index to the accounting year (current prices) and to ``constant_year`` (constant
   prices): P_t = P_base × I_t / I_base (:mod:`hesuan.land.gep.money`).

Totals: by category (provisioning, regulating, cultural), GEP, by service and by ecosystem
type, and GEP / GDP when GDP is given. Nothing is computed with a missing price, currency,
price year or index year: the run stops with an :class:`~hesuan.errors.InputError` naming the
file, row and field.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import replace as _replace
from pathlib import Path

import polars as pl

from hesuan.errors import InputError, Problem, UnitError
from hesuan.land.gep.money import Money, PriceIndex
from hesuan.land.gep.tables import read_table
from hesuan.standards.gep_editions import CATEGORIES, GepEdition, GepIndicator
from hesuan.units import convert

QUANTITY_COLUMNS = ("region", "year", "ecosystem_type", "indicator", "quantity", "unit")
QUANTITY_OPTIONAL = ("outside_quantity", "note")
PRICE_COLUMNS = ("indicator", "price", "price_per", "currency", "price_year", "source")
PRICE_OPTIONAL = ("ecosystem_type", "note")
GDP_COLUMNS = ("region", "year", "gdp", "unit", "price_year")


@dataclass(frozen=True, slots=True)
class Price:
    """A price: ``money`` per one ``per`` (a unit), with where it was read.

    ``source``: ``edition@version:indicator`` or ``file:row``.
    """

    money: Money
    per: str
    source: str
    valuation: str


@dataclass(frozen=True, slots=True)
class QuantityRow:
    """One physical quantity of the account (one row of the quantities table)."""

    region: str
    year: int
    ecosystem_type: str
    indicator: str
    quantity: float
    unit: str
    outside_quantity: float = 0.0
    source: str = ""


@dataclass(frozen=True, slots=True)
class ServiceValue:
    """One valued row of the account.

    ``net_quantity`` is in ``price.per`` units (after the outside-region deduction);
    ``value`` is at the price's year, ``value_current`` at the accounting year's prices and
    ``value_constant`` at the constant year's (``None`` when no constant year was asked).
    """

    region: str
    year: int
    ecosystem_type: str
    category: str
    service: str
    indicator: str
    name_zh: str
    quantity: float
    quantity_unit: str
    outside_quantity: float
    net_quantity: float
    price: Price
    value: Money
    value_current: Money
    value_constant: Money | None
    counted: bool
    verified: bool
    method: str
    source: str


@dataclass(frozen=True, slots=True)
class Total:
    """A sum of counted values of one region and year."""

    region: str
    year: int
    key: str  # "provisioning" | "regulating" | "cultural" | "gep" | a service | a type
    current: Money
    constant: Money | None


@dataclass(frozen=True)
class GepAccount:
    """A GEP account: the edition, every valued row and the totals.

    ``by_category`` holds, per region and year, the three categories and ``gep``;
    ``by_service`` and ``by_ecosystem`` the same sums by service and by ecosystem type.
    ``gdp_ratio`` maps (region, year) to GEP / GDP (both at current prices) where GDP was given.
    """

    edition: str
    edition_verified: bool
    currency: str
    constant_year: int | None
    rows: tuple[ServiceValue, ...]
    by_category: tuple[Total, ...]
    by_service: tuple[Total, ...]
    by_ecosystem: tuple[Total, ...]
    gdp: tuple[tuple[str, int, Money], ...] = ()
    gdp_ratio: tuple[tuple[str, int, float], ...] = ()
    price_index_source: str = ""

    def total(self, key: str = "gep", region: str | None = None,
              year: int | None = None) -> Total:
        """Return the total ``key`` (a category, ``gep``, a service or an ecosystem type)."""
        for t in (*self.by_category, *self.by_service, *self.by_ecosystem):
            if t.key == key and region in (None, t.region) and year in (None, t.year):
                return t
        raise KeyError(f"no total {key!r} for region {region!r}, year {year!r}")

    def to_frame(self) -> pl.DataFrame:
        """Return every row as a flat table.

        One column per field; money as amount + currency + price year.
        """
        return pl.DataFrame([_flat(r) for r in self.rows], infer_schema_length=None)


def _flat(r: ServiceValue) -> dict[str, object]:
    c = r.value_constant
    return {
        "region": r.region, "year": r.year, "ecosystem_type": r.ecosystem_type,
        "category": r.category, "service": r.service, "indicator": r.indicator,
        "name_zh": r.name_zh, "quantity": r.quantity, "quantity_unit": r.quantity_unit,
        "outside_quantity": r.outside_quantity, "net_quantity": r.net_quantity,
        "price": r.price.money.amount, "price_per": r.price.per,
        "price_currency": r.price.money.currency, "price_year": r.price.money.price_year,
        "price_source": r.price.source, "valuation": r.price.valuation,
        "value": r.value.amount, "value_price_year": r.value.price_year,
        "value_current": r.value_current.amount, "current_price_year": r.value_current.price_year,
        "value_constant": None if c is None else c.amount,
        "constant_price_year": None if c is None else c.price_year,
        "currency": r.value.currency, "counted": r.counted, "verified": r.verified,
        "method": r.method, "source": r.source,
    }


# --------------------------------------------------------------------------- reading


def _number(text: str | None, file: str, line: int, field: str, problems: list[Problem],
            *, negative_ok: bool = False) -> float | None:
    if text is None or text == "":
        problems.append(Problem("empty", file, line, field, "a number"))
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(f"not a number: {text!r}", file, line, field,
                                "a decimal number (. as decimal mark)"))
        return None
    if not math.isfinite(value):
        problems.append(Problem(f"not finite: {text!r}", file, line, field, "a finite number"))
        return None
    if value < 0 and not negative_ok:
        problems.append(Problem(f"negative quantity {value}", file, line, field,
                                "a quantity >= 0 (a service is never negative; a loss "
                                "belongs in another account)"))
        return None
    return value


def _year(text: str | None, file: str, line: int, field: str,
          problems: list[Problem]) -> int | None:
    try:
        year = int(str(text))
    except (TypeError, ValueError):
        problems.append(Problem(f"not a year: {text!r}" if text else "empty", file, line,
                                field, "a four-digit year"))
        return None
    if not 1900 <= year <= 2100:
        problems.append(Problem(f"implausible year {year}", file, line, field, "1900 … 2100"))
        return None
    return year


def read_quantities(path: str | Path) -> list[QuantityRow]:
    """Return the quantities table.

    ``region, year, ecosystem_type, indicator, quantity, unit`` (+ ``outside_quantity``, ``note``).
    Units are any ``hesuan.units`` expression (``yi m**3`` for 亿 m³, ``wan t`` for 万 t, ``t CO2``
    …).
    """
    file = str(path)
    frame = read_table(path, QUANTITY_COLUMNS, QUANTITY_OPTIONAL)
    problems: list[Problem] = []
    rows: list[QuantityRow] = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        before = len(problems)
        year = _year(row["year"], file, line, "year", problems)
        q = _number(row["quantity"], file, line, "quantity", problems)
        out = 0.0
        if row.get("outside_quantity"):
            out = _number(row["outside_quantity"], file, line, "outside_quantity",
                          problems) or 0.0
        for column in ("region", "indicator", "unit"):
            if not row[column]:
                problems.append(Problem("empty", file, line, column, "a value"))
        if len(problems) > before:
            continue
        assert year is not None and q is not None
        rows.append(QuantityRow(row["region"], year, row["ecosystem_type"] or "",
                                row["indicator"], q, row["unit"], out, f"{file}:{line}"))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the quantities")
    if not rows:
        raise InputError.single("no rows", file=file, field="quantity",
                                expected="one row per region, year, type and indicator")
    return rows


def read_prices(path: str | Path) -> dict[tuple[str, str], Price]:
    """Return a price table of one's own.

    ``indicator, price, price_per, currency, price_year, source`` (+ ``ecosystem_type``). It
    overrides the edition's prices row by row.
    """
    file = str(path)
    frame = read_table(path, PRICE_COLUMNS, PRICE_OPTIONAL)
    problems: list[Problem] = []
    out: dict[tuple[str, str], Price] = {}
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        before = len(problems)
        price = _number(row["price"], file, line, "price", problems)
        year = _year(row["price_year"], file, line, "price_year", problems)
        currency = row["currency"] or ""
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            problems.append(Problem(f"bad currency {currency!r}" if currency else "empty",
                                    file, line, "currency", "an ISO 4217 code such as CNY"))
        for column in ("indicator", "price_per", "source"):
            if not row[column]:
                problems.append(Problem("empty", file, line, column, "a value"))
        if row["price_per"]:
            try:
                convert(1.0, row["price_per"], row["price_per"])
            except UnitError:
                problems.append(Problem(f"unknown unit {row['price_per']!r}", file, line,
                                        "price_per", "a unit such as m**3, t, kWh, ha"))
        key = (row["indicator"], row.get("ecosystem_type") or "")
        if key in out:
            problems.append(Problem(f"price of {key[0]} repeats", file, line, "indicator",
                                    "one price per indicator and ecosystem type"))
        if len(problems) > before:
            continue
        assert price is not None and year is not None
        out[key] = Price(Money(price, currency, year), row["price_per"],
                         f"{file}:{line} ({row['source']})", "")
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the prices")
    return out


def read_gdp(path: str | Path) -> dict[tuple[str, int], Money]:
    """GDP by region and year: ``region, year, gdp, unit, price_year`` (unit e.g. ``yi CNY``)."""
    file = str(path)
    frame = read_table(path, GDP_COLUMNS, ("note",))
    problems: list[Problem] = []
    out: dict[tuple[str, int], Money] = {}
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        before = len(problems)
        year = _year(row["year"], file, line, "year", problems)
        py = _year(row["price_year"], file, line, "price_year", problems)
        gdp = _number(row["gdp"], file, line, "gdp", problems)
        amount = None
        if gdp is not None:
            try:
                amount = convert(gdp, row["unit"] or "", "CNY")
            except UnitError:
                problems.append(Problem(f"unit {row['unit']!r} is not an amount of CNY", file,
                                        line, "unit", "CNY, wan CNY or yi CNY"))
        if len(problems) > before:
            continue
        assert year is not None and py is not None and amount is not None
        out[(row["region"], year)] = Money(amount, "CNY", py)
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the GDP table")
    return out


# --------------------------------------------------------------------------- accounting


def compute_account(edition: GepEdition, quantities: Iterable[QuantityRow], *,
                    prices: dict[tuple[str, str], Price] | None = None,
                    price_index: PriceIndex | None = None, constant_year: int | None = None,
                    gdp: dict[tuple[str, int], Money] | None = None) -> GepAccount:
    """Value every quantity under ``edition`` and total the account.

    Parameters
    ----------
    edition : the GEP edition (always explicit; every result names it)
    quantities : physical quantities (:func:`read_quantities`, or built in Python)
    prices : prices of one's own, overriding the edition's, by (indicator, ecosystem type)
    price_index : fixed-base price index; needed whenever a price's year differs from the
        accounting year or from ``constant_year``
    constant_year : report constant prices of this year too
    gdp : GDP by (region, year) at current prices, for the GEP / GDP ratio

    Raises
    ------
    InputError
        Every problem at once: an indicator the edition does not have, a quantity without a
        price (naming indicator and ecosystem type), a unit that cannot be valued by the
        price's unit, an outside-region deduction the edition does not allow or larger than
        the quantity, a missing price-index year, mixed currencies.
    """
    prices = prices or {}
    problems: list[Problem] = []
    rows: list[ServiceValue] = []
    for q in quantities:
        row = _value_row(edition, q, prices, price_index, constant_year, problems)
        if row is not None:
            rows.append(row)
    currencies = {r.price.money.currency for r in rows}
    if len(currencies) > 1:
        problems.append(Problem(f"prices in several currencies: {sorted(currencies)}",
                                field="currency", expected="one currency per account"))
    if problems:
        unique = tuple(dict.fromkeys(problems))  # one price missing a year is one problem
        raise InputError(problems=unique,
                         summary=f"GEP account under {edition.key}: {len(unique)} problem(s)")
    currency = currencies.pop() if currencies else "CNY"
    by_cat, by_service, by_type = _totals(rows, constant_year)
    gdp_rows, ratios = _gdp_ratios(gdp or {}, by_cat, price_index)
    return GepAccount(edition.key, all(r.verified for r in rows if r.counted), currency,
                      constant_year, tuple(rows), by_cat, by_service, by_type,
                      tuple(gdp_rows), tuple(ratios),
                      price_index.source if price_index else "")


def _value_row(edition: GepEdition, q: QuantityRow, prices: dict[tuple[str, str], Price],
               price_index: PriceIndex | None, constant_year: int | None,
               problems: list[Problem]) -> ServiceValue | None:
    """Value one quantity row of :func:`compute_account`.

    Returns ``None`` after adding the row's problem to ``problems`` when it cannot be valued.
    """
    file, _, line_text = q.source.rpartition(":")
    file = file or q.source
    line = int(line_text) if line_text.isdigit() else None

    def bad(message: str, field: str, expected: str) -> None:
        problems.append(Problem(message, file or None, line, field, expected))

    if not (math.isfinite(q.quantity) and q.quantity >= 0):
        bad(f"quantity {q.quantity} of {q.indicator} is negative or not finite", "quantity",
            "a quantity >= 0 (a service is never negative; a loss belongs in another "
            "account)")
        return None
    ind = edition.indicator(q.indicator, q.ecosystem_type)
    if ind is None:
        _unknown_indicator(edition, q, bad)
        return None
    price = _price_of(edition, ind, q, prices, bad)
    if price is None:
        return None
    if q.outside_quantity and not ind.outside_deductible:
        bad(f"edition {edition.key} does not deduct outside-region products for "
            f"{q.indicator}", "outside_quantity", "empty or 0 for this edition")
        return None
    if q.outside_quantity > q.quantity:
        bad(f"outside-region part {q.outside_quantity} exceeds the quantity {q.quantity}",
            "outside_quantity", "at most the quantity")
        return None
    quantity, unit = q.quantity, q.unit
    derived = _derive(edition, q, price.per)
    if derived is not None:
        (quantity, unit), q = derived, _replace(q, outside_quantity=0.0)
    try:
        factor = convert(1.0, unit, price.per, context="carbon")
    except UnitError:
        bad(f"a quantity in {q.unit!r} cannot be valued by a price per {price.per!r} "
            f"({price.source})", "unit", f"a unit convertible to {price.per}")
        return None
    net = (quantity - q.outside_quantity) * factor
    value = _value_of(ind, net, price)
    try:
        current = _rebase(value, q.year, price_index, "year")
        constant = (None if constant_year is None
                    else _rebase(value, constant_year, price_index, "constant_year"))
    except InputError as exc:
        for p in exc.problems:
            problems.append(Problem(f"{p.message} (price {price.source}, price year "
                                    f"{price.money.price_year}, row for {q.year})",
                                    p.file or file, p.row if p.file else line, p.field,
                                    p.expected))
        return None
    return ServiceValue(
        q.region, q.year, q.ecosystem_type, ind.category, ind.service, q.indicator,
        ind.name_zh, q.quantity, q.unit, q.outside_quantity, net, price, value, current,
        constant, ind.counted, ind.verified, ind.method, q.source)


def _value_of(ind: GepIndicator, net: float, price: Price) -> Money:
    """Return quantity × price at the price's year.

    The landscape premium (valuation ``hedonic_price``) runs its cited equation,
    V = A · P (:func:`hesuan.land.gep.equations.landscape_premium_value`): the benefiting
    area in the unit the premium is per, times the premium.
    """
    if ind.valuation == "hedonic_price":
        from hesuan.land.gep.equations import landscape_premium_value

        amount = float(landscape_premium_value(net, price.money.amount))
        return Money(amount, price.money.currency, price.money.price_year)
    return price.money.scaled(net)


def _unknown_indicator(edition: GepEdition, q: QuantityRow,
                       bad: Callable[[str, str, str], None]) -> None:
    """Report a quantity whose indicator (or its ecosystem type) the edition does not have."""
    if edition.has_indicator(q.indicator):
        bad(f"edition {edition.key} has no row for ecosystem type "
            f"{q.ecosystem_type!r} of {q.indicator}", "ecosystem_type",
            "a type the edition prices, or a price of your own (--prices)")
    else:
        near = [i.id for i in edition.indicators if q.indicator.split(".")[-1] in i.id]
        bad(f"edition {edition.key} has no indicator {q.indicator!r}", "indicator",
            "one of the edition's indicators" + (f", e.g. {', '.join(near[:3])}"
                                                 if near else ""))


def _price_of(edition: GepEdition, ind: GepIndicator, q: QuantityRow,
              prices: dict[tuple[str, str], Price],
              bad: Callable[[str, str, str], None]) -> Price | None:
    """Return the price that values ``q``: one's own (``prices``) first, else the edition's.

    A price of one's own keeps the edition's valuation method. Returns ``None`` (after
    reporting it through ``bad``) when neither gives one.
    """
    price = prices.get((q.indicator, q.ecosystem_type)) or prices.get((q.indicator, ""))
    if price is None and ind.price is not None:
        assert ind.price_year is not None
        price = Price(Money(ind.price, ind.currency, ind.price_year), ind.price_per,
                      ind.key, ind.valuation)
    elif price is not None:
        price = Price(price.money, price.per, price.source, ind.valuation)
    if price is None:
        bad(f"no price for {q.indicator}"
            + (f" (ecosystem type {q.ecosystem_type})" if q.ecosystem_type else "")
            + f": edition {edition.key} gives none"
            + ("" if ind.verified else " (its text was not read)"), "indicator",
            "a price of your own in --prices (indicator, price, price_per, currency, "
            "price_year, source)")
        return None
    if price.per == price.money.currency and price.money.amount == 1.0:
        # A given value (a net output value, visitor spending): money of the row's own
        # year, so at current prices of that year.
        price = Price(Money(1.0, price.money.currency, q.year), price.per, price.source,
                      price.valuation)
    return price


def _gdp_ratios(gdp: dict[tuple[str, int], Money], by_cat: tuple[Total, ...],
                price_index: PriceIndex | None,
                ) -> tuple[list[tuple[str, int, Money]], list[tuple[str, int, float]]]:
    """Return GDP at current prices by (region, year) and the GEP / GDP ratio where both exist."""
    gdp_rows: list[tuple[str, int, Money]] = []
    ratios: list[tuple[str, int, float]] = []
    for (region, year), money in sorted(gdp.items()):
        current_gdp = _rebase(money, year, price_index, "gdp price_year")
        gdp_rows.append((region, year, current_gdp))
        gep = next((t for t in by_cat if t.key == "gep" and t.region == region
                    and t.year == year), None)
        if gep is not None and current_gdp.amount > 0:
            ratios.append((region, year, gep.current.amount / current_gdp.amount))
    return gdp_rows, ratios

def _derive(edition: GepEdition, q: QuantityRow, per: str) -> tuple[float, str] | None:
    """Quantities that statistics give in another form than the one priced.

    Sand fixed as a mass [t] becomes the area it would cover, Q / (ρ · h) [m²] (Garzê 2010 Eq. 6),
    with the edition's ``sand_bulk_density`` and ``sand_cover_depth``. ``None`` when nothing is to
    do.
    """
    from hesuan.land.gep.equations import sand_fixation_area_m2

    if q.indicator != "regulating.sand_fixation.area":
        return None
    try:
        tonnes = convert(q.quantity - q.outside_quantity, q.unit, "t")
    except UnitError:
        return None
    try:
        convert(1.0, "m**2", per)
    except UnitError:
        return None
    rho = edition.coefficient("sand_bulk_density", q.ecosystem_type).value
    depth = edition.coefficient("sand_cover_depth", q.ecosystem_type).value
    return float(sand_fixation_area_m2(tonnes, rho, depth)), "m**2"


def _rebase(value: Money, year: int, index: PriceIndex | None, field: str) -> Money:
    if value.price_year == year:
        return value
    if index is None:
        raise InputError.single(
            f"a value at {value.price_year} prices is needed at {year} prices and no price "
            "index was given", field=field,
            expected="--price-index with rows for both years (P_t = P_base × I_t / I_base)")
    return index.adjust(value, year)


def _totals(rows: list[ServiceValue], constant_year: int | None
            ) -> tuple[tuple[Total, ...], tuple[Total, ...], tuple[Total, ...]]:
    cur: dict[tuple[str, str, int, str], float] = defaultdict(float)
    const: dict[tuple[str, str, int, str], float] = defaultdict(float)
    currency = rows[0].value.currency if rows else "CNY"
    for r in rows:
        if not r.counted:
            continue
        for kind, key in (("cat", r.category), ("cat", "gep"), ("svc", r.service),
                          ("eco", r.ecosystem_type or "all")):
            cur[(kind, r.region, r.year, key)] += r.value_current.amount
            if r.value_constant is not None:
                const[(kind, r.region, r.year, key)] += r.value_constant.amount
    regions_years = sorted({(r.region, r.year) for r in rows if r.counted})
    out: dict[str, list[Total]] = {"cat": [], "svc": [], "eco": []}
    for kind in out:
        order = (*CATEGORIES, "gep")
        keys = sorted({k[3] for k in cur if k[0] == kind},
                      key=lambda k: (order.index(k), k) if kind == "cat" else (0, k))
        for region, year in regions_years:
            for key in keys:
                k = (kind, region, year, key)
                if k not in cur and kind != "cat":
                    continue
                constant = (Money(const[k], currency, constant_year)
                            if constant_year is not None else None)
                out[kind].append(Total(region, year, key, Money(cur[k], currency, year),
                                       constant))
    return tuple(out["cat"]), tuple(out["svc"]), tuple(out["eco"])
