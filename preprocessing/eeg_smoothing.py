"""Smoothing of EEG window features, computed within one trial only.

SEED ships its features already smoothed (``de_LDS``, ``de_movingAve``). Re-smoothing (or smoothing raw per-window
features) over a whole session's concatenated windows lets the end of one trial bleed into the start of the next:
with trial-level splits, test-trial information then reaches training windows (a leak named in
../shared/reference/protocols.md). :func:`smooth_within_trials` cuts the window sequence at every trial boundary
and smooths each piece alone, so a trial's smoothed windows depend on that trial's windows only.

Two smoothers, each on one trial's (T, ...) array along axis 0:

- :func:`moving_average`: centred, ``width`` windows, shrinking at the trial's ends (no padding from outside);
- :func:`lds_smooth`: a linear dynamical system in its simplest form (a random-walk state per feature observed
  in noise) run as a Kalman filter and Rauch-Tung-Striebel smoother. Only the ratio of process to observation
  variance matters (``ratio``, default 0.1); the initial state is the first window with the observation variance.
  SEED's own LDS (Shi and Lu 2010) estimates its parameters; this fixed-ratio version is our choice, documented.
  Both are offline (a window's smoothed value uses later windows of the same trial), as SEED's are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METHODS = ("lds", "moving_average")


def moving_average(x: np.ndarray, width: int = 5) -> np.ndarray:
    """Centred moving average of one trial along axis 0; the window shrinks at both ends."""
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    x = np.asarray(x, dtype=np.float64)
    half = width // 2
    csum = np.concatenate([np.zeros_like(x[:1]), np.cumsum(x, axis=0)], axis=0)
    t = np.arange(len(x))
    lo, hi = np.clip(t - half, 0, None), np.clip(t + half + 1, None, len(x))
    counts = (hi - lo).reshape((-1,) + (1,) * (x.ndim - 1))
    return (csum[hi] - csum[lo]) / counts


def lds_smooth(x: np.ndarray, ratio: float = 0.1) -> np.ndarray:
    """Kalman filter + RTS smoother of one trial along axis 0 (random walk, process/observation variance `ratio`)."""
    if ratio <= 0:
        raise ValueError(f"ratio must be > 0, got {ratio}")
    y = np.asarray(x, dtype=np.float64)
    n = len(y)
    if n == 0:
        return y.copy()
    r, q = 1.0, float(ratio)
    means = np.empty_like(y)
    variances = np.empty(n)  # the same for every feature: gains depend on r, q and t only
    mean, var = y[0], r
    for t in range(n):
        if t > 0:
            var = var + q  # predict (random walk)
            gain = var / (var + r)
            mean = mean + gain * (y[t] - mean)
            var = (1.0 - gain) * var
        means[t], variances[t] = mean, var
    out = means.copy()
    for t in range(n - 2, -1, -1):
        back = variances[t] / (variances[t] + q)
        out[t] = means[t] + back * (out[t + 1] - means[t])
    return out


def smooth_trial(x: np.ndarray, method: str = "lds", **knobs) -> np.ndarray:
    if method == "lds":
        return lds_smooth(x, **knobs)
    if method == "moving_average":
        return moving_average(x, **knobs)
    raise ValueError(f"unknown smoothing {method!r}; expected one of {METHODS}")


def trial_segments(trial_ids: Sequence) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal trial ids; a trial that appears in two runs is an error."""
    ids = list(trial_ids)
    segments, seen, start = [], set(), 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            if ids[start] in seen:
                raise ValueError(f"windows of trial {ids[start]!r} are not contiguous: sort windows by trial first")
            seen.add(ids[start])
            segments.append((start, i))
            start = i
    return segments


def smooth_within_trials(x: np.ndarray, trial_ids: Sequence, method: str = "lds", **knobs) -> np.ndarray:
    """Smooth (N windows, ...) features trial by trial: `trial_ids[i]` names window i's trial (contiguous)."""
    x = np.asarray(x)
    if len(trial_ids) != len(x):
        raise ValueError(f"{len(trial_ids)} trial ids for {len(x)} windows")
    out = np.empty(x.shape, dtype=np.float64)
    for start, stop in trial_segments(trial_ids):
        out[start:stop] = smooth_trial(x[start:stop], method, **knobs)
    return out
