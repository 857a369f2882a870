"""Results folders written exactly as the runner writes them, from chosen labels, for the report's tests.

`write_result` scores the given predictions with the suite's own metrics module (as experiments/tasks/folds.py
does), so the tables the report builds can be checked against numbers computed independently here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from core import metrics as M
from core.results import write_run_metrics

COMPOSITE_CLASSES = ["negative", "positive", "surprise"]


def predictions(datasets: dict[str, int], n_classes: int, accuracy: float, seed: int = 0) -> pd.DataFrame:
    """One row per sample; about ``accuracy`` of them predicted right; ``datasets`` maps source -> samples."""
    rng = np.random.default_rng(seed)
    rows = []
    for dataset, count in datasets.items():
        for i in range(count):
            y = i % n_classes
            right = rng.random() < accuracy
            rows.append({"sample_id": f"{dataset}_{i % 4 + 1}_{i}", "dataset": dataset, "subject": str(i % 4 + 1),
                         "fold": f"subject={dataset}/{i % 4 + 1}", "y_true": y,
                         "y_pred": y if right else (y + 1) % n_classes})
    return pd.DataFrame(rows)


def score(table: pd.DataFrame, classes: list[str]) -> dict:
    out = M.classification_report(table["y_true"], table["y_pred"], classes)
    out.update(M.majority_class_floor(table["y_true"], classes))
    out["per_subject"] = {
        f"{d}/{s}": {"n": int(len(p)), "accuracy": M.accuracy(p["y_true"], p["y_pred"]),
                     "uf1": M.uf1(p["y_true"], p["y_pred"], len(classes))}
        for (d, s), p in table.groupby(["dataset", "subject"])
    }
    return out


def write_result(results: Path, exp_id: str, metrics: dict, *, seed: int = 0, profile: str = "default",
                 standin: bool = True, task: str = "mer", protocol: str = "loso", table: pd.DataFrame | None = None,
                 seed_dir: bool = False, extra: dict | None = None, run_extra: dict | None = None) -> Path:
    """results/<name>/<dataset>/ (or its seeds/<seed>/) with metrics.json, details.json, run.json and
    predictions.csv; ``run_extra`` adds run.json fields (``negative_control``, ``standin_note``, ...)."""
    name, dataset = exp_id.split("/")
    folder = results / name / dataset / ("seeds/" + str(seed) if seed_dir else "")
    folder.mkdir(parents=True, exist_ok=True)
    write_run_metrics(folder, task, {**metrics, "standin": standin})  # metrics.json + details.json, as the runner
    run = {"experiment": exp_id, "method": name.split("-")[0], "dataset": dataset, "seed": seed, "task": task,
           "protocol": protocol, "profile": profile, "standin": standin, "mlflow_run_id": "",
           "tracking_uri": "", "git_commit": "test", "seconds": 1.0, **(run_extra or {})}
    (folder / "run.json").write_text(json.dumps(run))
    if table is not None:
        table.to_csv(folder / "predictions.csv", index=False)
    for filename, data in (extra or {}).items():
        (folder / filename).write_text(json.dumps(data))
    return folder


def write_composite(results: Path, exp_id: str, accuracy: float, **kwargs) -> tuple[dict, pd.DataFrame]:
    table = predictions({"casme2": 24, "samm": 18, "smic": 30}, 3, accuracy, seed=kwargs.get("seed", 0))
    metrics = score(table, COMPOSITE_CLASSES)
    write_result(results, exp_id, metrics, table=table, **kwargs)
    return metrics, table
