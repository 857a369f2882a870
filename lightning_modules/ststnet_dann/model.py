"""The fit function of STSTNet + DANN for the transductive cross-database loop (experiments/tasks/cross_database.py):
rows of the problem are the flattened (3, 28, 28) onset->apex images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.domain_losses import DomainDiscriminator, dann_coefficient
from lightning_modules.ststnet.network import STSTNet


@dataclass
class STSTNetDANN:
    epochs: int = 30
    lr: float = 5e-3
    batch_size: int = 32
    domain_weight: float = 1.0
    hidden: int = 64
    gamma: float = 10.0
    seed: int = 0

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
        generator = np.random.default_rng(int(self.seed))
        source, target = self._images(xs), self._images(xt)
        labels = torch.as_tensor(np.asarray(ys), dtype=torch.long)
        self.net = STSTNet(n_classes)
        self.discriminator = DomainDiscriminator(self.net.classifier.in_features, hidden=int(self.hidden))
        optimiser = torch.optim.Adam([*self.net.parameters(), *self.discriminator.parameters()], lr=float(self.lr))
        loss = nn.CrossEntropyLoss()
        steps_per_epoch = max(1, int(np.ceil(len(source) / self.batch_size)))
        total, step = int(self.epochs) * steps_per_epoch, 0
        self.history: list[tuple[float, float]] = []
        for _ in range(int(self.epochs)):
            order = generator.permutation(len(source))
            for start in range(0, len(source), int(self.batch_size)):
                rows = order[start:start + int(self.batch_size)]
                trows = generator.integers(0, len(target), len(rows))
                coefficient = dann_coefficient(step / max(total - 1, 1), self.gamma)
                features = self._features(torch.cat([source[rows], target[trows]]))
                class_loss = loss(self.net.classifier(features[: len(rows)]), labels[rows])
                domains = torch.cat([torch.zeros(len(rows)), torch.ones(len(rows))]).long()
                domain_loss = loss(self.discriminator(features, coefficient), domains)
                optimiser.zero_grad()
                (class_loss + float(self.domain_weight) * domain_loss).backward()
                optimiser.step()
                self.history.append((class_loss.item(), domain_loss.item()))
                step += 1
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
