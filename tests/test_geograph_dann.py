"""Landmark graph + DANN, the landmark-graph deep CDMER baseline: it learns landmark motion on the source, the
domain loss acts, its network block stays geograph's, and bad rows are an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from datamodules.cross_database import TransductiveProblem
from lightning_modules.geograph_dann.model import GeoGraphDANN, fit_geograph_dann
from lightning_modules.layers.dann import balanced_class_weight

ROOT = Path(__file__).resolve().parents[1]
T = 4


def _face(rng, n):
    """A 68-point face per clip (a jittered template), repeated over T frames: (n, T, 68, 2)."""
    template = np.stack([np.cos(np.linspace(0, 6.0, 68)), np.sin(np.linspace(0, 6.0, 68))], 1) * 40 + 64
    template[36], template[45] = (44, 50), (84, 50)  # eye corners, so the inter-ocular scale is well defined
    faces = template + rng.normal(0, 0.5, (n, 1, 68, 2))
    return np.repeat(faces, T, axis=1)


def _problem(seed=0, n=48):
    """Class c moves a block of 8 landmarks (a different block per class) in the later frames; the target's
    faces are larger and noisier (another camera), the motion the same in face units."""
    rng = np.random.default_rng(seed)
    ys = np.repeat(np.arange(3), n // 3)
    yt = rng.permutation(ys)

    def clips(labels, scale, noise):
        x = _face(rng, len(labels)) * scale
        for i, c in enumerate(labels):
            x[i, T // 2:, 8 * c + 48: 8 * c + 56 if c < 2 else 68, 1] += 3.0 * scale  # a lip-region pull
        return (x + rng.normal(0, noise, x.shape)).reshape(len(labels), -1)

    return TransductiveProblem(clips(ys, 1.0, 0.05), ys, clips(yt, 1.6, 0.15), 3), yt


def test_it_learns_the_source_motion_and_transfers():
    problem, yt = _problem()
    model = fit_geograph_dann(problem, {}, epochs=12, seed=0)
    assert model.target_scores.shape == (48, 3) and np.isfinite(model.target_scores).all()
    assert (model.source_scores(problem.xs).argmax(1) == problem.ys).mean() > 0.9
    assert (model.target_scores.argmax(1) == yt).mean() > 0.6
    first, last = np.mean([c for c, _ in model.history[:2]]), np.mean([c for c, _ in model.history[-2:]])
    assert last < first
    assert all(np.isfinite(d) and d > 0 for _, d in model.history)


def test_the_domain_weight_changes_training():
    problem, _ = _problem(1, n=24)  # 2 epochs: the reversed gradient is 0 at the first step (DANN's schedule)
    plain = GeoGraphDANN(epochs=2, domain_weight=0.0).fit(problem.xs, problem.ys, problem.xt, 3)
    adversarial = GeoGraphDANN(epochs=2, domain_weight=1.0).fit(problem.xs, problem.ys, problem.xt, 3)
    assert not np.allclose(plain.target_scores, adversarial.target_scores)


def test_rows_that_are_not_landmark_sequences_are_an_error():
    with pytest.raises(ValueError, match="landmark sequences"):
        GeoGraphDANN()._sequences(np.ones((2, 30)))


def test_a_network_key_geograph_does_not_have_is_an_error_naming_it():
    from core.errors import ConfigError

    problem, _ = _problem(2, n=6)
    with pytest.raises(ConfigError, match="model.network.knn_kk"):
        GeoGraphDANN(epochs=1, network={"knn_kk": 3}).fit(problem.xs, problem.ys, problem.xt, 3)


def test_the_network_block_is_geographs_defaults():
    """geograph_dann's network keys hold geograph's default values (a change to one is a change to both)."""
    dann = yaml.safe_load((ROOT / "experiments/_defaults/methods/geograph_dann.yaml").read_text())["model"]
    geograph = yaml.safe_load((ROOT / "experiments/_defaults/methods/geograph.yaml").read_text())["model"]
    assert dann["network"] == {k: geograph[k] for k in dann["network"]}
    for key in ("semantic_lr_scale", "class_weight"):
        assert dann[key] == geograph[key]
    from experiments.config import load_experiment

    assert load_experiment("geograph_dann/casme2_to_smic", ["seed=4"]).model.seed == 4


def test_balanced_weights_give_each_present_class_the_same_total():
    weight = balanced_class_weight(np.array([0, 0, 0, 1, 2, 2]), 4).numpy()
    assert np.allclose(weight[:3] * np.array([3, 1, 2]), 1.5) and weight[3] == 0
