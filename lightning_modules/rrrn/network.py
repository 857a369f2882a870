"""RRRN (Mao, Zhou, Zheng et al., "Region attention and graph embedding network for occlusion objective
class-based micro-expression recognition"): backbone over facial regions, Region-Inspired (RI) attention,
Relation Reasoning (RR) by graph convolution over the regions, as a plain nn.Module.

What the abstract states and we follow: a backbone extracts a feature for each facial region; the RI module
computes an adaptive weight per region from the region's own feature (attention: how unobstructed and how
important the region is); the RR module lets the regions interact progressively by graph convolutions; the
classes are MEGC2018's objective classes.

Choices (the full text's layer sizes, region list and input are not in what we read; all are knobs):
- Input: the onset->apex optical flow of the suite's flow stage at crop resolution (u, v) plus its magnitude, as
  3 channels (micro-expression networks of the period, e.g. the MEGC2018 entries, feed flow; the RRRN paper's
  input may be apex frames: say so when comparing).
- Backbone: `depth` conv-BN-ReLU stages (stride 2 after the first) over the whole flow image, shared by all
  regions; region features are `region_size` x `region_size` patches of that map bilinearly sampled
  (grid_sample) around each region's landmark centre, flattened through a linear layer to `hidden` features.
- Regions (`regions`): groups of the 68 iBUG landmarks whose mean is the region centre; the patch side is
  `region_scale` times the face width (jaw 0 -> 16) so regions follow the face's size. A whole-face node is
  added (`global_node`), as region-attention networks for occluded FER do.
- RI: alpha_r = sigmoid(w2 . relu(W1 f_r)), features re-weighted f_r * alpha_r; the readout is the alpha-weighted
  mean of the node features after RR, so an occluded region (zero flow: the occluder does not move) can be
  down-weighted.
- RR: `gcn_layers` graph convolutions (layers/graph.GraphConv) on a graph learned from the weighted region
  features (softmax of scaled dot products, symmetric-normalised with self loops), residual and ReLU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from lightning_modules.layers.graph import GraphConv, normalize_adjacency

# iBUG 68 landmark groups (0-16 jaw, 17-21 / 22-26 brows, 27-35 nose, 36-41 / 42-47 eyes, 48-67 mouth)
REGIONS: dict[str, tuple[int, ...]] = {
    "brow_r": (17, 18, 19, 20, 21),
    "brow_l": (22, 23, 24, 25, 26),
    "eye_r": (36, 37, 38, 39, 40, 41),
    "eye_l": (42, 43, 44, 45, 46, 47),
    "glabella": (21, 22, 27),
    "nose": (27, 28, 29, 30, 31, 32, 33, 34, 35),
    "cheek_r": (1, 2, 3, 31, 48),
    "cheek_l": (13, 14, 15, 35, 54),
    "mouth_r": (48, 49, 59, 60, 67),
    "mouth_l": (53, 54, 55, 64, 65),
    "mouth": tuple(range(48, 68)),
    "chin": (6, 7, 8, 9, 10, 57),
}


def flow_channels(flow: torch.Tensor, memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """(B, 2, H, W) or (B, H, W, 2) flow -> (B, 3, H, W): u, v and magnitude, stored in ``memory_format``.

    The magnitude is ``hypot(u, v)``, the value ``flow.norm(dim=1)`` gives up to one float32 ulp; that strided
    two-element reduction took ~50 ms of a ~380 ms training step (batch 32, 128 px, one thread). When the flow
    itself is differentiated (saliency) ``norm`` is used: its gradient at zero flow (an occluder does not move) is
    0, hypot's is NaN."""
    if flow.ndim != 4 or 2 not in (flow.shape[1], flow.shape[-1]):
        raise ValueError(f"RRRN expects a (B, H, W, 2) flow, got {tuple(flow.shape)}")
    if flow.shape[-1] == 2 and flow.shape[1] != 2:
        flow = flow.permute(0, 3, 1, 2)
    u, v = flow[:, 0], flow[:, 1]
    magnitude = flow.norm(dim=1) if flow.requires_grad else torch.hypot(u, v)
    if memory_format == torch.channels_last:  # written straight into NHWC storage (one pass, no reorder after)
        return torch.stack([u, v, magnitude], -1).permute(0, 3, 1, 2)
    return torch.stack([u, v, magnitude], 1).contiguous(memory_format=memory_format)


