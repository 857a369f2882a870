"""Importance-weighted cross-validation, the third honest selector (datamodules/cross_database.py)."""

from __future__ import annotations

import numpy as np

from core import metrics as M
from datamodules.cross_database import (
    HONEST_RULES,
    TransductiveProblem,
    domain_ratio_weights,
    iwcv_score,
    select,
    weighted_uar,
)
from lightning_modules.layers.domain_adaptation import fit_adapted_svm


def test_source_samples_like_the_target_weigh_more():
    rng = np.random.default_rng(0)
    near = rng.normal(0, 1, (40, 30))
    far = rng.normal(0, 1, (40, 30)) + 3.0
    target = rng.normal(0, 1, (50, 30))
    weights = domain_ratio_weights(np.vstack([near, far]), target)
    assert np.isclose(weights.mean(), 1.0) and (weights > 0).all()
    assert weights[:40].mean() > 5 * weights[40:].mean()
    same = domain_ratio_weights(near, rng.normal(0, 1, (40, 30)))
    assert same.max() / same.min() < 5  # no shift: weights near uniform


def test_weighted_uar_is_the_uar_under_unit_weights_and_follows_the_weights():
    truth = np.array([0, 0, 1, 1, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0])
    assert np.isclose(weighted_uar(truth, predicted, np.ones(6), 3), M.uar(truth, predicted, 3))
    assert np.isclose(weighted_uar(truth, predicted, np.array([9, 1, 1, 1, 1, 1.0]), 3), (0.9 + 1 + 0.5) / 3)


def test_iwcv_selects_without_target_labels():
    rng = np.random.default_rng(1)
    ys = np.repeat(np.arange(3), 20)
    xs = rng.normal(0, 1, (60, 12))
    xs[np.arange(60), ys] += 3
    xt = rng.normal(0, 1, (45, 12)) + 0.3
    problem = TransductiveProblem(xs, ys, xt, 3, source_groups=np.repeat(np.arange(6), 10).astype(object))
    assert "iwcv" in HONEST_RULES
    score = iwcv_score(lambda p, params: fit_adapted_svm(p, params), problem, {"c": 1.0})
    assert 0.8 < score <= 1.0
    chosen = select("iwcv", [{"c": 1e-6}, {"c": 1.0}], lambda p, params: fit_adapted_svm(p, params), problem)
    assert chosen.label == "importance-weighted cross-validation" and len(chosen.scores) == 2
