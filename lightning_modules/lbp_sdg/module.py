"""LightningModule of LBP-SDG (Wei, Lu, Yan, arXiv 2102.08068).

Faithful to the abstract: the clip is Euler-magnified (the ``magnify`` stage), LBP-TOP and the Histogram of
Single Direction Gradient (HSDG) are computed on it (the ``features`` stage, preprocessing/lbptop.py and
preprocessing/hsdg.py), the HSDG of ONE direction is concatenated after LBP-TOP, and a linear SVM classifies
(LOSO). The SVM is :class:`~lightning_modules.lbptop_svm.module.LinearSVMModule` (LinearSVC's exact optimum,
lightning_modules/layers/svm.py) with the same ``c``, ``class_weight`` and ``standardize`` knobs.

Directions (``model.directions``, lightning_modules/lbp_sdg/directions.py):

- ``best`` (default, the paper's protocol): the abstract compares the directions one at a time and reports the
  optimal one. Here the optimal direction is chosen in every fold from ``model.candidates`` (default: the 9
  distinct directions) WITHOUT the test subject: the fold's training subjects are split into
  ``model.inner_folds`` subject-disjoint folds, LBP-TOP + HSDG(d) is scored by the pooled inner UF1 of each
  candidate d, and the SVM is refitted on the whole training fold with the best one (ties: the first candidate).
  Standardisation statistics come from the whole training fold (never the test subject). The Gram matrix of
  standardised, concatenated features is the sum of the blocks' Gram matrices, so every candidate costs one
  small kernel solve per inner fold, not a pass over the features. ``interpretation()`` reports, per fold,
  which direction won and every candidate's inner UF1; the report shows how often each direction was chosen.
- ``all`` (the labelled variant ``lbp_sdg-all``): the 9 distinct directions concatenated; ``all18`` every step;
  a family or names: those directions concatenated (``lbp_sdg-<family>`` experiments).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from omegaconf import OmegaConf

from core.errors import ConfigError
from core.metrics import uf1
from datamodules.protocols import subject_kfold
from lightning_modules.layers.config import ModelBlock
from lightning_modules.lbp_sdg.directions import resolve_directions, select_directions
from lightning_modules.lbptop_svm.module import SVM_KNOBS, LinearSVMModule
from preprocessing.hsdg import DIRECTIONS


def _as_list(spec) -> list:
    """A list from a config list, or one item from a CLI/grid override (model.directions=t+)."""
    spec = OmegaConf.to_container(spec) if OmegaConf.is_config(spec) else spec
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


class LBPSDGModule(LinearSVMModule):
    feature_keys = ("lbptop", "hsdg")
    model_block = ModelBlock(knobs=(*SVM_KNOBS, "directions", "candidates", "inner_folds"))

    def __init__(self, cfg, info):
        n_directions, *histogram = info.input_shapes["hsdg"]
        spec = _as_list(cfg.model.directions)
        self.select_best = spec == ["best"]
        if "best" in spec and not self.select_best:
            raise ConfigError(f"model.directions={spec}: `best` chooses one direction and cannot be combined")
        directions = resolve_directions(_as_list(cfg.model.candidates) if self.select_best else spec, n_directions)
        shapes = {**info.input_shapes, "hsdg": (len(directions), *histogram)}
        super().__init__(cfg, replace(info, input_shapes=shapes))
        self.register_buffer("directions", torch.tensor(directions, dtype=torch.long))
        self.histogram_dim = int(np.prod(histogram))
        self.lbptop_dim = int(np.prod(info.input_shapes["lbptop"]))
        self.choice: dict[str, np.ndarray] | None = None

    def raw_features(self, batch: dict) -> torch.Tensor:
        return torch.cat([batch["lbptop"].flatten(1), select_directions(batch["hsdg"], self.directions)], dim=1)

    def fit_standardized(self, x: torch.Tensor, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.select_best:
            return super().fit_standardized(x, batch)
        blocks = self._direction_blocks(x)
        lbptop_gram = x[:, :self.lbptop_dim] @ x[:, :self.lbptop_dim].T
        grams = [lbptop_gram + block @ block.T for block in blocks]
        scores = self._inner_scores(grams, batch)
        best = int(np.argmax(scores))  # the first of equal scores
        coef = self.dual_coefficients(grams[best], batch["y"])
        weight = torch.zeros(self.info.n_classes, x.shape[1], dtype=x.dtype)
        weight[:, :self.lbptop_dim] = (x[:, :self.lbptop_dim].T @ coef).T
        start = self.lbptop_dim + best * self.histogram_dim
        weight[:, start:start + self.histogram_dim] = (blocks[best].T @ coef).T
        self.choice = {"chosen_direction": np.eye(len(blocks))[best], "inner_uf1": np.asarray(scores),
                       "direction_names": [DIRECTIONS[i] for i in self.directions.tolist()]}
        return weight, coef.sum(0)

    def _direction_blocks(self, x: torch.Tensor) -> list[torch.Tensor]:
        start = self.lbptop_dim
        return [x[:, start + k * self.histogram_dim:start + (k + 1) * self.histogram_dim]
                for k in range(len(self.directions))]

    def _inner_scores(self, grams: list[torch.Tensor], batch: dict) -> list[float]:
        """Pooled UF1 of each candidate over subject-disjoint inner folds of the training subjects."""
        groups = pd.DataFrame({"sample_id": range(len(batch["group"])), "group": batch["group"]})
        n_folds = min(int(self.cfg.model.inner_folds), groups["group"].nunique())
        if n_folds < 2:
            raise ConfigError("model.directions=best needs at least 2 training subjects for its inner validation")
        folds = subject_kfold(groups, n_folds, group=("group",))
        y = batch["y"]
        scores = []
        for gram in grams:
            predicted = torch.empty_like(y)
            for fold in folds:
                train, held = torch.tensor(fold.train), torch.tensor(fold.test)
                coef = self.dual_coefficients(gram[train][:, train], y[train])
                predicted[held] = ((gram[held][:, train] + 1.0) @ coef).argmax(1)
            scores.append(uf1(y.numpy(), predicted.numpy(), self.info.n_classes))
        return scores

    def interpretation(self) -> dict | None:
        """Per fold: the direction chosen (one-hot over the candidates), each candidate's inner UF1, their names."""
        return self.choice
