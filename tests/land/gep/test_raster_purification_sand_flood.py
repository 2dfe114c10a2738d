"""Air and water purification, RWEQ sand fixation and marsh flood regulation on rasters.

Each service on a small generated grid against the equation's printed form worked out here:
uptake Q·A (Bo 2017 Eq. 11), RWEQ Q_max = 109.8·X, s = 150.71·X^(−0.3711),
S_L = (2z/s²)·Q_max·e^(−(z/s)²) with X = WF·EF·SCF·K'·COG and sand fixed = S_L(COG = 1) −
S_L(COG) (Fryrear et al. 2000 as printed by Liu 2018 Eqs. 2–4; Garzê 2010 Section 2.4.3),
marsh detention C_m = depth·S (Garzê 2010 Eq. 9); then windows against one window, the Dask
engine, the account's indicators, and bad inputs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio

from hesuan.errors import InputError
from hesuan.land.gep.raster import (
    ClimateParameters,
    RegulatingRun,
    check_grid,
    plan,
    read_type_table,
    regulating_quantities,
    run_regulating,
)
from hesuan.land.gep.run import services_for
from hesuan.standards.gep_editions import resolve_gep_edition

UPTAKE = {"so2_uptake_t": "so2_kg_per_ha", "nox_uptake_t": "nox_kg_per_ha",
          "dust_uptake_t": "dust_kg_per_ha", "cod_removal_t": "cod_kg_per_ha",
          "nitrogen_removal_t": "nitrogen_kg_per_ha",
          "phosphorus_removal_t": "phosphorus_kg_per_ha"}
SERVICES = (*UPTAKE, "sand_fixation_t", "marsh_flood_regulation_m3")
RWEQ = ("rweq_wf_kg_per_m", "rweq_ef", "rweq_scf", "rweq_k_rough", "rweq_cog")
COLUMNS = [*UPTAKE.values(), "flood_storage_depth_m"]
W, H, PX = 600, 40, 30.0  # 600 px wide: two 512-px windows at a small target, one at 1 Mpx
NODATA_ECO = 255
NODATA_F = -9999.0

# code, name, SO2, NOx, dust, COD, N, P [kg/(ha·yr)], marsh storage depth [m]
TYPES = [(1, "forest", 88.65, 6.0, 10110.0, 0.0, 0.0, 0.0, 0.0),
         (2, "marsh", 10.0, 2.5, 500.0, 1430.0, 560.0, 35.0, 0.3),
         (3, "grassland", 21.7, 3.3, 1200.0, 0.0, 0.0, 0.0, 0.0)]


def _write(path: Path, data: np.ndarray, nodata: float) -> str:
    profile = {"driver": "GTiff", "width": W, "height": H, "count": 1, "dtype": data.dtype,
               "crs": "EPSG:32650", "nodata": nodata,
               "transform": rasterio.Affine(PX, 0, 400000, 0, -PX, 3500000)}
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
    return str(path)


@pytest.fixture
def case(tmp_path):
    rng = np.random.default_rng(19)
    eco = rng.integers(1, 4, size=(H, W)).astype(np.uint8)
    eco[:2, :3] = NODATA_ECO
    rasters = {
        "rweq_wf_kg_per_m": rng.uniform(5.0, 120.0, (H, W)),
        "rweq_ef": rng.uniform(0.1, 0.9, (H, W)),
        "rweq_scf": rng.uniform(0.3, 1.0, (H, W)),
        "rweq_k_rough": rng.uniform(0.5, 1.0, (H, W)),
        "rweq_cog": rng.uniform(0.0, 1.0, (H, W)),
    }
    rasters["rweq_cog"][5, 550] = NODATA_F  # one nodata pixel in the second window
    rasters["rweq_ef"][7, 10] = np.nan      # and a NaN in the first
    paths = {k: _write(tmp_path / f"{k}.tif", v, NODATA_F) for k, v in rasters.items()}
    table = tmp_path / "types.csv"
    table.write_text("code,ecosystem_type," + ",".join(COLUMNS) + "\n" + "".join(
        ",".join(str(x) for x in row) + "\n" for row in TYPES), encoding="utf-8")
    return {"eco": _write(tmp_path / "eco.tif", eco, NODATA_ECO), "eco_array": eco,
            "rasters": paths, "arrays": rasters, "types": table, "tmp": tmp_path}


def _job(case, services=SERVICES, rasters=None, **kw) -> RegulatingRun:
    return RegulatingRun(case["eco"], rasters or case["rasters"],
                         read_type_table(case["types"], COLUMNS), ClimateParameters(),
                         tuple(services), **kw)


def _rweq_loss_kg_per_m2(x: np.ndarray, z: float) -> np.ndarray:
    """Liu 2018 Eqs. 2–4 (after Fryrear et al. 2000), written out again here."""
    q_max = 109.8 * x
    s = 150.71 * x ** -0.3711
    return 2 * z / s**2 * q_max * np.exp(-((z / s) ** 2))


def test_each_service_against_its_printed_equation(case):
    result = run_regulating(_job(case, rweq_plot_length_m=50.0))
    eco = case["eco_array"]
    area_ha = PX * PX / 1e4
    for k, (code, name, *rates, depth) in enumerate(TYPES):
        n = int((eco == code).sum())
        for s, rate in zip(UPTAKE, rates, strict=True):
            # Bo 2017 Eq. 11: Q [kg/ha] × A [ha], in t
            assert result.totals[s][0, k] == pytest.approx(n * rate * area_ha / 1000,
                                                           rel=1e-12), (s, name)
        # Garzê 2010 Eq. 9: C_m = depth × S; 0 for types without a storage depth
        assert result.totals["marsh_flood_regulation_m3"][0, k] == pytest.approx(
            n * depth * PX * PX, rel=1e-12)
    a = case["arrays"]
    ok = (eco != NODATA_ECO)
    for v in a.values():
        ok &= np.isfinite(v) & (v != NODATA_F)
    x_bare = a["rweq_wf_kg_per_m"] * a["rweq_ef"] * a["rweq_scf"] * a["rweq_k_rough"]
    with np.errstate(invalid="ignore"):
        fixed = (_rweq_loss_kg_per_m2(x_bare, 50.0)
                 - _rweq_loss_kg_per_m2(x_bare * a["rweq_cog"], 50.0)) * PX * PX / 1000
    for k, (code, *_rest) in enumerate(TYPES):
        assert result.totals["sand_fixation_t"][0, k] == pytest.approx(
            float(fixed[ok & (eco == code)].sum()), rel=1e-10)
    # the 6 ecosystem-nodata pixels are outside every service; the two RWEQ gaps only sand's
    assert result.nodata_pixels["sand_fixation_t"] == 2
    assert result.nodata_pixels["so2_uptake_t"] == 0
    assert result.pixels[0, len(TYPES)] == 6


def test_one_rweq_pixel_by_hand():
    """WF 50 kg/m, EF 0.5, SCF 0.8, K' 0.9, COG 0.4, z 50 m on 1 m² (Liu 2018 Eqs. 2–4)."""
    from hesuan.land.gep.equations import sand_fixation_t

    x_bare = 50 * 0.5 * 0.8 * 0.9               # 18 kg/m
    q_bare, s_bare = 109.8 * x_bare, 150.71 * x_bare ** -0.3711
    x_veg = x_bare * 0.4                        # 7.2 kg/m
    q_veg, s_veg = 109.8 * x_veg, 150.71 * x_veg ** -0.3711
    loss_bare = 100 / s_bare**2 * q_bare * math.exp(-((50 / s_bare) ** 2))
    loss_veg = 100 / s_veg**2 * q_veg * math.exp(-((50 / s_veg) ** 2))
    assert sand_fixation_t(50.0, 0.5, 0.8, 0.9, 0.4, 50.0, 1.0) == pytest.approx(
        (loss_bare - loss_veg) / 1000, rel=1e-12)


