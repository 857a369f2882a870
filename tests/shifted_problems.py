"""Shifted Gaussian cross-domain problems for the domain-adaptation tests (each shift meant for one adapter)."""

from __future__ import annotations

import numpy as np

from datamodules.cross_database import TargetKey, TransductiveProblem
from lightning_modules.layers.domain_adaptation import fit_adapted_svm

CLASSES = ("negative", "positive", "surprise")
SEEDS = (0, 1, 2)


def gaussian_classes(rng, n: int, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.repeat(np.arange(len(means)), n)
    return means[y] + rng.normal(size=(len(y), means.shape[1])), y


def problem_of(xs, ys, xt, yt, subjects: int = 4) -> tuple[TransductiveProblem, TargetKey]:
    groups = np.array([f"s/{i % subjects}" for i in range(len(ys))], dtype=object)
    return TransductiveProblem(xs, ys, xt, 3, groups), TargetKey(yt, CLASSES)


def offset_problem(seed: int):
    """Three classes in 10 dimensions; the target is offset in every dimension (a sensor's bias)."""
    rng = np.random.default_rng(seed)
    means = np.zeros((3, 10))
    means[[0, 1, 2], [0, 1, 2]] = 4.0
    (xs, ys), (xt, yt) = gaussian_classes(rng, 30, means), gaussian_classes(rng, 30, means)
    return problem_of(xs, ys, xt + np.r_[-3.0, 3.0, -2.0, np.full(7, 5.0)], yt)


def gain_problem(seed: int):
    """The target's features have other gains (log-normal, sd 0.8) and offsets (sd 3): a different camera."""
    rng = np.random.default_rng(seed)
    means = np.zeros((3, 10))
    means[[0, 1, 2], [0, 1, 2]] = 3.0
    (xs, ys), (xt, yt) = gaussian_classes(rng, 40, means), gaussian_classes(rng, 40, means)
    return problem_of(xs, ys, xt * np.exp(rng.normal(0, 0.8, 10)) + rng.normal(0, 3, 10), yt)


def covariate_shift_problem(seed: int):
    """Labels from a circle (inside: 0; outside: 1 right, 2 left); the source covers the square, the target sits at
    the circle's right edge, where the best global linear boundary is wrong and the local one is vertical."""
    rng = np.random.default_rng(seed)
    label = lambda x: np.where(np.hypot(x[:, 0], x[:, 1]) < 2, 0, np.where(x[:, 0] > 0, 1, 2))  # noqa: E731
    xs = rng.uniform(-4, 4, size=(400, 2))
    xt = rng.normal(size=(300, 2)) * np.array([0.5, 0.8]) + np.array([2.0, 0.0])
    return problem_of(xs, label(xs), xt, label(xt))


def target_uar(problem, key, adapter: str, **params) -> float:
    return key.score(fit_adapted_svm(problem, params, adapter).target_scores.argmax(1))["uar"]
