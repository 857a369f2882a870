"""The transductive cross-database protocol (CDMER): a labelled source database, an unlabelled target database.

The setting (protocols.md; Zong et al., "Cross-Database Micro-Expression Recognition: A Benchmark", arXiv
1812.07742, whose full text was not available here): every clip of the SOURCE database, with its label, trains the
model; the features of every clip of the TARGET database are available at training time WITHOUT their labels
(transductive: the unlabelled target clips are the clips to be recognised, as in the benchmark and in TSRG); the
model predicts every target clip and only then are the target labels used, to score. The benchmark's 12 tasks are
data (rawdata/layouts/cdmer_tasks.yaml, with where the list was read). Scores: UAR and UF1 as everywhere in the suite,
plus WAR (weighted average recall = accuracy), which the benchmark and the public TSRG code report with UAR.

The fold itself (train = source clips, test = target clips) is datamodules/protocols.py ``cross_database_fold``
(``protocol.name: cross_database`` with ``protocol.source`` and ``protocol.target``). How the code keeps target
labels out of fitting: :func:`transductive_split` returns two objects,

* a :class:`TransductiveProblem`: source features, source labels, source subjects, target features, target sample
  ids. It has no target labels; fitting, source-only cross-validation and reverse validation see only this;
* a :class:`TargetKey`: the target labels. Only scoring and the explicitly labelled oracle selector take it.

tests/test_cross_database.py checks that a method's predictions do not change when the target labels are shuffled.

Label spaces: each dataset's emotions are mapped onto the experiment's classes by ``data.label_map`` (unmapped
emotions are dropped, as for every experiment). CASME II has no "positive/negative" labels; how the benchmark maps
its emotions onto SMIC's three classes was not readable here, so the suite's default is the MEGC2019 composite
mapping (happiness -> positive; disgust, repression -> negative; surprise -> surprise; others, fear, sadness
dropped: experiments/_defaults/datasets/composite.yaml), a documented choice and a config knob. A target whose
mapped classes the source lacks cannot be recognised by a source-trained classifier: that is an error naming the
classes and the knob, as is a source or target left without clips by the mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from core import metrics as M
from core.config import load_yaml
from core.errors import ConfigError, DatasetError
from datamodules.protocols import cross_database_fold, subject_kfold
from rawdata.datasets import CDMER_TASKS_FILE

TASKS_FILE = CDMER_TASKS_FILE  # rawdata/layouts/cdmer_tasks.yaml


@dataclass(frozen=True)
class CrossDatabaseTask:
    """One task: train on `source` (labelled), recognise `target` (unlabelled at training)."""

    source: str
    target: str
    group: str = ""

    @property
    def name(self) -> str:
        """``<source>_to_<target>``, the task's name in experiment ids (``experiments/<method>/<name>.yaml``)."""
        return f"{self.source}_to_{self.target}"


@dataclass(frozen=True)
class BenchmarkTasks:
    """The benchmark's task list as read from `path`, with the citation of where it comes from."""

    tasks: tuple[CrossDatabaseTask, ...]
    classes: tuple[str, ...]
    source: str
    path: Path

    def task(self, name: str) -> CrossDatabaseTask:
        for task in self.tasks:
            if task.name == name:
                return task
        raise ConfigError(f"unknown cross-database task {name!r}", path=self.path,
                          hint=f"the benchmark's tasks: {', '.join(t.name for t in self.tasks)}")


def benchmark_tasks(path: str | Path = TASKS_FILE) -> BenchmarkTasks:
    """The CDMER benchmark's tasks (rawdata/layouts/cdmer_tasks.yaml); a malformed file is an error naming it."""
    path = Path(path)
    data = load_yaml(path)
    try:
        tasks = tuple(CrossDatabaseTask(str(t["source"]), str(t["target"]), str(t.get("group", "")))
                      for t in data["tasks"])
        classes, source = tuple(str(c) for c in data["classes"]), str(data["source"])
    except (KeyError, TypeError) as err:
        raise ConfigError(f"malformed task list: missing {err}", path=path,
                          hint="expected `source:`, `classes:` and `tasks:` of {source, target, group}") from None
    for task in tasks:
        if task.source == task.target:
            raise ConfigError(f"task {task.name}: source and target are the same dataset", path=path)
    if len({t.name for t in tasks}) != len(tasks):
        raise ConfigError("a task is listed twice", path=path)
    return BenchmarkTasks(tasks, classes, source, path)


# -- the protocol on the index -------------------------------------------------------------------------------------


