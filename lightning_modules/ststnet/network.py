"""STSTNet (Liong, See, Wong and Phan, FG 2019) as a plain nn.Module.

Faithful to the paper's description: the input is the 28x28 image stacking horizontal flow, vertical flow and
optical strain computed between onset and apex; three parallel 3x3 convolutions with 3, 5 and 8 kernels (each
on all three channels, "same" padding) and ReLU, each followed by 3x3 max pooling with stride 3; the 16 maps
are concatenated, average-pooled 2x2 and classified by one fully connected layer.
Choices where the paper is silent or re-implementations differ (knobs in _defaults/methods/ststnet.yaml):
batch normalisation after each convolution (`batch_norm`, as common PyTorch re-implementations do) and dropout
before the classifier (`dropout`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class STSTNet(nn.Module):
    def __init__(self, n_classes: int, in_channels: int = 3, widths: Sequence[int] = (3, 5, 8), batch_norm: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.streams = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(in_channels, w, kernel_size=3, padding=1),
                nn.BatchNorm2d(w) if batch_norm else nn.Identity(),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=3, padding=1),
            )
            for w in widths
        )
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(sum(widths) * 5 * 5, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, 28, 28) -> class logits (B, n_classes)."""
        maps = torch.cat([stream(x) for stream in self.streams], dim=1)  # (B, 16, 10, 10)
        return self.classifier(self.dropout(self.pool(maps).flatten(1)))