def test_windows_give_the_totals_and_maps_of_one_window(case):
    grid = check_grid(case["eco"], case["rasters"])
    assert len(plan(grid, 4096)) == 2 and len(plan(grid, 1 << 20)) == 1
    tmp = case["tmp"]
    one = run_regulating(_job(case), {s: tmp / f"one_{s}.tif" for s in SERVICES},
                         target_pixels=1 << 20)
    two = run_regulating(_job(case), {s: tmp / f"two_{s}.tif" for s in SERVICES},
                         target_pixels=4096)
    for s in SERVICES:
        np.testing.assert_allclose(two.totals[s], one.totals[s], rtol=1e-12)
        with rasterio.open(one.maps[s]) as a, rasterio.open(two.maps[s]) as b:
            np.testing.assert_array_equal(a.read(1), b.read(1))
    with rasterio.open(one.maps["marsh_flood_regulation_m3"]) as ds:
        assert ds.tags(1)["units"] == "m3/ha"
        marsh = ds.read(1)
    # a marsh hectare holds 0.3 m × 10⁴ m² = 3000 m³ (Garzê 2010 Eq. 9)
    assert set(np.unique(marsh[case["eco_array"] == 2]).tolist()) == {3000.0}
    assert one.nodata_pixels == two.nodata_pixels


