"""LightningModule of LBP-SDG (Wei, Lu, Yan, arXiv 2102.08068).

Faithful to the abstract: the clip is Euler-magnified (the ``magnify`` stage), LBP-TOP and the Histogram of
Single Direction Gradient (HSDG) are computed on it (the ``features`` stage, preprocessing/lbptop.py and
preprocessing/hsdg.py), the HSDG of the chosen direction(s) is concatenated after LBP-TOP, and a linear SVM
classifies (LOSO). The SVM is :class:`~lightning_modules.lbptop_svm.module.LinearSVMModule` (LinearSVC's
exact optimum, lightning_modules/layers/svm.py) with the same ``c``, ``class_weight`` and ``standardize`` knobs;
this module only decides the feature vector.

The paper compares the 18 directions one by one and by kind of movement; here ``model.directions`` selects
them (directions.py: families, names or indices of preprocessing/hsdg.py's steps), and experiments
``lbp_sdg-<family>`` (horizontal, vertical, oblique, temporal) run each family so the report can show which
discriminates best. Choice where the paper is silent: the default ``lbp_sdg`` experiment uses all 18 directions.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from omegaconf import OmegaConf

from lightning_modules.lbp_sdg.directions import resolve_directions, select_directions
from lightning_modules.lbptop_svm.module import LinearSVMModule


class LBPSDGModule(LinearSVMModule):
    feature_keys = ("lbptop", "hsdg")

    def __init__(self, cfg, info):
        n_directions, *histogram = info.input_shapes["hsdg"]
        spec = cfg.model.directions  # a list, or one item from a CLI/grid override (model.directions=t+)
        directions = resolve_directions(OmegaConf.to_container(spec) if OmegaConf.is_config(spec) else spec,
                                        n_directions)
        shapes = {**info.input_shapes, "hsdg": (len(directions), *histogram)}
        super().__init__(cfg, replace(info, input_shapes=shapes))
        self.register_buffer("directions", torch.tensor(directions, dtype=torch.long))

    def raw_features(self, batch: dict) -> torch.Tensor:
        return torch.cat([batch["lbptop"].flatten(1), select_directions(batch["hsdg"], self.directions)], dim=1)
