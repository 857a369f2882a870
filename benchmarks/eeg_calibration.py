"""Calibration of the SEED stand-in against ONE reported anchor: DGCNN's subject-dependent SEED accuracy.

The anchor (reports/reported.csv, the paper's abstract): Song, Zheng, Song, Cui, IEEE TAFFC 2018, DOI
10.1109/TAFFC.2018.2817622, "average recognition accuracy of 90.4 percent ... for subject dependent experiment"
on SEED. Its LOSO figure (79.95 %) is NOT a target: it is what the report compares the measured LOSO with.

One generator knob is searched, ``pattern_scale`` (the emotion pattern's size against window noise 1; rawdata/synth/
eeg.py), over ``CANDIDATES``; every other knob keeps its default. For each value and calibration draw
(``DRAWS``: generator seeds 100-102, never the default stand-in's 0 nor the pipeline's), the SEED stand-in is written
at its default size (15 subjects) and ``dgcnn/seed`` is trained as the suite trains it (benchmarks/eeg_methods.py
``run``: the runner in a scratch project, training seed 0, one fold worker), its subject-dependent accuracy over
subjects recorded.

RULE (written before any of its runs, the MER calibration's convention, rawdata/synth/plan.py): the default (0.12,
``HAND_PICKED``: the value before the calibration, which the rule was written against)
stays when the anchor lies within the range (min..max) of its scores over the three draws; otherwise the candidate
whose mean over the draws is closest to the anchor is chosen, ties within 0.005 going to the value nearer the
default. A changed default changes every SEED figure of the suite; they are then re-measured, not carried over.

ADOPTED: the rule picked 0.14; the SEED generator's default is ``SEED_PATTERN_SCALE`` = 0.14 from its version 3 on
(rawdata/synth/eeg.py), and tests/test_eeg_calibration.py checks that it equals what :func:`rechoose` reads from the
recorded runs. ``--rechoose`` re-applies the rule to the recorded JSON without training anything.

    PYTHONPATH=. python benchmarks/eeg_calibration.py [--values 0.12 0.14 0.16 0.18] [--draws 100 101 102]
    PYTHONPATH=. python benchmarks/eeg_calibration.py --rechoose
        -> benchmarks/results/eeg_calibration.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
from eeg_methods import run  # benchmarks/ is the script folder: on sys.path
from timed_runs import scratch_project  # benchmarks/ is the script folder: on sys.path

from core.io import write_json
from rawdata.synth import generate
from rawdata.synth.eeg import VERSION_SEED

OUT = Path(__file__).parent / "results" / "eeg_calibration.json"
ANCHOR = {"experiment": "dgcnn/seed", "protocol": "subject_dependent", "metric": "subject_accuracy_mean",
          "value": 0.904, "source": "Song, Zheng, Song, Cui, EEG Emotion Recognition Using Dynamical Graph "
          "Convolutional Neural Networks, IEEE TAFFC 2018, DOI 10.1109/TAFFC.2018.2817622: the abstract "
          "(90.4 % subject-dependent, 79.95 % subject-independent on SEED)"}
KNOB = "pattern_scale"
CANDIDATES = (0.12, 0.14, 0.16, 0.18)
DRAWS = (100, 101, 102)
HAND_PICKED = 0.12  # the stand-in's pattern_scale before the calibration (versions 1-2): the rule's default


def choose(scores: dict[float, list[float]], default: float, anchor: float) -> tuple[float, str]:
    """The rule of the module doc: (chosen value, why)."""
    if default in scores and min(scores[default]) <= anchor <= max(scores[default]):
        return default, "the anchor lies within the default's range over the draws"
    distance = {v: abs(float(np.mean(s)) - anchor) for v, s in scores.items()}
    best = min(distance.values())
    tied = [v for v in scores if distance[v] <= best + 0.005]
    return min(tied, key=lambda v: abs(v - default)), "closest mean to the anchor (ties: the value nearer the default)"


def rechoose(path: Path = OUT) -> tuple[float, str]:
    """The rule applied again to the runs recorded in ``path`` (nothing is trained)."""
    recorded = json.loads(Path(path).read_text())
    scores: dict[float, list[float]] = {}
    for key, entry in recorded["runs"].items():
        value, _draw = key.split("/")
        scores.setdefault(float(value), []).append(entry["subject_accuracy_mean"])
    return choose(scores, float(recorded["default"]), float(recorded["anchor"]["value"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=float, nargs="+", default=list(CANDIDATES))
    parser.add_argument("--draws", type=int, nargs="+", default=list(DRAWS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--rechoose", action="store_true", help="re-apply the rule to --out's runs; train nothing")
    args = parser.parse_args()
    if args.rechoose:
        print(rechoose(args.out))
        return
    import torch

    torch.set_num_threads(1)
    default = HAND_PICKED
    runs: dict[str, dict] = {}

    def save(final: bool) -> None:
        scores = {v: [runs[f"{v}/{d}"]["subject_accuracy_mean"] for d in args.draws if f"{v}/{d}" in runs]
                  for v in args.values}
        summary = {str(v): {"mean": round(float(np.mean(s)), 4), "min": round(min(s), 4), "max": round(max(s), 4),
                            "n": len(s)} for v, s in scores.items() if s}
        chosen = choose(scores, default, ANCHOR["value"]) if final else None
        write_json(args.out, {
            "what": "SEED stand-in calibration: dgcnn/seed subject-dependent accuracy over calibration draws per "
                    f"value of {KNOB} (benchmarks/eeg_calibration.py)",
            "anchor": ANCHOR, "knob": KNOB, "default": default, "candidates": list(args.values),
            "draws": list(args.draws), "generator_version": VERSION_SEED, "subjects": 15, "training_seed": 0,
            "runs": runs, "summary": summary,
            "chosen": {"value": chosen[0], "why": chosen[1]} if chosen else None,
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}})

    with tempfile.TemporaryDirectory(prefix="eeg_cal_") as scratch:
        scratch = Path(scratch)
        project = scratch_project(scratch)
        for draw in args.draws:
            for value in args.values:
                root = scratch / f"seed_{value}_{draw}"
                generate("seed", root, subjects=15, seed=draw, **{KNOB: value})
                result = run("dgcnn/seed", root.resolve(), project, 0, ("seed=0", "trainer.fold_workers=1"))
                runs[f"{value}/{draw}"] = {k: result[k] for k in ("subject_accuracy_mean", "subject_accuracy_std",
                                                                  "subject_f1_mean", "cpu_seconds", "max_epochs")}
                print(value, draw, runs[f"{value}/{draw}"], flush=True)
                save(final=False)
    save(final=True)
    print(json.loads(args.out.read_text())["chosen"], flush=True)


if __name__ == "__main__":
    main()
