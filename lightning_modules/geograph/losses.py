"""The Adaptive AU loss of the geometric two-stream graph network (arXiv 2205.00380).

The paper's abstract says the loss makes the learned features follow the action units coded for each clip, so
that landmarks, AUs and the expression are linked; its exact form was not available. Defined here as an AU head
on the fused features trained with a binary cross-entropy whose weights adapt to how often each AU occurs in the
training fold:

    L_AU = mean over labelled samples i and AUs a of
           y_ia * w+_a * softplus(-z_ia)  +  (1 - y_ia) * w-_a * softplus(z_ia)
    w+_a = 1 / (2 p_a),   w-_a = 1 / (2 (1 - p_a)),   p_a = clamp(rate_a, min_rate, 1 - min_rate)

``rate_a`` is AU a's frequency among the fold's training clips (``DataInfo.au_frequency``). With these weights
the positives and the negatives of every AU contribute equally in expectation, so rare AUs (AU 9, AU 20, ...)
are not drowned by frequent ones (AU 4, AU 12); at ``p_a = 0.5`` the loss is the plain BCE. A clip whose AU row is
all zero counts as not coded (SMIC clips in the composite carry no AUs) and is left out when
``skip_uncoded`` is on. The total objective is ``CE + weight * L_AU`` (``model.au_loss.weight``).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def balanced_au_weights(positive_rate: torch.Tensor, min_rate: float = 0.02) -> tuple[torch.Tensor, torch.Tensor]:
    """(w+, w-) per AU from its positive rate: ``1 / (2 p)`` and ``1 / (2 (1 - p))`` with p clamped."""
    if not 0.0 < min_rate < 0.5:
        raise ValueError(f"min_rate must be in (0, 0.5), got {min_rate}")
    p = positive_rate.clamp(min_rate, 1.0 - min_rate)
    return 0.5 / p, 0.5 / (1.0 - p)


def coded_rows(au_targets: torch.Tensor) -> torch.Tensor:
    """``(B,)`` bool: rows with at least one AU present (rows of zeros are clips without AU coding)."""
    return au_targets.sum(dim=1) > 0


def adaptive_au_loss(
    au_logits: torch.Tensor,
    au_targets: torch.Tensor,
    positive_rate: torch.Tensor,
    skip_uncoded: bool = True,
    min_rate: float = 0.02,
) -> torch.Tensor:
    """Frequency-balanced BCE between ``(B, A)`` AU logits and multi-hot targets (see the module docstring).

    Returns a scalar; zero (with a gradient path) when no row is coded.
    """
    w_pos, w_neg = balanced_au_weights(positive_rate.to(au_logits), min_rate)
    targets = au_targets.to(au_logits)
    per_entry = targets * w_pos * F.softplus(-au_logits) + (1.0 - targets) * w_neg * F.softplus(au_logits)
    if skip_uncoded:
        per_entry = per_entry[coded_rows(au_targets)]
    if per_entry.numel() == 0:
        return au_logits.sum() * 0.0
    return per_entry.mean()


def class_weights(class_counts, n_classes: int, mode: str) -> torch.Tensor:
    """Cross-entropy class weights: ones for ``"none"``, ``n / (C * n_c)`` for ``"balanced"``."""
    if mode == "none" or not class_counts:
        return torch.ones(n_classes)
    if mode != "balanced":
        raise ValueError(f"model.class_weight must be none or balanced, got {mode!r}")
    counts = torch.tensor(class_counts, dtype=torch.float32).clamp(min=1)
    return counts.sum() / (len(counts) * counts)
