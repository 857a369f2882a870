"""Occluded micro-expression recognition (RRRN paper's setting): UF1/UAR clean vs mask / glasses / block; and, with
``--study lowres``, the low-resolution study of every MER method: UF1/UAR clean vs faces degraded by a factor
(2 / 4 / 8: 64 / 32 / 16 px) and restored by bicubic, Lanczos, SRCNN or ESPCN (conditions ``x<factor>-<method>``;
preprocessing/low_resolution.py builds each copy, learned networks trained here with a subject cross-fit; results in
benchmarks/results/low_resolution_methods.json). Everything below about occluded copies holds for restored ones.

Methods: every micro-expression method of the suite with a `<method>/composite` experiment (METHODS, cheapest
first, each with the preprocessing stages it reads besides the faces; EXCLUDED names the other composite
experiments, ablations of these, and why). For each condition a processed root is used: `clean` is the source itself
when its landmarks / magnify / flow / features outputs are fresh for this code and params (their stage
fingerprints match; read only, nothing is written there), else a scratch root linking its index, faces and
landmarks; each occluded condition writes an occluded copy of faces/ (preprocessing/occlusion.py: the occluder is
placed from the clean first frame's landmarks and is the same on every frame). Its landmarks are re-detected on the
occluded frames (`--landmarks detect`, the default: the `landmarks` stage runs on the copy) or copied from the clean
clips (`--landmarks copy`, the earlier setting, which shows RRRN, GEO-Graph and DeRE-GRL the points under the
occluder). The downstream stages the methods read (flow for STSTNet, RRRN and MPT, magnify + features for LBP-TOP
and LBP-SDG) then run on it with the params file's knobs. Each row records `landmarks` (`clean`, or the mode of its
root read from the landmark folders' fingerprints: `redetected` / `copied`) and `reads_landmarks` (whether the
method reads them at all: a method that does not scores the same in both modes). Rows of copied landmarks go to
their own tables (``<table>_copied_landmarks``; a results file of an earlier version, whose rows carry no
`landmarks`, is moved there on load), never mixed with re-detected ones; a clean row does not depend on the mode and
is reused from the copied table when the re-detected table lacks it (`reused_from`). Each
`<method>/composite` experiment (the experiments' own defaults; `--protocol loso`: leave one subject out of the
composite, the table under ``conditions``; `--protocol lodo`: the holdout-database protocol, train on two of CASME II
/ SAMM / SMIC and test on the third, under ``holdout_database``) is trained as a child process
(``python -m experiments.cli train``) with ``data.processed_root`` pointed at that root and its results,
checkpoints and MLflow store in the scratch folder.

Runs follow a plan, in priority order (default: method by method, cheapest first, each clean, mask, glasses,
block: a deadline leaves whole methods measured). The results file is merged, not overwritten: a row already
there is kept (``--rerun`` trains it again). With ``--deadline HH:MM`` (UTC) no run starts after the deadline and a
run still going then is stopped: its finished folds (the runner keeps each under checkpoints/) are scored as a
partial row (``complete: false``, ``folds_done``, and the other methods' UF1 on the same folds when their
predictions are in the scratch folder), and ``--resume`` continues it later from those folds (with the same
``--out``, the row's CPU and wall seconds add up every call's, each call's kept under ``<key>_parts``). Every row
of the methods that the table lacks or holds in part is listed under ``not_run`` (per table). Repeated seeds run as
concurrent calls (``seed=N`` among the overrides, each call with its own ``--out``) are folded into one file per
seed with ``--merge FILE ... --out benchmarks/results/occlusion_seed<N>.json``, which the report reads. A method
whose missing rows of one table are left unrun on purpose gets its reason with ``--not-run-reason METHOD TEXT``
(``--protocol`` / ``--landmarks`` pick the table; kept under ``not_run_reasons``, printed under the report's table,
dropped once the method's rows are all in).

Each row: UF1, UAR, folds, samples, wall and CPU seconds (the child's and its reaped fold workers'), the 1-min load
average when it started, the commit of the code. Also: the majority-class UF1 floor (UF1 of always predicting the
most frequent class is its F1 over n_classes), RRRN's parameters and FLOPs for one sample (torch.utils.flop_counter:
matmuls and convolutions, 2 FLOPs per MAC), and per condition the preprocessing seconds.

Needs data/processed/{casme2,samm,smic} with the faces and landmarks stages (`affect preprocess landmarks <d>`).
Writes benchmarks/results/occlusion.json. Run:
``.venv/bin/python benchmarks/occlusion.py [--scratch DIR] [--plan clean/rrrn mask/ststnet ...] [--deadline 23:55]
[--resume] [--rerun] [--protocol loso|lodo] [--landmarks detect|copy] [--jobs N] [--compute-only]
[trainer.fold_workers=1 trainer.num_threads=1]`` (overrides go to every run and are recorded in its row).
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
from core.provenance import git_commit
from core.results import read_run_metrics
from preprocessing.derived_copy import LANDMARK_MODES
from reports.occlusion import row_seed  # the seed a row ran with, as the report counts it
from reports.results import read_json

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "occlusion.json"
DATASETS = ("casme2", "samm", "smic")
CONDITIONS = ("clean", "mask", "glasses", "block")
# the low-resolution study (`--study lowres`): the faces degraded by a factor and restored by a super-resolution
# method (preprocessing/low_resolution.py), condition `x<factor>-<method>`; same harness, its own results file
LOWRES_FACTORS = (2, 4, 8)
LOWRES_SR = ("bicubic", "lanczos", "srcnn", "espcn")
LOWRES_CONDITIONS = ("clean", *(f"x{f}-{sr}" for sr in LOWRES_SR for f in LOWRES_FACTORS))
STUDIES = {"occlusion": (CONDITIONS, RESULTS),
           "lowres": (LOWRES_CONDITIONS, REPO / "benchmarks" / "results" / "low_resolution_methods.json")}
# method -> the preprocessing stages it reads besides faces/ (its MethodSpec inputs through the datamodule's
# INPUT_STAGES, with features' upstream magnify); cheapest first (CPU seconds of a holdout-database run)
METHODS = {
    "lbptop_svm": ("magnify", "features"),
    "lbp_sdg": ("magnify", "features"),
    "ststnet": ("flow",),
    "geograph": ("landmarks",),
    "dere_grl": ("landmarks",),
    "ltr3o": (),  # frames: the faces stage's clip itself
    "sma_stn": ("magnify",),  # frames of the magnify stage (sma_stn.yaml data.frames_from)
    "rrrn": ("flow", "landmarks"),
    "mpt": ("flow",),  # image28 + the apex frame of faces/
}
DEFAULT_METHODS = tuple(METHODS)
# the other `<name>/composite` experiments: not methods of their own
EXCLUDED = {
    **{f"lbp_sdg-{d}": "ablation of lbp_sdg (one fixed SDG direction instead of the one chosen on inner validation)"
       for d in ("all", "horizontal", "oblique", "temporal", "vertical")},
    "geograph-no_au_loss": "ablation of geograph (no AU loss)",
    "geograph-no_semantic_adj": "ablation of geograph (no semantic adjacency)",
    "dere_grl-no_rrm": "ablation of dere_grl (no relation reasoning module)",
    "rrrn-lodo": "rrrn/composite under protocol lodo: the run `--protocol lodo` makes of rrrn",
}
# what occlusion reaches of a method's inputs, where it is not plain (every method reads the occluded faces/ or a
# stage computed from them; none needs an input the occluder cannot reach, and all run under both protocols)
REACH = {
    "geograph": "landmarks (re-detected on the occluded frames); its AU loss also reads the clips' AU annotations, "
                "labels that no occluder touches",
    "dere_grl": "landmarks (re-detected on the occluded frames)",
    "rrrn": "flow of the occluded frames; its 12 regions are placed at the (re-detected) landmarks",
    "mpt": "the flow stage's motion image of the occluded frames; the apex frame only with a checkpoint "
           "(model.use_frame null; the suite has none, so the ViT is randomly initialised and reads motion only)",
    "ltr3o": "the occluded clip itself (faces/)",
    "sma_stn": "the Euler-magnified occluded clip (the magnify stage run on the occluded faces/)",
}
UNSUPPORTED: dict[str, str] = {}  # method -> why it cannot be scored here (none at present)
TABLES = {"loso": "conditions", "lodo": "holdout_database"}
COPIED = "_copied_landmarks"  # table-key suffix of rows whose occluded clips carry the clean clips' landmarks


def table_key(protocol: str, landmarks: str = "detect") -> str:
    """The results table of a protocol and landmark mode: re-detected and copied landmarks never share one."""
    return TABLES[protocol] + ("" if landmarks == "detect" else COPIED)


def default_plan(methods=DEFAULT_METHODS, conditions=CONDITIONS) -> list[str]:
    """Method by method in METHODS' order (cheapest first), each under every condition (clean first)."""
    return [f"{condition}/{m}" for m in methods for condition in conditions]


