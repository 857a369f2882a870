"""Super-resolution of degraded face frames: bicubic, Lanczos and two small learned networks trained here.

* ``bicubic`` / ``lanczos``: OpenCV interpolation (``INTER_CUBIC`` / ``INTER_LANCZOS4``) back to the original side.
* ``srcnn``: SRCNN (Dong et al., ECCV 2014 / TPAMI 2016): bicubic up-sampling, then three convolutions
  (9x9 -> 1x1 -> 5x5, ReLU between) predicting the high-resolution frame. The paper's widths are 64 and 32; the
  study uses ``widths`` (16, 8) by default so that it runs on CPU over every frame (a deviation, a knob).
  This module predicts a residual over the bicubic input (a choice; the paper predicts the frame itself).
* ``espcn``: ESPCN (Shi et al., CVPR 2016): convolutions at the low resolution (5x5, 3x3, 3x3; tanh in the
  paper, ReLU here, a choice) and a sub-pixel (pixel-shuffle) layer to the high resolution. Paper widths
  64 / 32; default here (32, 16) (a knob). Also residual over bicubic (choice).

No pretrained weights are downloaded: :func:`train_sr` fits a network on grey frames the caller supplies,
degraded with :mod:`preprocessing.degrade` at the same factor. The caller decides which subjects it trains on;
the low-resolution harness (benchmarks/low_resolution.py) cross-fits over two disjoint halves of the subjects so
that no clip is restored by a network that saw its subject. Loss: mean squared error on random patches
(as both papers); Adam (a choice; SRCNN used SGD).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn

from preprocessing.degrade import degrade_frame

INTERPOLATIONS = {"bicubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}
LEARNED = ("srcnn", "espcn")
METHODS = (*INTERPOLATIONS, *LEARNED)


def interpolate_up(frame: np.ndarray, size: tuple[int, int], method: str = "bicubic") -> np.ndarray:
    """(h, w) uint8/float frame -> (H, W) float32 by OpenCV interpolation; ``size`` is (H, W)."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"interpolation method {method!r}: expected one of {sorted(INTERPOLATIONS)}")
    return cv2.resize(np.asarray(frame, np.float32), (size[1], size[0]), interpolation=INTERPOLATIONS[method])


class SRCNN(nn.Module):
    def __init__(self, widths: Sequence[int] = (16, 8), kernels: Sequence[int] = (9, 1, 5)):
        super().__init__()
        w1, w2 = widths
        k1, k2, k3 = kernels
        self.body = nn.Sequential(
            nn.Conv2d(1, w1, k1, padding=k1 // 2), nn.ReLU(inplace=True),
            nn.Conv2d(w1, w2, k2, padding=k2 // 2), nn.ReLU(inplace=True),
            nn.Conv2d(w2, 1, k3, padding=k3 // 2),
        )
        self.factor = None  # works at the high resolution: any factor

    def forward(self, low: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        """``up``: (B, 1, H, W) bicubic-up-sampled input in [0, 1]; returns the restored (B, 1, H, W)."""
        return up + self.body(up)


class ESPCN(nn.Module):
    def __init__(self, factor: int, widths: Sequence[int] = (32, 16)):
        super().__init__()
        w1, w2 = widths
        self.factor = int(factor)
        self.body = nn.Sequential(
            nn.Conv2d(1, w1, 5, padding=2), nn.ReLU(inplace=True),
            nn.Conv2d(w1, w2, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(w2, self.factor ** 2, 3, padding=1),
            nn.PixelShuffle(self.factor),
        )

    def forward(self, low: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        """``low``: (B, 1, h, w) in [0, 1]; ``up``: its bicubic (B, 1, h*r, w*r); returns the restored frame."""
        return up + self.body(low)


def make_network(method: str, factor: int, widths: Sequence[int] | None = None) -> nn.Module:
    if method == "srcnn":
        return SRCNN(widths or (16, 8))
    if method == "espcn":
        return ESPCN(factor, widths or (32, 16))
    raise ValueError(f"learned super-resolution method {method!r}: expected one of {LEARNED}")


def _pairs(frames: np.ndarray, factor: int, patch: int, n: int, rng: np.random.Generator, blur_sigma, noise_std):
    """Random (low, up, high) patch triples in [0, 1] from (N, H, W) uint8 grey frames."""
    patch = patch - patch % factor
    lows, ups, highs = [], [], []
    for _ in range(n):
        frame = frames[rng.integers(len(frames))]
        y = rng.integers(0, frame.shape[0] - patch + 1)
        x = rng.integers(0, frame.shape[1] - patch + 1)
        high = frame[y:y + patch, x:x + patch]
        low = degrade_frame(high, factor, blur_sigma, noise_std, rng)
        lows.append(low)
        ups.append(interpolate_up(low, high.shape, "bicubic"))
        highs.append(high)
    as_t = lambda a: torch.from_numpy(np.asarray(a, np.float32)[:, None] / 255.0)  # noqa: E731
    return as_t(lows), as_t(ups), as_t(highs)


def train_sr(frames: np.ndarray, method: str, factor: int, steps: int = 300, batch: int = 16, patch: int = 48,
             lr: float = 1e-3, seed: int = 0, blur_sigma: float | None = None, noise_std: float = 0.0,
             widths: Sequence[int] | None = None) -> tuple[nn.Module, list[float]]:
    """Fit a learned SR network on (N, H, W) uint8 grey frames; returns the network (eval mode) and the losses."""
    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[0] == 0:
        raise ValueError(f"train_sr expects (N, H, W) grey frames, got shape {frames.shape}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = make_network(method, factor, widths)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses = []
    net.train()
    for _ in range(steps):
        low, up, high = _pairs(frames, factor, min(patch, frames.shape[1]), batch, rng, blur_sigma, noise_std)
        loss = nn.functional.mse_loss(net(low, up), high)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return net.eval(), losses


@torch.no_grad()
def restore_clip(clip: np.ndarray, size: tuple[int, int], method: str, net: nn.Module | None = None) -> np.ndarray:
    """(T, h, w) uint8 low-resolution grey clip -> (T, H, W) uint8 at ``size`` (H, W) with ``method``."""
    clip = np.asarray(clip)
    if clip.ndim != 3:
        raise ValueError(f"restore_clip expects a (T, h, w) grey clip, got shape {clip.shape}")
    if method in INTERPOLATIONS:
        up = np.stack([interpolate_up(f, size, method) for f in clip])
        return np.clip(np.rint(up), 0, 255).astype(np.uint8)
    if method not in LEARNED:
        raise ValueError(f"super-resolution method {method!r}: expected one of {METHODS}")
    if net is None:
        raise ValueError(f"super-resolution method {method!r} needs a trained network (train_sr)")
    low = torch.from_numpy(clip.astype(np.float32)[:, None] / 255.0)
    up = torch.from_numpy(np.stack([interpolate_up(f, size, "bicubic") for f in clip])[:, None] / 255.0)
    out = net(low, up)[:, 0].numpy() * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
