"""How wide `dvc metrics show` is: columns before (everything in metrics.json) and after the split (headline numbers
in metrics.json, the rest in details.json; core/results.py).

For a set of runs, the script writes two scratch DVC projects (``dvc init --no-scm``) whose dvc.yaml declares each
run's metrics.json as a metric, as the train stages do: one with the merged metrics (the layout before the split:
metrics.json held everything), one with the headline metrics.json only. It runs `dvc metrics show --md` in each
and counts the table's columns (minus the Path column) and its characters.

Runs measured:

- ``pipeline``: the experiments of params.yaml (what `dvc repro` trains and `dvc metrics show` prints), with
  metrics as the runner writes them: the fold loop's score of predictions shaped like the default stand-ins'
  (benchmarks/report.py) plus ``n_folds``, ``fold_seconds`` and ``standin``; the recommendation loop's keys;
- ``all``: every experiment YAML of the suite, the same way;
- ``--results DIR`` (optional, repeatable): an existing results folder (e.g. a copy of a project's results/),
  read with core.results (metrics.json over details.json).

Writes benchmarks/results/metrics_columns.json. Run: ``.venv/bin/python benchmarks/metrics_columns.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from core.io import write_json
from core.results import read_run_metrics, split_metrics

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "metrics_columns.json"


def _report_benchmark():
    """benchmarks/report.py (not a package): its prediction tables shaped like the default stand-ins'."""
    spec = importlib.util.spec_from_file_location("report_benchmark", REPO / "benchmarks" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fabricated_runs(exp_ids: list[str]) -> dict[str, tuple[str, dict]]:
    """{exp_id: (task, metrics as the task loop returns them)}."""
    from experiments import registry
    from experiments.config import load_experiment
    from experiments.tasks.folds import score

    bench = _report_benchmark()
    rng = np.random.default_rng(0)
    runs = {}
    for exp_id in exp_ids:
        cfg = load_experiment(exp_id, profile="default")
        task = registry.method(str(cfg.method)).task
        if task == "rec":
            metrics = {f"{m}@{k}": float(rng.random() * 0.1) for m in ("recall", "ndcg") for k in (10, 20, 50)}
            metrics.update({f"valid_{k}": v for k, v in list(metrics.items())})
            metrics.update({"n_test_users": 943, "best_epoch": 40, "stopped_epoch": 60, "capped": False,
                            "popularity_recall@20": 0.05, "epochs": 60, "train_seconds": 50.0,
                            "seconds_per_epoch": 0.8, "attribution_informative_share_image": 0.3,
                            "attribution_informative_share_text": 0.2})
        else:
            table = bench.prediction_table(cfg, task, rng)
            metrics = score(task, table, None, cfg)
            folds = bench.fold_names(table)
            metrics.update({"n_folds": len(folds), "fold_seconds": {f: 1.0 for f in folds}})
        metrics["standin"] = True
        runs[exp_id] = (task, metrics)
    return runs


def results_runs(results: Path) -> dict[str, tuple[str, dict]]:
    runs = {}
    for metrics_file in sorted(results.glob("*/*/metrics.json")):
        folder = metrics_file.parent
        run = json.loads((folder / "run.json").read_text()) if (folder / "run.json").is_file() else {}
        runs[f"{folder.parent.name}/{folder.name}"] = (str(run.get("task", "mer")), read_run_metrics(folder))
    return runs


def dvc_show(files: dict[str, dict]) -> dict:
    """`dvc metrics show --md` over ``files`` ({relative path: metrics}) in a scratch DVC project."""
    dvc = str(Path(sys.executable).with_name("dvc"))
    with tempfile.TemporaryDirectory(prefix="dvc-columns-") as tmp:
        root = Path(tmp)
        lines = ["stages:"]
        for number, (relative, metrics) in enumerate(sorted(files.items())):
            write_json(root / relative, metrics)
            lines += [f"  run{number}:", "    cmd: 'true'", "    metrics:", f"      - {relative}:",
                      "          cache: false"]
        (root / "dvc.yaml").write_text("\n".join(lines) + "\n")
        subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=root, check=True, capture_output=True)
        done = subprocess.run([dvc, "metrics", "show", "--md"], cwd=root, check=True, capture_output=True, text=True)
    header = next((line for line in done.stdout.splitlines() if line.startswith("|")), "|")
    columns = len([c for c in header.strip().strip("|").split("|")]) - 1  # minus the Path column
    return {"columns": columns, "characters": len(done.stdout), "runs": len(files)}


def measure(runs: dict[str, tuple[str, dict]]) -> dict:
    before = {f"results/{exp_id}/metrics.json": metrics for exp_id, (_, metrics) in runs.items()}
    after = {f"results/{exp_id}/metrics.json": split_metrics(task, metrics)[0]
             for exp_id, (task, metrics) in runs.items()}
    return {"before_split": dvc_show(before), "after_split": dvc_show(after)}


def main() -> None:
    from core.config import experiment_ids_from_params
    from experiments import registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, action="append", default=[],
                        help="also measure an existing results folder (repeatable)")
    args = parser.parse_args()
    out = {"pipeline": measure(fabricated_runs(experiment_ids_from_params(REPO))),
           "all": measure(fabricated_runs(registry.experiment_ids()))}
    for results in args.results:
        out[f"results:{results}"] = measure(results_runs(results))
    figures = {name: {"value": f"{m['before_split']['columns']} -> {m['after_split']['columns']}",
                      "unit": "columns", "note": f"{m['after_split']['runs']} runs; `dvc metrics show --md` "
                      f"{m['before_split']['characters']} -> {m['after_split']['characters']} characters"}
               for name, m in out.items()}
    write_json(RESULTS, {"figures": figures, "measurements": out})
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
