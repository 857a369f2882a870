"""Graph layers over the 68 facial landmarks, shared by the landmark methods (geograph, dere_grl).

Landmarks follow the 68-point iBUG 300-W scheme that dlib's shape predictor outputs (indices 0-16 jaw line,
17-21 and 22-26 the brows, 27-30 nose bridge, 31-35 nostrils, 36-41 and 42-47 the eyes, 48-59 outer and 60-67
inner lips). A clip's landmarks arrive as ``(B, T, 68, 2)`` in crop pixels, frame 0 being the onset (the
datamodule resamples the onset->apex span to ``data.seq_len`` frames).

What lives here:

- the landmark graph: :func:`anatomical_edges` (each facial curve as a chain, eyes and lips closed, plus a few
  links between neighbouring curves so the graph is connected), :func:`knn_adjacency` (k nearest landmarks with
  ``torch.cdist`` + ``topk``; pyg-lib's ``knn_graph`` is not installable here) and :func:`normalize_adjacency`
  (Kipf & Welling's ``D^-1/2 (A + I) D^-1/2``);
- the geometric movement graph's node signals: :func:`align_to_reference` (removes head motion with a similarity
  transform fitted on stable points), :func:`inter_ocular_distance`, :func:`movement_features`;
- layers on ``(B, C, T, N)`` tensors: :class:`GraphConv` (spatial aggregation within each frame),
  :class:`TemporalConv` (temporal aggregation of each node) and :class:`SeparableSTBlock` (the two applied one
  after the other, i.e. a "separate structure" that aggregates space and time in distinct steps).

The graph has 68 nodes, so adjacency is kept dense: one ``einsum`` aggregates every frame of a batch at once, and
a learned or per-sample adjacency is just another ``(N, N)`` or ``(B, N, N)`` tensor. torch-geometric's GCNConv
computes the same thing on an edge list (the tests check :class:`GraphConv` against it) but would need the
``B * T`` frame graphs flattened into one disjoint graph per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
from torch import nn

from core.landmarks import FACE_COMPONENTS, N_LANDMARKS

RIGHT_EYE = tuple(range(36, 42))
LEFT_EYE = tuple(range(42, 48))

STABLE_POINTS = (27, 28, 29, 30, 36, 39, 42, 45)
"""Nose bridge and eye corners: they barely move in facial expressions, so head motion is fitted on them."""

_CURVES: tuple[tuple[int, int, bool], ...] = (
    (0, 16, False),  # jaw line
    (17, 21, False),  # right brow
    (22, 26, False),  # left brow
    (27, 30, False),  # nose bridge
    (31, 35, False),  # nostrils
    (36, 41, True),  # right eye
    (42, 47, True),  # left eye
    (48, 59, True),  # outer lips
    (60, 67, True),  # inner lips
)
"""(first, last, closed) of each curve of the 68-point scheme."""

_LINKS: tuple[tuple[int, int], ...] = (
    (21, 22),  # inner brow ends
    (21, 27),
    (22, 27),  # brows to nose bridge
    (19, 37),
    (24, 44),  # brow middle to upper eyelid
    (39, 27),
    (42, 27),  # inner eye corners to nose bridge
    (30, 33),  # nose tip to nostrils
    (33, 51),  # nose to upper lip
    (48, 60),
    (54, 64),  # lip corners, outer to inner
    (0, 17),
    (16, 26),  # temples to outer brow ends
    (4, 48),
    (12, 54),  # cheeks to lip corners
    (8, 57),  # chin to lower lip
)
"""Links between neighbouring curves; chosen here (no paper fixes them) so that every node is reachable."""


def anatomical_edges() -> torch.Tensor:
    """Undirected edges of the landmark graph as a ``(2, E)`` long tensor holding both directions of each edge."""
    pairs = list(_LINKS)
    for first, last, closed in _CURVES:
        pairs += [(i, i + 1) for i in range(first, last)]
        if closed:
            pairs.append((last, first))
    one_way = torch.tensor(pairs, dtype=torch.long).t()
    return torch.cat([one_way, one_way.flip(0)], dim=1)


def edges_to_adjacency(edge_index: torch.Tensor, n_nodes: int = N_LANDMARKS) -> torch.Tensor:
    """Dense 0/1 ``(N, N)`` adjacency of an edge list; ``adj[i, j] = 1`` when an edge joins j to i."""
    adj = torch.zeros(n_nodes, n_nodes)
    adj[edge_index[1], edge_index[0]] = 1.0
    return adj


def knn_adjacency(points: torch.Tensor, k: int) -> torch.Tensor:
    """Symmetric 0/1 adjacency joining each point to its ``k`` nearest other points.

    ``points`` is ``(N, D)`` or ``(B, N, D)``; the result is ``(N, N)`` or ``(B, N, N)``. A pair is joined when
    either point is among the other's k nearest (so degrees can exceed k).
    """
    n_nodes = points.shape[-2]
    if not 0 < k < n_nodes:
        raise ValueError(f"k must be in 1..{n_nodes - 1}, got {k}")
    dist = torch.cdist(points, points)
    dist = dist + torch.diag(torch.full((n_nodes,), float("inf"), device=points.device))
    nearest = dist.topk(k, dim=-1, largest=False).indices
    adj = torch.zeros_like(dist).scatter_(-1, nearest, 1.0)
    return torch.maximum(adj, adj.transpose(-1, -2))


def landmark_adjacency(
    points: torch.Tensor | None = None, k: int = 0, anatomical: torch.Tensor | None = None
) -> torch.Tensor:
    """The anatomical adjacency, joined (element-wise max) with the kNN adjacency of ``points`` when ``k > 0``.

    ``anatomical`` may pass a cached ``edges_to_adjacency(anatomical_edges())`` (networks keep it as a buffer).
    """
    adj = anatomical if anatomical is not None else edges_to_adjacency(anatomical_edges())
    if k > 0:
        if points is None:
            raise ValueError("kNN edges need landmark positions")
        adj = torch.maximum(adj.to(points.device), knn_adjacency(points, k))
    return adj


def normalize_adjacency(adj: torch.Tensor, add_self_loops: bool = True) -> torch.Tensor:
    """``D^-1/2 (A + I) D^-1/2`` for a non-negative ``(..., N, N)`` adjacency (isolated nodes get zero rows)."""
    if add_self_loops:
        adj = adj + torch.eye(adj.shape[-1], device=adj.device, dtype=adj.dtype)
    degree = adj.sum(-1)
    inv_sqrt = torch.where(degree > 0, degree.clamp_min(1e-12).rsqrt(), torch.zeros_like(degree))
    return inv_sqrt.unsqueeze(-1) * adj * inv_sqrt.unsqueeze(-2)


def inter_ocular_distance(points: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Distance between the two eye centres of ``(..., 68, 2)`` landmarks, shape ``(...)``."""
    right = points[..., list(RIGHT_EYE), :].mean(-2)
    left = points[..., list(LEFT_EYE), :].mean(-2)
    return (left - right).norm(dim=-1).clamp_min(eps)


