"""BeFA: the Behaviour-driven Feature Adapter (Fan et al., "BeFA: A General Behavior-driven Feature Adapter for
Multimedia Recommendation", AAAI 2025, arXiv 2406.00323), in two forms (``model.befa_form``).

Pre-trained encoders describe a whole image or text, much of it irrelevant to preference ("information drift")
while missing what matters ("information omission"). BeFA adapts each content feature under the guidance of
behaviour.

``released`` (:class:`ReleasedBehaviourGate`): the form of the authors' released code (github.com/fqldom/BeFA,
``LATTICE_BeFA.py``). The content feature is projected to the embedding size (``W x + b``), an MLP on that
projection alone (Linear to ``hidden_dim``, ReLU, dropout, tanh, Linear ``hidden_dim`` -> ``hidden_dim``, ReLU,
dropout, Linear back to the embedding size, sigmoid) gives a gate in (0, 1) per embedding unit, and the adapted
content is the item's ID (behaviour) embedding times that gate, ``e_i * MLP(W x_{i,m})``. Behaviour enters by
being gated, not as an input of the MLP. In the released code this replaces MGCN's one-layer purifier gate
(``sigmoid(W x')``) by the deeper MLP; in VBPR and LightGCN with features, which have no purifier, the gated ID
embedding takes the place of the projected content. The authors' grid: hidden width ``layer_times`` in
{1, 2, 4, 8} x the embedding size, dropout {0.1, 0.3, 0.5, 0.7}; the defaults here (``befa_layer_times: 1``,
``befa_dropout: 0.1``, the smallest of each) are fixed a priori, not tuned: the width for cost (the gate runs
on every item at every step; 4 x made BeFA-VBPR's MovieLens epoch five times VBPR's), the dropout as the
mildest.

``decoupled`` (:class:`BehaviourDrivenFeatureAdapter`): our reading of the paper's text, before the code was
released, in three steps, per modality m and item i:

1. decouple: ``d = W1 x_{i,m} + b1`` spreads the raw content feature over ``hidden_dim`` units;
2. filter with behaviour: ``mask = sigmoid(W2 [d ; e_i] + b2)``, where e_i is the item's ID (behaviour)
   embedding that the base model learns from interactions, keeps the units behaviour supports and suppresses the
   rest (the MLP ends in a sigmoid, as the paper describes);
3. reconstruct: ``W3 (d * mask) + b3`` back to the base model's content dimension.

The output replaces the base model's plain projection of the content feature (in MGCN it then passes the
purifier gate as a projection would). Differences from the released form: the behaviour embedding is an input of
the mask instead of the thing gated, the mask acts on a wider decoupled space that a third linear map brings
back, and the adapted content is a new vector rather than a gated copy of the ID embedding. Choices where the
paper is silent, each a knob: ``hidden_dim`` (default 4 x the content dimension), the mask MLP depth
``mask_layers`` (1: a single linear layer before the sigmoid; 2 adds a hidden LeakyReLU layer), and
``detach_behaviour`` (default false: the behaviour embedding receives gradients through the mask as well as
through the base model).

Measured on MovieLens-100k (test Recall@20, benchmarks/rec_ablations.py, 3 seeds unless said): at the MovieLens
defaults (lr 5e-3, patience 5) BeFA lowers VBPR in both forms (.301 -> .292 released, .296 decoupled) and
slightly raises MGCN (.337 -> .340 released, .338 decoupled; 2 seeds); at the paper-default lr 1e-3 with
patience 10 (1 seed) the released form raises VBPR (.318 -> .323) where the decoupled form lowers it (.295).

Either form plugs into any multimodal recommender that projects content features (here VBPR, LightGCN with
features and MGCN, chosen by ``model.befa: true``; lightning_modules/layers/rec_content.py).
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

BefaForm = Literal["released", "decoupled"]
BEFA_FORMS = get_args(BefaForm)


class ReleasedBehaviourGate(nn.Module):
    """The released form: ``behaviour * MLP(W features + b)``; content (B, in_dim), behaviour (B, out_dim)."""

    gates_behaviour = True  # its output is already the gated ID embedding (MGCN skips its own purifier gate)

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None, dropout: float = 0.1):
        super().__init__()
        hidden_dim = hidden_dim or 4 * out_dim
        self.project = nn.Linear(in_dim, out_dim)
        self.mask = nn.Sequential(
            nn.Linear(out_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout), nn.Tanh(),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, out_dim), nn.Sigmoid(),
        )

    def mask_values(self, features: torch.Tensor, behaviour: torch.Tensor) -> torch.Tensor:
        """The gate in (0, 1) over the embedding units."""
        return self.mask(self.project(features))

    def forward(self, features: torch.Tensor, behaviour: torch.Tensor) -> torch.Tensor:
        return behaviour * self.mask_values(features, behaviour)


class BehaviourDrivenFeatureAdapter(nn.Module):
    """Maps content features (B, in_dim) and item behaviour embeddings (B, behaviour_dim) to (B, out_dim)."""

    gates_behaviour = False

    def __init__(self, in_dim: int, out_dim: int, behaviour_dim: int, hidden_dim: int | None = None,
                 mask_layers: int = 1, detach_behaviour: bool = False):
        super().__init__()
        hidden_dim = hidden_dim or 4 * out_dim
        self.decouple = nn.Linear(in_dim, hidden_dim)
        self.mask = behaviour_mask(hidden_dim + behaviour_dim, hidden_dim, mask_layers)
        self.reconstruct = nn.Linear(hidden_dim, out_dim)
        self.detach_behaviour = detach_behaviour

    def gate(self, decoupled: torch.Tensor, behaviour: torch.Tensor) -> torch.Tensor:
        """The behaviour-driven mask in (0, 1) over the decoupled units."""
        if self.detach_behaviour:
            behaviour = behaviour.detach()
        return self.mask(torch.cat([decoupled, behaviour], dim=-1))

    def mask_values(self, features: torch.Tensor, behaviour: torch.Tensor) -> torch.Tensor:
        """The mask in (0, 1) over the decoupled units."""
        return self.gate(self.decouple(features), behaviour)

    def forward(self, features: torch.Tensor, behaviour: torch.Tensor) -> torch.Tensor:
        decoupled = self.decouple(features)
        return self.reconstruct(decoupled * self.gate(decoupled, behaviour))


def behaviour_mask(in_dim: int, out_dim: int, layers: int) -> nn.Sequential:
    """An MLP of ``layers`` linear layers (LeakyReLU between) ending in a sigmoid."""
    if layers < 1:
        raise ValueError(f"the BeFA mask needs at least one layer, got {layers}")
    modules: list[nn.Module] = []
    width = in_dim
    for _ in range(layers - 1):
        modules += [nn.Linear(width, out_dim), nn.LeakyReLU(0.2)]
        width = out_dim
    modules += [nn.Linear(width, out_dim), nn.Sigmoid()]
    return nn.Sequential(*modules)
