"""GEP editions: one Gross Ecosystem Product accounting rule's indicators, prices and more, as data.

The indicator set, units, methods, default prices and coefficients of one edition of a Gross
Ecosystem Product (生态产品总值 / 生态系统生产总值) accounting rule.

An edition is a dataset of the standards library — a folder
``data/<edition id>/<version>/`` with the usual ``dataset.toml`` manifest — holding two
tables instead of ``factors.csv`` (``docs/dataset-format.md``, section *GEP editions*):

``indicators.csv``
    one row per indicator (and ecosystem type where the price differs by type): category,
    service, the unit of the valued quantity, the physical method, the valuation method,
    whether the edition counts it, its default price (with the unit it is per, currency,
    price year and source), whether products from outside the region are deducted, and
    whether the row was checked against the edition's text (``verified``; when ``false``,
    ``notes`` says why).
``coefficients.csv``
    the constants the physical methods use (sediment deposition ratio, soil bulk density,
    nutrient contents …), each with unit, source and ``verified``.

Users add their own editions (a provincial standard, a study) as folders of the same form and
load them with :func:`load_gep_edition_path`; every problem is reported with file, line and
field in a :class:`~hesuan.errors.DatasetError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hesuan.errors import DatasetError, FactorNotFoundError, Problem, UnitError
from hesuan.standards.loaders import DATA_ROOT, _natural_key, _read_manifest, csv_rows, user_folder
from hesuan.standards.records import DatasetInfo
from hesuan.units import parse_unit

INDICATORS = "indicators.csv"
COEFFICIENTS = "coefficients.csv"

INDICATOR_COLUMNS: tuple[str, ...] = (
    "id", "ecosystem_type", "category", "service", "name_zh", "quantity_unit", "method",
    "valuation", "counted", "price", "price_per", "currency", "price_year", "price_source",
    "outside_deductible", "verified", "locator", "notes",
)
"""The columns of ``indicators.csv``, all required in the header."""

COEFFICIENT_COLUMNS: tuple[str, ...] = (
    "id", "ecosystem_type", "value", "unit", "source", "locator", "verified", "notes",
)
"""The columns of ``coefficients.csv``, all required in the header."""

CATEGORIES: tuple[str, ...] = ("provisioning", "regulating", "cultural")
"""GEP's three categories: material (provisioning) products, regulating services, cultural
services. Supporting services are not counted (double counting)."""

VALUATIONS: tuple[str, ...] = (
    "market_price", "replacement_cost", "shadow_project", "abatement_cost", "travel_cost",
    "contingent_valuation", "hedonic_price",
)
"""Valuation methods: 市场价值法, 替代成本法, 影子工程法, 防治费用法, 旅行费用法, 条件价值法,
特征价格法 (hedonic price: the landscape premium on property)."""

_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_TYPE = re.compile(r"^[a-z0-9_]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_BOOL = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class GepIndicator:
    """One indicator of an edition (one line of ``indicators.csv``).

    ``price`` is in ``currency`` per ``price_per`` at ``price_year`` prices; ``None`` when the
    edition gives no default (the user supplies one). ``ecosystem_type`` empty: every type.
    """

    edition: str
    id: str
    ecosystem_type: str
    category: str
    service: str
    name_zh: str
    quantity_unit: str
    method: str
    valuation: str
    counted: bool
    price: float | None
    price_per: str
    currency: str
    price_year: int | None
    price_source: str
    outside_deductible: bool
    verified: bool
    locator: str
    notes: str
    line: int = 0

    @property
    def key(self) -> str:
        """``edition:id[@type]``, unique across the library."""
        return f"{self.edition}:{self.id}" + (f"@{self.ecosystem_type}" if self.ecosystem_type
                                              else "")


@dataclass(frozen=True, slots=True)
class GepCoefficient:
    """One constant of an edition's physical methods (one line of ``coefficients.csv``)."""

    edition: str
    id: str
    ecosystem_type: str
    value: float
    unit: str
    source: str
    locator: str
    verified: bool
    notes: str

    @property
    def key(self) -> str:
        """Return ``edition:id``, with ``@ecosystem_type`` for a type's own row."""
        return f"{self.edition}:{self.id}" + (f"@{self.ecosystem_type}" if self.ecosystem_type
                                              else "")


