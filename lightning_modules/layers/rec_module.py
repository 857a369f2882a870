"""The LightningModule around every recommendation method: one training step, full-ranking validation and test.

A method subclasses :class:`RecommenderModule` and supplies two things:

- ``training_losses(batch) -> dict`` with a ``"loss"`` entry (BPR batches ``user, pos, neg`` or user batches);
- ``user_scorer(features=None) -> fn(users) -> (B, n_items) scores``, computed once per evaluation (graph models
  propagate once, then score users chunk by chunk). ``features`` optionally replaces the content features, which
  is how the attribution analysis asks for scores of modified inputs.

Validation and test rank ALL items for every user with held-out items, masking only the user's training items
(core/ranking.py), and log ``val/recall@K`` / ``val/ndcg@K``; early stopping and checkpoint selection watch
``val/recall@20`` (never a test number). The test pass keeps the top-``eval.rankings_top`` lists for
rankings.csv in ``self.test_result``.

A method declares how it reads its `model` block in ``model_block`` (lightning_modules/layers/config.py), as the
classifiers do. Embedding methods (VBPR, LightGCN, MGCN) derive from :class:`EmbeddingRecommender`: they return
user and item representations and get BPR plus ``model.reg_weight`` x an embedding regulariser of the batch's rows
for free (``EMBEDDING_KNOBS``, which their ``model_block`` declares), in the form ``model.reg_form`` names
(``squared``: sum of squares / (2 x batch), the LightGCN and MGCN authors' form; ``norm``: the tables' Frobenius
norms / batch, MMRec's EmbLoss; lightning_modules/layers/rec_losses.py).

Names logged to MLflow (through Lightning's logger) use MLflow's alphabet: ``recall@20`` is logged as
``val/recall_at_20`` (:func:`logged_name`), the name the runner's tracker gives the same metric in the parent run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightning.pytorch as pl
import numpy as np
import torch

from core.ranking import as_csr, full_ranking_topk, recall_ndcg_at_k
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.optim import build_optimizer, trainer_epochs
from lightning_modules.layers.rec_losses import bpr_loss, embedding_regularizer

EMBEDDING_KNOBS = ("reg_weight", "reg_form")  # the `model` keys EmbeddingRecommender reads (its regulariser)


def logged_name(metric: str) -> str:
    """``recall@20`` -> ``recall_at_20``: a ranking metric's name in MLflow's alphabet (no ``@``)."""
    return metric.replace("@", "_at_")


@dataclass
class RankingResult:
    users: torch.Tensor  # (U,) user ids with held-out items
    topk: torch.Tensor  # (U, K) ranked item ids, training items excluded
    metrics: dict[str, float]


@dataclass
class Representations:
    """What an embedding method computes in one forward pass over the graph."""

    users: torch.Tensor  # (n_users, d) final user representations
    items: torch.Tensor  # (n_items, d) final item representations
    regularized: tuple[torch.Tensor, ...] = ()  # (n_users, ·) / (n_items, ·) tables L2 applies to (by batch rows)
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


class RecommenderModule(pl.LightningModule):
    """Shared loop; see the module docstring for what a method implements."""

    uses_content = True  # False for ID-only models: no content attribution to analyse
    model_block = ModelBlock()  # how the method reads its `model` block; by default it reads none of it

    def __init__(self, cfg, info):
        super().__init__()
        self.cfg = cfg
        self.model_block.check(cfg)  # a `model` key nothing reads is a typo: refused before any work
        self.n_users, self.n_items = int(info.n_users), int(info.n_items)
        self.ks = tuple(int(k) for k in cfg.eval.ks)
        self.ranking_depth = max(max(self.ks), int(cfg.eval.rankings_top))
        self.eval_chunk_size = int(cfg.eval.chunk_size)
        self.train_mask = as_csr(info.train_matrix)
        self.modalities = tuple(info.features)
        for modality, array in info.features.items():
            self.register_buffer(f"features_{modality}", array.float(), persistent=False)
        self._scorer = None
        self._ranked: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.valid_result: RankingResult | None = None  # the latest validation pass
        self.test_result: RankingResult | None = None

    # ---- what a method implements ------------------------------------------------------------------------------

    def training_losses(self, batch: dict) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def user_scorer(self, features: dict[str, torch.Tensor] | None = None):
        raise NotImplementedError

    # ---- shared --------------------------------------------------------------------------------------------------

    def content_features(self, features: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """The item content features, or the replacements given (per modality)."""
        stored = {m: getattr(self, f"features_{m}") for m in self.modalities}
        return {**stored, **(features or {})}

    def training_step(self, batch, batch_idx):
        losses = self.training_losses(batch)
        self.log_dict({f"train/{k}": v.detach() for k, v in losses.items()}, on_step=False, on_epoch=True,
                      batch_size=len(batch["user"]))
        return losses["loss"]

    def on_validation_epoch_start(self):
        self._begin_ranking()

    def validation_step(self, batch, batch_idx):
        self._rank(batch["user"])

    def on_validation_epoch_end(self):
        result = self.valid_result = self._end_ranking(self.trainer.datamodule.valid)
        self.log_dict({f"val/{logged_name(k)}": float(v) for k, v in result.metrics.items() if k != "n_users"})

    def on_test_epoch_start(self):
        self._begin_ranking()

    def test_step(self, batch, batch_idx):
        self._rank(batch["user"])

    def on_test_epoch_end(self):
        self.test_result = self._end_ranking(self.trainer.datamodule.test)
        self.log_dict({f"test/{logged_name(k)}": float(v) for k, v in self.test_result.metrics.items()
                       if k != "n_users"})

    def configure_optimizers(self):
        return build_optimizer(self.parameters(), self.cfg.optim, trainer_epochs(self))

    def _begin_ranking(self):
        self._scorer = self.user_scorer()
        self._ranked = []

    def _rank(self, users: torch.Tensor):
        topk = full_ranking_topk(self._scorer, self.train_mask, users.cpu(), self.ranking_depth,
                                 chunk_size=self.eval_chunk_size)
        self._ranked.append((users.cpu(), topk))

    def _end_ranking(self, truth: dict[int, np.ndarray]) -> RankingResult:
        users = torch.cat([u for u, _ in self._ranked])
        topk = torch.cat([t for _, t in self._ranked])
        self._scorer, self._ranked = None, []
        metrics = recall_ndcg_at_k(topk, [truth.get(int(u), ()) for u in users], self.ks)
        return RankingResult(users, topk, metrics)


class EmbeddingRecommender(RecommenderModule):
    """Methods that score by the dot product of user and item representations, trained with BPR + L2."""

    def representations(self, features: dict[str, torch.Tensor] | None = None) -> Representations:
        raise NotImplementedError

    def extra_losses(self, batch: dict, reps: Representations) -> dict[str, torch.Tensor]:
        """Method-specific terms added to BPR + L2 (MGCN's InfoNCE)."""
        return {}

    def batch_representations(self, batch: dict) -> tuple[Representations, dict]:
        """(representations, batch) where the batch's ``user``/``pos``/``neg`` index the representation tables.

        By default the tables cover every user and item and the batch is returned as is; a method may compute
        only the batch's rows (MGCN's fuser) and return the batch re-indexed into those rows."""
        return self.representations(), batch

    def training_losses(self, batch: dict) -> dict[str, torch.Tensor]:
        reps, batch = self.batch_representations(batch)
        user, pos, neg = batch["user"], batch["pos"], batch["neg"]
        losses = {"bpr": bpr_loss(reps.users[user], reps.items[pos], reps.items[neg])}
        if reps.regularized:
            users_table, items_table = reps.regularized
            penalty = embedding_regularizer(str(self.cfg.model.reg_form), users_table[user], items_table[pos],
                                            items_table[neg])
            losses["l2"] = float(self.cfg.model.reg_weight) * penalty
        losses.update(self.extra_losses(batch, reps))
        losses["loss"] = sum(losses.values())
        return losses

    def user_scorer(self, features: dict[str, torch.Tensor] | None = None):
        with torch.no_grad():
            reps = self.representations(features)
        users_table, items_table = reps.users.detach(), reps.items.detach()
        return lambda users: users_table[users] @ items_table.T

    def pair_scores(self, users: torch.Tensor, items: torch.Tensor,
                    features: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """Differentiable scores of (user, item) pairs, optionally with replaced content features."""
        reps = self.representations(features)
        return (reps.users[users] * reps.items[items]).sum(-1)
