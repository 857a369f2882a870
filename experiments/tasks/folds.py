"""The fold loop shared by every classification-style task (mer, au, masked, gesture).

For each fold of the protocol: a nested MLflow run, a fresh LightningModule built with statistics of the fold's
TRAINING samples only, a Trainer fitted for `trainer.max_epochs` (or selected on an inner validation split of
training subjects), and predictions on the held-out samples. Predictions are pooled over folds before scoring
(protocols.md). Each finished fold's predictions are kept under checkpoints/ so `--resume` skips it; an
unfinished fold resumes from its last checkpoint.

With an inner validation split (`protocol.validation: inner`, or a protocol whose folds carry validation samples),
the selected model of each fold also predicts its validation samples; those predictions are pooled over folds and
scored like the test predictions, and the scalar scores enter metrics.json with a `valid_` prefix (`valid_uf1`,
`valid_mean_au_f1`, `valid_top1`, ...). They are what `affect tune` selects hyper-parameters on. A subject is in
the validation split of several folds, so the pool holds one row per (fold, validation sample).

Whether the epoch budget cut training short (details.json, as the recommendation loop's ``capped``): with a
validation split, ``best_epochs`` (per fold, the 0-based epoch of the selected checkpoint), ``capped`` (true when
any fold's best epoch is the last of ``trainer.max_epochs``: its validation loss was still falling) and
``capped_folds``; without one, ``capped: null`` and ``capped_reason`` (:func:`epoch_budget`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from omegaconf import OmegaConf
from tqdm import tqdm

from core import metrics as M
from core.errors import AffectError
from core.io import remove_stale_temporaries, write_csv, write_json
from core.seeding import EpochSeed
from datamodules.protocols import Fold, make_folds
from experiments.checkpoints import CheckpointIdentity, identity, load_checkpoint, verify_checkpoint

log = logging.getLogger(__name__)

# Lightning chatter that is expected here: tiny folds have fewer batches than the logging interval, a fold
# without an inner validation split has an empty validation loader, and the SVM methods fit exactly without an
# optimiser.
BENIGN_WARNINGS = (
    r"`LightningModule.configure_optimizers` returned `None`",
    r"You defined a `validation_step` but have no `val_dataloader`",
    r"The number of training batches .* is smaller than the logging interval",
    r"Total length of .* across ranks is zero",
    r".*LeafSpec.*is deprecated",
    r"The '(train|val|predict)_dataloader' does not have many workers",
)
for _pattern in BENIGN_WARNINGS:
    warnings.filterwarnings("ignore", message=_pattern)


@dataclass
class Prepared:
    source: object  # a Source: .index, .standin, .info(train_ids), .datamodule(fold, seed), .data_files()
    folds: list[Fold]
    standin: bool
    data_files: list[Path]
    protocol_folds: int | None = None  # the protocol's fold count when ``protocol.max_folds`` ran only the first


def prepare(cfg, spec, root: Path) -> Prepared:
    module_name, _, cls_name = str(cfg.data.source).partition(":")
    source_cls = getattr(importlib.import_module(module_name), cls_name)
    source = source_cls(cfg, spec.inputs, root)
    folds = make_folds(source.index, cfg.protocol, seed=int(cfg.seed))
    if not folds:
        raise AffectError(f"protocol {cfg.protocol.name!r} gives no folds for {cfg.dataset}")
    limited = int(OmegaConf.select(cfg, "protocol.max_folds", default=0)) > 0  # a smoke or timing run
    total = len(make_folds(source.index, OmegaConf.merge(cfg.protocol, {"max_folds": 0}), seed=int(cfg.seed))) \
        if limited else None
    return Prepared(source, folds, bool(source.standin), list(source.data_files()), total)


def run(prepared: Prepared, ctx) -> dict:
    cfg = ctx.cfg
    fold_dir = ctx.checkpoint_dir / "folds"
    if not ctx.resume and ctx.checkpoint_dir.exists():
        shutil.rmtree(ctx.checkpoint_dir)
    for folder in (fold_dir, fold_dir / "valid"):  # a run killed mid-write leaves atomic_path's temporary files
        for stale in remove_stale_temporaries(folder):
            log.info("removed %s (a fold file whose write was interrupted)", stale)
    tables, valid_tables, interpretations, fold_seconds, best_epochs = {}, {}, {}, {}, {}
    pending = []
    for number, fold in enumerate(prepared.folds):
        done = fold_dir / f"{number:03d}.csv"
        valid_done = fold_dir / "valid" / f"{number:03d}.csv"  # a sub-folder: folds/*.csv counts finished folds
        epoch_done = valid_done.with_suffix(".json")
        if ctx.resume and done.is_file() and (not fold.val or valid_done.is_file()):
            log.info("fold %s already finished: reusing %s", fold.name, done)
            tables[number] = pd.read_csv(done, dtype={"subject": str, "sample_id": str})
            if fold.val:
                valid_tables[number] = pd.read_csv(valid_done, dtype={"subject": str, "sample_id": str})
                best_epochs[fold.name] = (json.loads(epoch_done.read_text())["best_epoch"]
                                          if epoch_done.is_file() else None)
            continue
        pending.append(number)
    workers, threads = fold_workers(cfg, len(pending))
    if prepared.protocol_folds is not None:
        log.warning("%s: %d of the protocol's %d folds (protocol.max_folds: a smoke or timing run, not a result)",
                    cfg.experiment, len(prepared.folds), prepared.protocol_folds)
    progress = tqdm(total=len(pending), desc=cfg.experiment, unit="fold", disable=None, leave=False)  # a terminal
    finished = _in_process(prepared, ctx, pending) if workers <= 1 else _in_workers(prepared, ctx, pending,
                                                                                   workers, threads)
    for number, result in finished:  # each fold is kept on disk as soon as it is back (--resume reuses it)
        fold = prepared.folds[number]
        fold_seconds[fold.name] = result.seconds
        if result.valid_table is not None:
            best_epochs[fold.name] = result.best_epoch
            write_json(fold_dir / "valid" / f"{number:03d}.json", {"best_epoch": result.best_epoch})
            write_csv(fold_dir / "valid" / f"{number:03d}.csv", result.valid_table)
            valid_tables[number] = result.valid_table
        write_csv(fold_dir / f"{number:03d}.csv", result.table)
        tables[number] = result.table
        if result.interpretation is not None:
            interpretations[fold.name] = result.interpretation
        progress.update()
    progress.close()
    pooled = pd.concat([tables[n] for n in sorted(tables)], ignore_index=True)  # fold order, however they ran
    metrics = score(ctx.spec.task, pooled, prepared.source, cfg)
    metrics["n_folds"] = len(prepared.folds)
    if prepared.protocol_folds is not None:
        metrics["n_folds_of_protocol"] = prepared.protocol_folds
    metrics["fold_seconds"] = {prepared.folds[n].name: fold_seconds[prepared.folds[n].name]
                               for n in sorted(tables) if prepared.folds[n].name in fold_seconds}
    metrics["fold_workers"] = workers
    metrics.update(epoch_budget(best_epochs, int(cfg.trainer.max_epochs)))
    if valid_tables:
        metrics.update(validation_scores(ctx.spec.task, pd.concat([valid_tables[n] for n in sorted(valid_tables)],
                                                                  ignore_index=True), prepared.source, cfg))
    write_csv(ctx.out_dir / "predictions.csv", pooled)
    ctx.tracker.log_artifact(ctx.out_dir / "predictions.csv")
    if interpretations:
        ordered = {prepared.folds[n].name: interpretations[prepared.folds[n].name]
                   for n in sorted(tables) if prepared.folds[n].name in interpretations}
        write_json(ctx.out_dir / "interpretation.json", summarise_interpretations(ordered))
        ctx.tracker.log_artifact(ctx.out_dir / "interpretation.json")
    return metrics


@dataclass
class FoldResult:
    """What one fold gives back (from this process or a worker): its predictions, what it selected, its time."""

    table: pd.DataFrame
    valid_table: pd.DataFrame | None
    interpretation: dict | None
    best_epoch: int | None
    metrics: dict
    seconds: float


def fold_workers(cfg, n_pending: int) -> tuple[int, int]:
    """How many folds train at once, and torch's CPU threads in each worker (``trainer.fold_workers``).

    ``auto``: on the CPU, one worker per core (at most ``trainer.max_fold_workers``, never more than the folds
    left), each with one torch thread: the networks here are small, and two folds on two cores finish sooner than
    one fold on two threads (the default `make repro`'s fold-loop stages, process start included: 761 s -> 508 s
    on 2 cores, benchmarks/results/pipeline_time.json against its previous commit). An integer asks for that many.
    One worker (or a GPU, a multi-process strategy, a single fold) runs the folds one after the other in this
    process, as before.
    Results do not depend on it: each fold seeds itself (``seed + fold number``) and folds are pooled in fold
    order; with one torch thread a fold's predictions are the same bit for bit in a worker and in this process
    (tests/test_fold_workers.py).
    """
    setting = str(OmegaConf.select(cfg, "trainer.fold_workers", default=1))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if setting == "auto":
        wanted = min(cores, int(OmegaConf.select(cfg, "trainer.max_fold_workers", default=4)))
    else:
        try:
            wanted = int(setting)
        except ValueError:
            raise AffectError(f"trainer.fold_workers={setting!r} is neither 'auto' nor an integer") from None
        if wanted < 1:
            raise AffectError(f"trainer.fold_workers={wanted} must be at least 1 (1: folds one after the other)")
    serial = (str(cfg.trainer.accelerator) != "cpu" or str(cfg.trainer.strategy) in ("ddp", "ddp_spawn")
              or not hasattr(os, "fork"))
    workers = 1 if serial else max(1, min(wanted, n_pending))
    threads = int(cfg.trainer.num_threads)
    if workers > 1 and threads <= 0:
        threads = max(1, cores // workers)
    return workers, threads


def _in_process(prepared: Prepared, ctx, pending: list[int]):
    """Folds one after the other here; each fold's MLflow run is open while it trains (metrics as they come)."""
    for number in pending:
        fold = prepared.folds[number]
        started = time.time()
        with ctx.tracker.child_run(f"fold {number:03d} {fold.name}", {"fold": fold.name}) as run_id:
            result = run_fold(prepared, ctx, fold, number, ctx.tracker.lightning_logger(run_id))
            result.seconds = round(time.time() - started, 2)
            ctx.tracker.log_metrics({**result.metrics, "fold_seconds": result.seconds}, run_id=run_id)
        yield number, result


