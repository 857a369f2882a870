"""Classical domain adaptation (CORAL, SA, TCA, KMM) on shifted Gaussian problems, and the honest and oracle
hyper-parameter selectors of the cross-database protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import linalg
from shifted_problems import CLASSES, SEEDS, covariate_shift_problem, gain_problem, offset_problem, target_uar

from core.errors import ConfigError
from datamodules.cross_database import (
    ORACLE_LABEL,
    TransductiveProblem,
    expand_grid,
    reverse_validation_score,
    select,
    select_oracle,
    source_cv_score,
    source_folds,
    transductive_split,
)
from lightning_modules.layers.domain_adaptation import ADAPTERS, CORAL, fit_adapted_svm, make_adapter


@pytest.mark.parametrize("adapter, params, make_problem", [
    ("coral", {}, gain_problem),
    ("coral", {}, offset_problem),
    ("sa", {"dim": 2}, offset_problem),
    ("tca", {"dim": 3}, offset_problem),
    ("kmm", {}, covariate_shift_problem),
])
def test_each_adapter_recovers_what_the_source_only_svm_loses(adapter, params, make_problem):
    gains = []
    for seed in SEEDS:
        problem, key = make_problem(seed)
        adapted, plain = target_uar(problem, key, adapter, **params), target_uar(problem, key, "none")
        assert adapted >= 0.7, (seed, adapted, plain)
        gains.append(adapted - plain)
    assert np.mean(gains) >= 0.15, gains


def test_coral_through_thin_svds_equals_the_dense_formula():
    rng = np.random.default_rng(4)
    xs, xt = rng.normal(size=(15, 40)), rng.normal(size=(12, 40)) @ rng.normal(size=(40, 40)) * 0.3 + 1.0
    coral = CORAL(ridge=0.7).fit(xs, None, xt)

    def power(x, p):
        c = np.cov(x - x.mean(0), rowvar=False) + 0.7 * np.eye(x.shape[1])
        values, vectors = linalg.eigh(c)
        return (vectors * values**p) @ vectors.T

    dense = (xs - xs.mean(0)) @ power(xs, -0.5) @ power(xt, 0.5)
    np.testing.assert_allclose(coral.source(xs), dense, atol=1e-8)
    np.testing.assert_allclose(coral.target(xt), xt - xt.mean(0))


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_no_adapter_reads_target_labels(adapter):
    """The protocol never hands target labels to a fit: shuffling them changes no prediction."""
    problem, _ = offset_problem(0)
    index = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(90)] + [f"t{i}" for i in range(90)],
        "dataset": ["casme2"] * 90 + ["smic"] * 90, "subject": [str(i % 4) for i in range(180)],
        "y": np.r_[problem.ys, np.repeat(np.arange(3), 30)]})
    features = np.vstack([problem.xs, problem.xt])
    shuffled = index.copy()
    shuffled.loc[90:, "y"] = np.random.default_rng(0).permutation(shuffled.loc[90:, "y"].to_numpy())
    one, _ = transductive_split(index, features, "casme2", "smic", CLASSES)
    two, _ = transductive_split(shuffled, features, "casme2", "smic", CLASSES)
    params = {"dim": 3} if adapter in ("sa", "tca") else {}
    np.testing.assert_array_equal(fit_adapted_svm(one, params, adapter).target_scores,
                                  fit_adapted_svm(two, params, adapter).target_scores)


def test_a_bad_adapter_or_knob_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown adapter 'jda'"):
        make_adapter("jda")
    with pytest.raises(ValueError, match="adapter coral: .*'dim'"):
        make_adapter("coral", dim=3)


# -- selectors ------------------------------------------------------------------------------------------------------


def test_the_grid_is_the_cartesian_product_first_axis_slowest():
    assert expand_grid({"c": [0.1, 1], "dim": [2, 3]}) == [{"c": 0.1, "dim": 2}, {"c": 0.1, "dim": 3},
                                                           {"c": 1, "dim": 2}, {"c": 1, "dim": 3}]
    with pytest.raises(ConfigError, match="axis 'dim' is empty"):
        expand_grid({"dim": []})


def test_source_folds_hold_out_whole_source_subjects():
    problem, _ = offset_problem(0)
    folds = source_folds(problem, 3)
    assert len(folds) == 3
    for train, held in folds:
        assert not set(problem.source_groups[train]) & set(problem.source_groups[held])
    assert sorted(np.concatenate([h for _, h in folds])) == list(range(len(problem.ys)))
    single = TransductiveProblem(problem.xs, problem.ys, problem.xt, 3, np.full(len(problem.ys), "a", object))
    with pytest.raises(ConfigError, match="at least two subjects"):
        source_folds(single, 3)


def test_honest_selectors_never_see_target_labels_and_the_oracle_is_labelled_apart():
    problem, key = gain_problem(0)
    seen = []

    def spy(p, params):
        seen.append(p)
        assert isinstance(p, TransductiveProblem)
        return fit_adapted_svm(p, params, params.get("adapter", "none") and "coral")

    grid = [{"c": 0.01}, {"c": 1.0}]
    for rule in ("source_cv", "reverse_validation"):
        chosen = select(rule, grid, spy, problem, n_folds=2)
        assert chosen.honest and chosen.params in grid and len(chosen.scores) == 2
        assert chosen.score == max(chosen.scores) and chosen.label != ORACLE_LABEL
    assert seen and not any({"yt", "target_labels"} & set(vars(p)) for p in seen)
    fitted = [fit_adapted_svm(problem, params, "coral").target_scores for params in grid]
    oracle = select_oracle(grid, fitted, key)
    assert not oracle.honest and oracle.label == ORACLE_LABEL
    assert oracle.score == max(key.score(s.argmax(1))["uar"] for s in fitted)
    with pytest.raises(ConfigError, match="unknown selection rule 'oracle'"):
        select("oracle", grid, spy, problem)


def test_both_honest_scores_separate_a_working_model_from_a_broken_one():
    problem, _ = gain_problem(1)
    coral = lambda p, params: fit_adapted_svm(p, params, "coral")  # noqa: E731

    class Constant:
        def __init__(self, p):
            self.target_scores = np.tile([1.0, 0.0, 0.0], (len(p.xt), 1))

        def source_scores(self, x):
            return np.tile([1.0, 0.0, 0.0], (len(x), 1))

    broken = lambda p, params: Constant(p)  # noqa: E731
    for score in (source_cv_score, reverse_validation_score):
        assert score(coral, problem, {}) > 0.8
        assert score(broken, problem, {}) == pytest.approx(1 / 3)


def test_the_kmm_solver_reaches_the_qp_optimum():
    from scipy import optimize

    from lightning_modules.layers.domain_adaptation import kmm_weights, median_gamma, rbf_kernel

    rng = np.random.default_rng(5)
    xs, xt = rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) + 0.7
    gamma = median_gamma(np.vstack([xs, xt]))
    k = rbf_kernel(xs, xs, gamma) + 1e-8 * np.eye(30)
    kappa = 30 / 20 * rbf_kernel(xs, xt, gamma).sum(1)
    low, high = 30 * 0.2, 30 * 1.8
    ours = kmm_weights(k, kappa, 1000.0, low, high, max_iter=20000, tol=1e-13)
    reference = optimize.minimize(lambda b: 0.5 * b @ k @ b - kappa @ b, np.ones(30), jac=lambda b: k @ b - kappa,
                                  bounds=[(0, 1000)] * 30, method="SLSQP", options={"ftol": 1e-14, "maxiter": 2000},
                                  constraints=[{"type": "ineq", "fun": lambda b: high - b.sum()},
                                               {"type": "ineq", "fun": lambda b: b.sum() - low}])
    objective = lambda b: 0.5 * b @ k @ b - kappa @ b  # noqa: E731
    assert objective(ours) <= objective(reference.x) + 1e-6 * abs(objective(reference.x))
    assert ours.min() >= 0 and low - 1e-9 <= ours.sum() <= high + 1e-9


def test_tca_components_solve_the_generalised_eigenproblem_even_when_k_is_huge():
    from lightning_modules.layers.domain_adaptation import TCA

    rng = np.random.default_rng(6)
    xs, xt = rng.normal(size=(20, 5)), rng.normal(size=(15, 5)) + 1.0
    tca = TCA(dim=3, mu=0.5).fit(xs, None, xt)
    x = np.vstack([xs, xt])
    k, n = x @ x.T, 35
    e = np.r_[np.full(20, 1 / 20), np.full(15, -1 / 15)]
    a, b = k @ (np.eye(n) - 1 / n) @ k, np.outer(k @ e, k @ e) + 0.5 * np.eye(n)
    reference = linalg.eigh(a, b, subset_by_index=(n - 3, n - 1))[0][::-1]
    w = tca.components
    np.testing.assert_allclose(np.diag(w.T @ a @ w) / np.diag(w.T @ b @ w), reference, rtol=1e-8)
    huge = TCA(dim=3, mu=0.1).fit(100 * rng.normal(size=(40, 3000)), None, 100 * rng.normal(size=(30, 3000)) + 5)
    assert np.isfinite(huge.components).all()
