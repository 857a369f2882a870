"""The fit function of STSTNet + DANN for the transductive cross-database loop (experiments/tasks/cross_database.py):
rows of the problem are the flattened (3, 28, 28) onset->apex images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.dann import DANNSchedule, train_domain_adversarial
from lightning_modules.ststnet.network import STSTNet


@dataclass
class STSTNetDANN(DANNSchedule):
    """STSTNet on flattened (3, s, s) images, trained by the shared DANN loop (lightning_modules/layers/dann.py)."""

    def _images(self, x: np.ndarray) -> torch.Tensor:
        if x.shape[1] % 3:
            raise ValueError(f"ststnet_dann expects rows of flattened (3, s, s) images, got dimension {x.shape[1]}")
        side = int(round(np.sqrt(x.shape[1] / 3)))
        if 3 * side * side != x.shape[1]:
            raise ValueError(f"ststnet_dann: dimension {x.shape[1]} is not 3 x s x s")
        return torch.as_tensor(x, dtype=torch.float32).reshape(len(x), 3, side, side)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        maps = torch.cat([stream(x) for stream in self.net.streams], dim=1)
        return self.net.pool(maps).flatten(1)

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, n_classes: int) -> STSTNetDANN:
        torch.manual_seed(int(self.seed))
        source, target = self._images(xs), self._images(xt)
        labels = torch.as_tensor(np.asarray(ys), dtype=torch.long)
        self.net = STSTNet(n_classes)
        self.discriminator, self.history = train_domain_adversarial(
            self._features, self.net.classifier, [{"params": self.net.parameters()}],
            self.net.classifier.in_features, source, labels, target, self)
        self.target_scores = self.source_scores(xt)
        return self

    @torch.no_grad()
    def source_scores(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        return self.net(self._images(x)).numpy().astype(np.float64)


def fit_ststnet_dann(problem, params: dict, **knobs) -> STSTNetDANN:
    torch.set_num_threads(1)
    return STSTNetDANN(**{**knobs, **params}).fit(problem.xs, problem.ys, problem.xt, problem.n_classes)


fit_ststnet_dann.model_block = ModelBlock(network=STSTNetDANN)