# The state a forked worker inherits: set just before the pool forks, read by _worker_fold (never pickled).
_WORKER_STATE: dict = {}


def _in_workers(prepared: Prepared, ctx, pending: list[int], workers: int, threads: int):
    """Folds in ``workers`` forked processes; finished folds come back in the order they finish.

    A worker never touches the tracking store: its Lightning metrics are recorded (RecordingLogger) and this
    process writes them, with the fold's scores, into the fold's MLflow run when the fold is back. When a fold
    fails, folds not yet started are cancelled, the ones running are waited for and kept, and the error is raised.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    _WORKER_STATE.update(prepared=prepared, ctx=ctx, threads=threads)
    log.info("%s: %d folds in %d worker processes (%d torch thread(s) each)", ctx.cfg.experiment, len(pending),
             workers, threads)
    failure = None
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_die_with_parent) as pool:
            futures = {pool.submit(_worker_fold, number): number for number in pending}
            for future in as_completed(futures):
                number = futures[future]
                fold = prepared.folds[number]
                if future.cancelled():  # not started: a fold before it failed
                    continue
                try:
                    result, records = future.result()
                except BrokenProcessPool:
                    raise AffectError(f"a fold worker of {ctx.cfg.experiment} died (out of memory?)",
                                      hint="run with trainer.fold_workers=1, or fewer workers") from None
                except Exception as err:  # the fold's own error: keep the folds that finish, then raise it
                    if failure is None:
                        failure = err
                        for other in futures:
                            other.cancel()
                    with contextlib.suppress(Exception), ctx.tracker.child_run(
                            f"fold {number:03d} {fold.name}", {"fold": fold.name}):
                        raise err
                    continue
                with ctx.tracker.child_run(f"fold {number:03d} {fold.name}", {"fold": fold.name}) as run_id:
                    ctx.tracker.log_records(records, run_id)
                    ctx.tracker.log_metrics({**result.metrics, "fold_seconds": result.seconds}, run_id=run_id)
                yield number, result
    finally:
        _WORKER_STATE.clear()
    if failure is not None:
        raise failure


def _die_with_parent() -> None:
    """A worker ends when the main process does (Linux: PR_SET_PDEATHSIG), so a killed `affect train` leaves no
    fold training on in the background; elsewhere a worker ends when it next reads its closed queue."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _worker_fold(number: int):
    import torch

    from experiments.tracking import RecordingLogger

    prepared, ctx = _WORKER_STATE["prepared"], _WORKER_STATE["ctx"]
    torch.set_num_threads(_WORKER_STATE["threads"])
    started = time.time()
    logger = RecordingLogger()
    result = run_fold(prepared, ctx, prepared.folds[number], number, logger)
    result.seconds = round(time.time() - started, 2)
    return result, logger.records


