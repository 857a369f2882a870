"""MFMC's networks: one encoder per modality, the one-vs-rest projection heads, the probe (choices in module.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn


def mlp(sizes: Sequence[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()]
    return layers


class DEEncoder(nn.Module):
    """EEG: the window's DE features (channels x bands) -> MLP -> sigmoid features."""

    def __init__(self, n_inputs: int, hidden: int, dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), *mlp([n_inputs, hidden]), nn.Linear(hidden, dim), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SignalEncoder(nn.Module):
    """A peripheral channel's raw segment (B, samples) -> two conv blocks (conv, BN, ReLU, max-pool 4) -> pooled to
    8 steps -> MLP -> sigmoid features (a small cousin of the authors' 4-block 1D CNN)."""

    def __init__(self, width: int, hidden: int, dim: int, kernel: int = 7):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(1, width, kernel, padding=kernel // 2), nn.BatchNorm1d(width), nn.ReLU(), nn.MaxPool1d(4),
            nn.Conv1d(width, width, kernel, padding=kernel // 2), nn.BatchNorm1d(width), nn.ReLU(),
            nn.AdaptiveMaxPool1d(8), nn.Flatten(), *mlp([8 * width, hidden]), nn.Linear(hidden, dim), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1))


class MFMCNetwork(nn.Module):
    """Encoders (``eeg`` first, then the peripheral channels in ``data.peripheral`` order), one projection head per
    modality for the rest of the modalities, and the probe on the ``probe_on`` modalities' features."""

    def __init__(self, n_channels: int, n_bands: int, peripheral: Mapping[str, int], n_classes: int,
                 feature_dim: int = 32, eeg_hidden: int = 64, conv_width: int = 16, signal_hidden: int = 64,
                 projector_hidden: int = 64, probe_hidden: Sequence[int] = (256, 512, 256),
                 probe_on: Sequence[str] = ("eeg",)):
        super().__init__()
        self.names = ["eeg", *peripheral]
        missing = sorted(set(probe_on) - set(self.names))
        if missing or not probe_on:
            raise ValueError(f"model.probe_on={list(probe_on)}: expected modalities among {self.names}")
        self.probe_on = list(probe_on)
        encoders = {"eeg": DEEncoder(n_channels * n_bands, eeg_hidden, feature_dim)}
        encoders.update({name: SignalEncoder(conv_width, signal_hidden, feature_dim) for name in peripheral})
        self.encoders = nn.ModuleDict(encoders)
        m = len(self.names)
        self.projectors = nn.ModuleList(
            nn.Sequential(*mlp([(m - 1) * feature_dim, projector_hidden]), nn.Linear(projector_hidden, feature_dim),
                          nn.BatchNorm1d(feature_dim)) for _ in range(m if m > 1 else 0))
        self.probe = nn.Sequential(*mlp([len(self.probe_on) * feature_dim, *probe_hidden]),
                                   nn.Linear(([len(self.probe_on) * feature_dim, *probe_hidden])[-1], n_classes))

    def encode(self, batch: dict, names: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        names = self.names if names is None else names
        return {n: self.encoders[n](batch["x" if n == "eeg" else f"x_{n}"]) for n in names}

    def classify(self, features: dict[str, torch.Tensor], detach: bool) -> torch.Tensor:
        z = torch.cat([features[n] for n in self.probe_on], dim=1)
        return self.probe(z.detach() if detach else z)
