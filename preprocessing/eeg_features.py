"""Differential-entropy (DE) band features of raw EEG, window by window, for datasets that ship signals (DEAP).

SEED and SEED-IV ship DE already; DEAP ships the preprocessed signal (128 Hz, band-passed 4-45 Hz by its authors
[R]). :func:`differential_entropy` turns one trial's (channels, samples) signal into (windows, channels, bands)
the way the DE features of the SEED family are defined: band-pass each channel into each band, cut the trial into
non-overlapping windows of ``window_s`` seconds (a trailing part shorter than a window is dropped) and take
DE = 0.5 log(2 pi e var) of each window's band signal (the DE of a Gaussian of that variance).

Choices (each a knob of the caller, datamodules/eeg.py ``data.bands`` / ``data.window_s``): a 4th-order
Butterworth band-pass applied forwards and backwards over the whole trial (zero phase; the trial is filtered as
one piece, so nothing crosses a trial boundary); the bands :data:`DEAP_BANDS` (theta 4-8, alpha 8-14, beta 14-31,
gamma 31-45 Hz; no delta because DEAP's preprocessed signal is band-passed from 4 Hz); one-second windows as in
SEED. A band whose upper edge reaches the Nyquist frequency is an error, not a silent change.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.signal import butter, sosfiltfilt

DEAP_BANDS: dict[str, tuple[float, float]] = {"theta": (4.0, 8.0), "alpha": (8.0, 14.0), "beta": (14.0, 31.0),
                                              "gamma": (31.0, 45.0)}


def differential_entropy(signal: np.ndarray, rate: float, bands: Mapping[str, tuple[float, float]] = DEAP_BANDS,
                         window_s: float = 1.0) -> np.ndarray:
    """(windows, channels, bands) DE of one trial's (channels, samples) signal (see the module doc)."""
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 2:
        raise ValueError(f"expected a (channels, samples) signal, got shape {signal.shape}")
    step = int(round(window_s * rate))
    n_windows = signal.shape[1] // step if step > 0 else 0
    if n_windows < 1:
        raise ValueError(f"a trial of {signal.shape[1]} samples holds no {window_s} s window at {rate} Hz")
    out = np.empty((n_windows, signal.shape[0], len(bands)))
    for b, (name, (low, high)) in enumerate(bands.items()):
        if not 0 < low < high < rate / 2:
            raise ValueError(f"band {name} {low}-{high} Hz: need 0 < low < high < Nyquist ({rate / 2} Hz)")
        sos = butter(4, [low, high], btype="bandpass", fs=rate, output="sos")
        filtered = sosfiltfilt(sos, signal, axis=1)[:, : n_windows * step]
        variance = filtered.reshape(signal.shape[0], n_windows, step).var(axis=2)
        out[:, :, b] = 0.5 * np.log(2 * np.pi * np.e * np.maximum(variance, 1e-12)).T
    return out
