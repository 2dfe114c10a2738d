"""The look-up tile encoder (hesuan.land.zstd_tiles) against libzstd.

Reference: the Zstandard format, RFC 8878. Every frame the encoder writes is decoded here by
an independent decoder (libzstd, through pyarrow and through GDAL/libtiff) and must give
back exactly ``lut[slots]`` — bit for bit — for any look-up table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import rasterio
from rasterio.transform import from_origin

from hesuan.land.zstd_tiles import BLOCK_PX, TileFile, encode_template

ZSTD = pa.Codec("zstd")


def _decode(frame: bytes, shape: tuple[int, int]) -> np.ndarray:
    raw = ZSTD.decompress(frame, decompressed_size=4 * shape[0] * shape[1], asbytes=True)
    return np.frombuffer(raw, dtype=np.float32).reshape(shape)


def _patchy(rng: np.random.Generator, t: int, classes: int, speck: float) -> np.ndarray:
    cells = rng.integers(0, classes, (t // 8 + 1, t // 8 + 1))
    s = np.repeat(np.repeat(cells, 8, 0), 8, 1)[:t, :t]
    mask = rng.random((t, t)) < speck
    s[mask] = rng.integers(0, classes, int(mask.sum()))
    return s


@pytest.mark.parametrize("t", [16, 48, 256, 512])
@pytest.mark.parametrize("kind", ["constant", "noise", "patchy", "stripes", "columns"])
def test_frames_decode_to_the_lookup(t, kind):
    rng = np.random.default_rng(t)
    if kind == "constant":
        slots = np.full((t, t), 3)
    elif kind == "noise":  # nothing repeats: every block falls back to a Raw_Block
        slots = rng.integers(0, 200, (t, t))
    elif kind == "patchy":
        slots = _patchy(rng, t, 14, 0.03)
    elif kind == "stripes":
        slots = np.broadcast_to(np.arange(t) // 3 % 7, (t, t))
    else:
        slots = np.broadcast_to((np.arange(t) // 5 % 9)[:, None], (t, t))
    slots = np.ascontiguousarray(slots, dtype=np.uint8)
    tpl = encode_template(slots)
    for lut in (rng.random(256).astype(np.float32) * 100,
                np.zeros(256, np.float32),  # every value equal: still exact
                np.array([np.nan, -np.inf, -0.0, 3.4e38] * 64, np.float32)):
        got = _decode(tpl.render(lut), slots.shape)
        assert np.array_equal(got.view(np.uint32), lut[slots].view(np.uint32))


def test_long_runs_and_long_literal_stretches():
    """Match lengths up to a whole block and literal stretches up to most of one."""
    t = 512
    slots = np.zeros((t, t), np.uint16)
    slots[200:, :] = np.arange(t) % 300  # rows equal to the one above: long "up" matches
    slots[100] = np.arange(t) + 1000     # a row of literals
    lut = np.random.default_rng(1).random(2000).astype(np.float32)
    tpl = encode_template(slots)
    assert slots.size // BLOCK_PX == 8
    got = _decode(tpl.render(lut), slots.shape)
    assert np.array_equal(got, lut[slots])


@pytest.mark.parametrize("bigtiff", ["no", "yes"])
def test_tile_file_is_an_ordinary_geotiff(tmp_path, bigtiff):
    """Tiles written by TileFile read back through GDAL (libtiff's ZSTD codec) exactly."""
    w, h, t = 700, 300, 256
    rng = np.random.default_rng(7)
    slots = _patchy(rng, 1024, 12, 0.05)[:h, :w].astype(np.uint8)
    lut = (rng.random(256) * 50).astype(np.float32)
    prof = dict(driver="GTiff", dtype="float32", count=1, nodata=-1.0, width=w, height=h,
                crs="EPSG:32650", transform=from_origin(500_000, 3_400_000, 30, 30),
                tiled=True, blockxsize=t, blockysize=t, compress="zstd", bigtiff=bigtiff)
    f = TileFile(tmp_path / "x.tif", prof, {"units": "t C/ha"})
    for r in range(0, h, t):
        for c in range(0, w, t):
            part = slots[r: r + t, c: c + t]
            part = np.pad(part, ((0, t - part.shape[0]), (0, t - part.shape[1])), mode="edge")
            f.write_tile((r // t) * f.tiles_across + c // t, encode_template(part).render(lut))
    f.close()
    with rasterio.open(tmp_path / "x.tif") as ds:
        assert ds.profile["compress"] == "zstd" and ds.profile["tiled"]
        assert ds.block_shapes[0] == (t, t) and ds.tags(1)["units"] == "t C/ha"
        assert ds.crs.to_epsg() == 32650 and ds.nodata == -1.0
        assert np.array_equal(ds.read(1), lut[slots])


def test_tile_file_refuses_missing_tiles(tmp_path):
    prof = dict(driver="GTiff", dtype="float32", count=1, width=64, height=64,
                crs="EPSG:32650", transform=from_origin(0, 0, 30, 30), tiled=True,
                blockxsize=32, blockysize=32)
    f = TileFile(tmp_path / "y.tif", prof, {})
    f.write_tile(0, encode_template(np.zeros((32, 32), np.uint8)).render(np.ones(1, np.float32)))
    with pytest.raises(RuntimeError, match="3 tiles not written"):
        f.close()
