"""Masked-emotion dual-stream decoupling on the masked stand-in: speed of the default-run experiments (with and
without HSIC), their scores over seeds, the onset-clip paradigm comparison, and what the stand-in's apex frame holds.

Figures (benchmarks/results/masked_decoupling.json; `affect bench` lists them):

- ``epoch_seconds_<n>_threads``: one training epoch of ``WITH_HSIC`` on its first fold's training subjects (module
  built beforehand), with 2 and 1 torch threads; ``parameters`` of the two streams and heads.
- ``experiment_wall_seconds`` / ``experiment_cpu_seconds``: each default-run experiment (``WITH_HSIC``,
  ``WITHOUT_HSIC``, with the pipeline's args ``PIPELINE_ARGS``: 5 subject-disjoint folds) as `dvc repro` runs it
  (``affect train`` in a new process; benchmarks/timed_runs.py), per seed (0-2 by default), with the TRUE-emotion
  UF1/UAR (the headline), the majority-class UF1 it compares with, and the disguised expression's UF1/UAR. Their
  sum is held to the 2-minute budget.
- ``onset_clip``: the earlier paradigm the paper compares with (``ONSET_CLIP``: the frames from onset to apex,
  where the stand-in leaks the true emotion by construction), seed 0.
- ``landmark_probe``: what the stand-in's frames can hold at best, measured on its ground-truth landmarks (no
  face or landmark detector involved) with a linear probe under LOSO: true-emotion and disguise UF1 from the apex
  frame's landmark shape (one frame), apex minus onset landmarks, the apex displacement against the true neutral
  face (an oracle), the leak peak, and the onset -> apex clip. rawdata/synth/masked.py quotes these numbers.

The machine is shared: wall time depends on its load (recorded per run); CPU time much less. Needs the processed
masked stand-in (`affect synth masked` + `affect preprocess index|faces masked`). Run:
``.venv/bin/python benchmarks/masked_decoupling.py [--seeds 0 1 2] [--no-onset-clip]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import numpy as np
import torch
from timed_runs import one_epoch, run_experiment, spread

from core import metrics as M
from core.config import load_params, project_root
from core.io import write_json
from datamodules.micro_expression import MicroExpressionSource
from datamodules.protocols import make_folds
from experiments.config import load_experiment
from lightning_modules.masked_decoupling import METHOD

RESULTS = Path(__file__).resolve().parent / "results" / "masked_decoupling.json"
# The experiments of the default `dvc repro` with their pipeline args (params.yaml), and the onset-clip comparison
WITH_HSIC = "masked_decoupling/masked"
WITHOUT_HSIC = "masked_decoupling-no_hsic/masked"
ONSET_CLIP = "masked_decoupling-onset_clip/masked"
PIPELINE_ARGS = ("protocol.name=subject_kfold",)
BUDGET_SECONDS = 120  # both default-run experiments together (idle 2 cores, wall, start-up included)


# -- landmark probe --------------------------------------------------------------------------------------------
PROBES = ("apex_shape", "apex_minus_onset", "apex_minus_true_neutral", "leak_peak_minus_true_neutral",
          "onset_to_apex_clip")


def probe_features(sample: dict, kind: str) -> np.ndarray:
    moved, neutral = np.asarray(sample["landmarks_moved"]), np.asarray(sample["landmarks_neutral"])
    at = {name: sample["frame_numbers"].index(sample["timing"][name]) for name in ("onset", "leak_peak", "apex")}
    if kind == "apex_shape":  # one frame: its landmarks, centred and scaled (identity and expressions mixed)
        shape = moved[at["apex"]] - moved[at["apex"]].mean(0)
        return (shape / np.linalg.norm(shape)).ravel()
    if kind == "apex_minus_onset":  # what the apex-minus-onset input holds (head motion included)
        return (moved[at["apex"]] - moved[at["onset"]]).ravel()
    if kind == "apex_minus_true_neutral":  # oracle: the expression displacement itself, never observable
        return (moved[at["apex"]] - neutral[at["apex"]]).ravel()
    if kind == "leak_peak_minus_true_neutral":  # oracle at the leak's peak (before the disguise starts)
        return (moved[at["leak_peak"]] - neutral[at["leak_peak"]]).ravel()
    if kind == "onset_to_apex_clip":  # what the onset-clip paradigm holds: extremes of the motion since onset
        motion = moved[at["onset"]:at["apex"] + 1] - moved[at["onset"]]
        return np.concatenate([motion.max(0).ravel(), motion.min(0).ravel()])
    raise ValueError(kind)


def landmark_probe(truth_file: Path) -> dict:
    """True-emotion and disguise UF1 of a linear probe on ground-truth landmark features, LOSO."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    samples = json.loads(truth_file.read_text())["samples"]
    subjects = np.array([s["subject"] for s in samples])
    out = {"samples": len(samples), "protocol": "loso", "chance_true_uf1": round(1 / 6, 4)}
    for kind in PROBES:
        x = np.stack([probe_features(s, kind) for s in samples])
        for target in ("emotion", "disguise"):
            labels = np.array([s[target] for s in samples])
            classes = sorted(set(labels))
            predicted = np.empty_like(labels)
            for subject in np.unique(subjects):
                test = subjects == subject
                model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
                predicted[test] = model.fit(x[~test], labels[~test]).predict(x[test])
            code = {c: i for i, c in enumerate(classes)}
            uf1 = M.uf1([code[v] for v in labels], [code[v] for v in predicted], len(classes))
            out[f"{kind}_{'true' if target == 'emotion' else 'disguise'}_uf1"] = round(uf1, 4)
    return out


