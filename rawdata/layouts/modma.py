"""MODMA resting-state EEG (Lanzhou 2015, 128-channel HydroCel net): depressed (MDD) vs healthy (HC) subjects.

The layout, with what each fact rests on ([V] seen in public code that reads the release, not in the data
itself, which is available on request only; [A] assumed, a CHOICE of ours):

- the release unpacks to ``EEG_128channels_resting_lanzhou_2015/`` holding one ``.mat`` file per subject and the
  sheet ``subjects_information_EEG_128channels_resting_lanzhou_2015.xlsx`` [V: MOABB-style ``MODMA_128_Resting``
  loader, several public MODMA scripts]; the parser takes that folder or its parent as ``--root``;
- file names start with the 8-digit subject id, the rest varies: ``02010002rest 20150416 1017..mat``,
  ``02030018_rest 20151208 1443.mat``, ``02020023restnew 20150709 10.mat`` [V: names listed by public notebooks];
  the subject key here is the leading 7-8 digits, zero-padded to 8 [A: the sheet stores them as integers, e.g.
  ``2010002``, so the padding is how public scripts join the two];
- each file holds one data variable (its name varies per file; a public loader takes "the first non-``__`` key")
  of shape (129, samples): the 128 HydroCel electrodes ``E1``..``E128`` and ``Cz``, the recording reference
  [V: that loader builds a 129-channel ``GSN-HydroCel-129`` recording from it]; 250 Hz, about 5 minutes eyes
  closed [V: the dataset description quoted in that loader: 53 participants, 24 MDD outpatients and 29 healthy
  controls, Net Station 4.5.4, referenced to Cz]. The parser reads shapes with ``scipy.io.whosmat`` (nothing is
  loaded or unpickled while checking); a file with no (129, N) variable, or with several, is an error naming
  the variables found; (N, 129) is reported as transposed;
- the sheet's columns ``subject id`` and ``type`` (``MDD`` / ``HC``) give the subject-level label [V]; its other
  columns (age, gender, education, PHQ-9, CTQ-SF, LES, SSRS, GAD-7, PSQI) are kept when present, never required
  [A]. A file whose subject is not in the sheet is an error; a sheet row without a file is a warning.

The 3-electrode MODMA set (``EEG_3channels_resting_lanzhou_2015``, Fp1 / Fpz / Fp2, a different recording) is NOT
read here: the HGNN reference code does not use it and its text-file layout is not documented in what we read.

:data:`TEN_TWENTY` maps 19 10-20 names onto HydroCel electrodes: the set the HGNN reference code's ``chan_num=19``
implies (it does not say which 19). The mapping is the usual EGI 10-20 equivalence table [A: from memory of EGI's
documentation, not verified against it]; in MNE's two template montages every pick lies within 32 mm of its 10-20
position and is the first or second nearest HydroCel site for 15 of the 19 (checked by hand when writing this).

One index row per subject (one recording): sample_id ``modma_<subject>_rest``, dataset, subject (8 digits),
session 1, trial 1, clip ``rest``, label (0 HC, 1 MDD), emotion (``HC`` / ``MDD``: the class names the EEG source
maps), file, variable, samples, rate.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from core.errors import DatasetError
from core.io import atomic_path
from rawdata.index import make_sample_id
from rawdata.layouts.common import ParseResult, Problems

FORMAT = "modma"
FOLDER = "EEG_128channels_resting_lanzhou_2015"
SHEET = "subjects_information_EEG_128channels_resting_lanzhou_2015.xlsx"
RATE = 250
CHANNELS = tuple(f"E{i}" for i in range(1, 129)) + ("Cz",)
N_ROWS = len(CHANNELS)  # 129
REFERENCE = "Cz"
LABELS = {"HC": 0, "MDD": 1}
TEN_TWENTY = {"FP1": "E22", "FP2": "E9", "F7": "E33", "F3": "E24", "FZ": "E11", "F4": "E124", "F8": "E122",
              "T7": "E45", "C3": "E36", "CZ": "Cz", "C4": "E104", "T8": "E108", "P7": "E58", "P3": "E52",
              "PZ": "E62", "P4": "E92", "P8": "E96", "O1": "E70", "O2": "E83"}
COLUMNS = ["sample_id", "dataset", "subject", "session", "trial", "clip", "label", "emotion", "file", "variable",
           "samples", "rate"]

_FILE = re.compile(r"^(?P<subject>\d{7,8})")


def data_dir(root: str | Path) -> Path:
    root = Path(root)
    return root / FOLDER if (root / FOLDER).is_dir() else root


def subject_key(value) -> str:
    """The sheet's integer id or a file name's leading digits -> the 8-digit subject key."""
    text = str(value).strip().lstrip("'")
    if re.fullmatch(r"\d+(\.0+)?", text):
        return str(int(float(text))).zfill(8)
    return text


def read_sheet(path: Path, problems: Problems) -> dict[str, str] | None:
    """subject -> ``MDD`` / ``HC`` from the information sheet, or None with an error."""
    try:
        frame = pd.read_excel(path, dtype=object)
    except Exception as err:  # openpyxl raises several types for damaged files
        problems.error(path, f"cannot read the subject information sheet: {err}")
        return None
    columns = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in ("subject id", "type") if c not in columns]
    if missing:
        problems.error(path, f"missing column(s) {missing} (found {list(map(str, frame.columns))[:8]}); expected "
                             "'subject id' and 'type' (MDD / HC)")
        return None
    labels: dict[str, str] = {}
    for i, row in frame.iterrows():
        raw_id, kind = row[columns["subject id"]], row[columns["type"]]
        if pd.isna(raw_id) or str(raw_id).strip() == "":
            continue
        subject = subject_key(raw_id)
        kind = str(kind).strip().upper() if not pd.isna(kind) else ""
        if kind not in LABELS:
            problems.error(path, f"subject {subject}: type {kind!r}, expected MDD or HC", row=int(i) + 2)
            continue
        if subject in labels:
            problems.error(path, f"subject {subject} listed twice", row=int(i) + 2)
            continue
        labels[subject] = kind
    if not labels:
        problems.error(path, "no subject rows (columns 'subject id', 'type')")
        return None
    return labels


def recording_variable(path: Path, problems: Problems) -> tuple[str, int] | None:
    """(variable name, samples) of the file's one (129, N) array, read from the header only."""
    try:
        found = scipy.io.whosmat(str(path))
    except NotImplementedError:
        problems.error(path, "MATLAB v7.3 (HDF5) file: save it as a v5 .mat (as the release's files are read here)")
        return None
    except Exception as err:  # scipy raises several types for damaged files
        problems.error(path, f"cannot read the .mat file: {err}")
        return None
    arrays = [(name, shape) for name, shape, cls in found if not name.startswith("__") and cls != "struct"]
    fitting = [(name, shape) for name, shape in arrays if len(shape) == 2 and shape[0] == N_ROWS and shape[1] > 1]
    if len(fitting) == 1:
        return fitting[0][0], int(fitting[0][1][1])
    listed = ", ".join(f"'{n}' {tuple(s)}" for n, s in arrays) or "none"
    if not fitting:
        transposed = [n for n, s in arrays if len(s) == 2 and s[1] == N_ROWS]
        hint = f" ('{transposed[0]}' looks transposed)" if transposed else ""
        problems.error(path, f"no ({N_ROWS} channels, samples) variable (found {listed}){hint}; expected one array "
                             f"E1..E128 + Cz x samples at {RATE} Hz")
    else:
        problems.error(path, f"several ({N_ROWS}, samples) variables ({listed}): expected one recording per file")
    return None


