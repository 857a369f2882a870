"""The EEG emotion methods on the default stand-ins: accuracy and macro-F1 per protocol, CPU seconds, parameters.

Writes each dataset's stand-in (``affect synth seed|seed_iv|deap|mped``, rawdata/synth/eeg.py; the registered
subject count, generator seed ``--seed`` 0: the default of params.yaml's SEED stage) to a temporary folder, or reads
``--root`` (one licensed copy, for the experiments of its dataset), then runs each experiment exactly as `affect
train` does (the `eeg` task, experiments/tasks/eeg.py, in a scratch project with its own MLflow store) at its
DEFAULT settings: no knob is changed here, so the figures are those of the default pipeline. Per experiment: the
protocol, the fold count, accuracy and macro-F1 as mean +- std over subjects (each subject's folds averaged first)
and over folds, the pooled accuracy / macro-F1, the majority floor, the trainable parameters, the CPU seconds (this
process and its reaped fold workers) and wall seconds of the run, the epoch budget (no validation split: ``capped``
cannot be judged, so every run is "capped by epochs" in the sense that training stops at ``trainer.max_epochs``,
fixed a priori).

Each entry records the stand-in it ran on (kind, subjects, seed, generator version: version 2 added the SEED / SEED-
IV session shift; entries without ``standin`` ran on version 1, before it). The numbers are measurements on
synthetic stand-ins (no head model; see rawdata/synth/eeg.py), not SEED / SEED-IV / DEAP / MPED accuracies; set
``--root`` to a licensed copy to measure the real thing. ``--max-folds`` > 0 is a smoke check only (recorded as
such).

``--run-seeds 0 1 2`` trains each experiment once per run seed (``seed=<s>``: initialisation, batch order, the
seeded protocols' shuffles; the stand-in stays generator seed ``--seed``): the entry is the first seed's run, with
``seed_runs`` (each seed's scores) and ``over_seeds`` (mean, sample sd, min, max of the subject-averaged accuracy
and macro-F1). ``--fold-workers`` sets ``trainer.fold_workers`` (results do not depend on it; 1 leaves a shared
machine's second core to others). Each run records the load average before and after it.

    PYTHONPATH=. python benchmarks/eeg_methods.py [--only dgcnn/seed ...] [--root DIR] [--max-folds N]
        [--run-seeds 0 1 2] [--fold-workers 1] -> benchmarks/results/eeg_methods.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from timed_runs import process_cpu_seconds, scratch_project, spread  # benchmarks/ is the script folder: on sys.path

OUT = Path(__file__).parent / "results" / "eeg_methods.json"
EXPERIMENTS = ("dgcnn/seed", "dgcnn-loso/seed", "dgcnn-cross_session/seed", "pgcn/seed", "pgcn-loso/seed",
               "tann/seed", "tann-loso/seed", "strnn/seed", "gmss/seed",
               "dgcnn/seed_iv", "dgcnn-loso/seed_iv", "dgcnn-cross_session/seed_iv", "pgcn/seed_iv", "tann/seed_iv",
               "gmss/seed_iv", "dgcnn/deap", "dgcnn-arousal/deap", "dgcnn/mped")


def parameters(experiment: str, root: Path) -> int:
    from experiments import registry
    from experiments.config import load_experiment
    from experiments.tasks.eeg import prepare

    cfg = load_experiment(experiment, [f"data.eeg_root={root}"])
    prepared = prepare(cfg, SimpleNamespace(inputs=()), Path("."))
    source, fold = prepared.source, prepared.folds[0]
    module = registry.method(str(cfg.method)).load()(cfg, source.info(fold.train))
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def run(experiment: str, root: Path, project: Path, max_folds: int = 0, extra: tuple[str, ...] = ()) -> dict:
    from experiments.runner import train

    overrides = [f"data.eeg_root={root}"] + ([f"protocol.max_folds={max_folds}"] if max_folds else []) + list(extra)
    load, cpu, wall = os.getloadavg(), process_cpu_seconds(), time.perf_counter()
    metrics = train(experiment, overrides)
    cpu, wall = process_cpu_seconds() - cpu, time.perf_counter() - wall
    out = project / "results" / experiment.split("/")[0] / experiment.split("/")[1]
    run_info = json.loads((out / "run.json").read_text())
    keys = ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "subject_f1_std",
            "fold_accuracy_mean", "fold_accuracy_std", "fold_f1_mean", "fold_f1_std", "accuracy", "uf1",
            "majority_accuracy", "n_folds", "n_samples", "n_subjects")
    return {"protocol": run_info["protocol"], **{k: metrics[k] for k in keys}, "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1), "max_epochs": run_info["max_epochs"],
            "capped": metrics.get("capped"), "capped_reason": metrics.get("capped_reason"),
            "params": parameters(experiment, root), "max_folds": max_folds or None,
            "smoke_check_only": bool(max_folds), "run_seed": int(run_info["seed"]), "overrides": list(extra),
            "load_average_1_5_15_before": [round(v, 2) for v in load],
            "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()]}


def over_seeds(runs: dict[str, dict]) -> dict:
    """Mean, sample sd, min and max over the run seeds of the subject-averaged accuracy and macro-F1."""
    return {key: spread([float(r[key]) for r in runs.values()])
            for key in ("subject_accuracy_mean", "subject_f1_mean", "accuracy", "uf1")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="a dataset folder (default: write the stand-ins)")
    parser.add_argument("--subjects", type=int, default=None, help="stand-in subjects (default: the registered)")
    parser.add_argument("--max-folds", type=int, default=0, help="smoke check: only the first N folds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="experiments to run (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--run-seeds", type=int, nargs="*", default=None, help="train once per run seed")
    parser.add_argument("--fold-workers", default=None, help="trainer.fold_workers (default: the experiment's)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.io import write_json

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        roots: dict[str, tuple[Path, dict | None]] = {}

        def data_root(dataset: str) -> tuple[Path, dict | None]:
            if args.root is not None:
                return args.root.resolve(), None
            if dataset not in roots:
                from rawdata.datasets import DATASETS
                from rawdata.synth import generate

                subjects = args.subjects or DATASETS[dataset].standin_subjects
                summary = generate(dataset, scratch / dataset, subjects=subjects, seed=args.seed)
                roots[dataset] = ((scratch / dataset).resolve(), {"kind": dataset, "subjects": subjects,
                                                                  "seed": args.seed,
                                                                  "version": summary.get("version")})
            return roots[dataset]

        project = scratch_project(scratch)
        previous = json.loads(args.out.read_text())["experiments"] if args.out.is_file() and args.only else {}
        results = dict(previous)
        workers = (f"trainer.fold_workers={args.fold_workers}",) if args.fold_workers else ()
        for experiment in args.only or EXPERIMENTS:
            root, standin = data_root(experiment.split("/")[1])
            if args.run_seeds:
                runs = {str(s): run(experiment, root, project, args.max_folds, (f"seed={s}", *workers))
                        for s in args.run_seeds}
                keep = ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "accuracy", "uf1",
                        "cpu_seconds", "wall_seconds", "load_average_1_5_15_before")
                results[experiment] = {**runs[str(args.run_seeds[0])], "standin": standin,
                                       "seed_runs": {s: {k: r[k] for k in keep} for s, r in runs.items()},
                                       "over_seeds": over_seeds(runs)}
            else:
                results[experiment] = {**run(experiment, root, project, args.max_folds, workers), "standin": standin}
            print(experiment, {k: results[experiment][k] for k in ("subject_accuracy_mean", "subject_accuracy_std",
                                                                   "subject_f1_mean", "cpu_seconds")}, flush=True)
            write_json(args.out, {"data": "stand-in" if args.root is None else str(args.root),
                                  "seed": args.seed, "torch_threads": 1,
                                  "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                                  "experiments": results})


if __name__ == "__main__":
    main()
