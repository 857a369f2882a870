"""SMA-STN and LTR3O on the composite stand-in under LOSO (``--dataset casme2|samm|smic``: one database's
experiment; ``--protocol subject_kfold``: 5 subject folds): UF1/UAR (pooled over folds) against the majority-class
floor, time per LOSO run, parameters and FLOPs per clip.

Figures (benchmarks/results/sma_stn.json): per method ``uf1``, ``uar``, ``majority_uf1``, ``margin_over_majority``
(the issue's bar: +0.15), ``loso_wall_seconds`` / ``loso_cpu_seconds``, ``parameters``, ``flops_per_clip``
(forward, torch.utils.flop_counter), and ``train_uf1`` (pooled over folds, the fold's own training clips in eval
mode: tells under-fitting from over-fitting).

Speed: the frames are decoded once for all folds (MicroExpressionSource) and each fold trains with a plain loop
on the in-memory tensors (no Trainer, no checkpoints, no validation pass per epoch): the same module, loss and
optimiser (Adam, cosine) as `affect train`, without its per-fold overheads. Settings are the method's defaults
unless overridden (``--set key=value``); nothing here is selected on test folds.

The clips, folds and resolved configs are first written to a cache (``--cache``, default .cache_smastn/: grey
float16 clips, shared by methods with the same clip settings; both methods average the colour channels first, so
the grey clip is their input unchanged) so a run can also happen on a machine without the processed data
(``--device cuda``; it needs torch, lightning, torchmetrics and omegaconf there). ``--set data.*`` rebuilds the
cache, and so does a run whose data keys differ from the cached config's; other keys apply on top of the cached
config at run time (ablations: ``model.de_weight=0``, ``model.calibration=none``). A negative control (``--set
data.negative_control=permuted_labels``) is a row of its own, keyed ``<method>[data.negative_control=...]``.
Progress (pooled UF1 so far) is printed per fold.

``--inner NAME=KEY=VALUE,... [...]`` scores knob candidates on held-out TRAINING subjects (the suite's
protocol.validation=inner split of each subject fold, ``--inner-splits`` of them; test subjects never used;
``inner_selection`` in the JSON); ``--seeds S [S ...]`` repeats each method's run per seed (``seeds``: per-seed rows
kept across calls, mean and std).

Needs the processed casme2, samm and smic stand-ins (faces stage) under data/processed. Run:
``.venv/bin/python benchmarks/sma_stn.py [--methods sma_stn ltr3o] [--set data.image_size=32 trainer.max_epochs=8]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

from core import process

process.configure()

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from core import metrics as M
from core.config import project_root
from core.io import write_json
from core.seeding import seed_everything
from datamodules import controls
from experiments.config import load_experiment
from experiments.registry import method as get_method
from reports.results import read_json

RESULTS = Path(__file__).resolve().parent / "results" / "sma_stn.json"
BAR = 0.15
PROTOCOL = "loso"  # --protocol subject_kfold: 5 subject-disjoint folds (when LOSO does not fit the time)
DATASET = "composite"  # --dataset casme2 | samm | smic: one database's experiment instead of the composite's
SEEDS: list[int] = []  # --seeds
INNER: dict[str, list[str]] = {}  # --inner candidates
INNER_SPLITS = 2
REUSE_CACHE = False  # --reuse-cache: the cache was built with the same data.* overrides and protocol


def as_float(frames: np.ndarray, device) -> torch.Tensor:
    """Cached grey frames (B, T, 1, H, W), float16 in [0, 1] -> float32 (B, T, 3, H, W) on ``device``: both methods
    average the colour channels first, so three equal channels give them the same grey clip."""
    return torch.from_numpy(frames).to(device).float().expand(-1, -1, 3, -1, -1)


def train_fold(module, x, y, cfg, seed: int, device):
    seed_everything(seed, False)
    epochs, bs = int(cfg.trainer.max_epochs), int(cfg.data.batch_size)
    opt = torch.optim.Adam(module.parameters(), lr=float(cfg.optim.lr), weight_decay=float(cfg.optim.weight_decay))
    steps = epochs * math.ceil(len(y) / bs)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(epochs):
        module.train()
        for idx in torch.randperm(len(y)).split(bs):
            if len(idx) < 2:
                continue
            _, losses = module.compute({"frames": as_float(x[idx.numpy()], device), "y": y[idx].to(device)})
            opt.zero_grad()
            sum(losses.values()).backward()
            opt.step()
            sched.step()


def predict(module, x, device) -> np.ndarray:
    module.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), 64):
            chunk = as_float(x[i:i + 64], device)
            y = torch.zeros(len(chunk), dtype=torch.long, device=device)
            out.append(module.compute({"frames": chunk, "y": y})[0]["scores"].argmax(1).cpu().numpy())
    return np.concatenate(out)


def clips_file(cfg) -> str:
    """Methods with the same clip settings, protocol, dataset and negative control share one cached array."""
    source, control = cfg.data.get("frames_from", "faces"), controls.negative_control(cfg)
    return (f"clips_{cfg.protocol.name}_{cfg.data.span}_{cfg.data.seq_len}_{cfg.data.image_size}"
            f"{'' if source == 'faces' else '_' + source}{'' if DATASET == 'composite' else '_' + DATASET}"
            f"{'' if control == 'none' else '_' + control}.npz")


def config_file(folder: Path, name: str) -> Path:
    """The method's resolved config in the cache (one per dataset)."""
    return folder / (f"{name}.yaml" if DATASET == "composite" else f"{name}_{DATASET}.yaml")


