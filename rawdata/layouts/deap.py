"""DEAP preprocessed data: 32 subjects x 40 music-video trials, 32 EEG + 8 peripheral channels, 4 self-ratings.

Layout parsed (../shared/reference/datasets.md [V]; the MATLAB variant [R], verify against your copy)::

    <root>/data_preprocessed_python/sXX.dat     Python pickles, dict with
        data      (40 trials, 40 channels, 8064 samples) = 63 s at 128 Hz, first 3 s a baseline; channels 1-32 EEG
        labels    (40 trials, 4): valence, arousal, dominance, liking on 1..9
    <root>/data_preprocessed_matlab/sXX.mat     the same two keys in MATLAB v5 files [R]

``root`` may also be either folder itself. The .mat files are read with ``scipy.io.loadmat``. The .dat files are
pickles: unpickling a file runs whatever code the file names, so a pickle is read ONLY when the caller asks for
it explicitly (``parse(root, trust_pickle=True)``, ``affect data check deap --trust-pickle``, or inside
:func:`trusting_pickles`); otherwise each .dat file is an error saying so (convert them once to .mat, or pass the
flag for files you downloaded yourself from the dataset's site). When both variants of a subject exist the .mat
one is read. Every problem names its file and key: a missing ``data`` / ``labels`` key, a shape other than
(40, 40, T) / (40, 4), NaN or infinite values, ratings outside [1, 9]; a file with an error contributes no trials.
Choices where the documentation is silent: T must be the same in every file (a T other than 8064 is a warning,
the stand-in writes short trials); high / low classes are ``rating > 5`` (the common DEAP threshold; a knob of
the consumer, here only the index's ``valence_high`` / ``arousal_high`` columns).

One index row per trial: sample_id ``deap_<subject>_t<trial>``, dataset, subject, trial (1..40), clip, valence,
arousal, dominance, liking, valence_high, arousal_high, file, samples.
"""

from __future__ import annotations

import contextlib
import contextvars
import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from core.io import atomic_path
from rawdata.index import make_sample_id, normalise_subject
from rawdata.layouts.common import ParseResult, Problems

FORMAT = "deap"
N_TRIALS = 40
N_CHANNELS = 40
N_EEG = 32
SAMPLES = 8064
RATE = 128
BASELINE_S = 3
RATINGS = ("valence", "arousal", "dominance", "liking")
PYTHON_DIR = "data_preprocessed_python"
MATLAB_DIR = "data_preprocessed_matlab"
# channel order of the preprocessed files [R] (32 EEG in the Geneva order, then 8 peripheral)
CHANNELS = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
    "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
    "hEOG", "vEOG", "zEMG", "tEMG", "GSR", "Respiration", "Plethysmograph", "Temperature",
)
_FILE = re.compile(r"^s(?P<subject>\d+)\.(?P<ext>dat|mat)$")
_TRUST = contextvars.ContextVar("deap_trust_pickle", default=False)


@contextlib.contextmanager
def trusting_pickles() -> Iterator[None]:
    """Within this block :func:`parse` unpickles .dat files (the caller vouches for them)."""
    token = _TRUST.set(True)
    try:
        yield
    finally:
        _TRUST.reset(token)


def subject_files(root: Path, problems: Problems) -> dict[str, Path]:
    """Subject -> its file (.mat preferred over .dat) from the two variant folders or ``root`` itself."""
    folders = [root / MATLAB_DIR, root / PYTHON_DIR]
    folders = [f for f in folders if f.is_dir()] or [root]
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.iterdir()):
            match = _FILE.match(path.name)
            if not match:
                if path.suffix in (".dat", ".mat"):
                    problems.warning(path, "ignored: not a subject file named sXX.dat / sXX.mat")
                continue
            subject = normalise_subject(match.group("subject"))
            if subject not in found or (path.suffix == ".mat" and found[subject].suffix == ".dat"):
                found[subject] = path
    return dict(sorted(found.items(), key=lambda kv: int(kv[0])))


