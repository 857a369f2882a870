"""The recommendation loop (task ``rec``): one train/valid/test split, early stopping on validation, test once.

1. prepare: locate the MMRec folder (``data.root``); ``data.format: movielens`` first converts MovieLens-100k
   from the installed recbole package (rawdata/movielens.py, cached), ``mmrec`` reads the folder as is (a
   licensed Amazon copy or ``affect synth rec`` output). Problems stop the run before any MLflow run opens.
2. run: a nested MLflow run; Lightning fits the method on BPR triples (or user batches), ranks all items for
   every validation user each ``eval.every_n_epochs`` epochs (training items masked) and stops when
   ``val/recall@20`` has not improved for ``trainer.early_stopping_patience`` evaluations. The checkpoint with
   the best validation Recall@20 is the model: it is evaluated once on test, masking only training items
   (validation items stay candidates, as in MMRec). Test numbers never select anything.
3. outputs in results/<name>/<dataset>/: metrics.json (recall/ndcg at eval.ks, their ``valid_`` twins at the
   selected checkpoint, the selected epoch), rankings.csv (``user_id, rank, item_id``, the top
   ``eval.rankings_top`` = 50 of every test user), and for content-reading models the BeFA attribution analysis
   (attribution.json, attribution.png; lightning_modules/befa/attribution.py).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import torch

from core.errors import ConfigError, DatasetError
from core.io import write_csv, write_json
from datamodules.mmrec import MMRecDataModule
from experiments.checkpoints import CheckpointIdentity, identity, load_checkpoint, verify_checkpoint
from lightning_modules.befa.attribution import attribution_analysis, plot_attribution
from rawdata.layouts.mmrec import MODALITY_FILES, MMRecData, find_inter_file, load_mmrec
from rawdata.movielens import ensure_movielens_mmrec

log = logging.getLogger(__name__)
FORMATS = ("mmrec", "movielens")


@dataclass
class Prepared:
    folder: Path
    data: MMRecData
    standin: bool
    data_files: list[Path]


def dataset_folder(cfg, root: Path) -> Path:
    folder = Path(str(cfg.data.root))
    return folder if folder.is_absolute() else root / folder


def prepare(cfg, spec, root: Path) -> Prepared:
    """Find (or, for MovieLens, convert) and parse the dataset; clear errors before anything is tracked."""
    folder = dataset_folder(cfg, root)
    data_format = str(cfg.data.format)
    if data_format not in FORMATS:
        raise ConfigError(f"data.format must be one of {FORMATS} for recommendation, got {data_format!r}")
    if data_format == "movielens":
        ensure_movielens_mmrec(folder, seed=int(cfg.data.split_seed), ratios=tuple(cfg.data.split_ratios))
    elif not folder.is_dir():
        raise DatasetError("no MMRec dataset folder", path=folder,
                           hint="point data.root at <name>.inter + image_feat.npy + text_feat.npy, or write the "
                           f"stand-in with `affect synth rec --out {folder}` (or `dvc repro`)")
    data = load_mmrec(folder)
    for warning in data.warnings:
        log.warning("%s", warning)
    files = [find_inter_file(folder)] + [folder / name for name in MODALITY_FILES.values()]
    return Prepared(folder, data, data.standin, files)


class EpochTimer(pl.Callback):
    """Wall-clock seconds of each training epoch (validation excluded)."""

    def __init__(self):
        self.seconds: list[float] = []
        self._start = 0.0

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds.append(time.perf_counter() - self._start)


def build_trainer(cfg, logger, checkpoint_dir: Path) -> tuple[pl.Trainer, pl.callbacks.ModelCheckpoint, EpochTimer]:
    monitor = f"val/{cfg.eval.monitor}"
    checkpoint = pl.callbacks.ModelCheckpoint(dirpath=checkpoint_dir, filename="best", monitor=monitor, mode="max",
                                              save_top_k=1, save_last=True, auto_insert_metric_name=False)
    timer = EpochTimer()
    callbacks = [checkpoint, timer, CheckpointIdentity(identity(cfg))]
    patience = int(cfg.trainer.early_stopping_patience)
    if patience > 0:
        callbacks.append(pl.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=patience))
    trainer = pl.Trainer(
        accelerator=str(cfg.trainer.accelerator),
        devices=cfg.trainer.devices,
        max_epochs=int(cfg.trainer.max_epochs),
        check_val_every_n_epoch=int(cfg.eval.every_n_epochs),
        deterministic=bool(cfg.trainer.deterministic),
        gradient_clip_val=float(cfg.trainer.gradient_clip_val) or None,
        log_every_n_steps=int(cfg.trainer.log_every_n_steps),
        logger=logger,
        callbacks=callbacks,
        num_sanity_val_steps=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(checkpoint_dir),
    )
    return trainer, checkpoint, timer


def resume_point(checkpoint_dir: Path, resume: bool) -> Path | None:
    """last.ckpt of an interrupted run when resuming; otherwise the old checkpoints are removed."""
    last = checkpoint_dir / "last.ckpt"
    if resume and last.is_file():
        return last
    if checkpoint_dir.exists():
        shutil.rmtree(checkpoint_dir)
    return None


def rankings_table(users: torch.Tensor, topk: torch.Tensor, depth: int, train_pairs) -> pd.DataFrame:
    """``user_id, rank, item_id`` (rank from 1) of the top ``depth`` items of each user. Training items are masked
    to the end of a ranking; when a catalogue is so small that they reach the top ``depth``, they are dropped."""
    top = topk[:, :depth]
    table = pd.DataFrame({
        "user_id": users.repeat_interleave(top.shape[1]).numpy(),
        "rank": torch.arange(1, top.shape[1] + 1).repeat(len(users)).numpy(),
        "item_id": top.flatten().numpy(),
    })
    training = pd.DataFrame(train_pairs, columns=["user_id", "item_id"]).assign(training=True)
    table = table.merge(training, on=["user_id", "item_id"], how="left")
    return table[table["training"].isna()].drop(columns="training").reset_index(drop=True)


def informative_dims(folder: Path) -> dict[str, list[int]] | None:
    """Ground-truth informative feature dimensions of an `affect synth rec` stand-in (None for real data)."""
    path = folder / "ground_truth.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("informative_dims")


def run_attribution(module, prepared: Prepared, ctx) -> dict | None:
    """The BeFA attribution analysis of a content-reading model (skipped for ID-only models)."""
    cfg = ctx.cfg
    if not bool(cfg.attribution.enabled) or not getattr(module, "uses_content", True):
        return None
    result = module.test_result
    analysis = attribution_analysis(module, result.topk, result.users, prepared.data.feature_names,
                                    informative_dims(prepared.folder), cfg.attribution, ctx.seed)
    analysis["befa"] = bool(cfg.model.get("befa", False))
    write_json(ctx.out_dir / "attribution.json", analysis)
    title = f"{cfg.name} on {cfg.dataset}: integrated-gradients importance of content dimensions"
    plot_attribution(analysis, ctx.out_dir / "attribution.png", title)
    for name in ("attribution.json", "attribution.png"):
        ctx.tracker.log_artifact(ctx.out_dir / name)
    return analysis


def run(prepared: Prepared, ctx) -> dict:
    cfg = ctx.cfg
    datamodule = MMRecDataModule(
        prepared.folder, batch_size=int(cfg.data.batch_size), eval_batch_size=int(cfg.eval.chunk_size),
        train_batches=str(ctx.spec.extra.get("train_batches", "bpr")),
        reject_train_negatives=bool(cfg.data.reject_train_negatives), seed=ctx.seed, data=prepared.data,
    )
    module = ctx.spec.load()(cfg, datamodule.info())
    checkpoint_dir = ctx.checkpoint_dir
    resume_from = resume_point(checkpoint_dir, ctx.resume)
    if resume_from is not None:
        datamodule.start_epoch = int(verify_checkpoint(resume_from, identity(cfg))["epoch"]) + 1
    started = time.time()
    with ctx.tracker.child_run("train", tags={"dataset": cfg.dataset}) as run_id:
        trainer, checkpoint, timer = build_trainer(cfg, ctx.tracker.lightning_logger(run_id), checkpoint_dir)
        trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
        best = checkpoint.best_model_path or None
        valid = trainer.validate(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)[0]
        trainer.test(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
        result = module.test_result
        metrics = {k: float(v) for k, v in result.metrics.items() if k != "n_users"}
        metrics.update({f"valid_{k.removeprefix('val/')}": float(v) for k, v in valid.items()})
        metrics.update({
            "n_test_users": int(result.metrics["n_users"]),
            "best_epoch": _checkpoint_epoch(best),
            "epochs": int(trainer.current_epoch),
            "train_seconds": round(time.time() - started, 2),
            "seconds_per_epoch": round(sum(timer.seconds) / max(1, len(timer.seconds)), 3),
        })
        write_csv(ctx.out_dir / "rankings.csv", rankings_table(result.users, result.topk, int(cfg.eval.rankings_top),
                                                                  prepared.data.train_pairs))
        ctx.tracker.log_artifact(ctx.out_dir / "rankings.csv")
        analysis = run_attribution(module, prepared, ctx)
        if analysis is not None:
            for modality, summary in analysis["modalities"].items():
                if "informative_share" in summary:
                    metrics[f"attribution_informative_share_{modality}"] = summary["informative_share"]
        ctx.tracker.log_metrics({k: v for k, v in metrics.items() if isinstance(v, float)}, run_id=run_id)
    log.info("%s: %s", cfg.experiment, {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)})
    return metrics


def _checkpoint_epoch(path: str | None) -> int:
    if not path:
        return -1
    return int(load_checkpoint(path)["epoch"])