def result_key(name: str, run_overrides: list[str], control: str = "none") -> str:
    """The row's key: the method (with its dataset unless composite) and the overrides it ran with. Of the data
    keys only a negative control (the cached config's ``data.negative_control``) names the row
    (``[data.negative_control=permuted_labels]``): a control's score must never take the place of the real run's."""
    head = name if DATASET == "composite" else f"{name}/{DATASET}"
    named = [*run_overrides, *([f"data.negative_control={control}"] if control != "none" else [])]
    return head + (f"[{','.join(named)}]" if named else "")


def cache_config(name: str, overrides: list[str]):
    """The resolved experiment config a cache of ``name`` is built for: this dataset and protocol, ``overrides``."""
    return load_experiment(f"{name}/{DATASET}", [f"protocol.name={PROTOCOL}", *overrides])


def cache_matches(name: str, overrides: list[str], folder: Path) -> bool:
    """Whether the cached config of ``name`` was built for this dataset, protocol and these data overrides (its
    data and protocol sections equal the experiment's as resolved now). A cache written by a run with other data
    keys (a negative control, another image size) is rebuilt instead of read as if it were the default one, and so
    is a clips file written before the stand-in label was recorded in it."""
    from omegaconf import OmegaConf

    path = config_file(folder, name)
    if not path.is_file():
        return False
    cached = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    wanted = OmegaConf.to_container(cache_config(name, overrides), resolve=True)
    if not all(cached.get(k) == wanted.get(k) for k in ("data", "protocol")):
        return False
    clips = folder / clips_file(OmegaConf.create(cached))
    if not clips.is_file():
        return False
    with np.load(clips) as cache:
        return "standin" in cache.files  # caches written before the stand-in label was recorded are rebuilt


def build_cache(name: str, overrides: list[str], folder: Path) -> None:
    """The method's resolved config, its clips (grey, float16) and LOSO folds, for a run on another machine."""
    from omegaconf import OmegaConf

    from datamodules.micro_expression import MicroExpressionSource
    from datamodules.protocols import make_folds

    cfg = cache_config(name, overrides)
    source = MicroExpressionSource(cfg, get_method(name).inputs, project_root())
    index = source.index.reset_index(drop=True)
    pos = {sid: i for i, sid in enumerate(index["sample_id"])}
    folds = make_folds(index, cfg.protocol, seed=int(cfg.seed))
    fold_of = np.full(len(index), -1)
    for k, fold in enumerate(folds):
        fold_of[[pos[s] for s in fold.test]] = k
    # inner validation (the suite's protocol.validation=inner, seed 0): per fold, 0 = inner-train, 1 = inner-valid
    # (held-out TRAINING subjects), 2 = the fold's test subjects (never used by --inner)
    inner = OmegaConf.merge(cfg.protocol, {"validation": "inner"})
    role = np.full((len(folds), len(index)), 2, dtype=np.int8)
    for k, fold in enumerate(make_folds(index, inner, seed=0)):
        role[k, [pos[s] for s in fold.train]] = 0
        role[k, [pos[s] for s in fold.val]] = 1
    grey = (source.arrays["frames"].astype(np.float32).mean(2, keepdims=True) / 255.0).astype(np.float16)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / clips_file(cfg), frames=grey, y=index["y"].to_numpy(), fold=fold_of, inner_role=role,
             standin=np.bool_(source.standin))
    OmegaConf.save(cfg, config_file(folder, name), resolve=True)


