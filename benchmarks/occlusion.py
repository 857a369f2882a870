"""Occluded micro-expression recognition (RRRN paper's setting): UF1/UAR clean vs mask / glasses / block.

For each condition a processed root is made under a scratch folder: `clean` links the processed datasets
(casme2, samm, smic: index, faces, landmarks), each occluded condition writes an occluded copy of faces/
(preprocessing/occlusion.py: the occluder is drawn from the first frame's landmarks and is the same on every
frame). The downstream stages the methods read (flow for STSTNet and RRRN, magnify + features for LBP-TOP) are
then run on each root with params.yaml's knobs, and `lbptop_svm/composite`, `ststnet/composite` and
`rrrn/composite` (LOSO over the composite stand-in, the experiments' own defaults) are trained through the runner
with `data.processed_root` pointed at that root. Records UF1, UAR, the majority-class UF1 floor (UF1 of always
predicting the most frequent class is its F1 over n_classes) and wall / CPU seconds of every run, plus RRRN's
parameters and FLOPs for one sample (torch.utils.flop_counter: matmuls and convolutions, 2 FLOPs per MAC).

Needs data/processed/{casme2,samm,smic} with the faces and landmarks stages (`affect preprocess landmarks <d>`).
Writes benchmarks/results/occlusion.json. Run:
``.venv/bin/python benchmarks/occlusion.py [--scratch /tmp/occl] [--conditions clean mask ...] [--compute-only]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import numpy as np
import torch
from timed_runs import process_cpu_seconds  # benchmarks/ is the script folder: on sys.path
from torch.utils.flop_counter import FlopCounterMode

from core.io import write_json

RESULTS = Path(__file__).resolve().parent / "results" / "occlusion.json"
DATASETS = ("casme2", "samm", "smic")
CONDITIONS = ("clean", "mask", "glasses", "block")
METHODS = {"lbptop_svm": ("magnify", "features"), "ststnet": ("flow",), "rrrn": ("flow",)}


def rrrn_compute(dataset: str = "composite") -> dict:
    """RRRN's parameters and FLOPs of one sample at the default crop size (128) with its default config."""
    from datamodules.micro_expression import DataInfo
    from experiments import registry
    from experiments.config import load_experiment

    cfg = load_experiment(f"rrrn/{dataset}", profile="default")
    classes = list(cfg.data.classes)
    info = DataInfo(n_classes=len(classes), class_names=classes, n_train=10 * len(classes))
    net = registry.method("rrrn").load()(cfg, info).net.eval()
    t = torch.linspace(0, 1, 68)
    landmarks = torch.stack([24 + 80 * t, 24 + 80 * ((t * 7) % 1)], -1)[None]
    landmarks[0, 0], landmarks[0, 16] = torch.tensor([20.0, 60.0]), torch.tensor([108.0, 60.0])
    flow = torch.randn(1, 128, 128, 2)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(flow, landmarks)
    return {"parameters": sum(p.numel() for p in net.parameters()), "flops_per_sample": int(counter.get_total_flops()),
            "input": "flow (128, 128, 2) + landmarks (68, 2)", "n_classes": len(classes)}


def build_root(source: Path, root: Path, condition: str, params) -> dict:
    """A processed root for `condition`: clean links the sources' faces/landmarks, the others occlude them; then
    the downstream stages of every method run on it. Returns the seconds spent per step."""
    from preprocessing.occlusion import occlude_dataset
    from preprocessing.stages import run_stage

    seconds = {}
    for name in DATASETS:
        target = root / name
        start = time.perf_counter()
        if condition == "clean":
            target.mkdir(parents=True, exist_ok=True)
            for part in ("index.csv", "faces", "landmarks", "faces.json", "landmarks.json"):
                link = target / part
                if (source / name / part).exists() and not link.exists():
                    link.symlink_to((source / name / part).resolve())
        else:
            occlude_dataset(source / name, target, condition)
        seconds[f"{name}/occlude"] = round(time.perf_counter() - start, 1)
        for stage in dict.fromkeys(s for stages in METHODS.values() for s in stages):
            summary = run_stage(stage, name, params, root, progress=False)
            seconds[f"{name}/{stage}"] = summary["seconds"]
    return seconds


def train_run(method: str, root: Path) -> dict:
    from experiments.runner import train

    start, cpu_start = time.perf_counter(), process_cpu_seconds()
    metrics = train(f"{method}/composite", overrides=[f"data.processed_root={root}"])
    cpu = process_cpu_seconds() - cpu_start
    return {"uf1": round(metrics["uf1"], 4), "uar": round(metrics["uar"], 4), "n_folds": metrics["n_folds"],
            "n_samples": metrics["n_samples"], "wall_seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(cpu, 1)}


def majority_uf1(root: Path) -> float:
    """UF1 of always predicting the composite's most frequent class: 2p/(1+p) / n_classes with p its share."""
    from experiments.config import load_experiment

    cfg = load_experiment("rrrn/composite", profile="default")
    labels = []
    for name in DATASETS:
        import pandas as pd

        index = pd.read_csv(root / name / "index.csv")
        mapping = dict(cfg.data.label_map.get(name, {}))
        labels += [mapping[e] for e in index["emotion"].str.lower() if e in mapping]
    _, counts = np.unique(labels, return_counts=True)
    p = counts.max() / counts.sum()
    return round(float(2 * p / (1 + p) / len(cfg.data.classes)), 4)


def main(scratch: Path, conditions, compute_only: bool, source: Path | None = None,
         params_file: Path | None = None) -> dict:
    from core.config import load_params, project_root

    results = {"rrrn_compute": rrrn_compute(), "machine": {
        "python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2)}}
    if not compute_only:
        source = source or project_root() / "data" / "processed"
        params = load_params(params_file or project_root() / "params.yaml")
        results["source"] = str(source)
        results["majority_uf1"] = majority_uf1(source)
        table = {}
        for condition in conditions:
            root = scratch / condition
            table[condition] = {"preprocess_seconds": build_root(source, root, condition, params)}
            for method in METHODS:
                table[condition][method] = train_run(method, root)
                write_json(RESULTS, {**results, "conditions": table})
        results["conditions"] = table
    write_json(RESULTS, results)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/occl"))
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--source", type=Path, default=None, help="processed root of the clean datasets "
                        "(default: data/processed)")
    parser.add_argument("--params", type=Path, default=None, help="params file (default: params.yaml)")
    parser.add_argument("--compute-only", action="store_true", help="only RRRN's parameters and FLOPs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(main(args.scratch, args.conditions, args.compute_only, args.source, args.params))
