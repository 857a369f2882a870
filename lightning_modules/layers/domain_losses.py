"""Deep domain-adaptation pieces shared by every track: gradient reversal, its schedule, and the MMD loss.

The cross-database micro-expression baselines (a network trained on a labelled source database while unlabelled
target clips pull its features together), the EEG transfer methods (TANN's domain discriminators, cross-subject and
cross-dataset DA) and later tracks reuse these three pieces; nothing here knows a dataset.

- :class:`GradientReversal` (Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation", ICML 2015):
  identity forward, gradient multiplied by ``-coefficient`` backward. A domain discriminator placed after it learns
  to tell the domains apart while the feature extractor below it learns to make them indistinguishable.
- :func:`dann_coefficient`: the paper's schedule ``2 / (1 + exp(-gamma p)) - 1`` over training progress
  ``p`` in [0, 1] (gamma = 10 in the paper), so the reversed gradient starts at 0 while the discriminator is random.
- :func:`mmd2`: the squared maximum mean discrepancy between two batches with a sum of Gaussian kernels
  (Gretton et al., JMLR 2012; the multi-kernel sum of Long et al., "Learning Transferable Features with Deep
  Adaptation Networks", ICML 2015, with bandwidths at multiples of a median-distance base). Biased (V-statistic)
  by default, which is never negative and what DAN's code minimises; ``unbiased=True`` drops the diagonal terms.
  The base bandwidth is a statistic of the batch and carries no gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coefficient: float) -> torch.Tensor:
        ctx.coefficient = coefficient
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.coefficient * grad, None


def reverse_gradient(x: torch.Tensor, coefficient: float = 1.0) -> torch.Tensor:
    """Identity on ``x``; the gradient flowing back through it is multiplied by ``-coefficient``."""
    return _ReverseGradient.apply(x, float(coefficient))


class GradientReversal(nn.Module):
    """The gradient-reversal layer as a module; set ``coefficient`` during training (e.g. :func:`dann_coefficient`)."""

    def __init__(self, coefficient: float = 1.0):
        super().__init__()
        self.coefficient = float(coefficient)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return reverse_gradient(x, self.coefficient)

    def extra_repr(self) -> str:
        return f"coefficient={self.coefficient}"


def dann_coefficient(progress: float, gamma: float = 10.0, scale: float = 1.0) -> float:
    """DANN's schedule ``scale * (2 / (1 + exp(-gamma p)) - 1)`` for training progress ``p`` clipped to [0, 1]."""
    p = min(max(float(progress), 0.0), 1.0)
    return scale * (2.0 / (1.0 + math.exp(-gamma * p)) - 1.0)


def _sq_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.cdist(a, b).pow(2)


def mmd2(
    source: torch.Tensor,
    target: torch.Tensor,
    bandwidth_multipliers: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0),
    unbiased: bool = False,
) -> torch.Tensor:
    """Squared MMD between the rows of ``source`` (n, d) and ``target`` (m, d) with a sum of Gaussian kernels.

    Kernel ``sum_k exp(-||x - y||^2 / (2 (c_k sigma)^2))`` for the multipliers ``c_k``, where ``sigma`` is the
    median distance between distinct pooled samples (detached). Needs n, m >= 1 (>= 2 each when ``unbiased``).
    """
    source, target = source.flatten(1), target.flatten(1)
    n, m = len(source), len(target)
    if n < 1 or m < 1 or (unbiased and (n < 2 or m < 2)):
        raise ValueError(f"mmd2 needs samples from both domains (got {n} source and {m} target rows)")
    pooled = torch.cat([source, target])
    d2 = _sq_distances(pooled, pooled)
    off = d2.detach()[~torch.eye(n + m, dtype=torch.bool, device=d2.device)]
    sigma2 = torch.quantile(off, 0.5) if off.numel() else d2.new_tensor(1.0)
    sigma2 = torch.where(sigma2 > 0, sigma2, torch.ones_like(sigma2))
    gram = sum(torch.exp(-d2 / (2 * c * c * sigma2)) for c in bandwidth_multipliers)
    kss, ktt, kst = gram[:n, :n], gram[n:, n:], gram[:n, n:]
    if unbiased:
        within_s = (kss.sum() - kss.diagonal().sum()) / (n * (n - 1))
        within_t = (ktt.sum() - ktt.diagonal().sum()) / (m * (m - 1))
    else:
        within_s, within_t = kss.mean(), ktt.mean()
    return within_s + within_t - 2 * kst.mean()


class DomainDiscriminator(nn.Module):
    """An MLP that predicts the domain of a feature vector behind a gradient-reversal layer (DANN's head).

    ``n_domains`` = 2 for source vs target; more for multi-source settings (e.g. one per EEG subject).
    """

    def __init__(self, in_features: int, hidden: int = 64, n_domains: int = 2, dropout: float = 0.0):
        super().__init__()
        self.reversal = GradientReversal(1.0)
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_domains)
        )

    def forward(self, features: torch.Tensor, coefficient: float | None = None) -> torch.Tensor:
        if coefficient is not None:
            self.reversal.coefficient = float(coefficient)
        return self.net(self.reversal(features))
