"""EEG emotion protocols over windows: folds whose train and test sides never share a trial (one labelled exception).

An EEG trial (one film) yields many one-second windows that share the film, the trial's nuisance and its slow
drift; a split that puts windows of one trial on both sides measures memorisation of the trial, not emotion
recognition. Every fold here lists WINDOW ids (``<sample_id>#w<j>``, :func:`window_ids`; a sample is a trial of
the SEED index, rawdata/layouts/seed.py) and every protocol except :func:`random_windows_leaky` assigns whole
trials to one side. The protocols (../shared/reference/protocols.md):

- ``subject_dependent``: per (subject, session), trials 1..n_train (SEED: 9) train, the rest (6) test; one fold
  per subject-session (45 on SEED), reported as mean +- std over them. A dataset whose release lists its split
  (:data:`TRIAL_SPLITS`; MPED: the README's 21 training and 7 testing trials, rawdata/layouts/mped.py) uses those
  lists instead (23 folds on MPED); trials in neither list (MPED's resting trials 1 and 16) are in no fold.
  ``last_trial`` (option) keeps trials 1..last_trial only: ``last_trial=9, n_train=6`` on SEED is an inner
  validation inside the training trials (6 train, 3 validate), which never reads a test trial of the 9/6 split;
- ``loso``: leave one subject out; ``sessions="pooled"`` (default: 15 folds, all 3 sessions of the other subjects
  train, all 3 of the held-out subject test) or ``"per_session"`` (45 folds: within one session number, the other
  subjects' sessions train, the held-out subject's session tests). Implementations differ; the fold names say which;
- ``cross_session``: per subject, leave one session out (train on that subject's other sessions): 45 folds. (Our
  choice where the literature varies: some train on sessions 1-2 and test on 3 only; that is a subset of these.)
- ``trial_kfold``: per subject, its trials (all sessions together) shuffled with the run's seed and cut into
  ``n_folds`` folds of whole trials (the 10-fold cross-validation of DEAP's subject-dependent papers, done on trials
  rather than on windows so that no trial sits on both sides); one fold per (subject, k); scores per subject are the
  mean over its folds. Not stratified (DEAP's high / low classes come from ratings, uneven per subject): our choice;
- ``subject_kfold``: subjects shuffled with the run's seed and cut into ``n_folds`` folds; every window of a test
  subject is held out (subject-level labels: depression detection, MODMA). The HGNN reference code's protocol is a
  10-fold ``KFold(shuffle=True)`` over the subject indices, not stratified; ``stratified=True`` deals each class's
  subjects round-robin instead (our option). ``validation_subjects`` > 0 moves that many training subjects (drawn
  with the seed, stratified by label when possible) of each fold into its validation side, on which the fold loop
  selects the epoch; the reference code picks the best epoch on the TEST fold, which we do not reproduce;
- ``cross_dataset``: train on every trial of one dataset, test on every trial of the other (SEED <-> SEED-IV, one
  fold per direction), on the classes the two share through a stated mapping (:data:`CLASS_MAPS`, applied by
  :func:`cross_dataset_index`): ``merged`` (3 classes: SEED positive/neutral/negative; SEED-IV happy -> positive,
  neutral -> neutral, sad + fear -> negative) or ``strict`` (2 classes: only labels that name the same state,
  neutral and positive = happy; SEED's negative and SEED-IV's sad / fear are dropped, because SEED's negative
  films are not chosen to be either sad or fearful). Our choice: ``strict`` keeps neutral AND positive/happy
  (neutral alone would be a one-class problem). Different datasets have different subjects, so no subject or trial
  is on both sides;
- ``random_windows_leaky``: a LEAKY DIAGNOSTIC, not a protocol to report: per (subject, session), a random
  ``test_fraction`` of the windows test, the rest train, so every trial sits on both sides. It exists to show the
  size of the leak next to ``subject_dependent`` (benchmarks/eeg_protocols.py).

:func:`shared_trials` lists the trials found on both sides of a fold: empty for every protocol but the leaky one.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from core.errors import ConfigError
from datamodules.protocols import Fold, _natural_sorted
from rawdata.layouts import mped as mped_layout

WINDOW_SEP = "#w"
# on one dataset's index
PROTOCOLS = ("subject_dependent", "loso", "cross_session", "trial_kfold", "subject_kfold", "random_windows_leaky")
# protocols whose index holds two datasets (cross_dataset_index); eeg_folds takes these too
CROSS_DATASET_PROTOCOLS = ("cross_dataset",)
# trials 1..n train per (subject, session) in the subject-dependent protocol (protocols.md: SEED 9/6, SEED-IV 16/8)
N_TRAIN = {"seed": 9, "seed_iv": 16}
# datasets whose release names its subject-dependent split: dataset -> (training trials, testing trials)
TRIAL_SPLITS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "mped": (mped_layout.TRAIN_TRIALS, mped_layout.TEST_TRIALS)}
# (dataset, original label) -> shared class name; a label absent from a map is dropped by that mapping
CLASS_MAPS: dict[str, dict[str, dict[int, str]]] = {
    "merged": {"seed": {1: "positive", 0: "neutral", -1: "negative"},
               "seed_iv": {3: "positive", 0: "neutral", 1: "negative", 2: "negative"}},
    "strict": {"seed": {1: "positive", 0: "neutral"},
               "seed_iv": {3: "positive", 0: "neutral"}},
}
LEAKY = frozenset({"random_windows_leaky"})


def window_ids(sample_id: str, n_windows: int) -> list[str]:
    return [f"{sample_id}{WINDOW_SEP}{j}" for j in range(int(n_windows))]


def trial_of(window_id: str) -> str:
    """The trial (sample id) of a window id."""
    return window_id.rsplit(WINDOW_SEP, 1)[0]


def windows_of(index: pd.DataFrame) -> list[str]:
    """Every window id of the index's trials, trial by trial, in index order."""
    return [w for row in index.itertuples() for w in window_ids(row.sample_id, row.windows)]


