"""Losses shared by the recommendation methods.

Two forms of the embedding regulariser exist in the code this suite is compared with, and they are not the same
penalty (``model.reg_form`` picks one; :func:`embedding_regularizer`):

- ``squared``: the sum of the squared entries of the batch's embedding rows / 2, divided by the batch size
  (``tf.nn.l2_loss`` / batch): what the LightGCN paper and its code, and the MGCN authors' code (``bpr_loss`` in
  MMRec's mgcn.py), add; VBPR's paper regularises all parameters with squared L2 norms too. Its gradient shrinks
  each entry in proportion to its size.
- ``norm``: the sum over the embedding tables of their (unsquared) Frobenius norm, divided by the batch size:
  MMRec's ``EmbLoss``, which the toolbox's VBPR and LightGCN use. Its gradient has a fixed length per table
  whatever the entries' size, so at one ``reg_weight`` the two forms regularise very differently (MMRec's VBPR
  default reg_weight 2.0 is mild in the norm form and crushing in the squared form).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

REG_FORMS = ("squared", "norm")


def bpr_loss(user: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
    """Bayesian personalised ranking (Rendle et al., UAI 2009): mean of -log sigmoid(<u, i+> - <u, i->)."""
    margin = (user * positive).sum(-1) - (user * negative).sum(-1)
    return F.softplus(-margin).mean()


def embedding_l2(*embeddings: torch.Tensor) -> torch.Tensor:
    """``squared`` form: sum of squared entries / 2, divided by the batch size (the rows of the first table)."""
    batch = embeddings[0].shape[0]
    return sum(e.pow(2).sum() for e in embeddings) / (2 * batch)


def embedding_norm(*embeddings: torch.Tensor) -> torch.Tensor:
    """``norm`` form: sum of the tables' Frobenius norms, divided by the batch size (MMRec's EmbLoss)."""
    batch = embeddings[0].shape[0]
    return sum(torch.linalg.vector_norm(e) for e in embeddings) / batch


def embedding_regularizer(form: str, *embeddings: torch.Tensor) -> torch.Tensor:
    """The regulariser of ``model.reg_form`` (module docstring) on the batch's embedding rows."""
    if form == "squared":
        return embedding_l2(*embeddings)
    if form == "norm":
        return embedding_norm(*embeddings)
    raise ValueError(f"model.reg_form must be one of {REG_FORMS}, got {form!r}")


class _InfoNCE(torch.autograd.Function):
    """Mean over rows of ``logsumexp(a p^T)_i - (a p^T)_ii`` with a hand-written backward.

    Autograd's log_softmax + cross_entropy keeps a (B, B) log-probability matrix, allocates and zero-fills a (B, B)
    gradient for the NLL and runs a separate log_softmax backward; here the softmax is formed in place in the
    logits buffer and the backward is ``(P - I) / B`` times the two factors: the same numbers (tests compare them
    with autograd) for about half the time outside the two matrix products (benchmarks/rec_mgcn_speed.py).
    """

    @staticmethod
    def forward(ctx, anchor, positive):
        logits = anchor @ positive.T
        row_max = logits.amax(dim=1, keepdim=True)
        probabilities = logits.sub_(row_max).exp_()  # in place: the logits are not needed again
        row_sum = probabilities.sum(dim=1, keepdim=True)
        probabilities.div_(row_sum)
        log_normaliser = row_sum.log_().add_(row_max).squeeze(1)
        loss = (log_normaliser - (anchor * positive).sum(1)).mean()
        ctx.save_for_backward(anchor, positive)
        ctx.probabilities = probabilities  # an attribute, not saved: backward edits it in place and restores it
        return loss

    @staticmethod
    def backward(ctx, grad):
        anchor, positive = ctx.saved_tensors
        probabilities = ctx.probabilities
        probabilities.diagonal().sub_(1.0)  # P - I in place, restored below (a retained graph may run again)
        scale = grad / len(anchor)
        grad_anchor = (probabilities @ positive).mul_(scale) if ctx.needs_input_grad[0] else None
        grad_positive = (probabilities.T @ anchor).mul_(scale) if ctx.needs_input_grad[1] else None
        probabilities.diagonal().add_(1.0)
        return grad_anchor, grad_positive


def info_nce(anchor: torch.Tensor, positive: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE with in-batch negatives over L2-normalised rows: row i of ``anchor`` should match row i of
    ``positive`` and no other row (MGCN's self-supervised term between fused and behaviour embeddings)."""
    anchor = F.normalize(anchor, dim=-1) / temperature  # scaling the (B, d) side, not the (B, B) logits
    positive = F.normalize(positive, dim=-1)
    return _InfoNCE.apply(anchor, positive)
