"""The one place where randomness is seeded."""

from __future__ import annotations

import os

import lightning.pytorch as pl
import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and torch (and dataloader workers), and ask torch for deterministic kernels."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    pl.seed_everything(seed, workers=True, verbose=False)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 100_003 + epoch) % 2**32


class EpochSeed(pl.Callback):
    """Re-seed torch's and NumPy's global RNGs (dropout, augmentation) at every epoch from (seed, epoch), so a fold
    resumed from its last checkpoint continues exactly as an uninterrupted one (shuffling: datamodules/sampling.py)."""

    def __init__(self, seed: int):
        self.seed = seed

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        torch.manual_seed(epoch_seed(self.seed, trainer.current_epoch))
        np.random.seed(epoch_seed(self.seed, trainer.current_epoch))
