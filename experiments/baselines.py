"""The refresh of the CI regression baselines: every experiment trained under several seeds, bands from their spread.

``affect report --refresh-baselines [--seeds 0 1 2] [--experiments ID ...] [--profile quick] [--reuse]`` runs each
seed of each experiment (experiments/seeds.py), computes the bands of the headline metrics with the rules of
reports/regression.py (which also checks results against them) and writes reports/baselines.json. CI refreshes
through ``python -m experiments.quick_pipeline refresh``; numbers are never typed in by hand.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from core.config import PACKAGE_ROOT, experiment_ids_from_params, pipeline_overrides_from_params
from core.errors import AffectError
from core.io import write_json
from core.provenance import git_commit
from experiments.seeds import existing_seed_run, run_seed
from reports.evidence import RULES, judge, mean_floor
from reports.regression import (
    HEADLINE_METRICS,
    K_SIGMA,
    MAX_TOLERANCE,
    MIN_TOLERANCE,
    CheckRow,
    format_table,
    load_baselines,
    tolerance_band,
)
from reports.results import data_label, is_standin_data, number


def refresh(root: Path, results_dir: Path, exp_ids: list[str], seeds: list[int], profile: str, reuse: bool,
            k_sigma: float = K_SIGMA, min_tolerance: float = MIN_TOLERANCE,
            max_tolerance: float = MAX_TOLERANCE) -> dict:
    """Run (or, with ``reuse``, reuse) every seed of every experiment and return the new baselines."""
    experiments = {}
    pipeline = pipeline_overrides_from_params(root)
    for exp_id in exp_ids:
        runs = []
        overrides = tuple(pipeline.get(exp_id, ()))
        for seed in seeds:
            found = existing_seed_run(results_dir, exp_id, seed, profile) if reuse else None
            runs.append(found or run_seed(exp_id, seed, profile, results_dir, overrides))
        experiments[exp_id] = baseline_entry(exp_id, runs, k_sigma, min_tolerance, max_tolerance)
        experiments[exp_id]["pipeline_overrides"] = list(overrides)
    return {
        "about": "CI regression bands of the quick pipeline (reports/regression.py); refresh deliberately with "
                 "`python -m experiments.quick_pipeline refresh`, never by hand",
        "profile": profile, "k_sigma": k_sigma, "min_tolerance": min_tolerance, "max_tolerance": max_tolerance,
        "seeds": list(seeds),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "git_commit": git_commit(PACKAGE_ROOT),
        "experiments": experiments,
    }


def baseline_entry(exp_id: str, runs: list, k_sigma: float, min_tolerance: float,
                   max_tolerance: float = MAX_TOLERANCE) -> dict:
    """Bands of the headline metrics of one experiment from its seed runs."""
    dataset = exp_id.partition("/")[2]
    task = str(runs[0].run.get("task") or "mer")
    metrics = {}
    for metric in HEADLINE_METRICS.get(task, HEADLINE_METRICS["mer"]):
        values = [v for v in (number(r.metrics.get(metric)) for r in runs) if v is not None and math.isfinite(v)]
        if values:
            metrics[metric] = tolerance_band(values, k_sigma, min_tolerance, max_tolerance).as_dict(values)
    return {"task": task, "standin": is_standin_data(dataset, runs[0]), "data": data_label(dataset, runs[0]),
            "seeds": [r.seed for r in runs], "metrics": metrics, "evidence": evidence_entry(task, runs, metrics)}


def evidence_entry(task: str, runs: list, metrics: dict) -> dict:
    """The headline metric's mean against its trivial floor (reports/evidence.py): a band is only worth keeping
    around a result that is clearly above what needs no training; tests/test_regression.py requires ``clear``."""
    rule = RULES.get(task, RULES["mer"])
    floor = mean_floor(runs, task)
    mean = metrics.get(rule.metric, {}).get("mean")
    return {"metric": rule.metric, "floor": rule.floor, "floor_mean": floor,
            "margin": f"{rule.margin:g}x" if rule.ratio else f"+{rule.margin:g}", "status": judge(mean, floor, rule)}


def refresh_command(root: Path, results_dir: Path, baselines_path: Path, exp_ids: list[str] | None,
                    seeds: list[int], profile: str, reuse: bool) -> int:
    exp_ids = exp_ids or experiment_ids_from_params(root)
    if not exp_ids:
        raise AffectError("no experiments to refresh", path=root / "params.yaml",
                          hint="list them in params.yaml `experiments` or pass --experiments ID ...")
    if len(seeds) < 2:
        raise AffectError("a tolerance band needs at least 2 seeds", hint="e.g. --seeds 0 1 2")
    previous = load_baselines(baselines_path) if baselines_path.is_file() else {}
    baselines = refresh(root, results_dir, exp_ids, seeds, profile, reuse,
                        float(previous.get("k_sigma", K_SIGMA)), float(previous.get("min_tolerance", MIN_TOLERANCE)),
                        float(previous.get("max_tolerance", MAX_TOLERANCE)))
    write_json(baselines_path, baselines)
    rows = [CheckRow(exp_id, metric, None, band, "baseline") for exp_id, entry in baselines["experiments"].items()
            for metric, band in entry["metrics"].items()]
    print(format_table(rows))
    print(f"wrote {baselines_path} ({len(exp_ids)} experiments x {len(seeds)} seeds, profile {profile})")
    return 0
