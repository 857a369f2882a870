"""Low-resolution degradation of aligned face clips (issue 19's low-resolution study).

A frame of side ``S`` is degraded to side ``S // factor`` by (1) an optional Gaussian anti-alias blur, (2) area
averaging down to the low resolution, (3) optional additive Gaussian noise at the low resolution, (4) rounding to
uint8. Nothing here is taken from a paper: the low-resolution micro-expression literature describes down-sampling
from the aligned crop, and the blur width and noise level are choices, all knobs:

* ``blur_sigma``: standard deviation (px at the original resolution) of the pre-blur; ``None`` (default) uses
  ``0.3 * factor`` (a mild anti-alias on top of area averaging), ``0`` switches it off.
* ``noise_std``: standard deviation of the additive noise in grey levels (0-255), default 0 (off).
* ``seed``: the noise generator's seed; the same (clip, seed) gives the same output.
"""

from __future__ import annotations

import cv2
import numpy as np


def low_size(size: int, factor: int) -> int:
    """Side of the degraded frame; a factor that leaves fewer than 4 px is an error."""
    if int(factor) < 1:
        raise ValueError(f"degrade factor must be an integer >= 1, got {factor!r}")
    out = int(size) // int(factor)
    if out < 4:
        raise ValueError(f"degrade factor {factor} leaves {out} px of a {size} px frame; expected at least 4")
    return out


def degrade_frame(frame: np.ndarray, factor: int, blur_sigma: float | None = None, noise_std: float = 0.0,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 frame -> (H // factor, W // factor[, C]) uint8."""
    image = np.asarray(frame, dtype=np.float32)
    if image.ndim not in (2, 3):
        raise ValueError(f"degrade_frame expects an (H, W) or (H, W, C) frame, got shape {image.shape}")
    h, w = image.shape[:2]
    out_h, out_w = low_size(h, factor), low_size(w, factor)
    sigma = 0.3 * factor if blur_sigma is None else float(blur_sigma)
    if factor > 1 and sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)
    if factor > 1:
        image = cv2.resize(image, (out_w, out_h), interpolation=cv2.INTER_AREA)
    if noise_std > 0:
        rng = rng if rng is not None else np.random.default_rng(0)
        image = image + rng.normal(0.0, float(noise_std), size=image.shape).astype(np.float32)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def degrade_clip(clip: np.ndarray, factor: int, blur_sigma: float | None = None, noise_std: float = 0.0,
                 seed: int = 0) -> np.ndarray:
    """(T, H, W[, C]) uint8 clip -> (T, H // factor, W // factor[, C]) uint8; deterministic given ``seed``."""
    clip = np.asarray(clip)
    if clip.ndim not in (3, 4):
        raise ValueError(f"degrade_clip expects a (T, H, W) or (T, H, W, C) clip, got shape {clip.shape}")
    rng = np.random.default_rng(seed)
    return np.stack([degrade_frame(f, factor, blur_sigma, noise_std, rng) for f in clip])
