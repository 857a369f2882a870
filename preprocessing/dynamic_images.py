"""Dynamic images by approximate rank pooling (Bilen et al., CVPR 2016), whole-clip and per segment.

Rank pooling summarises a sequence V_1..V_T by the direction d along which the time-averaged frames
psi_t = (1/t) sum_{i<=t} V_i are ordered in time. Approximate rank pooling takes one gradient step of the
ranking objective from d = 0: d is proportional to sum over pairs q > t of (psi_q - psi_t). Expanding the
prefix means gives the closed form used here, d = sum_t alpha_t V_t with

    alpha_t = 2 (T - t + 1) - (T + 1) (H_T - H_{t-1}),    H_t = sum_{i<=t} 1/i  (H_0 = 0).

The coefficients sum to 0, so a still clip has a zero dynamic image (only movement shows).
``rank_pool_direct`` computes the pairwise sum literally (a reference for the tests; O(T^2)).

``segment_dynamic_images`` is SMA-STN's "dynamic segmented sparse imaging" as implemented here: the clip's T frames
are split into ``segments`` contiguous, equal segments (the last absorbs the remainder), one dynamic image each
(local), plus optionally one over the whole clip (global). The segment layout is our choice; the paper's
sampling protocol is not in its abstract. Everything is vectorised over batch, segments and pixels (one
matrix product with a (S, T) coefficient matrix).
"""

from __future__ import annotations

import torch


def rank_pool_coefficients(n_frames: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """The T approximate-rank-pooling coefficients alpha_1..alpha_T."""
    if n_frames < 1:
        raise ValueError(f"rank pooling needs at least one frame, got {n_frames}")
    t = torch.arange(1, n_frames + 1, dtype=torch.float64, device=device)
    harmonic = torch.cumsum(1.0 / t, 0)
    h_prev = torch.cat([torch.zeros(1, dtype=torch.float64, device=device), harmonic[:-1]])
    alpha = 2 * (n_frames - t + 1) - (n_frames + 1) * (harmonic[-1] - h_prev)
    return alpha.to(dtype)


def rank_pool(frames: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Dynamic image of ``frames`` along ``dim`` (that dimension is removed)."""
    alpha = rank_pool_coefficients(frames.shape[dim], frames.dtype, frames.device)
    return torch.tensordot(frames.movedim(dim, -1), alpha, dims=1)


def rank_pool_direct(frames: torch.Tensor) -> torch.Tensor:
    """Reference: sum over pairs q > t of (psi_q - psi_t), psi the prefix means; frames (T, ...)."""
    n = frames.shape[0]
    psi = [frames[: t + 1].mean(0) for t in range(n)]
    out = torch.zeros_like(frames[0])
    for t in range(n):
        for q in range(t + 1, n):
            out = out + psi[q] - psi[t]
    return out


def segment_bounds(n_frames: int, segments: int) -> list[tuple[int, int]]:
    """[start, end) of ``segments`` contiguous segments; each holds at least 2 frames."""
    if segments < 1 or n_frames < 2 * segments:
        raise ValueError(f"{segments} segments of at least 2 frames need >= {2 * segments} frames, got {n_frames} "
                         "(raise data.seq_len or lower model.segments)")
    size = n_frames // segments
    return [(k * size, (k + 1) * size if k < segments - 1 else n_frames) for k in range(segments)]


def segment_matrix(n_frames: int, segments: int, include_global: bool = True, dtype=torch.float32,
                   device=None) -> torch.Tensor:
    """(S, T) coefficients: row k rank-pools segment k; the last row (if ``include_global``) the whole clip."""
    rows = []
    for start, end in segment_bounds(n_frames, segments):
        row = torch.zeros(n_frames, dtype=dtype, device=device)
        row[start:end] = rank_pool_coefficients(end - start, dtype, device)
        rows.append(row)
    if include_global:
        rows.append(rank_pool_coefficients(n_frames, dtype, device))
    return torch.stack(rows)


def segment_dynamic_images(frames: torch.Tensor, segments: int, include_global: bool = True,
                           normalize: bool = True, eps: float = 1e-6) -> torch.Tensor:
    """(B, T, C, H, W) frames -> (B, S, C, H, W) dynamic images (S = segments [+ 1 global]).

    ``normalize``: each dynamic image is divided by its own standard deviation over (C, H, W) (subtle movements
    give tiny images; the scale would otherwise depend on the clip's amplitude and length). A choice."""
    if frames.dim() != 5:
        raise ValueError(f"expected frames of shape (B, T, C, H, W), got {tuple(frames.shape)}")
    m = segment_matrix(frames.shape[1], segments, include_global, frames.dtype, frames.device)
    images = torch.einsum("st,btchw->bschw", m, frames)
    if normalize:
        images = images / (images.flatten(2).std(-1)[..., None, None, None] + eps)
    return images
