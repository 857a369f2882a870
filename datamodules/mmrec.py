"""Batches and the LightningDataModule of a parsed MMRec dataset (the parser: rawdata/layouts/mmrec.py).

Training batches are BPR triples (user, positive item, one uniform negative item), drawn afresh every epoch
from a generator seeded with (seed, epoch), so two runs with one seed see the same batches. Negatives are drawn
uniformly from ALL items of the catalogue (ids 0 .. n_items - 1, including items that occur only in validation or
test), redrawn when they hit one of the user's training items; MMRec's sampler draws only from the items that
occur in the training interactions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from rawdata.layouts.mmrec import MMRecData, load_mmrec

# ----------------------------------------------------------------------------------------------------------------
# batches and the LightningDataModule
# ----------------------------------------------------------------------------------------------------------------


def sample_negatives(users: torch.Tensor, n_items: int, generator: torch.Generator,
                     exclude_keys: torch.Tensor | None = None, max_rounds: int = 50) -> torch.Tensor:
    """One uniform negative item per user; with ``exclude_keys`` (sorted user * n_items + item of the training
    pairs), draws that hit a training item of that user are redrawn (MMRec's sampler does the same), up to
    ``max_rounds`` times."""
    negatives = torch.randint(n_items, (len(users),), generator=generator)
    if exclude_keys is None or len(exclude_keys) == 0:
        return negatives
    pending = torch.arange(len(users))
    for _ in range(max_rounds):
        pending = pending[sorted_contains(exclude_keys, users[pending] * n_items + negatives[pending])]
        if len(pending) == 0:
            break
        negatives[pending] = torch.randint(n_items, (len(pending),), generator=generator)
    return negatives


def sorted_contains(sorted_keys: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Boolean mask: which ``queries`` occur in the ascending ``sorted_keys`` (binary search)."""
    positions = torch.searchsorted(sorted_keys, queries).clamp(max=len(sorted_keys) - 1)
    return sorted_keys[positions] == queries


class BPRTriples(torch.utils.data.IterableDataset):
    """An epoch of shuffled (user, positive, negative) batches; epoch e uses a generator seeded with (seed, e)."""

    def __init__(self, pairs: np.ndarray, n_items: int, batch_size: int, seed: int, reject_train_items: bool = True):
        super().__init__()
        self.pairs = torch.from_numpy(pairs)
        self.n_items = n_items
        self.batch_size = batch_size
        self.seed = seed
        self.keys = torch.sort(self.pairs[:, 0] * n_items + self.pairs[:, 1]).values if reject_train_items else None
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.pairs) // self.batch_size)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        pairs = self.pairs[torch.randperm(len(self.pairs), generator=generator)]
        negatives = sample_negatives(pairs[:, 0], self.n_items, generator, self.keys)
        for start in range(0, len(pairs), self.batch_size):
            stop = start + self.batch_size
            yield {"user": pairs[start:stop, 0], "pos": pairs[start:stop, 1], "neg": negatives[start:stop]}


class UserBatches(torch.utils.data.IterableDataset):
    """Batches ``{"user": ids}`` of a fixed user list, shuffled per epoch when a seed is given."""

    def __init__(self, users: np.ndarray, batch_size: int, seed: int | None = None):
        super().__init__()
        self.users = torch.as_tensor(np.asarray(users, dtype=np.int64))
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.users) // self.batch_size)

    def __iter__(self):
        users = self.users
        if self.seed is not None:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            users = users[torch.randperm(len(users), generator=generator)]
        self.epoch += 1
        for chunk in users.split(self.batch_size):
            yield {"user": chunk}


@dataclass
class RecDataInfo:
    """What a recommendation method needs to know about the data (all from the TRAINING split)."""

    n_users: int
    n_items: int
    train_matrix: torch.Tensor  # sparse COO (n_users, n_items)
    features: dict[str, torch.Tensor]  # modality -> (n_items, D) float32
    feature_names: dict[str, list[str]] = field(default_factory=dict)  # modality -> per-dim names, when known

    @property
    def feature_dims(self) -> dict[str, int]:
        return {m: int(f.shape[1]) for m, f in self.features.items()}


class MMRecDataModule(pl.LightningDataModule):
    """Train batches of BPR triples (``train_batches="bpr"``) or of user ids (``"users"``, for models that read
    whole interaction rows, like LD4MRec); validation and test batches are user ids with held-out items.

    The training matrix, validation and test dicts are exposed for the full-ranking evaluation.
    """

    def __init__(self, root: str | Path, batch_size: int = 2048, eval_batch_size: int = 4096,
                 train_batches: str = "bpr", reject_train_negatives: bool = True, seed: int = 0,
                 data: MMRecData | None = None):
        super().__init__()
        if train_batches not in ("bpr", "users"):
            raise ValueError(f"train_batches must be 'bpr' or 'users', got {train_batches!r}")
        self.root = Path(root)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.train_batches = train_batches
        self.reject_train_negatives = reject_train_negatives
        self.seed = seed
        self.data = data
        self.start_epoch = 0  # epoch of the first training batches (set when resuming from a checkpoint)
        self._train_set = None

    def setup(self, stage: str | None = None) -> None:
        if self.data is None:
            self.data = load_mmrec(self.root)

    @property
    def train_matrix(self) -> torch.Tensor:
        return self.data.train_matrix("coo")

    @property
    def valid(self) -> dict[int, np.ndarray]:
        return self.data.valid

    @property
    def test(self) -> dict[int, np.ndarray]:
        return self.data.test

    def info(self) -> RecDataInfo:
        self.setup()
        return RecDataInfo(
            n_users=self.data.n_users,
            n_items=self.data.n_items,
            train_matrix=self.train_matrix,
            features={m: torch.from_numpy(a) for m, a in self.data.features.items()},
            feature_names=self.data.feature_names,
        )

    def train_dataloader(self):
        if self._train_set is None:  # one dataset object, so its epoch counter advances across epochs
            if self.train_batches == "bpr":
                self._train_set = BPRTriples(self.data.train_pairs, self.data.n_items, self.batch_size, self.seed,
                                             self.reject_train_negatives)
            else:
                users = np.unique(self.data.train_pairs[:, 0])
                self._train_set = UserBatches(users, self.batch_size, seed=self.seed)
            self._train_set.epoch = self.start_epoch
        return torch.utils.data.DataLoader(self._train_set, batch_size=None)

    def val_dataloader(self):
        return self._eval_loader(self.data.valid)

    def test_dataloader(self):
        return self._eval_loader(self.data.test)

    def _eval_loader(self, truth: dict[int, np.ndarray]):
        users = np.array(sorted(truth), dtype=np.int64)
        return torch.utils.data.DataLoader(UserBatches(users, self.eval_batch_size), batch_size=None)
