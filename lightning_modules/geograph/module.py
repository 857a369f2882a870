"""LightningModule of the geometric two-stream graph network (arXiv 2205.00380; network.py says what is faithful).

Objective: ``CE(scores, y) + model.au_loss.weight * L_AU`` where ``L_AU`` is the Adaptive AU loss of losses.py on
the AU head, with per-AU weights from the training fold's AU frequencies (``DataInfo.au_frequency``). The AU
term is off when ``model.au_loss.enabled`` is false (the ablation) or when the dataset has no AU list
(``data.aus`` empty, e.g. SMIC, which is not AU-coded). In the composite, SMIC clips are in the fold's training
set but carry no AUs: they are left out of the loss (``skip_uncoded``), but ``DataInfo.au_frequency`` counts
them, so the AU rates there are underestimated by the share of uncoded clips (about 0.6x), which raises every
AU's positive weight by the same factor. ``model.class_weight: balanced`` weights the
cross-entropy by ``n / (C * n_c)`` from the fold's training class counts (a choice: the stand-ins and CASME II
are imbalanced and UF1/UAR weigh every class equally).
"""

from __future__ import annotations

import logging

import torch
from torch.nn import functional as F

from lightning_modules.geograph.losses import adaptive_au_loss, class_weights
from lightning_modules.geograph.network import GeometricTwoStreamGraphNet
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.optim import build_optimizer, trainer_epochs

log = logging.getLogger(__name__)


class GeoGraphModule(ClassifierModule):
    model_block = ModelBlock(GeometricTwoStreamGraphNet, knobs=(
        "class_weight", "semantic_lr_scale",
        "au_loss.enabled", "au_loss.weight", "au_loss.skip_uncoded", "au_loss.min_rate",
    ))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        m = cfg.model
        self.use_au_loss = bool(m.au_loss.enabled) and len(info.au_names) > 0
        if bool(m.au_loss.enabled) and not info.au_names:
            log.warning("geograph: data.aus is empty for %s, so the Adaptive AU loss is off", cfg.get("dataset"))
        self.net = self.model_block.build(cfg, n_classes=info.n_classes,
                                          n_aus=len(info.au_names) if self.use_au_loss else 0)
        rate = info.au_frequency if info.au_frequency else [0.5] * len(info.au_names)
        self.register_buffer("au_positive_rate", torch.tensor(rate, dtype=torch.float32))
        self.register_buffer("ce_weights", class_weights(info.class_counts, info.n_classes, str(m.class_weight)))

    def configure_optimizers(self):
        """The shared optimiser, the free semantic adjacency at ``model.semantic_lr_scale`` x the lr."""
        lr = float(self.cfg.optim.lr) * float(self.cfg.model.semantic_lr_scale)
        groups = self.net.parameter_groups(self.parameters(), lr)
        return build_optimizer(groups, self.cfg.optim, trainer_epochs(self))

    def compute(self, batch):
        out = self.net(batch["landmarks"])
        losses = {"ce": F.cross_entropy(out["scores"], batch["y"], weight=self.ce_weights)}
        if self.use_au_loss:
            au = self.cfg.model.au_loss
            losses["au"] = float(au.weight) * adaptive_au_loss(
                out["au_logits"], batch["aus"], self.au_positive_rate, bool(au.skip_uncoded), float(au.min_rate)
            )
        return {"scores": out["scores"]}, losses