def find_sheet(root: Path, folder: Path) -> Path | None:
    for place in (folder, root):
        if (place / SHEET).is_file():
            return place / SHEET
    others = sorted({*folder.glob("subjects_information*.xlsx"), *root.glob("subjects_information*.xlsx")})
    return others[0] if others else None


def parse(root: str | Path, dataset: str = FORMAT) -> ParseResult:
    """Index (one row per subject) and every problem of a MODMA 128-channel resting-state folder."""
    root = Path(root)
    folder = data_dir(root)
    problems = Problems()
    sheet = find_sheet(root, folder)
    labels = None
    if sheet is None:
        problems.error(folder, f"missing {SHEET} (columns 'subject id', 'type' MDD / HC)")
    else:
        labels = read_sheet(sheet, problems)
    files: dict[str, Path] = {}
    for path in sorted(folder.glob("*.mat")):
        match = _FILE.match(path.name)
        if not match:
            problems.warning(path, "ignored: the name does not start with the 8-digit subject id")
            continue
        subject = subject_key(match.group("subject"))
        if subject in files:
            problems.error(path, f"subject {subject}: a second recording (first: {files[subject].name})")
            continue
        files[subject] = path
    if not files:
        problems.error(folder, f"no <subject id>...mat recording (expected {FOLDER}/ with one file per subject)")
    rows = []
    for subject, path in files.items():
        found = recording_variable(path, problems)
        if found is None or labels is None:
            continue
        if subject not in labels:
            problems.error(path, f"subject {subject} is not in {sheet.name if sheet else SHEET}")
            continue
        variable, samples = found
        if samples < RATE:
            problems.error(path, f"'{variable}': {samples} samples, less than one second at {RATE} Hz")
            continue
        kind = labels[subject]
        rows.append({"sample_id": make_sample_id(dataset, subject, "rest"), "dataset": dataset, "subject": subject,
                     "session": 1, "trial": 1, "clip": "rest", "label": LABELS[kind], "emotion": kind,
                     "file": str(path.resolve()), "variable": variable, "samples": samples, "rate": RATE})
    for subject in sorted(set(labels or {}) - set(files)):
        problems.warning(sheet, f"subject {subject}: in the sheet but no recording file")
    return ParseResult(pd.DataFrame(rows, columns=COLUMNS), list(problems))


