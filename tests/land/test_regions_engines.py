"""Regions (pixel-centre rule, totals that add up) and the Dask engine against the local one."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import shapely

from hesuan.land.carbon import Valuation, run


def _write_regions(path, boxes, names, crs="EPSG:32650"):
    import pyogrio.raw

    pyogrio.raw.write(path, geometry=shapely.to_wkb(np.array(boxes, dtype=object)),
                      field_data=[np.array(names, dtype=object)], fields=["county"],
                      geometry_type="Polygon", crs=crs, driver="GPKG")
    return path


def test_pixel_centre_rule_and_region_totals(tmp_path, make_lulc):
    # 4 × 4 grid of 30 m pixels from x = 500 000; column centres at +15, +45, +75, +105 m.
    # Region A spans x ∈ [0, 50) m: centres 15 and 45 are inside → 2 columns = 8 pixels
    # (all_touched would give 12). Region B spans [50, 120] m → the other 8 pixels.
    lulc = make_lulc(tmp_path / "l.tif", np.ones((4, 4)))
    alt = make_lulc(tmp_path / "a.tif", np.full((4, 4), 2))
    pools = tmp_path / "p.csv"
    pools.write_text("lucode,c_above,c_below,c_soil,c_dead,c_above_sd\n1,100,0,0,0,10\n"
                     "2,50,0,0,0,5\n")
    x0, y0 = 500_000.0, 3_400_000.0
    regions = _write_regions(tmp_path / "r.gpkg",
                             [shapely.box(x0, y0 - 120, x0 + 50, y0),
                              shapely.box(x0 + 50, y0 - 120, x0 + 120, y0)], ["A", "B"])
    res = run(lulc, pools, tmp_path / "o", alt=alt, regions=regions, region_id="county",
              mc_samples=500, valuation=Valuation(10, 0, 0, 2020, 2030))
    with open(res.paths["regions"]) as f:
        rows = {r["region"]: r for r in csv.DictReader(f)}
    assert int(rows["A"]["pixels_base"]) == 8 and int(rows["B"]["pixels_base"]) == 8
    # 8 px × 0.09 ha × 100 t C/ha = 72 t C; sequestration 8 × 0.09 × (50 − 100) = −36 t C.
    assert float(rows["A"]["storage_base_t_c"]) == pytest.approx(72.0)
    assert float(rows["A"]["sequestration_t_c"]) == pytest.approx(-36.0)
    assert float(rows["A"]["npv"]) == pytest.approx(-360.0)
    total = sum(float(r["sequestration_t_c"]) for r in rows.values())
    assert total == pytest.approx(res.sequestration_t_c)
    # Per region, Approach 1: sd of storage = 0.72 ha × 10 t C/ha = 7.2 t C.
    assert float(rows["A"]["storage_base_t_c_sd"]) == pytest.approx(7.2)
    assert "storage_base_t_c_mc_ci95_low" in rows["A"]
    assert res.summary.regions_overlap_area == 0


def test_overlapping_regions_later_wins_and_is_reported(tmp_path, make_lulc):
    # A spans columns 1–3 (x ∈ [0, 90) m), B columns 3–4 (x ∈ [60, 120] m): column 3
    # (centre +75 m) is in both and goes to B, the later one. Overlap: 30 m × 120 m.
    lulc = make_lulc(tmp_path / "l.tif", np.ones((4, 4)))
    pools = tmp_path / "p.csv"
    pools.write_text("lucode,c_above,c_below,c_soil,c_dead\n1,10,0,0,0\n")
    x0, y0 = 500_000.0, 3_400_000.0
    regions = _write_regions(tmp_path / "r.gpkg",
                             [shapely.box(x0, y0 - 120, x0 + 90, y0),
                              shapely.box(x0 + 60, y0 - 120, x0 + 120, y0)], ["A", "B"])
    res = run(lulc, pools, tmp_path / "o", regions=regions, mc_samples=0)
    assert res.accounts.areas.base[1:].sum(axis=1).tolist() == [8, 8]
    assert res.summary.regions_overlap_area == pytest.approx(30 * 120)


def test_regions_in_another_crs_are_reprojected(tmp_path, make_lulc):
    import pyproj

    lulc = make_lulc(tmp_path / "l.tif", np.ones((10, 10)))
    pools = tmp_path / "p.csv"
    pools.write_text("lucode,c_above,c_below,c_soil,c_dead\n1,10,0,0,0\n")
    tr = pyproj.Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    box = shapely.segmentize(shapely.box(500_000, 3_399_700, 500_300, 3_400_000), 10)
    geo = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    regions = _write_regions(tmp_path / "r.gpkg", [geo], ["all"], crs="EPSG:4326")
    res = run(lulc, pools, tmp_path / "o", regions=regions, mc_samples=0)
    assert res.summary.regions_reprojected_from == "EPSG:4326"
    assert res.accounts.areas.base[1].sum() == 100


@pytest.mark.slow
def test_dask_engine_gives_the_local_totals(tmp_path, make_lulc):
    from hesuan.examples import path

    # 5000 × 200 px in strips, 512-row windows: 10 windows, more than the 8 tasks kept in
    # flight, so the task queue is exercised (a dropped window would show).
    rng = np.random.default_rng(5)
    coarse = rng.integers(1, 8, size=(5000 // 25, 200 // 25))
    base = np.repeat(np.repeat(coarse, 25, 0), 25, 1)
    alt = np.where(rng.random(base.shape) < 0.2, rng.integers(1, 8, base.shape), base)
    lulc = make_lulc(tmp_path / "b.tif", base)
    alt_path = make_lulc(tmp_path / "a.tif", alt)
    kw = dict(alt=alt_path, valuation=Valuation(43, -7.1, 2.8, 2016, 2030),
              regions=path("land", "counties.gpkg"), region_id="county", mc_samples=1000,
              window_pixels=200 * 512)
    local = run(lulc, path("land", "pools.csv"), tmp_path / "l", **kw)
    dask = run(lulc, path("land", "pools.csv"), tmp_path / "d", engine="dask", workers=2,
               **kw)
    assert local.summary.pixels_valid_base == 5000 * 200
    for key in ("storage_base_t_c", "storage_alt_t_c", "sequestration_t_c", "npv",
                "gains_t_c", "losses_t_c"):
        assert getattr(dask.summary, key) == getattr(local.summary, key)
    np.testing.assert_array_equal(dask.accounts.areas.base, local.accounts.areas.base)
    import rasterio

    for name in ("c_storage_bas", "c_change_bas_alt", "npv_alt"):
        assert dask.paths[name].suffix == ".vrt"  # the default format
        with rasterio.open(local.paths[name]) as a, rasterio.open(dask.paths[name]) as b:
            np.testing.assert_array_equal(a.read(1), b.read(1))
            assert b.tags(1)["units"] == a.tags(1)["units"]
            assert b.overviews(1) == a.overviews(1)
    for tag in ("bas", "alt", "pair"):
        with rasterio.open(dask.paths[f"class_{tag}"]) as b:
            assert b.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert b.profile["tiled"] and b.profile["compress"] == "zstd"
    # The workers' tiles and the temporary files are gone.
    assert not [p.name for p in (tmp_path / "d").iterdir() if p.name.startswith(".")]


def test_dask_tiles_assemble_to_the_map(tmp_path, make_lulc):
    """Class-map tiles written per window + VRT mosaic + copy give back the map cell for cell
    (no cluster)."""
    import rasterio

    from hesuan.land.dask_engine import assemble, mosaic_vrt, write_tiles
    from hesuan.land.outputs import RasterOutputs, RasterPlan
    from hesuan.land.raster import open_grid, plan_windows

    rng = np.random.default_rng(3)
    values = rng.integers(0, 9, size=(700, 600)).astype(np.uint8)
    grid = open_grid(make_lulc(tmp_path / "g.tif", np.ones((700, 600), np.uint8)), "lulc")
    windows = plan_windows(grid, target_pixels=512 * 512)
    assert len(windows) > 1
    lut = np.arange(9, dtype=np.float32)
    sink = RasterOutputs(tmp_path / "work", grid,
                         RasterPlan({"x": ("bas", lut, "t C/ha")}, {"bas": 9}),
                         {"x": tmp_path / "x.tif"}, open_maps=False)
    tiles = sink.work / "tiles"
    (tiles / "bas").mkdir(parents=True)
    for w in windows:
        part = values[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width]
        write_tiles({"bas": part}, w, str(tiles), grid.transform)
    assemble(str(mosaic_vrt(sink, "bas", windows, tiles)), str(sink.class_paths["bas"]),
             sink.class_map_profile("bas"), sink.overview_factors())
    paths = sink.finish(overviews=False)
    with rasterio.open(paths["x"]) as ds:
        np.testing.assert_array_equal(ds.read(1), values.astype(np.float32))
        assert tuple(ds.transform)[:6] == grid.transform


def test_dask_engine_absent_code_leaves_no_partial_output(tmp_path, make_lulc):
    """On a running scheduler (``--scheduler``; an in-process cluster starts in ~1 s)."""
    from dask.distributed import LocalCluster

    from hesuan.errors import InputError
    from hesuan.examples import path

    base = np.ones((300, 200), dtype=np.uint8)
    base[250, 10] = 99
    lulc = make_lulc(tmp_path / "b99.tif", base)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, pytest.raises(InputError) as exc:
        run(lulc, path("land", "pools.csv"), tmp_path / "d", engine="dask",
            scheduler=cluster.scheduler_address, mc_samples=0, window_pixels=200 * 256)
    msg = str(exc.value)
    assert "b99.tif" in msg and "99" in msg and "lucode" in msg
    assert not list((tmp_path / "d").iterdir()), "no partial output may remain"


def test_demo_and_cli(tmp_path):
    import json

    from hesuan.cli import main
    from hesuan.cli.land import run_demo

    paths = run_demo(tmp_path / "demo")
    names = {p.name for p in paths}
    assert {"summary.json", "report.html", "regions.csv", "regions_map.png",
            "c_change_bas_alt.vrt", "class_pair.tif"} <= names
    summary = json.loads((tmp_path / "demo" / "land" / "summary.json").read_text())
    for key in ("storage_base_t_c", "storage_alt_t_c", "sequestration_t_c",
                "sequestration_t_co2e", "npv"):
        assert key in summary and key in summary["uncertainty"]["approach1"]
    # t CO2e = t C × 44/12 (IPCC 2006 Vol. 4 Ch. 2 Section 2.2.3)
    assert summary["sequestration_t_co2e"] == pytest.approx(
        summary["sequestration_t_c"] * 44 / 12)
    from hesuan.examples import path

    with pytest.raises(SystemExit) as exc:
        main(["land", "carbon", "--lulc", str(path("land", "lulc_2020.tif")), "--pools",
              str(path("land", "pools.csv")), "--out", str(tmp_path / "cli"), "--no-report",
              "--mc-samples", "0"])
    assert exc.value.code == 0
    assert (tmp_path / "cli" / "summary.json").exists()
