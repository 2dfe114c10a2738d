"""Helpers for the land tests: tiny rasters and pools tables written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

UTM = "EPSG:32650"


def write_lulc(path: Path, data: np.ndarray, *, crs: str | None = UTM, pixel: float = 30.0,
               origin: tuple[float, float] = (500_000.0, 3_400_000.0),
               nodata: float | None = 255, dtype: str = "uint8", count: int = 1) -> Path:
    transform = Affine(pixel, 0.0, origin[0], 0.0, -pixel, origin[1])  # north-up
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=count,
                   dtype=dtype, transform=transform, nodata=nodata)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as ds:
        for b in range(1, count + 1):
            ds.write(data.astype(dtype), b)
    return path


POOLS_CSV = """lucode,c_above,c_below,c_soil,c_dead,c_above_sd,c_below_sd,c_soil_sd,c_dead_sd
1,100,20,50,10,10,2,5,1
2,10,5,40,1,2,1,8,0.5
3,0,0,0,0,0,0,0,0
"""


@pytest.fixture
def small(tmp_path: Path) -> dict[str, Path]:
    """A 6 × 5 baseline/alternate pair of 30 m pixels (0.09 ha) and a pools table."""
    base = np.array([[1, 1, 2, 2, 3],
                     [1, 1, 2, 2, 3],
                     [1, 2, 2, 2, 3],
                     [2, 2, 2, 3, 3],
                     [2, 2, 255, 3, 3],
                     [1, 1, 1, 1, 1]])
    alt = base.copy()
    alt[0, 2:4] = 1     # two shrub → forest
    alt[5, 0] = 2       # one forest → shrub
    alt[3, 0] = 255     # one pixel nodata in the alternate only
    pools = tmp_path / "pools.csv"
    pools.write_text(POOLS_CSV)
    return {"base": write_lulc(tmp_path / "base.tif", base),
            "alt": write_lulc(tmp_path / "alt.tif", alt), "pools": pools,
            "base_array": base, "alt_array": alt}  # type: ignore[dict-item]


@pytest.fixture
def make_lulc():
    """The :func:`write_lulc` helper, as a fixture (tests import nothing from conftest)."""
    return write_lulc