def align_to_reference(
    landmarks: torch.Tensor, mode: str = "similarity", anchors: Sequence[int] = STABLE_POINTS, reference_index: int = 0
) -> torch.Tensor:
    """Remove head motion: map every frame onto the reference frame with a transform fitted on ``anchors``.

    ``landmarks`` is ``(B, T, N, 2)``. ``mode``: ``"similarity"`` (least-squares rotation, scale and translation,
    Umeyama's closed form), ``"translation"`` (mean anchor shift only) or ``"none"``.
    """
    if mode == "none":
        return landmarks
    if mode not in ("similarity", "translation"):
        raise ValueError(f"alignment mode must be similarity, translation or none, got {mode!r}")
    idx = list(anchors)
    source = landmarks[..., idx, :]
    target = landmarks[:, reference_index : reference_index + 1, idx, :].expand_as(source)
    source_mean, target_mean = source.mean(-2, keepdim=True), target.mean(-2, keepdim=True)
    if mode == "translation":
        return landmarks - source_mean + target_mean
    src, tgt = source - source_mean, target - target_mean
    covariance = tgt.transpose(-1, -2) @ src / len(idx)
    u, singular, vh = torch.linalg.svd(covariance)
    sign = torch.ones_like(singular)
    sign[..., -1] = torch.sign(torch.linalg.det(u @ vh))
    rotation = u @ torch.diag_embed(sign) @ vh
    variance = src.pow(2).sum((-1, -2)) / len(idx)
    scale = (singular * sign).sum(-1) / variance.clamp_min(1e-12)
    moved = scale[..., None, None] * (landmarks - source_mean) @ rotation.transpose(-1, -2)
    return moved + target_mean


