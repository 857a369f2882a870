"""Helper of the method benchmarks (micro_au_clip.py, masked_decoupling.py): a whole experiment as the pipeline runs it,
and one training epoch of a method timed in process.

:func:`run_experiment` starts ``affect train <id> seed=<s>`` as a new process (so start-up, imports, data loading,
MLflow and every fold are counted, as in a `dvc repro` stage) with its results and checkpoints in a scratch folder
(the project's results/ are not touched) and its MLflow runs in a scratch store, and returns the wall time, the
CPU time of the process (user + system, from the OS), the metrics it wrote and the seconds of each fold. On a shared
machine wall time depends on the load; CPU time much less, which is why both are kept.

:func:`one_epoch` times a single epoch of a fold at a given torch thread count (no validation, no checkpoint).

:func:`scratch_project` makes a scratch project for in-process ``train()`` calls (benchmarks/eeg_methods.py ``run``).

Run alone it does nothing; it is imported by the benchmark scripts.
"""

from __future__ import annotations

import json
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


def scratch_project(scratch: Path) -> Path:
    """``scratch``/project with a params.yaml of the default profile and its own MLflow store (sqlite) there, made
    the project root of this process (``AFFECT_ROOT``) so that in-process runs write nothing into the repository."""
    project = scratch / "project"
    project.mkdir()
    (project / "params.yaml").write_text(json.dumps({"profile": "default",
                                                     "tracking": {"uri": f"sqlite:///{project / 'mlflow.db'}"}}))
    os.environ["AFFECT_ROOT"] = str(project)
    return project


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


def one_epoch(method, cfg, source, fold, threads: int) -> dict:
    """Wall / CPU seconds of ONE training epoch of ``method`` (a MethodSpec) on ``fold`` with ``threads`` torch
    threads, the per-sample cost and the trainable parameters."""
    import lightning.pytorch as pl
    import torch

    from core.seeding import seed_everything

    torch.set_num_threads(threads)
    seed_everything(int(cfg.seed), bool(cfg.trainer.deterministic))
    module = method.load()(cfg, source.info(fold.train))
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                         limit_val_batches=0)
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.fit(module, datamodule=source.datamodule(fold, seed=int(cfg.seed)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"threads": threads, "epoch_seconds": round(wall, 2), "epoch_cpu_seconds": round(cpu, 2),
            "train_samples": len(fold.train), "ms_per_sample": round(1000 * wall / len(fold.train), 2),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "parameters": sum(p.numel() for p in module.parameters() if p.requires_grad)}
