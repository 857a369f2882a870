"""TSRG: the IALM solver reaches the optimum of the stated objective, its knobs act, the mean-matching term does
what it says, and the method recovers target accuracy a source-only SVM loses."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize
from shifted_problems import gain_problem, offset_problem, target_uar

from lightning_modules.tsrg.model import TSRG, fit_tsrg
from lightning_modules.tsrg.solver import IALMSettings, solve_tsrg, tsrg_objective


def small_problem(seed: int = 0, ns: int = 8, nt: int = 6, dim: int = 4):
    rng = np.random.default_rng(seed)
    xs, xt = rng.normal(size=(ns, dim)), rng.normal(size=(nt, dim)) + 0.8
    support = np.vstack([xs, xt])
    k_source, k_target = support @ xs.T, support @ xt.T
    return xs, k_source, k_source.mean(1) - k_target.mean(1)


@pytest.mark.parametrize("lam, mu", [(0.0, 0.05), (1.0, 0.5), (10.0, 2.0)])
def test_the_ialm_solution_satisfies_the_optimality_conditions(lam, mu):
    xs, k_source, k_delta = small_problem()
    result = solve_tsrg(xs, k_source, k_delta, lam, mu)
    assert result.converged and result.residual < 1e-8
    p = result.projection
    g = np.hstack([k_source, np.sqrt(lam) * k_delta[:, None]])
    gradient = 2 * (g @ g.T @ p - k_source @ xs)  # of the smooth part
    active = np.abs(p) > 1e-9
    assert active.any() and (~active).any()  # the L1 term makes P sparse, not empty
    # the code's stopping rule tests primal feasibility (max |P - Q|) only, so stationarity holds to about 1 %
    tolerance = 0.02 * max(1.0, mu)
    np.testing.assert_allclose(gradient[active], -mu * np.sign(p[active]), atol=tolerance)
    assert (np.abs(gradient[~active]) <= mu + tolerance).all()


def test_the_ialm_objective_matches_a_generic_bound_constrained_solver():
    xs, k_source, k_delta = small_problem(1)
    lam, mu = 2.0, 0.3
    ours = solve_tsrg(xs, k_source, k_delta, lam, mu).projection
    n, dim = ours.shape

    def split_objective(z):  # P = z+ - z-, both >= 0: the L1 term becomes linear
        plus, minus = z[: n * dim].reshape(n, dim), z[n * dim:].reshape(n, dim)
        p = plus - minus
        g = np.hstack([k_source, np.sqrt(lam) * k_delta[:, None]])
        grad = 2 * (g @ g.T @ p - k_source @ xs)
        return tsrg_objective(p, xs, k_source, k_delta, lam, mu), np.r_[(grad + mu).ravel(), (-grad + mu).ravel()]

    reference = optimize.minimize(split_objective, np.zeros(2 * n * dim), jac=True, method="L-BFGS-B",
                                  bounds=[(0, None)] * (2 * n * dim), options={"maxiter": 50_000, "ftol": 1e-15,
                                                                               "gtol": 1e-12})
    assert tsrg_objective(ours, xs, k_source, k_delta, lam, mu) <= reference.fun * (1 + 1e-6) + 1e-9


def test_the_solver_knobs_act_and_bad_ones_are_errors():
    xs, k_source, k_delta = small_problem(2)
    default = solve_tsrg(xs, k_source, k_delta, 1.0, 0.1)
    faster = solve_tsrg(xs, k_source, k_delta, 1.0, 0.1, IALMSettings(rho=1.5))
    loose = solve_tsrg(xs, k_source, k_delta, 1.0, 0.1, IALMSettings(tol=1e-3))
    capped = solve_tsrg(xs, k_source, k_delta, 1.0, 0.1, IALMSettings(max_iter=5))
    assert faster.iterations < default.iterations and loose.iterations < default.iterations
    assert not capped.converged and capped.iterations == 5
    assert IALMSettings() == IALMSettings(rho=1.1, kappa0=1e-3, kappa_max=1e15, tol=1e-8)
    with pytest.raises(ValueError, match="expected rho > 1"):
        solve_tsrg(xs, k_source, k_delta, 1.0, 0.1, IALMSettings(rho=1.0))
    with pytest.raises(ValueError, match="lambda and mu must be >= 0"):
        solve_tsrg(xs, k_source, k_delta, -1.0, 0.1)


def test_the_mean_matching_term_brings_the_regenerated_target_to_the_source_mean():
    problem, _ = offset_problem(0)
    gap = lambda lam: np.linalg.norm(  # noqa: E731
        fit_tsrg(problem, {"lam": lam, "mu": 0.01}).regenerated.mean(0) - problem.xs.mean(0))
    assert gap(100.0) < 0.2 * gap(0.0)


@pytest.mark.parametrize("make_problem", [offset_problem, gain_problem])
def test_tsrg_recovers_what_the_source_only_svm_loses(make_problem):
    gains = []
    for seed in (0, 1, 2):
        problem, key = make_problem(seed)
        model = fit_tsrg(problem, {"lam": 100.0, "mu": 0.01})
        assert model.result.converged
        adapted = key.score(model.target_scores.argmax(1))["uar"]
        assert adapted >= 0.85
        gains.append(adapted - target_uar(problem, key, "none"))
    assert np.mean(gains) >= 0.15, gains


def test_held_out_source_samples_are_scored_unregenerated():
    problem, _ = offset_problem(1)
    model = fit_tsrg(problem, {"lam": 1.0, "mu": 0.01, "standardize": True})
    np.testing.assert_allclose(model.source_scores(problem.xs[:5]),
                               model.svm.decision((problem.xs[:5] - model.mean) / model.std))
    assert isinstance(model, TSRG) and model.standardize


def test_pooling_blocks_averages_neighbouring_block_histograms():
    rng = np.random.default_rng(7)
    x = rng.random((3, 4 * 4 * 3 * 5))
    pooled = TSRG(pool_blocks=2, lbptop_bins=5).pool(x)
    blocks = x.reshape(3, 4, 4, 15)
    assert pooled.shape == (3, 2 * 2 * 15)
    np.testing.assert_allclose(pooled.reshape(3, 2, 2, 15)[:, 1, 0], blocks[:, 2:4, 0:2].mean(axis=(1, 2)))
    assert TSRG().pool(x) is x
    with pytest.raises(ValueError, match="model.pool_blocks=3"):
        TSRG(pool_blocks=3, lbptop_bins=5).pool(x)
