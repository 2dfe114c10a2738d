"""The dense code → class look-up for every integer type, with nodata and absent codes."""

from __future__ import annotations

import numpy as np
import pytest

from hesuan.land.raster import build_lookup


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "int32", "uint32",
                                   "int64"])
def test_slots_for_every_integer_type(dtype):
    info = np.iinfo(dtype)
    high = int(info.max) - 1 if info.bits <= 16 else 70_000  # 32/64-bit: a dense span
    codes = np.array(sorted({1, 5, high} | ({-3} if info.min < 0 else set())))
    nodata = int(info.max) if info.min >= 0 else -1
    lk = build_lookup(codes, dtype, nodata, "p.csv", "lucode")
    cells = np.array([[codes[0], codes[-1], nodata, 2]], dtype=dtype)
    slots = lk.slots(cells)
    # class slots follow the sorted table; nodata → K; 2 is absent → K + 1
    assert slots.tolist() == [[0, len(codes) - 1, len(codes), len(codes) + 1]]


def test_wide_code_range_is_refused():
    from hesuan.errors import InputError

    with pytest.raises(InputError) as err:
        build_lookup(np.array([0, 1 << 30]), "int32", None, "p.csv", "lucode")
    assert "p.csv" in str(err.value) and "lucode" in str(err.value)


def test_co2_per_c_is_the_unit_registry_carbon_context():
    """equations.CO2_PER_C is written out (no pint at start-up); it must stay the registry's
    "carbon" context factor, 44/12 (IPCC 2006 Vol. 4 Ch. 2, Eq. 2.2)."""
    from hesuan.land.equations import CO2_PER_C
    from hesuan.units import conversion_factor

    assert CO2_PER_C == conversion_factor("t C", "t CO2", context="carbon") == 44 / 12
