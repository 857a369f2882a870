"""HGNN (Wang, Zheng, Li et al.): a hybrid of a common and an individualised graph network for EEG depression.

Input: a raw window per sample, x (B, C channels, L samples) (datamodules/eeg.py ``read_modma``: 4 s at 250 Hz),
as read: the reference code's training script z-scores nothing (method defaults ``data.normalize: none``,
``data.scale: none``; per-window and per-recording channel scaling are ``data.scale`` knobs).

1. :class:`TemporalEncoder`, shared by all channels: conv (1 -> ``encoder_filters``, kernel ``encoder_kernel``) ->
   BN -> ELU -> average pool ``encoder_pool`` -> dropout; 1x1 conv -> ``node_dim`` -> BN -> ELU; a depthwise conv
   spanning the whole pooled window -> BN -> ELU -> dropout: one ``node_dim`` vector per channel (node).
   ``encoder_readout`` says what that last conv is: ``conv``, trained (the reference code: one free weight per
   pooled sample and feature, a read-out of the window's phase as much as of its power); ``mean``, the same layer
   frozen at the uniform average 1 / length (each feature becomes the window mean of a rectified filter output, a
   band-power-like summary; benchmarks/hgnn_calibration.py ``--readout-choice`` says when it was chosen).
2. Common branch (CGNN): a graph shared by every sample (``common_graph``: ``learned``, the reference code's
   trainable matrix, uniform in [0.01, 0.5] at start; ``proximity``: the electrode grid proximity of
   lightning_modules/layers/eeg_graph.py, not trained; ``learned_proximity``: trainable, starting from it), made
   symmetric with self-loops and normalised D^-1/2 (A + I) D^-1/2 (:func:`normalised_adjacency`), then a
   polynomial graph convolution of order ``common_order``: sum_k leaky_relu(A^k X W_k), A^0 = I.
3. Individualised branch (IGNN): per sample, A_s = softmax(Q K^T / ``temperature``) with Q, K linear maps of the
   node features (``adjacency_dim`` each), normalised as above; a graph convolution of order ``individual_order``
   on A_s; then GPUM (:class:`PoolUnpool`): a soft assignment R = softmax over ``regions`` of a graph convolution
   (order ``assignment_order``), the region graph R^T A_s R (normalised), region features R^T X, a graph
   convolution on the region graph (order ``region_order``), unpooled R X_r and added back:
   X + ``unpool_weight`` * R X_r. An entropy penalty (``entropy_weight``) on R pushes each channel to one region.
4. Fusion: per node [individual, common] concatenated, flattened, a linear layer to the classes and a BatchNorm on
   the logits (as the reference code does).

Ablations (the abstract's): ``branches: common`` (no IGNN, hence no GPUM), ``gpum: false`` (IGNN without pooling),
``branches: individual`` (no CGNN). Before each branch the node features pass a one-channel BatchNorm (one mean and
variance over all nodes and features: the reference code's input normalisation of its graph layers).

Where this departs from the reference code, and what no public text fixes: see the MethodSpec (``faithfulness``);
every number is a model.* knob (experiments/_defaults/methods/hgnn.yaml).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.eeg_graph import proximity_adjacency


def normalised_adjacency(a: torch.Tensor) -> torch.Tensor:
    """D^-1/2 (relu(A) off-diagonal, symmetrised, + I) D^-1/2 for (n, n) or (..., n, n) matrices."""
    n = a.shape[-1]
    eye = torch.eye(n, device=a.device, dtype=a.dtype)
    a = F.relu(a) * (1 - eye)
    a = a + a.transpose(-1, -2) + eye
    inv = a.sum(-1).clamp_min(1e-10).rsqrt()
    return inv.unsqueeze(-1) * a * inv.unsqueeze(-2)


class PolyGraphConv(nn.Module):
    """sum_{k < order} leaky_relu(A^k X W_k) for X (B, n, in) and A (n, n) or (B, n, n); A^0 = I."""

    def __init__(self, in_features: int, out_features: int, order: int):
        super().__init__()
        if order < 1:
            raise ValueError(f"graph convolution order {order}: expected >= 1")
        self.weight = nn.Parameter(torch.empty(order, in_features, out_features))
        nn.init.xavier_normal_(self.weight.view(-1, out_features))

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        out, propagated = None, x
        for k in range(self.weight.shape[0]):
            if k:
                propagated = a @ propagated
            term = F.leaky_relu(propagated @ self.weight[k])
            out = term if out is None else out + term
        return out


class NodeNorm(nn.Module):
    """One BatchNorm statistic over every node and feature (BatchNorm2d with one channel)."""

    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.unsqueeze(1)).squeeze(1)


class TemporalEncoder(nn.Module):
    """(B, C, L) -> (B, C, node_dim): the same temporal CNN on every channel (see the module doc)."""

    def __init__(self, samples: int, filters: int = 16, node_dim: int = 32, kernel: int = 63, pool: int = 4,
                 dropout: float = 0.25, readout: Literal["conv", "mean"] = "conv"):
        super().__init__()
        if samples // pool < 1:
            raise ValueError(f"window of {samples} samples is shorter than the pool {pool}")
        if readout not in ("conv", "mean"):
            raise ValueError(f"encoder_readout={readout!r}: expected conv or mean")
        self.net = nn.Sequential(
            nn.Conv1d(1, filters, kernel, padding=kernel // 2, bias=False), nn.BatchNorm1d(filters), nn.ELU(),
            nn.AvgPool1d(pool), nn.Dropout(dropout),
            nn.Conv1d(filters, node_dim, 1), nn.BatchNorm1d(node_dim), nn.ELU(),
            nn.Conv1d(node_dim, node_dim, samples // pool, groups=node_dim, bias=False), nn.BatchNorm1d(node_dim),
            nn.ELU(), nn.Dropout(dropout))
        if readout == "mean":  # built either way, so the other layers start from the same random draw
            self.whole_window.weight.data.fill_(1.0 / self.whole_window.weight.shape[-1])
            self.whole_window.weight.requires_grad_(False)

    @property
    def whole_window(self) -> nn.Conv1d:
        """The depthwise conv spanning the whole pooled window (``net[8]``; the read-out ``readout`` names)."""
        return self.net[8]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, length = x.shape
        return self.net(x.reshape(b * c, 1, length)).reshape(b, c, -1)


class AttentionAdjacency(nn.Module):
    """Per-sample adjacency softmax(Q K^T / temperature), normalised (:func:`normalised_adjacency`)."""

    def __init__(self, in_features: int, dim: int = 32, temperature: float = 1.0):
        super().__init__()
        self.qk = nn.Linear(in_features, 2 * dim, bias=False)
        self.temperature = temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k = self.qk(x).chunk(2, dim=-1)
        return normalised_adjacency(torch.softmax(q @ k.transpose(-1, -2) / self.temperature, dim=-1))


class PoolUnpool(nn.Module):
    """GPUM: channels -> ``regions`` soft regions -> graph convolution on the region graph -> back to channels."""

    def __init__(self, features: int, regions: int = 4, assignment_order: int = 1, region_order: int = 2,
                 unpool_weight: float = 0.5):
        super().__init__()
        self.assign = PolyGraphConv(features, regions, assignment_order)
        self.assign_norm, self.region_norm = NodeNorm(), NodeNorm()
        self.region_conv = PolyGraphConv(features, features, region_order)
        self.unpool_weight = unpool_weight

    def pool(self, x: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(region features (B, r, f), region adjacency (B, r, r), assignment R (B, n, r))."""
        r = torch.softmax(self.assign(self.assign_norm(x), a), dim=-1)
        region_a = normalised_adjacency(r.transpose(-1, -2) @ a @ r)
        return r.transpose(-1, -2) @ x, region_a, r

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled, region_a, r = self.pool(x, a)
        pooled = self.region_conv(self.region_norm(pooled), region_a)
        return x + self.unpool_weight * (r @ pooled), r


