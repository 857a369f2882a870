"""Euler video magnification: exact pyramids for any size, band-pass filters, and the motion gain."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigError
from preprocessing import magnify

FPS = 200.0


def moving_blob(shift: np.ndarray, size: int = 96, sigma: float = 8.0) -> np.ndarray:
    """(T, size, size) float32 clip of a Gaussian blob whose centre moves by shift[t] px along x."""
    yy, xx = np.mgrid[0:size, 0:size]
    centre = size / 2
    frames = [100 + 100 * np.exp(-((xx - centre - s) ** 2 + (yy - centre) ** 2) / (2 * sigma**2)) for s in shift]
    return np.stack(frames).astype(np.float32)


def measured_shift(clip: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """First-order motion estimate along x of every frame against `reference`: -<dI, grad_x> / |grad_x|^2."""
    grad_x = np.gradient(reference, axis=1)
    return -((clip - reference) * grad_x).sum(axis=(1, 2)) / (grad_x**2).sum()


def sinusoid_shift(frequency_hz: float, amplitude: float = 0.2, frames: int = 80) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency_hz * np.arange(frames) / FPS)


@pytest.mark.parametrize("shape", [(6, 67, 93), (6, 128, 128), (4, 31, 17, 3), (3, 5, 9)])
@pytest.mark.parametrize("method", ["laplacian", "gaussian"])
def test_zero_alpha_reproduces_any_frame_size(shape, method):
    clip = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    levels = min(3, magnify.max_levels(*shape[1:3]))
    out = magnify.magnify_clip(clip, fps=FPS, alpha=0.0, levels=levels, method=method)
    assert out.shape == clip.shape
    assert np.abs(out - clip).max() < 1e-3


@pytest.mark.parametrize("size", [(67, 93), (128, 128), (33, 1000 // 7)])
def test_laplacian_pyramid_collapses_exactly(size):
    stack = np.random.default_rng(1).normal(size=(*size, 5)).astype(np.float32)
    pyramid = magnify.laplacian_pyramid(stack, magnify.max_levels(*size))
    assert [p.shape[:2] for p in pyramid] == magnify.pyramid_sizes(*size, len(pyramid) - 1)
    assert np.abs(magnify.collapse_laplacian(pyramid) - stack).max() < 1e-4


def test_more_frames_than_opencv_channels_are_processed_in_blocks():
    clip = np.random.default_rng(2).uniform(0, 255, (200, 20, 24, 3)).astype(np.float32)  # 600 channels
    out = magnify.magnify_clip(clip, fps=FPS, alpha=0.0, levels=2)
    assert np.abs(out - clip).max() < 1e-3


def test_too_many_levels_is_an_error_not_a_silent_change():
    with pytest.raises(ConfigError, match="levels=6 does not fit 40x40"):
        magnify.magnify_clip(np.zeros((4, 40, 40), np.float32), fps=FPS, levels=6)


def test_ideal_bandpass_keeps_in_band_and_removes_out_of_band_frequencies():
    t = np.arange(200) / FPS
    in_band, out_band = np.sin(2 * np.pi * 5 * t), np.sin(2 * np.pi * 40 * t)
    filtered = magnify.ideal_bandpass(in_band + out_band + 3.0, FPS, 2.0, 10.0)
    assert np.abs(filtered - in_band).max() < 1e-9


def test_iir_bandpass_passes_mid_band_and_blocks_constant_signals():
    t = np.arange(400) / FPS
    constant = magnify.iir_bandpass(np.full(400, 7.0), FPS, 1.0, 10.0)
    assert np.abs(constant).max() < 1e-9
    mid = magnify.iir_bandpass(np.sin(2 * np.pi * 3 * t), FPS, 1.0, 10.0)
    fast = magnify.iir_bandpass(np.sin(2 * np.pi * 80 * t), FPS, 1.0, 10.0)
    assert np.abs(mid[200:]).max() > 3 * np.abs(fast[200:]).max()


def test_level_alphas_ramp_below_the_cutoff_wavelength():
    alphas = magnify.level_alphas(4, alpha=10.0, lambda_c=16.0)
    assert alphas[-1] == 0.0  # residual not amplified by default
    assert alphas[0] < alphas[1] < alphas[2] < alphas[3] == 10.0
    assert alphas[0] == pytest.approx(10.0 * 2**1.5 / 16.0)
    assert magnify.level_alphas(2, 10.0, 16.0, amplify_residual=True)[-1] == 10.0


def test_laplacian_magnification_multiplies_in_band_motion():
    shift = sinusoid_shift(5.0)
    clip = moving_blob(shift)
    reference = moving_blob(np.zeros(1))[0]
    out = magnify.magnify_clip(clip, fps=FPS, alpha=10.0, low_hz=2.0, high_hz=10.0, levels=4, amplify_residual=True)
    gain_in = np.polyfit(shift, measured_shift(clip, reference), 1)[0]
    gain_out = np.polyfit(shift, measured_shift(out, reference), 1)[0]
    assert gain_in == pytest.approx(1.0, abs=0.05)
    assert 6.0 < gain_out < 11.5  # (1 + alpha) at most; fine levels are attenuated by the lambda_c ramp


def test_out_of_band_motion_is_left_alone():
    shift = sinusoid_shift(40.0)
    clip = moving_blob(shift)
    out = magnify.magnify_clip(clip, fps=FPS, alpha=10.0, low_hz=2.0, high_hz=10.0, levels=4)
    assert np.abs(out - clip).max() < 0.05


def test_iir_filter_also_magnifies():
    shift = sinusoid_shift(5.0)
    clip = moving_blob(shift)
    reference = moving_blob(np.zeros(1))[0]
    out = magnify.magnify_clip(clip, fps=FPS, alpha=10.0, low_hz=2.0, high_hz=10.0, filter="iir")
    assert np.polyfit(shift, measured_shift(out, reference), 1)[0] > 3.0


def test_chroma_attenuation_scales_colour_changes_only():
    """A flickering colour (I channel) is amplified alpha * chroma_attenuation times, luminance alpha times."""
    t = np.arange(80) / FPS
    wave = np.sin(2 * np.pi * 5 * t)[:, None, None]
    yiq = np.zeros((80, 32, 32, 3), np.float32)
    yiq[..., 0] = 120 + 2 * wave
    yiq[..., 1] = 2 * wave
    rgb = yiq @ magnify.YIQ_TO_RGB.T.astype(np.float32)
    out = magnify.magnify_clip(rgb, fps=FPS, alpha=10.0, low_hz=2, high_hz=10, method="gaussian", levels=2,
                               chroma_attenuation=0.5)
    out_yiq = out @ magnify.RGB_TO_YIQ.T.astype(np.float32)
    luma_gain = np.polyfit(2 * wave.ravel(), out_yiq[:, 16, 16, 0] - 120, 1)[0]
    chroma_gain = np.polyfit(2 * wave.ravel(), out_yiq[:, 16, 16, 1], 1)[0]
    assert luma_gain == pytest.approx(11.0, rel=0.02)
    assert chroma_gain == pytest.approx(6.0, rel=0.02)


def test_to_uint8_rounds_and_clips():
    assert magnify.to_uint8(np.array([-3.0, 0.4, 0.6, 254.5, 300.0])).tolist() == [0, 0, 1, 254, 255]


def test_bad_knobs_are_config_errors():
    clip = np.zeros((4, 16, 16), np.float32)
    with pytest.raises(ConfigError, match="method"):
        magnify.magnify_clip(clip, fps=FPS, levels=2, method="phase")
    with pytest.raises(ConfigError, match="filter"):
        magnify.magnify_clip(clip, fps=FPS, levels=2, filter="butter")
    with pytest.raises(ConfigError, match="low_hz < high_hz"):
        magnify.magnify_clip(clip, fps=FPS, levels=2, low_hz=5, high_hz=2)