def run_fold(prepared: Prepared, ctx, fold: Fold, number: int, logger) -> FoldResult:
    """Train and predict one fold; ``logger`` receives Lightning's metrics (this never opens the tracking store)."""
    cfg = ctx.cfg
    source = prepared.source
    pl.seed_everything(ctx.seed + number, workers=True, verbose=False)
    info = source.info(fold.train)
    module = ctx.spec.load()(cfg, info)
    datamodule = source.datamodule(fold, seed=ctx.seed + number)
    ckpt_dir = ctx.checkpoint_dir / f"fold_{number:03d}"
    has_val = len(fold.val) > 0
    expected = identity(cfg, fold.name)
    callbacks = [EpochSeed(ctx.seed + number), resume_checkpoint(ckpt_dir, cfg.trainer), CheckpointIdentity(expected)]
    checkpoint = None
    if has_val:  # the selected model: saved whenever val/loss improves
        checkpoint = ModelCheckpoint(dirpath=ckpt_dir, save_top_k=1, monitor="val/loss", filename="best")
        callbacks.append(checkpoint)
    if has_val and int(cfg.trainer.early_stopping_patience) > 0:
        callbacks.append(EarlyStopping("val/loss", patience=int(cfg.trainer.early_stopping_patience)))
    trainer = pl.Trainer(
        max_epochs=int(cfg.trainer.max_epochs),
        accelerator=cfg.trainer.accelerator,
        devices=cfg.trainer.devices,
        strategy=training_strategy(cfg.trainer),
        precision=cfg.trainer.precision,
        deterministic=bool(cfg.trainer.deterministic),
        gradient_clip_val=float(cfg.trainer.gradient_clip_val) or None,
        log_every_n_steps=int(cfg.trainer.log_every_n_steps),
        logger=logger,
        callbacks=callbacks,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=str(ckpt_dir),
    )
    last = ckpt_dir / "last.ckpt"
    resume_from = str(last) if ctx.resume and last.is_file() else None
    if resume_from:
        verify_checkpoint(last, expected)
        log.info("fold %s: resuming from %s", fold.name, last)
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    # predictions always come from one process (a multi-process fit would split the test set across ranks)
    predictor = pl.Trainer(accelerator=cfg.trainer.accelerator, devices=1, logger=False, enable_progress_bar=False,
                           enable_model_summary=False, deterministic=bool(cfg.trainer.deterministic),
                           precision=cfg.trainer.precision, default_root_dir=str(ckpt_dir))
    best = checkpoint.best_model_path if checkpoint is not None and checkpoint.best_model_path else None
    best_epoch = None
    if best:  # the selected model, read once for the test and the validation predictions and its epoch
        selected = load_checkpoint(best)
        module.load_state_dict(selected["state_dict"])
        best_epoch = int(selected["epoch"])
    batches = predictor.predict(module, datamodule=datamodule)
    outputs = _concat_outputs(batches)
    test = source.index.set_index("sample_id").loc[list(fold.test)].reset_index()
    table = prediction_table(ctx.spec.task, test, outputs, source, cfg, fold.name)
    fold_metrics = {k: v for k, v in score(ctx.spec.task, table, source, cfg).items() if isinstance(v, float)}
    valid_table = None
    if has_val:  # the same selected model on the fold's validation samples (what `affect tune` selects on)
        valid_batches = predictor.predict(module, dataloaders=datamodule.val_dataloader())
        valid = source.index.set_index("sample_id").loc[list(fold.val)].reset_index()
        valid_table = prediction_table(ctx.spec.task, valid, _concat_outputs(valid_batches), source, cfg, fold.name)
    interpretation = module.interpretation() if hasattr(module, "interpretation") else None
    return FoldResult(table, valid_table, interpretation, best_epoch, fold_metrics, 0.0)


