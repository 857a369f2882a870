"""Shuffling that depends only on (seed, epoch), so a run resumed from a checkpoint sees the same batches.

A plain `DataLoader(shuffle=True, generator=g)` advances `g` across epochs: after resuming at epoch k the order
would restart from epoch 0's. Lightning calls `set_epoch` on a loader's sampler at the start of every epoch,
so seeding from (seed, epoch) there makes epoch k's order the same with or without the interruption.
"""

from __future__ import annotations

import torch
from torch.utils.data import Sampler

from core.seeding import epoch_seed


class EpochSeededSampler(Sampler[int]):
    def __init__(self, n: int, seed: int):
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
        return iter(torch.randperm(self.n, generator=generator).tolist())

    def __len__(self) -> int:
        return self.n
