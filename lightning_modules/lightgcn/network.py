"""LightGCN (He et al., SIGIR 2020) as a LightningModule, optionally with item content (LightGCN-with-features).

E^(0) = [user ID embeddings; item ID embeddings (+ content)], E^(l+1) = A E^(l) with A the symmetric-normalised
user-item adjacency, and the final representation is the mean over layers 0..L. Trained with BPR and
``reg_weight`` x a penalty on the batch's ID (layer-0) embeddings: by default (``reg_form: squared``) the sum of
their squares / (2 x batch), the paper's L2 as its code computes it; ``reg_form: norm`` is MMRec's EmbLoss
(Frobenius norms / batch; lightning_modules/layers/rec_losses.py). MMRec's LightGCN is ``reg_form=norm`` with its
grid's reg_weight (1e-2 .. 1e-6). On MovieLens-100k with reg_weight 1e-2 and 1 layer (seed 0,
benchmarks/rec_ablations.py ``reg_forms``): test Recall@20 .318 squared, .328 norm.

Choices (knobs in experiments/_defaults/methods/lightgcn.yaml): ``n_layers`` (2, MGCN's user-item view setting),
``embedding_dim`` (64); ``use_features`` adds sum over modalities of a projection of the item's content to its
layer-0 embedding (how multimodal papers, BeFA's included, give LightGCN content); ``befa`` (implies
``use_features``) makes that projection BeFA's adapter guided by the item's ID embedding.
"""

from __future__ import annotations

import torch
from torch import nn

from lightning_modules.layers.rec_content import ContentSettings, build_content_encoders
from lightning_modules.layers.rec_graphs import FixedSparse, lightgcn_propagate


class LightGCNNetwork(nn.Module):
    def __init__(self, n_users: int, n_items: int, feature_dims: dict[str, int], embedding_dim: int, n_layers: int,
                 use_features: bool, content: ContentSettings):
        super().__init__()
        dim = embedding_dim
        self.n_layers = n_layers
        self.user_id = nn.Embedding(n_users, dim)
        self.item_id = nn.Embedding(n_items, dim)
        nn.init.xavier_uniform_(self.user_id.weight)
        nn.init.xavier_uniform_(self.item_id.weight)
        self.use_features = use_features or content.befa
        self.content = build_content_encoders(feature_dims, dim, dim, content) if self.use_features else None

    def item_input(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        items = self.item_id.weight
        if self.content is not None:
            items = items + sum(self.content[m](x, self.item_id.weight) for m, x in features.items())
        return items

    def forward(self, adjacency: FixedSparse, features: dict[str, torch.Tensor]):
        """(final user table, final item table)."""
        ego = torch.cat([self.user_id.weight, self.item_input(features)])
        final = lightgcn_propagate(adjacency, ego, self.n_layers)
        n_users = len(self.user_id.weight)
        return final[:n_users], final[n_users:]