def run_method(name: str, folder: Path, max_folds: int | None, device, overrides=()) -> dict:
    """LOSO from the cache; ``overrides`` (model/optim/trainer keys) apply on top of the cached config."""
    from omegaconf import OmegaConf

    from datamodules.micro_expression import DataInfo

    cfg = OmegaConf.merge(OmegaConf.load(config_file(folder, name)), OmegaConf.from_dotlist(list(overrides)))
    with np.load(folder / clips_file(cfg)) as cache:
        frames, y_np, fold_of = cache["frames"], cache["y"], cache["fold"]
        if "standin" not in cache.files:
            raise SystemExit(f"{folder / clips_file(cfg)}: a cache without the stand-in label (written before it was "
                             "recorded); run again without --reuse-cache to rebuild it")
        standin = bool(cache["standin"])
    y_all = torch.as_tensor(y_np, dtype=torch.long)
    classes = list(cfg.data.classes)
    n_classes, n_folds = len(classes), int(fold_of.max()) + 1
    method = get_method(name)
    wall, cpu = time.perf_counter(), time.process_time()
    y_true, y_pred, tr_true, tr_pred, params, module = [], [], [], [], 0, None
    for k in range(min(n_folds, max_folds or n_folds)):
        train, test = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)
        seed_everything(int(cfg.seed), False)
        info = DataInfo(n_classes=n_classes, class_names=classes, n_train=len(train),
                        class_counts=np.bincount(y_np[train], minlength=n_classes).tolist())
        module = method.load()(cfg, info).to(device)
        params = sum(p.numel() for p in module.parameters() if p.requires_grad)
        train_fold(module, frames[train], y_all[train], cfg, int(cfg.seed) + k, device)
        y_pred.append(predict(module, frames[test], device))
        y_true.append(y_np[test])
        tr_pred.append(predict(module, frames[train], device))
        tr_true.append(y_np[train])
        yt_k, yp_k = np.concatenate(y_true), np.concatenate(y_pred)
        print(f"{name} fold {k + 1}/{n_folds}: pooled uf1 {M.uf1(yt_k, yp_k, n_classes):.4f} majority "
              f"{M.majority_class_floor(yt_k, classes)['majority_uf1']:.4f} ({time.perf_counter() - wall:.0f} s)",
              flush=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    yt, yp = np.concatenate(y_true), np.concatenate(y_pred)
    floor = M.majority_class_floor(yt, classes)
    module.eval()
    with FlopCounterMode(display=False) as counter:
        module.compute({"frames": as_float(frames[:1], device), "y": y_all[:1].to(device)})
    uf1 = M.uf1(yt, yp, n_classes)
    return {
        "uf1": round(uf1, 4), "uar": round(M.uar(yt, yp, n_classes), 4),
        "majority_uf1": round(floor["majority_uf1"], 4), "margin_over_majority": round(uf1 - floor["majority_uf1"], 4),
        "meets_bar": bool(uf1 - floor["majority_uf1"] >= BAR), "bar": BAR,
        "train_uf1": round(M.uf1(np.concatenate(tr_true), np.concatenate(tr_pred), n_classes), 4),
        "protocol": str(cfg.protocol.name), "folds": len(y_true), "fold_seconds_mean": round(wall / len(y_true), 1),
        "samples": int(len(yt)), "classes": classes, "stand_in": standin,
        "class_counts": np.bincount(yt, minlength=n_classes).tolist(),
        "loso_wall_seconds": round(wall, 1), "loso_cpu_seconds": round(cpu, 1), "device": str(device),
        "parameters": params, "flops_per_clip": int(counter.get_total_flops()),
        "input_shape": [frames.shape[1], 3, *frames.shape[3:]],
        "settings": {k: OmegaConf.to_container(cfg[k]) for k in ("model", "optim", "trainer")}
        | {"data": {k: cfg.data.get(k) for k in ("span", "seq_len", "image_size", "batch_size", "frames_from",
                                                 "negative_control")}},
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }


def inner_selection(name: str, folder: Path, candidates: dict[str, list[str]], n_splits: int, device) -> dict:
    """Choose a knob on TRAINING subjects only: for the first ``n_splits`` subject folds, train on the fold's
    inner-train subjects and score its held-out training subjects (the suite's protocol.validation=inner split,
    20 % of the training subjects, seed 0); the fold's test subjects are never touched. Per candidate: held-out
    UF1/UAR per split, their mean, the UF1 of the held-out predictions pooled over the splits, and the training fit."""
    from omegaconf import OmegaConf

    from datamodules.micro_expression import DataInfo

    base = OmegaConf.load(config_file(folder, name))
    with np.load(folder / clips_file(base)) as cache:
        frames, y_np, role = cache["frames"], cache["y"], cache["inner_role"]
    y_all = torch.as_tensor(y_np, dtype=torch.long)
    classes = list(base.data.classes)
    n = len(classes)
    out = {}
    for cand, overrides in candidates.items():
        cfg = OmegaConf.merge(base, OmegaConf.from_dotlist(list(overrides)))
        started, splits, yt_all, yp_all = time.perf_counter(), [], [], []
        for k in range(n_splits):
            train, valid = np.flatnonzero(role[k] == 0), np.flatnonzero(role[k] == 1)
            seed_everything(int(cfg.seed), False)
            info = DataInfo(n_classes=n, class_names=classes, n_train=len(train),
                            class_counts=np.bincount(y_np[train], minlength=n).tolist())
            module = get_method(name).load()(cfg, info).to(device)
            train_fold(module, frames[train], y_all[train], cfg, int(cfg.seed) + k, device)
            pred, fit = predict(module, frames[valid], device), predict(module, frames[train], device)
            floor = M.majority_class_floor(y_np[valid], classes)["majority_uf1"]
            splits.append({"valid_uf1": round(M.uf1(y_np[valid], pred, n), 4),
                           "valid_uar": round(M.uar(y_np[valid], pred, n), 4), "valid_majority_uf1": round(floor, 4),
                           "train_uf1": round(M.uf1(y_np[train], fit, n), 4), "inner_train": len(train),
                           "inner_valid": len(valid)})
            yt_all.append(y_np[valid])
            yp_all.append(pred)
        out[cand] = {"overrides": list(overrides), "splits": splits,
                     "valid_uf1_mean": round(float(np.mean([s["valid_uf1"] for s in splits])), 4),
                     "valid_uf1_pooled": round(M.uf1(np.concatenate(yt_all), np.concatenate(yp_all), n), 4),
                     "seconds": round(time.perf_counter() - started, 1),
                     "load_average_1min_at_end": round(os.getloadavg()[0], 2)}
        print(name, cand, json.dumps(out[cand]), flush=True)
    return out


def seeds_summary(rows: dict) -> dict:
    """Mean and sample std over seeds of the figures that vary with the seed."""
    summary = {}
    for key in ("uf1", "uar", "margin_over_majority", "loso_wall_seconds", "fold_seconds_mean"):
        values = np.array([r[key] for r in rows.values()], dtype=float)
        summary[key] = {"mean": round(float(values.mean()), 4),
                        "std": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4)}
    first = next(iter(rows.values()))
    summary |= {k: first[k] for k in ("majority_uf1", "protocol", "folds", "samples", "parameters", "flops_per_clip",
                                       "settings", "input_shape", "device")}
    labels = {r.get("stand_in") for r in rows.values()}  # rows of caches older than the label carry None
    if {True, False} <= labels:
        raise SystemExit("stand-in and real-data runs under one key: their seeds cannot be averaged")
    summary["stand_in"] = None if None in labels else labels.pop()
    summary["meets_bar_mean"] = bool(summary["margin_over_majority"]["mean"] >= BAR)
    return summary


