"""Regenerate the bundled land example (deterministic).

Run ``python -m hesuan.examples.land._generate``.

A synthetic 240 × 180 map of 30 m pixels in UTM zone 50N (EPSG:32650), seven classes, a
2020 baseline and a 2030 alternate (cropland reforested, urban growth, wetland drained),
nodata 255 along one edge, and three "counties" as polygons in WGS 84 (reprojected by the
model). Densities in pools.csv are illustrative, not from a standard.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pyproj
import rasterio
import shapely
from rasterio.transform import from_origin

HERE = Path(__file__).parent
WIDTH, HEIGHT, PIXEL_M = 240, 180, 30.0
ORIGIN = (500_000.0, 3_400_000.0)  # UTM 50N, near 30.7° N 117° E
CRS = "EPSG:32650"
NODATA = 255


def landscape(seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and alternate LULC codes (uint8)."""
    rng = np.random.default_rng(seed)
    coarse = rng.choice([1, 1, 1, 2, 3, 4, 4, 5, 6, 7], size=(HEIGHT // 12 + 1, WIDTH // 12 + 1))
    base = np.repeat(np.repeat(coarse, 12, 0), 12, 1)[:HEIGHT, :WIDTH].astype(np.uint8)
    speckle = rng.random(base.shape) < 0.04
    base[speckle] = rng.choice([1, 2, 3, 4], size=int(speckle.sum()))
    alt = base.copy()
    r = rng.random(base.shape)
    alt[(base == 4) & (r < 0.5)] = 1      # cropland reforested
    alt[(base == 3) & (r < 0.3)] = 6      # grassland built over
    alt[(base == 5) & (r < 0.6)] = 4      # wetland drained for crops
    alt[(base == 1) & (r < 0.05)] = 2     # some forest degraded
    base[:, :3] = NODATA
    alt[:, :3] = NODATA
    return base, alt


def write_tif(path: Path, data: np.ndarray) -> None:
    profile = dict(driver="GTiff", width=WIDTH, height=HEIGHT, count=1, dtype="uint8",
                   crs=CRS, transform=from_origin(*ORIGIN, PIXEL_M, PIXEL_M), nodata=NODATA,
                   tiled=True, blockxsize=64, blockysize=64, compress="deflate")
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)


def regions(path: Path) -> None:
    """Three counties (two vertical strips and a block) in EPSG:4326."""
    x0, y0 = ORIGIN
    w, h = WIDTH * PIXEL_M, HEIGHT * PIXEL_M
    boxes = [shapely.box(x0 + 0.0 * w, y0 - h, x0 + 0.4 * w, y0),
             shapely.box(x0 + 0.4 * w, y0 - 0.5 * h, x0 + 1.0 * w, y0),
             shapely.box(x0 + 0.4 * w, y0 - h, x0 + 1.0 * w, y0 - 0.5 * h)]
    tr = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    geoms = [shapely.transform(shapely.segmentize(b, 100.0),
                               lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
             for b in boxes]
    path.unlink(missing_ok=True)
    pyogrio.raw.write(path, geometry=shapely.to_wkb(np.array(geoms, dtype=object)),
                      field_data=[np.array(["West", "Northeast", "Southeast"], dtype=object)],
                      fields=["county"], geometry_type="Polygon", crs="EPSG:4326",
                      driver="GPKG", layer="counties")


POOLS_CSV = """\
lucode,lulc_name,c_above,c_below,c_soil,c_dead,c_above_sd,c_below_sd,c_soil_sd,c_dead_sd
1,forest,95,24,110,12,19,6,22,4
2,shrubland,28,9,80,3,7,3,16,1
3,grassland,4,6,75,0.5,1,2,15,0.2
4,cropland,5,1.5,60,0,1.5,0.5,12,0
5,wetland,12,8,160,2,4,3,40,1
6,urban,2,0.5,30,0,1,0.2,10,0
7,water,0,0,0,0,0,0,0,0
"""


def main() -> None:
    base, alt = landscape()
    write_tif(HERE / "lulc_2020.tif", base)
    write_tif(HERE / "lulc_2030.tif", alt)
    (HERE / "pools.csv").write_text(POOLS_CSV, encoding="utf-8")
    regions(HERE / "counties.gpkg")


if __name__ == "__main__":
    main()
