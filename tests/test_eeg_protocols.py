"""EEG protocols never put windows of one trial on both sides (the leaky diagnostic does, and only it);
smoothing stays inside a trial."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError
from datamodules.eeg_protocols import (
    LEAKY,
    PROTOCOLS,
    eeg_folds,
    shared_trials,
    trial_of,
    windows_of,
)
from preprocessing.eeg_smoothing import lds_smooth, moving_average, smooth_within_trials
from rawdata.layouts import parse
from rawdata.synth import generate


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("seedp") / "seed"
    generate("seed", out, subjects=3, seed=2, windows=[4, 7], psd=False)
    return parse("seed", out).index


OPTIONS = [("subject_dependent", {}), ("loso", {"sessions": "pooled"}), ("loso", {"sessions": "per_session"}),
           ("cross_session", {}), ("trial_kfold", {"n_folds": 5}), ("subject_kfold", {"n_folds": 3}),
           ("random_windows_leaky", {})]


@pytest.mark.parametrize(("name", "options"), OPTIONS)
def test_folds_cover_windows_and_only_the_leaky_split_shares_trials(index, name, options):
    folds = eeg_folds(index, name, **options)
    every = set(windows_of(index))
    for fold in folds:
        assert set(fold.train) | set(fold.test) <= every and not set(fold.train) & set(fold.test)
        if name in LEAKY:
            assert shared_trials(fold), fold.name  # every fold mixes trials: that is the leak it shows
        else:
            assert shared_trials(fold) == set(), (fold.name, sorted(shared_trials(fold))[:3])
    tested = [w for f in folds for w in f.test]
    assert len(tested) == len(set(tested))  # no window is tested twice
    if name in ("loso", "cross_session", "trial_kfold"):
        assert set(tested) == every  # ... and these test every window once


def test_fold_counts_and_the_9_6_split(index):
    folds = eeg_folds(index, "subject_dependent")
    assert len(folds) == 3 * 3 and folds[0].name == "subject=1/session=1"
    trial_number = dict(zip(index["sample_id"], index["trial"], strict=True))
    assert {trial_number[trial_of(w)] for w in folds[0].train} == set(range(1, 10))
    assert {trial_number[trial_of(w)] for w in folds[0].test} == set(range(10, 16))
    assert len(eeg_folds(index, "loso")) == 3 and len(eeg_folds(index, "loso", sessions="per_session")) == 9
    subject = dict(zip(index["sample_id"], index["subject"], strict=True))
    for fold in eeg_folds(index, "loso"):  # no window of the test subject in training
        assert {subject[trial_of(w)] for w in fold.train}.isdisjoint({subject[trial_of(w)] for w in fold.test})
    session = dict(zip(index["sample_id"], index["session"], strict=True))
    for fold in eeg_folds(index, "cross_session"):
        assert {session[trial_of(w)] for w in fold.train}.isdisjoint({session[trial_of(w)] for w in fold.test})
    assert set(PROTOCOLS) == {n for n, _ in OPTIONS}


def test_last_trial_splits_the_training_trials_only(index):
    """Inner validation (``last_trial`` = the outer n_train): both sides lie in the outer training trials 1-9."""
    trial_number = dict(zip(index["sample_id"], index["trial"], strict=True))
    outer = eeg_folds(index, "subject_dependent")
    inner = eeg_folds(index, "subject_dependent", n_train=6, last_trial=9)
    assert [f.name for f in inner] == [f.name for f in outer]
    for o, i in zip(outer, inner, strict=True):
        assert {trial_number[trial_of(w)] for w in i.train} == set(range(1, 7))
        assert {trial_number[trial_of(w)] for w in i.test} == {7, 8, 9}
        assert set(i.train) | set(i.test) == set(o.train)  # exactly the outer training windows
        assert set(i.test).isdisjoint(o.test)
    with pytest.raises(ConfigError, match="last_trial"):
        eeg_folds(index, "subject_dependent", last_trial=9)
    with pytest.raises(ConfigError, match="n_train=9"):
        eeg_folds(index, "subject_dependent", n_train=9, last_trial=9)


def test_bad_protocol_options_are_config_errors(index):
    with pytest.raises(ConfigError, match="unknown EEG protocol"):
        eeg_folds(index, "random_windows")
    with pytest.raises(ConfigError, match="pooled or per_session"):
        eeg_folds(index, "loso", sessions="both")
    with pytest.raises(ConfigError, match="n_train=15"):
        eeg_folds(index, "subject_dependent", n_train=15)


# ---------------------------------------------------------------- smoothing within a trial


@pytest.mark.parametrize(("method", "knobs"), [("lds", {"ratio": 0.1}), ("moving_average", {"width": 5})])
def test_smoothing_never_crosses_a_trial_boundary(method, knobs):
    rng = np.random.default_rng(0)
    lengths = [7, 5, 9]
    x = rng.standard_normal((sum(lengths), 62, 5))
    trials = np.repeat([1, 2, 3], lengths)
    before = smooth_within_trials(x, trials, method, **knobs)
    changed = x.copy()
    changed[trials == 2] += 100.0  # change trial k+1 entirely
    after = smooth_within_trials(changed, trials, method, **knobs)
    assert np.array_equal(before[trials == 1], after[trials == 1])
    assert np.array_equal(before[trials == 3], after[trials == 3])
    assert not np.allclose(before[trials == 2], after[trials == 2])
    # negative control: the same smoother run over the concatenated session does leak into trial k
    whole = {"lds": lds_smooth, "moving_average": moving_average}[method]
    assert not np.allclose(whole(x, **knobs)[trials == 1], whole(changed, **knobs)[trials == 1])


def test_smoothers_smooth_and_refuse_interleaved_trials():
    rng = np.random.default_rng(1)
    signal = np.linspace(0, 1, 50)[:, None]
    noisy = signal + 0.3 * rng.standard_normal((50, 1))
    for smoothed in (lds_smooth(noisy), moving_average(noisy, 7)):
        assert np.mean((smoothed - signal) ** 2) < 0.5 * np.mean((noisy - signal) ** 2)
    assert np.allclose(moving_average(np.ones((4, 2)), 3), 1.0) and np.allclose(lds_smooth(np.ones((4, 2))), 1.0)
    with pytest.raises(ValueError, match="not contiguous"):
        smooth_within_trials(np.zeros((4, 1)), [1, 2, 1, 2])
