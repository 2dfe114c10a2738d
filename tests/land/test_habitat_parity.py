"""Habitat quality against InVEST 3.20.2 run on a generated case (cases/habitat_parity/SOURCE.md).

Tolerance: InVEST writes float32 rasters; hesuan computes in float64 and writes float32, so
the two may differ by the rounding of each float32 step InVEST takes (a few units in the last
place of values ≤ 1): ``atol = 1e-6``. The nodata masks must be identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from hesuan.land.habitat import run
from hesuan.land.habitat.equations import exponential_decay, habitat_quality, linear_decay

CASE = Path(__file__).parent / "cases" / "habitat_parity"
HALF_SATURATION = 0.4


def _read(path: Path) -> np.ma.MaskedArray:
    with rasterio.open(path) as ds:
        return ds.read(1, masked=True)


@pytest.fixture(scope="module", params=[4096, 1 << 22], ids=["blocks", "whole"])
def result(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("habitat")
    return run(CASE / "lulc.tif", CASE / "threats.csv", CASE / "sensitivity.csv", out,
               half_saturation=HALF_SATURATION, block_pixels=request.param)


@pytest.mark.parametrize(("ours", "invest"), [("deg_sum", "invest_deg_sum_c.tif"),
                                               ("quality", "invest_quality_c.tif")])
def test_rasters_match_invest(result, ours, invest):
    mine = _read(result.paths[ours])
    peer = _read(CASE / invest)
    np.testing.assert_array_equal(mine.mask, peer.mask)
    assert peer.compressed().max() > 0.5  # the case reaches high degradation / quality
    np.testing.assert_allclose(mine.compressed(), peer.compressed(), rtol=0, atol=1e-6)


def test_summary_matches_invest_quality(result):
    peer_q = _read(CASE / "invest_quality_c.tif")
    with rasterio.open(CASE / "lulc.tif") as ds:
        lulc = ds.read(1)
    habitat = np.isin(lulc, [1, 2, 3])  # H_j > 0 in sensitivity.csv
    s = result.summary
    assert s.habitat_pixels == int(habitat.sum())
    assert s.nodata_pixels == 9
    assert s.mean_quality_habitat == pytest.approx(float(peer_q.data[habitat].mean()),
                                                   abs=1e-6)
    assert [t.weight_normalised for t in s.threats] == pytest.approx([0.7 / 1.7, 1 / 1.7])


def test_decay_functions_user_guide_values():
    # User guide: linear impact is 1 − d/d_max; exponential falls to exp(−2.99) ≈ 5 % at
    # d_max; both are 0 beyond d_max.
    d = np.array([0.0, 0.5, 1.0, 1.01])
    np.testing.assert_allclose(linear_decay(d, 1.0), [1.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(exponential_decay(d, 1.0),
                               [1.0, np.exp(-1.495), np.exp(-2.99), 0.0])
    # Q = H/2 where D = k (the half-saturation point).
    assert habitat_quality(np.array([0.3]), np.array([0.8]), 0.3)[0] == pytest.approx(0.4)


def test_feeds_the_seea_condition_account(result):
    # SEEA EA §5.61: I = (V − V_L)/(V_H − V_L) with V_L = 0 and V_H = H_j, so one variable per
    # type gives an index of Q̄_j / H_j (the class means checked against InVEST above).
    from hesuan.land.habitat.condition import condition_variables
    from hesuan.land.seea.condition import condition_indices

    peer_q = _read(CASE / "invest_quality_c.tif")
    with rasterio.open(CASE / "lulc.tif") as ds:
        lulc = ds.read(1)
    idx = condition_indices(condition_variables(result.summary, result.summary))
    assert sorted(idx) == ["cropland", "forest", "grassland"]
    for name, code, h in (("forest", 1, 1.0), ("grassland", 2, 0.7), ("cropland", 3, 0.3)):
        expected = float(peer_q.data[lulc == code].mean()) / h
        assert idx[name].opening == pytest.approx(expected, abs=1e-5)
        assert idx[name].change == 0


def test_distance_is_exact_on_wide_maps():
    # The exact Euclidean distance transform (user guide: distance to the nearest threat
    # pixel), here against SciPy's exact transform on a map wider than 4096 px: at 6000²
    # px, InVEST 3.20.2's own transform (pygeoprocessing 2.4.11) was found up to √2 − 1 px
    # off beyond column ≈ 3900 (docs/benchmarks.md), so parity there is not a test of
    # exactness.
    from scipy import ndimage

    from hesuan.land.habitat.equations import threat_distance_px

    rng = np.random.default_rng(7)
    present = rng.random((60, 6000)) > 0.999
    present[:, 5990] = True
    expected = ndimage.distance_transform_edt(~present)
    np.testing.assert_allclose(threat_distance_px(present), expected, rtol=2e-7, atol=0)


def test_blocks_give_the_whole_map_bit_for_bit(tmp_path):
    # The module's claim: with each threat read around a block with a halo of its own
    # maximum distance (+ 1 px), the blocks give the whole-map result. Small blocks of
    # unequal sizes (192 and 8 px a side on this 200² map) on two threads reusing their
    # scratch arrays must give the very bits of one whole-map block, and the same sums.
    # One urban pixel 52–60 px left of the last columns' block: only a halo of ≥ 60 px
    # (urban reaches 2.5 km = 83.3 px) finds it from there.
    import shutil

    case = tmp_path / "case"
    shutil.copytree(CASE, case, ignore=shutil.ignore_patterns("invest_*", "*.py"))
    with rasterio.open(case / "threat_urban.tif", "r+") as ds:
        urban = np.zeros((ds.height, ds.width), np.float32)
        urban[100, 140] = 1.0
        ds.write(urban, 1)
    runs = [run(case / "lulc.tif", case / "threats.csv", case / "sensitivity.csv",
                tmp_path / str(px), half_saturation=HALF_SATURATION, block_pixels=px)
            for px in (4096, 1 << 22)]
    for name in ("deg_sum", "quality"):
        small, whole = (_read(r.paths[name]) for r in runs)
        np.testing.assert_array_equal(small.mask, whole.mask)
        np.testing.assert_array_equal(small.data.view(np.uint32), whole.data.view(np.uint32))
    by_class = [{c.lucode: (c.pixels, c.mean_degradation, c.mean_quality)
                 for c in r.summary.classes} for r in runs]
    assert by_class[0].keys() == by_class[1].keys()
    for code, (pixels, deg, q) in by_class[0].items():
        assert pixels == by_class[1][code][0]
        assert (deg, q) == pytest.approx(by_class[1][code][1:], rel=1e-12)
