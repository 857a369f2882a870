"""`affect tune`: hyper-parameter selection on validation scores, never on test.

A grid (``--grid model.cl_weight=0.001,0.01,0.1``, several axes form their cartesian product, first axis slowest)
is run trial by trial through the one runner (:func:`experiments.runner.train`); each trial is the full
experiment with its combination as command-line overrides. Like a seed run (experiments/seeds.py), a trial trains
into a private scratch results root and its finished folder is then moved to
``results/<name>/<dataset>/tuning/<NN>-<key>=<value>/``; its checkpoints stay in their own folder,
``checkpoints/<name>/<dataset>/tuning/<slug>/`` (the runner nests ``<name>/<dataset>/`` under it), so no trial
touches the main results or checkpoints.

Selection. The score of a trial is one ``valid_`` key of its metrics.json:

- rec: ``valid_recall@20``, Recall@20 of the validation users at the early-stopping checkpoint
  (experiments/tasks/recommendation.py);
- mer, masked: ``valid_uf1``; au: ``valid_mean_au_f1``; gesture: ``valid_top1``: the inner-validation
  predictions pooled over folds (experiments/tasks/folds.py). Fold tasks are therefore always tuned with
  ``protocol.validation=inner`` (held-out TRAINING subjects); asking for anything else is an error.

:func:`choose` sees a trial's metrics only through :func:`validation_only` and refuses a metric name without the
``valid_`` prefix, so a test number cannot select anything. Higher is better (every score above is). Ties go to
the first combination in grid order (the paper's default, or the smaller value, when listed first). A trial that
fails with an :class:`AffectError` (e.g. training diverged) is recorded as failed and the others go on; when all
fail, tuning stops with an error. Every trial uses the experiment's seed, so trials differ only by the grid.

Outputs, in ``results/<name>/<dataset>/``: ``tuning.csv`` (one row per trial: status, grid values, the selection
score, the test headline metrics for information only), ``tuning.json`` (grid, metric, rule, chosen values) and
the chosen trial's result files copied to the top of the folder, its details.json gaining ``selected`` and
``selection_metric``, so the report and DVC read it like any other run. The trials' MLflow runs are ordinary runs
tagged ``tuning=<name>/<dataset>`` and ``tuning_trial=<slug>``; the chosen one also ``tuning_selected=true``.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from core.config import load_params, project_root
from core.errors import AffectError, ConfigError
from core.io import atomic_path, replace_folder, write_csv, write_json
from core.results import DETAILS_FILE, METRICS_FILE, read_run_metrics, write_run_metrics
from experiments.config import load_experiment
from experiments.runner import train
from experiments.tracking import Tracker

log = logging.getLogger(__name__)

VALID_PREFIX = "valid_"
TUNING_DIR = "tuning"
FOLD_TASKS = ("mer", "au", "masked", "gesture")
DEFAULT_METRICS = {
    "rec": "valid_recall@20",
    "mer": "valid_uf1",
    "masked": "valid_uf1",
    "au": "valid_mean_au_f1",
    "gesture": "valid_top1",
}
# shown in tuning.csv for information (prefixed `test_`); never read by the selection
TEST_HEADLINES = {
    "rec": ("recall@20", "ndcg@20"),
    "mer": ("uf1", "uar"),
    "masked": ("uf1", "uar", "disguise_uf1"),
    "au": ("mean_au_f1",),
    "gesture": ("top1", "top5"),
}
RULE = ("highest validation score (metric); ties go to the first combination in grid order; failed trials are "
        "skipped; test metrics are never read")
GRID_EXAMPLE = "e.g. --grid model.cl_weight=0.001,0.01,0.1"


@dataclass(frozen=True)
class Trial:
    """One grid combination: ``values`` maps each grid key to its value as written on the command line."""

    number: int
    values: dict[str, str]

    @property
    def overrides(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.values.items()]

    @property
    def slug(self) -> str:
        """A folder name: the trial number (unique) and the combination, filesystem-safe, at most 120 chars."""
        text = "_".join(f"{key}={value}" for key, value in self.values.items())
        return f"{self.number:02d}-" + re.sub(r"[^A-Za-z0-9._=@+-]", "-", text)[:120]


@dataclass
class TrialResult:
    """A finished (``metrics`` set) or failed (``error`` set) trial; ``selected`` holds its typed grid values."""

    trial: Trial
    selected: dict
    metrics: dict | None = None
    error: str = ""
    run: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.metrics is not None


# ---------------------------------------------------------------- the grid


def split_values(text: str) -> list[str]:
    """``0.001,0.01`` -> ``['0.001', '0.01']``; commas inside ``[...]`` or ``{...}`` stay (``[3,5],[4,6]``)."""
    values, current, depth = [], [], 0
    for char in text:
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            values.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    values.append("".join(current).strip())
    return values


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """``["model.cl_weight=0.001,0.01", "optim.lr=1e-3,1e-2"]`` -> ``{key: [values]}`` in the order given."""
    if not items:
        raise ConfigError(f"affect tune needs at least one --grid KEY=V1,V2,... ({GRID_EXAMPLE})")
    grid: dict[str, list[str]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--grid {item!r} must look like KEY=V1,V2,... ({GRID_EXAMPLE})")
        values = split_values(text)
        if not all(values):
            raise ConfigError(f"--grid {item!r} has an empty value: list values separated by commas ({GRID_EXAMPLE})")
        if key in grid:
            raise ConfigError(f"--grid {item!r}: {key!r} is already a grid axis; list all its values in one --grid")
        if len(set(values)) != len(values):
            raise ConfigError(f"--grid {item!r} lists a value twice")
        grid[key] = values
    return grid


def grid_trials(grid: dict[str, list[str]]) -> list[Trial]:
    """The cartesian product in grid order: the first axis changes slowest."""
    keys = list(grid)
    return [Trial(number, dict(zip(keys, combo)))
            for number, combo in enumerate(itertools.product(*(grid[k] for k in keys)))]


# ---------------------------------------------------------------- selection (validation only)


def require_validation_metric(metric: str) -> str:
    if not metric.startswith(VALID_PREFIX):
        raise ConfigError(f"--metric {metric!r} is not a validation score: selection reads only keys starting with "
                          f"{VALID_PREFIX!r} (e.g. valid_uf1, valid_recall@20); test metrics never select")
    return metric


def validation_only(metrics: dict) -> dict:
    """The part of a run's metrics that selection may read: the ``valid_`` keys."""
    return {key: value for key, value in metrics.items() if key.startswith(VALID_PREFIX)}