def check_label_spaces(index: pd.DataFrame, source: str, target: str, class_names: list[str] | tuple[str, ...]) -> None:
    """Errors for a task the classes make impossible: a source or target without clips after the label mapping,
    or target classes the source lacks (a source-trained classifier cannot predict them)."""
    datasets = sorted(index["dataset"].unique()) if len(index) else []
    for role, name in (("protocol.source", source), ("protocol.target", target)):
        if name not in datasets:
            raise DatasetError(f"{role}={name!r} has no clips left after the label mapping (data.label_map.{name} "
                               f"onto data.classes {list(class_names)})",
                               hint=f"datasets with clips: {', '.join(datasets) or 'none'}; map its emotions in "
                                    f"data.label_map.{name} or choose another {role}")
    present = lambda name: sorted(set(index.loc[index["dataset"] == name, "y"].astype(int)))  # noqa: E731
    missing = sorted(set(present(target)) - set(present(source)))
    if missing:
        names = [class_names[i] for i in missing]
        raise DatasetError(f"target {target!r} has classes {names} that the source {source!r} lacks: a classifier "
                           f"trained on {source} cannot predict them",
                           hint=f"map them onto the source's classes in data.label_map.{target}, or drop them "
                                f"(leave them out of data.label_map.{target})")


# -- the transductive data a method sees ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TransductiveProblem:
    """What fitting and honest selection may use: labelled source, UNLABELLED target (no target labels here)."""

    xs: np.ndarray  # (ns, D) source features
    ys: np.ndarray  # (ns,) source labels 0..n_classes-1
    xt: np.ndarray  # (nt, D) target features
    n_classes: int
    source_groups: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # (ns,) subject keys
    target_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()

    def __post_init__(self):
        if self.xs.ndim != 2 or self.xt.ndim != 2 or self.xs.shape[1] != self.xt.shape[1]:
            raise ValueError(f"source {self.xs.shape} and target {self.xt.shape} features must be (n, D) alike")
        if len(self.ys) != len(self.xs):
            raise ValueError(f"{len(self.ys)} source labels for {len(self.xs)} source samples")

    def with_source(self, rows: np.ndarray, xt: np.ndarray | None = None) -> TransductiveProblem:
        """The same problem on a subset of source rows (and optionally other target features): what source-only
        cross-validation and reverse validation build."""
        groups = self.source_groups[rows] if len(self.source_groups) else self.source_groups
        ids = tuple(np.asarray(self.source_ids, dtype=object)[rows]) if self.source_ids else ()
        return TransductiveProblem(self.xs[rows], self.ys[rows], self.xt if xt is None else xt, self.n_classes,
                                   groups, self.target_ids if xt is None else (), ids)


@dataclass(frozen=True)
class TargetKey:
    """The target labels: used to score, and by the oracle selector only (which the report labels as such)."""

    yt: np.ndarray
    class_names: tuple[str, ...]
    target_ids: tuple[str, ...] = ()

    def score(self, predictions: np.ndarray) -> dict[str, float]:
        """UAR, UF1 (the suite's headline), WAR (= accuracy, the benchmark's second number) on the target."""
        n = len(self.class_names)
        predictions = np.asarray(predictions, dtype=int)
        if predictions.shape != self.yt.shape:
            raise ValueError(f"{predictions.shape} predictions for {self.yt.shape} target samples")
        accuracy = M.accuracy(self.yt, predictions)
        return {"uar": M.uar(self.yt, predictions, n), "uf1": M.uf1(self.yt, predictions, n), "war": accuracy,
                "accuracy": accuracy}


def transductive_split(index: pd.DataFrame, features: np.ndarray, source: str, target: str,
                       class_names: list[str] | tuple[str, ...]) -> tuple[TransductiveProblem, TargetKey]:
    """Split the rows of `index` (columns dataset, sample_id, subject, y) and their `features` (one row each) into
    the problem a method fits on and the key that scores it (module docstring)."""
    if len(features) != len(index):
        raise ValueError(f"{len(features)} feature rows for {len(index)} index rows")
    fold = cross_database_fold(index, source, target)
    check_label_spaces(index, source, target, class_names)
    position = {sid: i for i, sid in enumerate(index["sample_id"])}
    s_rows = np.array([position[s] for s in fold.train], dtype=int)
    t_rows = np.array([position[s] for s in fold.test], dtype=int)
    y = index["y"].to_numpy(dtype=int)
    groups = index[["dataset", "subject"]].astype(str).agg("/".join, axis=1).to_numpy(dtype=object)
    x = np.asarray(features, dtype=np.float64)
    problem = TransductiveProblem(x[s_rows], y[s_rows], x[t_rows], len(class_names), groups[s_rows],
                                  tuple(fold.test), tuple(fold.train))
    return problem, TargetKey(y[t_rows], tuple(class_names), tuple(fold.test))


