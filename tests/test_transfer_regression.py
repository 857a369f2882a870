"""RSTR / TGSR's shared transfer group-sparse regression (lightning_modules/layers/transfer_regression.py)."""

from __future__ import annotations

import numpy as np
import pytest
from processed_fixture import write_processed

from experiments.runner import train
from lightning_modules.layers.transfer_regression import (
    SolverSettings,
    TransferRegression,
    group_shrink,
    objective,
    region_groups,
)

BINS = 3  # a tiny LBP-TOP: blocks of 3 planes x 3 bins
PER_BLOCK = 3 * BINS


def _domains(seed=0, grid=4, n=90, shift=0.3):
    rng = np.random.default_rng(seed)
    dim = grid * grid * PER_BLOCK
    ys = rng.integers(0, 3, n)
    xs = rng.random((n, dim))
    xs[np.arange(n), ys] += 2.0  # the class signal lives in region 0 only
    yt = rng.integers(0, 3, n)
    xt = rng.random((n, dim)) + shift
    xt[np.arange(n), yt] += 2.0
    return xs, ys, xt, yt


def _objective_at(model, xs, xt, u):
    fs, groups = model.features(xs)
    ft, _ = model.features(xt)
    zs, delta = fs - model.mean, ft.mean(0) - model.mean
    sizes = np.bincount(groups).astype(float)
    weights = np.sqrt(sizes) / np.sqrt(sizes).mean()
    ys = np.eye(3)[model._ys] - model.y_mean
    return objective(u, zs, ys, delta, groups, weights, model.lam, model.mu, model.l1)


@pytest.mark.parametrize("l1", [0.0, 0.2])
def test_the_solver_reaches_the_minimum(l1):
    xs, ys, xt, _ = _domains()
    model = TransferRegression(lam=1.0, mu=0.5, l1=l1, lbptop_bins=BINS, solver=SolverSettings(tol=1e-9))
    model._ys = ys
    model.fit(xs, ys, xt, 3)
    assert model.result.converged
    u = model.result.projection
    best = _objective_at(model, xs, xt, u)
    rng = np.random.default_rng(1)
    for _ in range(5):  # a convex objective: every perturbation of the optimum is worse
        assert _objective_at(model, xs, xt, u + 1e-3 * rng.standard_normal(u.shape)) > best
    assert _objective_at(model, xs, xt, np.zeros_like(u)) > best


def test_the_group_penalty_keeps_the_signal_region_and_drops_noise_regions():
    xs, ys, xt, yt = _domains()
    model = TransferRegression(lam=1.0, mu=8.0, lbptop_bins=BINS).fit(xs, ys, xt, 3)
    norms = model.region_norms
    assert norms[0] == norms.max() > 0
    assert (norms[1:] == 0).sum() >= 10  # most of the 15 noise regions are dropped as whole groups
    assert (model.target_scores.argmax(1) == yt).mean() > 0.8
    unpenalised = TransferRegression(lam=1.0, mu=0.0, lbptop_bins=BINS).fit(xs, ys, xt, 3)
    assert (unpenalised.region_norms > 0).all()


def test_the_mean_matching_term_shrinks_the_projected_mean_gap():
    xs, ys, xt, _ = _domains(shift=1.0)
    gaps = []
    for lam in (0.0, 100.0):
        model = TransferRegression(lam=lam, mu=0.1, lbptop_bins=BINS).fit(xs, ys, xt, 3)
        gaps.append(np.abs(model.target_scores.mean(0) - model.source_scores(xs).mean(0)).sum())
    assert gaps[1] < 0.2 * gaps[0]


def test_multi_scale_regions_are_groups_of_their_own():
    xs, ys, xt, _ = _domains()
    model = TransferRegression(scales=(1, 2, 4), lbptop_bins=BINS)
    features, groups = model.features(xs)
    assert features.shape[1] == (16 + 4 + 1) * PER_BLOCK and groups.max() == 16 + 4 + 1 - 1
    assert np.allclose(features[:, -PER_BLOCK:], xs.reshape(len(xs), 16, PER_BLOCK).mean(1))


def test_group_shrink_and_bad_shapes():
    x = np.ones((4, 2))
    out = group_shrink(x, np.array([0, 0, 1, 1]), np.array([1.0, 10.0]))
    assert np.allclose(out[:2], 1 - 1 / 2) and np.allclose(out[2:], 0)
    with pytest.raises(ValueError, match="not 3 x 3 blocks of 9 values"):
        region_groups(80, 3, 9)
    with pytest.raises(ValueError, match="not a square grid"):
        TransferRegression(lbptop_bins=BINS).features(np.ones((2, 50)))
    with pytest.raises(ValueError, match="rho > 1"):
        SolverSettings(rho=1.0).check()


@pytest.fixture
def cdmer_project(project):
    write_processed(project, "casme2", subjects=4, clips=6, seed=1, lbptop_dim=4 * PER_BLOCK)
    write_processed(project, "smic", subjects=3, clips=6, seed=2, lbptop_dim=4 * PER_BLOCK,
                    emotions=("positive", "surprise", "negative"))
    return project


@pytest.mark.parametrize("method", ["rstr", "tgsr"])
def test_rstr_and_tgsr_run_through_the_cross_database_loop(cdmer_project, method):
    metrics = train(f"{method}/casme2_to_smic", ["selection.grid.lam=[1.0]", "selection.grid.mu=[0.1,1.0]",
                                                 f"model.lbptop_bins={BINS}", "model.scales=[1,2]"])
    assert metrics["n_samples"] == 18 and metrics["selection_rule"] == "reverse_validation"
    assert metrics["selected"] in metrics["grid"] and len(metrics["grid"]) == 2
    assert metrics["uar"] > 0.6 and metrics["oracle"]["uar"] >= metrics["uar"]
