"""The skeleton CE baseline's LightningModule (see the package docstring)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.skeleton import SKELETON_ENCODER, skeleton_encoder_from_config


class SkeletonClassifier(nn.Module):
    """Encoder -> mean over frames and joints -> dropout -> linear logits."""

    def __init__(self, encoder: nn.Module, n_classes: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.out_channels, n_classes)

    def forward(self, skeleton: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.encoder(skeleton).mean((2, 3))))


class SkeletonCEModule(ClassifierModule):
    model_block = ModelBlock(SkeletonClassifier, knobs=("label_smoothing",), blocks={"encoder": SKELETON_ENCODER})

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, encoder=skeleton_encoder_from_config(cfg, info),
                                              n_classes=info.n_classes)

    def compute(self, batch: dict) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        logits = self.network(batch["skeleton"])
        ce = F.cross_entropy(logits, batch["y"], label_smoothing=float(self.cfg.model.label_smoothing))
        return {"scores": logits}, {"ce": ce}
