"""Occluded micro-expression recognition (RRRN paper's setting): UF1/UAR clean vs mask / glasses / block.

For each condition a processed root is used: `clean` is the source itself when its flow / magnify / features
outputs are fresh for this code and params (their stage fingerprints match; read only, nothing is written there),
else a scratch root linking its index, faces and landmarks; each occluded condition writes an occluded copy of
faces/ (preprocessing/occlusion.py: the occluder is drawn from the first frame's landmarks and is the same on every
frame; the landmarks are the clean clip's, copied). The downstream stages the methods read (flow for STSTNet and
RRRN, magnify + features for LBP-TOP and LBP-SDG) then run on it with the params file's knobs. Each
`<method>/composite` experiment (the experiments' own defaults; `--protocol loso`: leave one subject out of the
composite, the table under ``conditions``; `--protocol lodo`: the holdout-database protocol, train on two of CASME II
/ SAMM / SMIC and test on the third, under ``holdout_database``) is trained as a child process
(``python -m experiments.cli train``) with ``data.processed_root`` pointed at that root and its results,
checkpoints and MLflow store in the scratch folder.

Runs follow a plan, in priority order (default: RRRN clean, then every method on mask, then glasses, block, then
the clean rows of the other methods; the issue's order). The results file is merged, not overwritten: a row already
there is kept (``--rerun`` trains it again). With ``--deadline HH:MM`` (UTC) no run starts after the deadline and a
run still going then is stopped: its finished folds (the runner keeps each under checkpoints/) are scored as a
partial row (``complete: false``, ``folds_done``, and the other methods' UF1 on the same folds when their
predictions are in the scratch folder), and ``--resume`` continues it later from those folds. Every row of the
default methods that the table lacks or holds in part is listed under ``not_run`` (per protocol).

Each row: UF1, UAR, folds, samples, wall and CPU seconds (the child's and its reaped fold workers'), the 1-min load
average when it started, the commit of the code. Also: the majority-class UF1 floor (UF1 of always predicting the
most frequent class is its F1 over n_classes), RRRN's parameters and FLOPs for one sample (torch.utils.flop_counter:
matmuls and convolutions, 2 FLOPs per MAC), and per condition the preprocessing seconds.

Needs data/processed/{casme2,samm,smic} with the faces and landmarks stages (`affect preprocess landmarks <d>`).
Writes benchmarks/results/occlusion.json. Run:
``.venv/bin/python benchmarks/occlusion.py [--scratch DIR] [--plan clean/rrrn mask/ststnet ...] [--deadline 23:55]
[--resume] [--rerun] [--protocol loso|lodo] [--compute-only]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import numpy as np
import pandas as pd
import torch
from timed_runs import child_cpu_seconds  # benchmarks/ is the script folder: on sys.path
from torch.utils.flop_counter import FlopCounterMode

from core import metrics as M
from core.io import write_json
from core.results import read_run_metrics

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "occlusion.json"
DATASETS = ("casme2", "samm", "smic")
CONDITIONS = ("clean", "mask", "glasses", "block")
METHODS = {"lbptop_svm": ("magnify", "features"), "ststnet": ("flow",), "rrrn": ("flow",),
           "lbp_sdg": ("magnify", "features")}
DEFAULT_METHODS = ("lbptop_svm", "ststnet", "rrrn")
TABLES = {"loso": "conditions", "lodo": "holdout_database"}


def default_plan(methods=DEFAULT_METHODS) -> list[str]:
    """The issue's priority: RRRN clean, then every method on mask, then the other occlusions, then clean rows."""
    plan = ["clean/rrrn"] if "rrrn" in methods else []
    for condition in ("mask", "glasses", "block"):
        plan += [f"{condition}/{m}" for m in methods]
    return plan + [f"clean/{m}" for m in methods if m != "rrrn"]


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


def stages_fresh(source: Path, params) -> bool:
    """Whether every stage the methods read is in `source` and was made by this code with these knobs."""
    from preprocessing.stages import STAGES, read_fingerprint, stage_fingerprint, stage_params, upstream_of

    for name in DATASETS:
        for stage in dict.fromkeys(s for stages in METHODS.values() for s in stages):
            knobs = stage_params(params, stage, name)
            folder = source / name / STAGES[stage].folder
            expected = stage_fingerprint(stage, knobs, source / name, upstream_of(stage, knobs))
            if not folder.is_dir() or read_fingerprint(folder) != expected:
                return False
    return True


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
        elif not (target / "occlude.json").is_file():  # an occluded copy of an earlier call is reused
            occlude_dataset(source / name, target, condition)
        seconds[f"{name}/occlude"] = round(time.perf_counter() - start, 1)
        for stage in dict.fromkeys(s for stages in METHODS.values() for s in stages):
            summary = run_stage(stage, name, params, root, progress=False)
            seconds[f"{name}/{stage}"] = summary["seconds"]
    return seconds


def data_identity(root: Path) -> str:
    """Hash of the composite's index files: which clips (and labels) a row was scored on."""
    digest = hashlib.sha256()
    for name in DATASETS:
        digest.update((root / name / "index.csv").read_bytes())
    return digest.hexdigest()[:16]


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    return done.stdout.strip() + ("+dirty" if dirty else "")


