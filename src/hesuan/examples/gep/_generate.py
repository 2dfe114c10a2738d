"""Regenerate the bundled GEP example: a small synthetic county (deterministic).

Run ``python -m hesuan.examples.gep._generate``.

A 200 × 160 map of 100 m pixels (1 ha each; 320 km²) in UTM zone 50N (EPSG:32650), six
ecosystem types, two years (2015 and 2020: some farmland reforested, some grassland built
over), 24 nodata pixels in one corner, two townships as polygons. Open water and town have C
= 1 (no soil retained: nothing to erode on water, sealed ground in town). The climate and
soil rasters, the per-type coefficients, the statistics in ``quantities.csv``, the price
index and the GDP are all **illustrative**: plausible orders of magnitude for a humid
subtropical county, not measurements and not official statistics.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyogrio.raw
import rasterio
import shapely
from rasterio.transform import from_origin

HERE = Path(__file__).parent
WIDTH, HEIGHT, PIXEL_M = 200, 160, 100.0
ORIGIN = (520_000.0, 3_300_000.0)
CRS = "EPSG:32650"
NODATA = 0
TYPES = {1: "forest", 2: "shrub", 3: "grassland", 4: "wetland", 5: "farmland", 6: "town"}
# per type: storm runoff [mm], ET [mm], NEP [t C/ha/yr], C, P, transpiration heat
# [kJ/(m²·d)], water surface
TYPE_VALUES = {
    1: (60, 620, 2.4, 0.006, 1.0, 1800, 0),
    2: (90, 560, 1.4, 0.03, 1.0, 1500, 0),
    3: (140, 480, 0.7, 0.05, 1.0, 1200, 0),
    4: (0, 900, 0.9, 1.0, 1.0, 0, 1),
    5: (220, 520, 0.4, 0.25, 0.4, 0, 0),
    6: (600, 200, 0.0, 1.0, 1.0, 0, 0),
}


def landscape(seed: int = 19) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    coarse = rng.choice([1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6], size=(HEIGHT // 10, WIDTH // 10))
    y2015 = np.repeat(np.repeat(coarse, 10, 0), 10, 1).astype(np.uint8)
    y2020 = y2015.copy()
    r = rng.random(y2015.shape)
    y2020[(y2015 == 5) & (r < 0.35)] = 1   # farmland reforested
    y2020[(y2015 == 3) & (r < 0.15)] = 6   # grassland built over
    for m in (y2015, y2020):
        m[:4, :6] = NODATA
    return y2015, y2020


def write(path: Path, array: np.ndarray, nodata: float | None) -> None:
    profile = {"driver": "GTiff", "width": WIDTH, "height": HEIGHT, "count": 1,
               "dtype": str(array.dtype), "crs": CRS, "nodata": nodata,
               "transform": from_origin(ORIGIN[0], ORIGIN[1], PIXEL_M, PIXEL_M),
               "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256}
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array, 1)


def main() -> None:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    precip = (1350 + 2.0 * x - 1.0 * y + rng.normal(0, 15, (HEIGHT, WIDTH))).astype(np.float32)
    hills = np.sin(x / 17.0) * np.cos(y / 13.0)
    ls = (1.0 + 6.0 * np.abs(hills) + rng.random((HEIGHT, WIDTH))).astype(np.float32)
    r_factor = (3500 + 3.0 * x).astype(np.float32)
    k_factor = np.full((HEIGHT, WIDTH), 0.0045, np.float32)  # t·ha·h/(ha·MJ·mm)
    # water-surface evaporation on the days above 26 °C only (the cooling season)
    evaporation = np.full((HEIGHT, WIDTH), 120, np.float32)
    shared = {"precip_mm": precip, "r_factor": r_factor, "k_factor": k_factor,
              "ls_factor": ls, "evaporation_mm": evaporation}
    for name, arr in shared.items():
        write(HERE / f"{name}.tif", arr, -9999.0)
    layers = []
    for year, eco in zip((2015, 2020), landscape(), strict=True):
        write(HERE / f"ecosystem_{year}.tif", eco, NODATA)
        lut = np.zeros((256, 3), np.float32)
        for code, v in TYPE_VALUES.items():
            lut[code] = v[:3]
        per = lut[eco]
        runoff = np.where(eco == NODATA, -9999, per[..., 0]).astype(np.float32)
        et = np.where(eco == NODATA, -9999, per[..., 1] * (1 + 0.02 * rng.standard_normal(
            eco.shape))).astype(np.float32)
        nep = np.where(eco == NODATA, -9999, per[..., 2] * (1 + 0.1 * rng.standard_normal(
            eco.shape))).astype(np.float32)
        for name, arr in (("runoff_mm", runoff), ("et_mm", et), ("nep_t_c_per_ha", nep)):
            write(HERE / f"{name}_{year}.tif", arr, -9999.0)
        layers.append((year, "ecosystem", f"ecosystem_{year}.tif"))
        for name in shared:
            layers.append((year, name, f"{name}.tif"))
        for name in ("runoff_mm", "et_mm", "nep_t_c_per_ha"):
            layers.append((year, name, f"{name}_{year}.tif"))
    with (HERE / "layers.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["year", "field", "path"])
        w.writerows(layers)
    with (HERE / "types.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "ecosystem_type", "c_factor", "p_factor",
                    "transpiration_kj_per_m2_day", "water_surface"])
        for code, v in TYPE_VALUES.items():
            w.writerow([code, TYPES[code], v[3], v[4], v[5], v[6]])
    # Statistics of the county (illustrative), both years.
    stats: list[tuple[str, str, float, float, str]] = [
        ("provisioning.agricultural_products.net_output", "farmland", 3.10, 3.35, "yi CNY"),
        ("provisioning.forestry_products.net_output", "forest", 0.42, 0.51, "yi CNY"),
        ("provisioning.livestock_products.net_output", "grassland", 1.05, 1.12, "yi CNY"),
        ("provisioning.fishery_products.net_output", "wetland", 0.36, 0.40, "yi CNY"),
        ("provisioning.water_supply.domestic", "wetland", 0.12, 0.13, "yi m**3"),
        ("provisioning.water_supply.industrial", "wetland", 0.20, 0.18, "yi m**3"),
        ("provisioning.water_supply.agricultural", "wetland", 0.85, 0.80, "yi m**3"),
        ("provisioning.hydropower.generation", "wetland", 0.60, 0.66, "yi kWh"),
        ("regulating.flood_regulation.reservoirs", "wetland", 0.21, 0.21, "yi m**3"),
        ("regulating.air_purification.so2", "forest", 410, 440, "t"),
        ("regulating.air_purification.nox", "forest", 260, 280, "t"),
        ("regulating.air_purification.dust", "forest", 5200, 5600, "t"),
        ("regulating.water_purification.cod", "wetland", 1800, 1750, "t"),
        ("regulating.water_purification.ammonia_n", "wetland", 160, 150, "t"),
        ("regulating.pest_control.area", "forest", 0.95, 1.05, "wan ha"),
        ("regulating.pest_control.area", "grassland", 0.40, 0.33, "wan ha"),
        ("cultural.recreation.travel_cost", "forest", 1.8, 2.9, "yi CNY"),
    ]
    with (HERE / "quantities.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["region", "year", "ecosystem_type", "indicator", "quantity", "unit"])
        for ind, etype, q15, q20, unit in stats:
            w.writerow(["county", 2015, etype, ind, q15, unit])
            w.writerow(["county", 2020, etype, ind, q20, unit])
    (HERE / "price_index.csv").write_text(
        "year,index,source\n2010,100.0,illustrative fixed-base index (not official)\n"
        "2015,114.2,illustrative fixed-base index (not official)\n"
        "2020,127.5,illustrative fixed-base index (not official)\n", encoding="utf-8")
    (HERE / "gdp.csv").write_text(
        "region,year,gdp,unit,price_year\ncounty,2015,118.0,yi CNY,2015\n"
        "county,2020,151.0,yi CNY,2020\n", encoding="utf-8")
    x0, y0 = ORIGIN
    mid = x0 + WIDTH * PIXEL_M / 2
    west = shapely.box(x0, y0 - HEIGHT * PIXEL_M, mid, y0)
    east = shapely.box(mid, y0 - HEIGHT * PIXEL_M, x0 + WIDTH * PIXEL_M, y0)
    pyogrio.raw.write(str(HERE / "townships.gpkg"),
                      geometry=shapely.to_wkb(np.array([west, east], dtype=object)),
                      field_data=[np.array(["west", "east"], dtype=object)],
                      fields=["township"], crs=CRS, geometry_type="Polygon", driver="GPKG")


if __name__ == "__main__":
    main()
