"""Losses shared by the recommendation methods."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bpr_loss(user: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking (Rendle et al., UAI 2009): mean of -log sigmoid(<u, i+> - <u, i->)."""
    margin = (user * positive).sum(-1) - (user * negative).sum(-1)
    return F.softplus(-margin).mean()


def embedding_l2(*embeddings: torch.Tensor) -> torch.Tensor:
    """Sum of squared entries / 2, divided by the batch size: the L2 term MMRec's BPR models weight by 1e-4."""
    batch = embeddings[0].shape[0]
    return sum(e.pow(2).sum() for e in embeddings) / (2 * batch)


def info_nce(anchor: torch.Tensor, positive: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE with in-batch negatives over L2-normalised rows: row i of ``anchor`` should match row i of
    ``positive`` and no other row (MGCN's self-supervised term between fused and behaviour embeddings)."""
    anchor = F.normalize(anchor, dim=-1) / temperature  # scaling the (B, d) side, not the (B, B) logits
    positive = F.normalize(positive, dim=-1)
    logits = anchor @ positive.T
    return F.cross_entropy(logits, torch.arange(len(anchor), device=anchor.device))
