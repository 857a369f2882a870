"""The FG-SGL LightningModule: the network of network.py trained with the losses of losses.py.

The package docstring (lightning_modules/fgsgl/__init__.py) states every loss, the schedule and the score.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from core.errors import ConfigError
from core.text import build_text_encoder
from datamodules.text import DIMENSIONS, class_texts
from lightning_modules.fgsgl import losses as L
from lightning_modules.fgsgl.network import FGSGLNetwork
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import TEXT_ENCODER, ModelBlock
from lightning_modules.layers.optim import trainer_epochs
from lightning_modules.layers.skeleton import SKELETON_ENCODER, skeleton_encoder_from_config

SCORE_LEVELS = ("linear", "category", "fine")


class FGSGLModule(ClassifierModule):
    model_block = ModelBlock(
        FGSGLNetwork,
        knobs=("label_smoothing", "ce_weight", "score_levels",
               "cpa.enabled", "cpa.weight", "cpa.temperature", "cpa.symmetric", "cpa.template",
               "fgsa.enabled", "fgsa.weight", "fgsa.temperature", "fgsa.target_temperature",
               "schedule.kind", "schedule.fine_start", "schedule.fine_full"),
        blocks={"encoder": SKELETON_ENCODER, "text_encoder": TEXT_ENCODER},
    )

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        m = cfg.model
        self.use_fgsa, self.use_cpa = bool(m.fgsa.enabled), bool(m.cpa.enabled)
        self.score_levels = [level for level in m.score_levels if self._level_active(str(level))]
        if not self.score_levels:
            raise ConfigError(f"model.score_levels {list(m.score_levels)} leaves no active level; "
                              f"choose from {SCORE_LEVELS} (fine needs fgsa, category needs cpa)")

        texts = class_texts(str(info.extra["text_set"]), list(info.class_names))
        encoder = build_text_encoder(OmegaConf.to_container(m.text_encoder, resolve=True))
        self.text_source = encoder.describe()
        category = encoder.encode([str(m.cpa.template).format(t.category) for t in texts])
        fine = encoder.encode([sentence for t in texts for sentence in t.fine]).view(len(texts), len(DIMENSIONS), -1)
        self.register_buffer("category_text", category.float())
        self.register_buffer("fine_text", fine.float())

        layout = info.extra["skeleton_layout"]
        self.network = self.model_block.build(
            cfg, encoder=skeleton_encoder_from_config(cfg, info), n_classes=info.n_classes, text_dim=encoder.dim,
            body_parts=layout.body_parts, n_dimensions=len(DIMENSIONS),
        )
        targets = L.fine_grained_targets(self.fine_text, torch.arange(info.n_classes),
                                         float(m.fgsa.target_temperature))
        self.register_buffer("fine_targets", targets)  # (K, D, K): row y = the targets of a sample of class y
        self._attention_sum = None

    def _level_active(self, level: str) -> bool:
        if level not in SCORE_LEVELS:
            raise ConfigError(f"unknown score level {level!r}; expected some of {SCORE_LEVELS}")
        return level == "linear" or (level == "category" and self.use_cpa) or (level == "fine" and self.use_fgsa)

    def level_logits(self, out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        m = self.cfg.model
        levels = {"linear": out["logits"]}
        if self.use_cpa:
            prototypes = self.network.prototypes(self.category_text)
            levels["category"] = out["global"] @ prototypes.T / float(m.cpa.temperature)
        if self.use_fgsa:
            levels["fine"] = L.fine_grained_logits(out["local"], self.fine_text, float(m.fgsa.temperature)).mean(1)
        return levels

    def compute(self, batch: dict) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        m = self.cfg.model
        out = self.network(batch["skeleton"])
        y = batch["y"]
        levels = self.level_logits(out)
        ce = F.cross_entropy(out["logits"], y, label_smoothing=float(m.label_smoothing))
        losses = {"ce": float(m.ce_weight) * ce}
        if self.use_cpa:
            prototypes = self.network.prototypes(self.category_text)
            losses["cpa"] = float(m.cpa.weight) * L.category_alignment_loss(
                out["global"], prototypes, y, float(m.cpa.temperature), bool(m.cpa.symmetric))
        if self.use_fgsa:
            # the Trainer's epochs; outside a Trainer (a test calling compute) the epoch is 0, whose weight is the
            # same for any positive span
            weight = L.fine_weight(self.current_epoch, trainer_epochs(self) or 1, str(m.schedule.kind),
                                   float(m.schedule.fine_start), float(m.schedule.fine_full))
            fgsa = L.fine_grained_alignment_loss(out["local"], self.fine_text, self.fine_targets[y],
                                                 float(m.fgsa.temperature))
            losses["fgsa"] = float(m.fgsa.weight) * weight * fgsa
        scores = L.fused_log_scores([levels[name] for name in self.score_levels])
        return {"scores": scores, "attention": out["attention"]}, losses

    def predict_step(self, batch, batch_idx):
        outputs, _ = self.compute(batch)
        attention = outputs["attention"].detach().mean(2).sum(0)  # (D, P): where each dimension looked
        self._attention_sum = attention if self._attention_sum is None else self._attention_sum + attention
        return {"scores": outputs["scores"].softmax(-1)}

    def interpretation(self) -> dict | None:
        """Mean FG-SA attention of each semantic dimension (rows: DIMENSIONS order) over the layout's body parts
        (columns: ``network.part_names``) on the predicted (test) samples; None without FG-SA."""
        if not self.use_fgsa or self._attention_sum is None:
            return None
        attention = self._attention_sum / self._attention_sum.sum(-1, keepdim=True)
        return {"fgsa_part_attention": np.round(attention.cpu().numpy(), 4)}