MovementFeature = Literal["displacement", "velocity", "position"]
MOVEMENT_FEATURES = get_args(MovementFeature)
Alignment = Literal["similarity", "translation", "none"]  # align_to_reference's modes


def movement_features(
    landmarks: torch.Tensor,
    features: Sequence[str] = ("displacement", "position"),
    align: str = "similarity",
) -> torch.Tensor:
    """Node signals of the geometric movement graph, ``(B, C, T, N)`` from ``(B, T, N, 2)`` crop-pixel landmarks.

    All quantities are divided by the onset frame's inter-ocular distance, so they do not depend on face size:
    ``displacement`` = position at frame t minus position at the onset (frame 0), after head-motion removal;
    ``velocity`` = position at t minus position at t-1 (zero at t=0); ``position`` = the onset landmark relative
    to the onset face centre (constant over time; tells the layers where on the face a node sits). Two channels
    (x, y) per feature, in the order given.
    """
    unknown = [f for f in features if f not in MOVEMENT_FEATURES]
    if unknown or not features:
        raise ValueError(f"movement features must be a non-empty subset of {MOVEMENT_FEATURES}, got {list(features)}")
    aligned = align_to_reference(landmarks, align)
    onset = aligned[:, :1]
    scale = inter_ocular_distance(onset)[..., None, None]
    parts = {
        "displacement": (aligned - onset) / scale,
        "velocity": torch.diff(aligned, dim=1, prepend=aligned[:, :1]) / scale,
        "position": ((onset - onset.mean(-2, keepdim=True)) / scale).expand_as(aligned),
    }
    return torch.cat([parts[f] for f in features], dim=-1).permute(0, 3, 1, 2).contiguous()


def input_normalization(channels: int) -> nn.BatchNorm2d:
    """BatchNorm for the movement signals, with running statistics averaged over ALL training batches.

    Micro-movements are about 0.01 inter-ocular distances, so their variance is ~1e-4: an exponential running
    average started at 1 (BatchNorm's default, momentum 0.1) would still be ~10x too large after a few hundred
    steps, and evaluation would see inputs shrunk tenfold. The inputs do not change during training, so the
    cumulative average (``momentum=None``) is exact after one epoch.
    """
    return nn.BatchNorm2d(channels, momentum=None)


