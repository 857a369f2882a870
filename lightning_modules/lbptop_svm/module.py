"""A linear SVM over hand-crafted features, trained inside Lightning (the LBP-TOP baseline; LBP-SDG reuses it).

The classifier is scikit-learn's ``LinearSVC`` with its defaults (one-vs-rest, squared hinge, L2, C=1, the
intercept penalised as liblinear does), the classifier of the MEGC2019 LBP-TOP baseline. The fit is exact and
takes one training step on the whole training fold: the fold's Gram matrix, then the dual problem per class
(lightning_modules/layers/svm.py:fit_dual_squared_hinge, held to LinearSVC by tests/test_svm.py); the weights are
written into the linear head, so prediction, checkpoints and the shared step are those of any classifier.
On the composite stand-in (444 clips, 11,328-dimensional LBP-TOP) a fold takes about 0.4 s. With z-scoring off
(the default) the decision is the SVM's on the raw histograms, as the MEGC2019 baseline's.

Knobs: ``c`` (LinearSVC's C), ``class_weight`` (none | balanced: in class k's one-vs-rest problem the C of
class k's samples is multiplied by n / (C * n_k) of the fold's training samples, as liblinear does for
scikit-learn's ``class_weight="balanced"``), ``standardize``
(z-score every feature with training-fold statistics; how that default was chosen is in the method's
``defaults_chosen`` note).
"""

from __future__ import annotations

import torch

from core.errors import ConfigError
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.svm import LinearSVMHead, fit_dual_squared_hinge

SVM_KNOBS = ("c", "class_weight", "standardize")  # no network is built from them: the head's size is the data's


class LinearSVMModule(ClassifierModule):
    #: batch keys concatenated (flattened) into the feature vector; subclasses choose theirs
    feature_keys: tuple[str, ...] = ("lbptop",)
    model_block = ModelBlock(knobs=SVM_KNOBS)

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

    def compute(self, batch):
        x, y = self.features(batch), batch["y"]
        scores = self.head(x)
        # liblinear's one-vs-rest weighting: in class k's problem only class k's samples carry weight k
        one_hot = torch.nn.functional.one_hot(y, scores.shape[1]).to(scores.dtype)
        weight = 1.0 + one_hot * (self.class_weights - 1.0)
        targets = 2.0 * one_hot - 1.0
        hinge = (weight * torch.clamp(1.0 - targets * scores, min=0.0).pow(2)).sum()
        return {"scores": scores}, {"svm": self.head.penalty() + float(self.cfg.model.c) * hinge}

    def on_fit_start(self) -> None:
        epochs = self.trainer.max_epochs
        if epochs != 1:  # every further epoch would repeat the same exact fit
            raise ConfigError(f"trainer.max_epochs={epochs}: the linear SVM's fit is exact and takes one step on the "
                              "whole training fold; set trainer.max_epochs=1 (a profile that sets epochs for every "
                              "method needs a `profiles:` entry in this method's defaults)")

    def training_step(self, batch, batch_idx):
        """The exact fit on the whole training fold (one batch), then the shared step's logging."""
        if batch_idx > 0:
            raise ConfigError("the linear SVM fits on the whole training fold at once: set data.batch_size to at "
                              f"least the number of training samples (got more than one batch of {len(batch['y'])})")
        raw = self.raw_features(batch).double()
        if self.cfg.model.standardize:
            self.mean.copy_(raw.mean(0).float())
            self.std.copy_(raw.std(0).clamp(min=1e-6).float())
        x = (raw - self.mean.double()) / self.std.double()
        weight, bias = self.fit_standardized(x, batch)
        with torch.no_grad():
            self.head.linear.weight.copy_(weight.float())
            self.head.linear.bias.copy_(bias.float())
        return self.shared_step(batch, "train")

    def fit_standardized(self, x: torch.Tensor, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """The SVM's (C, D) weights and (C,) intercepts on the fold's standardised features ``x`` (float64)."""
        coef = self.dual_coefficients(x @ x.T, batch["y"])
        return (x.T @ coef).T, coef.sum(0)

    def dual_coefficients(self, gram: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(fit_dual_squared_hinge(gram.numpy(), y.numpy(), self.info.n_classes,
                                                       float(self.cfg.model.c), self.class_weights.numpy()))

    def predict_step(self, batch, batch_idx):
        return {"scores": self.head(self.features(batch))}

    def configure_optimizers(self):
        return None  # fitted in closed form (training_step)
