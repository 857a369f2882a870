"""STSTNet + DANN, the deep CDMER baseline: the domain loss acts, and the model fits the transductive interface."""

from __future__ import annotations

import numpy as np
import pytest

from datamodules.cross_database import TransductiveProblem
from lightning_modules.ststnet_dann.model import STSTNetDANN, fit_ststnet_dann


def _problem(seed=0, n=48):
    rng = np.random.default_rng(seed)
    ys = np.repeat(np.arange(3), n // 3)
    xs = rng.normal(0, 1, (n, 3, 28, 28))
    xs[np.arange(n), ys, 10:18, 10:18] += 2.0
    xt = rng.normal(0, 1, (n, 3, 28, 28)) + 0.5
    yt = ys.copy()
    xt[np.arange(n), yt, 10:18, 10:18] += 2.0
    return TransductiveProblem(xs.reshape(n, -1), ys, xt.reshape(n, -1), 3), yt


def test_it_learns_the_source_and_transfers_with_the_domain_loss():
    problem, yt = _problem()
    model = fit_ststnet_dann(problem, {}, epochs=15, lr=5e-3)
    assert model.target_scores.shape == (48, 3) and np.isfinite(model.target_scores).all()
    assert (model.source_scores(problem.xs).argmax(1) == problem.ys).mean() > 0.9
    assert (model.target_scores.argmax(1) == yt).mean() > 0.6
    first, last = np.mean([c for c, _ in model.history[:3]]), np.mean([c for c, _ in model.history[-3:]])
    assert last < first
    assert all(np.isfinite(d) and d > 0 for _, d in model.history)  # the domain loss is computed every step


def test_the_domain_weight_changes_training():
    problem, _ = _problem(1, n=24)
    plain = STSTNetDANN(epochs=2, domain_weight=0.0).fit(problem.xs, problem.ys, problem.xt, 3)
    adversarial = STSTNetDANN(epochs=2, domain_weight=1.0).fit(problem.xs, problem.ys, problem.xt, 3)
    assert not np.allclose(plain.target_scores, adversarial.target_scores)


def test_rows_that_are_not_images_are_an_error():
    with pytest.raises(ValueError, match="not 3 x s x s"):
        STSTNetDANN()._images(np.ones((2, 30)))


def test_the_runs_seed_reaches_the_fit_function():
    from experiments.config import load_experiment

    # model.seed follows `seed=S` (it was a fixed 0: three seeds gave one run three times)
    assert load_experiment("ststnet_dann/casme2_to_smic", ["seed=3"]).model.seed == 3
    assert load_experiment("ststnet_dann/casme2_to_smic", ["seed=3", "model.seed=5"]).model.seed == 5
