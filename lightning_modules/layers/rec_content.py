"""Content encoders of the multimodal recommenders: how a raw modality feature becomes a model-sized vector.

Every multimodal base model (VBPR, LightGCN with features, MGCN) asks :func:`build_content_encoders` for one
encoder per modality and calls it as ``encoder(features, item_behaviour_embedding)``. By default that is a plain
linear projection (the behaviour argument is ignored); with ``model.befa: true`` it is BeFA's behaviour-driven
adapter (:mod:`lightning_modules.befa.adapter`) in the form ``model.befa_form`` names: ``released`` (the
authors' code: the ID embedding gated by an MLP of the projected content) or ``decoupled`` (decouple, mask with
behaviour, reconstruct). This single seam is what lets BeFA plug into any base model. An encoder whose
``gates_behaviour`` is true returns the gated ID embedding itself (MGCN then skips its purifier gate).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lightning_modules.befa.adapter import BEFA_FORMS, BefaForm, BehaviourDrivenFeatureAdapter, ReleasedBehaviourGate


@dataclass(frozen=True)
class ContentSettings:
    """The content-encoder knobs of a multimodal base model: the flat ``befa*`` keys of its `model` block, gathered
    into its network's ``content`` argument (``ModelBlock(..., groups={"content": ContentSettings})``); the
    defaults are in the method's YAML. ``befa_hidden_dim`` 0: 4 x the content size."""

    befa: bool
    befa_form: BefaForm
    befa_layer_times: int
    befa_dropout: float
    befa_hidden_dim: int
    befa_mask_layers: int
    befa_detach_behaviour: bool


class LinearContent(nn.Module):
    """``W x + b``: the plain projection every base model starts from."""

    gates_behaviour = False

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.project = nn.Linear(in_dim, out_dim)

    def forward(self, features: torch.Tensor, behaviour: torch.Tensor | None = None) -> torch.Tensor:
        return self.project(features)


def build_content_encoders(feature_dims: dict[str, int], out_dim: int, behaviour_dim: int,
                           settings: ContentSettings) -> nn.ModuleDict:
    """One encoder per modality: BeFA adapters when ``settings.befa`` is true, else linear projections."""
    if not settings.befa:
        return nn.ModuleDict({m: LinearContent(d, out_dim) for m, d in feature_dims.items()})
    hidden = settings.befa_hidden_dim or None
    form = settings.befa_form
    if form not in BEFA_FORMS:
        raise ValueError(f"model.befa_form must be one of {BEFA_FORMS}, got {form!r}")
    if form == "released":
        if behaviour_dim != out_dim:
            raise ValueError(f"the released BeFA gates the behaviour embedding: its size ({behaviour_dim}) must be "
                             f"the content size ({out_dim})")
        width = out_dim * settings.befa_layer_times
        return nn.ModuleDict({m: ReleasedBehaviourGate(d, out_dim, hidden_dim=width, dropout=settings.befa_dropout)
                              for m, d in feature_dims.items()})
    return nn.ModuleDict({
        m: BehaviourDrivenFeatureAdapter(d, out_dim, behaviour_dim, hidden_dim=hidden,
                                         mask_layers=settings.befa_mask_layers,
                                         detach_behaviour=settings.befa_detach_behaviour)
        for m, d in feature_dims.items()
    })
