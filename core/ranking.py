"""Full-ranking top-K and Recall@K / NDCG@K for recommendation, as protocols.md defines them (MMRec conventions).

- Every item is a candidate; only the user's TRAINING items are masked (validation items stay candidates at test).
- Recall@K = hits in the top K / number of the user's ground-truth items.
- NDCG@K with binary relevance: DCG = sum over hits at 0-based rank r of 1 / log2(r + 2); IDCG is the DCG of
  min(K, number of ground-truth items) hits at the top.
- Both are averaged over users with at least one ground-truth item (users without any are left out).

Everything is vectorised in torch; scoring and top-K run over chunks of users so a full Amazon-scale score
matrix (users x items) never has to exist at once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

ScoresFn = Callable[[torch.Tensor], torch.Tensor]


def as_csr(matrix: torch.Tensor) -> torch.Tensor:
    """A sparse COO or CSR matrix as CSR (the layout row slicing needs)."""
    if matrix.layout == torch.sparse_csr:
        return matrix
    if matrix.layout == torch.sparse_coo:
        with warnings.catch_warnings():  # "CSR support is in beta": row slicing is all we use
            warnings.simplefilter("ignore", UserWarning)
            return matrix.coalesce().to_sparse_csr()
    raise TypeError(f"expected a sparse COO or CSR matrix, got layout {matrix.layout}")


def csr_row_entries(matrix: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(position in ``rows``, column) of every stored entry of the selected rows of a sparse CSR matrix."""
    crow = matrix.crow_indices()
    starts = crow[rows]
    counts = crow[rows + 1] - starts
    positions = torch.repeat_interleave(torch.arange(len(rows)), counts)
    first_of_row = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    entry = torch.repeat_interleave(starts, counts) + torch.arange(len(positions)) - first_of_row
    return positions, matrix.col_indices()[entry]


@torch.no_grad()
def full_ranking_topk(
    scores_fn: ScoresFn, train_mask: torch.Tensor, users: torch.Tensor, k: int, chunk_size: int = 4096
) -> torch.Tensor:
    """The ``k`` highest-scoring items of each user over ALL items, the user's training items excluded.

    scores_fn maps a 1-D tensor of user ids to their (len, n_items) scores; train_mask is a sparse COO/CSR
    (n_users, n_items) matrix whose stored entries are the training interactions. Users are scored ``chunk_size``
    at a time. Returns (len(users), min(k, n_items)) item ids, best first; ties are broken by torch.topk
    (deterministic on CPU).
    """
    mask = as_csr(train_mask)
    users = torch.as_tensor(users, dtype=torch.long)
    chunks = []
    for chunk in users.split(chunk_size):
        scores = scores_fn(chunk).float().clone()
        positions, columns = csr_row_entries(mask, chunk)
        scores[positions, columns] = -torch.inf
        chunks.append(torch.topk(scores, k=min(k, scores.shape[1]), dim=1).indices)
    return torch.cat(chunks) if chunks else torch.empty(0, k, dtype=torch.long)


def rank_discounts(k: int) -> torch.Tensor:
    """1 / log2(rank + 2) for the 0-based ranks 0..k-1."""
    return 1.0 / torch.log2(torch.arange(k, dtype=torch.float64) + 2.0)


def _long_tensor(items) -> torch.Tensor:
    if torch.is_tensor(items):
        return items.long().flatten()
    if isinstance(items, np.ndarray):
        return torch.from_numpy(items.astype(np.int64, copy=False)).flatten()
    return torch.tensor(list(items), dtype=torch.long)


def hit_matrix(topk_items: torch.Tensor, ground_truth: Sequence[Iterable[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(hits: (U, K) bool, True where topk_items[u, r] is one of row u's ground-truth items; n_truth: (U,))."""
    truth = [_long_tensor(items) for items in ground_truth]
    if len(truth) != len(topk_items):
        raise ValueError(f"{len(topk_items)} rows of top-K items but {len(truth)} ground-truth lists")
    n_truth = torch.tensor([len(t) for t in truth], dtype=torch.long)
    flat_truth = torch.cat(truth) if truth else torch.empty(0, dtype=torch.long)
    width = 1 + max(int(topk_items.max()) if topk_items.numel() else 0, int(flat_truth.max()) if len(flat_truth) else 0)
    truth_keys = torch.repeat_interleave(torch.arange(len(truth)), n_truth) * width + flat_truth
    top_keys = torch.arange(len(topk_items)).unsqueeze(1) * width + topk_items
    return torch.isin(top_keys, truth_keys), n_truth


def recall_ndcg_at_k(
    topk_items: torch.Tensor, ground_truth: Sequence[Iterable[int]], ks: Iterable[int] = (10, 20, 50)
) -> dict[str, float]:
    """Recall@K and NDCG@K averaged over the users with at least one ground-truth item.

    topk_items: (U, L) ranked item ids of U users (from :func:`full_ranking_topk`), L >= max(ks) unless the
    catalogue itself is smaller (then the lists rank every item and K > L sees all of them); ground_truth: each
    row's relevant items, without duplicates (the MMRec parser rejects duplicate pairs). Returns
    {"recall@K": .., "ndcg@K": ..} for every K and "n_users", the number of users averaged over.
    """
    ks = sorted({int(k) for k in ks})
    hits, n_truth = hit_matrix(topk_items, ground_truth)
    counted = n_truth > 0
    hits, n_truth = hits[counted].double(), n_truth[counted]
    metrics: dict[str, float] = {"n_users": int(counted.sum())}
    for k in ks:
        discounts = rank_discounts(k)
        top = torch.nn.functional.pad(hits[:, :k], (0, max(0, k - hits.shape[1])))
        ideal = torch.cumsum(discounts, 0)[torch.clamp(n_truth, max=k) - 1]
        recall = top.sum(1) / n_truth
        ndcg = (top * discounts).sum(1) / ideal
        metrics[f"recall@{k}"] = float(recall.mean()) if len(recall) else float("nan")
        metrics[f"ndcg@{k}"] = float(ndcg.mean()) if len(ndcg) else float("nan")
    return metrics