def parse_lowres(condition: str) -> tuple[int, str] | None:
    """`x<factor>-<sr method>` -> (factor, method); None for any other condition."""
    head, _, sr = condition.partition("-")
    if head.startswith("x") and head[1:].isdigit() and sr:
        return int(head[1:]), sr
    return None


def label_legacy(results: dict) -> dict:
    """Move the tables of an earlier version (rows without `landmarks`: measured with the clean clips' landmarks
    copied into the occluded copies) to their `_copied_landmarks` keys, each row labelled. Returns `results`."""
    for key in TABLES.values():
        table = results.get(key)
        rows = [(c, m, r) for c, t in (table or {}).items() for m, r in t.items() if m in METHODS]
        if not rows or all("landmarks" in r for _, _, r in rows):
            continue
        if key + COPIED in results:
            raise ValueError(f"{key} holds unlabelled rows and {key + COPIED} exists: cannot move them")
        for condition, _, row in rows:
            row.setdefault("landmarks", "clean" if condition == "clean" else "copied")
        results[key + COPIED] = results.pop(key)
        not_run = results.get("not_run", {})
        if key in not_run:
            not_run[key + COPIED] = not_run.pop(key)
    return results


def reuse_clean(table: dict, copied: dict, method: str, identity: str) -> bool:
    """Copy `method`'s clean row of the copied-landmarks table into `table` (a clean row does not depend on the
    landmark mode) when it is complete and was scored on the same data. Returns whether it did."""
    row = copied.get("clean", {}).get(method)
    if not done(copied, f"clean/{method}") or row.get("data_identity") != identity:
        return False
    table.setdefault("clean", {})[method] = {**row, "landmarks": "clean", "reads_landmarks": "landmarks" in
                                             METHODS[method], "reused_from": "clean rows do not depend on the "
                                             "landmark mode: this row was measured for the copied table"}
    return True


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
        for stage in method_stages():
            knobs = stage_params(params, stage, name)
            folder = source / name / STAGES[stage].folder
            expected = stage_fingerprint(stage, knobs, source / name, upstream_of(stage, knobs))
            if not folder.is_dir() or read_fingerprint(folder) != expected:
                return False
    return True