# -- main ------------------------------------------------------------------------------------------------------
def scores(metrics: dict) -> dict:
    return {"true_uf1": round(metrics["uf1"], 4), "true_uar": round(metrics["uar"], 4),
            "true_majority_class_uf1": round(metrics["majority_uf1"], 4),
            "disguise_uf1": round(metrics["disguise_uf1"], 4), "disguise_uar": round(metrics["disguise_uar"], 4),
            "disguise_majority_class_uf1": round(M.majority_floor_of_report(metrics["disguise"])["majority_uf1"], 4),
            "n_folds": metrics["n_folds"], "n_samples": metrics["n_samples"]}


def summarise(runs: list[dict]) -> dict:
    per_seed = [scores(r["metrics"]) for r in runs]
    return {"runs": [{k: v for k, v in r.items() if k != "metrics"} | {"scores": s} for r, s in zip(runs, per_seed)],
            "seed_spread": {key: spread([s[key] for s in per_seed])
                            for key in ("true_uf1", "true_uar", "disguise_uf1", "disguise_uar")}
            | {"experiment_wall_seconds": spread([r["wall_seconds"] for r in runs]),
               "experiment_cpu_seconds": spread([r["cpu_seconds"] for r in runs])}}


def main(seeds: list[int], onset_clip: bool) -> dict:
    root = project_root()
    cfg = load_experiment(WITH_HSIC, PIPELINE_ARGS, profile="default")
    source = MicroExpressionSource(cfg, METHOD.inputs, root)
    fold = make_folds(source.index, cfg.protocol, seed=int(cfg.seed))[0]
    epochs = [one_epoch(METHOD, cfg, source, fold, threads) for threads in (2, 1)]
    experiments = {WITH_HSIC: [], WITHOUT_HSIC: []}
    onset_run = None
    with tempfile.TemporaryDirectory(dir=root / "results" if (root / "results").is_dir() else None) as tmp:
        for seed in seeds:
            for exp_id, runs in experiments.items():
                runs.append(run_experiment(exp_id, seed, Path(tmp), PIPELINE_ARGS))
        if onset_clip:
            onset_run = run_experiment(ONSET_CLIP, seeds[0], Path(tmp), PIPELINE_ARGS)
    summaries = {exp_id: summarise(runs) for exp_id, runs in experiments.items()}
    both = [a["wall_seconds"] + b["wall_seconds"] for a, b in zip(*experiments.values())]
    both_cpu = [a["cpu_seconds"] + b["cpu_seconds"] for a, b in zip(*experiments.values())]
    truth = root / load_params(root / "params.yaml").datasets.get("masked", {}).get("root", "data/raw/masked")
    truth = truth / "ground_truth.json"
    result = {
        "what": "masked-emotion decoupling, default-run experiments on the masked stand-in (CPU)",
        "pipeline_args": list(PIPELINE_ARGS), "paradigm": str(cfg.model.paradigm),
        "apex_input": str(cfg.model.apex_input),
        "image_size": int(cfg.data.image_size), "protocol": f"{cfg.protocol.name} ({cfg.protocol.n_folds} "
        "subject-disjoint folds)", "max_epochs": int(cfg.trainer.max_epochs),
        "epochs": epochs, "experiments": summaries,
        "both_experiments_wall_seconds": spread(both), "both_experiments_cpu_seconds": spread(both_cpu),
        "onset_clip": None if onset_run is None else
        {"experiment": ONSET_CLIP, "run": {k: v for k, v in onset_run.items() if k != "metrics"},
         "scores": scores(onset_run["metrics"])},
        "landmark_probe": landmark_probe(truth) if truth.is_file() else "no ground_truth.json",
        "cpu_count": os.cpu_count(), "machine": platform.platform(), "torch": torch.__version__,
        "note": "shared machine: wall time depends on the load (load_average_1min_at_start per run); "
                "CPU time is the process's user + system time",
    }
    with_hsic, without_hsic = (summaries[e]["seed_spread"] for e in (WITH_HSIC, WITHOUT_HSIC))
    result["figures"] = {
        "epoch_seconds_2_threads": {"value": epochs[0]["epoch_seconds"], "unit": "s"},
        "epoch_seconds_1_thread": {"value": epochs[1]["epoch_seconds"], "unit": "s"},
        "parameters": {"value": epochs[0]["parameters"], "unit": ""},
        "both_experiments_wall_seconds": {"value": result["both_experiments_wall_seconds"]["mean"], "unit": "s",
                                          "target": f"<= {BUDGET_SECONDS} on an idle 2-core machine"},
        "both_experiments_cpu_seconds": {"value": result["both_experiments_cpu_seconds"]["mean"], "unit": "s"},
        "true_uf1_with_hsic": {"value": with_hsic["true_uf1"]["mean"], "unit": ""},
        "true_uf1_without_hsic": {"value": without_hsic["true_uf1"]["mean"], "unit": ""},
        "disguise_uf1_with_hsic": {"value": with_hsic["disguise_uf1"]["mean"], "unit": ""},
        "disguise_uf1_without_hsic": {"value": without_hsic["disguise_uf1"]["mean"], "unit": ""},
    }
    write_json(RESULTS, result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-onset-clip", action="store_true", help="skip the onset-clip paradigm run")
    args = parser.parse_args()
    print(json.dumps(main(args.seeds, not args.no_onset_clip), indent=2))
