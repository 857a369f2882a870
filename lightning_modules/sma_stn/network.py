"""SMA-STN (Liu, Zheng and Zong, 2020) as a plain nn.Module: segmented dynamic images -> a shared CNN ->
spatiotemporal movement-attending module (STMA) -> classifier.

Built from the abstract (the full text was not available here); what the abstract gives: dynamic images computed
over clip segments as local-global descriptors (DSSI), an STMA module that captures long-distance spatial
relations and weighs the temporal segments, and a deviation-enhancement loss (module.py). Choices where it is
silent (knobs in experiments/_defaults/methods/sma_stn.yaml):

- DSSI: ``segments`` equal contiguous segments of the resampled clip, each rank-pooled, plus one global dynamic
  image over the whole clip (``include_global``), each scaled to unit standard deviation
  (preprocessing/dynamic_images.py). Frames are converted to grey (``grey``) before pooling: colour carries no
  movement and triples the input.
- Backbone: a small CNN trained from scratch (``width`` channels doubling over ``depth`` blocks of conv-BN-ReLU
  and 2x2 max pooling) shared by every dynamic image; the paper's backbone is not known here (no pretrained
  weights are used in this suite).
- STMA spatial part: one non-local (embedded-Gaussian self-attention) block with a residual connection on each
  segment's feature map, then global average pooling. Temporal part: a softmax over the segments of a learned
  score (a linear layer on each segment's pooled feature), the clip feature being the weighted sum.
"""

from __future__ import annotations

import torch
from torch import nn

from preprocessing.dynamic_images import segment_dynamic_images


class NonLocal2d(nn.Module):
    """Self-attention over the positions of a (B, C, H, W) map with a residual connection."""

    def __init__(self, channels: int, reduction: int = 2):
        super().__init__()
        inner = max(channels // reduction, 1)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, inner, 1)
        self.out = nn.Conv2d(inner, channels, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity
        nn.init.zeros_(self.out.bias)
        self.last_attention: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.query(x).flatten(2).transpose(1, 2)          # (B, N, c)
        k = self.key(x).flatten(2)                            # (B, c, N)
        v = self.value(x).flatten(2).transpose(1, 2)          # (B, N, c)
        attn = torch.softmax(q @ k / q.shape[-1] ** 0.5, dim=-1)
        self.last_attention = attn.detach()
        y = (attn @ v).transpose(1, 2).reshape(x.shape[0], -1, *x.shape[2:])
        return x + self.out(y)


class STMA(nn.Module):
    """Spatiotemporal movement attending: spatial non-local block per segment, softmax weights over segments."""

    def __init__(self, channels: int, spatial: bool = True, temporal: bool = True):
        super().__init__()
        self.spatial = NonLocal2d(channels) if spatial else nn.Identity()
        self.temporal = temporal
        self.score = nn.Linear(channels, 1)
        self.last_weights: torch.Tensor | None = None

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        """(B, S, C, h, w) -> (B, C) clip feature."""
        b, s = maps.shape[:2]
        feats = self.spatial(maps.flatten(0, 1)).mean((-2, -1)).view(b, s, -1)
        if self.temporal:
            weights = torch.softmax(self.score(feats).squeeze(-1), dim=1)
        else:
            weights = torch.full((b, s), 1.0 / s, device=maps.device, dtype=maps.dtype)
        self.last_weights = weights.detach()
        return (weights.unsqueeze(-1) * feats).sum(1)


def conv_backbone(in_channels: int, width: int, depth: int) -> tuple[nn.Sequential, int]:
    layers, c = [], in_channels
    for i in range(depth):
        out = width * 2 ** i
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True),
                   nn.MaxPool2d(2)]
        c = out
    return nn.Sequential(*layers), c


class SMASTN(nn.Module):
    def __init__(self, n_classes: int, segments: int = 3, include_global: bool = True, grey: bool = True,
                 width: int = 16, depth: int = 3, spatial_attention: bool = True, temporal_attention: bool = True,
                 dropout: float = 0.3):
        super().__init__()
        self.segments, self.include_global, self.grey = int(segments), bool(include_global), bool(grey)
        self.backbone, channels = conv_backbone(1 if grey else 3, width, depth)
        self.stma = STMA(channels, spatial_attention, temporal_attention)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(channels, n_classes)
        self.feature_dim = channels

    def dynamic_images(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) frames in [0, 1] -> (B, S, C, H, W) dynamic images."""
        if self.grey:
            frames = frames.mean(2, keepdim=True)
        return segment_dynamic_images(frames, self.segments, self.include_global)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        b, s = images.shape[:2]
        maps = self.backbone(images.flatten(0, 1))
        return self.stma(maps.view(b, s, *maps.shape[1:]))

    def forward(self, frames: torch.Tensor) -> dict[str, torch.Tensor]:
        images = self.dynamic_images(frames)
        feats = self.features(images)
        return {"logits": self.classifier(self.dropout(feats)), "features": feats, "images": images}
