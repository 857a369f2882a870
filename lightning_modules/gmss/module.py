"""GMSS (Li et al.): a graph backbone trained on emotion recognition and three self-supervised tasks at once.

Per window x (62 electrodes x 5 DE bands), during training:

- spatial jigsaw: the electrodes, sorted front to back on the grid (lightning_modules/layers/eeg_graph.py), are cut
  into ``spatial_pieces`` contiguous groups; a permutation drawn from a fixed set of ``n_permutations`` (seeded,
  identity included) reorders the groups, so each node receives another region's features; a head predicts which
  permutation was applied;
- frequency jigsaw: the 5 bands are permuted by one of a fixed set of band permutations; a head predicts which;
- contrastive: the backbone features of the two jigsaw views of the same window are projected (2-layer MLP) and
  pulled together with NT-Xent (``temperature``) against the other windows of the batch;
- emotion: cross-entropy on the untouched window. Loss: CE + ``spatial_weight`` CE_spatial + ``frequency_weight``
  CE_frequency + ``contrastive_weight`` NT-Xent. Prediction uses the untouched window only.

Backbone: DGCNN's learnable non-negative adjacency and Chebyshev graph convolution (lightning_modules/dgcnn).

Faithful to the abstract's multi-task design (spatial and frequency jigsaw, contrastive learning, a shared graph
representation). Not verified against the paper's text or code: how regions are cut and shuffled, the permutation
sets, the heads, the temperature and the weights are our choices (knobs), and the self-supervised tasks see only
the training windows (no unlabelled test data).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.dgcnn.module import DGCNN
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.eeg_graph import electrode_grid


def permutation_set(n_items: int, n_permutations: int, seed: int = 0) -> np.ndarray:
    """Identity plus ``n_permutations - 1`` distinct random permutations of ``n_items`` (fixed by ``seed``)."""
    if n_permutations < 2:
        raise ValueError(f"n_permutations={n_permutations}: need at least 2 classes for a jigsaw task")
    if n_items <= 6:
        pool = [p for p in itertools.permutations(range(n_items)) if list(p) != list(range(n_items))]
        if len(pool) < n_permutations - 1:
            raise ValueError(f"only {len(pool) + 1} permutations of {n_items} items, asked {n_permutations}")
        rng = np.random.default_rng(seed)
        chosen = [pool[i] for i in rng.choice(len(pool), n_permutations - 1, replace=False)]
    else:
        rng, chosen = np.random.default_rng(seed), set()
        while len(chosen) < n_permutations - 1:
            p = tuple(rng.permutation(n_items).tolist())
            if list(p) != list(range(n_items)):
                chosen.add(p)
        chosen = sorted(chosen)
    return np.asarray([list(range(n_items)), *chosen], dtype=np.int64)


def spatial_orders(channels: Sequence[str], pieces: int, n_permutations: int, seed: int = 0) -> np.ndarray:
    """(n_permutations, n) node index orders: front-to-back electrode groups reordered by each permutation."""
    cells = electrode_grid(channels)
    front_to_back = np.lexsort((cells[:, 1], cells[:, 0]))
    groups = np.array_split(front_to_back, pieces)
    orders = []
    for perm in permutation_set(pieces, n_permutations, seed):
        source = np.concatenate([groups[g] for g in perm])
        order = np.empty(len(channels), dtype=np.int64)
        order[front_to_back] = source  # node at slot i of the sorted order receives electrode source[i]
        orders.append(order)
    return np.stack(orders)


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    z = F.normalize(torch.cat([a, b]), dim=-1)
    logits = z @ z.T / temperature
    n = len(a)
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, targets)


class GMSS(nn.Module):
    def __init__(self, channels: Sequence[str], n_bands: int, n_classes: int, order: int = 3, filters: int = 32,
                 pointwise: int = 16, dropout: float = 0.5, spatial_pieces: int = 5, n_permutations: int = 6,
                 projection: int = 64, seed: int = 0):
        super().__init__()
        self.backbone = DGCNN(channels, n_bands, n_classes, order=order, filters=filters, pointwise=pointwise,
                              dropout=dropout)
        width = len(channels) * pointwise
        self.register_buffer("spatial", torch.as_tensor(spatial_orders(channels, spatial_pieces, n_permutations,
                                                                       seed)))
        self.register_buffer("bands", torch.as_tensor(permutation_set(n_bands, n_permutations, seed + 1)))
        self.dropout = nn.Dropout(dropout)
        self.spatial_head = nn.Linear(width, n_permutations)
        self.frequency_head = nn.Linear(width, n_permutations)
        self.projector = nn.Sequential(nn.Linear(width, projection), nn.ReLU(), nn.Linear(projection, projection))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def pretext(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        n = len(x)
        s = torch.randint(len(self.spatial), (n,), generator=generator).to(x.device)
        f = torch.randint(len(self.bands), (n,), generator=generator).to(x.device)
        spatial_view = torch.gather(x, 1, self.spatial[s].unsqueeze(-1).expand_as(x))
        frequency_view = torch.gather(x, 2, self.bands[f].unsqueeze(1).expand_as(x))
        hs, hf = self.backbone.features(spatial_view), self.backbone.features(frequency_view)
        return {"spatial_logits": self.spatial_head(self.dropout(hs)), "spatial_target": s,
                "frequency_logits": self.frequency_head(self.dropout(hf)), "frequency_target": f,
                "z_spatial": self.projector(hs), "z_frequency": self.projector(hf)}


class GMSSModule(ClassifierModule):
    model_block = ModelBlock(GMSS, knobs=("spatial_weight", "frequency_weight", "contrastive_weight",
                                          "temperature"))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, channels=info.channels, n_bands=info.n_bands,
                                              n_classes=info.n_classes)
        m = cfg.model
        self.weights = {"spatial": float(m.spatial_weight), "frequency": float(m.frequency_weight),
                        "contrastive": float(m.contrastive_weight)}
        self.temperature = float(m.temperature)

    def compute(self, batch: dict):
        logits = self.network(batch["x"])
        losses = {"ce": F.cross_entropy(logits, batch["y"])}
        if self.training and len(batch["x"]) > 1:
            out = self.network.pretext(batch["x"])
            losses["spatial_jigsaw"] = self.weights["spatial"] * F.cross_entropy(out["spatial_logits"],
                                                                                 out["spatial_target"])
            losses["frequency_jigsaw"] = self.weights["frequency"] * F.cross_entropy(out["frequency_logits"],
                                                                                     out["frequency_target"])
            losses["contrastive"] = self.weights["contrastive"] * nt_xent(out["z_spatial"], out["z_frequency"],
                                                                          self.temperature)
        return {"scores": logits}, losses
