"""Output rasters of the local engine on maps of many tiles and windows.

The expected rasters are computed here directly as ``density[class]`` from the pools table
(InVEST carbon model: a pool raster is the class's density, t C/ha; sequestration is
alternate storage − baseline storage) and must match the written GeoTIFFs bit for bit.
"""

from __future__ import annotations

import numpy as np
import rasterio

from hesuan.land.carbon import Valuation, run
from hesuan.land.pools import read_pools
from hesuan.land.spec import NODATA_F32

from .conftest import POOLS_CSV


def _maps(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    cells = rng.choice([1, 2, 3, 255], size=(shape[0] // 20 + 1, shape[1] // 20 + 1))
    base = np.repeat(np.repeat(cells, 20, 0), 20, 1)[: shape[0], : shape[1]]
    speck = rng.random(shape) < 0.05
    base[speck] = rng.choice([1, 2, 3, 255], size=int(speck.sum()))
    alt = base.copy()
    alt[rng.random(shape) < 0.1] = 1
    return base, alt


def _expected(table, base, alt, constant):
    codes = list(table.codes)
    dens = np.zeros((256, 4))
    for i, c in enumerate(codes):
        dens[c] = table.density_t_c_per_ha[i]
    nod = base == 255, alt == 255
    out = {}
    for tag, m, bad in (("bas", base, nod[0]), ("alt", alt, nod[1])):
        for p, pool in enumerate(("c_above", "c_below", "c_soil", "c_dead")):
            out[f"{pool}_{tag}"] = np.where(bad, NODATA_F32, dens[m, p].astype(np.float32))
        out[f"c_storage_{tag}"] = np.where(bad, NODATA_F32, dens[m].sum(-1).astype(np.float32))
    change = dens[alt].sum(-1) - dens[base].sum(-1)
    either = nod[0] | nod[1]
    out["c_change_bas_alt"] = np.where(either, NODATA_F32, change.astype(np.float32))
    if constant is not None:
        out["npv_alt"] = np.where(either, NODATA_F32, (change * constant).astype(np.float32))
    return out


def test_many_tiles_and_windows_are_exact(tmp_path, make_lulc):
    base, alt = _maps((1100, 1300))  # 3 × 3 tiles of 512 px, edge tiles partial
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    val = Valuation(43.0, -7.1, 2.8, 2016, 2030)
    r = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "o",
            alt=make_lulc(tmp_path / "a.tif", alt), valuation=val, mc_samples=0,
            window_pixels=1 << 18, raster_format="cog")
    expected = _expected(read_pools(pools), base, alt, val.constant_per_t_c)
    assert set(expected) <= set(r.paths)
    for name, want in expected.items():
        with rasterio.open(r.paths[name]) as ds:
            assert ds.profile["tiled"] and ds.profile["compress"] == "zstd"
            assert ds.block_shapes[0] == (512, 512)
            got = ds.read(1)
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), name


def test_no_pool_rasters_and_no_valuation(tmp_path, make_lulc):
    base, alt = _maps((600, 700))
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    r = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "o",
            alt=make_lulc(tmp_path / "a.tif", alt), write_pool_rasters=False, mc_samples=0,
            raster_format="cog")
    tifs = sorted(p.name for p in (tmp_path / "o").glob("*.tif"))
    assert tifs == ["c_change_bas_alt.tif", "c_storage_alt.tif", "c_storage_bas.tif"]
    expected = _expected(read_pools(pools), base, alt, None)
    for name in ("c_change_bas_alt", "c_storage_alt", "c_storage_bas"):
        with rasterio.open(r.paths[name]) as ds:
            assert np.array_equal(ds.read(1), expected[name]), name
    assert not list((tmp_path / "o").glob(".*partial"))


def test_byte_code_path_matches_the_general_path():
    """One-byte maps take a shortcut (counts per code pair, class maps from the codes); the
    same maps as int16 take the general path: counts and class maps must be identical."""
    from rasterio.windows import Window

    from hesuan.land import kernel
    from hesuan.land.raster import build_lookup

    base, alt = _maps((512, 1024))
    codes = np.array([1, 2, 3])
    dens = np.array([[100, 20, 50, 10], [10, 5, 40, 1], [0, 0, 0, 0]], dtype=np.float64)
    window = Window(0, 0, 1024, 512)
    results = []
    for dtype in ("uint8", "int16"):
        lk = build_lookup(codes, dtype, 255, "pools.csv", "lucode")
        tables = kernel.make_tables(lk, dens, True, 12.5, 0)
        results.append(kernel.process_block(base.astype(dtype), alt.astype(dtype), None,
                                            tables, window, kernel.MAPS))
    fast, general = results
    assert np.array_equal(fast.counts, general.counts)
    assert fast.class_maps.keys() == general.class_maps.keys() == set(kernel.MAPS)
    for tag in kernel.MAPS:
        assert fast.class_maps[tag].dtype == general.class_maps[tag].dtype
        assert np.array_equal(fast.class_maps[tag], general.class_maps[tag]), tag


def test_rasters_are_cloud_optimized_geotiffs_with_overviews(tmp_path, make_lulc):
    """GDAL's COG driver wrote them: tiled, ZSTD, overviews, IFDs before the tile data
    (GDAL reports the layout as COG in the IMAGE_STRUCTURE metadata)."""
    base, alt = _maps((1100, 1300))
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    r = run(make_lulc(tmp_path / "b.tif", base), pools, tmp_path / "o",
            alt=make_lulc(tmp_path / "a.tif", alt), mc_samples=0, outputs=["c_storage"],
            raster_format="cog")
    assert sorted(p.name for p in (tmp_path / "o").glob("*.tif")) == [
        "c_storage_alt.tif", "c_storage_bas.tif"]
    with rasterio.open(r.paths["c_storage_bas"]) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.overviews(1) == [2, 4]
        assert ds.tags(1)["units"] == "t C/ha"
        full = ds.read(1)
        over = ds.read(1, out_shape=(ds.height // 4 + 1, ds.width // 4 + 1))
    # Overviews are nearest samples of the full-resolution densities (never a blend).
    assert set(np.unique(over)) <= set(np.unique(full))


def test_vrt_format_reads_as_the_same_rasters(tmp_path, make_lulc):
    """--raster-format vrt: class-map COGs plus one VRT look-up per raster, read by GDAL as
    the same float32 values as the COG of the default format, bit for bit."""
    base, alt = _maps((700, 900))
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    kw = dict(alt=make_lulc(tmp_path / "a.tif", alt), mc_samples=0,
              valuation=Valuation(43.0, -7.1, 2.8, 2016, 2030))
    lulc = make_lulc(tmp_path / "b.tif", base)
    cog = run(lulc, pools, tmp_path / "cog", raster_format="cog", **kw)
    vrt = run(lulc, pools, tmp_path / "vrt", raster_format="vrt", **kw)
    assert sorted(p.name for p in (tmp_path / "vrt").glob("class_*.tif")) == [
        "class_alt.tif", "class_bas.tif", "class_pair.tif"]
    for name, path in cog.paths.items():
        if path.suffix != ".tif":
            continue
        assert vrt.paths[name].suffix == ".vrt"
        with rasterio.open(path) as a, rasterio.open(vrt.paths[name]) as b:
            assert np.array_equal(a.read(1).view(np.uint32), b.read(1).view(np.uint32)), name
            assert a.nodata == b.nodata
            assert b.overviews(1) == a.overviews(1)
