"""MFMC on the DEAP stand-in with peripheral channels: DTC (MFMC) vs pairwise InfoNCE vs supervised from scratch vs
EEG-only, subject-dependent and subject-independent (LOSO); accuracy / macro-F1, majority floor, time, load.

Writes one small DEAP stand-in (``affect synth deap``, rawdata/synth/eeg.py with its peripheral channels: GSR,
respiration and pulse follow the trial's ratings and a shared hidden factor) with longer trials than the pipeline's
(``--seconds``, default 8 s: 5 one-second windows per trial after the 3-s baseline, so self-supervision has more
than one window per trial), then runs ``mfmc/deap`` and ``mfmc-loso/deap`` exactly as `affect train` does (a
scratch project with its own MLflow store) once per variant:

- ``mfmc``: the defaults (DTC objective, probe on frozen EEG features);
- ``pairwise_infonce``: the same encoders and probe, pairwise symmetric InfoNCE instead of DTC;
- ``supervised_all``: no self-supervision, EEG + GSR + respiration + pulse encoders trained end to end with
  cross-entropy (``objective=supervised``, ``probe_on`` all four);
- ``eeg_only``: the EEG encoder alone trained end to end with cross-entropy (the probe's input without pretraining).

Every other knob is the experiment's default (epochs included), except the subject-dependent fold count, 5 instead
of 10 (``protocol.n_folds=5``, for the CPU budget; recorded). One generator seed, one training seed: differences
of a few points are within fold noise (the per-subject std is recorded). The numbers are measurements on a
synthetic stand-in, not DEAP accuracies; the load average is recorded because the machine is shared.

``--controls`` runs the negative control of MFMC's probe instead and ADDS it to the JSON (its other sections are
kept): per protocol, the ``mfmc`` variant once as is (its predictions give the true labels; compared with the
recorded row) and once with ``data.negative_control=permuted_labels`` (trial labels shuffled across all trials
before the folds are made, benchmarks/label_controls.py): the self-supervised encoders read no label either way, so
only the probe learns from permuted labels. Scored against the permuted labels and the true ones; both must fall
to chance (0.5; the majority floor beside it).
``--run-seeds 1 2`` repeats every variant and protocol at those training seeds (``seed=<s>``, same stand-in) and
ADDS them to the JSON (its other sections are kept): ``seed_runs`` (protocol -> variant -> seed -> the run's
scores; seed 0 is the recorded ``results`` row) and ``over_seeds`` (mean, sd, min, max of the subject accuracy).

    PYTHONPATH=. python benchmarks/mfmc.py [--subjects 6] [--seconds 8] [--seed 0] [--controls | --run-seeds 1 2]
    -> benchmarks/results/mfmc.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from timed_runs import process_cpu_seconds, scratch_project, spread  # benchmarks/ is the script folder: on sys.path

OUT = Path(__file__).parent / "results" / "mfmc.json"
ALL = "[eeg,gsr,respiration,plethysmograph]"
VARIANTS = {
    "mfmc": [],
    "pairwise_infonce": ["model.objective=pairwise_infonce"],
    "supervised_all": ["model.objective=supervised", f"model.probe_on={ALL}"],
    "eeg_only": ["model.objective=supervised", "model.probe_on=[eeg]"],
}
PROTOCOLS = {"subject_dependent": ("mfmc/deap", ["protocol.n_folds=5"]), "loso": ("mfmc-loso/deap", [])}


def run(experiment: str, overrides: list[str], project: Path) -> dict:
    from experiments.runner import train

    load, cpu, wall = os.getloadavg(), process_cpu_seconds(), time.perf_counter()
    metrics = train(experiment, overrides)
    cpu, wall = process_cpu_seconds() - cpu, time.perf_counter() - wall
    run_info = json.loads((project / "results" / experiment.replace("/", os.sep) / "run.json").read_text())
    keys = ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "subject_f1_std", "accuracy", "uf1",
            "majority_accuracy", "majority_uf1", "n_folds", "n_samples", "n_subjects")
    return {**{k: metrics.get(k) for k in keys}, "max_epochs": run_info["max_epochs"], "overrides": overrides,
            "cpu_seconds": round(cpu, 1), "wall_seconds": round(wall, 1),
            "load_average_1_5_15_before": [round(v, 2) for v in load],
            "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=8, help="trial length of the stand-in (3 s are baseline)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--controls", action="store_true", help="add the probe's permuted-label control to --out")
    parser.add_argument("--run-seeds", type=int, nargs="*", default=None,
                        help="add these training seeds of every variant to --out (seed 0: the recorded results)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.io import write_json
    from rawdata.synth import generate

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        root = scratch / "deap"
        summary = generate("deap", root, subjects=args.subjects, seed=args.seed, samples=args.seconds * 128)
        project = scratch_project(scratch)
        if args.controls:
            from label_controls import against_true_labels, predictions

            recorded = json.loads(args.out.read_text()) if args.out.is_file() else {}
            section: dict = {"what": "permuted-label negative control of the mfmc variant (the probe's labels; "
                                     "the encoders read none): data.negative_control=permuted_labels, scored "
                                     "against the permuted and the true labels (benchmarks/label_controls.py)",
                             "seed": args.seed, "chance": 0.5, "protocols": {}}
            for protocol, (experiment, extra) in PROTOCOLS.items():
                base = [f"data.eeg_root={root}", "trainer.fold_workers=1", *extra]
                real = run(experiment, base, project)
                truth = predictions(project / "results", experiment)
                recorded_row = recorded.get("results", {}).get(protocol, {}).get("mfmc", {})
                real["reproduces_recorded_subject_accuracy"] = (
                    recorded_row.get("subject_accuracy_mean") == real["subject_accuracy_mean"])
                control = run(experiment, [*base, "data.negative_control=permuted_labels"], project)
                control.update(against_true_labels(predictions(project / "results", experiment), truth, 2))
                section["protocols"][protocol] = {"real_run": real, "permuted": control}
                print(protocol, {k: control[k] for k in ("subject_accuracy_mean", "accuracy_true_labels",
                                                         "subject_accuracy_true_labels_mean", "majority_accuracy")},
                      flush=True)
                write_json(args.out, {**recorded, "negative_controls": {
                    **section, "complete": len(section["protocols"]) == len(PROTOCOLS)}})
            return
        if args.run_seeds:
            recorded = json.loads(args.out.read_text())
            if recorded.get("standin", {}).get("seed") != args.seed or recorded["standin"].get("version") != \
                    summary.get("version") or recorded["standin"].get("subjects") != args.subjects:
                raise SystemExit(f"{args.out}: recorded on stand-in {recorded.get('standin')}, not this one")
            seed_runs = recorded.get("seed_runs") or {
                protocol: {variant: {"0": row} for variant, row in rows.items()}
                for protocol, rows in recorded["results"].items()}
            for seed in args.run_seeds:
                for protocol, (experiment, extra) in PROTOCOLS.items():
                    for variant, overrides in VARIANTS.items():
                        entry = run(experiment, [f"data.eeg_root={root}", "trainer.fold_workers=1", *extra,
                                                 *overrides, f"seed={seed}"], project)
                        seed_runs[protocol][variant][str(seed)] = entry
                        print(protocol, variant, "seed", seed, entry["subject_accuracy_mean"], flush=True)
                        over = {p: {v: spread([r["subject_accuracy_mean"] for r in runs.values()])
                                    for v, runs in variants.items()} for p, variants in seed_runs.items()}
                        write_json(args.out, {**recorded, "seed_runs": seed_runs, "over_seeds": over})
            return
        results: dict = {}
        for protocol, (experiment, extra) in PROTOCOLS.items():
            for variant, overrides in VARIANTS.items():
                entry = run(experiment, [f"data.eeg_root={root}", "trainer.fold_workers=1", *extra, *overrides],
                            project)
                results.setdefault(protocol, {})[variant] = entry
                print(protocol, variant, {k: entry[k] for k in ("subject_accuracy_mean", "subject_f1_mean",
                                                                "majority_accuracy", "cpu_seconds")}, flush=True)
                write_json(args.out, {
                    "data": "DEAP stand-in with peripheral channels (synthetic)",
                    "standin": {"kind": "deap", "subjects": args.subjects, "seed": args.seed,
                                "seconds_per_trial": args.seconds, "parameters": summary.get("parameters"),
                                "version": summary.get("version")},
                    "target": "valence (high = rating > 5)", "torch_threads": 1, "fold_workers": 1,
                    "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "note": "shared machine (a long timing run on the same 2 cores); see load averages"},
                    "results": results})


if __name__ == "__main__":
    main()
