"""SEED-IV (BCMI, SJTU) smoothed EEG features: 15 subjects x 3 sessions x 24 film trials, 4 classes.

Layout parsed (facts from ../shared/reference/datasets.md; [R] recalled, verify against your copy)::

    <root>/eeg_feature_smooth/<session>/<subject>_<YYYYMMDD>.mat    session folders 1, 2, 3 [R]
        de_LDS1 .. de_LDS24        float (62 channels, T four-second windows, 5 bands) [R]
        de_movingAve*, psd_LDS*, psd_movingAve*                      the same shape, optional here

``root`` may also be the ``eeg_feature_smooth`` folder itself. Unlike SEED the session number is the folder
(1, 2, 3), and the release ships NO label file: the per-session label lists are printed in its ReadMe. They are
:data:`SESSION_LABELS` here ([R] recalled from the ReadMe: 0 neutral, 1 sad, 2 fear, 3 happy, six trials of each
class per session; verify against your copy). A ``session_labels.json`` beside the session folders
(``{"1": [24 labels], "2": [...], "3": [...]}``), when present, replaces them; a list that is not 24 labels in
{0, 1, 2, 3} is an error naming the file and key. Files are read with ``scipy.io.loadmat`` only (nothing is
unpickled). Per-file checks are SEED's (rawdata/layouts/seed.py ``check_session`` with 24 trials): a missing
key, wrong shape, NaN or uneven windows is an error naming file and key, and that session file contributes no
trials. Choice: a subject must have a file in every session folder (else an error, the subject is dropped); a
subject with two files in one session folder is an error too.

One index row per trial: sample_id ``seed_iv_<subject>_s<session>_t<trial>``, dataset, subject, session (1..3),
trial (1..24), clip, label (0..3), emotion, file, date, windows, features (as SEED's index).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from core.io import atomic_path
from rawdata.index import make_sample_id
from rawdata.layouts import seed as seed_layout
from rawdata.layouts.common import ParseResult, Problems

FORMAT = "seed_iv"
N_TRIALS = 24
N_SESSIONS = 3
N_CHANNELS = seed_layout.N_CHANNELS
CHANNELS = seed_layout.CHANNELS
BANDS = seed_layout.BANDS
LABELS = {0: "neutral", 1: "sad", 2: "fear", 3: "happy"}
MAIN_FEATURE = seed_layout.MAIN_FEATURE
FEATURE_DIR = "eeg_feature_smooth"
LABEL_OVERRIDE = "session_labels.json"
# per-session trial labels [R] (the ReadMe's lists; 0 neutral, 1 sad, 2 fear, 3 happy)
SESSION_LABELS: dict[int, tuple[int, ...]] = {
    1: (1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3),
    2: (2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1),
    3: (1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0),
}


def feature_dir(root: str | Path) -> Path:
    root = Path(root)
    return root / FEATURE_DIR if (root / FEATURE_DIR).is_dir() else root


def read_session_labels(folder: Path, problems: Problems) -> dict[int, tuple[int, ...]] | None:
    """:data:`SESSION_LABELS`, or the lists of ``session_labels.json`` when present (None with an error if bad)."""
    path = folder / LABEL_OVERRIDE
    if not path.is_file():
        return dict(SESSION_LABELS)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        problems.error(path, f"cannot read the JSON label lists: {err}")
        return None
    out, ok = {}, True
    for session in range(1, N_SESSIONS + 1):
        values = data.get(str(session)) if isinstance(data, dict) else None
        if not isinstance(values, list) or len(values) != N_TRIALS \
                or any(not isinstance(v, int) or v not in LABELS for v in values):
            problems.error(path, f"key '{session}': expected a list of {N_TRIALS} labels in {{0, 1, 2, 3}}, "
                                 f"got {values!r:.80}")
            ok = False
            continue
        out[session] = tuple(values)
    return out if ok else None


def parse(root: str | Path, dataset: str = FORMAT) -> ParseResult:
    """Index (one row per trial) and every problem of a SEED-IV ``eeg_feature_smooth`` folder."""
    folder = feature_dir(root)
    problems = Problems()
    labels = read_session_labels(folder, problems)
    per_subject: dict[str, dict[int, list[tuple[str, Path]]]] = {}
    for session in range(1, N_SESSIONS + 1):
        sub = folder / str(session)
        if not sub.is_dir():
            problems.error(sub, f"missing session folder {session} (expected {FEATURE_DIR}/1, /2, /3)")
            continue
        for subject, files in seed_layout.session_files(sub, problems).items():
            per_subject.setdefault(subject, {})[session] = files
    rows = []
    for subject, sessions in sorted(per_subject.items(), key=lambda kv: seed_layout._subject_order(kv[0])):
        missing = [s for s in range(1, N_SESSIONS + 1) if s not in sessions]
        double = {s: [p.name for _, p in f] for s, f in sessions.items() if len(f) != 1}
        if missing:
            problems.error(folder, f"subject {subject}: no file in session folder(s) {missing}")
        for s, names in double.items():
            problems.error(folder / str(s), f"subject {subject}: {len(names)} files {names}, expected 1")
        for session, files in sorted(sessions.items()):
            date, path = files[0]
            data = seed_layout.read_mat(path, problems)
            if data is None:
                continue
            windows = seed_layout.check_session(path, data, problems, n_trials=N_TRIALS)
            if windows is None or labels is None or missing or double:
                continue
            families = sorted({m.group("family") for k in data if (m := seed_layout._FEATURE_KEY.match(k))},
                              key=lambda f: (f != MAIN_FEATURE, f))
            for trial in range(1, N_TRIALS + 1):
                clip = f"s{session}_t{trial}"
                label = labels[session][trial - 1]
                rows.append({
                    "sample_id": make_sample_id(dataset, subject, clip), "dataset": dataset, "subject": subject,
                    "session": session, "trial": trial, "clip": clip, "label": label, "emotion": LABELS[label],
                    "file": str(path.resolve()), "date": date, "windows": windows[trial],
                    "features": "+".join(families),
                })
    if not per_subject:
        problems.error(folder, "no session files <session>/<subject>_<YYYYMMDD>.mat found")
    columns = ["sample_id", "dataset", "subject", "session", "trial", "clip", "label", "emotion", "file", "date",
               "windows", "features"]
    return ParseResult(pd.DataFrame(rows, columns=columns), list(problems))


load_trials = seed_layout.load_trials  # same keys and shapes: sample_id -> (T, 62, 5) float32
feature_columns = seed_layout.feature_columns


def write_labels_override(folder: str | Path, labels: dict[int, tuple[int, ...]]) -> Path:
    path = Path(folder) / LABEL_OVERRIDE
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps({str(k): [int(x) for x in v] for k, v in labels.items()}))
    return path


write_session = seed_layout.write_session
session_file_name = seed_layout.session_file_name
