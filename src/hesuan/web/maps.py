"""Result rasters drawn for the web pages.

A PNG per raster (nodata transparent) and its legend, in one of two colour ramps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def ramp_rgb(values: np.ndarray, ramp: str) -> np.ndarray:
    """Return the colours [0–255 RGB] of ``values`` in 0–1.

    Sequential: light → dark green; diverging: brown → white → green.
    """
    v = np.clip(values, 0, 1)[..., None]
    if ramp == "diverging":
        brown, white, green = (np.array(c, float) for c in
                               ((140, 81, 10), (247, 247, 247), (1, 102, 94)))
        low = brown + (white - brown) * (v / 0.5)
        high = white + (green - white) * ((v - 0.5) / 0.5)
        rgb = np.where(v < 0.5, low, high)
    else:
        light, dark = np.array((237, 248, 233), float), np.array((0, 90, 50), float)
        rgb = light + (dark - light) * v
    out: np.ndarray = rgb.astype(np.uint8)
    return out


def render_png(raster: Path, png: Path, ramp: str) -> dict[str, Any]:
    """Draw ``raster`` as a PNG (nodata transparent), and its legend.

    Return the WGS 84 bounds and the value range [raster units] the colours span.
    """
    import rasterio
    from PIL import Image
    from rasterio.warp import transform_bounds

    with rasterio.open(raster) as src:
        step = max(1, max(src.width, src.height) // 1024)  # at most ~1024 px a side
        data = src.read(1, masked=True, out_shape=(src.height // step or 1,
                                                   src.width // step or 1))
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    values = np.ma.filled(data.astype(float), np.nan)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        lo, hi = 0.0, 1.0
    elif ramp == "diverging":
        hi = float(np.nanmax(np.abs(finite))) or 1.0
        lo = -hi
    else:
        lo, hi = float(finite.min()), float(finite.max())
        hi = hi if hi > lo else lo + 1.0
    scaled = (values - lo) / (hi - lo)
    rgba = np.zeros((*values.shape, 4), np.uint8)
    rgba[..., :3] = ramp_rgb(np.nan_to_num(scaled), ramp)
    rgba[..., 3] = np.where(np.isfinite(values), 255, 0)
    Image.fromarray(rgba, "RGBA").save(png)
    legend = ramp_rgb(np.linspace(0, 1, 256)[None, :].repeat(12, 0), ramp)
    Image.fromarray(legend, "RGB").save(png.with_suffix(".legend.png"))
    return {"bounds": [[south, west], [north, east]], "min": lo, "max": hi}