NO_VALIDATION = "no validation split: the epoch budget is fixed a priori"


def epoch_budget(best_epochs: dict[str, int | None], max_epochs: int) -> dict:
    """``capped`` and its evidence, from the selected epoch of each fold that has a validation split (None: a fold
    finished before its epoch was kept). ``capped`` is None, with ``capped_reason``, when it cannot be told."""
    if not best_epochs:
        return {"capped": None, "capped_reason": NO_VALIDATION}
    known = {fold: epoch for fold, epoch in best_epochs.items() if epoch is not None}
    if max_epochs <= 1 or not known:
        reason = "one training epoch: no validation curve to judge" if max_epochs <= 1 else "selected epochs not kept"
        return {"best_epochs": best_epochs, "capped": None, "capped_reason": reason}
    capped = [fold for fold, epoch in known.items() if epoch >= max_epochs - 1]
    return {"best_epochs": best_epochs, "max_epochs": max_epochs, "capped": bool(capped), "capped_folds": capped}


def resume_checkpoint(ckpt_dir: Path, trainer_cfg) -> ModelCheckpoint:
    """``last.ckpt`` of a fold, from which an interrupted fold resumes: written every
    ``trainer.checkpoint_interval_s`` seconds of training (0: every epoch). Writing it every epoch cost more than
    the training of a small network's epoch; a fold shorter than the interval is simply re-run on resume."""
    interval = float(trainer_cfg.checkpoint_interval_s)
    if interval <= 0:
        return ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=0, every_n_epochs=1)
    return ModelCheckpoint(dirpath=ckpt_dir, save_last=True, save_top_k=0,
                           train_time_interval=timedelta(seconds=interval))


