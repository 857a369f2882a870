"""Is a result clearly above its trivial floor? The evidence rule of issue 15, per task.

Every headline result is held against a floor that needs no training (core/results.py ``FLOORS``):

| task | metric | floor | clearly above when |
|---|---|---|---|
| mer, masked | UF1 | ``majority_uf1``: always predicting the most frequent test class | UF1 >= floor + 0.15 |
| gesture | top-1 | ``majority_accuracy`` (the same constant prediction) | top-1 >= floor + 0.15 |
| eeg | accuracy | ``majority_accuracy`` (the same constant prediction, pooled windows) | acc >= floor + 0.15 |
| au | mean AU F1 | ``all_positive_floor``: predicting every AU present | mean AU F1 >= floor + 0.10 |
| rec | Recall@20 | ``popularity_recall@20``: ranking items by training popularity | Recall@20 >= 1.2 x floor |

A result within :data:`AT_FLOOR` of its floor (or below it) is "at floor"; one above that but short of the margin is
"below the evidence margin". The mean over the comparable seed runs is judged, against the mean of their floors.
A run written before the floors existed gets its majority floor from the class counts of its confusion matrix
(the same number: the confusion matrix's rows are the pooled test labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.metrics import majority_class_floor
from reports.results import Experiment, SeedRun, number, summarise

CLEAR = "clear"
BELOW_MARGIN = "below the evidence margin"
AT_FLOOR = "at floor"
NO_FLOOR = "no floor recorded"
AT_FLOOR_TOLERANCE = 0.02  # absolute (ratio 1.02 for Recall@20): closer than this to the floor is "at floor"


@dataclass(frozen=True)
class Rule:
    metric: str
    floor: str
    floor_label: str
    margin: float
    ratio: bool = False  # margin is a ratio (Recall@20 >= 1.2 x popularity), else an absolute difference


RULES = {
    "mer": Rule("uf1", "majority_uf1", "majority-class UF1", 0.15),
    "cdmer": Rule("uf1", "majority_uf1", "majority-class UF1", 0.15),
    "masked": Rule("uf1", "majority_uf1", "majority-class UF1", 0.15),
    "gesture": Rule("top1", "majority_accuracy", "majority-class top-1", 0.15),
    "eeg": Rule("accuracy", "majority_accuracy", "majority-class accuracy", 0.15),
    "au": Rule("mean_au_f1", "all_positive_floor", "all-positive mean AU F1", 0.10),
    "rec": Rule("recall@20", "popularity_recall@20", "most-popular Recall@20", 1.2, ratio=True),
}


@dataclass(frozen=True)
class Verdict:
    status: str  # CLEAR | BELOW_MARGIN | AT_FLOOR | NO_FLOOR
    value: float | None
    floor: float | None
    rule: Rule

    @property
    def floor_text(self) -> str:
        return "—" if self.floor is None else f"{self.rule.floor_label} {self.floor:.4f}"

    @property
    def text(self) -> str:
        if self.status == NO_FLOOR or self.value is None or self.floor is None:
            return f"{NO_FLOOR} ({self.rule.floor} not in the results)"
        if self.rule.ratio:
            ratio = self.value / self.floor if self.floor > 0 else float("inf")
            return f"{self.status} ({ratio:.2f}x the floor; needs {self.rule.margin:g}x)"
        lift = self.value - self.floor
        if self.status == CLEAR:
            return f"{CLEAR} (+{lift:.3f} over the floor)"
        return f"{self.status} ({lift:+.3f}; needs +{self.rule.margin:.2f})"

    @property
    def style(self) -> str:
        return {CLEAR: "real", BELOW_MARGIN: "warn", AT_FLOOR: "warn"}.get(self.status, "muted")


def run_floor(run: SeedRun, task: str) -> float | None:
    """The run's floor: from metrics.json, else (majority floors) from its confusion matrix's row sums."""
    rule = RULES.get(task, RULES["mer"])
    value = number(run.metrics.get(rule.floor))
    if value is not None or rule.floor not in ("majority_uf1", "majority_accuracy"):
        return value
    matrix, classes = run.metrics.get("confusion_matrix"), run.metrics.get("class_names")
    if not isinstance(matrix, list) or not isinstance(classes, list) or not matrix:
        return None
    try:
        counts = np.asarray(matrix, dtype=int).sum(axis=1)
    except (TypeError, ValueError):
        return None
    if counts.sum() == 0 or len(counts) != len(classes):
        return None
    labels = np.repeat(np.arange(len(counts)), counts)
    return number(majority_class_floor(labels, list(classes))[rule.floor])


def mean_floor(runs: list[SeedRun], task: str) -> float | None:
    """The mean of the runs' floors (those that have one), or None."""
    floors = [f for f in (run_floor(r, task) for r in runs) if f is not None]
    return float(np.mean(floors)) if floors else None


def judge(value: float | None, floor: float | None, rule: Rule) -> str:
    if value is None or floor is None:
        return NO_FLOOR
    if rule.ratio:
        if floor <= 0:
            return CLEAR if value > 0 else AT_FLOOR
        ratio = value / floor
        return CLEAR if ratio >= rule.margin else AT_FLOOR if ratio <= 1 + AT_FLOOR_TOLERANCE else BELOW_MARGIN
    lift = value - floor
    return CLEAR if lift >= rule.margin - 1e-12 else AT_FLOOR if lift <= AT_FLOOR_TOLERANCE else BELOW_MARGIN


def verdict(experiment: Experiment) -> Verdict:
    """The evidence verdict of an experiment: mean of its comparable runs against the mean of their floors."""
    rule = RULES.get(experiment.task, RULES["mer"])
    value = summarise(experiment.values(rule.metric))
    floor = mean_floor(experiment.runs, experiment.task)
    mean = value.mean if value else None
    return Verdict(judge(mean, floor, rule), mean, floor, rule)
