"""The Cloud-Optimized GeoTIFFs of the carbon model: layout, overviews and values.

Every output raster is ``lut[class map]`` (InVEST carbon model: a pool raster is the class's
density, t C/ha; storage the sum of the pools; sequestration alternate − baseline storage),
written by GDAL's COG driver from a VRT derived band over the class map
(:func:`hesuan.land.outputs.to_cog`). The layout is checked as GDAL's COG validation
(``validate_cloud_optimized_geotiff.py``, https://gdal.org/drivers/raster/cog.html) defines
it, through the TIFF metadata GDAL reports (``IFD_OFFSET``, ``BLOCK_OFFSET_x_y``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling

from hesuan.land.carbon import Valuation, run
from hesuan.land.outputs import CogJob, lookup_pixels, to_cog
from hesuan.land.pools import read_pools
from hesuan.land.spec import NODATA_F32

from .conftest import POOLS_CSV
from .test_tiled_outputs import _expected, _maps


def _cog_problems(path) -> list[str]:
    """What makes ``path`` not a Cloud-Optimized GeoTIFF (empty: it is one).

    The rules of GDAL's COG validation: the full resolution and every overview tiled (when
    larger than a tile); the full resolution's IFD first, then the overviews' IFDs in order,
    all before any tile data; the tile data of the smallest overview first and that of the
    full resolution last; within each level the tiles in row-major order.
    """
    problems: list[str] = []
    with rasterio.open(path) as ds:
        factors = ds.overviews(1)
    levels = [None, *range(len(factors))]
    ifds, first, last = [], [], []
    for level in levels:
        kw = {} if level is None else {"overview_level": level}
        with rasterio.open(path, **kw) as ds:
            name = "full resolution" if level is None else f"overview {level}"
            bh, bw = ds.block_shapes[0]
            if (bw == ds.width and ds.width > 512) or bh == 1:
                problems.append(f"{name} is not tiled")
            ifds.append(int(ds.get_tag_item("IFD_OFFSET", "TIFF", bidx=1)))
            offsets = [int(ds.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", bidx=1))
                       for y in range(-(-ds.height // bh)) for x in range(-(-ds.width // bw))]
            if offsets != sorted(offsets):
                problems.append(f"{name}: tiles not in row-major order")
            first.append(offsets[0])
            last.append(offsets[-1])
    if ifds != sorted(ifds):
        problems.append(f"IFDs not in level order: {ifds}")
    if max(ifds) > min(first):
        problems.append("an IFD after tile data")
    for i in range(1, len(levels)):
        # level i is smaller than level i − 1: its data must come before.
        if last[i] > first[i - 1]:
            problems.append(f"data of level {i} after that of level {i - 1}")
    return problems


@pytest.fixture
def cog_run(tmp_path, make_lulc):
    base, alt = _maps((1100, 1300))  # 3 × 3 tiles of 512 px, two overview levels
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    val = Valuation(43.0, -7.1, 2.8, 2016, 2030)
    r = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "o",
            alt=make_lulc(tmp_path / "a.tif", alt), valuation=val, mc_samples=0,
            raster_format="cog")
    return r, _expected(read_pools(pools), base, alt, val.constant_per_t_c)


def test_every_raster_is_a_valid_cog(cog_run):
    r, expected = cog_run
    assert len(expected) == 12
    for name in expected:
        path = r.paths[name]
        assert _cog_problems(path) == [], name
        with rasterio.open(path) as ds:
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert ds.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION") == "ZSTD"
            assert ds.overviews(1) == [2, 4]
            assert ds.nodata == float(NODATA_F32)


def test_the_check_finds_a_plain_geotiff(tmp_path, cog_run):
    """A tiled GeoTIFF whose overviews were added afterwards is not a COG (its overview
    IFDs and data follow the full resolution's): the layout check must say so."""
    r, _ = cog_run
    plain = tmp_path / "plain.tif"
    with rasterio.open(r.paths["c_storage_bas"]) as src:
        profile = dict(src.profile, driver="GTiff")
        data = src.read(1)
    with rasterio.open(plain, "w", **profile) as ds:
        ds.write(data, 1)
    with rasterio.open(plain, "r+") as ds:
        ds.build_overviews([2, 4], Resampling.nearest)
    assert _cog_problems(plain)


def test_values_are_the_lookup_bit_for_bit(cog_run):
    r, expected = cog_run
    for name, want in expected.items():
        with rasterio.open(r.paths[name]) as ds:
            assert np.array_equal(ds.read(1).view(np.uint32), want.view(np.uint32)), name


def test_overviews_are_the_nearest_overviews_of_the_raster(tmp_path, cog_run):
    """Each overview is the look-up of the class map's nearest-neighbour overview, which is
    the nearest-neighbour overview GDAL builds from the float raster itself."""
    r, expected = cog_run
    for name in ("c_storage_bas", "c_dead_alt", "c_change_bas_alt", "npv_alt"):
        own = tmp_path / f"{name}_own.tif"
        with rasterio.open(own, "w", driver="GTiff", width=1300, height=1100, count=1,
                           dtype="float32", tiled=True, crs="EPSG:32650",
                           transform=rasterio.Affine(30, 0, 0, 0, -30, 0)) as ds:
            ds.write(expected[name], 1)
        with rasterio.open(own, "r+") as ds:
            ds.build_overviews([2, 4], Resampling.nearest)
        for level in range(2):
            with rasterio.open(r.paths[name], overview_level=level) as a, \
                    rasterio.open(own, overview_level=level) as b:
                got, want = a.read(1), b.read(1)
            assert got.shape == want.shape
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (name, level)


def test_two_byte_class_maps(tmp_path, make_lulc):
    """40 classes: the pair map has more than 256 value classes (uint16 class map), read
    by the pixel function as UInt16."""
    rng = np.random.default_rng(11)
    codes = np.arange(1, 41)
    base = rng.choice(codes, size=(600, 700)).astype(np.uint8)
    alt = np.where(rng.random(base.shape) < 0.5, rng.choice(codes, size=base.shape), base)
    rows = ["lucode,c_above,c_below,c_soil,c_dead"] + [
        f"{k},{k * k * 0.37},{k % 7},{100 - k},{k % 3 * 0.25}" for k in codes]
    pools = tmp_path / "pools.csv"
    pools.write_text("\n".join(rows) + "\n")
    val = Valuation(43.0, -7.1, 2.8, 2016, 2030)
    r = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "o",
            alt=make_lulc(tmp_path / "a.tif", alt), valuation=val, mc_samples=0,
            raster_format="vrt")
    with rasterio.open(r.paths["class_pair"]) as ds:
        assert ds.dtypes[0] == "uint16" and int(ds.read(1).max()) > 255
    cog = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "c",
              alt=make_lulc(tmp_path / "a.tif", alt), valuation=val, mc_samples=0,
              raster_format="cog")
    expected = _expected(read_pools(pools), base, alt, val.constant_per_t_c)
    for name, want in expected.items():
        with rasterio.open(cog.paths[name]) as ds:
            assert np.array_equal(ds.read(1).view(np.uint32), want.view(np.uint32)), name