@dataclass(frozen=True)
class GepEdition:
    """A loaded GEP edition: its manifest, indicators and coefficients."""

    info: DatasetInfo
    indicators: tuple[GepIndicator, ...]
    coefficients: tuple[GepCoefficient, ...]
    _by_id: dict[tuple[str, str], GepIndicator] = field(init=False, repr=False, compare=False)
    _coef: dict[tuple[str, str], GepCoefficient] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id",
                           {(i.id, i.ecosystem_type): i for i in self.indicators})
        object.__setattr__(self, "_coef",
                           {(c.id, c.ecosystem_type): c for c in self.coefficients})

    @property
    def key(self) -> str:
        """Return the edition's ``id@version``."""
        return self.info.key

    def __iter__(self) -> Iterator[GepIndicator]:
        return iter(self.indicators)

    def indicator(self, indicator_id: str, ecosystem_type: str = "") -> GepIndicator | None:
        """Return the row for ``indicator_id`` and ``ecosystem_type``, or ``None``.

        Falls back to the row for every type; ``None`` if the edition has neither.
        """
        return self._by_id.get((indicator_id, ecosystem_type)) or self._by_id.get(
            (indicator_id, ""))

    def has_indicator(self, indicator_id: str) -> bool:
        """Return whether the edition has indicator ``indicator_id`` for any ecosystem type."""
        return any(i.id == indicator_id for i in self.indicators)

    def coefficient(self, coefficient_id: str, ecosystem_type: str = "") -> GepCoefficient:
        """Return the coefficient ``coefficient_id``.

        For ``ecosystem_type``, else for every type.
        """
        found = self._coef.get((coefficient_id, ecosystem_type)) or self._coef.get(
            (coefficient_id, ""))
        if found is None:
            known = ", ".join(sorted({c.id for c in self.coefficients})) or "none"
            raise FactorNotFoundError(
                f"edition {self.key} has no coefficient {coefficient_id!r}"
                + (f" for ecosystem type {ecosystem_type!r}" if ecosystem_type else "")
                + f" (it has: {known}); add it to your edition's coefficients.csv")
        return found


# --------------------------------------------------------------------------- loading


def _shipped() -> list[Path]:
    return sorted((p.parent for p in DATA_ROOT.glob(f"*/*/{INDICATORS}")),
                  key=lambda p: (p.parent.name, _natural_key(p.name)))


def list_gep_editions() -> list[DatasetInfo]:
    """Manifests of every shipped GEP edition, sorted by id and version."""
    return [load_gep_edition(p.parent.name, p.name).info for p in _shipped()]


@lru_cache(maxsize=16)
def load_gep_edition(edition_id: str, version: str | None = None) -> GepEdition:
    """Return a shipped edition by id and version (``"gep_garze2010@2017"`` accepted).

    ``None`` takes the newest shipped version. Raises :class:`FactorNotFoundError` naming the
    shipped editions.
    """
    if version is None and "@" in edition_id:
        edition_id, version = edition_id.split("@", 1)
    folders = [p for p in _shipped() if p.parent.name == edition_id]
    if not folders:
        known = ", ".join(f"{p.parent.name}@{p.name}" for p in _shipped()) or "none"
        raise FactorNotFoundError(f"no shipped GEP edition {edition_id!r}; shipped: {known} "
                                  "(or give the folder of your own edition)")
    chosen = folders[-1] if version is None else next(
        (p for p in folders if p.name == version), None)
    if chosen is None:
        raise FactorNotFoundError(
            f"GEP edition {edition_id!r} has no version {version!r}; shipped: "
            + ", ".join(p.name for p in folders))
    return _load_folder(chosen, shipped=True)


def load_gep_edition_path(path: str | Path) -> GepEdition:
    """Load and validate an edition folder of one's own.

    ``dataset.toml``, ``indicators.csv`` and, optionally, ``coefficients.csv``.
    """
    return _load_folder(user_folder(path, "dataset.toml and indicators.csv"), shipped=False)