def _concat_outputs(batches: list[dict]) -> dict[str, np.ndarray]:
    return {k: torch.cat([b[k] for b in batches]).float().numpy() for k in batches[0]}


def training_strategy(trainer_cfg):
    """The Lightning strategy for the fit. `ddp` on CPU becomes DDP with spawned processes and gloo: the default
    `ddp` launcher re-executes the whole command in each child, which would re-run every fold and open MLflow runs
    per rank; spawning processes for the fit alone keeps one runner (weights come back to the main process)."""
    strategy = str(trainer_cfg.strategy)
    if strategy in ("ddp", "ddp_spawn") and str(trainer_cfg.accelerator) == "cpu":
        from lightning.pytorch.strategies import DDPStrategy

        return DDPStrategy(start_method="spawn", process_group_backend="gloo")
    return strategy


def prediction_table(task: str, test: pd.DataFrame, outputs: dict, source, cfg, fold_name: str) -> pd.DataFrame:
    """One row per test sample: sample_id, dataset, subject, fold, y_true, y_pred and one column per score."""
    table = pd.DataFrame({"sample_id": test["sample_id"], "dataset": test["dataset"],
                          "subject": test["subject"].astype(str), "fold": fold_name})
    classes = list(cfg.data.classes)
    if "scores" in outputs:
        scores = _finite(outputs["scores"], "scores")
        table["y_true"] = test["y"].to_numpy()
        table["y_pred"] = scores.argmax(1)
        for i, name in enumerate(classes):
            table[f"score_{name}"] = scores[:, i]
    if "scores_disguise" in outputs:
        scores = _finite(outputs["scores_disguise"], "scores_disguise")
        table["disguise_true"] = test["y_disguise"].to_numpy()
        table["disguise_pred"] = scores.argmax(1)
        for i, name in enumerate(cfg.data.disguise_classes):
            table[f"disguise_score_{name}"] = scores[:, i]
    if "au_scores" in outputs:
        au_true = source.au_matrix(test)
        au_scores = _finite(outputs["au_scores"], "au_scores")
        for i, name in enumerate(cfg.data.aus):
            table[f"au_true_{name}"] = au_true[:, i].astype(int)
            table[f"au_score_{name}"] = au_scores[:, i]
    if task != "au" and "y_true" not in table:
        raise AffectError(f"method {cfg.method!r} returned no 'scores' from predict_step for task {task!r}")
    return table


