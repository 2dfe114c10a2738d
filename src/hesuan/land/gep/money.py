"""Money with its currency and price year, and price-year adjustment by a price index.

A monetary figure of GEP is never a bare float: :class:`Money` carries the currency (ISO
4217) and the year whose prices it is in. Moving a price from one year's prices to another's
uses a fixed-base price index table (定基价格指数, e.g. the CPI):

    P_t = P_base × I_t / I_base

as RCEES-family GEP studies do (and "constant prices" — 不变价 — are the prices of one
fixed year applied to every year). Money of different currencies or years is never added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from hesuan.errors import InputError, Problem


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of ``currency`` at ``price_year`` prices."""

    amount: float
    currency: str
    price_year: int

    def __add__(self, other: Money) -> Money:
        if (other.currency, other.price_year) != (self.currency, self.price_year):
            raise ValueError(f"cannot add {other.currency} of {other.price_year} prices to "
                             f"{self.currency} of {self.price_year} prices")
        return Money(self.amount + other.amount, self.currency, self.price_year)

    def scaled(self, factor: float) -> Money:
        """Return ``factor`` times this amount, in the same currency and price year."""
        return Money(self.amount * factor, self.currency, self.price_year)

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency} ({self.price_year} prices)"


@dataclass(frozen=True)
class PriceIndex:
    """A fixed-base price index by year (any base: only ratios are used).

    ``source`` names where the index was read (e.g. a statistical yearbook table);
    ``path`` the file it came from.
    """

    currency: str
    values: dict[int, float]
    source: str
    path: str = ""

    def factor(self, from_year: int, to_year: int, *, field: str = "year") -> float:
        """I_to / I_from: multiply a price at ``from_year`` prices by it to get ``to_year`` prices.

        Raises :class:`InputError` naming the index file and the missing year.
        """
        if from_year == to_year:
            return 1.0
        missing = [y for y in (from_year, to_year) if y not in self.values]
        if missing:
            have = sorted(self.values)
            raise InputError.single(
                f"the price index has no value for {', '.join(map(str, missing))}",
                file=self.path or None, field=field,
                expected=f"a row for every price year used (index covers "
                         f"{have[0]}–{have[-1]})" if have else "index rows")
        return self.values[to_year] / self.values[from_year]

    def adjust(self, money: Money, to_year: int) -> Money:
        """``money`` expressed at ``to_year`` prices (P_t = P_base × I_t / I_base)."""
        if money.currency != self.currency:
            raise InputError.single(
                f"the price index is for {self.currency}, the amount is in {money.currency}",
                file=self.path or None, field="currency",
                expected=f"a price index in {money.currency}")
        return Money(money.amount * self.factor(money.price_year, to_year), money.currency,
                     to_year)


def read_price_index(path: str | Path, currency: str = "CNY") -> PriceIndex:
    """Read a price-index table (CSV or .xlsx).

    Columns ``year``, ``index`` and optionally ``source``. Every problem is reported with file, row
    and column.
    """
    from hesuan.land.gep.tables import read_table

    frame = read_table(path, required=("year", "index"), optional=("source",))
    problems: list[Problem] = []
    values: dict[int, float] = {}
    sources: set[str] = set()
    file = str(path)
    for i, row in enumerate(frame.iter_rows(named=True)):
        line = i + 2
        try:
            year = int(str(row["year"]).strip())
        except ValueError:
            problems.append(Problem(f"not a year: {row['year']!r}", file, line, "year",
                                    "a four-digit year"))
            continue
        try:
            value = float(str(row["index"]).strip())
        except ValueError:
            problems.append(Problem(f"not a number: {row['index']!r}", file, line, "index",
                                    "a positive index value"))
            continue
        if not math.isfinite(value) or value <= 0:
            problems.append(Problem(f"index {value} is not positive", file, line, "index",
                                    "a positive index value"))
            continue
        if year in values:
            problems.append(Problem(f"year {year} repeats", file, line, "year",
                                    "one row per year"))
            continue
        values[year] = value
        if row.get("source"):
            sources.add(str(row["source"]))
    if problems:
        raise InputError(problems=tuple(problems),
                         summary=f"{file}: {len(problems)} problem(s) in the price index")
    if not values:
        raise InputError.single("no rows", file=file, field="year", expected="index rows")
    return PriceIndex(currency, values, "; ".join(sorted(sources)) or file, file)
