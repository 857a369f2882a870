"""The recommendation loop (task ``rec``): one train/valid/test split, early stopping on validation, test once.

1. prepare: locate the MMRec folder (``data.root``); ``data.format: movielens`` first converts MovieLens-100k
   from the installed recbole package (rawdata/movielens.py, cached), ``mmrec`` reads the folder as is (a
   licensed Amazon copy or ``affect synth rec`` output). Problems stop the run before any MLflow run opens.
2. run: a nested MLflow run; Lightning fits the method on BPR triples (or user batches), ranks all items for
   every validation user each ``eval.every_n_epochs`` epochs (training items masked) and stops when
   ``val/recall@20`` has not improved for ``trainer.early_stopping_patience`` evaluations (so patience counts
   evaluations, not epochs, when evaluating every k > 1 epochs). The checkpoint with the best validation
   Recall@20 is the model: it is evaluated once on test, masking only training items (validation items stay
   candidates, as in MMRec). Test numbers never select anything.
3. outputs in results/<name>/<dataset>/: metrics.json and rankings.csv (``user_id, rank, item_id``, the top
   ``eval.rankings_top`` = 50 of every test user), and for content-reading models the BeFA attribution analysis
   (attribution.json, attribution.png; lightning_modules/befa/attribution.py).

metrics.json: ``recall@K`` / ``ndcg@K`` at ``eval.ks`` on test and their ``valid_`` twins at the selected
checkpoint; ``best_epoch`` (0-based epoch of the selected checkpoint), ``stopped_epoch`` (0-based last epoch
trained), ``epochs`` (epochs trained), ``max_epochs`` and ``capped`` (true when the run ended at the epoch cap
instead of by early stopping: its best epoch may not be the model's best); ``seconds_per_epoch`` (training only:
the validation pass inside an epoch is timed apart, ``seconds_per_validation``) and ``train_seconds`` (wall time of
fit, validate and test); ``popularity_recall@K`` / ``popularity_ndcg@K``: the most-popular baseline on the same
test users, with the same training matrix, masking and metric code (:func:`popularity_baseline`), the level a
method must clear by a margin to show it learned anything personal.

Negative controls (``data.negative_control``, tests and CI only): ``permuted_labels`` permutes the users of the
TRAINING interactions with a fixed generator (:func:`permute_training_users`: every item keeps its popularity,
every user their number of interactions, the user-item association is gone; validation and test untouched), so a
method can do no better than popularity; ``blank_input`` sets every content feature to zero. metrics.json then
carries ``negative_control`` (the report keeps such runs apart).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import torch

from core.errors import ConfigError, DatasetError
from core.io import write_csv, write_json
from core.ranking import full_ranking_topk, recall_ndcg_at_k
from datamodules.mmrec import MMRecDataModule
from experiments.checkpoints import CheckpointIdentity, identity, load_checkpoint, verify_checkpoint
from lightning_modules.befa.attribution import attribution_analysis, plot_attribution
from lightning_modules.layers.rec_module import logged_name
from rawdata.layouts.mmrec import MODALITY_FILES, MMRecData, find_inter_file, load_mmrec
from rawdata.movielens import ensure_movielens_mmrec

log = logging.getLogger(__name__)
FORMATS = ("mmrec", "movielens")
NEGATIVE_CONTROLS = ("none", "permuted_labels", "blank_input")
CONTROL_SEED = 20_240_611  # the fixed generator of the permuted-labels control (mixed with the run's seed)


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
    data = apply_negative_control(load_mmrec(folder), str(cfg.data.negative_control), int(cfg.seed))
    for warning in data.warnings:
        log.warning("%s", warning)
    files = [find_inter_file(folder)] + [folder / name for name in MODALITY_FILES.values()]
    return Prepared(folder, data, data.standin, files)


def permute_training_users(pairs: np.ndarray, seed: int) -> np.ndarray:
    """The training pairs with their user column permuted by a fixed generator; pairs that the permutation makes
    duplicate are dropped (a few), so the matrix stays binary."""
    rng = np.random.default_rng([CONTROL_SEED, seed])
    permuted = np.column_stack([pairs[rng.permutation(len(pairs)), 0], pairs[:, 1]])
    return np.unique(permuted, axis=0)


def apply_negative_control(data: MMRecData, control: str, seed: int) -> MMRecData:
    """The data a negative-control run trains on (module docstring); ``none`` returns ``data`` as is."""
    if control not in NEGATIVE_CONTROLS:
        raise ConfigError(f"data.negative_control must be one of {NEGATIVE_CONTROLS}, got {control!r}")
    if control == "permuted_labels":
        pairs = permute_training_users(data.train_pairs, seed)
        note = (f"negative control permuted_labels: users of the {len(data.train_pairs)} training interactions "
                f"permuted ({len(data.train_pairs) - len(pairs)} duplicates dropped)")
        return dataclasses.replace(data, train_pairs=pairs, warnings=[*data.warnings, note])
    if control == "blank_input":
        blank = {m: np.zeros_like(a) for m, a in data.features.items()}
        return dataclasses.replace(data, features=blank,
                                   warnings=[*data.warnings, "negative control blank_input: content features zeroed"])
    return data


def popularity_baseline(data: MMRecData, truth: dict[int, np.ndarray], ks, chunk_size: int = 4096) -> dict:
    """Recall/NDCG of ranking every item by its number of training interactions (ties: lower item id first), with
    the run's training items masked and the metric code of the methods; keys ``popularity_recall@K`` ..."""
    train = data.train_matrix("coo")
    counts = torch.zeros(data.n_items).index_add_(0, torch.from_numpy(data.train_pairs[:, 1]),
                                                  torch.ones(len(data.train_pairs)))
    users = torch.tensor(sorted(truth), dtype=torch.long)
    topk = full_ranking_topk(lambda chunk: counts.expand(len(chunk), -1), train, users, max(ks), chunk_size)
    metrics = recall_ndcg_at_k(topk, [truth[int(u)] for u in users], ks)
    return {f"popularity_{k}": float(v) for k, v in metrics.items() if k != "n_users"}


