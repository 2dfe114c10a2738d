"""Transition matrix on a tiny hand-made raster pair whose counts can be read off by eye."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from hesuan.errors import InputError
from hesuan.land.ipcc.transitions import transition_emissions, transition_matrix

# 100 m pixels = 1 ha each, so counts are hectares.
FROM = np.array([[1, 1, 2, 2],
                 [1, 1, 2, 2],
                 [3, 3, 3, 9]], dtype=np.uint8)
TO = np.array([[1, 2, 2, 2],
               [1, 2, 2, 3],
               [3, 1, 3, 3]], dtype=np.uint8)


def write(path, array, crs="EPSG:32650", nodata=9, transform=None):
    with rasterio.open(path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0],
                       count=1, dtype=array.dtype, crs=crs, nodata=nodata,
                       transform=transform or Affine(100, 0, 500000, 0, -100, 3000000)) as dst:
        dst.write(array, 1)
    return path


@pytest.fixture()
def pair(tmp_path):
    return write(tmp_path / "a.tif", FROM), write(tmp_path / "b.tif", TO)


@pytest.mark.parametrize("block_rows", [1, 2, 512])
def test_counts_by_eye(pair, block_rows):
    m = transition_matrix(*pair, (1, 2, 3), block_rows=block_rows)
    # from 1: (1->1) x2, (1->2) x2;  from 2: (2->2) x3, (2->3) x1;
    # from 3: (3->3) x2, (3->1) x1;  the 9 (nodata) pixel is not counted.
    np.testing.assert_array_equal(m.counts, [[2, 2, 0], [0, 3, 1], [1, 0, 2]])
    assert m.pixel_area_ha == pytest.approx(1.0)
    assert m.nodata_pixels == 1
    np.testing.assert_allclose(m.area_ha.sum(), 11.0)


def test_emissions_stock_difference_annualised(pair):
    m = transition_matrix(*pair, (1, 2, 3))
    em = transition_emissions(m, {1: 100.0, 2: 40.0, 3: 60.0}, years=10)
    pairs = {(int(a), int(b)): (area, dc, co2) for a, b, area, dc, co2 in zip(
        em.from_class, em.to_class, em.area_ha, em.carbon_change_t_c_per_yr, em.co2_t_per_yr,
        strict=True)}
    # 1 -> 2: 2 ha x (40 - 100) = -120 t C over 10 yr = -12 t C/yr = +44 t CO2/yr emitted.
    assert pairs[(1, 2)] == (pytest.approx(2.0), pytest.approx(-12.0), pytest.approx(44.0))
    # 3 -> 1: 1 ha x (100 - 60) = 40 t C / 10 yr = 4 t C/yr removed = -14.667 t CO2/yr.
    assert pairs[(3, 1)][2] == pytest.approx(-4.0 * 44 / 12)
    assert pairs[(1, 1)][1] == 0.0
    assert (1, 3) not in pairs  # zero-area pairs are not listed


def test_unknown_code_is_named(pair):
    with pytest.raises(InputError) as err:
        transition_matrix(*pair, (1, 2))
    assert "[3]" in str(err.value) and "a.tif" in str(err.value)


def test_grid_and_crs_mismatch(tmp_path, pair):
    shifted = write(tmp_path / "c.tif", TO, transform=Affine(100, 0, 500100, 0, -100, 3000000))
    with pytest.raises(InputError, match="--from"):
        transition_matrix(pair[0], shifted, (1, 2, 3))
    other_crs = write(tmp_path / "d.tif", TO, crs="EPSG:32651")
    with pytest.raises(InputError, match="CRS"):
        transition_matrix(pair[0], other_crs, (1, 2, 3))


def test_geographic_crs_and_missing_file(tmp_path, pair):
    geo = write(tmp_path / "g.tif", FROM, crs="EPSG:4326",
                transform=Affine(0.001, 0, 100, 0, -0.001, 30))
    with pytest.raises(InputError, match="projected"):
        transition_matrix(geo, geo, (1, 2, 3))
    with pytest.raises(InputError, match="file not found"):
        transition_matrix(tmp_path / "missing.tif", pair[1], (1, 2, 3))


def test_bad_period(pair):
    m = transition_matrix(*pair, (1, 2, 3))
    with pytest.raises(InputError, match="--years"):
        transition_emissions(m, {1: 1.0, 2: 1.0, 3: 1.0}, years=0)


def test_blockwise_counts_equal_a_whole_array_count(tmp_path):
    # Independent check: counting (from, to) pairs of the whole arrays at once with
    # np.unique gives the same matrix as the blockwise bincount, nodata excluded.
    rng = np.random.default_rng(7)
    a = rng.integers(0, 6, size=(37, 23), dtype=np.int16)
    b = rng.integers(0, 6, size=(37, 23), dtype=np.int16)
    a[a == 5] = -1  # nodata
    fa, fb = write(tmp_path / "ra.tif", a, nodata=-1), write(tmp_path / "rb.tif", b, nodata=5)
    m = transition_matrix(fa, fb, (0, 1, 2, 3, 4), block_rows=4)
    keep = (a != -1) & (b != 5)
    pairs, counts = np.unique(a[keep] * 5 + b[keep], return_counts=True)
    expected = np.zeros(25, dtype=np.int64)
    expected[pairs] = counts
    np.testing.assert_array_equal(m.counts, expected.reshape(5, 5))
    assert m.nodata_pixels == int((~keep).sum())


def test_analyse_transitions_checks_the_period(pair, tmp_path):
    from hesuan.land.ipcc import analyse_transitions

    stocks = tmp_path / "stocks.csv"
    stocks.write_text("class,carbon_t_c_per_ha\n1,100\n2,40\n3,60\n", encoding="utf-8")
    with pytest.raises(InputError, match="years"):
        analyse_transitions(*pair, stocks, (2020, 2020))
    # Same numbers as transition_emissions on the same maps (period 10 yr).
    result = analyse_transitions(*pair, stocks, (2010, 2020))
    em = transition_emissions(result.matrix, {1: 100.0, 2: 40.0, 3: 60.0}, years=10)
    assert result.summary.carbon_change_t_c_per_yr == pytest.approx(
        float(em.carbon_change_t_c_per_yr.sum()))
    assert result.emissions_frame.height == len(em.area_ha)
