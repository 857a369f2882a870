"""BeFA: the Behaviour-driven Feature Adapter (Fan et al., "BeFA: A General Behavior-driven Feature Adapter for
Multimedia Recommendation", AAAI 2025, arXiv 2406.00323).

Pre-trained encoders describe a whole image or text, much of it irrelevant to preference ("information drift")
while missing what matters ("information omission"). BeFA reconstructs each content feature under the guidance
of behaviour, in three steps, per modality m and item i:

1. decouple: ``d = W1 x_{i,m} + b1`` spreads the raw content feature over ``hidden_dim`` units;
2. filter with behaviour: ``mask = sigmoid(W2 [d ; e_i] + b2)``, where e_i is the item's ID (behaviour)
   embedding that the base model learns from interactions, keeps the units behaviour supports and suppresses the
   rest (the MLP ends in a sigmoid, as the paper describes);
3. reconstruct: ``W3 (d * mask) + b3`` back to the base model's content dimension.

The output replaces the base model's plain projection of the content feature, so the adapter plugs into any
multimodal recommender that projects content features (here VBPR, LightGCN with features and MGCN, chosen by
``model.befa: true``). Choices where the abstract is silent, each a knob: ``hidden_dim`` (default 4 x the
content dimension), the mask MLP depth ``mask_layers`` (1: a single linear layer before the sigmoid; 2 adds a
hidden LeakyReLU layer), and ``detach_behaviour`` (default false: the behaviour embedding receives gradients
through the mask as well as through the base model).
"""

from __future__ import annotations

import torch
from torch import nn


class BehaviourDrivenFeatureAdapter(nn.Module):
    """Maps content features (B, in_dim) and item behaviour embeddings (B, behaviour_dim) to (B, out_dim)."""

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
