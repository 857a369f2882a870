"""MFMC's objectives: the FMCA trace dependence, its tracked-moment gradient surrogate, the DTC sum, baselines.

Facts read in the authors' code (github.com/DY9910/MFMC, notebook DEAP/MFMC_Fusion_MLP/
DEAP_MFMC_Fusion_MLP_subject_dep.ipynb, functions ``MFMC_t_trace`` and ``tri_modal_projection_loss``; the ablation
Supplement/DTC_ablation/DEAP_DTC_ablation_subject_dep.ipynb for the pairwise variant; CEAP/
MFMC_InfoNCE_LogDet_Comparison for the InfoNCE comparison); the code here is our own.

FMCA trace (Hu and Principe's Functional Maximal Correlation Algorithm; arXiv 2212.04631). For features
x (B, d) and y (B, d) of two inputs, with UNCENTRED second moments Rx = x'x / B + eps I, Ry = y'y / B + eps I and
Pxy = x'y / B, the dependence is

    T(x, y) = trace(Rx^-1 Pxy Ry^-1 Pxy')                                          (:func:`fmca_trace`)

(the sum of the squared canonical correlations of the two uncentred feature maps; the constant function is in the
span of sigmoid outputs, so independent inputs give about 1, the trivial mode, and shared factors add to it).
Training does not back-propagate through the inverses of one batch's moments: the moments are tracked by an
exponential moving average with bias correction (``cov_beta``, the authors' ``adaptive_estimation``; R^ = EMA
/ (1 - beta^step)) and the loss is minus the trace of

    - R^x^-1 Rx R^x^-1 P^ R^y^-1 P^'  +  R^x^-1 Pxy R^y^-1 P^'
    - R^x^-1 P^ R^y^-1 Ry R^y^-1 P^'  +  R^x^-1 P^ R^y^-1 Pxy'                         (:func:`fmca_surrogate`)

where the hatted moments are the tracked (detached) ones and Rx, Ry, Pxy the batch's: its gradient is the
gradient of T at the tracked moments (each of the four terms is one factor of T differentiated), and its VALUE is
about 0 (the terms cancel when the batch equals the tracked moments), which is why tests and logs read
:func:`fmca_trace`, never the surrogate's value.

DTC objective (MFMC). For M modalities with features f_1..f_M, the code optimises

    L_DTC = sum_i FMCA-surrogate(f_i, P_-i([f_j]_{j != i}))                                (:func:`dtc_loss`)

with one projection head P_-i per modality mapping the concatenation of the OTHER modalities' features to d
(Linear -> BatchNorm -> ReLU -> Linear -> BatchNorm, lightning_modules/mfmc/network.py). Each term estimates the
dependence between one modality and all the others jointly, I(X_i; X_-i); with the identities
sum_i I(X_i; X_-i) = TC + DTC and TC <= (M - 1) DTC one gets the sandwich
DTC <= sum_i I(X_i; X_-i) <= M DTC, so maximising the sum of the M "one-vs-rest" dependences is maximising DTC up
to a factor in [1, M]. That bound is our derivation from the standard identities (the paper's own statement of
its "tight sandwich bound" was not read: no public text of it was available to us); the loss form is the code's.

Baselines: ``pairwise_fmca`` = sum over pairs i < j of FMCA-surrogate(f_i, f_j) (the authors' ablation), and
``pairwise_infonce`` = mean over pairs of the symmetric InfoNCE of L2-normalised features at ``temperature``
(the pairwise contrastive alignment the paper argues against; temperature 0.2 as in the authors' CEAP comparison).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import torch
import torch.nn.functional as F
from torch import nn


def moments(x: torch.Tensor, y: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Uncentred (Rx + eps I, Ry + eps I, Pxy) of one batch."""
    n = x.shape[0]
    eye_x = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    eye_y = torch.eye(y.shape[1], dtype=y.dtype, device=y.device)
    return x.T @ x / n + eps * eye_x, y.T @ y / n + eps * eye_y, x.T @ y / n