def shared_trials(fold: Fold) -> set[str]:
    """Trials with windows on both the training (train + val) and the test side of `fold`."""
    seen = {trial_of(w) for w in (*fold.train, *fold.val)}
    return seen & {trial_of(w) for w in fold.test}


def subject_dependent(index: pd.DataFrame, n_train: int | None = None, last_trial: int | None = None) -> list[Fold]:
    """Per (subject, session): trials 1..n_train train, the rest test; ``n_train`` None = the dataset's
    (:data:`TRIAL_SPLITS` or :data:`N_TRAIN` by the index's ``dataset`` column; 9 when the index has none, SEED's
    split). ``last_trial`` (default None or 0: every trial) drops the trials after it from every fold: with
    ``last_trial`` = the outer split's n_train (SEED 9) and a smaller ``n_train`` (6), the folds split the outer
    TRAINING trials only, an inner validation that never reads an outer test trial."""
    names = set(index["dataset"]) if "dataset" in index else {"seed"}
    if last_trial:
        if n_train is None:
            raise ConfigError(f"protocol.last_trial={last_trial}: set protocol.n_train as well (the inner split)")
        index = index[index["trial"] <= int(last_trial)]
    if n_train is None and len(names) == 1 and next(iter(names)) in TRIAL_SPLITS:
        return listed_split(index, *TRIAL_SPLITS[next(iter(names))])
    if n_train is None:
        known = {N_TRAIN.get(n) for n in names}
        if len(known) != 1 or None in known:
            raise ConfigError(f"subject_dependent: no default n_train for dataset(s) {sorted(names)}",
                              hint=f"set protocol.n_train (known defaults: {N_TRAIN})")
        n_train = known.pop()
    folds = []
    for (subject, session), rows in _groups(index, ["subject", "session"]):
        if not 0 < n_train < rows["trial"].nunique():
            raise ConfigError(f"protocol.n_train={n_train}: subject {subject} session {session} has "
                              f"{rows['trial'].nunique()} trials")
        train = rows["trial"] <= n_train
        folds.append(Fold(f"subject={subject}/session={session}", tuple(windows_of(rows[train])), (),
                          tuple(windows_of(rows[~train]))))
    return folds


def listed_split(index: pd.DataFrame, train_trials, test_trials) -> list[Fold]:
    """Per (subject, session): the listed training trials train, the listed testing trials test (others unused)."""
    train_trials, test_trials = set(train_trials), set(test_trials)
    if train_trials & test_trials:
        raise ConfigError(f"trial split: trials {sorted(train_trials & test_trials)} are on both sides")
    folds = []
    for (subject, session), rows in _groups(index, ["subject", "session"]):
        train, test = rows[rows["trial"].isin(train_trials)], rows[rows["trial"].isin(test_trials)]
        if train.empty or test.empty:
            raise ConfigError(f"trial split: subject {subject} session {session} has no "
                              f"{'training' if train.empty else 'testing'} trial of the listed split")
        folds.append(Fold(f"subject={subject}/session={session}", tuple(windows_of(train)), (),
                          tuple(windows_of(test))))
    return folds


