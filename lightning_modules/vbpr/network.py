"""VBPR (He & McAuley, AAAI 2016) on multimodal content, as a LightningModule.

score(u, i) = <gamma_u, gamma_i> + <theta_u, c_i> + beta_i + <beta', x_i>, where gamma are ID factors,
c_i = sum over modalities of a projection of item i's content features (the paper's E f_i; with two modalities
this equals one projection of their concatenation, as in MMRec's multimodal VBPR), beta_i an item bias and
beta' a content bias. Trained with BPR and ``model.reg_weight`` x a penalty on the batch's rows.

The penalty, two knobs: ``reg_form`` (``squared``: sum of squares / (2 x batch), the paper's squared L2;
``norm``: Frobenius norms / batch, MMRec's EmbLoss; lightning_modules/layers/rec_losses.py) and ``reg_scope``
(``ids``: the ID factors gamma_u, theta_u, gamma_i, our default; ``full``: the whole scored user and item
vectors, the projected content c_i included, as MMRec's VBPR does). The paper puts squared L2 on every
parameter (ID factors, biases, and the projection E with its own weight). Defaults: squared on the IDs at
1e-4. MMRec's VBPR (reg_weight 2.0, norm, full, no biases) is ``reg_form=norm reg_scope=full reg_weight=2.0
biases=false``; the two penalties are not interchangeable at one weight: on MovieLens-100k (our training
settings, seed 0, benchmarks/rec_ablations.py ``reg_forms``) reg_weight 2.0 without biases reached test Recall@20
.150 in the squared form on the IDs and .294 in MMRec's form (issue 17's side-by-side: .151 ours, .317 MMRec's
toolbox, .314 ours with its form). Our default keeps its measured numbers.

Choices (knobs in experiments/_defaults/methods/vbpr.yaml): ``embedding_dim`` for both gamma and theta
(64 each); ``biases`` keeps beta_i and beta' (the paper has them; MMRec drops them); ``befa`` swaps the content
projection for BeFA's behaviour-driven adapter guided by gamma_i (``befa_form``).
"""

from __future__ import annotations

import torch
from torch import nn

from lightning_modules.layers.rec_content import ContentSettings, build_content_encoders


class VBPRNetwork(nn.Module):
    """ID factors, content projections and biases; ``forward(features)`` -> (user table, item table)."""

    def __init__(self, n_users: int, n_items: int, feature_dims: dict[str, int], embedding_dim: int, biases: bool,
                 content: ContentSettings):
        super().__init__()
        dim = self.dim = embedding_dim
        self.biases = biases
        self.user_id = nn.Embedding(n_users, dim)
        self.user_taste = nn.Embedding(n_users, dim)
        self.item_id = nn.Embedding(n_items, dim)
        for table in (self.user_id, self.user_taste, self.item_id):
            nn.init.xavier_uniform_(table.weight)
        self.content = build_content_encoders(feature_dims, dim, dim, content)
        if self.biases:
            self.item_bias = nn.Parameter(torch.zeros(n_items))
            self.content_bias = nn.ModuleDict({m: nn.Linear(d, 1, bias=False) for m, d in feature_dims.items()})

    def item_content(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.content[m](x, self.item_id.weight) for m, x in features.items())

    def forward(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Users [gamma_u, theta_u, 1] and items [gamma_i, c_i, bias_i], so that score = <user, item>."""
        users = [self.user_id.weight, self.user_taste.weight]
        items = [self.item_id.weight, self.item_content(features)]
        if self.biases:
            bias = self.item_bias + sum(self.content_bias[m](x).squeeze(-1) for m, x in features.items())
            users.append(torch.ones(len(self.user_id.weight), 1, device=bias.device))
            items.append(bias.unsqueeze(-1))
        return torch.cat(users, dim=1), torch.cat(items, dim=1)