def fmca_trace(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """trace(Rx^-1 Pxy Ry^-1 Pxy') of one batch: the FMCA dependence between two feature maps."""
    rx, ry, p = moments(x, y, eps)
    return torch.trace(torch.linalg.solve(rx, p) @ torch.linalg.solve(ry, p.T))


class TrackedMoments(nn.Module):
    """Exponential moving averages of Rx, Ry, Pxy with the step count for the bias correction."""

    def __init__(self, dim_x: int, dim_y: int):
        super().__init__()
        self.register_buffer("rx", torch.zeros(dim_x, dim_x), persistent=False)
        self.register_buffer("ry", torch.zeros(dim_y, dim_y), persistent=False)
        self.register_buffer("pxy", torch.zeros(dim_x, dim_y), persistent=False)
        self.steps = 0

    def update(self, rx, ry, p, beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        self.steps += 1
        correction = 1.0 - beta ** self.steps
        out = []
        for name, value in (("rx", rx), ("ry", ry), ("pxy", p)):
            tracked = beta * getattr(self, name) + (1 - beta) * value.detach()
            setattr(self, name, tracked)
            out.append(tracked / correction)
        return tuple(out)


def fmca_surrogate(x: torch.Tensor, y: torch.Tensor, tracker: TrackedMoments, beta: float,
                   eps: float = 1e-6) -> torch.Tensor:
    """Minus the trace of the tracked-moment gradient surrogate of T(x, y) (module doc); updates ``tracker``."""
    rx, ry, p = moments(x, y, eps)
    rx_hat, ry_hat, p_hat = tracker.update(rx, ry, p, beta)
    ix, iy = torch.linalg.inv(rx_hat), torch.linalg.inv(ry_hat)
    cost = (-ix @ rx @ ix @ p_hat @ iy @ p_hat.T + ix @ p @ iy @ p_hat.T
            - ix @ p_hat @ iy @ ry @ iy @ p_hat.T + ix @ p_hat @ iy @ p.T)
    return -torch.trace(cost)


def rest_of(features: Sequence[torch.Tensor], i: int) -> torch.Tensor:
    return torch.cat([f for j, f in enumerate(features) if j != i], dim=1)


def dtc_loss(features: Sequence[torch.Tensor], projectors: nn.ModuleList, trackers: nn.ModuleList, beta: float,
             eps: float = 1e-6) -> torch.Tensor:
    """sum_i FMCA-surrogate(f_i, P_-i(others)): MFMC's DTC objective (module doc)."""
    return sum(fmca_surrogate(f, projectors[i](rest_of(features, i)), trackers[i], beta, eps)
               for i, f in enumerate(features))


def dtc_value(features: Sequence[torch.Tensor], projectors: nn.ModuleList, eps: float = 1e-6) -> torch.Tensor:
    """sum_i T(f_i, P_-i(others)) of one batch: the quantity the DTC surrogate climbs."""
    return sum(fmca_trace(f, projectors[i](rest_of(features, i)), eps) for i, f in enumerate(features))


def pairwise_fmca_loss(features: Sequence[torch.Tensor], trackers: nn.ModuleList, beta: float,
                       eps: float = 1e-6) -> torch.Tensor:
    """sum over pairs i < j of FMCA-surrogate(f_i, f_j) (trackers in ``combinations`` order)."""
    pairs = list(combinations(range(len(features)), 2))
    return sum(fmca_surrogate(features[i], features[j], trackers[k], beta, eps) for k, (i, j) in enumerate(pairs))


def info_nce(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE of matched rows (positives on the diagonal), L2-normalised features."""
    logits = F.normalize(x, dim=1) @ F.normalize(y, dim=1).T / temperature
    target = torch.arange(len(x), device=x.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def pairwise_infonce_loss(features: Sequence[torch.Tensor], temperature: float) -> torch.Tensor:
    pairs = list(combinations(range(len(features)), 2))
    return sum(info_nce(features[i], features[j], temperature) for i, j in pairs) / len(pairs)
