"""The domain-adversarial training loop shared by the deep cross-database baselines (STSTNet + DANN, the landmark
graph + DANN): labelled source batches and as many unlabelled target rows per step, one classifier loss on the
source and one domain loss on both behind gradient reversal (Ganin et al., JMLR 2016).

A network enters through two callables, ``encode`` (a batch -> pooled features) and ``classify`` (features ->
class scores), and its parameter groups (so a network with a group at its own learning rate keeps it). Nothing
here knows a dataset or an architecture; the pieces it uses are in domain_losses.py.

Batch order: every epoch permutes the source; each step draws its target rows uniformly with replacement, both
from one ``numpy`` generator seeded with ``seed`` (torch's initialisation is seeded by the caller), so a run is
reproducible from its seed alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lightning_modules.layers.domain_losses import DomainDiscriminator, dann_coefficient


@dataclass
class DANNSchedule:
    """The loop's knobs (each method's YAML sets them; the values here are the STSTNet + DANN choices)."""

    epochs: int = 30
    lr: float = 5e-3
    weight_decay: float = 0.0     # Adam's L2 term on every group
    batch_size: int = 32          # per domain: each step takes this many source rows and as many target rows
    domain_weight: float = 1.0    # 0 = the same network and loop trained on the source alone
    hidden: int = 64              # the discriminator's hidden units
    gamma: float = 10.0           # DANN's schedule 2 / (1 + exp(-gamma p)) - 1 over training progress p
    seed: int = 0


def train_domain_adversarial(
    encode: Callable[[torch.Tensor], torch.Tensor],
    classify: Callable[[torch.Tensor], torch.Tensor],
    groups: Sequence[dict],
    feature_dim: int,
    source: torch.Tensor,
    labels: torch.Tensor,
    target: torch.Tensor,
    schedule: DANNSchedule,
    class_weight: torch.Tensor | None = None,
) -> tuple[DomainDiscriminator, list[tuple[float, float]]]:
    """Train in place; return the discriminator and the (class loss, domain loss) of every step.

    ``groups``: the network's Adam parameter groups (``{"params": ...}``, an ``"lr"`` of their own optional);
    the discriminator joins at ``schedule.lr``. ``class_weight``: cross-entropy weights of the source classes.
    """
    generator = np.random.default_rng(int(schedule.seed))
    discriminator = DomainDiscriminator(int(feature_dim), hidden=int(schedule.hidden))
    optimiser = torch.optim.Adam([*groups, {"params": discriminator.parameters()}], lr=float(schedule.lr),
                                 weight_decay=float(schedule.weight_decay))
    class_loss_fn = nn.CrossEntropyLoss(weight=class_weight)
    domain_loss_fn = nn.CrossEntropyLoss()
    batch = int(schedule.batch_size)
    steps_per_epoch = max(1, int(np.ceil(len(source) / batch)))
    total, step = int(schedule.epochs) * steps_per_epoch, 0
    history: list[tuple[float, float]] = []
    for _ in range(int(schedule.epochs)):
        order = generator.permutation(len(source))
        for start in range(0, len(source), batch):
            rows = order[start:start + batch]
            trows = generator.integers(0, len(target), len(rows))
            coefficient = dann_coefficient(step / max(total - 1, 1), schedule.gamma)
            features = encode(torch.cat([source[rows], target[trows]]))
            class_loss = class_loss_fn(classify(features[: len(rows)]), labels[rows])
            domains = torch.cat([torch.zeros(len(rows)), torch.ones(len(rows))]).long()
            domain_loss = domain_loss_fn(discriminator(features, coefficient), domains)
            optimiser.zero_grad()
            (class_loss + float(schedule.domain_weight) * domain_loss).backward()
            optimiser.step()
            history.append((class_loss.item(), domain_loss.item()))
            step += 1
    return discriminator, history


def balanced_class_weight(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """``n / (C * count_c)`` per class (a class absent from the source gets weight 0: it has no loss term)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=int(n_classes)).astype(np.float64)
    weights = np.divide(len(labels), n_classes * counts, out=np.zeros_like(counts), where=counts > 0)
    return torch.as_tensor(weights, dtype=torch.float32)
