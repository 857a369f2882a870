"""DeRe-GRL as a plain nn.Module (the LightningModule is in module.py).

Wei, Chen, Lu, Yan, Xie, Zhao: "Prior Information based Decomposition and Reconstruction Learning for
Micro-Expression Recognition" (DeRe-GRL), arXiv 2303.01776.

Faithful to the abstract: a graph-model backbone extracts geometric movement features of the landmarks; the
Action Decomposition Module (ADM) divides them by facial key component into sub-features and learns a map matrix
from the sub-features to several action features; the Relation Reconstruction Module (RRM) learns weights over
all action features to model their relations; a classifier reads the result. The learned map matrix and the
relation weights are what the paper interprets; :meth:`DeReGRL.interpretation` returns them.

Choices made here because the paper's full text was not available (each a constructor argument and a
``model.*`` knob, see experiments/_defaults/methods/dere_grl.yaml):

- backbone: the separable spatial/temporal graph blocks of lightning_modules/layers/graph.py (16 and 32
  channels) on the anatomical landmark graph (optionally + each node's ``knn_k`` nearest landmarks at the onset;
  default 0), fed with onset-relative, inter-ocular-normalised, head-motion-free movement (the same node signals
  as the geometric graph network of the same authors); features averaged over frames.
- components: brows, eyes, nose, mouth, contour (jaw line), as landmark index sets (``FACE_COMPONENTS``).
  A sub-feature is the mean of the component's node features followed by a component-specific linear map to
  ``action_channels`` and a ReLU.
- map matrix ``M`` (``n_actions x n_components``): each row is a softmax over components, so action k is a
  convex mixture of component sub-features and ``M[k, p]`` reads as "how much component p makes up action k".
  Rows start nearly uniform (logits ~ N(0, 0.1^2): the actions must differ from the start, else the relation
  weights get no gradient), so the structure in ``M`` is learned rather than left over from initialisation.
- RRM: relation weights ``R`` (``n_actions x n_actions``, row-softmax, starting uniform); the reconstructed
  action k is ``a_k + sum_j R[k, j] a_j`` (residual, so RRM refines rather than replaces the actions). Without
  RRM (``use_rrm=False``, the ablation) the actions go straight to the classifier.
- classifier: dropout and a linear layer over the concatenated (flattened) actions.
- learning rate of the structure (module.py, ``structure_lr_scale``): ``M`` and ``R`` act through softmaxes,
  so their logits must move by O(1) for the structure to show; they train at 10x the base learning rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from lightning_modules.layers.graph import (
    FACE_COMPONENTS,
    N_LANDMARKS,
    Alignment,
    LandmarkGraphEncoder,
    MovementFeature,
    anatomical_edges,
    edges_to_adjacency,
    input_normalization,
    landmark_adjacency,
    movement_features,
    normalize_adjacency,
)


def component_pooling_matrix(components: Mapping[str, Sequence[int]], n_nodes: int = N_LANDMARKS) -> torch.Tensor:
    """``(P, N)`` matrix whose row p averages the nodes of component p."""
    pool = torch.zeros(len(components), n_nodes)
    for p, nodes in enumerate(components.values()):
        pool[p, list(nodes)] = 1.0 / len(nodes)
    return pool


class ActionDecomposition(nn.Module):
    """ADM: node features ``(B, C, N)`` -> component sub-features ``(B, P, D)`` -> action features ``(B, K, D)``."""

    def __init__(self, in_channels: int, action_channels: int, n_actions: int,
                 components: Mapping[str, Sequence[int]] = FACE_COMPONENTS):
        super().__init__()
        self.component_names = tuple(components)
        n_components = len(components)
        self.register_buffer("pooling", component_pooling_matrix(components))
        self.weight = nn.Parameter(torch.empty(n_components, in_channels, action_channels))
        self.bias = nn.Parameter(torch.zeros(n_components, action_channels))
        self.map_logits = nn.Parameter(0.1 * torch.randn(n_actions, n_components))
        nn.init.xavier_uniform_(self.weight.view(n_components * in_channels, action_channels))

    def map_matrix(self) -> torch.Tensor:
        """``(K, P)``: how much each component makes up each action (rows sum to 1)."""
        return self.map_logits.softmax(dim=-1)

    def sub_features(self, nodes: torch.Tensor) -> torch.Tensor:
        pooled = torch.einsum("bcn,pn->bpc", nodes, self.pooling)
        return torch.relu(torch.einsum("bpc,pcd->bpd", pooled, self.weight) + self.bias)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        return torch.einsum("kp,bpd->bkd", self.map_matrix(), self.sub_features(nodes))


class RelationReconstruction(nn.Module):
    """RRM: ``a_k + sum_j R[k, j] a_j`` with learned row-softmax relation weights ``R`` (``K x K``)."""

    def __init__(self, n_actions: int):
        super().__init__()
        self.relation_logits = nn.Parameter(torch.zeros(n_actions, n_actions))

    def relation_weights(self) -> torch.Tensor:
        return self.relation_logits.softmax(dim=-1)

    def forward(self, actions: torch.Tensor) -> torch.Tensor:
        return actions + torch.einsum("kj,bjd->bkd", self.relation_weights(), actions)


class DeReGRL(nn.Module):
    """Landmark sequences ``(B, T, 68, 2)`` -> class scores ``(B, C)``."""

    def __init__(
        self,
        n_classes: int,
        features: Sequence[MovementFeature] = ("displacement", "position"),
        align: Alignment = "similarity",
        knn_k: int = 0,
        backbone_channels: Sequence[int] = (16, 32),
        n_actions: int = 6,
        action_channels: int = 16,
        use_rrm: bool = True,
        temporal_kernel: int = 3,
        dropout: float = 0.3,
    ):
        super().__init__()
        self.features, self.align, self.knn_k = tuple(features), align, int(knn_k)
        in_channels = 2 * len(self.features)
        self.input_norm = input_normalization(in_channels)
        self.backbone = LandmarkGraphEncoder(in_channels, backbone_channels, temporal_kernel)
        self.register_buffer("anatomical", edges_to_adjacency(anatomical_edges()), persistent=False)
        self.adm = ActionDecomposition(self.backbone.out_channels, action_channels, n_actions)
        self.rrm = RelationReconstruction(n_actions) if use_rrm else None
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(n_actions * action_channels, n_classes)
        self.n_actions, self.action_channels = n_actions, action_channels

    def node_features(self, landmarks: torch.Tensor) -> torch.Tensor:
        """Backbone output averaged over frames, ``(B, C, N)``."""
        x = self.input_norm(movement_features(landmarks, self.features, self.align))
        onset = landmarks[:, 0] if self.knn_k > 0 else None
        adj = normalize_adjacency(landmark_adjacency(onset, self.knn_k, self.anatomical))
        return self.backbone(x, adj).mean(dim=2)

    def actions(self, landmarks: torch.Tensor) -> torch.Tensor:
        """Action features after ADM (and RRM when on), ``(B, K, D)``."""
        actions = self.adm(self.node_features(landmarks))
        return self.rrm(actions) if self.rrm is not None else actions

    def forward(self, landmarks: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.actions(landmarks).flatten(1)))

    def structure_parameters(self) -> list[nn.Parameter]:
        """The logits of the interpretable weights: the ADM map matrix and (with RRM) the relation weights."""
        return [self.adm.map_logits] + ([self.rrm.relation_logits] if self.rrm is not None else [])

    @torch.no_grad()
    def interpretation(self) -> dict[str, np.ndarray]:
        """The learned weights the paper interprets, as float arrays.

        ``component_to_action`` (K, P): map matrix, columns in ``FACE_COMPONENTS`` order (brows, eyes, nose,
        mouth, contour); ``relation_weights`` (K, K): RRM's R (absent without RRM); ``action_class_importance``
        (C, K): L2 norm of the classifier weights that read each action, per class.
        """
        out = {"component_to_action": self.adm.map_matrix().cpu().numpy()}
        if self.rrm is not None:
            out["relation_weights"] = self.rrm.relation_weights().cpu().numpy()
        weight = self.classifier.weight.view(-1, self.n_actions, self.action_channels)
        out["action_class_importance"] = weight.norm(dim=-1).cpu().numpy()
        return out
