"""The EEG emotion methods on the default SEED / MPED stand-ins: accuracy and macro-F1 per protocol, CPU seconds.

Writes the stand-in of each experiment's dataset (``affect synth seed``, 15 subjects, seed 0: the default of
params.yaml's stage; ``affect synth mped``, 23 subjects, seed 0; rawdata/synth/eeg.py) to a temporary folder, or
reads ``--root`` (SEED) / ``--mped-root``, then runs each experiment exactly as `affect train` does (the
`eeg` task, experiments/tasks/eeg.py, in a scratch project with its own MLflow store) at its DEFAULT settings: no
knob is changed here, so the figures are those of the default pipeline. Per experiment: the protocol, the fold
count, accuracy and macro-F1 as mean +- std over subjects (each subject's folds averaged first) and over folds,
the pooled accuracy / macro-F1, the majority floor, the trainable parameters, the CPU seconds (this process and
its reaped fold workers) and wall seconds of the run, the epoch budget (no validation split: ``capped`` cannot be
judged, so every run is "capped by epochs" in the sense that training stops at ``trainer.max_epochs``, fixed a
priori).

The numbers are measurements on a synthetic stand-in (no head model in slice 1; see rawdata/synth/eeg.py), not
SEED or MPED accuracies; set ``--root`` / ``--mped-root`` to a licensed copy to measure the real thing. Each entry
records its dataset and stand-in size (``standin``).

    PYTHONPATH=. python benchmarks/eeg_methods.py [--only dgcnn/seed dgcnn/mped ...] [--root DIR] [--mped-root DIR]
    -> benchmarks/results/eeg_methods.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).parent / "results" / "eeg_methods.json"
EXPERIMENTS = ("dgcnn/seed", "dgcnn-loso/seed", "dgcnn-cross_session/seed", "pgcn/seed", "pgcn-loso/seed",
               "tann/seed", "tann-loso/seed", "strnn/seed", "gmss/seed", "dgcnn/mped")


def parameters(experiment: str, root: Path) -> int:
    from datamodules.eeg import EEGSource
    from datamodules.eeg_protocols import eeg_folds
    from experiments import registry
    from experiments.config import load_experiment

    cfg = load_experiment(experiment, [f"data.eeg_root={root}"])
    source = EEGSource(cfg, (), ".")
    fold = eeg_folds(source.trials, str(cfg.protocol.name))[0]
    module = registry.method(str(cfg.method)).load()(cfg, source.info(fold.train))
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def _cpu() -> float:
    """CPU seconds of this process plus its reaped children (the forked fold workers of experiments/tasks/folds.py)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run(experiment: str, root: Path, project: Path) -> dict:
    from experiments.runner import train

    cpu, wall = _cpu(), time.perf_counter()
    metrics = train(experiment, [f"data.eeg_root={root}"])
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    out = project / "results" / experiment.split("/")[0] / experiment.split("/")[1]
    run_info = json.loads((out / "run.json").read_text())
    keys = ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "subject_f1_std",
            "fold_accuracy_mean", "fold_accuracy_std", "fold_f1_mean", "fold_f1_std", "accuracy", "uf1",
            "majority_accuracy", "n_folds", "n_samples", "n_subjects")
    return {"protocol": run_info["protocol"], **{k: metrics[k] for k in keys}, "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1), "max_epochs": run_info["max_epochs"],
            "capped": metrics.get("capped"), "capped_reason": metrics.get("capped_reason"),
            "params": parameters(experiment, root)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="a SEED folder (default: write the stand-in)")
    parser.add_argument("--mped-root", type=Path, default=None, help="an MPED folder (default: write the stand-in)")
    parser.add_argument("--subjects", type=int, default=15, help="SEED stand-in subjects")
    parser.add_argument("--mped-subjects", type=int, default=23, help="MPED stand-in subjects")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="experiments to run (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.io import write_json

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        given = {"seed": args.root, "mped": args.mped_root}
        sizes = {"seed": args.subjects, "mped": args.mped_subjects}
        roots: dict[str, Path] = {}

        def root_of(dataset: str) -> Path:
            if dataset not in roots:
                roots[dataset] = given[dataset]
                if roots[dataset] is None:
                    from rawdata.synth import generate

                    roots[dataset] = scratch / dataset
                    generate(dataset, roots[dataset], subjects=sizes[dataset], seed=args.seed)
            return roots[dataset]

        project = scratch / "project"
        project.mkdir()
        (project / "params.yaml").write_text(json.dumps({"profile": "default",
                                                         "tracking": {"uri": f"sqlite:///{project / 'mlflow.db'}"}}))
        os.environ["AFFECT_ROOT"] = str(project)
        previous = json.loads(args.out.read_text())["experiments"] if args.out.is_file() and args.only else {}
        results = dict(previous)
        for experiment in args.only or EXPERIMENTS:
            dataset = experiment.split("/")[1]
            results[experiment] = run(experiment, root_of(dataset).resolve(), project)
            results[experiment]["standin"] = {"dataset": dataset, "data": "stand-in" if given[dataset] is None
                                              else str(given[dataset]), "subjects": sizes[dataset], "seed": args.seed}
            print(experiment, {k: results[experiment][k] for k in ("subject_accuracy_mean", "subject_accuracy_std",
                                                                   "subject_f1_mean", "cpu_seconds")}, flush=True)
            write_json(args.out, {"data": "stand-in" if args.root is None else str(args.root),
                                  "subjects": args.subjects, "seed": args.seed, "torch_threads": 1,
                                  "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                                  "experiments": results})


if __name__ == "__main__":
    main()
