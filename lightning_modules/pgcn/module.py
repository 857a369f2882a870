"""PGCN (Zhou et al.): progressive coarse-to-fine classification on a dual electrode graph.

Network (x: 62 electrodes x 5 DE bands):

- static branch: a Chebyshev graph convolution on the fixed spatial-proximity graph of the electrode grid
  (lightning_modules/layers/eeg_graph.py, the "static spatial proximity" of the abstract);
- dynamic branch: per sample, node embeddings e = tanh(x W_e) give a functional graph A = softmax_rows(relu(e e^T))
  (the "dynamic functional connections"), on which a second Chebyshev graph convolution runs;
- the two branches' node features are concatenated, reduced per electrode by a shared linear map (``pointwise``)
  and flattened over electrodes (electrode identity kept), then go to two heads: a coarse head
  (``coarse_groups``: which fine classes form each coarse class) and a fine head that reads the same feature
  together with the coarse head's softmax (the "progressive" coarse -> fine step).

Loss: CE(fine) + ``coarse_weight`` * CE(coarse). Prediction: the fine head.

Faithful to the abstract's two modules; not to numbers: the abstract gives neither the functional-graph formula,
the widths, the coarse classes of SEED (the paper uses SEED-IV / MPED), nor the loss weight. Our choices (knobs):
``coarse_groups`` [[neutral], [negative, positive]] by class index of data.classes (neutral vs emotional, an
arousal-like split; [[0], [1, 2]] = negative vs non-negative is the alternative), ``hidden`` 32, ``order`` 2,
``embedding`` 16, ``pointwise`` 16, ``coarse_weight`` 0.5, ``dropout`` 0.5.

Readout (``readout``), chosen on inner validation: the first version pooled the node features over electrodes
(mean and max, ``pool``); after a TEST-fold score of the SEED stand-in had been seen (46.4 +- 9.3 % against DGCNN's
82.8) it was replaced by the per-electrode reduction and flattening above (``flatten``). Because that change was
made after seeing a test score, the choice was made again, on validation data only
(benchmarks/pgcn_readout.py -> benchmarks/results/pgcn_readout.json): the two candidates and the rule were
written down and committed before the runs (higher mean over three settings of subject-averaged validation
accuracy; ties under 0.005 to ``pool``); the settings are an inner split of the TRAINING trials of the SEED and
SEED-IV stand-ins (``protocol.last_trial``: SEED trials 1-6 train / 7-9 validate, SEED-IV 1-11 / 12-16; the outer
test trials never read) and leave-one-subject-out on the first 5 subjects of a calibration draw of the SEED
stand-in (generator seed 100; none of its subjects is in a reported run). Validation accuracy ``flatten`` /
``pool``: 0.786 / 0.415 (SEED trials), 0.505 / 0.103 (SEED-IV trials: a lopsided split, SEED-IV's label lists put
no neutral trial among session 3's trials 1-11 but two among 12-16, and session 1's most frequent training class,
neutral, is absent from its 12-16; below-chance scores follow from that, for both candidates alike), 0.754 / 0.598
(calibration subjects); mean 0.682 / 0.372: the default stays ``flatten``, now chosen by that rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.eeg_graph import ChebConv, chebyshev_basis, normalized_laplacian, proximity_adjacency


def coarse_map(groups: Sequence[Sequence[int]], n_classes: int) -> torch.Tensor:
    """Fine class -> coarse class, checking that the groups partition the classes."""
    mapping = torch.full((n_classes,), -1, dtype=torch.long)
    for g, members in enumerate(groups):
        for c in members:
            if not 0 <= int(c) < n_classes or mapping[int(c)] >= 0:
                raise ValueError(f"coarse_groups {list(map(list, groups))}: class {c} out of range or repeated")
            mapping[int(c)] = g
    if (mapping < 0).any():
        missing = torch.where(mapping < 0)[0].tolist()
        raise ValueError(f"coarse_groups {list(map(list, groups))} leaves classes {missing} without a coarse class")
    return mapping


READOUTS = ("flatten", "pool")


class PGCN(nn.Module):
    def __init__(self, channels: Sequence[str], n_bands: int, n_classes: int,
                 coarse_groups: Sequence[Sequence[int]] = ((1,), (0, 2)), hidden: int = 32, order: int = 2,
                 embedding: int = 16, pointwise: int = 16, dropout: float = 0.5,
                 readout: Literal["flatten", "pool"] = "flatten"):
        super().__init__()
        self.order, self.readout = order, readout
        static = torch.as_tensor(proximity_adjacency(channels), dtype=torch.float32)
        self.register_buffer("static_basis", chebyshev_basis(normalized_laplacian(static), order))
        self.register_buffer("coarse_of", coarse_map(coarse_groups, n_classes))
        self.static_conv = ChebConv(n_bands, hidden, order)
        self.embed = nn.Linear(n_bands, embedding)
        self.dynamic_conv = ChebConv(n_bands, hidden, order)
        self.dropout = nn.Dropout(dropout)
        n_coarse = len(coarse_groups)
        if readout == "flatten":  # per-electrode reduction, flattened in electrode order; linear heads
            self.pointwise = nn.Linear(2 * hidden, pointwise)
            width = len(channels) * pointwise
            self.coarse_head = nn.Linear(width, n_coarse)
            self.fine_head = nn.Linear(width + n_coarse, n_classes)
        elif readout == "pool":  # mean and max over electrodes (the first version); a one-hidden-layer fine head
            width = 4 * hidden
            self.coarse_head = nn.Linear(width, n_coarse)
            self.fine_head = nn.Sequential(nn.Linear(width + n_coarse, hidden), nn.ReLU(), nn.Dropout(dropout),
                                           nn.Linear(hidden, n_classes))
        else:
            raise ValueError(f"readout={readout!r}: expected one of {READOUTS}")

    def functional_graph(self, x: torch.Tensor) -> torch.Tensor:
        e = torch.tanh(self.embed(x))
        return torch.softmax(F.relu(e @ e.transpose(1, 2)), dim=-1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        a = self.functional_graph(x)
        a = (a + a.transpose(1, 2)) / 2
        dynamic_basis = chebyshev_basis(normalized_laplacian(a), self.order)
        h = torch.cat([F.relu(self.static_conv(x, self.static_basis)), F.relu(self.dynamic_conv(x, dynamic_basis))],
                      dim=-1)
        if self.readout == "flatten":
            pooled = self.dropout(F.relu(self.pointwise(h)).flatten(1))
        else:
            pooled = self.dropout(torch.cat([h.mean(1), h.amax(1)], dim=-1))
        coarse = self.coarse_head(pooled)
        fine = self.fine_head(torch.cat([pooled, coarse.softmax(-1)], dim=-1))
        return {"fine": fine, "coarse": coarse}


class PGCNModule(ClassifierModule):
    model_block = ModelBlock(PGCN, knobs=("coarse_weight",))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, channels=info.channels, n_bands=info.n_bands,
                                              n_classes=info.n_classes)
        self.coarse_weight = float(cfg.model.coarse_weight)

    def compute(self, batch: dict):
        out = self.network(batch["x"])
        losses = {"ce": F.cross_entropy(out["fine"], batch["y"])}
        if self.coarse_weight > 0:
            losses["coarse_ce"] = self.coarse_weight * F.cross_entropy(out["coarse"],
                                                                       self.network.coarse_of[batch["y"]])
        return {"scores": out["fine"]}, losses
