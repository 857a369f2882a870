"""Electrode graphs shared by the EEG emotion methods (DGCNN, PGCN, TANN, STRNN, GMSS).

- :func:`electrode_grid`: a (row, column) cell of a 9 x 9 grid per electrode from its 10-20 style name (our
  choice, from the naming convention alone: rows front to back FP, AF, F, FT/FC, T/C, TP/CP, P, PO, O/CB; column 4
  is the midline ``Z``, odd numbers go left and even right by half their number, so ``x7``/``x8`` sit at the
  edges; CB1 / CB2 sit beside O1 / O2). No measured positions are used.
- :func:`proximity_adjacency`: static spatial proximity, a Gaussian of grid distance cut at ``radius``.
- :func:`brain_regions`: 5 front-to-back groups x (left, midline, right) from the grid (TANN's regions).
- :func:`normalized_laplacian`, :func:`chebyshev_basis`, :class:`ChebConv`: the Chebyshev graph convolution of
  DGCNN; ``lambda_max`` is taken as 2 (the bound of a normalised Laplacian) instead of computed per step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

GRID = 9
_ROWS = {"FP": 0, "AF": 1, "F": 2, "FT": 3, "FC": 3, "T": 4, "C": 4, "TP": 5, "CP": 5, "P": 6, "PO": 7, "O": 8,
         "CB": 8}


def electrode_grid(channels: Sequence[str]) -> np.ndarray:
    """(n, 2) integer (row, column) of each electrode on the 9 x 9 grid (see the module doc)."""
    cells = []
    for name in channels:
        name = name.upper()
        letters = name.rstrip("0123456789Z")
        if letters not in _ROWS:
            raise ValueError(f"electrode {name!r}: no grid row for prefix {letters!r}")
        rest = name[len(letters):]
        if rest == "Z":
            column = 4
        elif letters == "CB":
            column = 1 if int(rest) % 2 else 7
        else:
            number = int(rest)
            column = 4 - (number + 1) // 2 if number % 2 else 4 + number // 2
        cells.append((_ROWS[letters], column))
    return np.asarray(cells, dtype=np.int64)


def proximity_adjacency(channels: Sequence[str], sigma: float = 1.0, radius: float = 1.5) -> np.ndarray:
    """Symmetric (n, n) Gaussian of grid distance, zero beyond `radius` and on the diagonal."""
    cells = electrode_grid(channels).astype(float)
    d = np.sqrt(((cells[:, None] - cells[None]) ** 2).sum(-1))
    a = np.exp(-(d ** 2) / (2 * sigma ** 2)) * (d <= radius)
    np.fill_diagonal(a, 0.0)
    return a


def brain_regions(channels: Sequence[str]) -> np.ndarray:
    """Region id (0..14) per electrode: grid rows in 5 groups (0-1, 2-3, 4, 5-6, 7-8) x left / midline / right."""
    cells = electrode_grid(channels)
    group = np.searchsorted(np.array([1, 3, 4, 6]), cells[:, 0], side="right")
    side = np.where(cells[:, 1] < 4, 0, np.where(cells[:, 1] == 4, 1, 2))
    return 3 * group + side


def normalized_laplacian(a: torch.Tensor) -> torch.Tensor:
    """I - D^-1/2 A D^-1/2 of a non-negative (n, n) or (B, n, n) adjacency (isolated nodes get 0 rows)."""
    degree = a.sum(-1)
    inv = torch.where(degree > 0, degree.clamp_min(1e-12).rsqrt(), torch.zeros_like(degree))
    eye = torch.eye(a.shape[-1], device=a.device, dtype=a.dtype)
    return eye - inv.unsqueeze(-1) * a * inv.unsqueeze(-2)


def chebyshev_basis(laplacian: torch.Tensor, order: int) -> torch.Tensor:
    """T_0..T_{order-1} of the scaled Laplacian 2L/lambda_max - I with lambda_max = 2: (order, ..., n, n)."""
    eye = torch.eye(laplacian.shape[-1], device=laplacian.device, dtype=laplacian.dtype).expand_as(laplacian)
    scaled = laplacian - eye
    terms = [eye, scaled][:order]
    while len(terms) < order:
        terms.append(2 * scaled @ terms[-1] - terms[-2])
    return torch.stack(terms)


class ChebConv(nn.Module):
    """sum_k T_k(L~) X W_k for node features X (B, n, in) and a basis (K, n, n) or (K, B, n, n)."""

    def __init__(self, in_features: int, out_features: int, order: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(order, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        nn.init.xavier_uniform_(self.weight.view(-1, out_features))

    def forward(self, x: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
        if basis.dim() == 3:
            propagated = torch.einsum("kij,bjf->kbif", basis, x)
        else:
            propagated = torch.einsum("kbij,bjf->kbif", basis, x)
        return torch.einsum("kbif,kfo->bio", propagated, self.weight) + self.bias
