"""A linear SVM as a torch layer: the classifier of the LBP-TOP style baselines (lbptop_svm, lbp_sdg).

The papers train scikit-learn's / liblinear's ``LinearSVC`` with its defaults: one-vs-rest, squared hinge loss,
L2 penalty. For a weight matrix ``W`` (C x D), intercepts ``b`` and samples ``(x_i, y_i)`` that objective is

    0.5 * ||W||^2  +  C_svm * sum_i sum_c max(0, 1 - t_ic (W_c x_i + b_c))^2,    t_ic = +1 if y_i = c else -1

which :func:`svm_objective` computes and a full-batch L-BFGS minimises (the objective is convex and smooth, so
full batch L-BFGS reaches the same optimum as liblinear's coordinate descent). liblinear also penalises the
intercept (it is a weight on a constant feature of value ``intercept_scaling`` = 1); ``penalize_bias=True``
reproduces that exactly, the default ``False`` is the textbook SVM. Class scores are the decision values
``W x + b``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


class LinearSVMHead(nn.Module):
    """Decision values ``W x + b`` of a one-vs-rest linear SVM, ``(B, D) -> (B, C)``."""

    def __init__(self, in_features: int, n_classes: int):
        super().__init__()
        self.linear = nn.Linear(in_features, n_classes)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    def penalty(self, penalize_bias: bool = False) -> torch.Tensor:
        """``0.5 * ||W||^2`` (plus ``0.5 * ||b||^2`` when ``penalize_bias``), the L2 term of the SVM objective."""
        total = self.linear.weight.pow(2).sum()
        if penalize_bias:
            total = total + self.linear.bias.pow(2).sum()
        return 0.5 * total


def squared_hinge_loss(scores: torch.Tensor, y: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """One-vs-rest squared hinge: ``sum_c max(0, 1 - t_c * s_c)^2`` per sample, ``t_c = +1`` for the true class.

    ``scores`` ``(B, C)`` decision values, ``y`` ``(B,)`` class indices. ``reduction``: ``"sum"`` over samples
    (LinearSVC's data term), ``"mean"`` or ``"none"`` (per-sample values).
    """
    targets = 2.0 * F.one_hot(y, scores.shape[1]).to(scores.dtype) - 1.0
    per_sample = torch.clamp(1.0 - targets * scores, min=0.0).pow(2).sum(dim=1)
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "none":
        return per_sample
    raise ValueError(f"reduction must be sum, mean or none, got {reduction!r}")


def svm_objective(
    head: LinearSVMHead, x: torch.Tensor, y: torch.Tensor, c: float = 1.0, penalize_bias: bool = False
) -> torch.Tensor:
    """LinearSVC's primal objective on ``(x, y)``: ``penalty + c * sum of squared hinges``."""
    return head.penalty(penalize_bias) + c * squared_hinge_loss(head(x), y, reduction="sum")


def fit_dual_squared_hinge(gram: np.ndarray, y: np.ndarray, n_classes: int, c: float = 1.0) -> np.ndarray:
    """LinearSVC's exact optimum (one-vs-rest, squared hinge, L2, intercept as a penalised constant feature of
    value 1, as liblinear) from the training Gram matrix ``gram = X X^T`` (n x n), for n << D.

    Per class the dual is ``min_a 0.5 a^T H a - 1^T a`` over ``a >= 0`` with ``H = T (K + 1) T + I / (2c)``
    (T = diag of the +-1 targets), a strictly convex QP; with the Cholesky factor ``H = L L^T`` it is the
    non-negative least-squares problem ``min ||L^T a - L^{-1} 1||``, which Lawson-Hanson's active-set method
    (``scipy.optimize.nnls``) solves exactly. Returns the dual coefficients ``a_i t_i`` as an (n, C) matrix:
    decision values are ``(X_new X^T + 1) @ coef``, the weights ``X^T coef`` and the intercepts ``coef.sum(0)``.
    Tested against scikit-learn's LinearSVC (tests/test_svm.py).
    """
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import nnls

    kernel = np.asarray(gram, dtype=np.float64) + 1.0
    coef = np.zeros((len(kernel), n_classes))
    for cls in range(n_classes):
        t = np.where(np.asarray(y) == cls, 1.0, -1.0)
        hessian = t[:, None] * kernel * t[None, :] + np.eye(len(t)) / (2.0 * c)
        lower = cholesky(hessian, lower=True)
        alpha, _ = nnls(lower.T, solve_triangular(lower, np.ones(len(t)), lower=True), maxiter=50 * len(t))
        coef[:, cls] = alpha * t
    return coef