def read_file(path: Path, problems: Problems, trust_pickle: bool) -> dict | None:
    if path.suffix == ".dat":
        if not trust_pickle:
            problems.error(path, "pickle not read: unpickling runs code named in the file; pass --trust-pickle "
                                 "(parse(..., trust_pickle=True)) for files you trust, or convert them to .mat")
            return None
        try:
            with open(path, "rb") as handle:
                data = pickle.load(handle, encoding="latin1")  # noqa: S301 - only behind the explicit flag
        except Exception as err:
            problems.error(path, f"cannot unpickle: {err}")
            return None
        if not isinstance(data, dict):
            problems.error(path, f"expected a dict with keys 'data' and 'labels', got {type(data).__name__}")
            return None
        return data
    try:
        return {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
    except Exception as err:
        problems.error(path, f"cannot read the .mat file: {err}")
        return None


def check_subject(path: Path, data: dict, problems: Problems) -> tuple[np.ndarray, int] | None:
    """(labels (40, 4), samples per trial) of one subject's variables, or None with errors naming the keys."""
    ok = True
    for key in ("data", "labels"):
        if key not in data:
            problems.error(path, f"missing key '{key}' (found {sorted(map(str, data))})")
            ok = False
    if not ok:
        return None
    signal, labels = np.asarray(data["data"]), np.asarray(data["labels"])
    if signal.ndim != 3 or signal.shape[:2] != (N_TRIALS, N_CHANNELS) or not np.issubdtype(signal.dtype, np.number):
        problems.error(path, f"key 'data': shape {signal.shape} {signal.dtype}, expected numbers "
                             f"({N_TRIALS} trials, {N_CHANNELS} channels, T samples)")
        ok = False
    elif not np.all(np.isfinite(signal)):
        problems.error(path, f"key 'data': {int(np.sum(~np.isfinite(signal)))} NaN or infinite values")
        ok = False
    if labels.shape != (N_TRIALS, len(RATINGS)) or not np.issubdtype(labels.dtype, np.number):
        problems.error(path, f"key 'labels': shape {labels.shape}, expected ({N_TRIALS}, 4) ratings "
                             f"{'/'.join(RATINGS)}")
        ok = False
    elif not np.all(np.isfinite(labels)) or labels.min() < 1 or labels.max() > 9:
        problems.error(path, "key 'labels': ratings must be finite values in [1, 9]")
        ok = False
    return (labels.astype(float), int(signal.shape[2])) if ok else None


def parse(root: str | Path, dataset: str = FORMAT, trust_pickle: bool | None = None) -> ParseResult:
    """Index (one row per trial) and every problem of a DEAP preprocessed-data folder."""
    root = Path(root)
    trust = _TRUST.get() if trust_pickle is None else trust_pickle
    problems = Problems()
    files = subject_files(root, problems)
    if not files:
        problems.error(root, f"no sXX.mat / sXX.dat files (expected {MATLAB_DIR}/ or {PYTHON_DIR}/)")
    rows, lengths = [], {}
    for subject, path in files.items():
        data = read_file(path, problems, trust)
        checked = None if data is None else check_subject(path, data, problems)
        if checked is None:
            continue
        labels, samples = checked
        lengths[path] = samples
        for trial in range(1, N_TRIALS + 1):
            clip = f"t{trial}"
            ratings = dict(zip(RATINGS, (float(v) for v in labels[trial - 1]), strict=True))
            rows.append({"sample_id": make_sample_id(dataset, subject, clip), "dataset": dataset,
                         "subject": subject, "trial": trial, "clip": clip, **ratings,
                         "valence_high": int(ratings["valence"] > 5), "arousal_high": int(ratings["arousal"] > 5),
                         "file": str(path.resolve()), "samples": samples})
    if len(set(lengths.values())) > 1:
        problems.error(root, f"trials of different lengths across files: {sorted(set(lengths.values()))} samples")
        rows = []
    elif lengths and next(iter(lengths.values())) != SAMPLES:
        problems.warning(root, f"{next(iter(lengths.values()))} samples per trial, the release has {SAMPLES}")
    columns = ["sample_id", "dataset", "subject", "trial", "clip", *RATINGS, "valence_high", "arousal_high",
               "file", "samples"]
    return ParseResult(pd.DataFrame(rows, columns=columns), list(problems))


# -- writer twin ---------------------------------------------------------------------------------------------------


def write_subject(folder: str | Path, subject: int, data: np.ndarray, labels: np.ndarray,
                  python: bool = False) -> Path:
    """Write ``sXX.mat`` (or, with ``python``, the release's ``sXX.dat`` pickle) with keys data and labels."""
    name = f"s{int(subject):02d}.{'dat' if python else 'mat'}"
    path = Path(folder) / name
    with atomic_path(path) as tmp:
        if python:
            with open(tmp, "wb") as handle:
                pickle.dump({"data": data, "labels": labels}, handle)
        else:
            scipy.io.savemat(str(tmp), {"data": data, "labels": labels}, do_compression=True)
    return path
