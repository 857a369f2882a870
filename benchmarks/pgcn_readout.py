"""PGCN's readout chosen on inner validation, never on a test fold. Writes benchmarks/results/pgcn_readout.json.

Why: PGCN's readout (how the per-electrode node features become the heads' input) was changed once after a test-
fold score of the SEED stand-in had been seen (lightning_modules/pgcn/module.py, "Recorded change"). That choice is
made again here, on data no reported fold tests.

Candidates, written down before any run of this script (``model.readout``):

- ``pool``: the node features of both graph branches, mean and max over electrodes (4 x hidden numbers), a linear
  coarse head and a one-hidden-layer fine head (the first version, written before any score was seen);
- ``flatten``: a shared per-electrode linear map to ``pointwise`` (16) numbers, flattened in electrode order
  (62 x 16), linear coarse and fine heads (the version written after the test-fold score).

Every other knob is the method's default (12 epochs subject-dependent, 4 for the cross-subject setting, as
pgcn-loso/seed). Settings (each runs both candidates through the runner exactly as `affect train` does, in a
scratch project; the scores read are those of the inner folds' held-out side, which is validation data):

1. ``seed_trials``: the SEED stand-in the benchmarks measure on (benchmarks/eeg_methods.py: generator seed 0, the
   registered 15 subjects), subject-dependent folds restricted to the TRAINING trials 1-9 of each subject-session
   (``protocol.last_trial=9``): trials 1-6 train, 7-9 validate (45 inner folds; the outer test trials 10-15 are
   never read);
2. ``seed_iv_trials``: the same on the SEED-IV stand-in (generator seed 0): training trials 1-16, 1-11 train,
   12-16 validate (``protocol.last_trial=16 protocol.n_train=11``; outer test trials 17-24 never read);
3. ``seed_subjects``: cross-subject, for pgcn-loso/seed: a CALIBRATION draw of the SEED stand-in (generator seed
   100, 15 subjects; none of them is in any reported run), leave one subject out for its first 5 subjects
   (``protocol.max_folds=5``, a selection run, never a reported number).

Rule (fixed before the runs): the default becomes the candidate with the higher mean over the three settings of
its subject-averaged validation accuracy (``subject_accuracy_mean``); a difference under 0.005 goes to ``pool``,
the version written before any score was seen. Settings 1-2 read training trials of subjects whose later trials
are test trials of the subject-dependent experiments (never those test trials); setting 3 reads no subject of any
reported run, which is what the LOSO experiment needs.

    PYTHONPATH=. python benchmarks/pgcn_readout.py [--settings seed_trials ...] -> benchmarks/results/pgcn_readout.json
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from timed_runs import process_cpu_seconds, scratch_project  # benchmarks/ is the script folder: on sys.path

OUT = Path(__file__).parent / "results" / "pgcn_readout.json"
CANDIDATES = ("pool", "flatten")  # in tie-break order: ties go to the first
TIE = 0.005
# setting -> (stand-in kind, generator seed, experiment, overrides)
SETTINGS = {
    "seed_trials": ("seed", 0, "pgcn/seed", ("protocol.last_trial=9", "protocol.n_train=6")),
    "seed_iv_trials": ("seed_iv", 0, "pgcn/seed_iv", ("protocol.last_trial=16", "protocol.n_train=11")),
    "seed_subjects": ("seed", 100, "pgcn-loso/seed", ("protocol.max_folds=5",)),
}
KEYS = ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "accuracy", "uf1", "majority_accuracy",
        "n_folds", "n_samples", "n_subjects")


def choose(scores: dict[str, dict[str, float]]) -> tuple[str, dict[str, float]]:
    """The rule above: setting -> candidate -> validation accuracy in; (chosen candidate, mean per candidate) out."""
    means = {c: float(np.mean([scores[s][c] for s in scores])) for c in CANDIDATES}
    best = max(means.values())
    chosen = next(c for c in CANDIDATES if best - means[c] < TIE)
    return chosen, means


def run(experiment: str, overrides: list[str]) -> dict:
    from experiments.runner import train

    load, cpu, wall = os.getloadavg(), process_cpu_seconds(), time.perf_counter()
    metrics = train(experiment, overrides)
    cpu, wall = process_cpu_seconds() - cpu, time.perf_counter() - wall
    return {**{k: metrics[k] for k in KEYS}, "overrides": overrides, "cpu_seconds": round(cpu, 1),
            "wall_seconds": round(wall, 1), "load_average_1_5_15_before": [round(v, 2) for v in load],
            "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.io import write_json
    from rawdata.datasets import DATASETS
    from rawdata.synth import generate

    results: dict = {}
    versions: dict[Path, int | None] = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        scratch_project(scratch)
        for setting in args.settings:
            kind, data_seed, experiment, extra = SETTINGS[setting]
            root = scratch / f"{kind}-{data_seed}"
            subjects = DATASETS[kind].standin_subjects
            if root not in versions:
                versions[root] = generate(kind, root, subjects=subjects, seed=data_seed).get("version")
            entry = {"experiment": experiment, "standin": {"kind": kind, "seed": data_seed, "subjects": subjects,
                                                           "version": versions[root]}, "candidates": {}}
            for candidate in CANDIDATES:
                overrides = [f"data.eeg_root={root.resolve()}", "trainer.fold_workers=1", *extra,
                             f"model.readout={candidate}"]
                entry["candidates"][candidate] = run(experiment, overrides)
                print(setting, candidate, entry["candidates"][candidate]["subject_accuracy_mean"], flush=True)
            results[setting] = entry
            done = {s: {c: e["candidates"][c]["subject_accuracy_mean"] for c in CANDIDATES}
                    for s, e in results.items()}
            chosen, means = choose(done) if len(done) == len(SETTINGS) else (None, None)
            write_json(args.out, {
                "what": "PGCN readout (model.readout) on inner validation: validation accuracy, never a test fold",
                "candidates": list(CANDIDATES), "tie": TIE,
                "rule": "higher mean over the settings of subject-averaged validation accuracy; a difference under "
                        f"{TIE} goes to the first candidate ({CANDIDATES[0]}, written before any score was seen)",
                "settings": results, "validation_accuracy": done, "mean_over_settings": means, "chosen": chosen,
                "complete": len(done) == len(SETTINGS), "torch_threads": 1, "fold_workers": 1,
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                            "note": "shared machine: see the load averages"}})


if __name__ == "__main__":
    main()
