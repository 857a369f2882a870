"""Helper of the method benchmarks (micro_au_clip.py, masked_decoupling.py): a whole experiment as the pipeline runs it.

:func:`run_experiment` starts ``affect train <id> seed=<s>`` as a new process (so start-up, imports, data loading,
MLflow and every fold are counted, as in a `dvc repro` stage) with its results and checkpoints in a scratch folder
(the project's results/ are not touched) and its MLflow runs in a scratch store, and returns the wall time, the
CPU time of the process (user + system, from the OS), the metrics it wrote and the seconds of each fold. On a shared
machine wall time depends on the load; CPU time much less, which is why both are kept.

Run alone it does nothing; it is imported by the benchmark scripts.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from core.config import project_root
from core.results import read_run_metrics


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds() -> float:
    """CPU seconds of this process and its reaped children (an in-process ``train()``'s forked fold workers,
    experiments/tasks/folds.py, are reaped when its pool closes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_experiment(exp_id: str, seed: int, scratch: Path, overrides: tuple[str, ...] = ()) -> dict:
    """Train ``exp_id`` once in a child process; timing, metrics.json and the fold times."""
    name, dataset = exp_id.split("/")
    results, checkpoints = scratch / "results", scratch / "checkpoints"
    command = [str(Path(sys.executable).with_name("affect")), "train", exp_id, f"seed={seed}",
               f"output.results_root={results}", f"output.checkpoints_root={checkpoints}", *overrides]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}"}
    load = os.getloadavg()[0]
    cpu, wall = child_cpu_seconds(), time.perf_counter()
    done = subprocess.run(command, cwd=project_root(), env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, child_cpu_seconds() - cpu
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    metrics = read_run_metrics(results / name / dataset)  # metrics.json and details.json merged
    return {"experiment": exp_id, "seed": seed, "overrides": list(overrides), "wall_seconds": round(wall, 1),
            "cpu_seconds": round(cpu, 1), "load_average_1min_at_start": round(load, 2),
            "fold_seconds": metrics.pop("fold_seconds", {}), "metrics": metrics}


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, min and max of a few seed values."""
    n = len(values)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return {"mean": round(mean, 4), "sd": round(sd, 4), "min": round(min(values), 4), "max": round(max(values), 4),
            "n": n, "values": [round(v, 4) for v in values]}