def loso(index: pd.DataFrame, sessions: str = "pooled") -> list[Fold]:
    if sessions == "pooled":
        return [Fold(f"subject={s}/sessions=pooled", tuple(windows_of(index[index["subject"] != s])), (),
                     tuple(windows_of(rows))) for (s,), rows in _groups(index, ["subject"])]
    if sessions == "per_session":
        folds = []
        for (session, subject), rows in _groups(index, ["session", "subject"]):
            others = index[(index["session"] == session) & (index["subject"] != subject)]
            folds.append(Fold(f"subject={subject}/session={session}", tuple(windows_of(others)), (),
                              tuple(windows_of(rows))))
        return folds
    raise ConfigError(f"protocol.sessions={sessions!r}: expected pooled or per_session")


def cross_session(index: pd.DataFrame) -> list[Fold]:
    folds = []
    for (subject, session), rows in _groups(index, ["subject", "session"]):
        train = index[(index["subject"] == subject) & (index["session"] != session)]
        if train.empty:
            raise ConfigError(f"cross_session: subject {subject} has only session {session}")
        folds.append(Fold(f"subject={subject}/test_session={session}", tuple(windows_of(train)), (),
                          tuple(windows_of(rows))))
    return folds


def trial_kfold(index: pd.DataFrame, n_folds: int = 10, seed: int = 0) -> list[Fold]:
    """Per subject, ``n_folds`` folds of its whole trials in a seeded random order (see the module doc)."""
    rng = np.random.default_rng(seed)
    folds = []
    for (subject,), rows in _groups(index, ["subject"]):
        if not 2 <= n_folds <= len(rows):
            raise ConfigError(f"protocol.n_folds={n_folds}: subject {subject} has {len(rows)} trials (need 2 <= "
                              f"n_folds <= trials)")
        order = rng.permutation(len(rows))
        for k, part in enumerate(np.array_split(order, n_folds)):
            test = np.zeros(len(rows), dtype=bool)
            test[part] = True
            folds.append(Fold(f"subject={subject}/fold={k + 1}", tuple(windows_of(rows[~test])), (),
                              tuple(windows_of(rows[test]))))
    return folds


def subject_kfold(index: pd.DataFrame, n_folds: int = 10, seed: int = 0, stratified: bool = False,
                  validation_subjects: int = 0) -> list[Fold]:
    """Folds of whole subjects (see the module doc); a subject's label is its trials' ``label`` (the first)."""
    subjects = _natural_sorted(index["subject"].astype(str).unique())
    if not 2 <= n_folds <= len(subjects):
        raise ConfigError(f"protocol.n_folds={n_folds}: {len(subjects)} subjects (need 2 <= n_folds <= subjects)")
    rng = np.random.default_rng(seed)
    label = index.assign(subject=index["subject"].astype(str)).groupby("subject")["label"].first()
    if stratified:
        parts: list[list[str]] = [[] for _ in range(n_folds)]
        k = 0
        for value in sorted(label.unique(), key=str):
            members = [s for s in subjects if label[s] == value]
            for s in (members[i] for i in rng.permutation(len(members))):
                parts[k % n_folds].append(s)
                k += 1
    else:
        order = [subjects[i] for i in rng.permutation(len(subjects))]
        parts = [list(p) for p in np.array_split(np.array(order, dtype=object), n_folds)]
    folds = []
    for k, test_subjects in enumerate(parts):
        rest = [s for s in subjects if s not in set(test_subjects)]
        val: list[str] = []
        if validation_subjects > 0:
            if validation_subjects >= len(rest):
                raise ConfigError(f"protocol.validation_subjects={validation_subjects}: fold {k + 1} has "
                                  f"{len(rest)} training subjects")
            by_class = {v: [s for s in rest if label[s] == v] for v in sorted(label[rest].unique(), key=str)}
            pools = [[members[i] for i in rng.permutation(len(members))] for members in by_class.values()]
            while len(val) < validation_subjects:
                for pool in pools:
                    if pool and len(val) < validation_subjects:
                        val.append(pool.pop())
        subject = index["subject"].astype(str)
        train = index[subject.isin(set(rest) - set(val))]
        folds.append(Fold(f"fold={k + 1}", tuple(windows_of(train)),
                          tuple(windows_of(index[subject.isin(set(val))])),
                          tuple(windows_of(index[subject.isin(set(test_subjects))]))))
    return folds


def shared_subjects(fold: Fold, subject_of) -> set[str]:
    """Subjects with windows on both the training (train + val) and the test side of `fold` (``subject_of``: window
    id -> subject)."""
    return {subject_of(w) for w in (*fold.train, *fold.val)} & {subject_of(w) for w in fold.test}