# -- hyper-parameter selection --------------------------------------------------------------------------------------
#
# A selector runs a method's fit function over a grid of hyper-parameters and picks one point. The two honest
# selectors see only the TransductiveProblem; the oracle takes the TargetKey and is reported apart, labelled
# ORACLE_LABEL, so the gap between them shows what selecting on target labels (as the public TSRG code's grid does)
# is worth.

ORACLE_LABEL = "oracle (selects on target labels)"
HONEST_RULES = ("source_cv", "reverse_validation", "iwcv")


class FittedModel(Protocol):
    """What a method's fit function returns: decision values of the problem's target samples, and a way to score
    other source-domain samples (held-out source subjects)."""

    target_scores: np.ndarray

    def source_scores(self, x: np.ndarray) -> np.ndarray: ...


FitFunction = Callable[[TransductiveProblem, dict], FittedModel]


@dataclass(frozen=True)
class Selection:
    """The chosen grid point of one rule, its selection score and every point's score (grid order)."""

    rule: str
    params: dict
    score: float
    scores: tuple[float, ...]
    honest: bool

    @property
    def label(self) -> str:
        return ORACLE_LABEL if not self.honest else {"source_cv": "source-only cross-validation",
                                                    "reverse_validation": "reverse validation",
                                                    "iwcv": "importance-weighted cross-validation"}[self.rule]


