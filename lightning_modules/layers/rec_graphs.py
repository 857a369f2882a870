"""Graphs of the recommendation methods, as torch sparse COO matrices (CPU friendly; no pyg-lib, no SparseTensor).

- :func:`bipartite_adjacency`: the symmetric-normalised user-item graph of LightGCN (He et al., SIGIR 2020),
  D^-1/2 A D^-1/2 with A = [[0, R], [R^T, 0]], used by LightGCN, MGCN's user-item view and LD4MRec.
- :func:`normalized_interactions`: its user-item block D_u^-1/2 R D_i^-1/2, which MGCN uses to give users the
  mean of their items' modality embeddings.
- :func:`knn_item_graph`: MGCN's frozen item-item graph of one modality: each item linked to its k most
  cosine-similar items on the raw features (the item itself included, being its own nearest neighbour), then
  D^-1/2 A D^-1/2 with D the row sums of A. ``weights="similarity"`` keeps the cosine similarities as the edge
  weights of A, as the MGCN authors' code does (``build_knn_normalized_graph`` in MMRec's utils: top-k values
  scattered, then symmetric normalisation by the row sums); ``"binary"`` sets every edge to 1 (then D = k for
  every item and the rows average their neighbours). Similarities are computed chunk by chunk (torch.mm + topk),
  so the items x items matrix never exists at once. A zero feature vector has similarity 0 to everything (the
  authors' code divides by its zero norm and gets NaN); a row whose weights sum to 0 or less is left empty.
- :func:`lightgcn_propagate`: the layer-mean propagation of LightGCN.
- :class:`FixedSparse`: how the models hold a graph: a module applying the (frozen) matrix to dense features.
  torch's COO product is slow on CPU, and its backward transposes the matrix on every call; FixedSparse keeps
  the matrix and its transpose as CSR and hands autograd the transpose directly (2-5x faster per product,
  measured in benchmarks/rec.py's MGCN epoch).

torch-geometric's LGConv computes the same propagation (identical numbers on a CSR adjacency, 1e-7 on an edge
list) but is slower here, so the recommenders keep FixedSparse: one forward + backward of 2-layer LightGCN on
MovieLens-100k, d = 64, 1 thread, 4.1 ms ours vs 25 ms LGConv on a torch CSR adjacency and 170-200 ms on an edge
list (benchmarks/pyg_lightgcn.py; its autograd transposes the sparse matrix on every backward, and the edge-list
path gathers and scatters 160k messages per layer without torch-scatter).
"""

from __future__ import annotations

import torch
from torch import nn


def sparse_from_entries(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]
                        ) -> torch.Tensor:
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, shape, check_invariants=False).coalesce()


def inverse_sqrt_degree(degree: torch.Tensor) -> torch.Tensor:
    """deg^-1/2, with 0 for isolated nodes (instead of inf)."""
    return torch.where(degree > 0, degree.clamp(min=1e-12).rsqrt(), torch.zeros_like(degree))


def bipartite_adjacency(train_matrix: torch.Tensor) -> torch.Tensor:
    """(U + I, U + I) symmetric-normalised adjacency of the user-item graph; users first, then items: the block
    :func:`normalized_interactions` above the diagonal and its transpose below."""
    block = normalized_interactions(train_matrix)
    n_users, n_items = block.shape
    (users, items), weights = block.indices(), block.values()
    rows = torch.cat([users, items + n_users])
    cols = torch.cat([items + n_users, users])
    size = n_users + n_items
    return sparse_from_entries(rows, cols, torch.cat([weights, weights]), (size, size))


def normalized_interactions(train_matrix: torch.Tensor) -> torch.Tensor:
    """(U, I) D_u^-1/2 R D_i^-1/2, with D the user and item degrees of the binary training matrix R."""
    matrix = train_matrix.coalesce()
    users, items = matrix.indices()
    ones = torch.ones(len(users))
    user_degree = torch.zeros(matrix.shape[0]).index_add_(0, users, ones)
    item_degree = torch.zeros(matrix.shape[1]).index_add_(0, items, ones)
    weights = inverse_sqrt_degree(user_degree)[users] * inverse_sqrt_degree(item_degree)[items]
    return sparse_from_entries(users, items, weights, tuple(matrix.shape))


