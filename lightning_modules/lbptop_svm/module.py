"""A linear SVM over hand-crafted features, trained inside Lightning (the LBP-TOP baseline; LBP-SDG reuses it).

The objective is LinearSVC's (one-vs-rest squared hinge + L2, lightning_modules/layers/svm.py), minimised over
the whole training set with L-BFGS: one training step per epoch on one full batch, so a few epochs of
`lbfgs_iterations` reach the optimum. Choices (knobs): `c` (LinearSVC's C, default 1), `class_weight`
(none | balanced, weighting each sample by n / (C * n_class) computed on the fold's training samples),
`standardize` (z-score features with training-fold statistics, on by default: the LBP-TOP histogram bins
differ in scale by orders of magnitude, and without it the rare-pattern bins barely count; on the CASME II
stand-in LOSO UF1 0.225 -> 0.390),
`lbfgs_history` (curvature pairs L-BFGS keeps: 10, SciPy's default; torch's 100 makes each iteration's two-loop
recursion 10x dearer on 30k-dimensional LBP-SDG features for no gain on a convex quadratic-like objective).
"""

from __future__ import annotations

import torch

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.svm import LinearSVMHead, squared_hinge_loss


class LinearSVMModule(ClassifierModule):
    #: batch keys concatenated (flattened) into the feature vector; subclasses choose theirs
    feature_keys: tuple[str, ...] = ("lbptop",)

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.automatic_optimization = False
        dim = sum(int(torch.tensor(info.input_shapes[k]).prod()) for k in self.feature_keys)
        self.head = LinearSVMHead(dim, info.n_classes)
        counts = torch.tensor(info.class_counts, dtype=torch.float32).clamp(min=1)
        balanced = cfg.model.class_weight == "balanced"
        weights = counts.sum() / (len(counts) * counts) if balanced else torch.ones_like(counts)
        self.register_buffer("class_weights", weights)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def raw_features(self, batch: dict) -> torch.Tensor:
        """The feature vector before standardisation; subclasses may select or transform parts of it."""
        return torch.cat([batch[k].flatten(1) for k in self.feature_keys], dim=1)

    def features(self, batch: dict) -> torch.Tensor:
        return (self.raw_features(batch) - self.mean) / self.std

    def on_train_start(self) -> None:
        """Training-fold feature statistics for ``standardize`` (the loader the fit uses, datamodule or not)."""
        if not self.cfg.model.standardize:
            return
        x = torch.cat([self.raw_features(b) for b in self.trainer.train_dataloader])
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp(min=1e-6))

    def compute(self, batch):
        return self._objective(self.features(batch), batch["y"])

    def _objective(self, x: torch.Tensor, y: torch.Tensor):
        scores = self.head(x)
        hinge = (squared_hinge_loss(scores, y, reduction="none") * self.class_weights[y]).sum()
        return {"scores": scores}, {"svm": self.head.penalty() + float(self.cfg.model.c) * hinge}

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        x = self.features(batch).detach()  # fixed for the whole L-BFGS run: built once, not per evaluation

        def closure():
            optimizer.zero_grad()
            _, losses = self._objective(x, batch["y"])
            self.manual_backward(losses["svm"])
            return losses["svm"]

        optimizer.step(closure=closure)
        return self.shared_step(batch, "train")

    def predict_step(self, batch, batch_idx):
        return {"scores": self.head(self.features(batch))}

    def configure_optimizers(self):
        return torch.optim.LBFGS(self.head.parameters(), lr=1.0, max_iter=int(self.cfg.model.lbfgs_iterations),
                                 history_size=int(self.cfg.model.lbfgs_history), line_search_fn="strong_wolfe")