def resolve_gep_edition(reference: str | Path) -> GepEdition:
    """Return an edition from ``id@version`` (shipped) or from a folder path (one's own)."""
    text = str(reference)
    if Path(text).exists():
        return load_gep_edition_path(text)
    return load_gep_edition(text)


def _load_folder(folder: Path, *, shipped: bool) -> GepEdition:
    problems: list[Problem] = []
    info = _read_manifest(folder, problems, shipped=shipped)
    indicators: list[GepIndicator] = []
    coefficients: list[GepCoefficient] = []
    if info is not None:
        indicators = _read_indicators(folder / INDICATORS, info, problems)
        if (folder / COEFFICIENTS).is_file():
            coefficients = _read_coefficients(folder / COEFFICIENTS, info, problems)
    if problems:
        raise DatasetError(problems=tuple(problems),
                           summary=f"GEP edition {folder} is not valid "
                                   f"({len(problems)} problem(s))")
    assert info is not None
    return GepEdition(info, tuple(indicators), tuple(coefficients))


def _bool(row: dict[str, str], column: str, bad: _Bad) -> bool:
    value = _BOOL.get(row[column].lower())
    if value is None:
        bad(column, f"not true/false: {row[column]!r}", "true or false")
        return False
    return value


class _Bad:
    def __init__(self, problems: list[Problem], file: str, line: int) -> None:
        self.problems, self.file, self.line = problems, file, line
        self.count = 0

    def __call__(self, column: str, message: str, expected: str) -> None:
        self.count += 1
        self.problems.append(Problem(message, self.file, row=self.line, field=column,
                                     expected=expected))


def _unit_ok(text: str, column: str, bad: _Bad) -> None:
    try:
        parse_unit(text)
    except UnitError:
        bad(column, f"unknown unit {text!r}",
            "a unit such as 'm**3', 'yi m**3' (亿 m³), 'wan t' (万 t), 't CO2', 'kWh', 'ha'")


def _read_indicators(path: Path, info: DatasetInfo,
                     problems: list[Problem]) -> list[GepIndicator]:
    name = str(path)
    if not path.is_file():
        problems.append(Problem("missing indicator table", name, expected=INDICATORS))
        return []
    out: list[GepIndicator] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in csv_rows(path, INDICATOR_COLUMNS, problems):
        bad = _Bad(problems, name, line)
        _check_indicator_text(row, bad)
        counted = _bool(row, "counted", bad) if row["counted"] else False
        verified = _bool(row, "verified", bad) if row["verified"] else False
        deductible = (_bool(row, "outside_deductible", bad) if row["outside_deductible"]
                      else False)
        if not verified and not row["notes"]:
            bad("notes", "an unverified row must say why",
                "notes such as 'text of the edition not read'")
        price, year = _indicator_price(row, bad)
        key = (row["id"], row["ecosystem_type"])
        if key in seen:
            bad("id", f"duplicate indicator {row['id']!r} for ecosystem type "
                f"{row['ecosystem_type'] or '(every type)'} (line {seen[key]})",
                "one row per indicator and ecosystem type")
        if bad.count:
            continue
        seen[key] = line
        out.append(GepIndicator(
            edition=info.key, id=row["id"], ecosystem_type=row["ecosystem_type"],
            category=row["category"], service=row["service"], name_zh=row["name_zh"],
            quantity_unit=row["quantity_unit"], method=row["method"],
            valuation=row["valuation"], counted=counted, price=price,
            price_per=row["price_per"], currency=row["currency"], price_year=year,
            price_source=row["price_source"], outside_deductible=deductible,
            verified=verified, locator=row["locator"], notes=row["notes"], line=line))
    if not out and not problems:
        problems.append(Problem("no indicator rows", name, row=2, expected="at least one"))
    return out



