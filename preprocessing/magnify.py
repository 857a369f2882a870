"""Eulerian video magnification (Wu, Rubinstein, Shih, Guttag, Durand & Freeman, SIGGRAPH 2012).

Each frame is decomposed into a spatial pyramid; the time series of every pyramid coefficient is band-passed
in time; the band-passed signal is multiplied by an amplification factor and added back before the pyramid is
collapsed. For small motions the first-order Taylor argument of the paper (Sec. 3) turns the amplified
intensity change into a motion (1 + alpha) times larger. LBP-SDG (Wei, Lu & Yan, arXiv 2102.08068) and many
micro-expression pipelines use it as the step before hand-crafted features.

Two methods (`preprocess.magnify.method`):
- `laplacian` (motion magnification): a Laplacian pyramid of `levels` band-pass levels plus the low-pass
  residual; every band-pass level is filtered and amplified.
- `gaussian` (colour magnification): the frame blurred and down-sampled `levels` times; only that level is
  filtered, amplified, up-sampled back and added.

Any frame size works: OpenCV's `pyrDown` rounds odd sizes up ((n + 1) // 2) and every `pyrUp` is given the
exact size of the finer level, so reconstruction is exact (to float rounding) for any height and width; no
size is padded, cropped or skipped. Too many levels for a small frame is an error, never a silent change.

Choices where the paper leaves freedom (all knobs of `preprocess.magnify` unless noted):
- Temporal filter `filter`: `ideal` zeroes the FFT bins outside [low_hz, high_hz] (whole clip at once);
  `iir` is the difference of two first-order exponential low-passes y += r (x - y) with
  r = 1 - exp(-2 pi f / fps) for f = high_hz and f = low_hz, started at the first frame (causal, as in the
  paper's real-time variant; its pass band only approximates [low_hz, high_hz]).
- Spatial attenuation (paper Sec. 3.2, bound (1 + alpha) delta < lambda / 8): level i of the Laplacian
  pyramid (0 = finest) holds spatial periods of 2^(i+1) to 2^(i+2) pixels; its representative wavelength is
  their geometric mean lambda_i = 2^(i + 1.5). Levels with lambda_i >= `lambda_c` get the full `alpha`, finer
  ones alpha * lambda_i / lambda_c (the paper's linear ramp). The low-pass residual is amplified only when
  `amplify_residual` is true (default false: it carries slow global brightness changes, not motion).
- Colour clips are magnified in YIQ (NTSC) space, with the chrominance (I, Q) amplification multiplied by
  `chroma_attenuation` (paper Sec. 5). A grayscale clip is treated as the luminance alone; since the gray
  value of RGB is exactly YIQ's Y, magnifying the gray clip equals the gray of the magnified colour clip
  up to clipping, which is why the `magnify` stage works on gray frames.
- `fps`: the recording's frame rate (CASME II: 200); `datasets.<name>.fps` overrides it.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from core.errors import ConfigError

CV_MAX_CHANNELS = 512  # OpenCV's pyramid functions accept at most this many channels
RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]], dtype=np.float64
)
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)
METHODS = ("laplacian", "gaussian")
FILTERS = ("ideal", "iir")


def pyramid_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """(h, w) of every level from the full frame down `levels` octaves, as `pyrDown` produces them."""
    sizes = [(height, width)]
    for _ in range(levels):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


def max_levels(height: int, width: int, smallest: int = 2) -> int:
    """The most pyramid levels that keep the coarsest level at least `smallest` pixels on each side."""
    levels = 0
    while min(pyramid_sizes(height, width, levels + 1)[-1]) >= smallest:
        levels += 1
    return levels


def _per_channel_block(op: Callable[[np.ndarray], np.ndarray], stack: np.ndarray) -> np.ndarray:
    """Apply a 2-D OpenCV op to a (h, w, K) stack, in blocks of at most CV_MAX_CHANNELS channels."""
    parts = []
    for start in range(0, stack.shape[2], CV_MAX_CHANNELS):
        part = op(np.ascontiguousarray(stack[:, :, start : start + CV_MAX_CHANNELS]))
        parts.append(part[:, :, None] if part.ndim == 2 else part)  # OpenCV drops a single channel axis
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)


def _down(image: np.ndarray) -> np.ndarray:
    """One octave down: 5x5 Gaussian blur, then every other row and column (odd sizes round up)."""
    return cv2.pyrDown(image)


def _up_to(height: int, width: int) -> Callable[[np.ndarray], np.ndarray]:
    """One octave up to an exact (height, width): zero insertion and 5x5 Gaussian interpolation."""
    return lambda image: cv2.pyrUp(image, dstsize=(width, height))


def gaussian_pyramid(stack: np.ndarray, levels: int) -> list[np.ndarray]:
    """Levels 0..`levels` of a (h, w, K) float32 stack (K independent images, e.g. frames x channels)."""
    pyramid = [stack]
    for _ in range(levels):
        pyramid.append(_per_channel_block(_down, pyramid[-1]))
    return pyramid


def laplacian_pyramid(stack: np.ndarray, levels: int) -> list[np.ndarray]:
    """`levels` band-pass levels (finest first) and the low-pass residual, of a (h, w, K) float32 stack."""
    gaussian = gaussian_pyramid(stack, levels)
    bands = [
        fine - _per_channel_block(_up_to(*fine.shape[:2]), coarse) for fine, coarse in zip(gaussian, gaussian[1:])
    ]
    return bands + [gaussian[-1]]


def collapse_laplacian(pyramid: list[np.ndarray]) -> np.ndarray:
    """Inverse of `laplacian_pyramid`: up-sample the residual and add the bands back, coarsest first."""
    image = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        image = band + _per_channel_block(_up_to(*band.shape[:2]), image)
    return image


def upsample_to(stack: np.ndarray, sizes: list[tuple[int, int]]) -> np.ndarray:
    """Up-sample a coarse (h, w, K) stack octave by octave through `sizes` (coarse to fine, excluding its own)."""
    for height, width in sizes:
        stack = _per_channel_block(_up_to(height, width), stack)
    return stack


def ideal_bandpass(signal: np.ndarray, fps: float, low_hz: float, high_hz: float, axis: int = 0) -> np.ndarray:
    """Keep only the FFT bins with low_hz <= f <= high_hz along `axis` (the clip's time axis)."""
    n = signal.shape[axis]
    spectrum = np.fft.rfft(signal, axis=axis)
    freqs = np.fft.rfftfreq(n, d=1.0 / fps)
    keep = ((freqs >= low_hz) & (freqs <= high_hz)).astype(spectrum.real.dtype)
    shape = [1] * signal.ndim
    shape[axis] = keep.size
    return np.fft.irfft(spectrum * keep.reshape(shape), n=n, axis=axis).astype(signal.dtype)


def exponential_lowpass(signal: np.ndarray, fps: float, cutoff_hz: float, axis: int = 0) -> np.ndarray:
    """First-order IIR low-pass y[t] = y[t-1] + r (x[t] - y[t-1]), r = 1 - exp(-2 pi f / fps), y[-1] = x[0]."""
    from scipy.signal import lfilter  # here, not at the top: scipy.signal costs every preprocessing stage ~1.5 s

    r = 1.0 - np.exp(-2.0 * np.pi * cutoff_hz / fps)
    first = np.take(signal, [0], axis=axis)
    return lfilter([r], [1.0, r - 1.0], signal, axis=axis, zi=(1.0 - r) * first)[0].astype(signal.dtype)


def iir_bandpass(signal: np.ndarray, fps: float, low_hz: float, high_hz: float, axis: int = 0) -> np.ndarray:
    """Difference of two first-order low-passes (cut-offs high_hz and low_hz): a causal band-pass."""
    return exponential_lowpass(signal, fps, high_hz, axis) - exponential_lowpass(signal, fps, low_hz, axis)


def temporal_bandpass(signal, fps, low_hz, high_hz, kind: str = "ideal", axis: int = 0) -> np.ndarray:
    if kind not in FILTERS:
        raise ConfigError(f"preprocess.magnify.filter must be one of {FILTERS}, got {kind!r}")
    if not 0 <= low_hz < high_hz:
        raise ConfigError(f"preprocess.magnify needs 0 <= low_hz < high_hz, got {low_hz} and {high_hz}")
    band = ideal_bandpass if kind == "ideal" else iir_bandpass
    return band(signal, fps, low_hz, high_hz, axis)


def level_wavelength(level: int) -> float:
    """Representative spatial wavelength (pixels of the full frame) of Laplacian level `level` (0 = finest)."""
    return 2.0 ** (level + 1.5)


def level_alphas(levels: int, alpha: float, lambda_c: float, amplify_residual: bool = False) -> list[float]:
    """Amplification of each band-pass level (finest first) and, last, of the residual."""
    alphas = [alpha * min(1.0, level_wavelength(i) / lambda_c) for i in range(levels)]
    return alphas + [alpha if amplify_residual else 0.0]


def _clip_to_stack(clip: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(T, H, W[, C]) -> float32 (H, W, T*C) stack, plus the (T, C) needed to undo it."""
    frames = clip.astype(np.float32)
    if frames.ndim == 3:
        frames = frames[..., None]
    t, h, w, c = frames.shape
    return np.ascontiguousarray(frames.transpose(1, 2, 0, 3).reshape(h, w, t * c)), (t, c)


def _stack_to_clip(stack: np.ndarray, tc: tuple[int, int], gray: bool) -> np.ndarray:
    t, c = tc
    h, w = stack.shape[:2]
    clip = stack.reshape(h, w, t, c).transpose(2, 0, 1, 3)
    return clip[..., 0] if gray else clip


def _filter_and_amplify(stack, tc, gains, fps, low_hz, high_hz, kind) -> np.ndarray:
    """Band-pass a (h, w, T*C) stack in time and scale channel c by gains[c]."""
    t, c = tc
    h, w = stack.shape[:2]
    series = stack.reshape(h, w, t, c)
    band = temporal_bandpass(series, fps, low_hz, high_hz, kind, axis=2)
    return (band * np.asarray(gains, dtype=np.float32)).reshape(h, w, t * c)


def magnify_clip(
    clip: np.ndarray,
    fps: float,
    alpha: float = 10.0,
    low_hz: float = 0.5,
    high_hz: float = 10.0,
    levels: int = 4,
    method: str = "laplacian",
    filter: str = "ideal",
    lambda_c: float = 16.0,
    chroma_attenuation: float = 0.1,
    amplify_residual: bool = False,
) -> np.ndarray:
    """Magnify a clip (T, H, W) gray or (T, H, W, 3) RGB; returns float32 of the same shape (not clipped).

    Values are in the input's intensity units; `to_uint8` rounds and clips them for storage.
    """
    if method not in METHODS:
        raise ConfigError(f"preprocess.magnify.method must be one of {METHODS}, got {method!r}")
    clip = np.asarray(clip)
    gray = clip.ndim == 3
    height, width = clip.shape[1:3]
    if levels < 1 or levels > max_levels(height, width):
        raise ConfigError(
            f"preprocess.magnify.levels={levels} does not fit {width}x{height} frames "
            f"(1 to {max_levels(height, width)} levels keep the coarsest level at least 2 pixels)"
        )
    source = clip if gray else (clip.astype(np.float32) @ RGB_TO_YIQ.T.astype(np.float32))
    stack, tc = _clip_to_stack(source)
    gains = [1.0] if gray else [1.0, chroma_attenuation, chroma_attenuation]
    if method == "laplacian":
        pyramid = laplacian_pyramid(stack, levels)
        level_gain = level_alphas(levels, alpha, lambda_c, amplify_residual)
        for i, gain in enumerate(level_gain):
            if gain:
                pyramid[i] = pyramid[i] + _filter_and_amplify(
                    pyramid[i], tc, [gain * g for g in gains], fps, low_hz, high_hz, filter
                )
        out = collapse_laplacian(pyramid)
    else:
        coarse = gaussian_pyramid(stack, levels)[-1]
        amplified = _filter_and_amplify(coarse, tc, [alpha * g for g in gains], fps, low_hz, high_hz, filter)
        sizes = pyramid_sizes(height, width, levels)[-2::-1]
        out = stack + upsample_to(amplified, sizes)
    result = _stack_to_clip(out, tc, gray)
    if not gray:
        result = result @ YIQ_TO_RGB.T.astype(np.float32)
    return result.astype(np.float32)


def to_uint8(clip: np.ndarray) -> np.ndarray:
    """Round and clip to the 0-255 range of an 8-bit clip."""
    return np.clip(np.rint(clip), 0, 255).astype(np.uint8)
