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
  ``t_in`` (default 1, the least-noisy training step), and its output ranks the items. The paper learns t_in;
  the abstract gives no training signal for it, so here it is a knob chosen on validation.

Paper-silent choices, each a knob in experiments/_defaults/methods/ld4mrec.yaml: the schedule bounds, T = 5,
the widths, the number of blocks, the SVD encoder of the collaborative signal, uniform timestep sampling,
and the prior of the smoothing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from core.ranking import csr_row_entries
from lightning_modules.layers.rec_graphs import FixedSparse, normalized_interactions
from lightning_modules.layers.rec_module import RecommenderModule


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

    def __init__(self, n_items: int, condition_dim: int, model_cfg):
        super().__init__()
        hidden = int(model_cfg.hidden_dim)
        self.time_dim = hidden
        self.encode_behaviour = nn.Linear(n_items, hidden)
        self.time_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.condition = nn.Linear(condition_dim, hidden)
        self.blocks = nn.ModuleList(ConditionedBlock(hidden, float(model_cfg.dropout))
                                    for _ in range(int(model_cfg.n_blocks)))
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


class LD4MRecModule(RecommenderModule):
    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        model_cfg = cfg.model
        dim = int(model_cfg.embedding_dim)
        self.steps = int(model_cfg.steps)
        self.smoothing = float(model_cfg.smoothing)
        self.register_buffer("noise_levels", torch.linspace(float(model_cfg.noise_min), float(model_cfg.noise_max),
                                                            self.steps), persistent=False)
        self.register_buffer("collaborative", truncated_svd_users(info.train_matrix, int(model_cfg.collab_dim),
                                                                  int(cfg.seed)), persistent=False)
        self.user_items = FixedSparse(normalized_interactions(info.train_matrix))
        self.register_buffer("smoothing_prior", self._prior(info.train_matrix, str(model_cfg.smoothing_prior)),
                             persistent=False)
        self.modal_projection = nn.ModuleDict({m: nn.Linear(d, dim) for m, d in info.feature_dims.items()})
        condition_dim = self.collaborative.shape[1] + dim * len(info.feature_dims)
        self.cnet = ConditionalNetwork(self.n_items, condition_dim, model_cfg)
        self.t_in = float(model_cfg.t_in)

    def _prior(self, train_matrix: torch.Tensor, kind: str) -> torch.Tensor:
        if kind == "uniform":
            return torch.full((self.n_items,), 0.5)
        if kind == "popularity":
            counts = torch.zeros(self.n_items).index_add_(0, train_matrix.coalesce().indices()[1],
                                                          torch.ones(train_matrix._nnz()))
            return counts / counts.max().clamp(min=1)
        raise ValueError(f"model.smoothing_prior must be uniform or popularity, got {kind!r}")

    def rows(self, users: torch.Tensor) -> torch.Tensor:
        """Dense multi-hot training rows of ``users``."""
        positions, columns = csr_row_entries(self.train_mask, users.cpu())
        dense = torch.zeros(len(users), self.n_items)
        dense[positions, columns] = 1.0
        return dense.to(self.noise_levels.device)

    def condition(self, users: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
        preference = [self.user_items(self.modal_projection[m](x))[users] for m, x in features.items()]
        return torch.cat([self.collaborative[users], *preference], dim=-1)

    def training_losses(self, batch: dict) -> dict[str, torch.Tensor]:
        users = batch["user"]
        x0 = self.rows(users)
        t = torch.randint(self.steps, (len(users),), device=x0.device)
        level = self.noise_levels[t].unsqueeze(-1)
        x_t = (1 - level).sqrt() * x0 + level.sqrt() * torch.randn_like(x0)
        predicted = self.cnet(x_t, (t + 1).float(), self.condition(users, self.content_features()))
        target = (1 - self.smoothing) * x0 + self.smoothing * self.smoothing_prior
        loss = F.mse_loss(predicted, target)
        return {"mse": loss, "loss": loss}

    def scores(self, users: torch.Tensor, features: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """One-step inference from the observed row at the learned time t_in."""
        t = torch.full((len(users),), self.t_in, device=self.noise_levels.device)
        return self.cnet(self.rows(users), t, self.condition(users, self.content_features(features)))

    def user_scorer(self, features=None):
        def score(users: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return self.scores(users, features)

        return score

    def pair_scores(self, users, items, features=None) -> torch.Tensor:
        return self.scores(users, features).gather(1, items.unsqueeze(1)).squeeze(1)
