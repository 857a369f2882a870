"""The fit function of landmark graph + DANN for the transductive cross-database loop
(experiments/tasks/cross_database.py): rows of the problem are flattened ``(T, 68, 2)`` landmark sequences."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from lightning_modules.geograph.network import GeometricTwoStreamGraphNet
from lightning_modules.layers.config import ModelBlock, build_from_block
from lightning_modules.layers.dann import DANNSchedule, balanced_class_weight, train_domain_adversarial

N_LANDMARKS = 68


@dataclass
class GeoGraphDANN(DANNSchedule):
    """GeometricTwoStreamGraphNet built from ``network`` (geograph's knobs), trained by the shared DANN loop."""

    epochs: int = 15
    weight_decay: float = 1e-4
    semantic_lr_scale: float = 1.0
    class_weight: Literal["none", "balanced"] = "balanced"
    network: dict[str, Any] = field(default_factory=dict)

    def _sequences(self, x: np.ndarray) -> torch.Tensor:
        per_frame = N_LANDMARKS * 2
        if x.shape[1] % per_frame:
            raise ValueError(f"geograph_dann expects rows of flattened (T, {N_LANDMARKS}, 2) landmark sequences, "
                             f"got dimension {x.shape[1]}")
        return torch.as_tensor(x, dtype=torch.float32).reshape(len(x), -1, N_LANDMARKS, 2)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["features"]

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, n_classes: int) -> GeoGraphDANN:
        torch.manual_seed(int(self.seed))
        source, target = self._sequences(xs), self._sequences(xt)
        labels = torch.as_tensor(np.asarray(ys), dtype=torch.long)
        self.net = build_from_block(GeometricTwoStreamGraphNet, dict(self.network), {"n_classes": int(n_classes)},
                                    at="model.network", method="geograph_dann")
        if self.net.fusion != "concat":
            raise ValueError("geograph_dann needs model.network.fusion: concat (one classifier on the fused "
                             "features, which the discriminator also reads)")
        groups = self.net.parameter_groups(self.net.parameters(), float(self.lr) * float(self.semantic_lr_scale))
        weight = balanced_class_weight(ys, n_classes) if self.class_weight == "balanced" else None
        self.net.train()
        self.discriminator, self.history = train_domain_adversarial(
            self._features, self.net.classifier, groups, self.net.feature_dim, source, labels, target, self,
            class_weight=weight)
        self.target_scores = self.source_scores(xt)
        return self

    @torch.no_grad()
    def source_scores(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        return self.net(self._sequences(x))["scores"].numpy().astype(np.float64)


def fit_geograph_dann(problem, params: dict, **knobs) -> GeoGraphDANN:
    torch.set_num_threads(1)
    return GeoGraphDANN(**{**knobs, **params}).fit(problem.xs, problem.ys, problem.xt, problem.n_classes)


fit_geograph_dann.model_block = ModelBlock(network=GeoGraphDANN,
                                           blocks={"network": ModelBlock(network=GeometricTwoStreamGraphNet)})
