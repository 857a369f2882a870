"""The default recommendation experiments on MovieLens-100k, as `dvc repro` runs them: accuracy, epochs, wall time.

Runs each default MovieLens experiment (DEFAULT_EXPERIMENTS, or ``--experiments``) as its own ``affect train <id>``
process, one after the other, so process start-up, data loading, training, the test pass and the attribution
analysis all count, into a temporary results/checkpoints root and MLflow store (the project's results are not
touched). Per experiment it records the wall time of the process, its CPU time (user + system of the child),
and from metrics.json Recall@20 / NDCG@20, the most-popular baseline on the same split (``popularity_*``), the
ratio of the two, the best and the stopped epoch and whether the epoch cap ended the run (``capped``), from
metrics.json and details.json (core/results.py).

``--controls permuted_labels`` (or ``blank_input``) runs every experiment a second time as that negative control
(``data.negative_control``): its Recall@20 should fall to the popularity level.

Targets (issue 15): all default experiments together within 360 s of wall time on the idle 2-core machine,
every run stopped by early stopping (``capped`` false) and Recall@20 >= 1.2 x popularity. The machine is shared:
the 1-minute load average is recorded, and with other jobs on the two cores wall time rises far above CPU time.

Writes benchmarks/results/rec_movielens.json. Run: ``.venv/bin/python benchmarks/rec_movielens.py [--threads 1]
[--controls permuted_labels] [--experiments vbpr/movielens ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core import process

process.configure()  # the thread policy, inherited by the child processes (core/process.py)

from core.config import project_root
from core.io import write_json
from core.results import read_run_metrics

RESULTS = Path(__file__).resolve().parent / "results" / "rec_movielens.json"
TARGETS = {"total_wall_s": 360.0, "recall_over_popularity": 1.2}
DEFAULT_EXPERIMENTS = ("vbpr/movielens", "befa-vbpr/movielens", "lightgcn/movielens", "befa-lightgcn/movielens",
                       "mgcn/movielens", "ld4mrec/movielens")  # the rec experiments of `dvc repro` (issue 15)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_experiment(exp_id: str, scratch: Path, overrides: list[str], root: Path) -> dict:
    affect = Path(sys.executable).parent / "affect"
    command = [str(affect), "train", exp_id, f"output.results_root={scratch / 'results'}",
               f"output.checkpoints_root={scratch / 'checkpoints'}", *overrides]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}"}
    wall, cpu = time.perf_counter(), children_cpu_seconds()
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, children_cpu_seconds() - cpu
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"], "wall_seconds": round(wall, 1)}
    name, dataset = exp_id.split("/")
    metrics = read_run_metrics(scratch / "results" / name / dataset)  # metrics.json over details.json
    keys = ("recall@20", "ndcg@20", "recall@10", "ndcg@10", "popularity_recall@20", "popularity_ndcg@20",
            "popularity_recall@10", "popularity_ndcg@10", "valid_recall@20", "best_epoch", "stopped_epoch",
            "epochs", "max_epochs", "capped", "seconds_per_epoch", "seconds_per_validation", "train_seconds")
    result = {k: metrics.get(k) for k in keys}
    result["recall_over_popularity"] = round(metrics["recall@20"] / metrics["popularity_recall@20"], 3)
    result.update({"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1)})
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = project_root()
    parser.add_argument("--experiments", nargs="+", default=list(DEFAULT_EXPERIMENTS))
    parser.add_argument("--threads", type=int, default=0, help="trainer.num_threads (0: torch's default, as dvc)")
    parser.add_argument("--controls", nargs="*", default=[], choices=("permuted_labels", "blank_input"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    overrides = [f"seed={args.seed}", f"trainer.num_threads={args.threads}"]
    load_start = os.getloadavg()[0]
    runs, controls = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-rec-ml-") as tmp:
        scratch = Path(tmp)
        for exp_id in args.experiments:
            runs[exp_id] = run_experiment(exp_id, scratch / "runs", overrides, root)
            print(exp_id, json.dumps(runs[exp_id]), flush=True)
        for control in args.controls:
            for exp_id in args.experiments:
                result = run_experiment(exp_id, scratch / control, overrides + [f"data.negative_control={control}"],
                                        root)
                controls.setdefault(control, {})[exp_id] = result
                print(control, exp_id, json.dumps(result), flush=True)
    ok = [r for r in runs.values() if "error" not in r]
    total_wall = round(sum(r["wall_seconds"] for r in runs.values()), 1)
    figures = {
        "total_wall": {"value": total_wall, "unit": "s", "target": TARGETS["total_wall_s"],
                       "note": f"{len(runs)} experiments, {args.threads or 'default'} threads, process start included"},
        "total_cpu": {"value": round(sum(r.get("cpu_seconds", 0) for r in ok), 1), "unit": "s"},
        "capped_runs": {"value": sum(bool(r["capped"]) for r in ok), "unit": "runs", "target": 0},
        "min_recall_over_popularity": {"value": min((r["recall_over_popularity"] for r in ok), default=None),
                                       "unit": "x", "target": TARGETS["recall_over_popularity"]},
    }
    for exp_id, r in runs.items():
        if "error" not in r:
            figures[f"{exp_id}_recall@20"] = {"value": round(r["recall@20"], 4), "unit": "",
                                              "note": f"popularity {r['popularity_recall@20']:.4f}; best epoch "
                                                      f"{r['best_epoch']}, stopped {r['stopped_epoch']}"}
    result = {
        "figures": figures,
        "runs": runs,
        "controls": controls,
        "machine": {"cpus": os.cpu_count(), "threads": args.threads, "load_average_1min_at_start": load_start,
                    "load_average_1min_at_end": os.getloadavg()[0]},
    }
    write_json(RESULTS, result)
    return result


if __name__ == "__main__":
    print(json.dumps(main()["figures"], indent=2))
