"""Evaluation protocols as pure functions of the sample index.

A fold lists sample ids for train, validation (possibly empty) and test. Subjects are keyed by the columns in
``group`` (default (dataset, subject)), so subject 1 of CASME II and subject 1 of SMIC are different people in a
composite. Validation, when used, is carved out of the TRAINING subjects of that fold: model selection never
sees the test subject.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ConfigError


@dataclass(frozen=True)
class Fold:
    name: str
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]


def subject_keys(index: pd.DataFrame, group: tuple[str, ...] = ("dataset", "subject")) -> pd.Series:
    return index[list(group)].astype(str).agg("/".join, axis=1)


def leave_one_subject_out(index: pd.DataFrame, group: tuple[str, ...] = ("dataset", "subject")) -> list[Fold]:
    keys = subject_keys(index, group)
    folds = []
    for key in _natural_sorted(keys.unique()):
        test = index.loc[keys == key, "sample_id"]
        train = index.loc[keys != key, "sample_id"]
        folds.append(Fold(f"subject={key}", tuple(train), (), tuple(test)))
    return folds


def leave_one_dataset_out(index: pd.DataFrame) -> list[Fold]:
    datasets = sorted(index["dataset"].unique())
    if len(datasets) < 2:
        raise ConfigError(f"leave-one-dataset-out needs at least two datasets, got {datasets}")
    return [
        Fold(
            f"dataset={d}",
            tuple(index.loc[index["dataset"] != d, "sample_id"]),
            (),
            tuple(index.loc[index["dataset"] == d, "sample_id"]),
        )
        for d in datasets
    ]


def subject_kfold(index: pd.DataFrame, n_folds: int, group: tuple[str, ...] = ("dataset", "subject")) -> list[Fold]:
    """Subject-independent k-fold: every subject's samples are in exactly one test fold, never split.

    Subjects are dealt to folds deterministically (no seed: the folds are part of the protocol, like LOSO's):
    largest subject first, each to the fold with the fewest samples so far (ties: lowest fold number), so folds
    hold similar sample counts. LOSO is the special case n_folds = number of subjects. A cheaper protocol for
    expensive networks; it trains on about (k-1)/k of the data instead of all but one subject, so its scores
    are not comparable with a paper's LOSO numbers (the report says which protocol each run used).
    """
    keys = subject_keys(index, group)
    subjects = _natural_sorted(keys.unique())
    if n_folds < 2 or n_folds > len(subjects):
        raise ConfigError(f"protocol.n_folds={n_folds}: expected 2..{len(subjects)} (the number of subjects)")
    sizes = keys.value_counts()
    load = [0] * n_folds
    members: list[list[str]] = [[] for _ in range(n_folds)]
    for subject in sorted(subjects, key=lambda s: -int(sizes[s])):
        target = min(range(n_folds), key=lambda f: (load[f], f))
        members[target].append(subject)
        load[target] += int(sizes[subject])
    folds = []
    for number, chosen in enumerate(members):
        in_test = keys.isin(chosen)
        folds.append(Fold(f"subjects={number + 1}of{n_folds}", tuple(index.loc[~in_test, "sample_id"]), (),
                          tuple(index.loc[in_test, "sample_id"])))
    return folds


def cross_database_fold(index: pd.DataFrame, source: str, target: str) -> Fold:
    """The one fold of a cross-database task: train = every clip of dataset `source`, test = every clip of dataset
    `target` (transductive methods also see the target clips' features, unlabelled, at training; the rest of the
    protocol, and the label-space checks, are in datamodules/cross_database.py)."""
    if not source or not target:
        raise ConfigError("protocol cross_database needs protocol.source and protocol.target (dataset keys)")
    if source == target:
        raise ConfigError(f"protocol.source and protocol.target are both {source!r}: a cross-database task needs two "
                          "datasets")
    datasets = set(index["dataset"])
    for role, name in (("protocol.source", source), ("protocol.target", target)):
        if name not in datasets:
            raise ConfigError(f"{role}={name!r} is not among the loaded datasets {sorted(datasets)}",
                              hint="it must be one of data.sources and keep clips after data.label_map")
    pick = lambda name: tuple(index.loc[index["dataset"] == name, "sample_id"])  # noqa: E731
    return Fold(f"{source}->{target}", pick(source), (), pick(target))


def predefined_split(index: pd.DataFrame, column: str = "split") -> list[Fold]:
    """One fold from a `split` column with values train / val / test (e.g. a cross-subject release split)."""
    if column not in index:
        raise ConfigError(f"protocol 'split' needs a {column!r} column in the index")
    values = set(index[column])
    unknown = values - {"train", "val", "test"}
    if unknown:
        raise ConfigError(f"split column holds {sorted(unknown)}; expected train, val or test")
    pick = lambda v: tuple(index.loc[index[column] == v, "sample_id"])  # noqa: E731
    return [Fold("split", pick("train"), pick("val"), pick("test"))]


def with_inner_validation(
    fold: Fold, index: pd.DataFrame, fraction: float, seed: int, group: tuple[str, ...] = ("dataset", "subject")
) -> Fold:
    """Hold out a share of the fold's training SUBJECTS (never samples of the test subject) for validation."""
    train = index[index["sample_id"].isin(fold.train)]
    keys = subject_keys(train, group)
    subjects = np.array(_natural_sorted(keys.unique()))
    rng = np.random.default_rng(seed)
    n_val = max(1, int(round(fraction * len(subjects)))) if len(subjects) > 1 else 0
    val_subjects = set(rng.choice(subjects, size=n_val, replace=False)) if n_val else set()
    is_val = keys.isin(val_subjects).to_numpy()
    return Fold(fold.name, tuple(train["sample_id"][~is_val]), tuple(train["sample_id"][is_val]), fold.test)


def make_folds(index: pd.DataFrame, protocol, seed: int = 0) -> list[Fold]:
    """Folds for a protocol config (`name`, `group`, `validation`, `val_fraction`, `max_folds`)."""
    group = tuple(protocol.get("group", ("dataset", "subject")))
    name = protocol.name
    if name == "loso":
        folds = leave_one_subject_out(index, group)
    elif name == "lodo":
        folds = leave_one_dataset_out(index)
    elif name == "split":
        folds = predefined_split(index)
    elif name == "subject_kfold":
        folds = subject_kfold(index, int(protocol.get("n_folds", 5)), group)
    elif name == "cross_database":
        folds = [cross_database_fold(index, str(protocol.get("source", "")), str(protocol.get("target", "")))]
    else:
        raise ConfigError(f"unknown protocol {name!r}; expected loso, subject_kfold, lodo, split or cross_database")
    if protocol.get("validation", "none") == "inner":
        folds = [
            f if f.val else with_inner_validation(f, index, float(protocol.val_fraction), seed, group) for f in folds
        ]
    elif protocol.get("validation", "none") != "none":
        raise ConfigError(f"protocol.validation must be none or inner, got {protocol.validation!r}")
    if int(protocol.get("max_folds", 0)) > 0:
        folds = folds[: int(protocol.max_folds)]
    return folds


def _natural_sorted(values) -> list[str]:
    def key(v: str):
        import re

        return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(v))]

    return sorted(values, key=key)