class RRRN(nn.Module):
    memory_format = torch.channels_last
    """How the backbone stores its weights and activations: channels-last (NHWC) is the same arithmetic as NCHW
    (results equal up to float rounding, tests/test_rrrn.py) in the layout oneDNN's CPU convolutions want, with no
    reorder around each convolution. With the hypot magnitude a training step (batch 32, 128 px, one thread) takes
    280 instead of 487 CPU ms and a LOSO fold 1.5x less time (benchmarks/results/rrrn_speed.json).
    :meth:`use_memory_format` switches it."""

    def __init__(self, n_classes: int, regions: Sequence[str] = tuple(REGIONS), channels: Sequence[int] = (16, 32, 64),
                 region_size: int = 3, region_scale: float = 0.3, hidden: int = 64, gcn_layers: int = 2,
                 global_node: bool = True, dropout: float = 0.2, use_ri: bool = True, use_rr: bool = True):
        super().__init__()
        unknown = sorted(set(regions) - set(REGIONS))
        if unknown:
            raise ValueError(f"unknown RRRN regions {unknown}; known: {sorted(REGIONS)}")
        self.region_names = list(regions)
        self.region_size, self.region_scale, self.global_node = int(region_size), float(region_scale), global_node
        self.use_ri, self.use_rr = use_ri, use_rr
        layers, c_in = [], 3
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, stride=1 if i == 0 else 2, padding=1), nn.BatchNorm2d(c),
                       nn.ReLU(inplace=True)]
            c_in = c
        self.backbone = nn.Sequential(*layers).to(memory_format=self.memory_format)
        self.embed = nn.Sequential(nn.Linear(c_in * self.region_size ** 2, hidden), nn.ReLU(inplace=True))
        self.global_embed = nn.Sequential(nn.Linear(c_in, hidden), nn.ReLU(inplace=True))
        self.attention = nn.Sequential(nn.Linear(hidden, hidden // 2), nn.ReLU(inplace=True), nn.Linear(hidden // 2, 1))
        self.query = nn.Linear(hidden, hidden, bias=False)
        self.key = nn.Linear(hidden, hidden, bias=False)
        self.gcn = nn.ModuleList(GraphConv(hidden, hidden) for _ in range(gcn_layers))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, n_classes)
        groups = [REGIONS[name] for name in self.region_names]
        membership = torch.zeros(len(groups), 68)
        for r, idx in enumerate(groups):
            membership[r, list(idx)] = 1.0 / len(idx)
        self.register_buffer("membership", membership, persistent=False)

    def use_memory_format(self, memory_format: torch.memory_format) -> RRRN:
        """Store and run the backbone in ``memory_format`` (torch.contiguous_format: the plain NCHW path)."""
        self.memory_format = memory_format
        self.backbone.to(memory_format=memory_format)
        return self

    def region_grids(self, landmarks: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Sampling grids (B, R, k, k, 2) in [-1, 1] of the region patches of (B, 68, 2) pixel landmarks."""
        centres = self.membership @ landmarks  # (B, R, 2)
        face_width = (landmarks[:, 16] - landmarks[:, 0]).norm(dim=-1).clamp_min(1.0)  # (B,)
        half = self.region_scale * face_width / 2
        k = self.region_size
        steps = torch.linspace(-1, 1, k, device=landmarks.device, dtype=landmarks.dtype) if k > 1 else \
            torch.zeros(1, device=landmarks.device, dtype=landmarks.dtype)
        gy, gx = torch.meshgrid(steps, steps, indexing="ij")
        offsets = torch.stack([gx, gy], -1)  # (k, k, 2) in units of half the patch side
        pixels = centres[:, :, None, None, :] + half[:, None, None, None, None] * offsets
        scale = torch.tensor([width - 1, height - 1], device=landmarks.device, dtype=landmarks.dtype)
        return pixels / scale * 2 - 1

    def forward(self, flow: torch.Tensor, landmarks: torch.Tensor, return_attention: bool = False):
        """flow (B, 2, H, W) as the flow stage stores it (or (B, H, W, 2)), landmarks (B, 68, 2) or (B, T, 68, 2)
        (the first of the T resampled frames, the onset, is used) -> logits."""
        if landmarks.ndim == 4:
            landmarks = landmarks[:, 0]
        if landmarks.ndim != 3 or landmarks.shape[1:] != (68, 2):
            raise ValueError(f"RRRN expects (B, 68, 2) landmarks, got {tuple(landmarks.shape)}")
        x = flow_channels(flow, self.memory_format)
        height, width = x.shape[-2:]
        maps = self.backbone(x)  # (B, C, h, w)
        b, c = maps.shape[:2]
        grids = self.region_grids(landmarks.to(maps.dtype), height, width)  # (B, R, k, k, 2)
        r, k = grids.shape[1], self.region_size
        patches = F.grid_sample(maps, grids.reshape(b, r * k, k, 2), align_corners=True)  # (B, C, R*k, k)
        patches = patches.reshape(b, c, r, k, k).permute(0, 2, 1, 3, 4).reshape(b, r, c * k * k)
        nodes = self.embed(patches)  # (B, R, hidden)
        if self.global_node:
            nodes = torch.cat([nodes, self.global_embed(maps.mean((2, 3)))[:, None]], 1)
        alpha = torch.sigmoid(self.attention(nodes)).squeeze(-1) if self.use_ri else nodes.new_ones(nodes.shape[:2])
        h = nodes * alpha[..., None]
        if self.use_rr:
            scores = self.query(h) @ self.key(h).transpose(1, 2) / h.shape[-1] ** 0.5
            adj = normalize_adjacency(torch.softmax(scores, -1))
            adj = (adj + adj.transpose(1, 2)) / 2
            g = h.transpose(1, 2)[:, :, None]  # (B, hidden, 1, N) for GraphConv
            for layer in self.gcn:
                g = F.relu(layer(g, adj)) + g
            h = g[:, :, 0].transpose(1, 2)
        pooled = (h * alpha[..., None]).sum(1) / alpha.sum(1, keepdim=True).clamp_min(1e-6)
        logits = self.classifier(self.dropout(pooled))
        return (logits, alpha) if return_attention else logits
