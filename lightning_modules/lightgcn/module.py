"""The LightGCNModule LightningModule: BPR training, ranking and the optimiser around the plain network of network.py
(the layout of the classifiers: network.py holds the nn.Module, module.py the LightningModule)."""

from __future__ import annotations

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.rec_content import ContentSettings
from lightning_modules.layers.rec_graphs import FixedSparse, bipartite_adjacency
from lightning_modules.layers.rec_module import EMBEDDING_KNOBS, EmbeddingRecommender, Representations
from lightning_modules.lightgcn.network import LightGCNNetwork


class LightGCNModule(EmbeddingRecommender):
    model_block = ModelBlock(LightGCNNetwork, knobs=EMBEDDING_KNOBS, groups={"content": ContentSettings})

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.net = self.model_block.build(cfg, n_users=self.n_users, n_items=self.n_items,
                                          feature_dims=info.feature_dims)
        self.uses_content = self.net.use_features
        self.adjacency = FixedSparse(bipartite_adjacency(info.train_matrix))

    def representations(self, features=None) -> Representations:
        users, items = self.net(self.adjacency, self.content_features(features))
        return Representations(users=users, items=items, regularized=(self.net.user_id.weight, self.net.item_id.weight))
