"""SEED-IV and DEAP in the EEG task: the window source reads both stand-ins, DEAP's DE features are computed from
its signals, the trial k-fold keeps trials whole, and every SEED-IV / DEAP experiment resolves and builds."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigError, DatasetError
from datamodules.eeg import EEGSource
from datamodules.eeg_protocols import eeg_folds, shared_trials, trial_of
from experiments import registry
from experiments.config import load_experiment
from experiments.tasks.eeg import prepare
from preprocessing.eeg_features import DEAP_BANDS, differential_entropy
from rawdata.synth import generate

NEW = ("dgcnn/seed_iv", "dgcnn-loso/seed_iv", "dgcnn-cross_session/seed_iv", "pgcn/seed_iv", "tann/seed_iv",
       "gmss/seed_iv", "dgcnn/deap", "dgcnn-arousal/deap")


class _Spec:
    inputs = ()


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    root = tmp_path_factory.mktemp("eeg")
    generate("seed_iv", root / "seed_iv", subjects=2, seed=0, windows=(4, 6), psd=False)
    generate("deap", root / "deap", subjects=2, seed=0, samples=6 * 128)
    return root


def test_differential_entropy_of_a_sine_is_that_of_its_variance_in_its_band_only():
    rate, t = 128, np.arange(4 * 128) / 128
    signal = np.stack([3.0 * np.sin(2 * np.pi * 10 * t), np.random.default_rng(0).standard_normal(len(t))])
    de = differential_entropy(signal, rate, DEAP_BANDS, window_s=1.0)
    assert de.shape == (4, 2, 4)
    alpha = list(DEAP_BANDS).index("alpha")
    expected = 0.5 * np.log(2 * np.pi * np.e * 3.0 ** 2 / 2)
    assert np.allclose(de[1:3, 0, alpha], expected, atol=0.05)  # middle windows: away from the filter's edges
    assert np.all(np.delete(de[1:3, 0], alpha, axis=1) < expected - 2)
    with pytest.raises(ValueError, match="Nyquist"):
        differential_entropy(signal, rate, {"high": (40.0, 70.0)})


def test_seed_iv_source_has_four_classes_and_a_16_8_split(roots):
    cfg = load_experiment("dgcnn/seed_iv", [f"data.eeg_root={roots / 'seed_iv'}"])
    prepared = prepare(cfg, _Spec(), roots)
    source = prepared.source
    assert source.x.shape[1:] == (62, 5) and sorted(set(source.index["y"])) == [0, 1, 2, 3]
    assert len(prepared.folds) == 6  # 2 subjects x 3 sessions
    for fold in prepared.folds:
        assert not shared_trials(fold)
        assert {int(trial_of(w).rsplit("_t", 1)[1]) for w in fold.test} == set(range(17, 25))
    info = source.info(prepared.folds[0].train)
    assert info.n_classes == 4 and info.n_channels == 62


@pytest.mark.parametrize("target", ["valence", "arousal"])
def test_deap_source_computes_de_windows_after_the_baseline_and_labels_the_rating(roots, target):
    cfg = load_experiment("dgcnn/deap", [f"data.eeg_root={roots / 'deap'}", f"data.target={target}"])
    source = EEGSource(cfg, (), ".")
    assert source.x.shape == (2 * 40 * 3, 32, 4)  # 6-s trials, 3-s baseline dropped, 1-s windows
    assert (source.trials["windows"] == 3).all() and list(source.bands) == list(DEAP_BANDS)
    assert (source.trials["y"] == (source.trials[target] > 5).astype(int)).all()
    assert source.info(source.index["sample_id"]).channels[0] == "Fp1"


def test_deap_trial_kfold_tests_every_trial_once_and_keeps_trials_whole(roots):
    cfg = load_experiment("dgcnn/deap", [f"data.eeg_root={roots / 'deap'}"])
    prepared = prepare(cfg, _Spec(), roots)
    assert len(prepared.folds) == 20  # 2 subjects x 10 folds
    tested = [trial_of(w) for fold in prepared.folds for w in fold.test]
    assert not any(shared_trials(f) for f in prepared.folds)
    assert sorted(set(tested)) == sorted(prepared.source.trials["sample_id"]) and len(tested) == 2 * 40 * 3
    with pytest.raises(ConfigError, match="n_folds=41"):
        eeg_folds(prepared.source.trials, "trial_kfold", n_folds=41)


def test_deap_trials_too_short_for_the_baseline_name_the_file(roots):
    cfg = load_experiment("dgcnn/deap", [f"data.eeg_root={roots / 'deap'}", "data.baseline_s=6"])
    with pytest.raises(DatasetError, match=r"s01\.mat.*baseline|baseline.*s01\.mat"):
        EEGSource(cfg, (), ".")
    with pytest.raises(ConfigError, match="data.target"):
        EEGSource(load_experiment("dgcnn/deap", [f"data.eeg_root={roots / 'deap'}", "data.target=liking"]), (), ".")


@pytest.mark.parametrize("experiment", NEW)
def test_the_new_experiments_resolve_and_their_networks_take_the_windows(roots, experiment):
    import torch

    dataset = experiment.split("/")[1]
    cfg = load_experiment(experiment, [f"data.eeg_root={roots / dataset}"])
    assert experiment in registry.experiment_ids()
    prepared = prepare(cfg, _Spec(), roots)
    fold = prepared.folds[0]
    module = registry.method(str(cfg.method)).load()(cfg, prepared.source.info(fold.train))
    batch = next(iter(prepared.source.datamodule(fold).predict_dataloader()))
    module.eval()
    with torch.no_grad():
        scores = module.compute(batch)[0]["scores"]
    assert scores.shape == (len(batch["x"]), len(cfg.data.classes)) and torch.isfinite(scores).all()
