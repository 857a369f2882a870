"""E2STN vs its source-only baseline on the cross-dataset stand-ins, SEED -> SEED-IV and SEED-IV -> SEED.

Writes the SEED and SEED-IV stand-ins (``affect synth seed`` / ``seed_iv``, rawdata/synth/eeg.py) with the SAME
generator seed (``--data-seed``, default 0: their class patterns overlap by construction, ``generate_seed_iv``; with
different seeds there is nothing to transfer) and ``--subjects`` subjects each (default 6: a small stand-in for the
CPU budget), then runs each experiment exactly as `affect train` does (the `eeg` task, protocol ``cross_dataset``,
merged 3 shared classes, in a scratch project with its own MLflow store) at its DEFAULT settings for every run seed
of ``--seeds``: ``e2stn/<task>`` (transfer module, unlabelled target windows at training) and
``e2stn-no_transfer/<task>`` (the same classifier on the raw source windows, no target window read). Per run:
pooled accuracy and macro-F1 over all target windows, mean +- std over target subjects, the majority floor, CPU
seconds (this process and reaped fold workers) and wall seconds; per experiment the mean +- std over seeds; the
chance level (1/3, three shared classes); the load average before and after (the machine is shared: times are
not those of an idle machine).

The numbers are measurements on synthetic stand-ins (no head model; the datasets' "style" difference is the
generator's per-subject gain / offset and session shift, not SEED's vs SEED-IV's recording), not the paper's.

``--controls`` runs the negative control instead and ADDS it to the JSON (its other sections are kept): for each
experiment, one real run at the first seed (its predictions give the true labels; it is compared with the recorded
row of that seed) and a permuted-label run (``data.negative_control=permuted_labels``: trial labels shuffled
across all trials of both datasets, benchmarks/label_controls.py) at every seed, scored against the permuted labels
(metrics.json) and against the true ones. Both must fall to chance (1/3; the target's majority floor beside it).

    PYTHONPATH=. python benchmarks/e2stn.py [--subjects 6] [--seeds 0 1 2] [--data-seed 0] [--controls]
    -> benchmarks/results/e2stn.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from timed_runs import process_cpu_seconds, scratch_project  # benchmarks/ is the script folder: on sys.path

OUT = Path(__file__).parent / "results" / "e2stn.json"
TASKS = ("seed_to_seed_iv", "seed_iv_to_seed")
METHODS = ("e2stn", "e2stn-no_transfer")
KEYS = ("accuracy", "uf1", "subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "majority_accuracy",
        "n_samples", "n_subjects")


def run(experiment: str, roots: dict[str, Path], seed: int, extra: tuple[str, ...] = ()) -> dict:
    from experiments.runner import train

    overrides = [f"data.eeg_roots.{k}={v}" for k, v in roots.items()] + [f"seed={seed}", *extra]
    load, cpu, wall = os.getloadavg(), process_cpu_seconds(), time.perf_counter()
    metrics = train(experiment, overrides)
    cpu, wall = process_cpu_seconds() - cpu, time.perf_counter() - wall
    return {**{k: (round(metrics[k], 4) if isinstance(metrics[k], float) else metrics[k]) for k in KEYS},
            "cpu_seconds": round(cpu, 1), "wall_seconds": round(wall, 1),
            **({"overrides": list(extra), "load_average_1_5_15_before": [round(v, 2) for v in load]} if extra else {})}


def controls(experiment: str, roots: dict[str, Path], seeds: list[int], project: Path, recorded: dict) -> dict:
    """The real run at ``seeds[0]`` (true labels; compared with the recorded row) and a permuted-label run per seed."""
    from label_controls import against_true_labels, predictions

    real = run(experiment, roots, seeds[0])
    truth = predictions(project / "results", experiment)
    row = recorded.get("runs", {}).get(str(seeds[0]), {})
    out = {"real_run": {**real, "seed": seeds[0],
                        "recorded_accuracy": row.get("accuracy"),
                        "reproduces_recorded_accuracy": row.get("accuracy") == real["accuracy"]}, "permuted": {}}
    for seed in seeds:
        entry = run(experiment, roots, seed, ("data.negative_control=permuted_labels",))
        entry.update(against_true_labels(predictions(project / "results", experiment), truth, 3))
        out["permuted"][str(seed)] = entry
    permuted = list(out["permuted"].values())
    for key in ("accuracy", "accuracy_true_labels", "subject_accuracy_true_labels_mean"):
        values = np.array([r[key] for r in permuted])
        out[f"permuted_{key}_mean_over_seeds"] = round(float(values.mean()), 4)
        out[f"permuted_{key}_std_over_seeds"] = round(float(values.std()), 4)
    return out


def summary(runs: list[dict]) -> dict:
    out = {}
    for key in ("accuracy", "uf1", "subject_accuracy_mean"):
        values = np.array([r[key] for r in runs])
        out[f"{key}_mean_over_seeds"] = round(float(values.mean()), 4)
        out[f"{key}_std_over_seeds"] = round(float(values.std()), 4)
    out["cpu_seconds_per_run"] = round(float(np.mean([r["cpu_seconds"] for r in runs])), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--controls", action="store_true", help="add the permuted-label control to --out")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.io import write_json
    from rawdata.synth import generate

    load_before, start = os.getloadavg(), time.perf_counter()
    results: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        roots, versions = {}, {}
        for kind in ("seed", "seed_iv"):
            versions[kind] = generate(kind, scratch / kind, subjects=args.subjects, seed=args.data_seed)["version"]
            roots[kind] = (scratch / kind).resolve()
        project = scratch_project(scratch)
        if args.controls:
            recorded = json.loads(args.out.read_text()) if args.out.is_file() else {}
            section = {"what": "permuted-label negative control (data.negative_control=permuted_labels: trial "
                               "labels shuffled across all trials of both datasets before the fold is made), "
                               "scored against the permuted labels and against the true ones "
                               "(benchmarks/label_controls.py); chance 1/3",
                       "subjects": args.subjects, "generator_seed": args.data_seed, "generator_versions": versions,
                       "seeds": args.seeds, "experiments": {}}
            for task in TASKS:
                for method in METHODS:
                    experiment = f"{method}/{task}"
                    section["experiments"][experiment] = controls(
                        experiment, roots, args.seeds, project, recorded.get("experiments", {}).get(experiment, {}))
                    print(experiment, {k: v for k, v in section["experiments"][experiment].items()
                                       if k.startswith("permuted_")}, flush=True)
                    section["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
                    write_json(args.out, {**recorded, "negative_controls": {
                        **section, "load_average_before": [round(v, 2) for v in load_before],
                        "complete": len(section["experiments"]) == len(TASKS) * len(METHODS)}})
            return
        for task in TASKS:
            for method in METHODS:
                experiment = f"{method}/{task}"
                runs = {str(seed): run(experiment, roots, seed) for seed in args.seeds}
                results[experiment] = {"runs": runs, **summary(list(runs.values()))}
                print(experiment, {k: v for k, v in results[experiment].items() if k != "runs"}, flush=True)
    gains = {task: round(results[f"e2stn/{task}"]["accuracy_mean_over_seeds"]
                         - results[f"e2stn-no_transfer/{task}"]["accuracy_mean_over_seeds"], 4) for task in TASKS}
    write_json(args.out, {
        "what": "E2STN vs source-only (same classifier, no transfer module) on the cross-dataset stand-ins, merged "
                "3 shared classes (datamodules/eeg_protocols.py CLASS_MAPS), default settings of each experiment",
        "data": {"kind": "stand-in", "subjects": args.subjects, "generator_seed": args.data_seed,
                 "generator_versions": versions,
                 "note": "both stand-ins written with the same generator seed (their class patterns overlap by "
                         "construction); numbers measure the pipeline on synthetic data, not the paper's claim"},
        "seeds": args.seeds, "chance": round(1 / 3, 4), "torch_threads": 1,
        "experiments": results, "accuracy_gain_of_transfer": gains,
        "load_average": {"before": [round(v, 2) for v in load_before],
                         "after": [round(v, 2) for v in os.getloadavg()]},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "seconds": round(time.perf_counter() - start, 1),
    })


if __name__ == "__main__":
    main()
