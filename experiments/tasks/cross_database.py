"""The cross-database (CDMER) task loop: one transductive fit per hyper-parameter point, honest selection, the oracle
apart, predictions of the whole target database.

`prepare` loads the processed clips of the task's two databases (``data.sources``) with their labels mapped onto
the classes, stacks the method's input arrays (LBP-TOP) into one feature row per clip and splits them into the
TransductiveProblem (labelled source, unlabelled target) and the TargetKey (datamodules/cross_database.py).

`run`: every point of ``selection.grid`` (its cartesian product over the method's ``model:`` knobs; one point, the
defaults, when empty) is fitted on the whole source and the unlabelled target. Each honest rule of
``selection.rules`` (source-only cross-validation, reverse validation; they refit on source folds and never read a
target label) scores every point, and ``selection.rule``'s choice gives the headline predictions and metrics (UF1,
UAR, accuracy = the benchmark's WAR). Only then is the TargetKey used: to score those predictions, each honest
rule's choice, and, with ``selection.oracle``, the ORACLE choice (the point with the best target UAR, what the
public TSRG code's grid reports), written to details.json under ``oracle`` with its label, never into the headline.

Outputs: predictions.csv (one row per target clip; ``fold`` = the task), metrics.json / details.json through the
runner (details: ``selection`` per rule, ``oracle``, ``oracle_gap_uar``, ``grid``, ``task``, ``seconds``).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from core import metrics as M
from core.errors import AffectError, ConfigError
from core.io import write_csv
from datamodules.cross_database import (
    HONEST_RULES,
    ORACLE_LABEL,
    Selection,
    TargetKey,
    TransductiveProblem,
    expand_grid,
    select,
    select_oracle,
    transductive_split,
)

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    source: object  # a Source (datamodules/micro_expression.py): .index, .arrays, .standin, .data_files()
    problem: TransductiveProblem
    key: TargetKey
    target_rows: pd.DataFrame  # the target clips' index rows, in the problem's order
    standin: bool
    data_files: list[Path]


def prepare(cfg, spec, root: Path) -> Prepared:
    module_name, _, cls_name = str(cfg.data.source).partition(":")
    source = getattr(importlib.import_module(module_name), cls_name)(cfg, spec.inputs, root)
    n = len(source.index)
    features = np.concatenate([np.asarray(source.arrays[k], dtype=np.float64).reshape(n, -1) for k in spec.inputs],
                              axis=1)
    classes = list(cfg.data.classes)
    problem, key = transductive_split(source.index, features, str(cfg.protocol.source), str(cfg.protocol.target),
                                      classes)
    rows = source.index.set_index("sample_id").loc[list(key.target_ids)].reset_index()
    return Prepared(source, problem, key, rows, bool(source.standin), list(source.data_files()))


def run(prepared: Prepared, ctx) -> dict:
    cfg = ctx.cfg
    selection = cfg.selection
    fit_method = ctx.spec.load()
    fixed = OmegaConf.to_container(cfg.model, resolve=True)
    grid = expand_grid(OmegaConf.to_container(selection.grid, resolve=True)) if len(selection.grid) else [{}]
    unknown = sorted({k for point in grid for k in point} - set(fixed))
    if unknown:
        raise ConfigError(f"selection.grid names {unknown}, which are not knobs of model: for {cfg.method}",
                          hint=f"its knobs: {', '.join(sorted(fixed))}")
    rules = list(dict.fromkeys([str(selection.rule), *map(str, selection.rules)]))
    bad = [r for r in rules if r not in HONEST_RULES]
    if bad:
        raise ConfigError(f"selection.rule/rules: {bad} are not honest rules", hint=f"use {', '.join(HONEST_RULES)}; "
                          "the oracle is selection.oracle and is reported apart")

    def fit(problem, params):
        return fit_method(problem, params, **{k: v for k, v in fixed.items() if k not in params})

    seconds: dict[str, float] = {}
    started = time.time()
    fitted = []
    for point in grid:
        model = fit(prepared.problem, point)
        scores = np.asarray(model.target_scores, dtype=np.float64)
        if not np.isfinite(scores).all():
            raise AffectError(f"{cfg.method} produced non-finite target scores at {point or 'the defaults'}")
        fitted.append(scores)
    seconds["fit_all_points"] = round(time.time() - started, 3)

    chosen: dict[str, Selection] = {}
    for rule in rules:
        started = time.time()
        if len(grid) == 1:  # nothing to choose: no selection fits
            chosen[rule] = Selection(rule, dict(grid[0]), float("nan"), (float("nan"),), honest=True)
        else:
            chosen[rule] = select(rule, grid, fit, prepared.problem, int(selection.n_folds))
        seconds[f"select_{rule}"] = round(time.time() - started, 3)

    # -- target labels are read from here on, to score only ----------------------------------------------------------
    key = prepared.key
    head = chosen[str(selection.rule)]
    head_scores = fitted[grid.index(head.params)]
    table = predictions_table(prepared, head_scores, list(cfg.data.classes), str(cfg.dataset))
    metrics = M.classification_report(table["y_true"], table["y_pred"], list(cfg.data.classes))
    metrics.update(M.majority_class_floor(table["y_true"], list(cfg.data.classes)))
    metrics["war"] = metrics["accuracy"]
    metrics["n_samples"] = int(len(table))
    metrics["n_folds"] = 1
    metrics["n_source"] = int(len(prepared.problem.ys))
    metrics["selection_rule"] = head.rule
    metrics["selected"] = head.params
    metrics["selection"] = {rule: {"label": s.label, "params": s.params, "score": s.score, "scores": list(s.scores),
                                   **target_report(key, fitted[grid.index(s.params)])}
                            for rule, s in chosen.items()}
    if bool(selection.oracle):
        oracle = select_oracle(grid, fitted, key)
        metrics["oracle"] = {"label": ORACLE_LABEL, "params": oracle.params, "scores": list(oracle.scores),
                             **target_report(key, fitted[grid.index(oracle.params)])}
        metrics["oracle_gap_uar"] = metrics["oracle"]["uar"] - metrics["uar"]
    metrics["grid"] = grid
    metrics["task"] = {"source": str(cfg.protocol.source), "target": str(cfg.protocol.target)}
    metrics["seconds"] = seconds
    write_csv(ctx.out_dir / "predictions.csv", table)
    ctx.tracker.log_artifact(ctx.out_dir / "predictions.csv")
    return metrics


def target_report(key: TargetKey, scores: np.ndarray) -> dict[str, float]:
    return key.score(np.asarray(scores).argmax(1))


def predictions_table(prepared: Prepared, scores: np.ndarray, classes: list[str], task: str) -> pd.DataFrame:
    """One row per target clip (DESIGN.md's predictions.csv): ids, the task as `fold`, truth, prediction, scores."""
    rows = prepared.target_rows
    table = pd.DataFrame({"sample_id": rows["sample_id"].astype(str), "dataset": rows["dataset"].astype(str),
                          "subject": rows["subject"].astype(str), "fold": task,
                          "y_true": prepared.key.yt.astype(int), "y_pred": scores.argmax(1).astype(int)})
    for i, name in enumerate(classes):
        table[f"score_{name}"] = scores[:, i]
    return table
