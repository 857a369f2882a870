"""The shared LightningModule skeleton of the fold tasks (the lightning-hydra-template habit).

A method declares how it reads its `model` block in ``model_block`` (lightning_modules/layers/config.py: the
network built from it, typed by the network's signature, and the keys the module reads itself), builds its plain
`nn.Module` network in `__init__` with ``self.model_block.build(cfg, **data-derived arguments)`` and implements
`compute(batch) -> (outputs, losses)`: `outputs` are the network's heads (class logits under ``scores``, AU logits
under ``au_logits``, ...), `losses` a dict of named scalar terms already weighted. One `shared_step` serves
train/val/test: it sums the losses, logs every term under `<stage>/...` and updates the stage's torchmetrics.

- :class:`ClassifierModule` (mer, masked, gesture): logs `<stage>/accuracy`, `<stage>/uf1` (macro F1) and
  `<stage>/uar` (macro recall) per epoch; `predict_step` returns softmax scores.
- :class:`MultilabelAUModule` (au): logs `<stage>/au_f1` (macro multilabel F1 at ``model.au_threshold``).

What the modules log is for the curves of a run; the numbers a report shows come from core/metrics.py on predictions
pooled over every fold (tests/test_metrics.py holds the two to the same values on pooled predictions). Epochs and
steps come from ``self.trainer``; the optimiser from lightning_modules/layers/optim.py.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassF1Score, MulticlassRecall, MultilabelF1Score

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.optim import build_optimizer, trainer_epochs

STAGES = ("train", "val", "test")


class SharedStepModule(pl.LightningModule):
    """One step for train/val/test: losses summed and logged, the stage's metrics updated."""

    model_block = ModelBlock()  # how the method reads its `model` block; by default it reads none of it

    def __init__(self, cfg, info):
        super().__init__()
        self.cfg = cfg
        self.info = info
        self.model_block.check(cfg)  # a `model` key nothing reads is a typo: refused before any work
        # one collection per stage (a torchmetrics object accumulates one stage's epoch); attribute names, not a
        # ModuleDict: "train" is an nn.Module method and cannot be a key
        for stage in STAGES:
            setattr(self, f"{stage}_metrics", self.build_metrics(stage))

    def build_metrics(self, stage: str) -> MetricCollection | None:
        return None

    def compute(self, batch: dict) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        raise NotImplementedError

    def update_metrics(self, metrics: MetricCollection, outputs: dict, batch: dict, stage: str) -> None:
        raise NotImplementedError

    def batch_size(self, batch: dict) -> int:
        return len(batch["y"])

    def shared_step(self, batch: dict, stage: str) -> torch.Tensor:
        outputs, losses = self.compute(batch)
        loss = torch.stack(list(losses.values())).sum()
        size = self.batch_size(batch)
        for name, value in losses.items():
            self.log(f"{stage}/{name}", value.detach(), on_epoch=True, on_step=False, batch_size=size)
        self.log(f"{stage}/loss", loss.detach(), on_epoch=True, on_step=False, prog_bar=True, batch_size=size)
        metrics = getattr(self, f"{stage}_metrics")
        if metrics is not None:
            self.update_metrics(metrics, outputs, batch, stage)
            for name, metric in metrics.items():
                self.log(f"{stage}/{name}", metric, on_epoch=True, on_step=False, batch_size=size)
        return loss

    def training_step(self, batch, batch_idx):
        return self.shared_step(batch, "train")

    def validation_step(self, batch, batch_idx):
        return self.shared_step(batch, "val")

    def test_step(self, batch, batch_idx):
        return self.shared_step(batch, "test")

    def configure_optimizers(self):
        return build_optimizer(self.parameters(), self.cfg.optim, trainer_epochs(self))


class ClassifierModule(SharedStepModule):
    """Class logits under ``outputs["scores"]``; UF1 = macro F1, UAR = macro recall (torchmetrics) per epoch."""

    def build_metrics(self, stage: str) -> MetricCollection:
        n = int(self.info.n_classes)
        return MetricCollection({"uf1": MulticlassF1Score(n, average="macro"),
                                 "uar": MulticlassRecall(n, average="macro")})

    def update_metrics(self, metrics: MetricCollection, outputs: dict, batch: dict, stage: str) -> None:
        predicted = outputs["scores"].detach().argmax(1)
        metrics.update(predicted, batch["y"])
        self.log(f"{stage}/accuracy", (predicted == batch["y"]).float().mean(), on_epoch=True, on_step=False,
                 batch_size=self.batch_size(batch))

    def predict_step(self, batch, batch_idx):
        outputs, _ = self.compute(batch)
        return {k: v.softmax(-1) if k.startswith("scores") else v for k, v in outputs.items()}


class MultilabelAUModule(SharedStepModule):
    """AU logits under ``outputs["au_logits"]``; macro multilabel F1 at ``model.au_threshold`` per epoch."""

    def build_metrics(self, stage: str) -> MetricCollection:
        n = len(self.info.au_names)
        return MetricCollection({"au_f1": MultilabelF1Score(max(n, 1), average="macro",
                                                            threshold=float(self.cfg.model.get("au_threshold", 0.5)))})

    def batch_size(self, batch: dict) -> int:
        return len(batch["aus"])

    def update_metrics(self, metrics: MetricCollection, outputs: dict, batch: dict, stage: str) -> None:
        metrics.update(outputs["au_logits"].detach().sigmoid(), batch["aus"].int())
