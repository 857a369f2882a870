"""The MGCNModule LightningModule: BPR training, ranking and the optimiser around the plain network of network.py
(the layout of the classifiers: network.py holds the nn.Module, module.py the LightningModule)."""

from __future__ import annotations

import torch
from torch import nn

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.rec_content import ContentSettings
from lightning_modules.layers.rec_graphs import (
    FixedSparse,
    bipartite_adjacency,
    knn_item_graph,
    normalized_interactions,
)
from lightning_modules.layers.rec_losses import info_nce
from lightning_modules.layers.rec_module import EMBEDDING_KNOBS, EmbeddingRecommender, Representations
from lightning_modules.mgcn.network import MGCNNetwork


class MGCNModule(EmbeddingRecommender):
    model_block = ModelBlock(
        MGCNNetwork,
        knobs=(*EMBEDDING_KNOBS, "train_features", "knn_k", "knn_weights", "cl_weight", "cl_temperature"),
        groups={"content": ContentSettings},
    )

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        model_cfg = cfg.model
        self.net = self.model_block.build(cfg, n_users=self.n_users, n_items=self.n_items,
                                          feature_dims=info.feature_dims)
        if bool(model_cfg.train_features):
            for modality in self.modalities:  # fine-tuned copies of the raw features, as in the authors' code
                setattr(self, f"features_{modality}", nn.Parameter(getattr(self, f"features_{modality}").clone()))
        self.adjacency = FixedSparse(bipartite_adjacency(info.train_matrix))
        self.user_items = FixedSparse(normalized_interactions(info.train_matrix))
        self.item_graph = nn.ModuleDict({
            m: FixedSparse(knn_item_graph(array, k=int(model_cfg.knn_k), weights=str(model_cfg.knn_weights)))
            for m, array in info.features.items()
        })

    def item_graphs(self) -> dict[str, FixedSparse]:
        return dict(self.item_graph)

    def representations(self, features=None, users=None, items=None) -> Representations:
        """All users and items, or (training) only the given ``users`` and ``items`` ids, in that order."""
        final, side, behaviour = self.net(self.adjacency, self.user_items, self.item_graphs(),
                                          self.content_features(features), users, items)
        n_users = self.n_users if users is None else len(users)
        users_table, items_table = final[:n_users], final[n_users:]
        return Representations(users=users_table, items=items_table, regularized=(users_table, items_table),
                               extras={"side": side, "behaviour": behaviour})

    def batch_representations(self, batch):
        """The fuser runs only on the batch's distinct users and items; the batch is re-indexed into them."""
        n_pairs = len(batch["pos"])
        users, user_rows = torch.unique(batch["user"], return_inverse=True)
        items, item_rows = torch.unique(torch.cat([batch["pos"], batch["neg"]]), return_inverse=True)
        reps = self.representations(users=users, items=items)
        return reps, {"user": user_rows, "pos": item_rows[:n_pairs], "neg": item_rows[n_pairs:]}

    def extra_losses(self, batch, reps: Representations) -> dict[str, torch.Tensor]:
        side, behaviour = reps.extras["side"], reps.extras["behaviour"]
        users, items = batch["user"], batch["pos"] + len(reps.users)
        temperature = float(self.cfg.model.cl_temperature)
        contrast = info_nce(side[users], behaviour[users], temperature) + info_nce(
            side[items], behaviour[items], temperature
        )
        return {"cl": float(self.cfg.model.cl_weight) * contrast}
