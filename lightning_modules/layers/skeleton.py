"""An ST-GCN-style skeleton encoder with dense graph convolution, shared by the micro-gesture methods.

Input: ``(B, C, T, V, M)`` skeleton batches (docs/architecture.md); output: a feature map ``(B, C', T', V)``
(bodies averaged) that a method pools globally (classification) or per body part (FG-SGL's local features).

The layers follow ST-GCN (Yan et al., AAAI 2018) in structure, written from its description:

- the adjacency is split by the *spatial configuration* partition: for each joint, itself (root), its neighbours
  closer to the centre joint (centripetal) and those further away (centrifugal); each subset is normalised by
  in-degree (``A D^-1``, the column-normalised form ST-GCN uses) and has its own 1x1 convolution. ``partition:
  uniform`` uses one normalised ``A + I`` instead;
- each block is graph convolution -> BatchNorm -> ReLU -> temporal convolution (kernel ``temporal_kernel`` frames,
  optional stride) -> BatchNorm -> dropout, plus a residual (identity, or a strided 1x1 convolution when the shape
  changes) and a final ReLU;
- a learnable edge-importance mask (ones at start) multiplies each subset's adjacency (``edge_importance``);
- the input is normalised by BatchNorm over the C x V x M values of each frame position (ST-GCN's data BN).

The graph is small (22 or 25 joints), so it is kept dense: one ``einsum`` aggregates all frames at once.
torch-geometric's message passing would need the B x T frame graphs flattened into one disjoint graph per layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import torch
from torch import nn

from lightning_modules.layers.config import ModelBlock

Partition = Literal["spatial", "uniform"]
PARTITIONS = get_args(Partition)


def adjacency_matrix(n_joints: int, edges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Symmetric 0/1 ``(V, V)`` adjacency of an undirected edge list (no self loops)."""
    adj = np.zeros((n_joints, n_joints), dtype=np.float32)
    for i, j in edges:
        adj[i, j] = adj[j, i] = 1.0
    return adj


def hop_distance(adj: np.ndarray) -> np.ndarray:
    """Shortest-path length between every pair of joints (``inf`` when not connected)."""
    n = len(adj)
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0)
    reach = np.eye(n, dtype=bool)
    step = adj > 0
    for hops in range(1, n):
        nxt = (reach.astype(np.float32) @ step.astype(np.float32)) > 0
        new = nxt & ~reach
        if not new.any():
            break
        dist[new] = hops
        reach |= nxt
    return dist


def column_normalise(adj: np.ndarray) -> np.ndarray:
    """``A D^-1`` with D the column sums (in-degree); empty columns stay zero."""
    degree = adj.sum(0)
    return adj / np.where(degree > 0, degree, 1.0)[None, :]


def partitioned_adjacency(n_joints: int, edges: Sequence[tuple[int, int]], center: int,
                          partition: str = "spatial") -> np.ndarray:
    """``(K, V, V)`` normalised adjacency subsets: K = 3 (root, centripetal, centrifugal) or 1 (uniform)."""
    if partition not in PARTITIONS:
        raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
    adj = adjacency_matrix(n_joints, edges)
    with_self = adj + np.eye(n_joints, dtype=np.float32)
    normalised = column_normalise(with_self)
    if partition == "uniform":
        return normalised[None]
    to_center = hop_distance(adj)[:, center]
    root, closer, further = (np.zeros_like(normalised) for _ in range(3))
    for i in range(n_joints):  # row i aggregates from column j
        for j in range(n_joints):
            if with_self[i, j] == 0:
                continue
            if to_center[j] == to_center[i]:
                root[i, j] = normalised[i, j]
            elif to_center[j] < to_center[i]:
                closer[i, j] = normalised[i, j]
            else:
                further[i, j] = normalised[i, j]
    return np.stack([root, closer, further])


def part_pooling_matrix(n_joints: int, body_parts: dict[str, Sequence[int]]) -> torch.Tensor:
    """``(P, V)`` rows averaging the joints of each body part (in the dict's order)."""
    pool = torch.zeros(len(body_parts), n_joints)
    for p, joints in enumerate(body_parts.values()):
        pool[p, list(joints)] = 1.0 / len(joints)
    return pool


