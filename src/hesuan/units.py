"""The one unit registry of hesuan, extended from ``standards/data/units.txt``.

Units are parsed and converted at the boundaries (reading factor files and user inputs);
calculations inside hesuan use plain floats in the documented units (``*_kg``, ``*_km``,
``*_t_c_per_ha`` …).

Example
-------
>>> convert(1.0, "kg CO2e / tkm", "g CO2e / tkm")
1000.0
>>> round(convert(1.0, "t C", "t CO2", context="carbon"), 4)
3.6667
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pint

from hesuan.errors import UnitError

_DEFINITIONS = Path(__file__).parent / "standards" / "data" / "units.txt"


def _build_registry() -> pint.UnitRegistry:
    registry: pint.UnitRegistry = pint.UnitRegistry(on_redefinition="ignore", cache_folder=None)
    with _DEFINITIONS.open("r", encoding="utf-8") as handle:
        definitions = [line.rstrip("\n") for line in handle]
    registry.load_definitions(definitions)
    return registry


ureg: pint.UnitRegistry = _build_registry()
Quantity = ureg.Quantity


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Unit:
    """Parse a unit expression such as ``"kg CO2e / tkm"``.

    Raises
    ------
    UnitError
        If pint cannot parse the text with hesuan's units.
    """
    try:
        return ureg.Unit(text)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError,
            AttributeError, TypeError, ValueError, AssertionError) as exc:
        raise UnitError.single(
            f"unknown unit {text!r} ({exc})",
            expected="a unit expression such as 'kg CO2e / tkm', 'MJ / kg', 't C / ha'",
        ) from None


def dimensionality(text: str) -> str:
    """Return the dimensionality of a unit expression, as pint prints it."""
    return str(parse_unit(text).dimensionality)


def conversion_factor(from_unit: str, to_unit: str, *, context: str | None = None) -> float:
    """Return the number that converts a value in ``from_unit`` into ``to_unit``.

    Conversions that need an assumption (carbon ↔ CO2) only work inside the named
    ``context``; without it they raise :class:`UnitError`.
    """
    return convert(1.0, from_unit, to_unit, context=context)


def convert(value: float, from_unit: str, to_unit: str, *, context: str | None = None) -> float:
    """Convert ``value`` from ``from_unit`` to ``to_unit`` (plain floats in and out)."""
    quantity = value * parse_unit(from_unit)
    try:
        if context:
            with ureg.context(context):
                return float(quantity.to(parse_unit(to_unit)).magnitude)
        return float(quantity.to(parse_unit(to_unit)).magnitude)
    except pint.errors.DimensionalityError:
        raise UnitError.single(
            f"cannot convert {from_unit!r} to {to_unit!r}"
            + ("" if context else " without a named context"),
            expected=f"a unit of dimension {dimensionality(to_unit)}",
        ) from None
