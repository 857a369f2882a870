"""LTR3O (Zhu, Zong, Shi et al., 2023) as a plain nn.Module: onset-occurring-offset (3O) candidates, an
expressiveness scorer, and an expressiveness-weighted classifier.

Built from the abstract (the full text was not available here). What it gives: a 3O structure of the onset frame,
an "occurring" frame drawn at random from the sequence (no apex spotting needed) and the offset frame; several 3O
candidates per sample; modules that measure the candidates' emotional expressiveness and calibrate it so that
their distribution over time follows that of macro-expressions (learning to rank; module.py). Choices where it is
silent (knobs in experiments/_defaults/methods/ltr3o.yaml):

- The clip is the datamodule's ``frames`` resampled to data.seq_len frames over onset -> offset; frame 0 is the
  onset, frame T-1 the offset. Training draws ``candidates`` occurring positions uniformly from 1..T-2 per sample
  and step; evaluation uses ``candidates`` evenly spaced interior positions (deterministic).
- A candidate's input is the two movements it spans, occurring - onset and offset - occurring (grey, 2 channels):
  a still clip gives zeros, the raw appearance (identity) is not shown. ``input: frames`` stacks the three grey
  frames instead.
- Encoder: a small CNN from scratch (``width``, ``depth`` as in SMA-STN's); expressiveness: a linear score on the
  candidate's feature; the clip feature is the softmax(score / ``temperature``)-weighted sum of the candidates'
  features, classified by one linear layer.
"""

from __future__ import annotations

import torch
from torch import nn

from lightning_modules.sma_stn.network import conv_backbone

INPUTS = ("difference", "frames")


def occurring_positions(batch: int, n_frames: int, candidates: int, train: bool, generator=None) -> torch.Tensor:
    """(B, K) occurring-frame positions in 1..T-2: random when training, evenly spaced otherwise."""
    if n_frames < 3:
        raise ValueError(f"a 3O candidate needs at least 3 frames (onset, occurring, offset), got {n_frames}")
    if train:
        return torch.randint(1, n_frames - 1, (batch, candidates), generator=generator)
    grid = torch.linspace(1, n_frames - 2, candidates).round().long()
    return grid.expand(batch, candidates)


class LTR3O(nn.Module):
    def __init__(self, n_classes: int, candidates: int = 6, input: str = "difference", width: int = 16,
                 depth: int = 3, temperature: float = 1.0, dropout: float = 0.3):
        super().__init__()
        if input not in INPUTS:
            raise ValueError(f"model.input must be one of {INPUTS}, got {input!r}")
        self.candidates, self.input, self.temperature = int(candidates), input, float(temperature)
        self.backbone, channels = conv_backbone(2 if input == "difference" else 3, width, depth)
        self.score = nn.Linear(channels, 1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(channels, n_classes)

    def candidates_3o(self, frames: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) frames, (B, K) positions -> (B, K, c, H, W) candidate inputs (grey)."""
        grey = frames.mean(2)                                          # (B, T, H, W)
        b, k = positions.shape
        onset = grey[:, :1].expand(b, k, *grey.shape[2:])
        offset = grey[:, -1:].expand(b, k, *grey.shape[2:])
        occurring = grey[torch.arange(b, device=grey.device)[:, None], positions.to(grey.device)]
        if self.input == "difference":
            x = torch.stack([occurring - onset, offset - occurring], 2)
            return x / (x.flatten(2).std(-1)[..., None, None, None] + 1e-6)
        return torch.stack([onset, occurring, offset], 2)

    def forward(self, frames: torch.Tensor, positions: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if positions is None:
            positions = occurring_positions(frames.shape[0], frames.shape[1], self.candidates, self.training)
        x = self.candidates_3o(frames, positions)
        b, k = x.shape[:2]
        feats = self.backbone(x.flatten(0, 1)).mean((-2, -1)).view(b, k, -1)
        scores = self.score(feats).squeeze(-1)                         # (B, K) expressiveness
        weights = torch.softmax(scores / self.temperature, dim=1)
        clip = (weights.unsqueeze(-1) * feats).sum(1)
        return {"logits": self.classifier(self.dropout(clip)), "expressiveness": scores, "positions": positions,
                "weights": weights}
