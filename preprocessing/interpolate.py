"""Temporal interpolation of a clip to a fixed number of frames (for LBP-TOP style features).

The temporal interpolation model (TIM) of Zhou, Zhao & Pietikainen (CVPR 2011), used by Pfister et al. 2011
and the CASME II / MEB baselines, embeds the frames on a low-dimensional curve (a graph embedding) and samples
that curve at equal steps. Here the same idea is kept in its simplest separable form: each pixel's intensity
is a function of time, interpolated between the recorded frames and sampled at `n_frames` equally spaced
instants from the first to the last frame (`preprocess.features.interpolate`):

- `linear`: piecewise-linear in time between neighbouring frames;
- `cubic`: a not-a-knot cubic spline through all frames (smoother; it can overshoot, so values are clipped
  to the input's range). With fewer than 4 frames the spline degree drops to what the frames allow.

The first and last output frames are the clip's first and last frames; a one-frame clip is repeated.
"""

from __future__ import annotations

import numpy as np

from core.errors import ConfigError

METHODS = ("linear", "cubic")


def sample_times(n_in: int, n_out: int) -> np.ndarray:
    """`n_out` equally spaced positions on the input's frame axis, from 0 to n_in - 1 inclusive."""
    return np.linspace(0.0, n_in - 1.0, n_out)


def interpolate_linear(clip: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per-pixel linear interpolation of a (T, ...) clip at fractional frame positions `times`."""
    lower = np.clip(np.floor(times).astype(int), 0, clip.shape[0] - 1)
    upper = np.minimum(lower + 1, clip.shape[0] - 1)
    weight = (times - lower).reshape(-1, *([1] * (clip.ndim - 1)))
    return (1.0 - weight) * clip[lower] + weight * clip[upper]


def interpolate_cubic(clip: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per-pixel not-a-knot cubic spline in time (lower degree for very short clips), clipped to the input range."""
    from scipy.interpolate import make_interp_spline  # here: scipy.interpolate costs every stage ~0.9 s to import

    degree = min(3, clip.shape[0] - 1)
    spline = make_interp_spline(np.arange(clip.shape[0], dtype=np.float64), clip, k=degree, axis=0)
    return np.clip(spline(times), clip.min(), clip.max())


def interpolate_clip(clip: np.ndarray, n_frames: int = 10, method: str = "linear") -> np.ndarray:
    """Resample a (T, H, W[, C]) clip to (n_frames, H, W[, C]) float64."""
    if method not in METHODS:
        raise ConfigError(f"preprocess.features.interpolate.method must be one of {METHODS}, got {method!r}")
    if n_frames < 1:
        raise ConfigError(f"preprocess.features.interpolate.n_frames must be at least 1, got {n_frames}")
    clip = np.asarray(clip, dtype=np.float64)
    if clip.shape[0] == 1:
        return np.repeat(clip, n_frames, axis=0)
    times = sample_times(clip.shape[0], n_frames)
    return interpolate_linear(clip, times) if method == "linear" else interpolate_cubic(clip, times)
