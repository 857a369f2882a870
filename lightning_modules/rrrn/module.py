"""LightningModule of RRRN: cross-entropy on the region-attention graph network over the onset->apex flow."""

from __future__ import annotations

from torch.nn import functional as F

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.rrrn.network import RRRN


class RRRNModule(ClassifierModule):
    model_block = ModelBlock(RRRN)

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.net = self.model_block.build(cfg, n_classes=info.n_classes)

    def compute(self, batch):
        logits = self.net(batch["flow"], batch["landmarks"])
        return {"scores": logits}, {"ce": F.cross_entropy(logits, batch["y"])}
