"""The VBPRModule LightningModule: BPR training, ranking and the optimiser around the plain network of network.py
(the layout of the classifiers: network.py holds the nn.Module, module.py the LightningModule)."""

from __future__ import annotations

import torch

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.rec_content import ContentSettings
from lightning_modules.layers.rec_module import EMBEDDING_KNOBS, EmbeddingRecommender, Representations
from lightning_modules.vbpr.network import VBPRNetwork


class VBPRModule(EmbeddingRecommender):
    model_block = ModelBlock(VBPRNetwork, knobs=(*EMBEDDING_KNOBS, "reg_scope"), groups={"content": ContentSettings})

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.net = self.model_block.build(cfg, n_users=self.n_users, n_items=self.n_items,
                                          feature_dims=info.feature_dims)

    def representations(self, features=None) -> Representations:
        users, items = self.net(self.content_features(features))
        scope = str(self.cfg.model.reg_scope)
        if scope == "ids":
            regularized = (torch.cat([self.net.user_id.weight, self.net.user_taste.weight], 1), self.net.item_id.weight)
        elif scope == "full":  # the scored vectors, without the users' constant bias column
            regularized = (users[:, : 2 * self.net.dim], items)
        else:
            raise ValueError(f"model.reg_scope must be ids or full, got {scope!r}")
        return Representations(users=users, items=items, regularized=regularized)
