"""LightningModule of LTR3O: cross-entropy on the expressiveness-weighted clip feature plus a learning-to-rank
calibration of the candidates' expressiveness.

The paper calibrates the candidates' expressiveness so that its distribution over time matches macro-expressions
(MaMs), learnt from MaM data. No macro-expression database is available to this suite, and the stand-in generator
makes micro-expressions only. What stands in (``model.calibration``, a documented knob):

- ``profile`` (default): the a-priori temporal profile of an expression, which macro-expressions show plainly:
  intensity rises from onset to apex and falls back to offset. The target expressiveness of an occurring frame at
  position t is a triangle peaking at the clip's apex (``apex_prior: label``: the annotated apex, mapped into the
  onset -> offset frames) or at the middle (``apex_prior: middle``, no apex annotation used). A pairwise RankNet
  loss (logistic on score differences) orders every pair of candidates of a sample whose targets differ by more
  than ``rank_margin``.
- ``none``: no calibration; the scores are learnt by the classification loss alone (the without-LTR ablation).

The module reads ``apex_position`` (0..1, the apex's place between onset and offset) when the batch carries it;
this suite's datamodule does not put it in batches, so ``apex_prior: label`` falls back to ``middle`` and says so
once in the log (the stand-in's apex sits near the middle of onset->offset by construction).
"""

from __future__ import annotations

import logging

import torch
from torch.nn import functional as F

from core.errors import ConfigError
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.ltr3o.network import LTR3O
from lightning_modules.masked_decoupling.module import balanced_class_weights

log = logging.getLogger(__name__)
CALIBRATIONS = ("profile", "none")


def profile_targets(positions: torch.Tensor, n_frames: int, apex: torch.Tensor) -> torch.Tensor:
    """Triangle expressiveness in [0, 1] of occurring positions (B, K), peak at apex (B,) in 0..1."""
    t = positions.float() / (n_frames - 1)
    a = apex.float().clamp(1e-3, 1 - 1e-3)[:, None]
    return torch.where(t <= a, t / a, (1 - t) / (1 - a))


def pairwise_rank_loss(scores: torch.Tensor, targets: torch.Tensor, margin: float = 0.05) -> torch.Tensor:
    """RankNet: mean over ordered pairs (i, j) of a sample with target_i > target_j + margin of softplus(s_j - s_i)."""
    diff_t = targets[:, :, None] - targets[:, None, :]
    pairs = (diff_t > margin).float()
    loss = F.softplus(scores[:, None, :] - scores[:, :, None])       # (i, j): s_j - s_i
    return (loss * pairs).sum() / pairs.sum().clamp_min(1.0)


class LTR3OModule(ClassifierModule):
    model_block = ModelBlock(LTR3O, knobs=("calibration", "rank_weight", "rank_margin", "apex_prior",
                                           "class_weight"))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        m = cfg.model
        if str(m.calibration) not in CALIBRATIONS:
            raise ConfigError(f"model.calibration must be one of {CALIBRATIONS}, got {m.calibration!r}")
        if str(m.apex_prior) not in ("label", "middle"):
            raise ConfigError(f"model.apex_prior must be label or middle, got {m.apex_prior!r}")
        if str(cfg.data.span) != "onset_offset":
            raise ConfigError(f"LTR3O's 3O structure needs the clip from onset to offset: data.span must be "
                              f"onset_offset, got {cfg.data.span!r}")
        self.net = self.model_block.build(cfg, n_classes=info.n_classes)
        self.register_buffer("ce_weights", balanced_class_weights(info.class_counts, info.n_classes,
                                                                  str(m.class_weight)))
        self._warned = False

    def compute(self, batch):
        m = self.cfg.model
        frames = batch["frames"]
        out = self.net(frames)
        losses = {"ce": F.cross_entropy(out["logits"], batch["y"], weight=self.ce_weights)}
        if str(m.calibration) == "profile" and float(m.rank_weight) > 0:
            apex = batch.get("apex_position") if str(m.apex_prior) == "label" else None
            if apex is None:
                if str(m.apex_prior) == "label" and not self._warned:
                    log.info("ltr3o: the batch carries no apex_position; the expressiveness profile peaks at the "
                             "middle of onset->offset")
                    self._warned = True
                apex = torch.full((len(frames),), 0.5, device=frames.device)
            targets = profile_targets(out["positions"].to(frames.device), frames.shape[1], apex)
            losses["rank"] = float(m.rank_weight) * pairwise_rank_loss(out["expressiveness"], targets,
                                                                       float(m.rank_margin))
        return {"scores": out["logits"]}, losses