def validation_score(metrics: dict | None, metric: str) -> float | None:
    """The trial's score, or None for a failed trial or a non-finite value."""
    if metrics is None:
        return None
    value = validation_only(metrics).get(require_validation_metric(metric))
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def choose(trial_metrics: list[dict | None], metric: str) -> int | None:
    """Index of the trial with the highest validation ``metric`` (first on ties); None when no trial has one."""
    best, best_score = None, -math.inf
    for number, metrics in enumerate(trial_metrics):
        score = validation_score(metrics, metric)
        if score is not None and score > best_score:
            best, best_score = number, score
    return best


# ---------------------------------------------------------------- running trials


def trial_configs(exp_id: str, grid: dict[str, list[str]], overrides: list[str], profile: str | None,
                  params: DictConfig) -> tuple[DictConfig, list[str], list[tuple[Trial, DictConfig]]]:
    """The base config, the overrides every trial shares, and each trial with its resolved config.

    Every combination is resolved before anything trains, so a grid key outside the schema or a value of the wrong
    type is the same config error as in ``affect train``, raised at once. Fold tasks get
    ``protocol.validation=inner``; an override or grid value that turns it off is refused."""
    shared_keys = {item.partition("=")[0].strip() for item in overrides}
    for key in grid:
        if key in shared_keys:
            raise ConfigError(f"--grid {key}=... and the override {key}=... both set {key!r}; keep one")
    base = load_experiment(exp_id, overrides, profile=profile, params=params)
    shared = (["protocol.validation=inner"] if base.task in FOLD_TASKS else []) + list(overrides)
    trials = []
    for trial in grid_trials(grid):
        cfg = load_experiment(exp_id, shared + trial.overrides, profile=profile, params=params)
        if cfg.task in FOLD_TASKS and str(cfg.protocol.validation) != "inner":
            raise ConfigError(f"affect tune selects {cfg.task} hyper-parameters on held-out training subjects: "
                              f"protocol.validation must be inner, got {cfg.protocol.validation!r}")
        trials.append((trial, cfg))
    return base, shared, trials


def run_trial(exp_id: str, trial: Trial, cfg: DictConfig, shared: list[str], profile: str | None,
              tuning_dir: Path, checkpoints_dir: Path) -> TrialResult:
    """Train one combination into tuning/<slug>/; an AffectError makes it a failed trial, not a failed tuning."""
    selected = {key: _plain(OmegaConf.select(cfg, key)) for key in trial.values}
    tuning_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tuning_dir, prefix=".trial-") as tmp:
        scratch = Path(tmp)
        try:
            train(exp_id, [*shared, *trial.overrides, f"output.results_root={scratch / 'results'}",
                           f"output.checkpoints_root={checkpoints_dir / trial.slug}"], profile=profile)
        except AffectError as err:
            log.warning("%s trial %s failed: %s", exp_id, trial.slug, err)
            return TrialResult(trial, selected, error=str(err))
        replace_folder(scratch / "results" / cfg.name / cfg.dataset, tuning_dir / trial.slug)
    folder = tuning_dir / trial.slug
    metrics = read_run_metrics(folder)  # metrics.json over details.json: every valid_ score the run has
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return TrialResult(trial, selected, metrics=metrics, run=run)


def check_metric_present(result: TrialResult, metric: str) -> None:
    """A finished trial without the selection metric means the metric name (or the setup) is wrong: stop early."""
    scores = validation_only(result.metrics or {})
    if metric not in scores:
        available = ", ".join(sorted(scores)) or "none"
        raise ConfigError(f"trial {result.trial.slug} has no {metric!r} in its metrics.json "
                          f"(validation scores it has: {available})",
                          hint="pass --metric with one of them" if scores else
                          "the run had no validation split: check protocol.validation and protocol.val_fraction")