def neighbour_relative(x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
    """``x_i - mean_{j ~ i} x_j`` for ``(B, C, T, N)`` signals: each node relative to its graph neighbours.

    The graph-Laplacian of the movement field: zero for a rigid shift of a neighbourhood, non-zero where the face
    deforms locally (a muscle pulling some points and not their neighbours).
    """
    degree = adj.sum(-1, keepdim=True).clamp_min(1.0)
    return x - aggregate(x, adj / degree)


def aggregate(x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
    """``out[..., i] = sum_j adj[i, j] x[..., j]`` for ``(B, C, T, N)`` x and an ``(N, N)`` or ``(B, N, N)`` adj."""
    if adj.dim() == 2:
        return x @ adj.transpose(0, 1)
    batch, channels, frames, nodes = x.shape
    return (x.reshape(batch, channels * frames, nodes) @ adj.transpose(1, 2)).view(batch, channels, frames, nodes)


def pointwise(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Channel mixing ``W x`` at every frame and node: ``(B, C_in, T, N)``, ``(C_out, C_in)`` -> ``(B, C_out, T, N)``.

    A batched matrix product; on CPU it is faster than the equivalent 1x1 convolution for these small shapes.
    """
    batch, _, frames, nodes = x.shape
    return (weight @ x.reshape(batch, x.shape[1], frames * nodes)).view(batch, weight.shape[0], frames, nodes)


class GraphConv(nn.Module):
    """Spatial aggregation within each frame: ``X' = A_hat X W + b`` (Kipf & Welling's GCN on a dense graph).

    ``forward(x, adj)`` takes ``x`` ``(B, C_in, T, N)`` and a normalised adjacency ``(N, N)`` or ``(B, N, N)``
    (see :func:`normalize_adjacency`) and returns ``(B, C_out, T, N)``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        out = aggregate(pointwise(x, self.weight), adj)
        if self.bias is not None:
            out = out + self.bias[None, :, None, None]
        return out


class TemporalConv(nn.Module):
    """Temporal aggregation of each node on its own: a ``(kernel, 1)`` convolution over frames, then BatchNorm."""

    def __init__(self, channels: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"temporal kernel size must be odd, got {kernel_size}")
        self.conv = nn.Conv2d(channels, channels, (kernel_size, 1), padding=(kernel_size // 2, 0))
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


class SeparableSTBlock(nn.Module):
    """Spatial graph aggregation, then temporal aggregation, as separate steps, with a residual connection.

    ``x -> GraphConv(adj) -> BN -> ReLU -> TemporalConv -> BN -> (+ residual) -> ReLU``. The residual is the
    identity when channel counts match and a learned channel projection (:func:`pointwise`) otherwise. No
    dropout inside blocks: the methods apply it once, before their classifier (also cheaper on CPU).
    """

    def __init__(self, in_channels: int, out_channels: int, temporal_kernel: int = 3):
        super().__init__()
        self.spatial = GraphConv(in_channels, out_channels)
        self.spatial_norm = nn.BatchNorm2d(out_channels)
        self.temporal = TemporalConv(out_channels, temporal_kernel)
        self.residual = None
        if in_channels != out_channels:
            self.residual = nn.Parameter(torch.empty(out_channels, in_channels))
            nn.init.kaiming_uniform_(self.residual, a=5**0.5)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.spatial_norm(self.spatial(x, adj)))
        h = self.temporal(h)
        return torch.relu(h + (x if self.residual is None else pointwise(x, self.residual)))


class LandmarkGraphEncoder(nn.Module):
    """A stack of :class:`SeparableSTBlock` sharing one adjacency: ``(B, C, T, N) -> (B, channels[-1], T, N)``."""

    def __init__(self, in_channels: int, channels: Sequence[int], temporal_kernel: int = 3):
        super().__init__()
        widths = [in_channels, *channels]
        self.blocks = nn.ModuleList(
            SeparableSTBlock(w_in, w_out, temporal_kernel) for w_in, w_out in zip(widths[:-1], widths[1:])
        )
        self.out_channels = widths[-1]

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, adj)
        return x


def node_component_index(components: dict[str, Sequence[int]] = FACE_COMPONENTS) -> torch.Tensor:
    """``(N,)`` index of the component each landmark belongs to (in the dict's order); -1 for none."""
    index = torch.full((N_LANDMARKS,), -1, dtype=torch.long)
    for position, nodes in enumerate(components.values()):
        index[list(nodes)] = position
    return index
