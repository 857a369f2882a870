"""`affect synth microgesture`: a usable iMiGUE-layout stand-in whose classes move as described."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import AffectError
from rawdata.layouts import imigue
from rawdata.synth import generate
from rawdata.synth.microgesture import J, SynthParams, draw_subject, render_sample

QUIET = SynthParams(noise=0.0, dropout=0.0)


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    out = tmp_path_factory.mktemp("mg") / "microgesture"
    summary = generate("microgesture", out, subjects=5, seed=7, frames=32, repeats=1)
    return out, summary


def _render(name, seed=0, subject_seed=1, frames=64):
    style = draw_subject(np.random.default_rng(subject_seed), 1)
    array, truth = render_sample(np.random.default_rng(seed), style, name, frames, QUIET)
    return array[:2, :, :, 0].transpose(1, 2, 0), truth  # (T, V, 2) pixels


def test_standin_is_a_usable_cross_subject_release(standin):
    out, summary = standin
    result = imigue.parse(out)
    assert result.usable and not result.problems
    index = result.index
    assert summary["train"] + summary["test"] == len(index) == 5 * 12
    train, test = (set(index.loc[index["split"] == s, "subject"]) for s in ("train", "test"))
    assert train and test and not train & test
    marker = json.loads((out / "SYNTHETIC.json").read_text())
    assert marker["generator"] == "affect synth microgesture" and len(marker["classes"]) == 12
    assert (out / "train_label.pkl").is_file()  # as released; the .json beside it is its conversion
    data = np.load(out / "train_data.npy")
    assert data.shape[1:] == (3, 32, 22, 1) and np.isfinite(data).all()


def test_same_seed_same_files(standin, tmp_path):
    out, _ = standin
    again = tmp_path / "again"
    generate("microgesture", again, subjects=5, seed=7, frames=32, repeats=1)
    np.testing.assert_array_equal(np.load(out / "test_data.npy"), np.load(again / "test_data.npy"))
    assert (out / "test_label.json").read_text() == (again / "test_label.json").read_text()


def test_touching_nose_brings_the_hand_to_the_face_and_back():
    pose, truth = _render("touching_nose", seed=4)
    assert truth["reach"] == 1.0  # a full reach (some samples only go part of the way)
    hand = pose[:, J["right_wrist"]] if truth["acting_hand"] == "right" else pose[:, J["left_wrist"]]
    distance = np.linalg.norm(hand - pose[:, J["nose"]], axis=-1)
    middle = (truth["onset_frame"] + truth["offset_frame"]) // 2
    assert distance[middle] < 0.5 * distance[0]
    assert distance[-1] > 2 * distance[middle] or truth["offset_frame"] >= len(pose)


def test_rubbing_hands_oscillates_while_clasping_holds():
    def wrist_gap_wiggle(name):
        pose, truth = _render(name, seed=3)
        gap = pose[:, J["right_wrist"], 0] - pose[:, J["left_wrist"], 0]
        start, end = truth["onset_frame"], min(truth["offset_frame"], len(pose))
        held = gap[start + (end - start) * 35 // 100 : start + (end - start) * 70 // 100]
        return np.abs(np.diff(held)).sum()

    assert wrist_gap_wiggle("rubbing_hands") > 3 * wrist_gap_wiggle("clasping_fingers")


def test_shrug_lifts_the_shoulders_not_the_hands():
    pose, truth = _render("shrugging_shoulders", seed=2)
    shoulders = pose[:, [J["left_shoulder"], J["right_shoulder"]], 1].mean(1)
    wrists = pose[:, [J["left_wrist"], J["right_wrist"]], 1].mean(1)
    assert shoulders.min() < shoulders[0] - 20  # pixels; y points down
    assert np.ptp(wrists) < 0.5 * np.ptp(shoulders)


def test_bad_options_are_user_errors(tmp_path):
    with pytest.raises(AffectError, match="unknown micro-gesture classes"):
        generate("microgesture", tmp_path / "a", subjects=3, classes=["juggling"])
    with pytest.raises(AffectError, match="at least 2"):
        generate("microgesture", tmp_path / "b", subjects=1)
