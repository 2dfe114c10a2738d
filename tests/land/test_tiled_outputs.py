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
            window_pixels=1 << 18)
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
            alt=make_lulc(tmp_path / "a.tif", alt), write_pool_rasters=False, mc_samples=0)
    tifs = sorted(p.name for p in (tmp_path / "o").glob("*.tif"))
    assert tifs == ["c_change_bas_alt.tif", "c_storage_alt.tif", "c_storage_bas.tif"]
    expected = _expected(read_pools(pools), base, alt, None)
    for name in ("c_change_bas_alt", "c_storage_alt", "c_storage_bas"):
        with rasterio.open(r.paths[name]) as ds:
            assert np.array_equal(ds.read(1), expected[name]), name
    assert not list((tmp_path / "o").glob(".*partial"))


def test_byte_code_path_matches_the_general_path():
    """One-byte maps take a shortcut (counts per code pair, tiles from the codes); the same
    maps as int16 take the general path: counts and every tile's bytes must be identical."""
    from rasterio.windows import Window

    from hesuan.land import engine as eng
    from hesuan.land.raster import build_lookup

    base, alt = _maps((512, 1024))
    codes = np.array([1, 2, 3])
    dens = np.array([[100, 20, 50, 10], [10, 5, 40, 1], [0, 0, 0, 0]], dtype=np.float64)
    window = Window(0, 0, 1024, 512)
    results = []
    for dtype in ("uint8", "int16"):
        lk = build_lookup(codes, dtype, 255, "pools.csv", "lucode")
        tables = eng.make_tables(lk, dens, True, 12.5, 0)
        results.append(eng.process_block(base.astype(dtype), alt.astype(dtype), None, tables,
                                         window, None, 512))
    fast, general = results
    assert np.array_equal(fast.counts, general.counts)
    assert fast.tiles.keys() == general.tiles.keys()
    for name in fast.tiles:
        assert fast.tiles[name] == general.tiles[name], name