def method_stages() -> list[str]:
    """Every stage some method reads, in the pipeline's order."""
    from preprocessing.stages import ORDER

    return [s for s in ORDER if any(s in stages for stages in METHODS.values())]


def build_root(source: Path, root: Path, condition: str, params, landmarks: str = "detect",
               jobs: int | None = None) -> dict:
    """A processed root for `condition`: clean links the sources' faces/landmarks, the others occlude them and
    re-detect (`landmarks="detect"`) or copy their landmarks; then the downstream stages of every method run on it.
    Returns the seconds spent per step (`<dataset>/occlude` or `/degrade` includes the landmark re-detection of a
    new copy)."""
    from preprocessing.derived_copy import copy_landmarks
    from preprocessing.low_resolution import degrade_dataset
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
        elif not (target / "occlude.json").is_file() and not (target / "degrade.json").is_file():
            if (lowres := parse_lowres(condition)) is not None:
                degrade_dataset(source / name, target, lowres[0], lowres[1], landmarks=landmarks, params=params,
                                jobs=jobs)
            else:
                occlude_dataset(source / name, target, condition, landmarks=landmarks, params=params, jobs=jobs)
        elif landmarks == "copy":  # an occluded copy of an earlier call is reused; its landmarks follow the mode
            copy_landmarks(source / name, target)
        seconds[f"{name}/{'degrade' if parse_lowres(condition) else 'occlude'}"] = round(time.perf_counter() - start, 1)
        for stage in method_stages():
            if stage == "landmarks" and (condition == "clean" or landmarks == "copy"):
                continue  # linked or copied: never written here (a clean root's folder is the source's)
            summary = run_stage(stage, name, params, root, jobs=jobs, progress=False)
            seconds[f"{name}/{stage}"] = summary["seconds"]
    return seconds


