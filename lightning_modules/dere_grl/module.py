"""LightningModule of DeRe-GRL (arXiv 2303.01776; network.py says what is faithful and what was chosen).

Objective: cross-entropy, weighted by ``n / (C * n_c)`` from the fold's training class counts when
``model.class_weight: balanced`` (a choice, as for geograph). The ADM map and RRM relation logits train at
``model.structure_lr_scale`` times the learning rate (network.py says why). ``interpretation()`` returns the learned
component->action map, the RRM relation weights and the per-class action importance; the fold runner averages
them over folds into results/<name>/<dataset>/interpretation.json.
"""

from __future__ import annotations

import numpy as np
from torch.nn import functional as F

from lightning_modules.dere_grl.network import DeReGRL
from lightning_modules.geograph.losses import class_weights
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.optim import build_optimizer, trainer_epochs


class DeReGRLModule(ClassifierModule):
    model_block = ModelBlock(DeReGRL, knobs=("class_weight", "structure_lr_scale"))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.net = self.model_block.build(cfg, n_classes=info.n_classes)
        self.register_buffer("ce_weights", class_weights(info.class_counts, info.n_classes,
                                                         str(cfg.model.class_weight)))

    def compute(self, batch):
        scores = self.net(batch["landmarks"])
        return {"scores": scores}, {"ce": F.cross_entropy(scores, batch["y"], weight=self.ce_weights)}

    def interpretation(self) -> dict[str, np.ndarray]:
        return self.net.interpretation()

    def configure_optimizers(self):
        """The shared optimiser, with the map and relation logits at ``model.structure_lr_scale`` x the lr."""
        structure = self.net.structure_parameters()
        ids = {id(p) for p in structure}
        groups = [
            {"params": [p for p in self.parameters() if id(p) not in ids]},
            {"params": structure, "lr": float(self.cfg.optim.lr) * float(self.cfg.model.structure_lr_scale)},
        ]
        return build_optimizer(groups, self.cfg.optim, trainer_epochs(self))
