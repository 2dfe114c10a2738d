"""Regenerate the inputs of the InVEST parity case (deterministic; see SOURCE.md).

Run from the repository root: ``python tests/land/cases/invest_parity/make_inputs.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

HERE = Path(__file__).parent / "input"
H, W = 60, 80

# Classes 1..10 with fractional densities; classes 8 and 9 differ by exactly 1 t C/ha in
# total (41 vs 40), so an 8 → 9 pixel has a change of exactly −1 t C/ha, InVEST's nodata value.
POOLS = """lucode,lulc_name,c_above,c_below,c_soil,c_dead
1,evergreen forest,140.5,35.25,120.125,15.5
2,deciduous forest,96.3,24.1,104.7,11.2
3,shrub,28.4,9.6,81.3,3.1
4,grass,4.2,6.7,74.9,0.6
5,crop,5.0,1.5,60.0,0.0
6,paddy,3.5,1.0,72.25,0.0
7,wetland,12.0,8.0,160.0,2.0
8,orchard,20.0,6.0,15.0,0.0
9,tea,19.0,6.0,15.0,0.0
10,built,2.0,0.5,30.0,0.0
"""


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    coarse = rng.integers(1, 11, size=(H // 10 + 1, W // 10 + 1))
    base = np.repeat(np.repeat(coarse, 10, 0), 10, 1)[:H, :W].astype(np.int16)
    speck = rng.random(base.shape) < 0.05
    base[speck] = rng.integers(1, 11, int(speck.sum()))
    alt = base.copy()
    r = rng.random(base.shape)
    alt[(base == 5) & (r < 0.6)] = 2
    alt[(base == 4) & (r < 0.4)] = 10
    alt[(base == 1) & (r < 0.1)] = 3
    alt[base == 8] = 9                  # change of exactly −1 t C/ha
    base[0:4, 0:6] = 8                  # make sure the −1 case is present
    alt[0:4, 0:6] = 9
    base[10:12, :] = -9999              # nodata rows in the baseline only
    alt[:, 40:42] = -9999               # nodata columns in the alternate only
    prof = dict(driver="GTiff", width=W, height=H, count=1, dtype="int16", nodata=-9999,
                crs="EPSG:32650", transform=from_origin(612_000.0, 3_380_010.0, 30.0, 30.0))
    for name, data in (("lulc_bas.tif", base), ("lulc_alt.tif", alt)):
        with rasterio.open(HERE / name, "w", **prof) as ds:
            ds.write(data, 1)
    (HERE / "pools.csv").write_text(POOLS)


if __name__ == "__main__":
    main()
