"""LBP-TOP: local binary patterns on three orthogonal planes (Zhao & Pietikainen, TPAMI 2007).

For every voxel of a (T, H, W) clip, P neighbours on a circle in each of the planes XY (appearance), XT
(horizontal motion) and YT (vertical motion) are compared with the centre; the P sign bits form a code. Codes
are mapped to uniform patterns and histogrammed per block; the feature is all block histograms concatenated.

Defaults are the MEB benchmark's reference setting (`preprocess.features.lbptop`): 8 x 8 blocks in XY (one
block in time), radius 3 in x, y and t, 8 neighbours, uniform patterns, on 10 temporally interpolated frames.

Definitions used here (the papers leave them open):
- Neighbour p (p = 0..P-1) of the centre (a, b) in a plane with axes (a, b) lies at
  (a - R_a sin(2 pi p / P), b + R_b cos(2 pi p / P)): p = 0 is along +b (x in XY and XT, y in YT) and p
  increases counter-clockwise in the image. Off-grid neighbours are bilinearly interpolated; offsets within
  1e-9 of an integer are taken as exact.
- Bit p is 1 when neighbour >= centre; code = sum_p bit_p 2^p.
- Uniform mapping: the P(P-1)+2 codes with at most two 0/1 transitions around the circle get one bin each
  (in increasing code order), all others share the last bin: 59 bins for P = 8.
- Codes are computed on the same centre voxels for all three planes, those whose every neighbour is inside the
  clip: t in [R_t, T - R_t), y in [R_y, H - R_y), x in [R_x, W - R_x). That region is split into the block
  grid with `numpy.array_split` (blocks differ by at most one pixel when sizes do not divide).
- Each block's histogram per plane is normalised to sum 1. Layout of the feature vector:
  (block row, block column, plane XY/XT/YT, bin), flattened: D = rows * cols * 3 * bins.
"""

from __future__ import annotations

import functools

import numpy as np

from core.errors import ConfigError

PLANES = ("XY", "XT", "YT")
_PLANE_AXES = {"XY": (1, 2), "XT": (0, 2), "YT": (0, 1)}  # (a, b) axes of the (T, H, W) clip


def circle_offsets(n_points: int, radius_a: float, radius_b: float) -> np.ndarray:
    """(P, 2) offsets (da, db) of the neighbours on an ellipse with radii (radius_a, radius_b)."""
    angles = 2.0 * np.pi * np.arange(n_points) / n_points
    offsets = np.stack([-radius_a * np.sin(angles), radius_b * np.cos(angles)], axis=1)
    rounded = np.round(offsets)
    return np.where(np.abs(offsets - rounded) < 1e-9, rounded, offsets)


@functools.cache
def uniform_lut(n_points: int) -> np.ndarray:
    """Lookup table code -> bin: uniform codes (<= 2 circular transitions) in code order, then one shared bin."""
    codes = np.arange(2**n_points)
    bits = (codes[:, None] >> np.arange(n_points)) & 1
    transitions = (bits != np.roll(bits, 1, axis=1)).sum(axis=1)
    uniform = transitions <= 2
    lut = np.full(codes.size, int(uniform.sum()), dtype=np.int64)
    lut[uniform] = np.arange(int(uniform.sum()))
    return lut


def n_uniform_bins(n_points: int) -> int:
    return n_points * (n_points - 1) + 3


def sample_shifted(volume: np.ndarray, centre: tuple[slice, ...], axes: tuple[int, int], offset) -> np.ndarray:
    """Values at `centre` + `offset` along `axes` (bilinear for fractional offsets), shaped like the centre region."""
    da, db = offset
    corners = []
    for a_int, a_weight in _integer_split(da):
        for b_int, b_weight in _integer_split(db):
            if a_weight * b_weight == 0.0:
                continue
            index = list(centre)
            index[axes[0]] = _shift(centre[axes[0]], a_int)
            index[axes[1]] = _shift(centre[axes[1]], b_int)
            corners.append(a_weight * b_weight * volume[tuple(index)])
    return np.sum(corners, axis=0)


