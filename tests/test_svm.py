"""The linear SVM's exact dual fit equals scikit-learn's LinearSVC (one-vs-rest, squared hinge, L2, penalised
intercept), with and without class weights, on data with far more dimensions than samples (as LBP-TOP)."""

import numpy as np
import pytest
import torch
from sklearn.svm import LinearSVC

from lightning_modules.layers.svm import LinearSVMHead, fit_dual_squared_hinge, svm_objective


def _data(n=90, d=600, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(size=(n, d)) + 0.15 * np.eye(classes)[y].repeat(d // classes, axis=1)
    return x, y


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_dual_fit_equals_liblinear(class_weight):
    x, y = _data()
    y[:50] = 0  # unbalanced, so the balanced weights differ from 1
    reference = LinearSVC(C=0.5, loss="squared_hinge", dual=True, tol=1e-10, max_iter=100_000,
                          class_weight=class_weight).fit(x, y)
    counts = np.bincount(y)
    weights = len(y) / (len(counts) * counts) if class_weight else None
    coef = fit_dual_squared_hinge(x @ x.T, y, 3, c=0.5, class_weight=weights)
    decision = (x @ x.T + 1.0) @ coef
    np.testing.assert_allclose(decision, reference.decision_function(x), atol=1e-5)
    np.testing.assert_allclose((x.T @ coef).T, reference.coef_, atol=1e-6)


def test_the_objective_of_the_dual_solution_is_not_above_liblinears():
    x, y = _data(seed=1)
    reference = LinearSVC(C=1.0, tol=1e-10, max_iter=100_000).fit(x, y)
    coef = fit_dual_squared_hinge(x @ x.T, y, 3)
    xt, yt = torch.tensor(x), torch.tensor(y)

    def objective(weight, bias):
        head = LinearSVMHead(x.shape[1], 3).double()
        with torch.no_grad():
            head.linear.weight.copy_(torch.as_tensor(weight))
            head.linear.bias.copy_(torch.as_tensor(bias))
        return float(svm_objective(head, xt, yt))

    ours, theirs = objective((x.T @ coef).T, coef.sum(0)), objective(reference.coef_, reference.intercept_)
    assert ours <= theirs * (1 + 1e-9)


def test_the_active_set_solver_reaches_the_lawson_hanson_optimum_when_some_samples_are_not_support_vectors():
    """Few dimensions and a large C leave many samples outside the margin: the unconstrained dual solution has
    negative entries, and the primal-dual active-set answer must equal scipy's NNLS one."""
    from scipy.linalg import cho_solve, cholesky, solve_triangular
    from scipy.optimize import nnls

    from lightning_modules.layers.svm import _nonnegative_qp

    rng = np.random.default_rng(3)
    settled = tried = 0
    for _ in range(40):
        n, d = int(rng.integers(30, 120)), int(rng.integers(3, 40))
        x = rng.normal(size=(n, d))
        t = np.where(rng.integers(0, 3, n) == 0, 1.0, -1.0)
        hessian = t[:, None] * (x @ x.T + 1.0) * t[None, :] + np.eye(n) / (2 * rng.uniform(1.0, 50.0))
        lower = cholesky(hessian, lower=True)
        start = cho_solve((lower, True), np.ones(n))
        if start.min() >= 0:  # every sample a support vector: nothing to solve
            continue
        tried += 1
        expected, _ = nnls(lower.T, solve_triangular(lower, np.ones(n), lower=True), maxiter=50 * n)
        alpha = _nonnegative_qp(hessian, start)
        if alpha is not None:
            settled += 1
            np.testing.assert_allclose(alpha, expected, rtol=1e-7, atol=1e-9)
    assert tried >= 20 and settled >= tried - 3  # it rarely needs the fallback


def test_sample_weights_equal_liblinears_and_zero_weights_drop_samples():
    x, y = _data(n=60, d=210, seed=2)
    weight = np.random.default_rng(3).uniform(0.2, 3.0, len(y))
    weight[:5] = 0.0
    reference = LinearSVC(C=0.7, tol=1e-10, max_iter=200_000).fit(x, y, sample_weight=weight)
    coef = fit_dual_squared_hinge(x @ x.T, y, 3, c=0.7, sample_weight=weight)
    assert (coef[:5] == 0).all()
    np.testing.assert_allclose((x.T @ coef).T, reference.coef_, atol=1e-5)
    np.testing.assert_allclose(coef.sum(0), reference.intercept_, atol=1e-5)