def cross_dataset_index(indices: Iterable[pd.DataFrame], mapping: str = "merged") -> pd.DataFrame:
    """The trials of several EEG indices (``dataset`` column: seed, seed_iv) on the classes of ``mapping``:
    rows whose label the mapping drops are removed, ``label`` becomes the shared class name and the dataset's own
    label is kept in ``original_label``."""
    if mapping not in CLASS_MAPS:
        raise ConfigError(f"protocol.mapping={mapping!r}: expected one of {', '.join(CLASS_MAPS)}")
    parts = []
    for index in indices:
        for name, rows in index.groupby("dataset", sort=False):
            table = CLASS_MAPS[mapping].get(str(name))
            if table is None:
                raise ConfigError(f"cross_dataset: no {mapping} class map for dataset {name!r}",
                                  hint=f"mapped datasets: {', '.join(CLASS_MAPS[mapping])}")
            kept = rows[rows["label"].isin(list(table))].copy()
            kept["original_label"] = kept["label"]
            kept["label"] = kept["label"].map(table)
            parts.append(kept)
    out = pd.concat(parts, ignore_index=True)
    if out["sample_id"].duplicated().any():
        raise ConfigError("cross_dataset: the same sample id in two indices")
    return out


def cross_dataset(index: pd.DataFrame, source: str | None = None, target: str | None = None) -> list[Fold]:
    """Train on every trial of ``source``, test on every trial of ``target`` (both datasets of a
    :func:`cross_dataset_index`); with neither given, one fold per direction between the index's two datasets."""
    names = _natural_sorted(index["dataset"].astype(str).unique())
    pairs = [(source, target)] if source or target else [(a, b) for a in names for b in names if a != b]
    folds = []
    for src, tgt in pairs:
        if src not in names or tgt not in names or src == tgt:
            raise ConfigError(f"cross_dataset: source {src!r} and target {tgt!r} must be two datasets of the "
                              f"index ({names})")
        folds.append(Fold(f"source={src}/target={tgt}", tuple(windows_of(index[index["dataset"] == src])), (),
                          tuple(windows_of(index[index["dataset"] == tgt]))))
    if not folds:
        raise ConfigError(f"cross_dataset: the index holds {names}; it needs two datasets (cross_dataset_index)")
    return folds


def random_windows_leaky(index: pd.DataFrame, test_fraction: float = 0.4, seed: int = 0) -> list[Fold]:
    """LEAKY diagnostic: per (subject, session), random windows test regardless of trial (see the module doc)."""
    if not 0 < test_fraction < 1:
        raise ConfigError(f"protocol.test_fraction={test_fraction}: expected a value in (0, 1)")
    rng = np.random.default_rng(seed)
    folds = []
    for (subject, session), rows in _groups(index, ["subject", "session"]):
        windows = np.array(windows_of(rows))
        is_test = np.zeros(len(windows), dtype=bool)
        is_test[rng.permutation(len(windows))[: int(round(test_fraction * len(windows)))]] = True
        folds.append(Fold(f"subject={subject}/session={session}/LEAKY", tuple(windows[~is_test]), (),
                          tuple(windows[is_test])))
    return folds


def eeg_folds(index: pd.DataFrame, name: str, seed: int = 0, **options) -> list[Fold]:
    """Folds of protocol `name` (:data:`PROTOCOLS` or :data:`CROSS_DATASET_PROTOCOLS`) with its options
    (n_train, sessions, n_folds, stratified, validation_subjects, test_fraction, source, target)."""
    makers = {"subject_dependent": subject_dependent, "loso": loso, "cross_session": cross_session,
              "cross_dataset": cross_dataset, "trial_kfold": lambda ix, **kw: trial_kfold(ix, seed=seed, **kw),
              "subject_kfold": lambda ix, **kw: subject_kfold(ix, seed=seed, **kw),
              "random_windows_leaky": lambda ix, **kw: random_windows_leaky(ix, seed=seed, **kw)}
    if name not in makers:
        known = ", ".join(PROTOCOLS + CROSS_DATASET_PROTOCOLS)
        raise ConfigError(f"unknown EEG protocol {name!r}; expected one of {known}")
    try:
        return makers[name](index, **options)
    except TypeError as err:
        raise ConfigError(f"EEG protocol {name!r}: {err}") from None


def _groups(index: pd.DataFrame, keys: list[str]) -> Iterable[tuple[tuple, pd.DataFrame]]:
    order = {k: _natural_sorted(index[k].astype(str).unique()) for k in keys}
    grouped = dict(tuple(index.groupby(keys, sort=False)))
    def rank(key):
        key = key if isinstance(key, tuple) else (key,)
        return tuple(order[k].index(str(v)) for k, v in zip(keys, key, strict=True))
    for key in sorted(grouped, key=rank):
        rows = grouped[key].sort_values([c for c in ("session", "trial") if c in index], kind="stable")
        yield (key if isinstance(key, tuple) else (key,)), rows
