"""Every bad input gives one clear InputError naming the file and the field (or line)."""

from __future__ import annotations

import numpy as np
import pytest

from hesuan.errors import InputError
from hesuan.land.carbon import Valuation, run


def _err(*args, **kwargs) -> str:
    with pytest.raises(InputError) as exc:
        run(*args, mc_samples=0, **kwargs)
    return str(exc.value)


def test_missing_raster(small, tmp_path):
    msg = _err(tmp_path / "nope.tif", small["pools"], tmp_path / "o")
    assert "nope.tif" in msg and "lulc_bas_path" in msg and "not found" in msg


def test_class_absent_from_table(small, tmp_path, make_lulc):
    data = small["base_array"].copy()
    data[2, 2] = 7
    data[4, 4] = 9
    lulc = make_lulc(tmp_path / "x.tif", data)
    msg = _err(lulc, small["pools"], tmp_path / "o")
    assert "x.tif" in msg and "7, 9" in msg and "lucode" in msg and "pools.csv" in msg
    assert not any((tmp_path / "o").glob("*.tif")), "no partial output may remain"
    assert not any((tmp_path / "o").glob(".*partial"))


def test_class_absent_in_alternate_names_the_alternate(small, tmp_path, make_lulc):
    data = small["alt_array"].copy()
    data[0, 0] = 42
    alt = make_lulc(tmp_path / "alt42.tif", data)
    msg = _err(small["base"], small["pools"], tmp_path / "o", alt=alt)
    assert "alt42.tif" in msg and "42" in msg


def test_unprojected_raster(small, tmp_path, make_lulc):
    lulc = make_lulc(tmp_path / "geo.tif", small["base_array"], crs="EPSG:4326", pixel=0.001,
                     origin=(117.0, 31.0))
    msg = _err(lulc, small["pools"], tmp_path / "o")
    assert "geo.tif" in msg and "not projected" in msg and "lulc_bas_path" in msg


def test_raster_without_crs(small, tmp_path, make_lulc):
    lulc = make_lulc(tmp_path / "nocrs.tif", small["base_array"], crs=None)
    assert "no coordinate reference system" in _err(lulc, small["pools"], tmp_path / "o")


def test_float_raster(small, tmp_path, make_lulc):
    lulc = make_lulc(tmp_path / "f.tif", small["base_array"], dtype="float32")
    msg = _err(lulc, small["pools"], tmp_path / "o")
    assert "f.tif" in msg and "float32" in msg and "integer" in msg


def test_multiband_raster(small, tmp_path, make_lulc):
    lulc = make_lulc(tmp_path / "m.tif", small["base_array"], count=2)
    assert "2 bands" in _err(lulc, small["pools"], tmp_path / "o")


def test_alternate_on_other_crs(small, tmp_path, make_lulc):
    alt = make_lulc(tmp_path / "a.tif", small["alt_array"], crs="EPSG:32651")
    msg = _err(small["base"], small["pools"], tmp_path / "o", alt=alt)
    assert "a.tif" in msg and "lulc_alt_path" in msg and "CRS" in msg


def test_alternate_other_size(small, tmp_path, make_lulc):
    alt = make_lulc(tmp_path / "a.tif", small["alt_array"][:-1])
    msg = _err(small["base"], small["pools"], tmp_path / "o", alt=alt)
    assert "5 × 5" in msg and "5 × 6" in msg