def root_landmarks(source: Path, root: Path, condition: str) -> str:
    """`clean`, or how the occluded root's landmarks were made (derived_copy.landmark_mode, the same for every
    dataset, else each dataset's)."""
    from preprocessing.derived_copy import landmark_mode

    if condition == "clean":
        return "clean"
    modes = {name: landmark_mode(source / name, root / name) for name in DATASETS}
    return next(iter(modes.values())) if len(set(modes.values())) == 1 else json.dumps(modes)


def standin(root: Path) -> bool:
    """Whether every clip of the composite comes from a synthetic stand-in (the index's `standin` column)."""
    return all(bool(pd.read_csv(root / name / "index.csv")["standin"].all()) for name in DATASETS)


def data_identity(root: Path) -> str:
    """Hash of the composite's index files: which clips (and labels) a row was scored on."""
    digest = hashlib.sha256()
    for name in DATASETS:
        digest.update((root / name / "index.csv").read_bytes())
    return digest.hexdigest()[:16]


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
           "load_average_1min_at_start": round(load, 2), "protocol": protocol,
           "commit": git_commit(REPO, exclude=("benchmarks/results",)),  # its own output does not count as dirty
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


def add_earlier_parts(row: dict, earlier: dict | None) -> dict:
    """A resumed call times only itself. When the cell held a deadline-stopped row of an earlier call (the same
    ``--out``), its CPU and wall seconds are added: each call's figure stays in ``<key>_parts``, the key holds their
    sum (fold workers killed at a stop are in no part)."""
    if not earlier or earlier.get("complete", True) or "error" in earlier or "cpu_seconds" not in earlier:
        return row
    for key in ("cpu_seconds", "wall_seconds"):
        parts = [*earlier.get(f"{key}_parts", [earlier[key]]), row[key]]
        row.update({f"{key}_parts": parts, key: round(sum(parts), 1)})
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


def method_table() -> dict:
    """Per method: the batch keys it reads (its MethodSpec), the stages the benchmark builds for it and whether it
    reads landmarks; plus the excluded composite experiments."""
    from experiments import registry

    out = {m: {"inputs": list(registry.method(m).inputs), "stages": ["faces", *stages],
               "reads_landmarks": "landmarks" in stages, **({"occlusion_reaches": REACH[m]} if m in REACH else {})}
           for m, stages in METHODS.items()}
    return {"benchmarked_methods": out, "excluded_experiments": EXCLUDED, "unsupported_methods": UNSUPPORTED}