def score(task: str, table: pd.DataFrame, source, cfg) -> dict:
    """Metrics of pooled (or one fold's) predictions, by task."""
    classes = list(cfg.data.classes)
    out: dict = {}
    if "y_true" in table:
        out.update(M.classification_report(table["y_true"], table["y_pred"], classes))
        out["per_subject"] = _per_subject(table, len(classes))
        if task != "au":  # the floor a result must clear (AU detection has its all-positive floor instead)
            out.update(M.majority_class_floor(table["y_true"], classes))
    if task == "gesture":
        scores = table[[f"score_{c}" for c in classes]].to_numpy()
        out["top1"] = M.topk_accuracy(scores, table["y_true"], 1)
        out["top5"] = M.topk_accuracy(scores, table["y_true"], 5)
    if task == "masked":
        disguise = M.classification_report(table["disguise_true"], table["disguise_pred"],
                                           list(cfg.data.disguise_classes))
        out["disguise"] = disguise
        out["disguise_uf1"], out["disguise_uar"] = disguise["uf1"], disguise["uar"]
    if task == "au":
        names = list(cfg.data.aus)
        au_true = table[[f"au_true_{n}" for n in names]].to_numpy()
        threshold = float(cfg.model.get("au_threshold", 0.5))
        au_pred = table[[f"au_score_{n}" for n in names]].to_numpy() >= threshold
        out.update(M.au_f1(au_true, au_pred, names))
        out["all_positive_floor"] = M.all_positive_au_f1(au_true, names)["mean_au_f1"]
        if "y_true" in table:
            out["label_free"] = {k: out.pop(k) for k in ("uf1", "uar", "accuracy", "per_class_f1",
                                                         "confusion_matrix", "class_names") if k in out}
            out["label_free_uf1"], out["label_free_uar"] = out["label_free"]["uf1"], out["label_free"]["uar"]
    out.setdefault("n_samples", int(len(table)))
    return out


def validation_scores(task: str, table: pd.DataFrame, source, cfg) -> dict:
    """The scalar scores of pooled validation predictions, keyed `valid_<metric>` (never a test number)."""
    scores = score(task, table, source, cfg)
    return {f"valid_{k}": v for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def summarise_interpretations(per_fold: dict[str, dict]) -> dict:
    """Mean (and std) over folds of each array a method exposes for interpretation; a list of names (labels of
    those arrays, the same in every fold) is kept under ``labels``."""
    keys = next(iter(per_fold.values())).keys()
    summary, labels = {}, {}
    for key in keys:
        values = [v[key] for v in per_fold.values()]
        if isinstance(values[0], (list, tuple)) and values[0] and isinstance(values[0][0], str):
            labels[key] = list(values[0])
            continue
        stack = np.stack([np.asarray(v, dtype=float) for v in values])
        summary[key] = {"mean": stack.mean(0).tolist(), "std": stack.std(0).tolist()}
    return {"n_folds": len(per_fold), "summary": summary, **({"labels": labels} if labels else {})}


def _per_subject(table: pd.DataFrame, n_classes: int) -> dict:
    out = {}
    for key, part in table.groupby(["dataset", "subject"], sort=True):
        out["/".join(map(str, key))] = {
            "n": int(len(part)), "accuracy": M.accuracy(part["y_true"], part["y_pred"]),
            "uf1": M.uf1(part["y_true"], part["y_pred"], n_classes),
        }
    return out


def _finite(array: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(array).all():
        raise AffectError(f"the model produced non-finite {name} (NaN/inf): training diverged; "
                          "lower optim.lr or check the inputs for NaN")
    return array
