"""Temporal interpolation, LBP-TOP and HSDG on small generated clips (skimage's LBP as the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.feature import local_binary_pattern

from core.errors import ConfigError
from preprocessing import hsdg, interpolate, lbptop


@pytest.fixture(scope="module")
def texture_clip() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (10, 48, 56)).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ interpolation


def test_linear_interpolation_is_exact_on_a_linear_ramp_in_time():
    clip = np.arange(7, dtype=np.float64)[:, None, None] * np.ones((7, 3, 4)) * 5.0
    out = interpolate.interpolate_clip(clip, 13, "linear")
    assert out.shape == (13, 3, 4)
    assert np.allclose(out[:, 0, 0], np.linspace(0, 30, 13))


def test_cubic_interpolation_is_exact_on_a_cubic_in_time():
    t = np.arange(9, dtype=np.float64)
    clip = (0.1 * t**3 - t**2 + 3 * t + 50)[:, None, None] * np.ones((9, 2, 2))
    out = interpolate.interpolate_clip(clip, 5, "cubic")
    s = np.linspace(0, 8, 5)
    assert np.allclose(out[:, 1, 1], 0.1 * s**3 - s**2 + 3 * s + 50)


@pytest.mark.parametrize("method", interpolate.METHODS)
@pytest.mark.parametrize("n_in", [1, 2, 3, 25])
def test_ends_are_kept_and_length_is_fixed(method, n_in):
    clip = np.random.default_rng(n_in).uniform(0, 255, (n_in, 5, 6))
    out = interpolate.interpolate_clip(clip, 10, method)
    assert out.shape == (10, 5, 6)
    assert np.allclose(out[0], clip[0]) and np.allclose(out[-1], clip[-1])
    assert out.min() >= clip.min() - 1e-9 and out.max() <= clip.max() + 1e-9


def test_interpolation_rejects_bad_knobs():
    with pytest.raises(ConfigError, match="method"):
        interpolate.interpolate_clip(np.zeros((3, 2, 2)), 10, "tim")
    with pytest.raises(ConfigError, match="n_frames"):
        interpolate.interpolate_clip(np.zeros((3, 2, 2)), 0)


# ------------------------------------------------------------------------------------------------ LBP-TOP


@pytest.mark.parametrize("radius", [1.0, 2.5, 3.0])
def test_xy_codes_match_scikit_image(texture_clip, radius):
    codes = lbptop.plane_codes(texture_clip.astype(np.float64), "XY", 8, (3.0, radius, radius))
    margin = int(np.ceil(radius))
    for t in (0, codes.shape[0] - 1):
        reference = local_binary_pattern(texture_clip[t + 3], 8, radius, method="default")
        assert np.array_equal(codes[t], reference[margin:-margin, margin:-margin])


def test_xt_and_yt_codes_are_xy_codes_of_the_transposed_clip(texture_clip):
    volume = texture_clip.astype(np.float64)
    xt = lbptop.plane_codes(volume, "XT", 8, (2.0, 2.0, 2.0))
    yt = lbptop.plane_codes(volume, "YT", 8, (2.0, 2.0, 2.0))
    xy_of_xt = lbptop.plane_codes(volume.transpose(1, 0, 2), "XY", 8, (2.0, 2.0, 2.0)).transpose(1, 0, 2)
    xy_of_yt = lbptop.plane_codes(volume.transpose(2, 0, 1), "XY", 8, (2.0, 2.0, 2.0)).transpose(1, 2, 0)
    assert np.array_equal(xt, xy_of_xt)
    assert np.array_equal(yt, xy_of_yt)


def test_uniform_mapping_has_59_bins_and_matches_scikit_image_up_to_bin_order(texture_clip):
    lut = lbptop.uniform_lut(8)
    assert lut.max() + 1 == lbptop.n_uniform_bins(8) == 59
    assert np.bincount(lut).tolist() == [1] * 58 + [256 - 58]
    image = texture_clip[0].astype(np.float64)
    ours = lut[lbptop.plane_codes(image[None].repeat(3, 0), "XY", 8, (1.0, 1.0, 1.0))[0]]
    theirs = local_binary_pattern(texture_clip[0], 8, 1, method="nri_uniform")[1:-1, 1:-1].astype(int)
    pairs = set(zip(ours.ravel(), theirs.ravel()))
    assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})  # a one-to-one relabelling


def test_lbptop_layout_and_normalisation(texture_clip):
    feature = lbptop.lbp_top(texture_clip, blocks=(4, 4), radius=3, radius_t=3)
    assert feature.shape == (lbptop.feature_length((4, 4)),) == (4 * 4 * 3 * 59,)
    histograms = feature.reshape(4, 4, 3, 59)
    assert np.allclose(histograms.sum(axis=3), 1.0, atol=1e-5)


def test_a_flat_clip_has_every_code_in_one_bin():
    feature = lbptop.lbp_top(np.full((10, 40, 40), 77, np.uint8), blocks=(2, 2)).reshape(2, 2, 3, 59)
    all_ones_bin = lbptop.uniform_lut(8)[255]
    assert np.all(feature[..., all_ones_bin] == 1.0)


def test_motion_changes_xt_and_yt_histograms_not_xy():
    """The same texture, static or sliding one pixel a frame to the right: XY histograms equal, XT differ."""
    rng = np.random.default_rng(3)
    wide = rng.integers(0, 256, (40, 80)).astype(np.uint8)
    static = np.stack([wide[:, 20:60]] * 10)
    sliding = np.stack([wide[:, 20 - t : 60 - t] for t in range(10)])
    a = lbptop.lbp_top(static, blocks=(1, 1)).reshape(3, 59)
    b = lbptop.lbp_top(sliding, blocks=(1, 1)).reshape(3, 59)
    assert np.abs(a[0] - b[0]).sum() < 0.15
    assert np.abs(a[1] - b[1]).sum() > 0.5


def test_too_small_clip_is_a_config_error():
    with pytest.raises(ConfigError, match="too small"):
        lbptop.lbp_top(np.zeros((6, 40, 40)), radius_t=3)


# ------------------------------------------------------------------------------------------------ HSDG


def test_eighteen_distinct_directions_in_three_planes():
    assert len(hsdg.STEPS) == len(set(hsdg.STEPS)) == len(hsdg.DIRECTIONS) == 18
    assert all(1 <= sum(map(abs, s)) <= 2 for s in hsdg.STEPS)
    in_xy = [s for s in hsdg.STEPS if s[0] == 0]
    in_xt = [s for s in hsdg.STEPS if s[1] == 0]
    in_yt = [s for s in hsdg.STEPS if s[2] == 0]
    assert len(in_xy) == len(in_xt) == len(in_yt) == 8  # each plane's full 8-neighbourhood


def test_direction_gradient_of_a_linear_volume_is_constant():
    t, y, x = np.meshgrid(np.arange(5), np.arange(7), np.arange(9), indexing="ij")
    volume = (2.0 * t - 3.0 * y + 0.5 * x).astype(np.float64)
    for step in hsdg.STEPS:
        expected = 2.0 * step[0] - 3.0 * step[1] + 0.5 * step[2]
        assert np.allclose(hsdg.direction_gradient(volume, step), expected)


def test_gradient_bins_span_the_range_and_clip_the_ends():
    bins = hsdg.gradient_bins(np.array([-100.0, -32.0, -0.01, 0.0, 31.99, 32.0, 100.0]), 16, 32.0)
    assert bins.tolist() == [0, 0, 7, 8, 15, 15, 15]


def test_hsdg_shape_normalisation_and_direction_selectivity():
    """A clip brightening by 4 grey levels a frame has all its t+ gradients in one bin, its x gradients elsewhere."""
    t = np.arange(10)[:, None, None]
    clip = (100 + 4 * t + np.zeros((10, 24, 24))).astype(np.float64)
    feature = hsdg.hsdg(clip, blocks=(2, 2), n_bins=16, value_range=32.0)
    assert feature.shape == (18, 2 * 2 * 16)
    assert np.allclose(feature.reshape(18, 4, 16).sum(axis=2), 1.0)
    rows = dict(zip(hsdg.DIRECTIONS, feature.reshape(18, 4, 16)))
    assert np.all(rows["t+"][:, hsdg.gradient_bins(np.array([4.0]), 16, 32.0)[0]] == 1.0)
    assert np.all(rows["t-"][:, hsdg.gradient_bins(np.array([-4.0]), 16, 32.0)[0]] == 1.0)
    assert np.all(rows["x+"][:, hsdg.gradient_bins(np.array([0.0]), 16, 32.0)[0]] == 1.0)