def train_run(method: str, root: Path, scratch: Path, protocol: str, condition: str, deadline: float | None,
              resume: bool, overrides: tuple[str, ...] = ()) -> dict:
    """`<method>/composite` on `root` in a child process; stopped at `deadline` (time.time()), then scored on its
    finished folds."""
    results = scratch / "results" / protocol / condition
    checkpoints = scratch / "checkpoints" / protocol / condition
    command = [sys.executable, "-m", "experiments.cli", "train", f"{method}/composite", f"data.processed_root={root}",
               f"output.results_root={results}", f"output.checkpoints_root={checkpoints}",
               f"protocol.name={protocol}", *overrides, *(["--resume"] if resume else [])]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    load = os.getloadavg()[0]
    cpu, start = child_cpu_seconds(), time.perf_counter()
    child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)  # its own process group: the fold workers stop with it
    stopped = False
    try:
        _, stderr = child.communicate(timeout=None if deadline is None else max(deadline - time.time(), 1.0))
    except subprocess.TimeoutExpired:
        stopped = True
        os.killpg(child.pid, signal.SIGTERM)
        try:
            _, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            _, stderr = child.communicate()
    row = {"wall_seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(child_cpu_seconds() - cpu, 1),
           "load_average_1min_at_start": round(load, 2), "commit": git_commit(), "protocol": protocol,
           **({"overrides": list(overrides)} if overrides else {}),
           "predictions": str(results / method / "composite" / "predictions.csv")}
    if stopped:
        row.update(partial_scores(checkpoints / method / "composite" / "folds", method))
        row["note"] = ("stopped at the deadline: scored on its finished folds (--resume continues it); cpu_seconds "
                       "miss its killed fold workers")
        return row
    if child.returncode:
        row.update({"complete": False, "error": stderr[-1500:]})
        return row
    metrics = read_run_metrics(results / method / "composite")
    row.update({"complete": True, "uf1": round(metrics["uf1"], 4), "uar": round(metrics["uar"], 4),
                "n_folds": metrics["n_folds"], "folds_done": metrics["n_folds"], "n_samples": metrics["n_samples"],
                "majority_uf1": round(metrics["majority_uf1"], 4), "fold_workers": metrics.get("fold_workers"),
                "mean_fold_seconds": round(float(np.mean(list(metrics["fold_seconds"].values()) or [0.0])), 1)})
    return row


def partial_scores(fold_dir: Path, method: str) -> dict:
    """UF1 / UAR pooled over the folds a stopped run finished (never comparable with a whole run's numbers)."""
    from experiments.config import load_experiment

    tables = sorted(fold_dir.glob("[0-9][0-9][0-9].csv")) if fold_dir.is_dir() else []
    out = {"complete": False, "folds_done": len(tables)}
    if not tables:
        return out
    pooled = pd.concat([pd.read_csv(t, dtype={"subject": str}) for t in tables], ignore_index=True)
    classes = list(load_experiment(f"{method}/composite", profile="default").data.classes)
    report = M.classification_report(pooled["y_true"], pooled["y_pred"], classes)
    out.update({"partial_uf1": round(report["uf1"], 4), "partial_uar": round(report["uar"], 4),
                "n_samples": report["n_samples"], "folds": sorted(pooled["fold"].unique().tolist())})
    return out


def same_folds(table: dict, condition: str, method: str, classes: list[str]) -> dict:
    """Every other method's UF1 of `condition` on the folds that `method`'s partial row finished."""
    folds = set(table[condition][method].get("folds", []))
    out = {}
    for other, row in table[condition].items():
        if other not in METHODS or other == method or not row.get("complete") or not row.get("predictions"):
            continue
        path = Path(row["predictions"])
        if not path.is_file():
            continue
        pooled = pd.read_csv(path, dtype={"subject": str})
        part = pooled[pooled["fold"].isin(folds)]
        if len(part):
            out[other] = round(M.uf1(part["y_true"], part["y_pred"], len(classes)), 4)
    return out


def majority_uf1(root: Path) -> float:
    """UF1 of always predicting the composite's most frequent class: 2p/(1+p) / n_classes with p its share."""
    from experiments.config import load_experiment

    cfg = load_experiment("rrrn/composite", profile="default")
    labels = []
    for name in DATASETS:
        index = pd.read_csv(root / name / "index.csv")
        mapping = dict(cfg.data.label_map.get(name, {}))
        labels += [mapping[e] for e in index["emotion"].str.lower() if e in mapping]
    _, counts = np.unique(labels, return_counts=True)
    p = counts.max() / counts.sum()
    return round(float(2 * p / (1 + p) / len(cfg.data.classes)), 4)


def done(table: dict, item: str) -> bool:
    """Whether the row `condition/method` is in the table and complete (rows of earlier versions say nothing)."""
    condition, method = item.split("/")
    row = table.get(condition, {}).get(method)
    return bool(row) and row.get("complete", True) and "error" not in row


