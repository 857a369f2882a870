"""LD4MRec (Yu et al., "LD4MRec: Simplifying and Powering Diffusion Model for Multimedia Recommendation",
arXiv 2309.15363) as a LightningModule.

- Forward process on a user's multi-hot training row x_0 (n_items): x_t = sqrt(a_t) x_0 + sqrt(1 - a_t) eps,
  eps ~ N(0, I), t uniform in 1..T (``steps``), with 1 - a_t rising linearly from ``noise_min`` to ``noise_max``.
- Conditional Network (C-Net) predicts x_0 from x_t directly: a linear map takes the discrete row into a
  continuous latent (``hidden_dim``); residual blocks modulated (FiLM) by the condition refine it; a linear map
  returns item scores. The condition is the time embedding (sinusoidal -> MLP) plus
  (a) the collaborative signal: the user's row of a rank-``collab_dim`` truncated SVD of the normalised
  training matrix (fixed), and (b) the user's multimodal preference: D_u^-1/2 R D_i^-1/2 times learned
  projections of each modality's item features.
- Soft behavioural reconstruction: the regression target is label-smoothed, (1 - s) x_0 + s * prior with
  s = ``smoothing``; prior 0.5 (``smoothing_prior: uniform``, binary label smoothing) or the item's training
  popularity scaled to [0, 1] (``popularity``); loss = mean squared error over all items.
- One-step inference: the observed training row goes into C-Net once, treated as the noisy state at time
  ``t_in`` (default 1, the least-noisy training step), and its output ranks the items. ``t_in`` is a FIXED
  config knob here, not a learned parameter: nothing trains it, and it changes only by setting it (e.g. choosing
  it on validation with `affect tune --grid model.t_in=...`). The paper describes t_in as learned; the abstract
  gives no training signal for it.

Paper-silent choices, each a knob in experiments/_defaults/methods/ld4mrec.yaml: the schedule bounds, T = 5,
the widths, the number of blocks, the SVD encoder of the collaborative signal, uniform timestep sampling,
and the prior of the smoothing.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lightning_modules.layers.rec_graphs import normalized_interactions


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style embedding of (possibly fractional) timesteps, (B,) -> (B, dim)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    angles = t.float().unsqueeze(-1) * frequencies
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class ConditionedBlock(nn.Module):
    """h + MLP(LayerNorm(h) * (1 + scale(c)) + shift(c))."""

    def __init__(self, dim: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.film = nn.Linear(dim, 2 * dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim, dim))

    def forward(self, h: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(condition).chunk(2, dim=-1)
        return h + self.mlp(self.norm(h) * (1 + scale) + shift)


class ConditionalNetwork(nn.Module):
    """C-Net: (x_t, t, collaborative signal, multimodal preference) -> predicted x_0 scores."""

    def __init__(self, n_items: int, condition_dim: int, hidden_dim: int, n_blocks: int, dropout: float):
        super().__init__()
        hidden = hidden_dim
        self.time_dim = hidden
        self.encode_behaviour = nn.Linear(n_items, hidden)
        self.time_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.condition = nn.Linear(condition_dim, hidden)
        self.blocks = nn.ModuleList(ConditionedBlock(hidden, dropout) for _ in range(n_blocks))
        self.decode = nn.Linear(hidden, n_items)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        c = self.condition(condition) + self.time_mlp(sinusoidal_embedding(t, self.time_dim))
        h = self.encode_behaviour(x_t)
        for block in self.blocks:
            h = block(h, c)
        return self.decode(h)


def truncated_svd_users(train_matrix: torch.Tensor, rank: int, seed: int) -> torch.Tensor:
    """U_k sqrt(S_k) of the symmetric-normalised training matrix (fixed collaborative signal per user)."""
    matrix = normalized_interactions(train_matrix)
    rank = min(rank, min(matrix.shape) - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        u, s, _ = torch.svd_lowrank(matrix, q=rank, niter=4)
    return u * s.sqrt()