class EpochTimer(pl.Callback):
    """Wall-clock seconds of each training epoch, without the validation pass Lightning runs inside the epoch
    (before ``on_train_epoch_end``); the validation passes are timed apart (``validation_seconds``)."""

    def __init__(self):
        self.seconds: list[float] = []
        self.validation_seconds: list[float] = []
        self._start = 0.0
        self._validation_start = 0.0
        self._in_epoch = False
        self._excluded = 0.0

    def on_train_epoch_start(self, trainer, pl_module):
        self._start, self._excluded, self._in_epoch = time.perf_counter(), 0.0, True

    def on_validation_start(self, trainer, pl_module):
        self._validation_start = time.perf_counter()

    def on_validation_end(self, trainer, pl_module):
        elapsed = time.perf_counter() - self._validation_start
        self.validation_seconds.append(elapsed)
        if self._in_epoch:
            self._excluded += elapsed

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds.append(time.perf_counter() - self._start - self._excluded)
        self._in_epoch = False


def mean(values: list[float]) -> float:
    return sum(values) / max(1, len(values))


def build_trainer(cfg, logger, checkpoint_dir: Path) -> tuple[pl.Trainer, pl.callbacks.ModelCheckpoint, EpochTimer]:
    monitor = f"val/{logged_name(str(cfg.eval.monitor))}"
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
        epochs = int(trainer.current_epoch)
        capped = not any(isinstance(c, pl.callbacks.EarlyStopping) and c.stopped_epoch > 0 for c in trainer.callbacks)
        trainer.validate(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
        valid = module.valid_result.metrics
        trainer.test(module, datamodule=datamodule, ckpt_path=best, verbose=False, weights_only=True)
        result = module.test_result
        metrics = {k: float(v) for k, v in result.metrics.items() if k != "n_users"}
        metrics.update({f"valid_{k}": float(v) for k, v in valid.items() if k != "n_users"})
        metrics.update(popularity_baseline(prepared.data, prepared.data.test, tuple(int(k) for k in cfg.eval.ks),
                                           int(cfg.eval.chunk_size)))
        metrics.update({
            "n_test_users": int(result.metrics["n_users"]),
            "best_epoch": _checkpoint_epoch(best),
            "stopped_epoch": epochs - 1,
            "epochs": epochs,
            "max_epochs": int(cfg.trainer.max_epochs),
            "capped": capped,
            "train_seconds": round(time.time() - started, 2),
            "seconds_per_epoch": round(mean(timer.seconds), 3),
            "seconds_per_validation": round(mean(timer.validation_seconds), 3),
        })
        if str(cfg.data.negative_control) != "none":
            metrics["negative_control"] = str(cfg.data.negative_control)
        write_csv(ctx.out_dir / "rankings.csv", rankings_table(result.users, result.topk, int(cfg.eval.rankings_top),
                                                                  prepared.data.train_pairs))
        ctx.tracker.log_artifact(ctx.out_dir / "rankings.csv")
        analysis = run_attribution(module, prepared, ctx)
        if analysis is not None:
            for modality, summary in analysis["modalities"].items():
                if "informative_share" in summary:
                    metrics[f"attribution_informative_share_{modality}"] = summary["informative_share"]
        ctx.tracker.log_metrics(metrics, run_id=run_id)  # numbers only, named as in the parent run
    log.info("%s: %s", cfg.experiment, {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)})
    return metrics


def _checkpoint_epoch(path: str | None) -> int:
    if not path:
        return -1
    return int(load_checkpoint(path)["epoch"])

