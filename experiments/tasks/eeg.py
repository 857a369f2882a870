"""The EEG emotion task (SEED, SEED-IV, DEAP and their stand-ins): the fold loop of experiments/tasks/folds.py.

`prepare` builds the window source (datamodules/eeg.py: one index row per DE window, window ids as sample ids)
and the folds of ``protocol.name`` from datamodules/eeg_protocols.py (``subject_dependent``: 9 train / 6 test
trials per subject-session, 45 folds, SEED-IV 16 / 8; ``loso``: 15 folds, sessions pooled, or ``per_session``;
``cross_session``; ``trial_kfold``: per subject, k folds of whole trials, DEAP's; ``subject_kfold``: k folds of
whole subjects (MODMA's depression detection; adds subject-level scores, :func:`subject_level_scores`);
``cross_dataset``: train on one dataset, test on another on their shared classes (datamodules/eeg.py
:class:`CrossDatasetEEGSource`, one fold per ``protocol.source`` -> ``protocol.target``; with ``data.transductive``
the target's unlabelled windows enter training, as for every protocol); ``random_windows_leaky`` is
refused here: it is a diagnostic of benchmarks/eeg_protocols.py, never a number to report). `run` is folds.run
unchanged (one process, each fold's selected checkpoint read once, predictions pooled, per-subject scores,
--resume), followed by the scores as the EEG field reports them: accuracy
and macro-F1 per fold (a subject-session, a held-out subject or a held-out session; under ``cross_dataset`` each
target subject of the fold), then their mean and std over
folds (``fold_accuracy_mean`` / ``_std``, ``fold_f1_mean`` / ``_std``) and over subjects (each subject's folds
averaged first: ``subject_accuracy_mean`` / ``_std``, ``subject_f1_mean`` / ``_std``). The pooled ``accuracy``
and ``uf1`` of folds.py stay as well. ``protocol.max_folds`` > 0 keeps only the first folds (smoke runs only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from core import metrics as M
from core.errors import ConfigError
from datamodules.eeg import CrossDatasetEEGSource, EEGSource
from datamodules.eeg_protocols import CROSS_DATASET_PROTOCOLS, LEAKY, eeg_folds
from experiments.tasks import folds as fold_loop

OPTIONS = {"subject_dependent": ("n_train", "last_trial"), "loso": ("sessions",), "cross_session": (),
           "trial_kfold": ("n_folds",), "subject_kfold": ("n_folds", "stratified", "validation_subjects"),
           "cross_dataset": ("source", "target")}


def prepare(cfg, spec, root: Path) -> fold_loop.Prepared:
    name = str(cfg.protocol.name)
    source = (CrossDatasetEEGSource if name in CROSS_DATASET_PROTOCOLS else EEGSource)(cfg, spec.inputs, root)
    if name in LEAKY or name not in OPTIONS:
        raise ConfigError(f"protocol.name={name!r} is not an EEG protocol to report",
                          hint=f"use one of {', '.join(OPTIONS)} (the leaky split is benchmarks/eeg_protocols.py's)")
    options = {k: OmegaConf.select(cfg, f"protocol.{k}") for k in OPTIONS[name]
               if OmegaConf.select(cfg, f"protocol.{k}", default=None) is not None}
    folds = eeg_folds(source.trials, name, seed=int(cfg.seed), **options)
    limit = int(OmegaConf.select(cfg, "protocol.max_folds", default=0))
    total = len(folds) if limit > 0 else None  # the protocol's fold count, when only the first folds run
    if limit > 0:
        folds = folds[:limit]
    return fold_loop.Prepared(source, folds, bool(source.standin), source.data_files(), total)


def run(prepared: fold_loop.Prepared, ctx) -> dict:
    metrics = fold_loop.run(prepared, ctx)
    table = pd.read_csv(ctx.out_dir / "predictions.csv", dtype={"subject": str, "sample_id": str})
    if str(ctx.cfg.protocol.name) in CROSS_DATASET_PROTOCOLS:  # one fold holds every target subject: score each
        table = table.assign(fold=table["fold"].astype(str) + "/subject=" + table["subject"])
    metrics.update(field_scores(table, len(ctx.cfg.data.classes)))
    if str(ctx.cfg.protocol.name) == "subject_kfold":
        metrics.update(subject_level_scores(table, list(ctx.cfg.data.classes)))
    return metrics


def subject_level_scores(table: pd.DataFrame, classes: list[str]) -> dict:
    """Scores per SUBJECT (a diagnosis is per person): each test subject's window scores are averaged and the
    subject is assigned the class of the highest mean score; accuracy, macro-F1 and the F1 of the last class (the
    positive one, e.g. MDD) over subjects, keyed ``subject_level_*``, with the subjects' majority-class floor. Every
    window of a subject must carry one label (subject-level labels); otherwise this raises."""
    columns = [f"score_{c}" for c in classes]
    grouped = table.groupby(["dataset", "subject"], sort=True)
    if (grouped["y_true"].nunique() > 1).any():
        raise ConfigError("subject-level scores need one label per subject; this dataset labels windows")
    mean = grouped[columns].mean()
    y_true = grouped["y_true"].first().to_numpy()
    y_pred = mean.to_numpy().argmax(1)
    positive = len(classes) - 1
    counts = np.bincount(y_true, minlength=len(classes))
    return {"subject_level_accuracy": M.accuracy(y_true, y_pred),
            "subject_level_f1": M.uf1(y_true, y_pred, len(classes)),
            "subject_level_f1_positive": _f1_of(y_true, y_pred, positive),
            "subject_level_majority_accuracy": float(counts.max() / counts.sum()),
            "subject_level_n": int(len(y_true))}


def _f1_of(y_true: np.ndarray, y_pred: np.ndarray, positive: int) -> float:
    tp = float(np.sum((y_true == positive) & (y_pred == positive)))
    fp = float(np.sum((y_true != positive) & (y_pred == positive)))
    fn = float(np.sum((y_true == positive) & (y_pred != positive)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def field_scores(table: pd.DataFrame, n_classes: int) -> dict:
    """Accuracy and macro-F1 per fold, their mean and std over folds and over subjects (population std, ddof 0)."""
    per_fold = {}
    for fold, part in table.groupby("fold", sort=False):
        per_fold[str(fold)] = {"subject": str(part["subject"].iloc[0]), "n": int(len(part)),
                               "accuracy": M.accuracy(part["y_true"], part["y_pred"]),
                               "f1": M.uf1(part["y_true"], part["y_pred"], n_classes)}
    frame = pd.DataFrame(per_fold).T
    by_subject = frame.groupby("subject")[["accuracy", "f1"]].mean()
    out = {"per_fold": per_fold}
    for prefix, values in (("fold", frame), ("subject", by_subject)):
        for key in ("accuracy", "f1"):
            column = values[key].astype(float).to_numpy()
            out[f"{prefix}_{key}_mean"] = float(np.mean(column))
            out[f"{prefix}_{key}_std"] = float(np.std(column))
    out["n_subjects"] = int(len(by_subject))
    return out