def load_recording(path: str | Path, variable: str) -> np.ndarray:
    """The (129, samples) float64 recording of one file; a missing variable, a wrong shape or non-finite values
    are a DatasetError naming the file and the variable."""
    path = Path(path)
    try:
        data = scipy.io.loadmat(str(path), variable_names=[variable])
    except Exception as err:
        raise DatasetError(f"cannot read the .mat file: {err}", path=path) from None
    if variable not in data:
        raise DatasetError(f"missing variable '{variable}' (the index was built from another version?)", path=path)
    array = np.asarray(data[variable], dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != N_ROWS:
        raise DatasetError(f"'{variable}': shape {array.shape}, expected ({N_ROWS} channels, samples)", path=path)
    bad = int(np.sum(~np.isfinite(array)))
    if bad:
        raise DatasetError(f"'{variable}': {bad} NaN or infinite values", path=path)
    return array


# -- writer twin ---------------------------------------------------------------------------------------------------


def file_name(subject: str, date: str = "20150416 1017") -> str:
    """A release-like name: ``<8-digit id>rest <date> <time>.mat``."""
    return f"{subject}rest {date}.mat"


def variable_name(subject: str, date: str = "20150416 1017") -> str:
    return "a" + re.sub(r"\W+", "_", f"{subject}rest {date}") + "mat"


def write_recording(folder: str | Path, subject: str, signal: np.ndarray, date: str = "20150416 1017") -> Path:
    """Write ``<folder>/<file_name>`` with one (129, samples) variable (MATLAB v5)."""
    if signal.ndim != 2 or signal.shape[0] != N_ROWS:
        raise ValueError(f"signal of shape {signal.shape}: expected ({N_ROWS}, samples)")
    path = Path(folder) / file_name(subject, date)
    with atomic_path(path) as tmp:
        scipy.io.savemat(str(tmp), {variable_name(subject, date): signal})
    return path


def write_sheet(folder: str | Path, rows: list[dict]) -> Path:
    """The information sheet: ``subject id`` as an integer (as the release stores it), ``type`` and any others."""
    path = Path(folder) / SHEET
    frame = pd.DataFrame(rows)
    frame["subject id"] = frame["subject id"].map(int)
    with atomic_path(path) as tmp:
        frame.to_excel(tmp, index=False, engine="openpyxl")
    return path