KNN_WEIGHTS = ("similarity", "binary")


@torch.no_grad()
def knn_similarities(features: torch.Tensor, k: int, chunk_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """((n, k) cosine similarities, (n, k) indices) of each row's k most cosine-similar rows (itself included),
    computed in row chunks."""
    normalized = torch.nn.functional.normalize(features.float(), dim=1)
    k = min(k, len(normalized))
    chunks = [torch.topk(chunk @ normalized.T, k, dim=1) for chunk in normalized.split(chunk_size)]
    return torch.cat([c.values for c in chunks]), torch.cat([c.indices for c in chunks])


def knn_neighbours(features: torch.Tensor, k: int, chunk_size: int = 1024) -> torch.Tensor:
    """(n, k) indices of each row's k most cosine-similar rows (itself included), computed in row chunks."""
    return knn_similarities(features, k, chunk_size)[1]


def knn_item_graph(features: torch.Tensor, k: int = 10, chunk_size: int = 1024, weights: str = "similarity"
                   ) -> torch.Tensor:
    """(n, n) symmetric-normalised kNN graph on cosine similarity of ``features`` (MGCN's item-item view), with
    the similarities (``weights="similarity"``, the authors' code) or ones (``"binary"``) as edge weights."""
    if weights not in KNN_WEIGHTS:
        raise ValueError(f"model.knn_weights must be one of {KNN_WEIGHTS}, got {weights!r}")
    similarities, neighbours = knn_similarities(features, k, chunk_size)
    n, k = neighbours.shape
    rows = torch.arange(n).repeat_interleave(k)
    cols = neighbours.flatten()
    values = similarities.flatten() if weights == "similarity" else torch.ones(len(rows))
    degree = torch.zeros(n).index_add_(0, rows, values)
    scale = inverse_sqrt_degree(degree)
    return sparse_from_entries(rows, cols, scale[rows] * values * scale[cols], (n, n))


class _FixedSparseProduct(torch.autograd.Function):
    """``matrix @ dense`` with the gradient ``transpose @ grad`` (the matrix itself gets no gradient)."""

    @staticmethod
    def forward(ctx, matrix, transpose, dense):
        ctx.transpose = transpose
        return matrix @ dense

    @staticmethod
    def backward(ctx, grad):
        return None, None, (ctx.transpose @ grad if ctx.needs_input_grad[2] else None)


class FixedSparse(nn.Module):
    """A frozen sparse matrix as a module: ``graph(dense)`` is ``matrix @ dense``, differentiable in ``dense``.

    Built from a COO matrix (the functions above); stores CSR copies of it and of its transpose as non-persistent
    buffers, so they follow the module's device and stay out of checkpoints (they are rebuilt from the data).
    """

    def __init__(self, matrix: torch.Tensor):
        super().__init__()
        matrix = matrix.coalesce()
        self.shape = tuple(matrix.shape)
        self.register_buffer("matrix", matrix.to_sparse_csr(), persistent=False)
        self.register_buffer("transpose", matrix.t().coalesce().to_sparse_csr(), persistent=False)

    def forward(self, dense: torch.Tensor) -> torch.Tensor:
        return _FixedSparseProduct.apply(self.matrix, self.transpose, dense)

    def to_dense(self) -> torch.Tensor:
        return self.matrix.to_dense()


def lightgcn_propagate(adjacency: FixedSparse, embeddings: torch.Tensor, n_layers: int) -> torch.Tensor:
    """Mean of [E, A E, A^2 E, ..., A^L E] (LightGCN's layer combination with uniform weights 1 / (L + 1))."""
    layers = [embeddings]
    for _ in range(n_layers):
        layers.append(adjacency(layers[-1]))
    return torch.stack(layers).mean(0)
