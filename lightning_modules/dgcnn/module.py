"""DGCNN (Song et al. 2018): the family baseline of the EEG emotion track.

Network (per one-second window, x: 62 electrodes x 5 DE bands): a learnable adjacency W (62 x 62), kept
non-negative by a ReLU and symmetrised, gives the normalised Laplacian L = I - D^-1/2 relu(W) D^-1/2; a Chebyshev
graph convolution of order K maps the 5 bands to ``filters`` features per electrode (ReLU), a 1x1 convolution
(a per-electrode linear map shared across electrodes) reduces them to ``pointwise``, and a fully connected layer on
the flattened (62 x pointwise) map gives the class logits. W is updated by back-propagation with the rest, which
is the paper's "dynamical" graph.

Faithful to the paper's structure (learnable non-negative adjacency, Chebyshev filters, graph conv -> 1x1 conv ->
FC, cross-entropy + regularisation). Choices where our reading gives no number (each a knob): W initialised from
the grid proximity of lightning_modules/layers/eeg_graph.py (``adjacency_init: proximity``; ``uniform`` starts
from a small constant), lambda_max fixed at 2, ``order`` 3, ``filters`` 32, ``pointwise`` 16, ``dropout`` 0.5 and
an optional L1 penalty on relu(W) (``adjacency_l1``, 0 by default: weight decay is the paper's L2 term).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.eeg_graph import ChebConv, chebyshev_basis, normalized_laplacian, proximity_adjacency


class LearnableAdjacency(nn.Module):
    """relu((W + W^T) / 2), W initialised from the grid proximity or a constant."""

    def __init__(self, channels: Sequence[str], init: str = "proximity"):
        super().__init__()
        n = len(channels)
        if init == "proximity":
            start = torch.as_tensor(proximity_adjacency(channels), dtype=torch.float32)
        elif init == "uniform":
            start = torch.full((n, n), 0.1) - 0.1 * torch.eye(n)
        else:
            raise ValueError(f"adjacency_init={init!r}: expected proximity or uniform")
        self.weight = nn.Parameter(start)

    def forward(self) -> torch.Tensor:
        return F.relu((self.weight + self.weight.T) / 2)


class DGCNN(nn.Module):
    def __init__(self, channels: Sequence[str], n_bands: int, n_classes: int, order: int = 3, filters: int = 32,
                 pointwise: int = 16, dropout: float = 0.5,
                 adjacency_init: Literal["proximity", "uniform"] = "proximity"):
        super().__init__()
        self.order = order
        self.adjacency = LearnableAdjacency(channels, adjacency_init)
        self.conv = ChebConv(n_bands, filters, order)
        self.pointwise = nn.Linear(filters, pointwise)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(len(channels) * pointwise, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        basis = chebyshev_basis(normalized_laplacian(self.adjacency()), self.order)
        h = F.relu(self.conv(x, basis))
        return F.relu(self.pointwise(h)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(x)))


class DGCNNModule(ClassifierModule):
    model_block = ModelBlock(DGCNN, knobs=("adjacency_l1",))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, channels=info.channels, n_bands=info.n_bands,
                                              n_classes=info.n_classes)
        self.adjacency_l1 = float(cfg.model.adjacency_l1)

    def compute(self, batch: dict):
        logits = self.network(batch["x"])
        losses = {"ce": F.cross_entropy(logits, batch["y"])}
        if self.adjacency_l1 > 0 and self.training:
            losses["adjacency_l1"] = self.adjacency_l1 * self.network.adjacency().abs().mean()
        return {"scores": logits}, losses

    def interpretation(self) -> dict:
        """The learned adjacency (what the paper inspects as the electrodes' learned relations)."""
        return {"adjacency": self.network.adjacency().detach().cpu().numpy()}