def _check_indicator_text(row: dict[str, str], bad: _Bad) -> None:
    """Check an indicator row's required, id, type, category, valuation and unit columns."""
    for column in ("id", "category", "service", "quantity_unit", "method", "valuation",
                   "counted", "verified", "locator"):
        if not row[column]:
            bad(column, "empty", "a value")
    if row["id"] and not _ID.match(row["id"]):
        bad("id", f"bad indicator id {row['id']!r}",
            "dotted lower-case words, e.g. regulating.water_conservation.volume")
    if not _TYPE.match(row["ecosystem_type"]):
        bad("ecosystem_type", f"bad ecosystem type {row['ecosystem_type']!r}",
            "lower-case words with _ (forest, grassland …) or empty for every type")
    if row["category"] and row["category"] not in CATEGORIES:
        bad("category", f"unknown category {row['category']!r}", " | ".join(CATEGORIES))
    if row["valuation"] and row["valuation"] not in VALUATIONS:
        bad("valuation", f"unknown valuation method {row['valuation']!r}",
            " | ".join(VALUATIONS))
    if row["quantity_unit"]:
        _unit_ok(row["quantity_unit"], "quantity_unit", bad)


def _indicator_price(row: dict[str, str], bad: _Bad) -> tuple[float | None, int | None]:
    """Return an indicator row's price and price year (``None`` where not given or bad).

    A price needs its unit, currency, year and source; the price's unit must be one the
    quantity's unit converts to.
    """
    price: float | None = None
    if row["price"]:
        try:
            price = float(row["price"])
        except ValueError:
            bad("price", f"not a number: {row['price']!r}", "a decimal number")
        else:
            if not math.isfinite(price) or price < 0:
                bad("price", f"price {row['price']} is negative or not finite",
                    "a price >= 0")
        for column, what in (("price_per", "the unit the price is per, e.g. m**3"),
                             ("currency", "an ISO 4217 code such as CNY"),
                             ("price_year", "the year of the prices, e.g. 2010"),
                             ("price_source", "where the price was read")):
            if not row[column]:
                bad(column, "a price needs it", what)
    if row["currency"] and not _CURRENCY.match(row["currency"]):
        bad("currency", f"bad currency {row['currency']!r}", "an ISO 4217 code such as CNY")
    year = _price_year(row, bad)
    if row["price_per"]:
        _unit_ok(row["price_per"], "price_per", bad)
        if row["quantity_unit"] and bad.count == 0:
            _check_convertible(row["quantity_unit"], row["price_per"], bad)
    return price, year


def _price_year(row: dict[str, str], bad: _Bad) -> int | None:
    """Return the row's ``price_year`` (1900 … 2100), ``None`` if empty."""
    if not row["price_year"]:
        return None
    try:
        year = int(row["price_year"])
    except ValueError:
        bad("price_year", f"not a year: {row['price_year']!r}", "a four-digit year")
        return None
    if not 1900 <= year <= 2100:
        bad("price_year", f"implausible year {year}", "1900 … 2100")
    return year

def _check_convertible(quantity_unit: str, price_per: str, bad: _Bad) -> None:
    from hesuan.units import convert

    try:
        convert(1.0, quantity_unit, price_per, context="carbon")
    except UnitError:
        bad("price_per", f"a price per {price_per!r} cannot value a quantity in "
            f"{quantity_unit!r}", "a unit of the same dimension as quantity_unit")


def _read_coefficients(path: Path, info: DatasetInfo,
                       problems: list[Problem]) -> list[GepCoefficient]:
    name = str(path)
    out: list[GepCoefficient] = []
    seen: set[tuple[str, str]] = set()
    for line, row in csv_rows(path, COEFFICIENT_COLUMNS, problems):
        bad = _Bad(problems, name, line)
        for column in ("id", "value", "unit", "source", "locator", "verified"):
            if not row[column]:
                bad(column, "empty", "a value")
        value = math.nan
        if row["value"]:
            try:
                value = float(row["value"])
            except ValueError:
                bad("value", f"not a number: {row['value']!r}", "a decimal number")
        if row["unit"]:
            _unit_ok(row["unit"], "unit", bad)
        verified = _bool(row, "verified", bad) if row["verified"] else False
        if not verified and not row["notes"]:
            bad("notes", "an unverified row must say why", "notes")
        key = (row["id"], row["ecosystem_type"])
        if key in seen:
            bad("id", f"duplicate coefficient {row['id']!r}", "one row per id and type")
        if bad.count:
            continue
        seen.add(key)
        out.append(GepCoefficient(info.key, row["id"], row["ecosystem_type"], value,
                                  row["unit"], row["source"], row["locator"], verified,
                                  row["notes"]))
    return out
