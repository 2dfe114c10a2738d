"""The regulating services on rasters: block-wise totals against a whole-array computation
written out independently from the equations' printed forms (Garzê 2010 Eqs. 2, 11–13;
USLE), map values, nodata, regions, the Dask engine, and grid mismatches."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from hesuan.errors import InputError
from hesuan.examples import path as example
from hesuan.land.gep.raster import (
    ClimateParameters,
    RegulatingRun,
    read_type_table,
    run_regulating,
)

SERVICES = ("water_conservation_m3", "soil_retention_t", "carbon_sequestration_t_co2",
            "oxygen_release_t_o2", "transpiration_kwh", "evaporation_kwh")
COLUMNS = ["c_factor", "p_factor", "transpiration_kj_per_m2_day", "water_surface"]
CLIMATE = ClimateParameters(ac_days=90, ac_efficiency=3.0, latent_heat_j_per_g=2260.0)


def _rasters(year: int = 2015) -> dict[str, str]:
    d = {n: str(example("gep", f"{n}.tif")) for n in
         ("precip_mm", "r_factor", "k_factor", "ls_factor", "evaporation_mm")}
    d.update({n: str(example("gep", f"{n}_{year}.tif"))
              for n in ("runoff_mm", "et_mm", "nep_t_c_per_ha")})
    return d


def _job(rasters: dict[str, str] | None = None, eco: str | None = None, **kw) -> RegulatingRun:
    types = read_type_table(example("gep", "types.csv"), COLUMNS)
    return RegulatingRun(eco or str(example("gep", "ecosystem_2015.tif")),
                         rasters or _rasters(), types, CLIMATE, SERVICES, **kw)


def _read(p: str) -> tuple[np.ndarray, float | None]:
    with rasterio.open(p) as ds:
        return ds.read(1).astype(np.float64), ds.nodata


def _whole_array_totals() -> dict[str, dict[int, float]]:
    """The same arithmetic on whole arrays, written out from the printed equations."""
    eco, eco_nd = _read(str(example("gep", "ecosystem_2015.tif")))
    arr = {k: _read(v) for k, v in _rasters().items()}
    valid_eco = eco != eco_nd
    px_m2 = 100.0 * 100.0
    with example("gep", "types.csv").open(encoding="utf-8") as f:
        coef = {int(r["code"]): (float(r["c_factor"]), float(r["p_factor"]),
                                 float(r["transpiration_kj_per_m2_day"]),
                                 float(r["water_surface"])) for r in csv.DictReader(f)}

    def ok(*names: str) -> np.ndarray:
        m = valid_eco.copy()
        for n in names:
            a, nd = arr[n]
            m &= a != nd
        return m

    out: dict[str, dict[int, float]] = {s: {} for s in SERVICES}
    for code, (c, p, heat, water) in coef.items():
        t = eco == code
        P, R, ET = (arr[n][0] for n in ("precip_mm", "runoff_mm", "et_mm"))
        m = t & ok("precip_mm", "runoff_mm", "et_mm")
        out["water_conservation_m3"][code] = float(((P - R - ET) / 1000 * px_m2)[m].sum())
        Rf, K, LS = (arr[n][0] for n in ("r_factor", "k_factor", "ls_factor"))
        m = t & ok("r_factor", "k_factor", "ls_factor")
        out["soil_retention_t"][code] = float((Rf * K * LS * (1 - c * p) * 1.0)[m].sum())
        m = t & ok("nep_t_c_per_ha")
        co2 = float((arr["nep_t_c_per_ha"][0] * 1.0)[m].sum()) * 44 / 12
        out["carbon_sequestration_t_co2"][code] = co2
        out["oxygen_release_t_o2"][code] = co2 * 32 / 44
        out["transpiration_kwh"][code] = float(t.sum()) * heat * px_m2 * 90 / (3600 * 3.0)
        m = t & ok("evaporation_mm")
        e = (arr["evaporation_mm"][0] / 1000 * px_m2 * water)[m].sum()
        out["evaporation_kwh"][code] = float(e * 1000 * 2260 / 3600)
    return out


@pytest.mark.parametrize("target", [1 << 20, 4096])
def test_blockwise_totals_equal_whole_array_arithmetic(target, tmp_path):
    result = run_regulating(_job(), None, target_pixels=target)
    expected = _whole_array_totals()
    for s in SERVICES:
        for k, code in enumerate(result.type_codes):
            assert result.totals[s][0, k] == pytest.approx(expected[s][code], rel=1e-9,
                                                           abs=1e-6), (s, code)
    assert result.pixels[0, len(result.type_codes)] == 24  # the nodata corner


def test_maps_are_per_hectare_densities_and_nodata(tmp_path):
    result = run_regulating(_job(), {s: tmp_path / f"{s}.tif" for s in SERVICES})
    with rasterio.open(result.maps["soil_retention_t"]) as ds:
        soil = ds.read(1)
        assert ds.tags(1)["units"] == "t/ha"
        nodata = ds.nodata
    assert (soil[:4, :6] == nodata).all()
    # 1-ha pixels: the density sums to the tonnes
    assert float(soil[soil != nodata].astype(np.float64).sum()) == pytest.approx(
        float(result.totals["soil_retention_t"].sum()), rel=1e-5)
    assert not list(tmp_path.glob("*.partial"))


def test_regions_tile_the_whole_map():
    from hesuan.land.regions import read_regions

    with rasterio.open(example("gep", "ecosystem_2015.tif")) as ds:
        crs = ds.crs.to_wkt()
    reg = read_regions(example("gep", "townships.gpkg"), crs, "township")
    whole = run_regulating(_job())
    split = run_regulating(_job(zones_shapes=reg.shapes(), region_ids=reg.ids))
    assert split.region_ids == ("west", "east")
    for s in SERVICES:
        assert split.totals[s][1:].sum() == pytest.approx(whole.totals[s].sum(), rel=1e-9)
        assert split.totals[s][0].sum() == 0  # nothing outside the two townships


def test_dask_engine_gives_the_same_totals():
    local = run_regulating(_job(), None, target_pixels=8192)
    dask = run_regulating(_job(), None, engine="dask", workers=1, target_pixels=8192)
    for s in SERVICES:
        np.testing.assert_allclose(dask.totals[s], local.totals[s], rtol=1e-12)
    assert dask.nodata_pixels == local.nodata_pixels


def _copy_with(tmp: Path, name: str, **changes) -> str:
    src = _rasters()[name]
    with rasterio.open(src) as ds:
        profile = ds.profile
        data = ds.read(1)
    profile.update(changes)
    if "width" in changes:
        data = data[:, : changes["width"]]
    target = tmp / f"{name}_bad.tif"
    with rasterio.open(target, "w", **profile) as ds:
        ds.write(data, 1)
    return str(target)


@pytest.mark.parametrize("change, words", [
    ({"crs": "EPSG:32651"}, "CRS"),
    ({"transform": rasterio.Affine(50, 0, 520000, 0, -50, 3300000)}, "resolution"),
    ({"transform": rasterio.Affine(100, 0, 520100, 0, -100, 3300000)}, "extent"),
    ({"width": 150}, "extent"),
])
def test_rasters_off_the_grid_are_named(tmp_path, change, words):
    rasters = _rasters()
    rasters["et_mm"] = _copy_with(tmp_path, "et_mm", **change)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError) as err:
        run_regulating(_job(rasters), {s: out / f"{s}.tif" for s in SERVICES})
    p = err.value.problems[0]
    assert p.field == "et_mm" and p.file == rasters["et_mm"] and words in p.message
    assert not any(out.iterdir())


def test_a_code_without_a_type_row_names_code_and_pixel(tmp_path):
    eco = tmp_path / "eco.tif"
    shutil.copy(example("gep", "ecosystem_2015.tif"), eco)
    with rasterio.open(eco, "r+") as ds:
        a = ds.read(1)
        a[100, 50] = 9
        ds.write(a, 1)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputError) as err:
        run_regulating(_job(eco=str(eco)), {s: out / f"{s}.tif" for s in SERVICES})
    msg = str(err.value)
    assert "[9]" in msg and "row 100, column 50" in msg and str(eco) in msg
    assert not list(out.glob("*.tif"))


def test_type_table_without_a_coefficient(tmp_path):
    bad = tmp_path / "types.csv"
    text = example("gep", "types.csv").read_text(encoding="utf-8").splitlines()
    text[3] = "3,grassland,,1.0,1200,0"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_type_table(bad, COLUMNS)
    p = err.value.problems[0]
    assert (p.file, p.row, p.field) == (str(bad), 4, "c_factor")


def test_dask_engine_writes_the_same_maps(tmp_path):
    local = run_regulating(_job(), {s: tmp_path / f"local_{s}.tif" for s in SERVICES},
                           target_pixels=8192)
    dask = run_regulating(_job(), {s: tmp_path / f"dask_{s}.tif" for s in SERVICES},
                          engine="dask", workers=1, target_pixels=8192)
    for s in SERVICES:
        with rasterio.open(local.maps[s]) as a, rasterio.open(dask.maps[s]) as b:
            np.testing.assert_array_equal(a.read(1), b.read(1))
            assert b.tags(1)["units"] == a.tags(1)["units"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