def test_dask_engine_gives_the_same_totals_and_maps(case):
    tmp = case["tmp"]
    local = run_regulating(_job(case), {s: tmp / f"l_{s}.tif" for s in SERVICES},
                           target_pixels=4096)
    dask = run_regulating(_job(case), {s: tmp / f"d_{s}.tif" for s in SERVICES},
                          engine="dask", workers=1, target_pixels=4096)
    for s in SERVICES:
        np.testing.assert_allclose(dask.totals[s], local.totals[s], rtol=1e-12)
        with rasterio.open(local.maps[s]) as a, rasterio.open(dask.maps[s]) as b:
            np.testing.assert_array_equal(a.read(1), b.read(1))
    assert dask.nodata_pixels == local.nodata_pixels


def test_indicators_of_the_editions(case):
    result = run_regulating(_job(case))
    garze = resolve_gep_edition("gep_garze2010@2017")  # counts NH3-N, not total N or P
    with pytest.raises(InputError) as err:
        regulating_quantities(result, garze, 2020)
    assert {p.field for p in err.value.problems} == {"nitrogen_removal_t",
                                                     "phosphorus_removal_t"}
    full = result
    result = run_regulating(_job(case, [s for s in SERVICES if s not in (
        "nitrogen_removal_t", "phosphorus_removal_t")]))
    rows = regulating_quantities(result, garze, 2020)  # ρ, h of the edition
    by = {(r.ecosystem_type, r.indicator): r for r in rows}
    k_marsh = 1
    # Garzê 2010 Eq. 6: area = Q / (ρ·h)
    sand = result.totals["sand_fixation_t"][0, k_marsh]
    assert by[("marsh", "regulating.sand_fixation.area")].quantity == pytest.approx(
        sand / (1.28 * 0.1))
    assert by[("marsh", "regulating.flood_regulation.marshes")].unit == "m**3"
    assert by[("marsh", "regulating.air_purification.so2")].quantity == pytest.approx(
        result.totals["so2_uptake_t"][0, k_marsh])
    gbt = resolve_gep_edition("gep_gbt46869@2025")
    rows = regulating_quantities(full, gbt, 2020,
                                 {"sand_bulk_density": 1.28, "sand_cover_depth": 0.1})
    ids = {r.indicator for r in rows}
    assert "regulating.flood_regulation.volume" in ids
    assert "regulating.water_purification.phosphorus" in ids


def test_inputs_for_a_service_the_edition_lacks_stop_the_run():
    garze = resolve_gep_edition("gep_garze2010@2017")  # counts NH3-N, not total N or P
    assert "so2_uptake_t" in services_for(set(), {"so2_kg_per_ha"}, garze)
    with pytest.raises(InputError) as err:
        services_for(set(), {"so2_kg_per_ha", "nitrogen_kg_per_ha"}, garze)
    assert "nitrogen_kg_per_ha" in str(err.value) and "gep_garze2010@2017" in str(err.value)
    gbt = resolve_gep_edition("gep_gbt46869@2025")
    assert set(services_for(set(RWEQ), {"nitrogen_kg_per_ha", "flood_storage_depth_m"},
                            gbt)) == {"sand_fixation_t", "nitrogen_removal_t",
                                      "marsh_flood_regulation_m3"}


def test_negative_rate_names_file_row_column(case):
    bad = case["tmp"] / "bad.csv"
    text = case["types"].read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(",1430.0,", ",-1430.0,")
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_type_table(bad, COLUMNS)
    p = err.value.problems[0]
    assert (p.file, p.row, p.field) == (str(bad), 3, "cod_kg_per_ha")


