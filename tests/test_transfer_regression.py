"""RSTR and TGSR (lightning_modules/layers/transfer_regression.py): the ALM solver reaches the optimum of the stated
group-lasso objective, the fixed-number rule keeps exactly k regions, the region pyramid pools what it says, the
mean-matching term acts, and both methods recover target accuracy that a source-only SVM loses."""

from __future__ import annotations

import numpy as np
import pytest
from shifted_problems import offset_problem, target_uar

from lightning_modules.layers.transfer_regression import (
    ALMSettings,
    RegionPyramid,
    objective,
    prox,
    region_norms,
    solve,
)
from lightning_modules.rstr.model import fit_rstr
from lightning_modules.tgsr.model import fit_tgsr

FLAT = {"regions": {"levels": [], "n_groups": 10}}  # the shifted problems' 10 features, one per group


def small_problem(seed: int = 0, ns: int = 30, groups: int = 6, size: int = 3):
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, 3, ns)
    zs = rng.normal(size=(ns, groups * size))
    zs[:, :size] += 2.0 * ys[:, None]  # the first region carries the label
    return zs, np.eye(3)[ys], rng.normal(size=groups * size) * 0.3, size


@pytest.mark.parametrize("lam, mu", [(0.0, 12.0), (1.0, 20.0), (10.0, 15.0)])
def test_the_group_lasso_solution_satisfies_the_optimality_conditions(lam, mu):
    zs, ls, delta, size = small_problem()
    result = solve(zs, ls, delta, lam, size, "group_lasso", mu)
    assert result.converged and result.residual < 1e-8
    c = result.coef
    gradient = 2 * (zs.T @ (zs @ c - ls) + lam * np.outer(delta, delta) @ c)  # of the smooth part
    norms = region_norms(c, size)
    assert (norms > 0).any() and (norms == 0).any()  # the penalty selects regions, not none or all
    blocks, grads = c.reshape(-1, size * 3), gradient.reshape(-1, size * 3)
    tolerance = 0.02 * mu  # the stopping rule tests primal feasibility only
    for block, grad, norm in zip(blocks, grads, norms, strict=True):
        if norm > 0:
            np.testing.assert_allclose(grad, -mu * block / norm, atol=tolerance)
        else:
            assert np.linalg.norm(grad) <= mu + tolerance


def test_the_solution_is_no_worse_than_proximal_gradient_descent():
    zs, ls, delta, size = small_problem(1)
    lam, mu = 2.0, 5.0
    ours = solve(zs, ls, delta, lam, size, "group_lasso", mu).coef
    hessian = 2 * (zs.T @ zs + lam * np.outer(delta, delta))
    step = 1.0 / np.linalg.eigvalsh(hessian).max()
    c = np.zeros_like(ours)
    for _ in range(20_000):  # plain ISTA, a slow but sure reference
        c = prox(c - step * (hessian @ c - 2 * zs.T @ ls), size, "group_lasso", step * mu)
    assert objective(ours, zs, ls, delta, lam, size, mu) <= objective(c, zs, ls, delta, lam, size, mu) + 1e-6


@pytest.mark.parametrize("k", [1, 2, 4])
def test_the_fixed_number_rule_keeps_exactly_k_regions(k):
    zs, ls, delta, size = small_problem(2)
    result = solve(zs, ls, delta, 0.5, size, "top_k", k)
    assert result.converged and int((result.region_norms > 0).sum()) == k
    assert result.region_norms[0] == result.region_norms.max()  # the informative region is kept first


def test_the_solver_knobs_act_and_bad_ones_are_errors():
    zs, ls, delta, size = small_problem(3)
    default = solve(zs, ls, delta, 1.0, size, "group_lasso", 1.0)
    faster = solve(zs, ls, delta, 1.0, size, "group_lasso", 1.0, ALMSettings(rho=1.5))
    capped = solve(zs, ls, delta, 1.0, size, "group_lasso", 1.0, ALMSettings(max_iter=5))
    assert faster.iterations < default.iterations and not capped.converged and capped.iterations == 5
    assert ALMSettings() == ALMSettings(rho=1.1, kappa0=1e-3, kappa_max=1e15, tol=1e-8)
    with pytest.raises(ValueError, match="expected rho > 1"):
        solve(zs, ls, delta, 1.0, size, "group_lasso", 1.0, ALMSettings(rho=1.0))
    with pytest.raises(ValueError, match="must be >= 0"):
        solve(zs, ls, delta, -1.0, size, "group_lasso", 1.0)
    with pytest.raises(ValueError, match="group_lasso or top_k"):
        solve(zs, ls, delta, 1.0, size, "lasso", 1.0)


def test_the_region_pyramid_pools_blocks_into_85_regions():
    rng = np.random.default_rng(4)
    bins = 2
    x = rng.random((3, 8 * 8 * 3 * bins))
    z, size = RegionPyramid(levels=(1, 2, 4, 8), bins=bins).transform(x)
    assert size == 3 * bins and z.shape == (3, 85 * size)
    blocks = x.reshape(3, 8, 8, size)
    np.testing.assert_allclose(z[:, :size], blocks.mean(axis=(1, 2)))  # the whole face
    np.testing.assert_allclose(z[:, size * 2:size * 3], blocks[:, :4, 4:].mean(axis=(1, 2)))  # 2x2: top right
    np.testing.assert_allclose(z[:, -size:], blocks[:, 7, 7])  # the 8x8 level is the blocks themselves
    assert len(RegionPyramid().names()) == 85 and RegionPyramid().names()[1] == "L2:0,0"
    with pytest.raises(ValueError, match="not a square grid"):
        RegionPyramid(bins=bins).transform(x[:, :-1])
    with pytest.raises(ValueError, match="levels: 3 does not divide"):
        RegionPyramid(levels=(3,), bins=bins).transform(x)


def test_the_mean_matching_term_equalises_the_domains_mean_scores():
    problem, _ = offset_problem(0)
    gap = lambda lam: np.abs(  # noqa: E731
        fit_rstr(problem, {"lam": lam, "mu": 0.01}, **FLAT).target_scores.mean(0)
        - fit_rstr(problem, {"lam": lam, "mu": 0.01}, **FLAT).source_scores(problem.xs).mean(0)).sum()
    assert gap(1000.0) < 0.2 * gap(0.0)


@pytest.mark.parametrize("fit, params", [(fit_rstr, {"lam": 1000.0, "mu": 0.01}), (fit_tgsr, {"lam": 1000.0, "k": 10})])
def test_rstr_and_tgsr_recover_what_the_source_only_svm_loses(fit, params):
    gains = []
    for seed in (0, 1, 2):
        problem, key = offset_problem(seed)
        model = fit(problem, params, **FLAT)
        assert model.result.converged
        adapted = key.score(model.target_scores.argmax(1))["uar"]
        assert adapted >= 0.8
        gains.append(adapted - target_uar(problem, key, "none"))
    assert np.mean(gains) >= 0.15, gains


def test_tgsr_names_the_regions_it_keeps():
    problem, _ = offset_problem(1)
    model = fit_tgsr(problem, {"lam": 1.0, "k": 3}, **FLAT)
    assert len(model.selected_regions()) == 3 and all(r.startswith("group ") for r in model.selected_regions())
    with pytest.raises(ValueError, match="unknown model knobs"):
        fit_tgsr(problem, {"lam": 1.0, "k": 3, "mu": 1.0}, **FLAT)