def test_python_pixel_functions_stay_off_outside_the_copy(tmp_path):
    """GDAL may run this module's pixel function during the copy only: afterwards the
    look-up VRT cannot be read (nor any other VRT's Python code run)."""
    class_map = tmp_path / "class.tif"
    with rasterio.open(class_map, "w", driver="GTiff", width=64, height=64, count=1,
                       dtype="uint8", crs="EPSG:32650",
                       transform=rasterio.Affine(30, 0, 0, 0, -30, 0)) as ds:
        ds.write(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64).astype(np.uint8) % 3, 1)
    lut = np.array([1.5, 2.5, -7.25], dtype=np.float32)
    target = tmp_path / "x.tif"
    to_cog(CogJob(str(class_map), lut, str(target), "t C/ha", str(tmp_path / "x")))
    with rasterio.open(target) as ds:
        got = ds.read(1)
    assert np.array_equal(got, lut[np.arange(64 * 64).reshape(64, 64) % 256 % 3])
    assert not list(tmp_path.glob("x.*vrt"))  # the job's VRTs are gone
    from hesuan.land.outputs import lookup_vrt

    vrt = tmp_path / "view.vrt"
    vrt.write_text(lookup_vrt(str(class_map), lut, "t C/ha"))
    with pytest.raises(rasterio.errors.RasterioIOError), rasterio.open(vrt) as ds:
        ds.read(1)


