"""STRNN (Zhang et al.): spatial RNN over the electrode grid, then a temporal RNN over windows.

Input: ``seq`` (B, T, 62, 5), the T = ``data.context`` most recent one-second windows of the same trial
(datamodules/eeg.py; the trial's first window repeats at its start, never a window of another trial).

- spatial layer, per window: the electrodes are ordered along each traversal of the 9 x 9 grid
  (lightning_modules/layers/eeg_graph.py): ``row`` (front to back, left to right) and ``column`` (left to right,
  front to back); a bi-directional GRU runs along each order (2 orders x 2 directions = the "multiple angles"),
  giving hidden states (62, 2 * spatial_hidden) per order; a sparse projection P_d (``projected`` x 62, L1-penalised)
  over electrodes maps each order's states to (projected, 2 * spatial_hidden); orders are summed and flattened;
- temporal layer: a bi-directional GRU over the T spatial features; a sparse projection over time (L1) and a
  linear classifier.

Loss: CE + ``sparse_l1`` * (|P_spatial|_1 + |P_temporal|_1) (mean absolute weights).

Faithful to the abstract's structure (multi-directional spatial RNN, bi-directional temporal RNN, sparse
projections of both). Choices (knobs): GRU cells, two grid traversal orders, widths, T = 4, L1 weight.
The paper's temporal axis is the EEG's time slices; ours is SEED's one-second DE windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.eeg_graph import electrode_grid


def traversal_orders(channels: Sequence[str]) -> list[np.ndarray]:
    cells = electrode_grid(channels)
    row_major = np.lexsort((cells[:, 1], cells[:, 0]))
    column_major = np.lexsort((cells[:, 0], cells[:, 1]))
    return [row_major, column_major]


class STRNN(nn.Module):
    def __init__(self, channels: Sequence[str], n_bands: int, n_classes: int, context: int,
                 spatial_hidden: int = 16, temporal_hidden: int = 32, projected: int = 8, dropout: float = 0.5):
        super().__init__()
        orders = traversal_orders(channels)
        self.n_orders = len(orders)
        for d, order in enumerate(orders):
            self.register_buffer(f"order_{d}", torch.as_tensor(order), persistent=False)
        n = len(channels)
        self.spatial = nn.ModuleList(nn.GRU(n_bands, spatial_hidden, batch_first=True, bidirectional=True)
                                     for _ in orders)
        self.spatial_projection = nn.Parameter(torch.randn(len(orders), projected, n) / np.sqrt(n))
        self.temporal = nn.GRU(projected * 2 * spatial_hidden, temporal_hidden, batch_first=True, bidirectional=True)
        self.temporal_projection = nn.Parameter(torch.randn(context, context) / np.sqrt(context))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(context * 2 * temporal_hidden, n_classes)

    def sparse_penalty(self) -> torch.Tensor:
        return self.spatial_projection.abs().mean() + self.temporal_projection.abs().mean()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        b, t, n, f = seq.shape
        windows = seq.reshape(b * t, n, f)
        spatial = 0
        for d, gru in enumerate(self.spatial):
            states, _ = gru(windows[:, getattr(self, f"order_{d}")])  # (b t, n, 2h) in traversal order
            projection = self.spatial_projection[d][:, getattr(self, f"order_{d}")]  # columns in traversal order
            spatial = spatial + torch.einsum("kn,bnh->bkh", projection, states)
        features = self.dropout(spatial.reshape(b, t, -1))
        states, _ = self.temporal(features)  # (b, t, 2h)
        projected = torch.einsum("st,bth->bsh", self.temporal_projection, states)
        return self.classifier(self.dropout(projected.flatten(1)))


class STRNNModule(ClassifierModule):
    model_block = ModelBlock(STRNN, knobs=("sparse_l1",))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, channels=info.channels, n_bands=info.n_bands,
                                              n_classes=info.n_classes, context=info.context)
        self.sparse_l1 = float(cfg.model.sparse_l1)

    def compute(self, batch: dict):
        seq = batch["seq"] if "seq" in batch else batch["x"].unsqueeze(1)
        logits = self.network(seq)
        losses = {"ce": F.cross_entropy(logits, batch["y"])}
        if self.sparse_l1 > 0 and self.training:
            losses["sparse_l1"] = self.sparse_l1 * self.network.sparse_penalty()
        return {"scores": logits}, losses
