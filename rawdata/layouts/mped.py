"""MPED (Song et al., IEEE Access 2019) extracted EEG features: 23 subjects x 30 trials (2 resting + 28 film clips).

23 subjects and 30 trials each [TorchEEG's docstring]; 28 videos, six discrete emotions and neutral [README].

Sources read (tags: [README] the release's own page, github.com/Tengfei000/MPED README.md, read 2026-12-04;
[TorchEEG] torcheeg/torcheeg ``datasets/module/emotion_recognition/mped_feature.py`` and
``datasets/constants/emotion_recognition/mped.py``, a public reader of the release; CHOICE: no source gives it)::

    <root>/EEG_feature/                      "EEG_feature : HHS, Hjorth, HOC, PSD and STFT features" [README]
        PSD/<file>.mat     key PSD                                    [TorchEEG]
        STFT/<file>.mat    key STFT                                   [TorchEEG]
        HHS/<file>.mat     keys hhs_A, hhs_E                          [TorchEEG]
        Hjorth/<file>.mat  keys alpha, beta, delta, gamma, theta, whole   [TorchEEG]
        HOC/<file>.mat     keys alpha, beta, delta, gamma, theta, whole   [TorchEEG]

- one file per subject, the SAME file name in every feature folder; the subject is the name up to the first ``_``
  (``<subject>_....mat``) [TorchEEG: it lists one folder and opens that name in each feature folder];
- every key holds a 1 x 30 MATLAB cell array, cell t = trial t+1 [TorchEEG: ``samples[key][0][trial]``, "(1, 30)"];
  each cell a float array (channels, T windows, F): PSD / STFT / HHS F = 5, Hjorth F = 3, HOC F = 20, and T = 120 in
  TorchEEG's comments [TorchEEG, comments only]; rows beyond the first 62 are not EEG [TorchEEG: "the first 62
  channels are EEG signals", it keeps ``[:62]``]. TorchEEG's test counts 129,904 windows over the release with PSD,
  i.e. 5,648 per subject (23 x 5,648), so T varies by clip and the "120" is an example, not a constant;
- labels: "0-resting status, 1-neutral, 2-joy, 3-funny, 4-angry, 5-fear, 6-disgust, 7-sadness" [README]; the
  label of each of the 30 trials, :data:`TRIAL_LABELS`, is TorchEEG's list (trials 1 and 16 resting, each emotion
  four times) [TorchEEG]; it agrees with the README's split (the 7 testing trials hold one trial of each emotion,
  the 21 training trials three; tests/test_eeg_mped.py checks it). Index names: ``anger`` (README "angry") and
  the README's other words. The release's ``label`` item has no documented file format here, so the list is in code
  (as SEED-IV's); a ``trial_labels.json`` beside the feature folders (``{"labels": [30 ints in 0..7]}``) replaces it;
- the subject-dependent split: "Training trials: [2,...,15,17,18,19,20,23,25,27]; Testing trials:
  [21,22,24,26,28,29,30]" [README] (:data:`TRAIN_TRIALS`, :data:`TEST_TRIALS`): 21 / 7 trials, three / one of each
  emotion, the resting trials 1 and 16 in neither;
- 62 channels in SEED's order (FP1 ... CB2) [TorchEEG: ``MPED_CHANNEL_LIST``]; 1000 Hz EEG, GSR, respiration and
  ECG are recorded [README]; the raw signals (``raw_EEG_signals``) and the peripheral ``GSR_RSP_ECG_*`` items are
  listed by the README without a layout, so this parser reads only ``EEG_feature`` (CHOICE).

CHOICES (no source gives them): the five columns of PSD / STFT are named as SEED's bands (delta .. gamma: the band
order is not documented); the window length is not documented (the stand-in writes one window per "second"); a
file name without ``_`` (``<subject>.mat``) is accepted too; a subject missing from a feature folder that exists
is an error and the subject is dropped; a feature dimension F other than TorchEEG's for HHS / Hjorth / HOC is a
warning (those numbers are only comments there), for PSD / STFT an error (5 band columns are what the EEG methods
read); more than 62 rows is a warning (the first 62 are read); T must agree across every key and folder of a
trial (TorchEEG concatenates the chosen features of a window, which needs it); a feature folder without any
subject file is a warning and ignored. Files are read with ``scipy.io.loadmat`` only; nothing is unpickled.

No DE ships with MPED. The EEG methods read ``data.feature`` (experiments/_defaults/datasets/mped.yaml: ``STFT``, a
CHOICE: a 5-band spectral feature per channel and window, the same (62, 5) shape as SEED's DE; ``PSD`` is the
other 5-band option, and the log of a band power is an affine function of a Gaussian band's DE).

One index row per trial (resting trials included; consumers drop them): sample_id ``mped_<subject>_t<trial>``,
dataset, subject, session (1: one recording per subject), trial (1..30), clip ``t<trial>``, label (0..7), emotion,
split (train / test / rest, the README's lists), file (the subject's file in the first feature folder found,
:data:`FAMILIES` order), windows (T), features (the feature folders read, ``+``-joined).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from core.io import atomic_path
from rawdata.index import make_sample_id, normalise_subject
from rawdata.layouts import seed as seed_layout
from rawdata.layouts.common import ParseResult, Problems

FORMAT = "mped"
N_TRIALS = 30
N_CHANNELS = 62
CHANNELS = seed_layout.CHANNELS
BANDS = seed_layout.BANDS
LABELS = {0: "resting", 1: "neutral", 2: "joy", 3: "funny", 4: "anger", 5: "fear", 6: "disgust", 7: "sadness"}
TRIAL_LABELS = (0, 2, 1, 4, 3, 5, 6, 7, 1, 2, 3, 6, 7, 4, 5, 0, 1, 5, 6, 2, 2, 1, 7, 6, 4, 4, 3, 5, 3, 7)
TRAIN_TRIALS = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 23, 25, 27)
TEST_TRIALS = (21, 22, 24, 26, 28, 29, 30)
FEATURE_DIR = "EEG_feature"
LABEL_OVERRIDE = "trial_labels.json"
SUBBANDS = ("alpha", "beta", "delta", "gamma", "theta", "whole")
# feature folder -> {key: feature columns F}; the folder order is the preference for the index's ``file``
FAMILIES: dict[str, dict[str, int]] = {
    "STFT": {"STFT": 5},
    "PSD": {"PSD": 5},
    "HHS": {"hhs_A": 5, "hhs_E": 5},
    "Hjorth": {k: 3 for k in SUBBANDS},
    "HOC": {k: 20 for k in SUBBANDS},
}
BAND_FAMILIES = ("STFT", "PSD")  # F is SEED's 5 bands: a wrong F is an error
MAIN_FEATURE = "STFT"

_FILE = re.compile(r"^(?P<subject>[A-Za-z0-9]+)(?:_[^/]*)?\.mat$")


def feature_dir(root: str | Path) -> Path:
    root = Path(root)
    return root / FEATURE_DIR if (root / FEATURE_DIR).is_dir() else root


def feature_columns(feature: str) -> tuple[str, ...]:
    """Names of the F columns of ``feature`` as :func:`load_trials` returns them (keys concatenated in order)."""
    if feature not in FAMILIES:
        raise KeyError(feature)
    if feature in BAND_FAMILIES:
        return BANDS
    return tuple(f"{key}_{i}" for key, n in FAMILIES[feature].items() for i in range(n))


def split_of(trial: int) -> str:
    return "train" if trial in TRAIN_TRIALS else "test" if trial in TEST_TRIALS else "rest"


def read_trial_labels(folder: Path, problems: Problems) -> tuple[int, ...] | None:
    """:data:`TRIAL_LABELS`, or the list of ``trial_labels.json`` when present (None with an error if bad)."""
    path = folder / LABEL_OVERRIDE
    if not path.is_file():
        return TRIAL_LABELS
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        problems.error(path, f"cannot read the JSON label list: {err}")
        return None
    values = data.get("labels") if isinstance(data, dict) else None
    if not isinstance(values, list) or len(values) != N_TRIALS \
            or any(not isinstance(v, int) or isinstance(v, bool) or v not in LABELS for v in values):
        problems.error(path, f"key 'labels': expected a list of {N_TRIALS} labels in 0..7, got {values!r:.80}")
        return None
    return tuple(values)


def subject_files(folder: Path, problems: Problems) -> dict[str, dict[str, Path]]:
    """Feature folder -> {subject: file} for every feature folder present; other names are warned about."""
    found: dict[str, dict[str, Path]] = {}
    for family in FAMILIES:
        sub = folder / family
        if not sub.is_dir():
            continue
        files: dict[str, Path] = {}
        for path in sorted(sub.glob("*.mat")):
            match = _FILE.match(path.name)
            if not match:
                problems.warning(path, "ignored: not a subject file named <subject>_<...>.mat")
                continue
            subject = normalise_subject(match.group("subject"))
            if subject in files:
                problems.error(path, f"subject {subject}: a second file in {family}/ (first: {files[subject].name})")
                continue
            files[subject] = path
        if not files:
            problems.warning(sub, f"ignored: no <subject>_<...>.mat file in the {family} folder")
            continue
        found[family] = files
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in FAMILIES) if folder.is_dir() else ():
        problems.warning(path, f"ignored: not a feature folder ({', '.join(FAMILIES)})")
    return found


def check_family(path: Path, data: Mapping[str, np.ndarray], family: str, problems: Problems) -> list[int] | None:
    """Windows per trial (30 values) of one feature file, or None when a key is missing or malformed."""
    windows: list[int] | None = None
    ok = True
    for key, columns in FAMILIES[family].items():
        if key not in data:
            problems.error(path, f"missing key '{key}' (found {sorted(data)[:8]}); expected a 1 x {N_TRIALS} cell "
                                 f"array of (62 channels, T windows, {columns}) arrays")
            ok = False
            continue
        cells = np.asarray(data[key])
        if cells.dtype != object or cells.size != N_TRIALS or sorted(cells.shape)[:-1] != [1] * (cells.ndim - 1):
            problems.error(path, f"key '{key}': {cells.dtype} array of shape {cells.shape}, expected a 1 x "
                                 f"{N_TRIALS} cell array (one cell per trial)")
            ok = False
            continue
        lengths = []
        for trial, cell in enumerate(cells.ravel(), start=1):
            message = _cell_problem(np.asarray(cell), columns, family in BAND_FAMILIES, path, key, trial, problems)
            if message:
                problems.error(path, f"key '{key}' trial {trial}: {message}")
                ok = False
                lengths.append(-1)
                continue
            lengths.append(int(np.asarray(cell).shape[1]))
        if windows is None:
            windows = lengths
        elif ok:
            for trial, (a, b) in enumerate(zip(windows, lengths, strict=True), start=1):
                if a != b and a >= 0 and b >= 0:
                    problems.error(path, f"key '{key}' trial {trial}: {b} windows, but "
                                         f"'{next(iter(FAMILIES[family]))}' has {a} (every key has the same windows)")
                    ok = False
    return windows if ok and windows is not None else None


def _cell_problem(array: np.ndarray, columns: int, strict: bool, path: Path, key: str, trial: int,
                  problems: Problems) -> str | None:
    expected = f"(62 channels, T windows, {columns})"
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        return f"{array.dtype} values, expected a float array {expected}"
    if array.ndim != 3 or array.shape[0] < N_CHANNELS or array.shape[1] < 1:
        return f"shape {array.shape}, expected {expected}"
    if array.shape[2] != columns:
        if strict:
            return f"shape {array.shape}, expected {expected}"
        if trial == 1:
            problems.warning(path, f"key '{key}': {array.shape[2]} feature columns, TorchEEG's reader notes {columns}")
    if array.shape[0] > N_CHANNELS and trial == 1:
        problems.warning(path, f"key '{key}': {array.shape[0]} rows, the first {N_CHANNELS} (EEG) are read")
    bad = int(np.sum(~np.isfinite(array[:N_CHANNELS])))
    if bad:
        return f"{bad} NaN or infinite values"
    return None


def parse(root: str | Path, dataset: str = FORMAT) -> ParseResult:
    """Index (one row per trial) and every problem of an MPED ``EEG_feature`` folder."""
    folder = feature_dir(root)
    problems = Problems()
    labels = read_trial_labels(folder, problems)
    per_family = subject_files(folder, problems)
    if not per_family:
        problems.error(folder, f"no feature folder found (expected {FEATURE_DIR}/ with {', '.join(FAMILIES)})")
    subjects = sorted({s for files in per_family.values() for s in files}, key=seed_layout._subject_order)
    rows = []
    for subject in subjects:
        missing = [f for f, files in per_family.items() if subject not in files]
        if missing:
            problems.error(folder, f"subject {subject}: no file in feature folder(s) {missing}")
            continue
        windows: list[int] | None = None
        ok = True
        for family, files in per_family.items():
            path = files[subject]
            data = seed_layout.read_mat(path, problems)
            found = None if data is None else check_family(path, data, family, problems)
            if found is None:
                ok = False
                continue
            if windows is not None and found != windows:
                trial = next(t for t, (a, b) in enumerate(zip(windows, found, strict=True), start=1) if a != b)
                problems.error(path, f"trial {trial}: {found[trial - 1]} windows, but the {next(iter(per_family))} "
                                     f"file has {windows[trial - 1]} (every feature has the same windows)")
                ok = False
            windows = windows or found
        if not ok or labels is None or windows is None:
            continue
        first = per_family[next(iter(per_family))][subject]
        for trial in range(1, N_TRIALS + 1):
            clip = f"t{trial}"
            label = labels[trial - 1]
            rows.append({
                "sample_id": make_sample_id(dataset, subject, clip), "dataset": dataset, "subject": subject,
                "session": 1, "trial": trial, "clip": clip, "label": label, "emotion": LABELS[label],
                "split": split_of(trial), "file": str(first.resolve()), "windows": windows[trial - 1],
                "features": "+".join(per_family),
            })
    columns = ["sample_id", "dataset", "subject", "session", "trial", "clip", "label", "emotion", "split", "file",
               "windows", "features"]
    return ParseResult(pd.DataFrame(rows, columns=columns), list(problems))


def family_file(index_file: str | Path, feature: str) -> Path:
    """The subject's file in the ``feature`` folder, from the index's ``file`` (same name in every folder)."""
    path = Path(index_file)
    return path.parent.parent / feature / path.name


def load_trials(index: pd.DataFrame, feature: str = MAIN_FEATURE) -> dict[str, np.ndarray]:
    """sample_id -> the trial's ``feature`` as float32 (T, 62, F) (windows first; keys of a folder concatenated
    along F in :data:`FAMILIES` order), reading each file once."""
    keys = list(FAMILIES[feature])
    out: dict[str, np.ndarray] = {}
    for path, rows in index.groupby("file", sort=False):
        data = scipy.io.loadmat(str(family_file(path, feature)), variable_names=keys)
        for row in rows.itertuples():
            parts = [np.asarray(np.asarray(data[k]).ravel()[row.trial - 1], dtype=np.float32)[:N_CHANNELS]
                     for k in keys]
            out[row.sample_id] = np.ascontiguousarray(np.concatenate(parts, axis=2).transpose(1, 0, 2))
    return out


# -- writer twin ---------------------------------------------------------------------------------------------------


def subject_file_name(subject: int | str, tag: str = "") -> str:
    return f"{subject}_{tag}.mat" if tag else f"{subject}.mat"


def cell_array(trials: list[np.ndarray]) -> np.ndarray:
    """A 1 x n MATLAB cell array (object array) holding one array per trial."""
    cells = np.empty((1, len(trials)), dtype=object)
    for i, array in enumerate(trials):
        cells[0, i] = array
    return cells


def write_family(folder: str | Path, family: str, name: str, keys: Mapping[str, list[np.ndarray]]) -> Path:
    """Write ``<folder>/<family>/<name>``: each key a 1 x 30 cell array of (62, T, F) arrays (MATLAB v5)."""
    path = Path(folder) / family / name
    with atomic_path(path) as tmp:
        scipy.io.savemat(str(tmp), {k: cell_array(v) for k, v in keys.items()}, do_compression=True)
    return path


def write_labels_override(folder: str | Path, labels) -> Path:
    path = Path(folder) / LABEL_OVERRIDE
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps({"labels": [int(x) for x in labels]}))
    return path