def main(scratch: Path, plan: list[str], compute_only: bool = False, source: Path | None = None,
         params_file: Path | None = None, protocol: str = "loso", deadline: float | None = None,
         resume: bool = False, rerun: bool = False, out_path: Path = RESULTS, overrides: tuple[str, ...] = (),
         landmarks: str = "detect", jobs: int | None = None, conditions: tuple[str, ...] = CONDITIONS) -> dict:
    from core.config import load_params, project_root
    from experiments.config import load_experiment

    results = label_legacy(json.loads(out_path.read_text()) if out_path.is_file() else {})
    results.update(method_table())
    results["rrrn_compute"] = rrrn_compute()
    results["machine"] = {"python": platform.python_version(), "torch": torch.__version__, "cpus": os.cpu_count(),
                          "load_average_1min": round(os.getloadavg()[0], 2)}
    if compute_only:
        write_json(out_path, results)
        return results
    source = (source or project_root() / "data" / "processed").resolve()
    params = load_params(params_file or project_root() / "params.yaml")
    identity = data_identity(source)
    results.update({"source": str(source), "data_identity": identity, "majority_uf1": majority_uf1(source),
                    "crop_size": int(params.preprocess.crop_size), "stand_in": standin(source)})
    key = table_key(protocol, landmarks)
    table = results.setdefault(key, {})
    copied = results.get(table_key(protocol, "copy"), {}) if landmarks == "detect" else {}
    classes = list(load_experiment("rrrn/composite", profile="default").data.classes)
    roots: dict[str, Path] = {}
    runs = scratch if landmarks == "detect" else scratch / "copied_landmarks"  # results of the modes kept apart
    for item in plan:
        condition, method = item.split("/")
        if done(table, item) and not rerun:
            continue  # already in the table (an earlier call of this script)
        if condition == "clean" and not rerun and reuse_clean(table, copied, method, identity):
            write_json(out_path, results)
            continue
        if deadline is not None and time.time() > deadline - 30:
            continue
        if condition not in roots:
            if condition == "clean" and stages_fresh(source, params):
                roots[condition] = source  # read only: the runner reads it, nothing is written there
                table.setdefault(condition, {})["preprocess_seconds"] = "none: the source's stage outputs are fresh"
            else:
                roots[condition] = scratch / "roots" / condition
                seconds = build_root(source, roots[condition], condition, params, landmarks, jobs)
                table.setdefault(condition, {})["preprocess_seconds"] = seconds
        earlier = table.get(condition, {}).get(method) if resume else None
        row = train_run(method, roots[condition], runs, protocol, condition, deadline, resume, overrides)
        add_earlier_parts(row, earlier)
        row.update({"data_identity": identity, "landmarks": root_landmarks(source, roots[condition], condition),
                    "reads_landmarks": "landmarks" in METHODS[method]})
        table.setdefault(condition, {})[method] = row
        if not row.get("complete") and row.get("folds"):
            row["same_folds_uf1"] = same_folds(table, condition, method, classes)
        recount(results, key, conditions)
        write_json(out_path, results)
    recount(results, key, conditions)
    write_json(out_path, results)
    return results