class GraphConvolution(nn.Module):
    """``sum_k A_k X W_k``: one 1x1 convolution per adjacency subset, aggregated over joints."""

    def __init__(self, in_channels: int, out_channels: int, n_subsets: int):
        super().__init__()
        self.n_subsets = n_subsets
        self.conv = nn.Conv2d(in_channels, out_channels * n_subsets, kernel_size=1)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        batch, _, frames, joints = x.shape
        h = self.conv(x).view(batch, self.n_subsets, -1, frames, joints)
        return torch.einsum("bkctv,kwv->bctw", h, adjacency)


class STGCNBlock(nn.Module):
    """Graph convolution, temporal convolution and a residual (see module docstring)."""

    def __init__(self, in_channels: int, out_channels: int, n_subsets: int, temporal_kernel: int = 9,
                 stride: int = 1, dropout: float = 0.0, residual: bool = True):
        super().__init__()
        if temporal_kernel % 2 == 0:
            raise ValueError(f"temporal_kernel must be odd, got {temporal_kernel}")
        self.graph = GraphConvolution(in_channels, out_channels, n_subsets)
        self.graph_norm = nn.BatchNorm2d(out_channels)
        self.temporal = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (temporal_kernel // 2, 0)),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout),
        )
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, (stride, 1)),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.graph_norm(self.graph(x, adjacency)))
        h = self.temporal(h)
        if self.residual is not None:
            h = h + self.residual(x)
        return torch.relu(h)


class SkeletonEncoder(nn.Module):
    """``(B, C, T, V, M) -> (B, channels[-1], T / prod(strides), V)``, bodies averaged.

    ``edges`` and ``center`` describe the skeleton (a layout's graph); ``channels``/``strides`` one entry per block.
    """

    def __init__(self, in_channels: int, n_joints: int, edges: Sequence[tuple[int, int]], center: int,
                 channels: Sequence[int] = (24, 32, 48), strides: Sequence[int] = (2, 2, 1),
                 temporal_kernel: int = 5, dropout: float = 0.1, partition: Partition = "spatial",
                 edge_importance: bool = True, n_bodies: int = 1):
        super().__init__()
        if len(channels) != len(strides):
            raise ValueError(f"channels {list(channels)} and strides {list(strides)} must have one entry per block")
        adjacency = torch.from_numpy(partitioned_adjacency(n_joints, edges, center, partition))
        self.register_buffer("adjacency", adjacency)
        self.data_norm = nn.BatchNorm1d(in_channels * n_joints * n_bodies)
        widths = [in_channels, *channels]
        self.blocks = nn.ModuleList(
            STGCNBlock(w_in, w_out, len(adjacency), temporal_kernel, s, dropout if i else 0.0, residual=i > 0)
            for i, (w_in, w_out, s) in enumerate(zip(widths[:-1], widths[1:], strides))
        )
        self.importance = nn.ParameterList(
            nn.Parameter(torch.ones_like(adjacency), requires_grad=edge_importance) for _ in self.blocks
        )
        self.out_channels = widths[-1]
        self.n_joints = n_joints

    def forward(self, skeleton: torch.Tensor) -> torch.Tensor:
        batch, channels, frames, joints, bodies = skeleton.shape
        x = skeleton.permute(0, 4, 3, 1, 2).reshape(batch, bodies * joints * channels, frames)
        x = self.data_norm(x).view(batch, bodies, joints, channels, frames)
        x = x.permute(0, 1, 3, 4, 2).reshape(batch * bodies, channels, frames, joints)
        for block, importance in zip(self.blocks, self.importance):
            x = block(x, self.adjacency * importance)
        return x.view(batch, bodies, *x.shape[1:]).mean(1)


SKELETON_ENCODER = ModelBlock(SkeletonEncoder)  # a method's `model.encoder` block (its ModelBlock's `blocks`)


def skeleton_encoder_from_config(cfg, info, at: str = "model.encoder") -> SkeletonEncoder:
    """The encoder of the block at ``at`` of the run's config for the data of ``info`` (its layout's graph and shape).

    The block's knobs are SkeletonEncoder's arguments; ``info.extra["skeleton_layout"]`` is the
    :class:`~rawdata.layouts.skeleton_arrays.SkeletonLayout` and ``info.input_shapes["skeleton"]`` is (C, T, V, M),
    as :class:`datamodules.gesture.GestureSource` provides.
    """
    layout = info.extra["skeleton_layout"]
    channels, _, joints, bodies = info.input_shapes["skeleton"]
    return SKELETON_ENCODER.build(cfg, at, in_channels=channels, n_joints=joints, edges=layout.edges,
                                  center=layout.center_joint, n_bodies=bodies)
