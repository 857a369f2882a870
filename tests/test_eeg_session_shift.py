"""The SEED and SEED-IV stand-ins' session shift (rawdata/synth/eeg.py :class:`SessionShift`; SEED version 2,
SEED-IV since its first version): sessions of one subject differ only with it.

Per stand-in kind, with the default knobs and with the three session knobs at 0:
- a session classifier (LDA on de_LDS windows, trained on each session's first trials of a subject: SEED 1-9,
  SEED-IV 1-16; tested on that subject's later trials) beats chance (1/3) clearly with the knobs and stays near
  chance without them;
- a subject's per-session channel means (over trials, windows and bands) differ between sessions by about
  ``session_offset_sd`` per session with the knobs, by window noise only (~0.06) without;
- with the knobs at 0 nothing session-specific is drawn (every session gain is 1) and nothing else changes (dates,
  trial lengths and subject gains are those of the shifted stand-in: the shift has its own random stream);
- the electrode offset alone (gain and rotation at 0) moves every value of a (subject, session, channel) by one
  constant, shared by its bands and windows, of sd ``session_offset_sd``: the files differ from the unshifted ones
  by exactly that, so every other draw is bit-for-bit the same.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.io
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from core.errors import AffectError
from rawdata.layouts import parse
from rawdata.layouts.seed import load_trials
from rawdata.synth.eeg import VERSION_IV, VERSION_SEED, EEGSynthParams, generate_seed, generate_seed_iv

NO_SHIFT = {"session_offset_sd": 0.0, "session_gain_sd": 0.0, "session_rotation": 0.0}
OFFSET_ONLY = {"session_gain_sd": 0.0, "session_rotation": 0.0}
# kind -> (generator, last training trial of the session classifier, generator version)
KINDS = {"seed": (generate_seed, 9, VERSION_SEED), "seed_iv": (generate_seed_iv, 16, VERSION_IV)}
SMALL = {"subjects": 2, "seed": 0, "windows": (6, 8), "psd": False}


def session_accuracy(root, kind: str, last_train: int) -> float:
    index = parse(kind, root).index
    arrays = load_trials(index, "de_LDS")

    def xy(rows):
        x = np.concatenate([arrays[s].reshape(len(arrays[s]), -1) for s in rows["sample_id"]])
        y = np.concatenate([[k] * len(arrays[s]) for s, k in zip(rows["sample_id"], rows["session"], strict=True)])
        return x, y

    scores = []
    for _, rows in index.groupby("subject"):
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(*xy(rows[rows["trial"] <= last_train]))
        scores.append(model.score(*xy(rows[rows["trial"] > last_train])))
    return float(np.mean(scores))


def session_files(root, subject: str) -> list:
    truth = json.loads((root / "ground_truth.json").read_text())
    folder = next(p for p in root.iterdir() if p.is_dir())  # ExtractedFeatures / eeg_feature_smooth
    return [folder / s["file"] for s in truth["subjects"][subject]["sessions"]]


def de_trials(path) -> dict[str, np.ndarray]:
    data = scipy.io.loadmat(str(path))
    return {k: v.astype(np.float64) for k, v in data.items() if k.startswith("de_LDS")}


def channel_means(path) -> np.ndarray:
    """Per channel: the mean over all trials, windows and bands of one session file's de_LDS."""
    trials = de_trials(path)
    return np.concatenate([x.reshape(x.shape[0], -1) for x in trials.values()], axis=1).mean(axis=1)


@pytest.fixture(scope="module", params=sorted(KINDS))
def standins(request, tmp_path_factory):
    kind = request.param
    generate = KINDS[kind][0]
    root = tmp_path_factory.mktemp(f"session_shift_{kind}")
    generate(root / "on", **SMALL)
    generate(root / "off", **SMALL, **NO_SHIFT)
    generate(root / "offset", **SMALL, **OFFSET_ONLY)
    return kind, root


def test_a_session_classifier_beats_chance_only_with_the_session_shift(standins):
    kind, root = standins
    last_train = KINDS[kind][1]
    with_shift, without = session_accuracy(root / "on", kind, last_train), session_accuracy(root / "off", kind,
                                                                                             last_train)
    assert with_shift > 0.6
    assert without < 0.45  # chance 1/3
    assert with_shift - without > 0.3


def test_per_session_channel_means_differ_by_about_the_offset_sd(standins):
    _, root = standins
    sd = EEGSynthParams().session_offset_sd

    def spread(variant: str) -> float:
        """sd over channels of the difference of two sessions' channel means, / sqrt(2): one session's share."""
        out = []
        for subject in ("1", "2"):
            means = [channel_means(path) for path in session_files(root / variant, subject)]
            out += [np.std(means[a] - means[b]) / np.sqrt(2) for a, b in ((0, 1), (0, 2), (1, 2))]
        return float(np.mean(out))

    with_shift, without = spread("on"), spread("off")
    assert 0.7 * sd < with_shift < 1.5 * sd  # the offset plus window noise, gain and rotation
    assert without < 0.4 * sd


def test_without_the_knobs_no_session_draw_reaches_the_files(standins):
    kind, root = standins
    truth = json.loads((root / "off" / "ground_truth.json").read_text())
    gains = [s["session_gain"] for subject in truth["subjects"].values() for s in subject["sessions"]]
    assert gains == [1.0] * 6
    shifted = json.loads((root / "on" / "ground_truth.json").read_text())
    assert len({s["session_gain"] for s in shifted["subjects"]["1"]["sessions"]}) == 3

    def without_session_gains(t: dict) -> dict:
        return {s: {"gain": v["gain"], "sessions": [{k: x for k, x in session.items() if k != "session_gain"}
                                                    for session in v["sessions"]]}
                for s, v in t["subjects"].items()}

    assert without_session_gains(shifted) == without_session_gains(truth)  # dates, lengths, subject gains
    summary = json.loads((root / "on" / "SYNTHETIC.json").read_text())
    assert summary["version"] == KINDS[kind][2]
    assert {k: summary["parameters"][k] for k in NO_SHIFT} == {"session_offset_sd": 0.25, "session_gain_sd": 0.125,
                                                               "session_rotation": 0.2}


def test_the_electrode_offset_is_one_constant_per_channel_and_session(standins):
    _, root = standins
    constants = []
    for subject in ("1", "2"):
        for shifted, plain in zip(session_files(root / "offset", subject), session_files(root / "off", subject),
                                  strict=True):
            a, b = de_trials(shifted), de_trials(plain)
            assert a.keys() == b.keys()
            diff = np.concatenate([(a[k] - b[k]).reshape(a[k].shape[0], -1) for k in a], axis=1)  # channel x rest
            assert np.abs(diff - diff.mean(axis=1, keepdims=True)).max() < 1e-4  # float32 rounding only
            constants.append(diff.mean(axis=1))
    constants = np.asarray(constants)  # (subject, session) x channel
    assert np.abs(constants[0] - constants[1]).min() > 0  # each session draws its own
    assert 0.8 * 0.25 < constants.std() < 1.2 * 0.25  # 372 draws of sd 0.25


def test_a_session_rotation_outside_0_1_is_refused(tmp_path):
    with pytest.raises(AffectError, match="session_rotation"):
        generate_seed(tmp_path, subjects=1, windows=(2, 3), psd=False, session_rotation=1.5)
    with pytest.raises(AffectError, match="session_rotation"):
        generate_seed_iv(tmp_path / "iv", subjects=1, windows=(2, 3), psd=False, session_rotation=-0.1)