class HGNN(nn.Module):
    def __init__(self, channels: Sequence[str], samples: int, n_classes: int,
                 branches: Literal["both", "common", "individual"] = "both", gpum: bool = True,
                 encoder_filters: int = 16, node_dim: int = 32, encoder_kernel: int = 63, encoder_pool: int = 4,
                 dropout: float = 0.25, gnn_dim: int = 32,
                 common_graph: Literal["learned", "proximity", "learned_proximity"] = "learned",
                 common_order: int = 3, individual_order: int = 2, adjacency_dim: int = 32,
                 temperature: float = 1.0, regions: int = 4, assignment_order: int = 1, region_order: int = 2,
                 unpool_weight: float = 0.5, encoder_readout: Literal["conv", "mean"] = "conv"):
        super().__init__()
        n = len(channels)
        self.branches, self.use_gpum = branches, gpum and branches != "common"
        self.encoder = TemporalEncoder(samples, encoder_filters, node_dim, encoder_kernel, encoder_pool, dropout,
                                       encoder_readout)
        self.common_graph = common_graph
        if branches != "individual":
            if common_graph == "learned":
                self.common_weight = nn.Parameter(torch.empty(n, n).uniform_(0.01, 0.5))
            elif common_graph in ("proximity", "learned_proximity"):
                try:
                    start = torch.as_tensor(proximity_adjacency(channels), dtype=torch.float32)
                except ValueError as err:
                    raise ValueError(f"model.common_graph={common_graph}: {err} (use common_graph=learned for "
                                     "channels without 10-20 names)") from None
                if common_graph == "proximity":
                    self.register_buffer("common_weight", start)
                else:
                    self.common_weight = nn.Parameter(start)
            else:
                raise ValueError(f"common_graph={common_graph!r}: expected learned, proximity or learned_proximity")
            self.common_norm = NodeNorm()
            self.common = PolyGraphConv(node_dim, gnn_dim, common_order)
        if branches != "common":
            self.adjacency = AttentionAdjacency(node_dim, adjacency_dim, temperature)
            self.individual_norm = NodeNorm()
            self.individual = PolyGraphConv(node_dim, gnn_dim, individual_order)
            if self.use_gpum:
                self.gpum = PoolUnpool(gnn_dim, regions, assignment_order, region_order, unpool_weight)
        width = gnn_dim * (2 if branches == "both" else 1)
        self.fc = nn.Linear(n * width, n_classes)
        self.logit_norm = nn.BatchNorm1d(n_classes)

    def common_adjacency(self) -> torch.Tensor:
        return normalised_adjacency(self.common_weight)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        nodes = self.encoder(x)
        parts, out = [], {}
        if self.branches != "common":
            a = self.adjacency(nodes)
            h = self.individual(self.individual_norm(nodes), a)
            if self.use_gpum:
                h, out["assignment"] = self.gpum(h, a)
            out["adjacency"] = a
            parts.append(h)
        if self.branches != "individual":
            parts.append(self.common(self.common_norm(nodes), self.common_adjacency()))
        out["scores"] = self.logit_norm(self.fc(torch.cat(parts, dim=-1).flatten(1)))
        return out


def assignment_entropy(r: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Mean over samples of the summed entropy of each channel's region assignment."""
    return -(r * torch.log(r + eps)).sum(dim=(1, 2)).mean()


class HGNNModule(ClassifierModule):
    model_block = ModelBlock(HGNN, knobs=("entropy_weight",))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, channels=info.channels, samples=info.n_bands,
                                              n_classes=info.n_classes)
        self.entropy_weight = float(cfg.model.entropy_weight)

    def compute(self, batch: dict):
        out = self.network(batch["x"])
        losses = {"ce": F.cross_entropy(out["scores"], batch["y"])}
        if self.entropy_weight > 0 and "assignment" in out:
            losses["assignment_entropy"] = self.entropy_weight * assignment_entropy(out["assignment"])
        return {"scores": out["scores"]}, losses

    def interpretation(self) -> dict:
        """The common graph (normalised) when the model has one, with its channel names."""
        if self.network.branches == "individual":
            return {}
        return {"common_adjacency": self.network.common_adjacency().detach().cpu().numpy(),
                "channels": list(self.info.channels)}
