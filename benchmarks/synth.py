"""Benchmark of the micro-expression stand-ins: generation time, size on disk, data check, difficulty.

For each stand-in at its default size: wall and CPU time of `affect synth` (per clip and per frame), bytes on
disk, the `affect data check` summary, and two LOSO baselines that show how hard the data are:

* `flow_svm`: onset->apex DIS optical flow (OpenCV, medium preset) minus its median (global head motion), mean
  (u, v) in a 10x10 grid over the central 200 px, standardised, linear SVM (C=0.1). A deliberately simple
  motion baseline: it should be clearly above chance and far below perfect.
* `au_oracle`: the same classifier on the ground-truth AU multi-hot; its gap to 1.0 is the label overlap that no
  method can remove (classes share AUs by design).

UF1/UAR are on predictions pooled over all LOSO folds (reference/protocols.md). Usage:
`python benchmarks/synth.py [--out DIR] [--workers N] [--kinds casme2 samm ...]`; writes
benchmarks/results/synth.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from core.io import write_json
from rawdata.check import check_dataset
from rawdata.index import au_set
from rawdata.layouts import parse
from rawdata.layouts.composite import parse_sources
from rawdata.synth import generate

RESULTS = Path(__file__).parent / "results" / "synth.json"
# Class sets of the usual protocols (reference/protocols.md, datasets.md); other labels are left out.
CLASSES = {
    "casme2": ("happiness", "surprise", "disgust", "repression", "others"),
    "samm": ("anger", "contempt", "happiness", "surprise", "other"),
    "smic": ("negative", "positive", "surprise"),
    "casme3": ("disgust", "surprise", "others", "fear", "anger", "sad", "happy"),
    "mmew": ("happiness", "surprise", "disgust", "others"),
    "composite": ("negative", "positive", "surprise"),
}
AU_VOCABULARY = ("1", "2", "4", "5", "6", "7", "9", "10", "12", "14", "15", "17", "20", "23", "24", "26")


def disk_bytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def onset_apex_flow(row, grid: int = 10, region: int = 200) -> np.ndarray:
    """Mean (u, v) of onset->apex DIS flow in a grid over the central region, global median removed."""
    numbers = dict(zip(row.frame_numbers, row.frames, strict=True))
    onset = cv2.imread(str(Path(row.frame_dir) / numbers[row.onset]), cv2.IMREAD_GRAYSCALE)
    apex = cv2.imread(str(Path(row.frame_dir) / numbers[row.apex]), cv2.IMREAD_GRAYSCALE)
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(onset, apex, None)
    flow -= np.median(flow.reshape(-1, 2), axis=0)
    top = (flow.shape[0] - region) // 2
    crop = flow[top:top + region, top:top + region]
    cell = region // grid
    return crop[: cell * grid, : cell * grid].reshape(grid, cell, grid, cell, 2).mean(axis=(1, 3)).ravel()


def au_features(index) -> np.ndarray:
    return np.array([[float(a in au_set(aus)) for a in AU_VOCABULARY] for aus in index["aus"]])


def loso_scores(features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> dict:
    """UF1 and UAR of a linear SVM on predictions pooled over leave-one-subject-out folds."""
    predictions = np.empty_like(labels)
    for group in np.unique(groups):
        test = groups == group
        if len(np.unique(labels[~test])) < 2:
            predictions[test] = labels[~test][0]
            continue
        model = make_pipeline(StandardScaler(), LinearSVC(C=0.1, class_weight="balanced", max_iter=5000))
        model.fit(features[~test], labels[~test])
        predictions[test] = model.predict(features[test])
    return {"uf1": round(float(f1_score(labels, predictions, average="macro")), 4),
            "uar": round(float(balanced_accuracy_score(labels, predictions)), 4),
            "chance_uar": round(1 / len(np.unique(labels)), 4), "n_samples": int(len(labels))}


def baselines(index, classes: tuple[str, ...]) -> dict:
    index = index[index["emotion"].isin(classes)].reset_index(drop=True)
    labels = index["emotion"].to_numpy()
    groups = (index["dataset"] + "/" + index["subject"]).to_numpy()
    flow = np.array([onset_apex_flow(row) for row in index.itertuples()])
    return {"classes": list(classes), "flow_svm": loso_scores(flow, labels, groups),
            "au_oracle": loso_scores(au_features(index), labels, groups) if index["aus"].str.len().any() else None}


def bench_kind(kind: str, root: Path, workers: int) -> dict:
    start = time.perf_counter()
    summary = generate(kind, root, seed=0, workers=workers)
    wall = time.perf_counter() - start
    report = check_dataset(kind, root)
    return {
        "generate": summary,
        "wall_seconds": round(wall, 2),
        "wall_seconds_per_clip": round(wall / summary["samples"], 4),
        "disk_mb": round(disk_bytes(root) / 1e6, 1),
        "ground_truth_mb": round((root / "ground_truth.json").stat().st_size / 1e6, 1),
        "check": {k: v for k, v in report.to_dict().items() if k != "problems"}
        | {"problems": [str(p) for p in report.problems]},
    }


def baselines_at_seeds(kind: str, seeds: list[int], out: Path, workers: int) -> list[dict]:
    """The baselines of `kind` generated at other seeds (LOSO scores of ~90 clips vary between draws)."""
    runs = []
    for seed in seeds:
        root = out / f"{kind}-seed{seed}"
        generate(kind, root, seed=seed, workers=workers)
        runs.append(baselines(parse(kind, root).index, CLASSES[kind]))
        shutil.rmtree(root)
    return runs


def spread(runs: list[dict]) -> dict:
    """Mean and standard deviation of each baseline metric over runs."""
    summary = {}
    for name in ("flow_svm", "au_oracle"):
        for metric in ("uf1", "uar"):
            values = [run[name][metric] for run in runs if run[name]]
            summary[f"{name}_{metric}"] = {"mean": round(float(np.mean(values)), 4),
                                           "std": round(float(np.std(values)), 4), "values": values}
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where to write the stand-ins (default: temp)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=["casme2", "samm", "smic", "casme3"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2],
                        help="extra seeds for the CASME II difficulty spread (seed 0 is always run)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="synth-bench-"))
    results = {"workers": args.workers, "cpu_count": os.cpu_count(), "datasets": {}}
    for kind in args.kinds:
        entry = bench_kind(kind, out / kind, args.workers)
        entry["difficulty"] = baselines(parse(kind, out / kind).index, CLASSES[kind])
        results["datasets"][kind] = entry
        print(kind, json.dumps({k: v for k, v in entry.items() if k != "check"}, indent=1), flush=True)
    if {"casme2", "samm", "smic"} <= set(args.kinds):
        composite = parse_sources({k: out / k for k in ("casme2", "samm", "smic")})
        results["composite"] = {"samples": len(composite.index),
                                "classes": composite.index["emotion"].value_counts().to_dict(),
                                "difficulty": baselines(composite.index, CLASSES["composite"])}
        print("composite", json.dumps(results["composite"], indent=1), flush=True)
    if args.seeds and "casme2" in args.kinds:
        runs = [results["datasets"]["casme2"]["difficulty"]]
        runs += baselines_at_seeds("casme2", args.seeds, out, args.workers)
        results["casme2_seed_spread"] = {"seeds": [0, *args.seeds], **spread(runs)}
        print("casme2 over seeds", json.dumps(results["casme2_seed_spread"], indent=1), flush=True)
    write_json(RESULTS, results)
    if args.out is None:
        shutil.rmtree(out)
    return results


if __name__ == "__main__":
    main()
