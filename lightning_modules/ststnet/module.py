"""LightningModule of the STSTNet baseline: cross-entropy on the (u, v, strain) image."""

from __future__ import annotations

from torch.nn import functional as F

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.ststnet.network import STSTNet


class STSTNetModule(ClassifierModule):
    model_block = ModelBlock(STSTNet)

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.net = self.model_block.build(cfg, n_classes=info.n_classes)

    def compute(self, batch):
        logits = self.net(batch["image28"])
        return {"scores": logits}, {"ce": F.cross_entropy(logits, batch["y"])}
