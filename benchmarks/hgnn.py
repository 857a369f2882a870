"""HGNN and its ablations on the MODMA stand-in, per subject: writes benchmarks/results/hgnn.json.

One stand-in (``affect synth modma`` at its default effect sizes, generator seed 0, ``SUBJECTS`` subjects of
``SECONDS`` s: the stand-in's default size, fixed before running) and, on it, the experiments hgnn/modma,
hgnn-no_ignn/modma and hgnn-no_gpum/modma plus hgnn/modma with permuted subject labels (the negative control), each a
whole ``affect train`` process (benchmarks/timed_runs.py) with the experiments' defaults (since hgnn2:
``data.normalize: none``, the reference code's un-normalised input), once per training seed (``--seeds``, seed-
major: every run of seed 0 before any of seed 1; the file is written after every run, so a measurement cut short
keeps what finished and lists the rest under ``not_run``). To fit the CPU budget of this measurement the runs use
``OVERRIDES`` (4 folds instead of 10; the experiments' 4-s windows and, since the read-out choice, their 30 epochs:
the earlier 15 were a CPU cut that batch 32 no longer needs, a 30-epoch run at batch 32 costing about what a
15-epoch one did at 128): the figures measure the pipeline and the ablations' ordering on a small stand-in, not a
method's MODMA accuracy. Reported per run: subject-level accuracy / macro-F1 / F1 of MDD (each test subject's mean
window score), window-level accuracy / macro-F1, the subjects' majority floor, wall and CPU seconds, load average;
per label ``over_seeds`` (mean, sd, min, max of the subject-level accuracy). Beside them, the probes of
benchmarks/modma_probe.py (band power, F3-P4 and all-pairs theta coupling, logistic regression) on the SAME draw,
scored on the HGNN runs' own subject folds and leave-one-subject-out: what a simple linear read-out of the stand-in
reaches, so a floor-level HGNN figure can be told from a signal-free stand-in. A recorded file from another
generator version is kept under ``version_<n>`` (version 1: the coupling-only stand-in HGNN could not read), one of
the same version made with another HGNN setting (read-out, batch size, epochs; ``setting``) under
``setting_<readout>_b<batch>_e<epochs>`` (the reference code's trained read-out at batch 128 and 15 epochs, before
benchmarks/hgnn_calibration.py ``--readout-choice``).

    PYTHONPATH=$PWD nice -n 15 .venv/bin/python benchmarks/hgnn.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.modma_probe import probe_draw
from benchmarks.timed_runs import run_experiment, spread
from core.io import write_json
from experiments.config import load_experiment
from rawdata.synth import generate
from rawdata.synth.modma import VERSION

SUBJECTS, SECONDS, GENERATOR_SEED = 24, 24, 0
OVERRIDES = ("protocol.n_folds=4", "trainer.num_threads=1")
RUNS = (("hgnn", "hgnn/modma", ()), ("hgnn-no_ignn", "hgnn-no_ignn/modma", ()),
        ("hgnn-no_gpum", "hgnn-no_gpum/modma", ()),
        ("hgnn permuted labels", "hgnn/modma", ("data.negative_control=permuted_labels",)))
INPUT = "experiments' defaults: data.normalize=none, data.scale=none (the reference code's un-normalised segments)"
OUT = Path(__file__).parent / "results" / "hgnn.json"
KEYS = ("subject_level_accuracy", "subject_level_f1", "subject_level_f1_positive", "subject_level_majority_accuracy",
        "accuracy", "uf1", "majority_accuracy", "n_samples", "n_folds")


def hgnn_setting() -> dict:
    """What of hgnn/modma the runs use: its read-out, batch size and epochs (the experiment's, under OVERRIDES)."""
    cfg = load_experiment("hgnn/modma", OVERRIDES)
    return {"encoder_readout": str(cfg.model.encoder_readout), "batch_size": int(cfg.data.batch_size),
            "epochs": int(cfg.trainer.max_epochs)}


# files without a ``setting`` predate the read-out choice: the reference read-out, batch 128, 15 epochs
BEFORE_SETTINGS = {"encoder_readout": "conv", "batch_size": 128, "epochs": 15}


def earlier_versions(path: Path, setting: dict) -> dict:
    """The recorded file's measurements on other generator versions or HGNN settings, kept beside the new ones."""
    if not path.is_file():
        return {}
    old = json.loads(path.read_text())
    kept = {k: v for k, v in old.items() if k.startswith(("version_", "setting_"))}
    current = {k: v for k, v in old.items() if not k.startswith(("version_", "setting_"))}
    version = old.get("standin", {}).get("generator_version", 1)  # files without the key predate VERSION 2
    before = old.get("setting", BEFORE_SETTINGS)
    if version != VERSION:
        kept[f"version_{version}"] = current
    elif before != setting:
        kept[f"setting_{before['encoder_readout']}_b{before['batch_size']}_e{before['epochs']}"] = current
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds, run seed-major")
    args = parser.parse_args()
    started = time.time()
    setting = hgnn_setting()
    kept = earlier_versions(OUT, setting)
    todo = [(seed, run) for seed in args.seeds for run in RUNS]
    runs: list[dict] = []
    probes: dict = {}

    def save() -> None:
        labels = dict.fromkeys(label for label, _, _ in RUNS)
        over = {label: spread([r["scores"]["subject_level_accuracy"] for r in runs if r["label"] == label])
                for label in labels if any(r["label"] == label for r in runs)}
        write_json(OUT, {
            "what": "HGNN and ablations on the MODMA stand-in, subject-level and window-level scores",
            "standin": {"subjects": SUBJECTS, "seconds": SECONDS, "generator_seed": GENERATOR_SEED,
                        "generator_version": VERSION},
            "overrides": list(OVERRIDES), "setting": setting, "training_seeds": list(args.seeds), "runs": runs,
            "over_seeds": over, "input": INPUT, "probes_same_draw": probes,
            "not_run": [f"{label} seed {seed}" for seed, (label, _, _) in todo[len(runs):]],
            "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()],
            "total_wall_seconds": round(time.time() - started, 1),
            "note": "one generator seed: subject-level figures move in steps of 1/24", **kept})

    with tempfile.TemporaryDirectory(prefix="hgnn_bench_") as scratch:
        scratch = Path(scratch)
        data = scratch / "modma"
        generate("modma", data, subjects=SUBJECTS, seed=GENERATOR_SEED, seconds=SECONDS)
        for seed, (label, exp_id, extra) in todo:
            folder = scratch / f"{label.replace(' ', '_')}_{seed}"
            result = run_experiment(exp_id, seed, folder, (f"data.eeg_root={data}", *OVERRIDES, *extra))
            metrics = result.pop("metrics")
            result["scores"] = {k: metrics.get(k) for k in KEYS}
            runs.append({"label": label, **result})
            print(label, "seed", seed, result["scores"], result["cpu_seconds"], flush=True)
            if label == "hgnn" and not probes:
                table = pd.read_csv(folder / "results" / "hgnn" / "modma" / "predictions.csv",
                                    dtype={"subject": str})
                folds = dict(zip(table["subject"], table["fold"], strict=False))
                probes = {"hgnn_folds": probe_draw(data, folds), "loso": probe_draw(data)}
                print("probes", probes, flush=True)
            save()


if __name__ == "__main__":
    main()