def source_folds(problem: TransductiveProblem, n_folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Subject-disjoint (train rows, held-out rows) splits of the SOURCE samples (protocols.subject_kfold's
    deterministic dealing); n_folds is capped at the number of source subjects."""
    groups = problem.source_groups if len(problem.source_groups) else np.zeros(len(problem.ys), dtype=object)
    index = pd.DataFrame({"sample_id": [str(i) for i in range(len(groups))], "dataset": "source",
                          "subject": [str(g) for g in groups]})
    n_subjects = index["subject"].nunique()
    if n_subjects < 2:
        raise ConfigError("source-only selection needs at least two subjects in the source dataset",
                          hint="the selectors hold out source subjects; use selection.rule=oracle only to "
                               "measure, never to report")
    folds = subject_kfold(index, min(int(n_folds), n_subjects), group=("dataset", "subject"))
    return [(np.array(f.train, dtype=int), np.array(f.test, dtype=int)) for f in folds]


def _pooled_uar(pairs: list[tuple[np.ndarray, np.ndarray]], n_classes: int) -> float:
    truth = np.concatenate([t for t, _ in pairs])
    predicted = np.concatenate([p for _, p in pairs])
    return M.uar(truth, predicted, n_classes)


def source_cv_score(fit: FitFunction, problem: TransductiveProblem, params: dict, n_folds: int = 3) -> float:
    """Pooled UAR on held-out source subjects, the model adapted from the other source subjects to the (unlabelled)
    target: what the source can tell about a hyper-parameter, blind to the target's labels and to its shift."""
    pairs = []
    for train, held in source_folds(problem, n_folds):
        model = fit(problem.with_source(train), params)
        pairs.append((problem.ys[held], model.source_scores(problem.xs[held]).argmax(1)))
    return _pooled_uar(pairs, problem.n_classes)


def reverse_validation_score(fit: FitFunction, problem: TransductiveProblem, params: dict, n_folds: int = 3) -> float:
    """Reverse validation (Zhong et al., ECML PKDD 2010): adapt source-train -> target and pseudo-label the target;
    adapt back, the pseudo-labelled target as source and the held-out source subjects as (unlabelled) target;
    score the held-out source's true labels (pooled UAR). Only source labels are read."""
    pairs = []
    for train, held in source_folds(problem, n_folds):
        pseudo = fit(problem.with_source(train), params).target_scores.argmax(1)
        back = TransductiveProblem(problem.xt, pseudo, problem.xs[held], problem.n_classes)
        pairs.append((problem.ys[held], fit(back, params).target_scores.argmax(1)))
    return _pooled_uar(pairs, problem.n_classes)


def domain_ratio_weights(xs: np.ndarray, xt: np.ndarray, components: int = 10, ridge: float = 1.0,
                         clip: float = 10.0, iterations: int = 50) -> np.ndarray:
    """Density-ratio weights ``p_t(x) / p_s(x)`` of the source samples from a domain classifier (Bickel et al.,
    ICML 2007): an L2-regularised logistic regression, target vs source, on the first ``components`` principal
    components of the pooled, pooled-z-scored features (fitted by Newton's method), ``w = (n_s / n_t) P(t|x) /
    P(s|x)``, clipped to ``clip`` x their mean and scaled to mean 1. The component count, ridge and clip are choices
    fixed a priori (LBP-TOP has ~10^4 dimensions for ~10^2 samples: unreduced, the classifier separates the domains
    perfectly and the weights degenerate)."""
    pooled = np.vstack([xs, xt])
    z = (pooled - pooled.mean(0)) / np.maximum(pooled.std(0), 1e-12)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    k = max(1, min(int(components), len(s)))
    feats = u[:, :k] * s[:k] / np.sqrt(len(z))
    design = np.hstack([feats, np.ones((len(z), 1))])
    label = np.r_[np.zeros(len(xs)), np.ones(len(xt))]
    beta = np.zeros(k + 1)
    penalty = np.r_[np.full(k, float(ridge)), 0.0]
    for _ in range(int(iterations)):
        p = 1 / (1 + np.exp(-design @ beta))
        grad = design.T @ (p - label) + penalty * beta
        hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    logit = design[: len(xs)] @ beta
    weights = np.exp(logit) * len(xs) / len(xt)
    weights = np.minimum(weights / weights.mean(), float(clip))
    return weights / weights.mean()


def weighted_uar(truth: np.ndarray, predicted: np.ndarray, weights: np.ndarray, n_classes: int) -> float:
    """The mean over the classes present of the importance-weighted recall ``sum_correct w / sum w``."""
    recalls = [weights[(truth == c) & (predicted == c)].sum() / weights[truth == c].sum()
               for c in range(n_classes) if weights[truth == c].sum() > 0]
    return float(np.mean(recalls)) if recalls else float("nan")


def iwcv_score(fit: FitFunction, problem: TransductiveProblem, params: dict, n_folds: int = 3) -> float:
    """Importance-weighted cross-validation (Sugiyama, Krauledat, Mueller, JMLR 2007): source-only
    cross-validation whose held-out source samples count with their density ratio ``p_t / p_s``
    (:func:`domain_ratio_weights`, from the source and the UNLABELLED target features), so the held-out score
    estimates the target's. The score is the pooled importance-weighted UAR. Only source labels are read."""
    weights = domain_ratio_weights(problem.xs, problem.xt)
    truth, predicted, w = [], [], []
    for train, held in source_folds(problem, n_folds):
        model = fit(problem.with_source(train), params)
        truth.append(problem.ys[held])
        predicted.append(model.source_scores(problem.xs[held]).argmax(1))
        w.append(weights[held])
    return weighted_uar(np.concatenate(truth), np.concatenate(predicted), np.concatenate(w), problem.n_classes)


SCORERS = {"source_cv": source_cv_score, "reverse_validation": reverse_validation_score, "iwcv": iwcv_score}


def select(rule: str, grid: list[dict], fit: FitFunction, problem: TransductiveProblem,
           n_folds: int = 3) -> Selection:
    """The grid point with the highest honest score under `rule` (source_cv | reverse_validation); ties: the
    first in grid order (list the paper's default first)."""
    if rule not in SCORERS:
        raise ConfigError(f"unknown selection rule {rule!r}", hint=f"honest rules: {', '.join(HONEST_RULES)}; the "
                                                                   "oracle is select_oracle, reported apart")
    if not grid:
        raise ConfigError("an empty hyper-parameter grid: nothing to select")
    scores = tuple(float(SCORERS[rule](fit, problem, params, n_folds)) for params in grid)
    best = int(np.argmax(scores))
    return Selection(rule, dict(grid[best]), scores[best], scores, honest=True)


def select_oracle(grid: list[dict], target_scores: list[np.ndarray], key: TargetKey) -> Selection:
    """ORACLE: the grid point whose target predictions score the highest target UAR, i.e. selection on the test
    labels (what the public TSRG code's grid reports). `target_scores` are each point's fitted target decision
    values, in grid order. Reported apart from the honest selections, never as a method's result."""
    scores = tuple(key.score(np.asarray(s).argmax(1))["uar"] for s in target_scores)
    best = int(np.argmax(scores))
    return Selection("oracle", dict(grid[best]), scores[best], scores, honest=False)


def expand_grid(axes: dict[str, list]) -> list[dict]:
    """{"c": [0.1, 1], "dim": [10, 20]} -> the cartesian product, first axis slowest (as `affect tune`)."""
    points = [{}]
    for name, values in axes.items():
        values = list(values)
        if not values:
            raise ConfigError(f"hyper-parameter grid axis {name!r} is empty")
        points = [{**p, name: v} for p in points for v in values]
    return points