def plane_codes(volume: np.ndarray, plane: str, n_points: int, radii: tuple[float, float, float]) -> np.ndarray:
    """LBP codes of the centre voxels in one plane; radii = (R_t, R_y, R_x)."""
    axes = _PLANE_AXES[plane]
    margins = [int(np.ceil(r)) for r in radii]
    centre = tuple(slice(m, n - m) for m, n in zip(margins, volume.shape))
    centre_values = volume[centre]
    offsets = circle_offsets(n_points, radii[axes[0]], radii[axes[1]])
    codes = np.zeros(centre_values.shape, dtype=np.int64)
    for p, offset in enumerate(offsets):
        codes |= (sample_shifted(volume, centre, axes, offset) >= centre_values).astype(np.int64) << p
    return codes


def block_histograms(bins: np.ndarray, n_bins: int, grid: tuple[int, int]) -> np.ndarray:
    """(rows, cols, n_bins) normalised histograms of a (T, H, W) bin-index volume over a spatial block grid."""
    rows = np.array_split(np.arange(bins.shape[1]), grid[0])
    cols = np.array_split(np.arange(bins.shape[2]), grid[1])
    row_of = np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)])
    col_of = np.concatenate([np.full(len(c), j) for j, c in enumerate(cols)])
    block = (row_of[:, None] * grid[1] + col_of[None, :])[None]  # (1, H, W) block id of every pixel
    counts = np.bincount((block * n_bins + bins).ravel(), minlength=grid[0] * grid[1] * n_bins)
    counts = counts.reshape(grid[0], grid[1], n_bins).astype(np.float64)
    return counts / np.maximum(counts.sum(axis=2, keepdims=True), 1.0)


def lbp_top(
    clip: np.ndarray,
    blocks: tuple[int, int] = (8, 8),
    radius: float = 3.0,
    radius_t: float = 3.0,
    n_points: int = 8,
) -> np.ndarray:
    """LBP-TOP feature (rows * cols * 3 * bins,) float32 of a (T, H, W) gray clip."""
    volume = np.asarray(clip, dtype=np.float64)
    radii = (float(radius_t), float(radius), float(radius))
    _check_size(volume.shape, radii, blocks)
    lut = uniform_lut(n_points)
    n_bins = n_uniform_bins(n_points)
    histograms = [
        block_histograms(lut[plane_codes(volume, plane, n_points, radii)], n_bins, blocks) for plane in PLANES
    ]
    return np.stack(histograms, axis=2).reshape(-1).astype(np.float32)


def feature_length(blocks: tuple[int, int] = (8, 8), n_points: int = 8) -> int:
    return blocks[0] * blocks[1] * len(PLANES) * n_uniform_bins(n_points)


def _integer_split(offset: float) -> list[tuple[int, float]]:
    """Bilinear split of an offset into (integer offset, weight) pairs."""
    low = int(np.floor(offset))
    frac = offset - low
    return [(low, 1.0 - frac), (low + 1, frac)]


def _shift(span: slice, by: int) -> slice:
    return slice(span.start + by, span.stop + by)


def _check_size(shape: tuple[int, ...], radii: tuple[float, float, float], blocks: tuple[int, int]) -> None:
    margins = [2 * int(np.ceil(r)) for r in radii]
    inner = [n - m for n, m in zip(shape, margins)]
    if inner[0] < 1 or inner[1] < blocks[0] or inner[2] < blocks[1]:
        raise ConfigError(
            f"a {shape[0]}-frame {shape[2]}x{shape[1]} clip is too small for LBP-TOP with radii (t, y, x) = {radii} "
            f"and {blocks[0]}x{blocks[1]} blocks (preprocess.features.lbptop)"
        )
