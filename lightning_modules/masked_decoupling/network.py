"""Dual stream independence decoupling network (arXiv 2603.16760) as plain nn.Modules.

Two streams with the same architecture and separate weights read the same input; one gives the TRUE-emotion
feature, the other the DISGUISED-expression feature, each with its own linear classifier. The losses that make
the two features decouple (two cross-entropies and HSIC) live in module.py.

Choices where the abstract is silent (knobs under `model.` in experiments/_defaults/methods/masked_decoupling.yaml):

- Stream backbone: ``small`` (default), four conv-BN-ReLU-maxpool blocks (width w, 2w, 4w, feature_dim) with
  global average pooling, trained from scratch; ``resnet18``, torchvision's ResNet-18 without weights (none can be
  downloaded) with its classifier replaced by a projection to feature_dim. The small stream keeps LOSO on two CPU
  cores within minutes.
- Input: images in [0, 1] standardised as (x - 0.5) / 0.25. ``apex_input`` (apex paradigm): ``frame`` (default,
  the paper's) encodes the apex frame; ``difference`` encodes apex minus onset frame, a documented DEVIATION for
  streams trained from scratch: the onset frame is the first frame of the leak, still neutral, so the difference
  removes the identity without bringing back the leaked true emotion (which peaks after the onset and is gone by
  the apex); what remains is the disguise and the faint residual of the true AUs.
- Paradigms. ``apex`` (the paper's): the apex frame (B, 3, S, S), in a stable disguised state. ``onset_clip``
  (the earlier paradigm the paper compares with): the frames from onset to apex (B, T, 3, S, S); each stream
  encodes every frame with its 2-D backbone and pools over time (``temporal_pool``: max by default, so a brief
  leak of the true emotion survives the pooling; or mean). ``clip_input: difference`` (default) encodes each
  frame minus the onset frame (motion relative to the onset, the usual micro-expression input, which removes the
  identity); ``frames`` encodes the raw frames.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

Paradigm = Literal["apex", "onset_clip"]
ApexInput = Literal["frame", "difference"]
Backbone = Literal["small", "resnet18"]
PARADIGMS, APEX_INPUTS, BACKBONES = get_args(Paradigm), get_args(ApexInput), get_args(Backbone)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """conv 3x3 -> BN -> max-pool 2 -> ReLU. Pooling before the ReLU gives the same values and gradients as the
    usual ReLU -> pool (ReLU is monotone, so it commutes with max) on a quarter of the elements."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.MaxPool2d(2), nn.ReLU(inplace=True))


def small_stream(feature_dim: int, width: int) -> nn.Module:
    """Four conv blocks -> global average pooling -> (B, feature_dim)."""
    return nn.Sequential(conv_block(3, width), conv_block(width, 2 * width), conv_block(2 * width, 4 * width),
                         conv_block(4 * width, feature_dim), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def resnet18_stream(feature_dim: int) -> nn.Module:
    """torchvision ResNet-18 from random initialisation, its classifier replaced by a projection."""
    from torchvision.models import resnet18

    net = resnet18(weights=None)
    net.fc = nn.Linear(net.fc.in_features, feature_dim)
    return net


def build_stream(backbone: str, feature_dim: int, width: int) -> nn.Module:
    if backbone == "small":
        return small_stream(feature_dim, width)
    if backbone == "resnet18":
        return resnet18_stream(feature_dim)
    raise ValueError(f"stream backbone must be one of {BACKBONES}, got {backbone!r}")


def clip_frames(frames: torch.Tensor, clip_input: str) -> torch.Tensor:
    """(B, T, 3, S, S) onset..apex frames -> what the streams encode: raw frames, or differences to the onset."""
    if clip_input == "frames":
        return (frames - 0.5) / 0.25
    if clip_input == "difference":
        return (frames[:, 1:] - frames[:, :1]) / 0.25
    raise ValueError(f"clip_input must be frames or difference, got {clip_input!r}")


class DualStreamDecoupling(nn.Module):
    """Input -> (true-emotion feature, disguised-expression feature) -> (true logits, disguise logits)."""

    def __init__(self, n_true: int, n_disguise: int, backbone: Backbone = "small", feature_dim: int = 64,
                 width: int = 16, dropout: float = 0.3, paradigm: Paradigm = "apex",
                 clip_input: Literal["difference", "frames"] = "difference",
                 temporal_pool: Literal["max", "mean"] = "max", apex_input: ApexInput = "frame"):
        super().__init__()
        if paradigm not in PARADIGMS:
            raise ValueError(f"paradigm must be one of {PARADIGMS}, got {paradigm!r}")
        if apex_input not in APEX_INPUTS:
            raise ValueError(f"apex_input must be one of {APEX_INPUTS}, got {apex_input!r}")
        self.apex_input = apex_input
        if temporal_pool not in ("max", "mean"):
            raise ValueError(f"temporal_pool must be max or mean, got {temporal_pool!r}")
        self.paradigm, self.clip_input, self.temporal_pool = paradigm, clip_input, temporal_pool
        self.true_stream = build_stream(backbone, feature_dim, width)
        self.disguise_stream = build_stream(backbone, feature_dim, width)
        self.true_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_true))
        self.disguise_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(feature_dim, n_disguise))

    def encode(self, stream: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Apex image (B, 3, S, S) or prepared clip (B, T, 3, S, S) -> (B, feature_dim).

        Images enter the stream in channels-last memory order: the same values, but oneDNN's convolution,
        batch-norm and pooling kernels run about 1.5-1.7x faster on the CPU in that layout than in NCHW
        (benchmarks/masked_decoupling.py)."""
        if x.dim() == 4:
            return stream(x.contiguous(memory_format=torch.channels_last))
        frames = x.flatten(0, 1).contiguous(memory_format=torch.channels_last)
        per_frame = stream(frames).view(x.shape[0], x.shape[1], -1)
        return per_frame.amax(dim=1) if self.temporal_pool == "max" else per_frame.mean(dim=1)

    def forward(self, x: torch.Tensor, onset: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """``x``: the apex frame (paradigm apex) or the onset..apex frames (paradigm onset_clip), in [0, 1];
        ``onset``: the onset frame, read only by the apex paradigm with ``apex_input="difference"``."""
        expected = 4 if self.paradigm == "apex" else 5
        if x.dim() != expected:
            raise ValueError(f"paradigm {self.paradigm!r} expects a {expected}-d input, got shape {tuple(x.shape)}")
        if self.paradigm == "onset_clip":
            x = clip_frames(x, self.clip_input)
        elif self.apex_input == "difference":
            if onset is None:
                raise ValueError("apex_input='difference' needs the onset frame")
            x = (x - onset) / 0.25
        else:
            x = (x - 0.5) / 0.25
        true_features = self.encode(self.true_stream, x)
        disguise_features = self.encode(self.disguise_stream, x)
        return {
            "true_logits": self.true_head(true_features),
            "disguise_logits": self.disguise_head(disguise_features),
            "true_features": true_features,
            "disguise_features": disguise_features,
        }