def merge(files: list[Path], into: Path) -> dict:
    """Fold the per-seed rows of other results files of this script (concurrent invocations, each with its own
    ``--results``) into ``into``: a key's seeds are united and its mean and std recomputed; the same seed of the
    same key in two files is an error naming both, never a silent overwrite. Other sections of ``into`` are kept."""
    def seed_rows(path: Path, data: dict) -> dict:
        rows = data.get("seeds", {})
        if not isinstance(rows, dict):
            raise SystemExit(f"{path}: not a results file of benchmarks/sma_stn.py (its 'seeds' is not an object)")
        for key, row in rows.items():
            if not isinstance(row, dict) or not isinstance(row.get("per_seed"), dict):
                raise SystemExit(f"{path}: seeds/{key} has no per_seed rows (expected a file written by "
                                 "benchmarks/sma_stn.py --seeds)")
        return rows

    def read(path: Path) -> dict:
        data, problem = read_json(path)
        if data is None:
            raise SystemExit(f"{path}: not a results file of benchmarks/sma_stn.py ({problem})")
        return data

    result = read(into) if into.is_file() else {}
    origin = {key: {seed: str(into) for seed in row["per_seed"]} for key, row in seed_rows(into, result).items()}
    for path in files:
        for key, row in seed_rows(path, read(path)).items():
            have = result.setdefault("seeds", {}).get(key, {"per_seed": {}})["per_seed"]
            for seed, run in row["per_seed"].items():
                if seed in have and have[seed] != run:
                    raise SystemExit(f"{path}: {key} seed {seed} differs from the row already read from "
                                     f"{origin[key][seed]}; remove one of them")
                have[seed] = run
                origin.setdefault(key, {})[seed] = str(path)
            result["seeds"][key] = {"per_seed": have, **seeds_summary(have)}
    write_json(into, result)
    return result


