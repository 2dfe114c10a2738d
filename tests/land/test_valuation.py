"""Valuation against the numbers pinned by InVEST's own test suite.

natcap/invest ``tests/test_carbon.py`` (read at commit 01e4a5f4):
- ``test_calculate_valuation_constant``: 2010→2012, price 50, discount 50 %, change 5 % →
  ``round(constant, 5) == 40.87302`` (40.873016 to 6 dp, as the issue states);
- ``test_carbon_full`` / ``test_carbon_future``: 10 × 10 rasters of 1 m pixels (1e-4 ha), class
  1 → 2 (−58 t C/ha), price 43, discount −7.1 %, change 2.8 %, 2016→2030 → NPV
  −0.3422078 per pixel, i.e. a constant of 0.3422078 / 0.0058 = 59.00134…(59.001361);
- ``test_carbon_zero_rates``: the same with r = c = 0 → −0.2494 per pixel
  (−58 × 0.0001 × 43: the constant equals the price).
"""

from __future__ import annotations

import pytest

from hesuan.errors import InputError
from hesuan.land.equations import npv, valuation_constant


@pytest.mark.parametrize(
    ("price", "r", "c", "y0", "y1", "expected"),
    [(50.0, 50.0, 5.0, 2010, 2012, 40.873016),
     (43.0, -7.1, 2.8, 2016, 2030, 59.001361),
     (43.0, 0.0, 0.0, 2016, 2030, 43.0)],
)
def test_invest_valuation_constants(price, r, c, y0, y1, expected):
    assert valuation_constant(price, r, c, y0, y1) == pytest.approx(expected, abs=5e-7)


def test_npv_is_sequestration_times_constant():
    # 2010→2012 case: 10 t C sequestered are worth 10 × 40.873016 (InVEST test constant).
    assert float(npv(10.0, valuation_constant(50, 50, 5, 2010, 2012))) == pytest.approx(
        408.73016, abs=1e-5)


def test_years_must_increase():
    with pytest.raises(InputError) as err:
        valuation_constant(10, 3, 0, 2030, 2020)
    assert "years" in str(err.value) and "2030" in str(err.value)


def test_rate_of_minus_100_percent_is_rejected():
    with pytest.raises(InputError) as err:
        valuation_constant(10, -100, 0, 2020, 2030)
    assert "discount_rate" in str(err.value)


def test_invest_full_run_npv_per_pixel(tmp_path, make_lulc):
    """InVEST's test_carbon_full/test_carbon_zero_rates, rebuilt on hesuan's run()."""
    import numpy as np
    import rasterio

    from hesuan.land.carbon import Valuation, run

    pools = tmp_path / "pools.csv"
    # InVEST's make_pools_csv: columns in another order and capitalised (case-insensitive).
    pools.write_text('C_above,C_below,C_soil,C_dead,lucode,LULC_Name\n'
                     '15,10,60,1,1,"lulc code 1"\n5,3,20,0,2,"lulc code 2"\n'
                     '2,1,5,0,3,"lulc code 3"\n')
    kw = dict(crs="EPSG:26910", pixel=1.0, origin=(461261, 4923265), nodata=-1,
              dtype="int32")
    cur = make_lulc(tmp_path / "cur.tif", np.full((10, 10), 1), **kw)
    fut = make_lulc(tmp_path / "fut.tif", np.full((10, 10), 2), **kw)
    for (r, c, expected) in ((-7.1, 2.8, -0.3422078), (0.0, 0.0, -0.2494)):
        res = run(cur, pools, tmp_path / f"out{r}", alt=fut,
                  valuation=Valuation(43.0, r, c, 2016, 2030), mc_samples=0)
        with rasterio.open(res.paths["npv_alt"]) as ds:
            per_pixel = ds.read(1) * res.pixel_area_ha  # hesuan writes currency/ha
        np.testing.assert_allclose(per_pixel, expected, rtol=0, atol=1e-6)
        assert res.npv == pytest.approx(100 * expected, abs=1e-4)
