"""The MGCNModule LightningModule: BPR training, ranking and the optimiser around the plain network of network.py
(the layout of the classifiers: network.py holds the nn.Module, module.py the LightningModule)."""

from __future__ import annotations

import torch
from torch import nn

from lightning_modules.layers.rec_graphs import (
    FixedSparse,
    bipartite_adjacency,
    knn_item_graph,
    normalized_interactions,
)
from lightning_modules.layers.rec_losses import info_nce
from lightning_modules.layers.rec_module import EmbeddingRecommender, Representations
from lightning_modules.mgcn.network import MGCNNetwork


class MGCNModule(EmbeddingRecommender):
    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        model_cfg = cfg.model
        self.net = MGCNNetwork(self.n_users, self.n_items, info.feature_dims, model_cfg)
        if bool(model_cfg.train_features):
            for modality in self.modalities:  # fine-tuned copies of the raw features, as in the authors' code
                setattr(self, f"features_{modality}", nn.Parameter(getattr(self, f"features_{modality}").clone()))
        self.adjacency = FixedSparse(bipartite_adjacency(info.train_matrix))
        self.user_items = FixedSparse(normalized_interactions(info.train_matrix))
        self.item_graph = nn.ModuleDict({m: FixedSparse(knn_item_graph(array, k=int(model_cfg.knn_k)))
                                         for m, array in info.features.items()})

    def item_graphs(self) -> dict[str, FixedSparse]:
        return dict(self.item_graph)

    def representations(self, features=None) -> Representations:
        final, side, behaviour = self.net(self.adjacency, self.user_items, self.item_graphs(),
                                          self.content_features(features))
        users, items = final[: self.n_users], final[self.n_users :]
        return Representations(users=users, items=items, regularized=(users, items),
                               extras={"side": side, "behaviour": behaviour})

    def extra_losses(self, batch, reps: Representations) -> dict[str, torch.Tensor]:
        side, behaviour = reps.extras["side"], reps.extras["behaviour"]
        users, items = batch["user"], batch["pos"] + self.n_users
        temperature = float(self.cfg.model.cl_temperature)
        contrast = info_nce(side[users], behaviour[users], temperature) + info_nce(
            side[items], behaviour[items], temperature
        )
        return {"cl": float(self.cfg.model.cl_weight) * contrast}