def merge(files: list[Path], into: Path, conditions: tuple[str, ...] = CONDITIONS) -> dict:
    """Fold the rows of other results files of this script (concurrent calls, each with its own ``--out``) into
    ``into``, table by table and cell by cell. One results file holds one seed on one data set: a row of another
    seed or another ``data_identity`` than the rows already there is refused (rows recorded before rows carried a
    ``data_identity`` are not counted), and so is a cell that two files hold with different rows (an error naming
    both, never a silent overwrite). ``not_run`` is recomputed."""
    def read(path: Path) -> dict:
        data, problem = read_json(path)
        if data is None:
            raise SystemExit(f"{path}: not a results file of benchmarks/occlusion.py ({problem})")
        return data

    def rows(path: Path, data: dict):
        for key in (k for k in data if k.removesuffix(COPIED) in TABLES.values()):
            if not isinstance(data[key], dict):
                raise SystemExit(f"{path}: {key} is not a table (condition -> method -> row)")
            for condition, cells in data[key].items():
                for method, row in (cells or {}).items():
                    if method in METHODS:
                        if not isinstance(row, dict):
                            raise SystemExit(f"{path}: {key}/{condition}/{method} is not a row")
                        yield key, condition, method, row

    result = read(into) if into.is_file() else {}
    origin, seeds, identities = {}, set(), set()
    for path, data in ((into, result), *((f, read(f)) for f in files)):
        for key, condition, method, row in list(rows(path, data)):
            seeds.add(row_seed(row))
            if row.get("data_identity") is not None:  # rows recorded before rows carried one cannot be checked
                identities.add(row["data_identity"])
            if len(seeds) > 1 or len(identities) > 1:
                what = "seeds" if len(seeds) > 1 else "data identities"
                raise SystemExit(f"{path}: {key}/{condition}/{method} mixes {what} with the rows already read "
                                 f"({sorted(map(str, seeds if len(seeds) > 1 else identities))}): one results file "
                                 "holds one seed on one data set")
            cell = result.setdefault(key, {}).setdefault(condition, {})
            if path != into and method in cell and cell[method] != row:
                raise SystemExit(f"{path}: {key}/{condition}/{method} differs from the row already read from "
                                 f"{origin.get((key, condition, method), into)}; remove one of them")
            cell[method] = row
            origin[(key, condition, method)] = str(path)
        if path != into:
            result |= {k: v for k, v in data.items() if k not in result}
    for key in [k for k in result if k.removesuffix(COPIED) in TABLES.values()]:
        recount(result, key, conditions)
    write_json(into, result)
    return result


def recount(results: dict, key: str, conditions: tuple[str, ...] = CONDITIONS) -> None:
    """Recompute the rows table `key` misses (``not_run``) and drop the not-run reasons of methods it no longer
    misses (their rows have since run)."""
    results.setdefault("not_run", {})[key] = missing(results.get(key, {}), conditions)
    reasons = results.get("not_run_reasons", {}).get(key)
    if reasons:
        missed = missed_methods(results["not_run"][key])
        results["not_run_reasons"][key] = {m: why for m, why in reasons.items() if m in missed}


def missed_methods(not_run: list[str]) -> set[str]:
    """The methods of ``not_run`` entries (``condition/method``, or with `` (partial: N folds)`` after it)."""
    return {entry.split(" ")[0].partition("/")[2] for entry in not_run}


def set_not_run_reason(out_path: Path, key: str, method: str, reason: str,
                       conditions: tuple[str, ...] = CONDITIONS) -> dict:
    """Record why `method`'s missing rows of table `key` are left unrun on purpose (``not_run_reasons``: table ->
    method -> reason). Refused for an unknown method, an empty reason, or a method the table misses nothing of."""
    if method not in METHODS:
        raise SystemExit(f"--not-run-reason: unknown method {method!r} (expected one of {', '.join(METHODS)})")
    if not reason.strip():
        raise SystemExit("--not-run-reason: the reason is empty (say why the rows are not run)")
    results, problem = read_json(out_path) if out_path.is_file() else ({}, None)
    if results is None:
        raise SystemExit(f"{out_path}: not a results file of benchmarks/occlusion.py ({problem})")
    if method not in missed_methods(missing(results.get(key, {}), conditions)):
        raise SystemExit(f"{out_path}: {key} holds every row of {method}; there is nothing left unrun to explain")
    results.setdefault("not_run_reasons", {}).setdefault(key, {})[method] = reason.strip()
    recount(results, key, conditions)
    write_json(out_path, results)
    return results