def main(methods, overrides, max_folds, threads: int, cache: Path, device: str, only_cache: bool) -> dict:
    from omegaconf import OmegaConf

    torch.set_num_threads(threads)
    data_overrides = [o for o in overrides if o.startswith("data.")]
    run_overrides = [o for o in overrides if not o.startswith("data.")]
    for name in methods:
        if not REUSE_CACHE and (only_cache or data_overrides or PROTOCOL != "loso"
                                or not cache_matches(name, data_overrides, cache)):
            build_cache(name, data_overrides, cache)
    if only_cache:
        return {}
    result = {"methods": {}, "threads": threads, "cpu_count": os.cpu_count(), "machine": platform.platform(),
              "torch": torch.__version__}
    if RESULTS.is_file():  # earlier rows and sections are kept; this call's machine facts replace the old ones
        old = json.loads(RESULTS.read_text())
        result["methods"] = old.get("methods", {})
        result |= {k: v for k, v in old.items() if k not in result}
    if INNER:
        for name in methods:
            candidates = {cand: [*run_overrides, *keys] for cand, keys in INNER.items()}
            found = inner_selection(name, cache, candidates, INNER_SPLITS, torch.device(device))
            result.setdefault("inner_selection", {}).setdefault(result_key(name, []), {}).update(found)
            write_json(RESULTS, result)
        return result
    for name in methods:
        key = result_key(name, run_overrides, controls.negative_control(OmegaConf.load(config_file(cache, name))))
        if SEEDS:  # rows of earlier invocations with other seeds are kept (one seed per call interleaves methods)
            rows = dict(result.get("seeds", {}).get(key, {}).get("per_seed", {}))
            for seed in SEEDS:
                rows[str(seed)] = run_method(name, cache, max_folds, torch.device(device), [*run_overrides,
                                                                                          f"seed={seed}"])
                result.setdefault("seeds", {})[key] = {"per_seed": rows, **seeds_summary(rows)}
                write_json(RESULTS, result)
            print(key, json.dumps(result["seeds"][key]["uf1"]), flush=True)
            continue
        result["methods"][key] = run_method(name, cache, max_folds, torch.device(device), run_overrides)
        write_json(RESULTS, result)
        print(key, json.dumps(result["methods"][key]), flush=True)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["sma_stn", "ltr3o"])
    parser.add_argument("--set", nargs="*", default=[], dest="overrides",
                        help="config overrides key=value (data.* rebuild the cache; others apply at run time)")
    parser.add_argument("--max-folds", type=int, default=None, help="first N folds only (a smoke run)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(".cache_smastn"), help="clips + folds + configs")
    parser.add_argument("--build-cache", action="store_true", help="only write the cache (needs data/processed)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--protocol", default="loso", choices=["loso", "subject_kfold"])
    parser.add_argument("--dataset", default="composite", choices=["composite", "casme2", "samm", "smic"],
                        help="the <method>/<dataset> experiment (default composite); rows of another dataset are "
                        "keyed <method>/<dataset>")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--seeds", nargs="*", type=int, default=[],
                        help="run each method once per seed (the settled defaults): per-seed rows, mean and std")
    parser.add_argument("--inner", nargs="*", default=[], metavar="NAME=KEY=VALUE,KEY=VALUE",
                        help="inner-validation candidates (training subjects only; NAME= alone: the defaults)")
    parser.add_argument("--reuse-cache", action="store_true", help="do not rebuild the cache (same data.* keys)")
    parser.add_argument("--inner-splits", type=int, default=2, help="subject folds whose training subjects are split")
    parser.add_argument("--merge", nargs="+", type=Path, default=[], metavar="FILE",
                        help="only fold the per-seed rows of these results files into --results (runs nothing)")
    args = parser.parse_args()
    if args.merge:
        merge(args.merge, args.results)
        raise SystemExit(0)
    RESULTS = args.results
    PROTOCOL = args.protocol
    DATASET = args.dataset
    SEEDS = args.seeds
    INNER = {item.partition("=")[0]: [k for k in item.partition("=")[2].split(",") if k] for item in args.inner}
    INNER_SPLITS = args.inner_splits
    REUSE_CACHE = args.reuse_cache
    main(args.methods, args.overrides, args.max_folds, args.threads, args.cache, args.device, args.build_cache)
