"""The one metrics module (definitions in ../shared/reference/protocols.md).

Micro-expression recognition is scored on predictions POOLED over all LOSO folds: UF1 is the mean over classes of
F1_c with TP/FP/FN summed over every fold first, UAR the mean over classes of recall_c. These equal macro F1 and
balanced accuracy of the concatenated predictions. A class absent from both truth and prediction is left out of
the mean (it has no F1); a class present in the truth and never predicted counts with F1 = 0.
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts C[i, j] of samples with true class i predicted as j."""
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    _check_labels(y_true, y_pred, n_classes)
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_f1(y_true, y_pred, n_classes: int) -> np.ndarray:
    """F1 of each class on pooled predictions; NaN for a class that occurs neither in truth nor in prediction."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def per_class_recall(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Recall of each class; NaN for a class with no true samples."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1).astype(float)
    return np.where(support > 0, np.diag(cm) / np.where(support > 0, support, 1), np.nan)


def uf1(y_true, y_pred, n_classes: int) -> float:
    """Unweighted F1: mean of the per-class F1 over classes that occur."""
    return float(np.nanmean(per_class_f1(y_true, y_pred, n_classes)))


def uar(y_true, y_pred, n_classes: int) -> float:
    """Unweighted average recall: mean of per-class recall over classes present in the truth."""
    return float(np.nanmean(per_class_recall(y_true, y_pred, n_classes)))


def accuracy(y_true, y_pred) -> float:
    y_true = np.asarray(y_true)
    return float((y_true == np.asarray(y_pred)).mean()) if len(y_true) else float("nan")


def topk_accuracy(scores, y_true, k: int) -> float:
    """Fraction of samples whose true class is among the k highest scores."""
    scores = np.asarray(scores, dtype=float)
    y_true = np.asarray(y_true, dtype=int)
    k = min(k, scores.shape[1])
    topk = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float((topk == y_true[:, None]).any(axis=1).mean())


def classification_report(y_true, y_pred, class_names: list[str]) -> dict:
    """Everything metrics.json holds for a classification task."""
    n = len(class_names)
    f1 = per_class_f1(y_true, y_pred, n)
    return {
        "uf1": uf1(y_true, y_pred, n),
        "uar": uar(y_true, y_pred, n),
        "accuracy": accuracy(y_true, y_pred),
        "n_samples": int(len(y_true)),
        "per_class_f1": {name: (None if np.isnan(v) else float(v)) for name, v in zip(class_names, f1)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, n).tolist(),
        "class_names": list(class_names),
    }


def majority_class_floor(y_true, class_names: list[str]) -> dict:
    """The trivial floor of a classification result: the scores of always predicting the most frequent class of
    the (pooled test) labels ``y_true``, a number that needs no training. Ties go to the first class in label order.

    ``majority_uf1`` is the F1 of that class (2p / (1 + p) for its share p) over the number of classes present,
    ``majority_accuracy`` is p (also the floor of top-1 accuracy); ``majority_class`` names the class.
    """
    y = np.asarray(y_true, dtype=int)
    n = len(class_names)
    if y.size == 0:
        return {"majority_class": None, "majority_uf1": float("nan"), "majority_accuracy": float("nan")}
    majority = int(np.bincount(y, minlength=n).argmax())
    constant = np.full_like(y, majority)
    return {"majority_class": class_names[majority], "majority_uf1": uf1(y, constant, n),
            "majority_accuracy": accuracy(y, constant)}


def majority_floor_of_report(report: dict) -> dict:
    """``majority_class_floor`` of the true labels behind a ``classification_report``: the rows of its confusion
    matrix count the true classes, so the floor needs no predictions file."""
    counts = np.asarray(report["confusion_matrix"], dtype=int).sum(1)
    return majority_class_floor(np.repeat(np.arange(len(counts)), counts), report["class_names"])


def au_f1(au_true, au_pred, au_names: list[str]) -> dict:
    """F1 of the positive class of each AU on pooled predictions, and their mean.

    An AU with no positive sample in the truth has no defined F1: it is reported as ``None`` in ``au_f1`` and listed
    in ``au_without_positives``; the mean runs over the AUs that have positives.
    """
    t = np.asarray(au_true).astype(bool)
    p = np.asarray(au_pred).astype(bool)
    if t.shape != p.shape or t.shape[1] != len(au_names):
        raise ValueError(f"AU arrays must both be (N, {len(au_names)}), got {t.shape} and {p.shape}")
    tp = (t & p).sum(0)
    fp = (~t & p).sum(0)
    fn = (t & ~p).sum(0)
    per_au, missing = {}, []
    for i, name in enumerate(au_names):
        if t[:, i].sum() == 0:
            per_au[name] = None
            missing.append(name)
        else:
            per_au[name] = float(2 * tp[i] / (2 * tp[i] + fp[i] + fn[i]))
    scored = [v for v in per_au.values() if v is not None]
    return {
        "au_f1": per_au,
        "mean_au_f1": float(np.mean(scored)) if scored else None,
        "au_without_positives": missing,
        "n_samples": int(t.shape[0]),
    }


def all_positive_au_f1(au_true, au_names: list[str]) -> dict:
    """The floor: predicting every AU present in every sample."""
    t = np.asarray(au_true)
    return au_f1(t, np.ones_like(t), au_names)


def _check_labels(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} holds labels outside 0..{n_classes - 1}")
