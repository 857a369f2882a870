"""RRRN's LOSO before / after its fast path (channels-last backbone, hypot flow magnitude; lightning_modules/rrrn/
network.py): the same folds of ``rrrn/composite`` trained by the runner with the code of two commits.

Two measurements, each for the `before` and the `after` commit (the code of each is a ``git archive`` copy in the
scratch folder, put first on the child's PYTHONPATH; configs come from AFFECT_ROOT's experiments/):

- ``step``: one training step of the bare network (batch 32, the stand-in's 128 px flow, Adam, one torch thread,
  ``torch.use_deterministic_algorithms`` as the runner sets it), median over repeats in CPU milliseconds, and the
  torch.profiler's heaviest operators of a few steps (self CPU time): where a fold's time goes.
- ``runs``: ``python -m experiments.cli train rrrn/composite protocol.max_folds=N seed=0`` as a child process (the
  experiment's own defaults: 30 epochs, batch 32, ``trainer.fold_workers=auto``, i.e. one fold per core with one
  torch thread each), with results, checkpoints and the MLflow store in the scratch folder: wall and CPU seconds
  (the child's and its reaped fold workers'), the seconds of each fold, the 1-min load average before and after.
  A whole LOSO run is estimated as mean fold seconds x folds / fold workers (the composite's LOSO folds are
  counted from its index).

Equality: both runs' predictions.csv are compared (largest score difference, predictions that differ); the
unit-level proof is tests/test_rrrn.py::test_fast_path_trains_as_before. Over a fold's 420 Adam steps rounding
differences grow (a conv bias that a BatchNorm follows has a zero true gradient, so Adam turns its rounding-level
gradient into steps of about lr), so :func:`divergence` measures how far `after` drifts from `before` next to how
far `before` drifts from itself when its input moves by one float32 ulp.

Needs data/processed/{casme2,samm,smic} with the flow and landmarks stages (AFFECT_ROOT's project). Writes
benchmarks/results/rrrn_speed.json. Run:
``AFFECT_ROOT=... python benchmarks/rrrn_speed.py [--before REV] [--after REV] [--folds 2] [--scratch DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import numpy as np
import pandas as pd
import torch
from timed_runs import child_cpu_seconds  # benchmarks/ is the script folder: on sys.path

from core.config import project_root
from core.io import write_json
from core.results import read_run_metrics

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "rrrn_speed.json"
EXPERIMENT = "rrrn/composite"


def export(rev: str, folder: Path) -> tuple[Path, str]:
    """The code of commit ``rev`` as plain files in folder/<sha>; returns (folder, full sha)."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    target = folder / sha[:12]
    if not (target / "lightning_modules").is_dir():
        archive = subprocess.run(["git", "archive", sha], cwd=REPO, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target, sha


def step_timing(code: Path, repeats: int = 5, steps: int = 4) -> dict:
    """CPU ms of one training step of the network at ``code`` (batch 32, 128 px flow, one thread)."""
    module = load_network(code)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(0)
        net = module.RRRN(n_classes=3)
        optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(0)
        flow = torch.randn(32, 2, 128, 128, generator=generator)
        t = torch.linspace(0, 1, 68)
        landmarks = torch.stack([24 + 80 * t, 24 + 80 * ((t * 7) % 1)], -1)[None].repeat(32, 1, 1)
        landmarks[:, 0], landmarks[:, 16] = torch.tensor([20.0, 60.0]), torch.tensor([108.0, 60.0])
        y = torch.arange(32) % 3

        def step():
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(net(flow, landmarks), y).backward()
            optimiser.step()

        step()
        samples = []
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(steps):
                step()
            samples.append((time.process_time() - start) / steps * 1e3)
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            for _ in range(steps):
                step()
        table = prof.key_averages(group_by_input_shape=True)
        heaviest = sorted(table, key=lambda e: e.self_cpu_time_total, reverse=True)[:8]
        return {"cpu_ms_median": round(statistics.median(samples), 1), "cpu_ms": [round(s, 1) for s in samples],
                "heaviest_ops_ms_per_step": [
                    {"op": e.key, "input_shapes": str(e.input_shapes)[:80],
                     "self_cpu_ms": round(e.self_cpu_time_total / 1e3 / steps, 1)} for e in heaviest]}
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def load_network(code: Path):
    spec = importlib.util.spec_from_file_location(f"rrrn_{code.name}", code / "lightning_modules/rrrn/network.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def divergence(before_code: Path, after_code: Path, steps: int = 120, checkpoints=(1, 10, 30, 60, 120)) -> dict:
    """How far training drifts apart through float rounding alone. Three copies of one initialisation train on the
    same batches (same dropout masks, Adam, 4 batches of 16 in turn, 64 px flow with a class-dependent motion, one
    thread): `before` (the code before the fast path), `after`, and `before` on a flow moved by one float32 ulp (a
    change of rounding size to the old code itself). The largest eval-mode softmax difference to `before` on 16
    held-out samples is recorded at a few step counts: when `after`
    drifts like the one-ulp copy, the before/after gap of a whole fold is rounding, amplified by training."""
    old, new = load_network(before_code), load_network(after_code)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        reference = old.RRRN(n_classes=3)
        nets = {"before": reference, "after": new.RRRN(n_classes=3), "before_one_ulp": old.RRRN(n_classes=3)}
        for net in nets.values():
            net.load_state_dict(reference.state_dict())
        generator = torch.Generator().manual_seed(0)
        flow = torch.randn(80, 2, 64, 64, generator=generator)  # 4 training batches of 16, 16 held-out samples
        y = torch.randint(0, 3, (80,), generator=generator)
        flow[:, 1, 40:56, 16:48] += (y == 1).float()[:, None, None] - (y == 2).float()[:, None, None]
        flows = {"before": flow, "after": flow, "before_one_ulp": torch.nextafter(flow, torch.tensor(float("inf")))}
        t = torch.linspace(0, 1, 68)
        landmarks = torch.stack([12 + 40 * t, 12 + 40 * ((t * 7) % 1)], -1)[None].repeat(16, 1, 1)
        landmarks[:, 0], landmarks[:, 16] = torch.tensor([8.0, 30.0]), torch.tensor([56.0, 30.0])
        optimisers = {name: torch.optim.Adam(net.parameters(), lr=1e-3) for name, net in nets.items()}
        out = {"after": {}, "before_one_ulp": {}}
        for step in range(1, steps + 1):
            batch = slice(16 * (step % 4), 16 * (step % 4) + 16)
            for name, net in nets.items():
                net.train()
                torch.manual_seed(step)
                optimisers[name].zero_grad()
                torch.nn.functional.cross_entropy(net(flows[name][batch], landmarks), y[batch]).backward()
                optimisers[name].step()
            if step in checkpoints:
                with torch.no_grad():
                    scores = {name: net.eval()(flow[64:], landmarks).softmax(-1) for name, net in nets.items()}
                for name in out:
                    out[name][str(step)] = float((scores[name] - scores["before"]).abs().max())
        return {"max_abs_softmax_difference_to_before": out, "setting": "4 batches of 16 in turn, 16 held out, 64 px, "
                "Adam lr 1e-3, one thread"}
    finally:
        torch.set_num_threads(threads)


def train_run(code: Path, folds: int, scratch: Path, overrides: tuple[str, ...] = ()) -> dict:
    """``rrrn/composite`` on its first ``folds`` LOSO folds with the code at ``code``, in a child process."""
    results, checkpoints = scratch / "results", scratch / "checkpoints"
    command = [sys.executable, "-m", "experiments.cli", "train", EXPERIMENT, "seed=0", f"protocol.max_folds={folds}",
               f"output.results_root={results}", f"output.checkpoints_root={checkpoints}", *overrides]
    env = {**os.environ, "PYTHONPATH": str(code), "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}"}
    load_before = os.getloadavg()[0]
    cpu, wall = child_cpu_seconds(), time.perf_counter()
    done = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True)  # cwd: first on sys.path
    wall, cpu = time.perf_counter() - wall, child_cpu_seconds() - cpu
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    metrics = read_run_metrics(results / "rrrn" / "composite")
    fold_seconds = metrics.get("fold_seconds", {})
    return {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "fold_seconds": fold_seconds,
            "mean_fold_seconds": round(float(np.mean(list(fold_seconds.values()))), 1),
            "fold_workers": metrics.get("fold_workers"), "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2), "uf1": round(metrics["uf1"], 4),
            "uar": round(metrics["uar"], 4), "n_samples": metrics["n_samples"],
            "predictions": str(results / "rrrn" / "composite" / "predictions.csv")}


def loso_folds() -> int:
    """The composite's LOSO folds for RRRN: (dataset, subject) groups with a mapped label and a flow file."""
    from experiments.config import load_experiment

    cfg = load_experiment(EXPERIMENT, profile="default")
    processed = project_root() / cfg.data.processed_root
    groups = set()
    for name in cfg.data.sources:
        index = pd.read_csv(processed / name / "index.csv", dtype={"subject": str})
        mapping = dict(cfg.data.label_map.get(name, {}))
        for row in index.itertuples():
            if str(row.emotion).lower() in mapping and (processed / name / "flow" / f"{row.sample_id}.npz").is_file():
                groups.add((name, row.subject))
    return len(groups)


def compare(before: Path, after: Path) -> dict:
    a, b = pd.read_csv(before), pd.read_csv(after)
    if list(a["sample_id"]) != list(b["sample_id"]):
        raise RuntimeError(f"{before} and {after} hold different samples")
    scores = [c for c in a.columns if c.startswith("score_")]
    diff = np.abs(a[scores].to_numpy() - b[scores].to_numpy())
    return {"n_samples": len(a), "max_abs_score_difference": float(diff.max()),
            "mean_abs_score_difference": float(diff.mean()),
            "predictions_that_differ": int((a["y_pred"] != b["y_pred"]).sum())}


def main(before: str, after: str, folds: int, scratch: Path, overrides: tuple[str, ...] = (),
         out_path: Path = RESULTS) -> dict:
    scratch.mkdir(parents=True, exist_ok=True)
    total = loso_folds()
    out = {"experiment": EXPERIMENT, "folds_run": folds, "loso_folds": total, "overrides": list(overrides),
           "machine": {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                       "load_average_1min_at_start": round(os.getloadavg()[0], 2)},
           "data_root": str(project_root()), "variants": {}}
    for label, rev in (("before", before), ("after", after)):
        code, sha = export(rev, scratch / "code")
        entry = {"commit": sha, "step": step_timing(code)}
        entry["run"] = train_run(code, folds, scratch / label, overrides)
        run = entry["run"]
        entry["loso_estimate_seconds"] = round(run["mean_fold_seconds"] * total / max(run["fold_workers"] or 1, 1))
        out["variants"][label] = entry
        write_json(out_path, out)
    b, a = out["variants"]["before"], out["variants"]["after"]
    out["speedup"] = {"step_cpu": round(b["step"]["cpu_ms_median"] / a["step"]["cpu_ms_median"], 2),
                      "fold_seconds": round(b["run"]["mean_fold_seconds"] / a["run"]["mean_fold_seconds"], 2),
                      "run_cpu_seconds": round(b["run"]["cpu_seconds"] / a["run"]["cpu_seconds"], 2)}
    out["equality"] = compare(Path(b["run"]["predictions"]), Path(a["run"]["predictions"]))
    out["equality"]["divergence"] = divergence(export(before, scratch / "code")[0], export(after, scratch / "code")[0])
    write_json(out_path, out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="4613e79~1", help="commit of the code before (default: the parent of "
                        "the fast-path commit)")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--folds", type=int, default=2, help="LOSO folds trained per variant (default 2: one per core)")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/rrrn_speed"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("overrides", nargs="*", help="config overrides of both runs (smoke tests only, e.g. "
                        "trainer.max_epochs=1; the recorded figures use the experiment's defaults)")
    parser.add_argument("--divergence-only", action="store_true", help="only add the rounding-drift check to an "
                        "existing results file")
    args = parser.parse_args()
    if args.divergence_only:
        recorded = json.loads(args.out.read_text())
        before_code = export(recorded["variants"]["before"]["commit"], args.scratch / "code")[0]
        after_code = export(recorded["variants"]["after"]["commit"], args.scratch / "code")[0]
        recorded["equality"]["divergence"] = divergence(before_code, after_code)
        write_json(args.out, recorded)
        print(json.dumps(recorded["equality"], indent=1))
        sys.exit(0)
    result = main(args.before, args.after, args.folds, args.scratch, tuple(args.overrides), args.out)
    print(json.dumps(result, indent=1))