@pytest.mark.parametrize("field, value", [("rweq_ef", 1.5), ("rweq_wf_kg_per_m", -2.0),
                                          ("rweq_cog", 1.01)])
def test_rweq_factor_out_of_range_names_file_field_pixel(case, field, value):
    a = case["arrays"][field].copy()
    a[30, 520] = value
    path = _write(case["tmp"] / f"bad_{field}.tif", a, NODATA_F)
    out = case["tmp"] / "out"
    out.mkdir()
    with pytest.raises(InputError) as err:
        run_regulating(_job(case, rasters={**case["rasters"], field: path}),
                       {s: out / f"{s}.tif" for s in SERVICES}, target_pixels=4096)
    p = err.value.problems[0]
    assert (p.file, p.field) == (path, field)
    assert "row 30, column 520" in p.message and "[0, " in p.expected
    assert not list(out.iterdir())


def test_rweq_factor_out_of_range_under_ecosystem_nodata_is_ignored(case):
    a = case["arrays"]["rweq_ef"].copy()
    a[0, 0] = 7.0  # under the ecosystem map's nodata corner
    path = _write(case["tmp"] / "ef.tif", a, NODATA_F)
    result = run_regulating(_job(case, rasters={**case["rasters"], "rweq_ef": path}))
    assert np.isfinite(result.totals["sand_fixation_t"]).all()


def test_bad_plot_length_and_missing_sand_coefficients(tmp_path, case):
    from hesuan.errors import FactorNotFoundError
    from hesuan.land.gep.run import run

    layers = tmp_path / "layers.csv"
    layers.write_text("year,field,path\n" + f"2020,ecosystem,{case['eco']}\n" + "".join(
        f"2020,{k},{v}\n" for k, v in case["rasters"].items()), encoding="utf-8")
    types = tmp_path / "t.csv"
    types.write_text("code,ecosystem_type\n1,forest\n2,marsh\n3,grassland\n",
                     encoding="utf-8")
    with pytest.raises(InputError) as err:
        run("gep_garze2010@2017", tmp_path / "o1", layers=layers, types=types,
            rweq_plot_length_m=0.0)
    assert err.value.problems[0].field == "rweq_plot_length_m"
    with pytest.raises(FactorNotFoundError, match="sand_bulk_density"):
        run("gep_gbt46869@2025", tmp_path / "o2", layers=layers, types=types)
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_whole_run_values_the_new_services_at_the_edition_prices(tmp_path, case):
    """Garzê 2010 Table 3 prices: SO2 1200 CNY/t, flood storage 7.06 CNY/m³, sand 3.75 CNY/m²."""
    from hesuan.land.gep.run import run

    layers = tmp_path / "layers.csv"
    layers.write_text("year,field,path\n" + f"2010,ecosystem,{case['eco']}\n" + "".join(
        f"2010,{k},{v}\n" for k, v in case["rasters"].items()), encoding="utf-8")
    types = tmp_path / "t.csv"
    types.write_text("code,ecosystem_type,so2_kg_per_ha,flood_storage_depth_m\n"
                     "1,forest,88.65,0\n2,marsh,10,0.3\n3,grassland,21.7,0\n",
                     encoding="utf-8")
    out = tmp_path / "out"
    result = run("gep_garze2010@2017", out, layers=layers, types=types)
    reg = result.regulating[2010]
    assert set(reg.services) == {"so2_uptake_t", "sand_fixation_t",
                                 "marsh_flood_regulation_m3"}
    rows = {(r.ecosystem_type, r.indicator): r for r in result.account.rows}
    marsh = rows[("marsh", "regulating.flood_regulation.marshes")]
    assert marsh.net_quantity == pytest.approx(reg.totals["marsh_flood_regulation_m3"][0, 1])
    assert marsh.value.amount == pytest.approx(marsh.net_quantity * 7.06)
    so2 = rows[("forest", "regulating.air_purification.so2")]
    assert so2.value.amount == pytest.approx(reg.totals["so2_uptake_t"][0, 0] * 1200)
    sand = rows[("grassland", "regulating.sand_fixation.area")]
    assert sand.value.amount == pytest.approx(
        reg.totals["sand_fixation_t"][0, 2] / (1.28 * 0.1) * 3.75)
    for s in reg.services:
        assert (out / "maps" / "2010" / f"{s}.tif").is_file()