def missing(table: dict, conditions: tuple[str, ...] = CONDITIONS) -> list[str]:
    """Every condition/method row of the methods that the table lacks or holds only in part."""
    rows = []
    for method in METHODS:
        for condition in conditions:
            row = table.get(condition, {}).get(method)
            if not done(table, f"{condition}/{method}"):
                partial = row and row.get("folds_done") and "error" not in row
                rows.append(f"{condition}/{method}" + (f" (partial: {row['folds_done']} folds)" if partial else ""))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", type=Path, default=None,
                        help="roots, runs and MLflow store (default: /tmp/occl, or /tmp/lowres for --study lowres)")
    parser.add_argument("--study", default="occlusion", choices=sorted(STUDIES),
                        help="occlusion (mask / glasses / block) or lowres (x<factor>-<sr method>: degraded faces "
                        "restored by super-resolution); each has its own results file (--out overrides it)")
    parser.add_argument("--plan", nargs="+", default=None, help="condition/method rows in the order to run "
                        f"(default: every method under every condition of the study, e.g. {default_plan()[0]})")
    parser.add_argument("--conditions", nargs="+", default=None,
                        choices=sorted(set(CONDITIONS) | set(LOWRES_CONDITIONS)),
                        help="keep only these conditions of the plan (default: the study's)")
    parser.add_argument("--methods", nargs="+", default=None, choices=sorted(METHODS),
                        help=f"methods of the default plan (default: {' '.join(DEFAULT_METHODS)})")
    parser.add_argument("--protocol", default="loso", choices=sorted(TABLES))
    parser.add_argument("--landmarks", default="detect", choices=LANDMARK_MODES, help="landmarks of the occluded "
                        "clips: re-detected on the occluded frames (default) or copied from the clean clips")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes of the preprocessing stages "
                        "(default: preprocess.n_jobs of the params file)")
    parser.add_argument("--deadline", default=None, help="HH:MM (UTC) or ISO time: no run starts after it and a "
                        "running one is stopped and scored on its finished folds")
    parser.add_argument("--resume", action="store_true", help="continue stopped runs from their finished folds")
    parser.add_argument("--rerun", action="store_true", help="train rows that are already in the results file")
    parser.add_argument("--source", type=Path, default=None, help="processed root of the clean datasets "
                        "(default: data/processed)")
    parser.add_argument("--params", type=Path, default=None, help="params file (default: params.yaml)")
    parser.add_argument("--out", type=Path, default=None, help="results file (default: the study's)")
    parser.add_argument("--compute-only", action="store_true", help="only RRRN's parameters and FLOPs")
    parser.add_argument("--merge", nargs="+", type=Path, default=[], metavar="FILE",
                        help="only fold the rows of these results files (concurrent calls of one seed, each with its "
                        "own --out) into --out (runs nothing)")
    parser.add_argument("--not-run-reason", nargs=2, metavar=("METHOD", "REASON"), default=None,
                        help="only record why METHOD's missing rows of the --protocol / --landmarks table are left "
                        "unrun on purpose (runs nothing; the report prints it under that table)")
    parser.add_argument("overrides", nargs="*", help="config overrides of every run (each row records them): "
                        "speed only (trainer.fold_workers=1 trainer.num_threads=1 on a shared machine) or smoke tests "
                        "(trainer.max_epochs=1)")
    args = parser.parse_args()
    study_conditions, study_out = STUDIES[args.study]
    if args.merge:
        merge(args.merge, args.out or study_out, study_conditions)
        raise SystemExit(0)
    if args.not_run_reason:
        set_not_run_reason(args.out or study_out, table_key(args.protocol, args.landmarks), *args.not_run_reason,
                           study_conditions)
        raise SystemExit(0)
    rows = args.plan or default_plan(tuple(args.methods or DEFAULT_METHODS), study_conditions)
    for row in rows:
        condition, _, method = row.partition("/")
        if condition not in study_conditions or method not in METHODS:
            parser.error(f"--plan row {row!r} of --study {args.study}: expected "
                         f"<{'|'.join(study_conditions)}>/<{'|'.join(METHODS)}>")
    rows = [r for r in rows if r.split("/")[0] in (args.conditions or study_conditions)]
    torch.set_num_threads(1)
    scratch = args.scratch or Path("/tmp/occl" if args.study == "occlusion" else "/tmp/lowres")
    print(json.dumps(main(scratch, rows, args.compute_only, args.source, args.params, args.protocol,
                          parse_deadline(args.deadline), args.resume, args.rerun, args.out or study_out,
                          tuple(args.overrides), args.landmarks, args.jobs, study_conditions),
                     indent=1))
