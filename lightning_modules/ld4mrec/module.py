"""The LD4MRecModule LightningModule: BPR training, ranking and the optimiser around the plain network of network.py
(the layout of the classifiers: network.py holds the nn.Module, module.py the LightningModule)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.ranking import csr_row_entries
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.rec_graphs import FixedSparse, normalized_interactions
from lightning_modules.layers.rec_module import RecommenderModule
from lightning_modules.ld4mrec.network import ConditionalNetwork, truncated_svd_users


class LD4MRecModule(RecommenderModule):
    # the C-Net is the network; the module keeps the diffusion schedule, the condition (SVD signal and the
    # modality projections of width embedding_dim) and the smoothed target
    model_block = ModelBlock(ConditionalNetwork, knobs=(
        "embedding_dim", "collab_dim", "steps", "noise_min", "noise_max", "smoothing", "smoothing_prior", "t_in",
    ))

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
        self.cnet = self.model_block.build(cfg, n_items=self.n_items, condition_dim=condition_dim)
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
        """One-step inference from the observed row at time ``t_in`` (the fixed ``model.t_in`` knob, not learned)."""
        t = torch.full((len(users),), self.t_in, device=self.noise_levels.device)
        return self.cnet(self.rows(users), t, self.condition(users, self.content_features(features)))

    def user_scorer(self, features=None):
        def score(users: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return self.scores(users, features)

        return score

    def pair_scores(self, users, items, features=None) -> torch.Tensor:
        return self.scores(users, features).gather(1, items.unsqueeze(1)).squeeze(1)
