"""The SEED stand-in's session shift (rawdata/synth/eeg.py, version 2): sessions of one subject differ only with it.

A session classifier (LDA on de_LDS windows, trained on trials 1-9 of each session of a subject, tested on that
subject's trials 10-15) beats chance (1/3) clearly with the default knobs and stays near chance with the three
session knobs at 0; with the knobs at 0 nothing session-specific is drawn (every session gain is 1).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from core.errors import AffectError
from rawdata.layouts import parse
from rawdata.layouts.seed import load_trials
from rawdata.synth.eeg import generate_seed

NO_SHIFT = {"session_offset_sd": 0.0, "session_gain_sd": 0.0, "session_rotation": 0.0}


def session_accuracy(root) -> float:
    index = parse("seed", root).index
    arrays = load_trials(index, "de_LDS")

    def xy(rows):
        x = np.concatenate([arrays[s].reshape(len(arrays[s]), -1) for s in rows["sample_id"]])
        y = np.concatenate([[k] * len(arrays[s]) for s, k in zip(rows["sample_id"], rows["session"], strict=True)])
        return x, y

    scores = []
    for _, rows in index.groupby("subject"):
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(*xy(rows[rows["trial"] <= 9]))
        scores.append(model.score(*xy(rows[rows["trial"] > 9])))
    return float(np.mean(scores))


@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    root = tmp_path_factory.mktemp("session_shift")
    generate_seed(root / "on", subjects=2, seed=0, windows=(6, 8), psd=False)
    generate_seed(root / "off", subjects=2, seed=0, windows=(6, 8), psd=False, **NO_SHIFT)
    return root


def test_a_session_classifier_beats_chance_only_with_the_session_shift(standins):
    with_shift, without = session_accuracy(standins / "on"), session_accuracy(standins / "off")
    assert with_shift > 0.6
    assert without < 0.45  # chance 1/3
    assert with_shift - without > 0.3


def test_without_the_knobs_no_session_draw_reaches_the_files(standins):
    truth = json.loads((standins / "off" / "ground_truth.json").read_text())
    gains = [s["session_gain"] for subject in truth["subjects"].values() for s in subject["sessions"]]
    assert gains == [1.0] * 6
    shifted = json.loads((standins / "on" / "ground_truth.json").read_text())
    assert len({s["session_gain"] for s in shifted["subjects"]["1"]["sessions"]}) == 3
    assert json.loads((standins / "on" / "SYNTHETIC.json").read_text())["version"] == 2


def test_a_session_rotation_outside_0_1_is_refused(tmp_path):
    with pytest.raises(AffectError, match="session_rotation"):
        generate_seed(tmp_path, subjects=1, windows=(2, 3), psd=False, session_rotation=1.5)
