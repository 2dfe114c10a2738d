"""hesuan's unit registry: gases are dimensions; carbon ↔ CO2 needs the named context."""

import pytest

from hesuan.errors import UnitError
from hesuan.units import convert, parse_unit


def test_intensity_units_convert() -> None:
    assert convert(0.107, "kg CO2e / tkm", "g CO2e / tkm") == pytest.approx(107.0)
    # 1 kWh = 3.6 MJ (SI): 0.25 kg/kWh = 69.44 g/MJ
    assert convert(0.25, "kg CO2e / kWh", "g CO2e / MJ") == pytest.approx(250 / 3.6)


def test_carbon_to_co2_only_in_named_context() -> None:
    # IPCC 2006 Vol. 4 Ch. 2: CO2 = C × 44/12
    assert convert(12.0, "t C", "t CO2", context="carbon") == pytest.approx(44.0)
    assert convert(3.0, "t C / ha", "t CO2 / ha", context="carbon") == pytest.approx(11.0)
    with pytest.raises(UnitError, match="named context"):
        convert(1.0, "t C", "t CO2")


def test_gases_do_not_mix() -> None:
    with pytest.raises(UnitError):
        convert(1.0, "kg CH4", "kg CO2e")


def test_unknown_unit_is_a_clear_error() -> None:
    with pytest.raises(UnitError, match="unknown unit 'kg blorp'"):
        parse_unit("kg blorp")


def test_carbon_symbol_is_not_coulomb() -> None:
    assert "carbon" in str(parse_unit("t C / ha").dimensionality)
