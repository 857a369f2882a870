"""MGCN (Yu et al., "Multi-View Graph Convolutional Network for Multimedia Recommendation", ACM MM 2023).

1. Behaviour-guided purifier: each modality's content feature is projected to the embedding size (a linear map,
   or BeFA's adapter with ``model.befa: true``) and gates the item ID embedding,
   ``e_{i,m} = e_i * sigmoid(W_m x'_{i,m} + b_m)``, so only the parts of behaviour the content supports pass.
   (The released BeFA form, ``befa_form: released``, is itself a deeper gate of the ID embedding and takes this
   gate's place.)
2. User-item view: LightGCN over the normalised user-item graph (``n_ui_layers`` = 2, mean over layers) on the
   ID embeddings gives the behaviour representation E_b.
3. Item-item view: per modality, a frozen kNN graph on the RAW features (k = ``knn_k`` = 10, cosine; the
   similarities kept as edge weights, ``knn_weights: similarity``, as in the authors' code, or ``binary``;
   symmetric normalisation; lightning_modules/layers/rec_graphs.py) propagates the purified item embeddings
   ``n_ii_layers`` = 1 time; users get D_u^-1/2 R D_i^-1/2 times those item embeddings.
4. Behaviour-aware fuser: attention weights (Linear-Tanh-Linear, softmax over modalities) form the common part
   E_c = sum_m a_m E_m; each modality's specific part E_m - E_c is gated by a preference gate
   sigmoid(W E_b + b); side = (sum_m gated specific_m + E_c) / (M + 1); final = E_b + side.
5. Loss: BPR on final embeddings + ``reg_weight`` x L2 of the batch's final embeddings + ``cl_weight`` x
   InfoNCE(side, behaviour) for the batch's users and positive items (temperature ``cl_temperature`` = 0.2).
   Adam at 1e-3 with the authors' learning-rate decay, lr x 0.96 ** (epoch / 50) (``optim.scheduler:
   exponential``).

The fuser works row by row, so a training step runs it (and forms the final embeddings) only for the batch's
users and items (``forward(..., users, items)``); the propagations still cover the whole graph. The loss and its
gradients are those of the whole-table computation (tests/test_rec_models.py compares them).

Paper-silent choices, each a knob: the raw content features stay frozen (``train_features: false``; the
authors' code fine-tunes them, which costs 29M extra parameters at Amazon scale), and ``cl_weight`` defaults to
0.01 from the paper's grid {0.001, 0.01, 0.1}; pick it on validation, never on test. Other differences from the
authors' code are listed in the method's faithfulness note (lightning_modules/mgcn/__init__.py).
"""

from __future__ import annotations

import torch
from torch import nn

from lightning_modules.layers.rec_content import ContentSettings, build_content_encoders
from lightning_modules.layers.rec_graphs import (
    FixedSparse,
    lightgcn_propagate,
)


class MGCNNetwork(nn.Module):
    def __init__(self, n_users: int, n_items: int, feature_dims: dict[str, int], embedding_dim: int,
                 n_ui_layers: int, n_ii_layers: int, content: ContentSettings):
        super().__init__()
        dim = embedding_dim
        self.n_users = n_users
        self.n_ui_layers = n_ui_layers
        self.n_ii_layers = n_ii_layers
        self.user_id = nn.Embedding(n_users, dim)
        self.item_id = nn.Embedding(n_items, dim)
        nn.init.xavier_uniform_(self.user_id.weight)
        nn.init.xavier_uniform_(self.item_id.weight)
        self.content = build_content_encoders(feature_dims, dim, dim, content)
        self.purifier = nn.ModuleDict({m: nn.Sequential(nn.Linear(dim, dim), nn.Sigmoid()) for m in feature_dims
                                       if not self.content[m].gates_behaviour})  # the released BeFA is its own gate
        self.common_attention = nn.Sequential(nn.Linear(dim, dim), nn.Tanh(), nn.Linear(dim, 1, bias=False))
        self.preference_gate = nn.ModuleDict(
            {m: nn.Sequential(nn.Linear(dim, dim), nn.Sigmoid()) for m in feature_dims}
        )

    def purified_items(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        items = self.item_id.weight
        purified = {}
        for m, x in features.items():
            content = self.content[m](x, items)
            purified[m] = content if self.content[m].gates_behaviour else items * self.purifier[m](content)
        return purified

    def modality_view(self, items: torch.Tensor, item_graph: FixedSparse, user_items: FixedSparse) -> torch.Tensor:
        for _ in range(self.n_ii_layers):
            items = item_graph(items)
        return torch.cat([user_items(items), items])

    def fuse(self, views: list[torch.Tensor], behaviour: torch.Tensor, modalities: list[str]) -> torch.Tensor:
        weights = torch.softmax(torch.cat([self.common_attention(v) for v in views], dim=-1), dim=-1)
        common = sum(weights[:, j : j + 1] * v for j, v in enumerate(views))
        specific = [self.preference_gate[m](behaviour) * (v - common) for m, v in zip(modalities, views)]
        return (sum(specific) + common) / (len(views) + 1)

    def forward(self, adjacency: FixedSparse, user_items: FixedSparse, item_graphs: dict[str, FixedSparse],
                features: dict[str, torch.Tensor], users: torch.Tensor | None = None,
                items: torch.Tensor | None = None):
        """(final, side, behaviour): rows of all users then all items, or, given ``users`` and ``items`` (ids),
        the rows of those users followed by those items."""
        purified = self.purified_items(features)
        behaviour = lightgcn_propagate(adjacency, torch.cat([self.user_id.weight, self.item_id.weight]),
                                       self.n_ui_layers)
        modalities = list(purified)
        views = [self.modality_view(purified[m], item_graphs[m], user_items) for m in modalities]
        if users is not None and items is not None:
            rows = torch.cat([users, items + self.n_users])
            behaviour, views = behaviour[rows], [v[rows] for v in views]
        side = self.fuse(views, behaviour, modalities)
        return behaviour + side, side, behaviour