def test_pixel_function_is_the_lookup():
    lut = np.array([0.1, 2.0, float(NODATA_F32)], dtype=np.float32)
    classes = np.array([[2, 0, 1], [1, 1, 0]], dtype=np.uint8)
    out = np.empty(classes.shape, np.float32)
    text = ",".join(repr(float(v)) for v in lut).encode()
    lookup_pixels([classes], out, 0, 0, 3, 2, 3, 2, 0, (0, 1, 0, 0, 0, -1), lut=text)
    assert np.array_equal(out.view(np.uint32), lut[classes].view(np.uint32))


def test_dask_engine_writes_the_same_cogs(tmp_path, make_lulc):
    base, alt = _maps((700, 900))
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    kw = dict(alt=make_lulc(tmp_path / "a.tif", alt), mc_samples=0,
              valuation=Valuation(43.0, -7.1, 2.8, 2016, 2030), outputs=["c_storage", "npv"],
              raster_format="cog")
    lulc = make_lulc(tmp_path / "b.tif", base)
    local = run(lulc, pools, tmp_path / "l", **kw)
    dask = run(lulc, pools, tmp_path / "d", engine="dask", workers=1, **kw)
    for name in ("c_storage_bas", "c_storage_alt", "npv_alt"):
        assert _cog_problems(dask.paths[name]) == []
        assert dask.paths[name].read_bytes() == local.paths[name].read_bytes(), name
    shutil.rmtree(tmp_path / "d")


def test_default_format_class_map_cogs_and_vrt_lookups(tmp_path, make_lulc):
    """The default (``vrt``): each class map a valid COG with overviews, each raster a VRT
    that GDAL reads as the look-up, bit for bit, at full resolution and at every overview
    level (the class map's overview looked up)."""
    base, alt = _maps((1100, 1300))
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    val = Valuation(43.0, -7.1, 2.8, 2016, 2030)
    r = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "o",
            alt=make_lulc(tmp_path / "a.tif", alt), valuation=val, mc_samples=0)
    assert r.summary.raster_format == "vrt"
    expected = _expected(read_pools(pools), base, alt, val.constant_per_t_c)
    for tag in ("bas", "alt", "pair"):
        path = r.paths[f"class_{tag}"]
        assert _cog_problems(path) == [], tag
        with rasterio.open(path) as ds:
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert ds.overviews(1) == [2, 4]
    for name, want in expected.items():
        path = r.paths[name]
        assert path.suffix == ".vrt"
        with rasterio.open(path) as ds:
            assert np.array_equal(ds.read(1).view(np.uint32), want.view(np.uint32)), name
            assert ds.overviews(1) == [2, 4]
        tag = "pair" if name in ("c_change_bas_alt", "npv_alt") else name[-3:]
        with rasterio.open(r.paths[f"class_{tag}"]) as cm:
            classes = cm.read(1)
        # the look-up of this raster, recovered from the full-resolution values
        lut = np.zeros(int(classes.max()) + 1, np.float32)
        lut[classes.ravel()] = want.ravel()
        for level in range(2):
            with rasterio.open(path, overview_level=level) as ds, \
                    rasterio.open(r.paths[f"class_{tag}"], overview_level=level) as cm:
                got, over = ds.read(1), cm.read(1)
            assert np.array_equal(got.view(np.uint32), lut[over].view(np.uint32)), (name, level)


def test_a_failed_copy_is_a_clear_error(tmp_path):
    """GDAL failing inside the copy (here: the target's folder does not exist) is a
    HesuanError naming the raster and the other format, not a GDAL traceback; the job's
    VRTs are removed."""
    from hesuan.errors import HesuanError

    class_map = tmp_path / "class.tif"
    with rasterio.open(class_map, "w", driver="GTiff", width=32, height=32, count=1,
                       dtype="uint8", crs="EPSG:32650",
                       transform=rasterio.Affine(30, 0, 0, 0, -30, 0)) as ds:
        ds.write(np.zeros((32, 32), np.uint8), 1)
    job = CogJob(str(class_map), np.array([1.0], dtype=np.float32),
                 str(tmp_path / "no" / "x.tif"), "t C/ha", str(tmp_path / "x"))
    with pytest.raises(HesuanError) as exc:
        to_cog(job)
    assert "x.tif" in str(exc.value) and "--raster-format vrt" in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.tif"]
