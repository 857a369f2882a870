"""SEED (BCMI, SJTU) extracted EEG features: 15 subjects x 3 sessions x 15 film trials, labels 1 / 0 / -1.

Layout parsed (facts from ../shared/reference/datasets.md; [V] read in a public toolkit's source, [R] recalled,
verify against your copy)::

    <root>/ExtractedFeatures/<subject>_<YYYYMMDD>.mat    one file per session [V]
        de_LDS1 .. de_LDS15          float (62 channels, T one-second windows, 5 bands delta..gamma) [V]
        de_movingAve1 .. 15, psd_LDS*, psd_movingAve*    the same shape, optional here
        dasm_* / rasm_* / asm_* / dcau_*                 (pairs of channels, T, 5), optional, shapes not checked
    <root>/ExtractedFeatures/label.mat                   key ``label``: the 15 trial labels in {1, 0, -1} [V]

``root`` may also be the ``ExtractedFeatures`` folder itself. A subject's session files are told apart by their
date: sorted by date they are sessions 1, 2, 3 (the dataset gives no other session number). Files are read with
``scipy.io.loadmat`` only (MATLAB v5 files; nothing is unpickled). One index row per trial:

    sample_id ``seed_<subject>_s<session>_t<trial>``, dataset, subject (``"1"``..), session (1..3), trial (1..15),
    clip ``s<session>_t<trial>``, label (1 / 0 / -1), emotion (positive / neutral / negative), file (absolute
    path of the session's .mat), date, windows (T of the trial's ``de_LDS``), features (the feature families
    found, ``+``-joined: ``de_LDS+de_movingAve+psd_LDS``)

Every problem is recorded with its file and key (``affect data check seed --root DIR`` lists them all); a session
with any error contributes no trials. Choices where the documentation is silent: a trial's T must be the same in
every feature family of its file (they are computed on the same windows); a feature family other than
``de_LDS`` is checked only when at least one of its 15 keys is present, then all 15 must be; keys that look like a
feature of a trial number above 15 are a warning; a file name that is not ``<subject>_<8 digits>.mat`` is a warning
and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from core.io import atomic_path
from rawdata.index import make_sample_id, normalise_subject
from rawdata.layouts.common import ParseResult, Problems

FORMAT = "seed"
N_TRIALS = 15
N_SESSIONS = 3
N_CHANNELS = 62
BANDS = ("delta", "theta", "alpha", "beta", "gamma")
LABELS = {1: "positive", 0: "neutral", -1: "negative"}
MAIN_FEATURE = "de_LDS"
FEATURES_62 = ("de_LDS", "de_movingAve", "psd_LDS", "psd_movingAve")  # (62, T, 5) each
OTHER_FEATURES = tuple(f"{f}_{s}" for f in ("dasm", "rasm", "asm", "dcau") for s in ("LDS", "movingAve"))
FEATURE_DIR = "ExtractedFeatures"
LABEL_FILE = "label.mat"
# trial labels of every session in trial order [R]; the stand-in writes these (the parser reads label.mat)
TRIAL_LABELS = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
# electrode order of the 62 channels [R] (CB1 / CB2 are cerebellar electrodes, not in 10-20 montages)
CHANNELS = (
    "FP1", "FPZ", "FP2", "AF3", "AF4",
    "F7", "F5", "F3", "F1", "FZ", "F2", "F4", "F6", "F8",
    "FT7", "FC5", "FC3", "FC1", "FCZ", "FC2", "FC4", "FC6", "FT8",
    "T7", "C5", "C3", "C1", "CZ", "C2", "C4", "C6", "T8",
    "TP7", "CP5", "CP3", "CP1", "CPZ", "CP2", "CP4", "CP6", "TP8",
    "P7", "P5", "P3", "P1", "PZ", "P2", "P4", "P6", "P8",
    "PO7", "PO5", "PO3", "POZ", "PO4", "PO6", "PO8",
    "CB1", "O1", "OZ", "O2", "CB2",
)

_SESSION_FILE = re.compile(r"^(?P<subject>[A-Za-z0-9]+)_(?P<date>\d{8})\.mat$")
_FEATURE_KEY = re.compile(r"^(?P<family>(?:de|psd|dasm|rasm|asm|dcau)_(?:LDS|movingAve))(?P<trial>\d+)$")


def feature_columns(feature: str) -> tuple[str, ...]:
    """Names of the last axis of ``feature`` as :func:`load_trials` returns it (every SEED family: the 5 bands)."""
    return BANDS


def feature_dir(root: str | Path) -> Path:
    """The folder holding the session files: ``<root>/ExtractedFeatures`` or ``root`` itself."""
    root = Path(root)
    return root / FEATURE_DIR if (root / FEATURE_DIR).is_dir() else root


def read_mat(path: Path, problems: Problems) -> dict | None:
    """The variables of a MATLAB v5 file (never unpickled); None, with an error, when it cannot be read."""
    try:
        data = scipy.io.loadmat(str(path))
    except NotImplementedError:
        problems.error(path, "MATLAB v7.3 (HDF5) file: save it as a v5 .mat (the released files are v5)")
        return None
    except Exception as err:  # scipy raises several types for damaged files
        problems.error(path, f"cannot read the .mat file: {err}")
        return None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def read_labels(path: Path, problems: Problems) -> tuple[int, ...] | None:
    """The 15 trial labels of ``label.mat`` (key ``label``), or None with an error naming what is wrong."""
    if not path.is_file():
        problems.error(path, f"missing {LABEL_FILE} (key 'label': {N_TRIALS} trial labels in {{1, 0, -1}})")
        return None
    data = read_mat(path, problems)
    if data is None:
        return None
    if "label" not in data:
        problems.error(path, f"missing key 'label' (found {sorted(data)}); expected {N_TRIALS} labels in {{1, 0, -1}}")
        return None
    values = np.asarray(data["label"]).ravel()
    if values.size != N_TRIALS:
        problems.error(path, f"key 'label': {values.size} labels, expected {N_TRIALS}")
        return None
    if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values.astype(float))):
        problems.error(path, "key 'label': expected numbers in {1, 0, -1}")
        return None
    bad = sorted({float(v) for v in values} - {1.0, 0.0, -1.0})
    if bad:
        problems.error(path, f"key 'label': values {bad} outside {{1, 0, -1}}")
        return None
    return tuple(int(v) for v in values)


def check_session(path: Path, data: Mapping[str, np.ndarray], problems: Problems,
                  n_trials: int = N_TRIALS) -> dict[int, int] | None:
    """Windows per trial (1..n_trials; SEED 15) of one session's variables, or None when any key is missing or
    malformed (``n_trials`` lets the SEED-IV parser, 24 trials, share the check)."""
    families: dict[str, set[int]] = {}
    for key in data:
        match = _FEATURE_KEY.match(key)
        if match:
            families.setdefault(match.group("family"), set()).add(int(match.group("trial")))
    ok = True
    if MAIN_FEATURE not in families:
        problems.error(path, f"missing keys {MAIN_FEATURE}1..{MAIN_FEATURE}{n_trials} "
                             f"(found {sorted(data)[:8]}{' ...' if len(data) > 8 else ''})")
        return None
    windows: dict[int, int] = {}
    for family in sorted(families, key=lambda f: (f != MAIN_FEATURE, f)):
        trials = families[family]
        extra = sorted(t for t in trials if not 1 <= t <= n_trials)
        if extra:
            problems.warning(path, f"keys {[f'{family}{t}' for t in extra]} ignored: the dataset has trials "
                                   f"1..{n_trials}")
        for trial in range(1, n_trials + 1):
            key = f"{family}{trial}"
            if trial not in trials:
                problems.error(path, f"missing key {key}", row=None)
                ok = False
                continue
            array = np.asarray(data[key])
            channels = N_CHANNELS if family in FEATURES_62 else None
            message = _shape_problem(array, channels)
            if message is None and windows.get(trial, array.shape[1]) != array.shape[1]:
                message = (f"{array.shape[1]} windows, but {MAIN_FEATURE}{trial} has {windows[trial]} "
                           "(every feature of a trial has the same windows)")
            if message:
                problems.error(path, f"key {key}: {message}")
                ok = False
                continue
            windows.setdefault(trial, int(array.shape[1]))
    return windows if ok else None


def _shape_problem(array: np.ndarray, channels: int | None) -> str | None:
    expected = f"({channels if channels else 'channels'}, T windows, {len(BANDS)} bands)"
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        return f"{array.dtype} values, expected a float array {expected}"
    if array.ndim != 3 or array.shape[2] != len(BANDS) or (channels and array.shape[0] != channels) \
            or array.shape[1] < 1:
        return f"shape {array.shape}, expected {expected}"
    if not np.all(np.isfinite(array)):
        return f"{int(np.sum(~np.isfinite(array)))} NaN or infinite values"
    return None


def session_files(folder: Path, problems: Problems) -> dict[str, list[tuple[str, Path]]]:
    """Subject -> [(date, file)] sorted by date (= sessions 1, 2, 3); other .mat names are warned about."""
    subjects: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(folder.glob("*.mat")):
        if path.name == LABEL_FILE or path.name.startswith("."):
            continue
        match = _SESSION_FILE.match(path.name)
        if not match:
            problems.warning(path, "ignored: not a session file named <subject>_<YYYYMMDD>.mat")
            continue
        subjects.setdefault(normalise_subject(match.group("subject")), []).append((match.group("date"), path))
    return {s: sorted(files) for s, files in sorted(subjects.items(), key=lambda kv: _subject_order(kv[0]))}


def _subject_order(subject: str) -> tuple:
    return (0, int(subject), "") if subject.isdigit() else (1, 0, subject)


def parse(root: str | Path, dataset: str = FORMAT) -> ParseResult:
    """Index (one row per trial) and every problem of a SEED ``ExtractedFeatures`` folder."""
    folder = feature_dir(root)
    problems = Problems()
    labels = read_labels(folder / LABEL_FILE, problems)
    subjects = session_files(folder, problems)
    if not subjects:
        problems.error(folder, "no session files <subject>_<YYYYMMDD>.mat found")
    rows = []
    for subject, files in subjects.items():
        if len(files) != N_SESSIONS:
            problems.error(files[0][1].parent, f"subject {subject}: {len(files)} session files "
                           f"{[p.name for _, p in files]}, expected {N_SESSIONS}")
        for session, (date, path) in enumerate(files, start=1):
            data = read_mat(path, problems)
            if data is None:
                continue
            windows = check_session(path, data, problems)
            if windows is None or labels is None or len(files) != N_SESSIONS:
                continue
            families = sorted({m.group("family") for k in data if (m := _FEATURE_KEY.match(k))},
                              key=lambda f: (f != MAIN_FEATURE, f))
            for trial in range(1, N_TRIALS + 1):
                clip = f"s{session}_t{trial}"
                label = labels[trial - 1]
                rows.append({
                    "sample_id": make_sample_id(dataset, subject, clip), "dataset": dataset, "subject": subject,
                    "session": session, "trial": trial, "clip": clip, "label": label, "emotion": LABELS[label],
                    "file": str(path.resolve()), "date": date, "windows": windows[trial],
                    "features": "+".join(families),
                })
    columns = ["sample_id", "dataset", "subject", "session", "trial", "clip", "label", "emotion", "file", "date",
               "windows", "features"]
    return ParseResult(pd.DataFrame(rows, columns=columns), list(problems))


def load_trials(index: pd.DataFrame, feature: str = MAIN_FEATURE) -> dict[str, np.ndarray]:
    """sample_id -> the trial's ``feature`` as float32 (T, 62, 5) (windows first), reading each file once."""
    out: dict[str, np.ndarray] = {}
    for path, rows in index.groupby("file", sort=False):
        data = scipy.io.loadmat(str(path), variable_names=[f"{feature}{t}" for t in rows["trial"]])
        for row in rows.itertuples():
            out[row.sample_id] = np.ascontiguousarray(np.asarray(data[f"{feature}{row.trial}"],
                                                                 dtype=np.float32).transpose(1, 0, 2))
    return out


# -- writer twin ---------------------------------------------------------------------------------------------------


def session_file_name(subject: int | str, date: str) -> str:
    return f"{subject}_{date}.mat"


def write_session(path: str | Path, features: Mapping[str, np.ndarray]) -> Path:
    """Write one session file: ``{"de_LDS1": (62, T, 5) array, ...}`` as a MATLAB v5 .mat."""
    path = Path(path)
    with atomic_path(path) as tmp:
        scipy.io.savemat(str(tmp), dict(features), do_compression=True)
    return path


def write_labels(path: str | Path, labels=TRIAL_LABELS) -> Path:
    """Write ``label.mat`` with key ``label`` shaped (1, 15), as the release has it."""
    path = Path(path)
    with atomic_path(path) as tmp:
        scipy.io.savemat(str(tmp), {"label": np.asarray(labels, dtype=np.int16).reshape(1, -1)})
    return path
