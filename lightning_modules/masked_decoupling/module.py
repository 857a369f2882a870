"""LightningModule of the dual stream independence decoupling network for masked emotions (arXiv 2603.16760).

The decoupling loss group of the paper:

    loss = CE(true logits, y) + disguise_weight * CE(disguise logits, y_disguise)
           + hsic_weight * HSIC(true features, disguise features)

HSIC is the unbiased estimator with Gaussian kernels of lightning_modules/layers/hsic.py (bandwidth by the median
heuristic, or fixed: ``model.hsic.bandwidth``). ``model.hsic.weight: 0`` is the "without HSIC" ablation; the raw
(unweighted) HSIC of every batch is logged as ``<stage>/hsic_unweighted`` in both settings, so runs show how
dependent the two features are. ``model.class_weight: balanced`` weights the true-emotion cross-entropy by
n / (C * n_c) of the fold's training counts (a choice; UF1/UAR weigh classes equally); the disguise CE is
unweighted (DataInfo carries no disguise counts, and the stand-in's disguises are balanced by design).

Paradigms (``model.paradigm``): ``apex`` reads the batch's ``apex``; ``onset_clip`` reads ``frames``, which the
datamodule resamples over the onset -> apex span (``data.span: onset_apex``, checked here). ``predict_step``
returns ``scores`` (B, C_true) and ``scores_disguise`` (B, C_disguise) as probabilities.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from core.errors import ConfigError
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.hsic import HSICLoss
from lightning_modules.masked_decoupling.network import PARADIGMS, DualStreamDecoupling


def balanced_class_weights(counts, n_classes: int, mode: str) -> torch.Tensor:
    """n / (C * n_c) from training counts when ``mode`` is balanced (classes absent from training get 1)."""
    if mode == "none" or not len(counts):
        return torch.ones(n_classes)
    if mode != "balanced":
        raise ConfigError(f"model.class_weight must be none or balanced, got {mode!r}")
    c = torch.as_tensor(counts, dtype=torch.float32)
    return torch.where(c > 0, c.sum() / (n_classes * c.clamp_min(1)), torch.ones_like(c))


class MaskedDecouplingModule(ClassifierModule):
    model_block = ModelBlock(DualStreamDecoupling, knobs=(
        "disguise_weight", "class_weight", "hsic.weight", "hsic.bandwidth", "hsic.median_scale",
    ))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        m = cfg.model
        self.paradigm = str(m.paradigm)
        if self.paradigm not in PARADIGMS:
            raise ConfigError(f"model.paradigm must be one of {PARADIGMS}, got {self.paradigm!r}")
        if self.paradigm == "onset_clip" and str(cfg.data.span) != "onset_apex":
            raise ConfigError(f"the onset-clip paradigm reads the frames from onset to apex: data.span must be "
                              f"onset_apex, got {cfg.data.span!r}")
        if not info.disguise_classes:
            raise ConfigError("masked_decoupling needs disguise labels: set data.disguise_classes "
                              "(experiments/_defaults/datasets/masked.yaml)")
        self.net = self.model_block.build(cfg, n_true=info.n_classes, n_disguise=len(info.disguise_classes))
        bandwidth = m.hsic.bandwidth if str(m.hsic.bandwidth) == "median" else float(m.hsic.bandwidth)
        self.hsic = HSICLoss(bandwidth, float(m.hsic.median_scale))
        self.register_buffer("ce_weights", balanced_class_weights(info.class_counts, info.n_classes,
                                                                  str(m.class_weight)))
        self.last_hsic = torch.tensor(0.0)

    def compute(self, batch):
        m = self.cfg.model
        if self.paradigm == "apex":
            out = self.net(batch["apex"], batch.get("onset"))
        else:
            out = self.net(batch["frames"])
        hsic = self.hsic(out["true_features"], out["disguise_features"])
        self.last_hsic = hsic.detach()
        losses = {
            "ce_true": F.cross_entropy(out["true_logits"], batch["y"], weight=self.ce_weights),
            "ce_disguise": float(m.disguise_weight) * F.cross_entropy(out["disguise_logits"], batch["y_disguise"]),
        }
        if float(m.hsic.weight) > 0:
            losses["hsic"] = float(m.hsic.weight) * hsic
        return {"scores": out["true_logits"], "scores_disguise": out["disguise_logits"]}, losses

    def shared_step(self, batch, stage: str) -> torch.Tensor:
        loss = super().shared_step(batch, stage)
        self.log(f"{stage}/hsic_unweighted", self.last_hsic, on_epoch=True, on_step=False, batch_size=len(batch["y"]))
        return loss