def test_alternate_shifted_origin(small, tmp_path, make_lulc):
    # Same size and pixel, origin moved by one pixel: InVEST accepts this silently.
    alt = make_lulc(tmp_path / "a.tif", small["alt_array"], origin=(500_030.0, 3_400_000.0))
    assert "origin" in _err(small["base"], small["pools"], tmp_path / "o", alt=alt)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [("lucode,c_above,c_below,c_soil\n1,1,1,1\n", 1, "c_dead", "missing column"),
     ("lucode,c_above,c_below,c_soil,c_dead\n1,1,x,1,1\n", 2, "c_below", "not a number: 'x'"),
     ("lucode,c_above,c_below,c_soil,c_dead\n1,1,1,1,1\n2,-3,1,1,1\n", 3, "c_above",
      "-3 is below the minimum"),
     ("lucode,c_above,c_below,c_soil,c_dead\n1,1,1,1,1\n1,2,2,2,2\n", 3, "lucode",
      "duplicate key 1 (first on line 2)"),
     ("lucode,c_above,c_below,c_soil,c_dead\n1.5,1,1,1,1\n", 2, "lucode", "not a whole number"),
     ("lucode,c_above,c_below,c_soil,c_dead\n1,1,1,,1\n", 2, "c_soil", "empty"),
     ("lucode,c_above,c_below,c_soil,c_dead,c_soil_lo95\n1,1,1,1,1,0\n", 1, "c_soil_hi95",
      "both bounds"),
     ("lucode,c_above,c_below,c_soil,c_dead,c_above_sd\n1,1,1,1,1,-2\n", 2, "c_above_sd",
      "-2 is below the minimum")],
)
def test_bad_pools_table(small, tmp_path, text, line, field, words):
    pools = tmp_path / "bad_pools.csv"
    pools.write_text(text)
    msg = _err(small["base"], pools, tmp_path / "o")
    assert "bad_pools.csv" in msg and f"line {line}" in msg and f"'{field}'" in msg
    assert words in msg


def test_valuation_without_alternate(small, tmp_path):
    msg = _err(small["base"], small["pools"], tmp_path / "o",
               valuation=Valuation(10, 3, 0, 2020, 2030))
    assert "alternate" in msg and "lulc_alt_path" in msg


def test_monte_carlo_needs_two_draws(small, tmp_path):
    with pytest.raises(InputError) as exc:
        run(small["base"], small["pools"], tmp_path / "o", mc_samples=1)
    assert "mc_samples" in str(exc.value)


def test_unknown_engine(small, tmp_path):
    assert "engine" in _err(small["base"], small["pools"], tmp_path / "o", engine="spark")


def test_years_reversed(small, tmp_path):
    msg = _err(small["base"], small["pools"], tmp_path / "o", alt=small["alt"],
               valuation=Valuation(10, 3, 0, 2030, 2020))
    assert "years" in msg


def test_nodata_contributes_zero_and_stays_nodata(small, tmp_path):
    """Nodata rule: nothing to storage, nodata in every output raster."""
    import rasterio

    res = run(small["base"], small["pools"], tmp_path / "o", alt=small["alt"], mc_samples=0)
    base = small["base_array"]
    expected = 0.09 * sum(np.sum(base == c) * d for c, d in ((1, 180), (2, 56), (3, 0)))
    assert res.storage_base_t_c == pytest.approx(expected)
    with rasterio.open(res.paths["c_storage_bas"]) as ds:
        out = ds.read(1)
        assert np.all((out == np.float32(ds.nodata)) == (base == 255))
    with rasterio.open(res.paths["c_change_bas_alt"]) as ds:
        out = ds.read(1)
        nd = (base == 255) | (small["alt_array"] == 255)
        assert np.all((out == np.float32(ds.nodata)) == nd)
    assert res.summary.pixels_valid_both == 28


def test_bad_regions(small, tmp_path):
    import pyogrio.raw
    import shapely

    bad = tmp_path / "lines.gpkg"
    pyogrio.raw.write(bad, geometry=shapely.to_wkb(np.array(
        [shapely.LineString([(500_000, 3_399_900), (500_100, 3_399_900)])], dtype=object)),
        field_data=[np.array(["a"], dtype=object)], fields=["name"],
        geometry_type="LineString", crs="EPSG:32650", driver="GPKG")
    msg = _err(small["base"], small["pools"], tmp_path / "o", regions=bad)
    assert "lines.gpkg" in msg and "LineString" in msg and "line 1" in msg
    msg = _err(small["base"], small["pools"], tmp_path / "o", regions=bad, region_id="county")
    assert "county" in msg and "name" in msg


def test_cli_bad_input_exit_code_and_message(small, tmp_path):
    from hesuan.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["land", "carbon", "--lulc", str(small["base"]), "--pools", str(small["pools"]),
              "--out", str(tmp_path / "o"), "--price", "10"])
    assert exc.value.code == 2