def parse_deadline(text: str | None) -> float | None:
    """`HH:MM` (UTC, today; tomorrow if already past) or an ISO time -> a time.time() value."""
    if not text:
        return None
    now = dt.datetime.now(dt.UTC)
    if len(text) <= 5:
        hour, minute = (int(v) for v in text.split(":"))
        moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if moment < now - dt.timedelta(hours=12):
            moment += dt.timedelta(days=1)
    else:
        moment = dt.datetime.fromisoformat(text)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def main(scratch: Path, plan: list[str], compute_only: bool = False, source: Path | None = None,
         params_file: Path | None = None, protocol: str = "loso", deadline: float | None = None,
         resume: bool = False, rerun: bool = False, out_path: Path = RESULTS, overrides: tuple[str, ...] = ()) -> dict:
    from core.config import load_params, project_root
    from experiments.config import load_experiment

    results = json.loads(out_path.read_text()) if out_path.is_file() else {}
    results["rrrn_compute"] = rrrn_compute()
    results["machine"] = {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                          "load_average_1min": round(os.getloadavg()[0], 2)}
    if compute_only:
        write_json(out_path, results)
        return results
    source = (source or project_root() / "data" / "processed").resolve()
    params = load_params(params_file or project_root() / "params.yaml")
    identity = data_identity(source)
    results.update({"source": str(source), "data_identity": identity, "majority_uf1": majority_uf1(source)})
    table = results.setdefault(TABLES[protocol], {})
    classes = list(load_experiment("rrrn/composite", profile="default").data.classes)
    roots: dict[str, Path] = {}
    for item in plan:
        condition, method = item.split("/")
        if done(table, item) and not rerun:
            continue  # already in the table (an earlier call of this script)
        if deadline is not None and time.time() > deadline - 30:
            continue
        if condition not in roots:
            if condition == "clean" and stages_fresh(source, params):
                roots[condition] = source  # read only: the runner reads it, nothing is written there
                table.setdefault(condition, {})["preprocess_seconds"] = "none: the source's stage outputs are fresh"
            else:
                roots[condition] = scratch / "roots" / condition
                seconds = build_root(source, roots[condition], condition, params)
                table.setdefault(condition, {})["preprocess_seconds"] = seconds
        row = train_run(method, roots[condition], scratch, protocol, condition, deadline, resume, overrides)
        row["data_identity"] = identity
        table.setdefault(condition, {})[method] = row
        if not row.get("complete") and row.get("folds"):
            row["same_folds_uf1"] = same_folds(table, condition, method, classes)
        results.setdefault("not_run", {})[TABLES[protocol]] = missing(table)
        write_json(out_path, results)
    results.setdefault("not_run", {})[TABLES[protocol]] = missing(table)
    write_json(out_path, results)
    return results


def missing(table: dict) -> list[str]:
    """Every condition/method row of the default methods that the table lacks or holds only in part."""
    rows = []
    for condition in CONDITIONS:
        for method in DEFAULT_METHODS:
            row = table.get(condition, {}).get(method)
            if not done(table, f"{condition}/{method}"):
                partial = row and row.get("folds_done") and "error" not in row
                rows.append(f"{condition}/{method}" + (f" (partial: {row['folds_done']} folds)" if partial else ""))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/occl"))
    parser.add_argument("--plan", nargs="+", default=None, help="condition/method rows in the order to run "
                        f"(default: {' '.join(default_plan())})")
    parser.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=CONDITIONS,
                        help="keep only these conditions of the plan")
    parser.add_argument("--methods", nargs="+", default=None, choices=sorted(METHODS),
                        help=f"methods of the default plan (default: {' '.join(DEFAULT_METHODS)})")
    parser.add_argument("--protocol", default="loso", choices=sorted(TABLES))
    parser.add_argument("--deadline", default=None, help="HH:MM (UTC) or ISO time: no run starts after it and a "
                        "running one is stopped and scored on its finished folds")
    parser.add_argument("--resume", action="store_true", help="continue stopped runs from their finished folds")
    parser.add_argument("--rerun", action="store_true", help="train rows that are already in the results file")
    parser.add_argument("--source", type=Path, default=None, help="processed root of the clean datasets "
                        "(default: data/processed)")
    parser.add_argument("--params", type=Path, default=None, help="params file (default: params.yaml)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--compute-only", action="store_true", help="only RRRN's parameters and FLOPs")
    parser.add_argument("overrides", nargs="*", help="config overrides of every run (smoke tests only, e.g. "
                        "trainer.max_epochs=1; each row records them)")
    args = parser.parse_args()
    rows = args.plan or default_plan(tuple(args.methods or DEFAULT_METHODS))
    for row in rows:
        condition, _, method = row.partition("/")
        if condition not in CONDITIONS or method not in METHODS:
            parser.error(f"--plan row {row!r}: expected <{'|'.join(CONDITIONS)}>/<{'|'.join(METHODS)}>")
    rows = [r for r in rows if r.split("/")[0] in args.conditions]
    torch.set_num_threads(1)
    print(json.dumps(main(args.scratch, rows, args.compute_only, args.source, args.params, args.protocol,
                          parse_deadline(args.deadline), args.resume, args.rerun, args.out, tuple(args.overrides)),
                     indent=1))