def tag_trial_run(result: TrialResult, tags: dict[str, str]) -> None:
    """Tag the trial's MLflow parent run (named in its run.json) through the one tracker."""
    if result.run.get("mlflow_run_id"):
        tracker = Tracker(result.run["tracking_uri"], result.run["mlflow_experiment"])
        tracker.set_tags(tags, run_id=result.run["mlflow_run_id"])


# ---------------------------------------------------------------- outputs


def tuning_table(results: list[TrialResult], grid: dict[str, list[str]], metric: str, task: str,
                 chosen: int | None = None) -> pd.DataFrame:
    """tuning.csv: trial, status, grid values, the selection score, the test headlines (information only), error."""
    rows = []
    for number, result in enumerate(results):
        metrics = result.metrics or {}
        row = {"trial": result.trial.slug, "status": "ok" if result.ok else "failed"}
        row.update({key: result.selected[key] for key in grid})
        row[metric] = validation_score(result.metrics, metric)
        row.update({f"test_{name}": metrics.get(name) for name in TEST_HEADLINES.get(task, ())})
        row["chosen"] = number == chosen
        row["error"] = result.error
        rows.append(row)
    return pd.DataFrame(rows)


def publish_chosen(trial_folder: Path, out_dir: Path, selected: dict, metric: str, task: str) -> None:
    """Copy the chosen trial's files to the top of the results folder, its metrics files last (metrics.json marks a
    finished run) with the selection (``selected``, ``selection_metric``) in details.json."""
    metric_files = (METRICS_FILE, DETAILS_FILE)
    for path in sorted(p for p in trial_folder.rglob("*") if p.is_file() and p.name not in metric_files):
        with atomic_path(out_dir / path.relative_to(trial_folder)) as tmp:
            shutil.copyfile(path, tmp)
    metrics = read_run_metrics(trial_folder)
    metrics.update({"selected": selected, "selection_metric": metric})
    write_run_metrics(out_dir, task, metrics)


def tune(exp_id: str, grid_items: list[str], metric: str | None = None, overrides: list[str] | tuple = (),
         profile: str | None = None) -> dict:
    """Run every combination of the grid, select on validation, publish the chosen run; returns tuning.json."""
    root = project_root()
    params = load_params(root / "params.yaml") if (root / "params.yaml").is_file() else OmegaConf.create({})
    grid = parse_grid(list(grid_items))
    if metric is not None:
        require_validation_metric(metric)  # before any config is loaded: a bad --metric fails at once
    base, shared, trials = trial_configs(exp_id, grid, list(overrides), profile, params)
    metric = metric or DEFAULT_METRICS[base.task]
    out_dir = root / base.output.results_root / base.name / base.dataset
    tuning_dir = out_dir / TUNING_DIR
    checkpoints_dir = root / base.output.checkpoints_root / base.name / base.dataset / TUNING_DIR

    results: list[TrialResult] = []
    for trial, cfg in trials:
        log.info("%s: trial %d/%d %s", exp_id, trial.number + 1, len(trials), trial.slug)
        result = run_trial(exp_id, trial, cfg, shared, profile, tuning_dir, checkpoints_dir)
        results.append(result)
        write_csv(out_dir / "tuning.csv", tuning_table(results, grid, metric, base.task))
        if result.ok:
            check_metric_present(result, metric)
            tag_trial_run(result, {"tuning": exp_id, "tuning_trial": trial.slug})

    chosen = choose([r.metrics for r in results], metric)
    write_csv(out_dir / "tuning.csv", tuning_table(results, grid, metric, base.task, chosen))
    if chosen is None:
        errors = [r.error for r in results if r.error]
        reason = f"first error: {errors[0]}" if errors else f"no trial has a finite {metric}"
        raise AffectError(f"no trial of {exp_id} can be selected: {len(errors)} of {len(results)} failed, "
                          f"{reason} (see {out_dir / 'tuning.csv'})")
    best = results[chosen]
    summary = {
        "experiment": exp_id, "task": base.task, "profile": str(base.profile), "overrides": shared,
        "grid": typed_grid(results),
        "metric": metric, "rule": RULE, "chosen": best.selected, "chosen_trial": best.trial.slug,
        "chosen_score": validation_score(best.metrics, metric),
        "n_trials": len(results), "n_failed": sum(not r.ok for r in results),
    }
    publish_chosen(tuning_dir / best.trial.slug, out_dir, best.selected, metric, base.task)
    write_json(out_dir / "tuning.json", summary)
    tag_trial_run(best, {"tuning_selected": "true"})
    return summary


def typed_grid(results: list[TrialResult]) -> dict[str, list]:
    """Each axis's values as the resolved configs typed them, in grid order."""
    grid: dict[str, list] = {}
    for result in results:
        for key, value in result.selected.items():
            if value not in grid.setdefault(key, []):
                grid[key].append(value)
    return grid


def _plain(value):
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
