"""A linear SVM as a torch layer: the classifier of the LBP-TOP style baselines (lbptop_svm, lbp_sdg).

The papers train scikit-learn's / liblinear's ``LinearSVC`` with its defaults: one-vs-rest, squared hinge loss,
L2 penalty, the intercept a weight on a constant feature of value 1 (so it is penalised too). For a weight matrix
``W`` (C x D), intercepts ``b`` and samples ``(x_i, y_i)`` that objective is

    0.5 * (||W||^2 + ||b||^2)  +  C_svm * sum_i sum_c max(0, 1 - t_ic (W_c x_i + b_c))^2,   t_ic = +1 if y_i = c else -1

:func:`fit_dual_squared_hinge` finds its exact optimum from the n x n Gram matrix of the training samples (micro-
expression folds have a few hundred samples and tens of thousands of feature dimensions), and
:func:`svm_objective` evaluates it (the loss the module logs). Class scores are the decision values ``W x + b``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import nnls
from threadpoolctl import ThreadpoolController
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

    def penalty(self) -> torch.Tensor:
        """``0.5 * (||W||^2 + ||b||^2)``, the L2 term of LinearSVC's objective (liblinear penalises the intercept)."""
        return 0.5 * (self.linear.weight.pow(2).sum() + self.linear.bias.pow(2).sum())


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


def svm_objective(head: LinearSVMHead, x: torch.Tensor, y: torch.Tensor, c: float = 1.0) -> torch.Tensor:
    """LinearSVC's primal objective on ``(x, y)``: ``penalty + c * sum of squared hinges``."""
    return head.penalty() + c * squared_hinge_loss(head(x), y, reduction="sum")


def fit_dual_squared_hinge(gram: np.ndarray, y: np.ndarray, n_classes: int, c: float = 1.0,
                           class_weight: np.ndarray | None = None,
                           sample_weight: np.ndarray | None = None) -> np.ndarray:
    """LinearSVC's exact optimum (one-vs-rest, squared hinge, L2, intercept as a penalised constant feature of
    value 1, as liblinear) from the training Gram matrix ``gram = X X^T`` (n x n), for n << D.

    Per class the dual is ``min_a 0.5 a^T H a - 1^T a`` over ``a >= 0`` with ``H = T (K + 1) T + diag(1 / (2 c_i))``
    (T = diag of the +-1 targets; ``c_i = c * class_weight[k]`` for the samples of class k in class k's problem
    and ``c`` for the others, as liblinear weights one-vs-rest), a strictly convex QP; with the Cholesky factor
    ``H = L L^T`` it is the non-negative least-squares problem ``min ||L^T a - L^{-1} 1||``, which Lawson-Hanson's
    active-set method (``scipy.optimize.nnls``) solves exactly; when every sample is a support vector (usual with
    far more dimensions than samples) the unconstrained solution ``H^-1 1`` is already non-negative and is it.
    Otherwise a primal-dual active-set iteration (:func:`_nonnegative_qp`) starts from that solution and usually
    reaches the optimum in a few solves (it stops only when the KKT conditions hold, so its answer is exact); when
    it cycles, Lawson-Hanson finishes.
    Returns the dual coefficients ``a_i t_i`` as an (n, C) matrix: decision values are
    ``(X_new X^T + 1) @ coef``, the weights ``X^T coef`` and the intercepts ``coef.sum(0)``. Cost: the Gram matrix
    (n^2 D) and one n^3 factorisation per class, against liblinear's passes over n x D; tests/test_svm.py holds it
    to scikit-learn's LinearSVC.

    ``sample_weight`` (n,) multiplies each sample's C as well (scikit-learn's ``fit(..., sample_weight=...)``;
    importance weights such as KMM's); a sample of weight 0 does not enter the fit (its coefficient is 0).
    """
    with _blas_controller().limit(limits=1, user_api="blas"):  # n x n problems: threads only contend
        if sample_weight is None:
            return _dual_coefficients(gram, y, n_classes, c, class_weight, None)
        weight = np.asarray(sample_weight, dtype=np.float64)
        if weight.shape != (len(y),) or (weight < 0).any() or not np.isfinite(weight).all():
            raise ValueError(f"sample_weight must be {len(y)} finite non-negative numbers")
        keep = weight > 0
        coef = np.zeros((len(y), n_classes))
        gram = np.asarray(gram)
        coef[keep] = _dual_coefficients(gram[np.ix_(keep, keep)], np.asarray(y)[keep], n_classes, c, class_weight,
                                        weight[keep])
        return coef


_CONTROLLER: ThreadpoolController | None = None


def _blas_controller() -> ThreadpoolController:
    """One controller for the process: building one scans the loaded libraries (about 2 ms, as long as a solve)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _nonnegative_qp(hessian: np.ndarray, start: np.ndarray, max_iter: int = 50) -> np.ndarray | None:
    """``argmin 0.5 a^T H a - 1^T a`` over ``a >= 0`` for positive definite ``H`` by the primal-dual active-set
    method (Hintermueller, Ito, Kunisch 2002), starting from the unconstrained solution ``start``: solve on the
    free set, free the bound variables whose gradient is negative, bind the free ones that went negative, until
    the sets repeat. On return the KKT conditions hold (free ``a >= 0`` with zero gradient, bound ``a = 0`` with
    gradient >= 0), so the result is the optimum. ``None`` when it has not settled in ``max_iter`` solves."""
    ones = np.ones(len(start))
    free = start > 0
    for _ in range(max_iter):
        alpha = np.zeros(len(start))
        if free.any():
            sub = hessian[np.ix_(free, free)]
            alpha[free] = cho_solve((cholesky(sub, lower=True), True), ones[free])
        gradient = hessian @ alpha - ones
        new_free = np.where(free, alpha >= 0, gradient < 0)
        if np.array_equal(new_free, free):
            scale = max(1.0, float(np.abs(gradient).max()))
            if alpha.min() >= 0 and gradient[~free].min(initial=0.0) >= -1e-10 * scale:
                return alpha
            return None
        free = new_free
    return None


def _dual_coefficients(gram, y, n_classes, c, class_weight, sample_weight) -> np.ndarray:
    kernel = np.asarray(gram, dtype=np.float64) + 1.0
    weights = np.ones(n_classes) if class_weight is None else np.asarray(class_weight, dtype=np.float64)
    per_sample = np.ones(len(kernel)) if sample_weight is None else sample_weight
    coef = np.zeros((len(kernel), n_classes))
    for cls in range(n_classes):
        positive = np.asarray(y) == cls
        t = np.where(positive, 1.0, -1.0)
        ridge = np.diag(1.0 / (2.0 * c * per_sample * np.where(positive, weights[cls], 1.0)))
        hessian = t[:, None] * kernel * t[None, :] + ridge
        lower = cholesky(hessian, lower=True)
        ones = np.ones(len(t))
        alpha = cho_solve((lower, True), ones)  # every sample a support vector: the unconstrained optimum is it
        if alpha.min() < 0:
            settled = _nonnegative_qp(hessian, alpha)
            if settled is None:
                settled, _ = nnls(lower.T, solve_triangular(lower, ones, lower=True), maxiter=50 * len(t))
            alpha = settled
        coef[:, cls] = alpha * t
    return coef
