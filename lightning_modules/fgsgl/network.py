"""FG-SGL's network: skeleton encoder (visual side), global and part-level heads, and the text-side adapters.

Shapes: skeleton (B, C, T, V, M) -> feature map (B, H, T', V) from :class:`SkeletonEncoder`.

- Global feature: mean over T' and V -> ``classifier`` (linear, K logits) and ``global_projection`` (MLP into the
  text space E, L2-normalised) for CP-A.
- Local motion features (FG-SA): part tokens = the feature map averaged over the joints of each body part
  (layout ``body_parts``), one token per (frame, part), plus a learned part embedding and a sinusoidal frame
  encoding. One learned query per semantic dimension (body part, motion path, speed/rhythm, contact) attends
  over all tokens (scaled dot-product, softmax over T' x P), so each dimension picks the parts and moments that
  describe it; each pooled feature has its own projection into E (L2-normalised).
- Text side: the frozen embeddings are buffers of the module; ``category_adapter`` is a residual linear map on
  the category embeddings (initialised to zero, so training starts from the text encoder's own geometry).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.skeleton import SkeletonEncoder, part_pooling_matrix


def frame_encoding(n_frames: int, dim: int, device=None) -> torch.Tensor:
    """(T, dim) sinusoidal encoding of frame positions (Vaswani et al.); works for any T at inference."""
    position = torch.arange(n_frames, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    enc = torch.zeros(n_frames, dim, device=device)
    enc[:, 0::2] = torch.sin(position * freq)
    enc[:, 1::2] = torch.cos(position * freq)[:, : dim // 2]
    return enc


class DimensionPooling(nn.Module):
    """One attention query per semantic dimension over (frame, part) tokens: (B, T', P, H) -> (B, D, H)."""

    def __init__(self, hidden: int, n_parts: int, n_dimensions: int):
        super().__init__()
        self.part_embedding = nn.Parameter(torch.zeros(n_parts, hidden))
        self.queries = nn.Parameter(torch.randn(n_dimensions, hidden) / math.sqrt(hidden))
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, frames, parts, hidden = tokens.shape
        tokens = tokens + self.part_embedding + frame_encoding(frames, hidden, tokens.device)[:, None]
        flat = tokens.reshape(batch, frames * parts, hidden)
        scores = torch.einsum("dh,bnh->bdn", self.queries, self.key(flat)) / math.sqrt(hidden)
        attention = scores.softmax(-1)  # (B, D, T'P)
        pooled = torch.einsum("bdn,bnh->bdh", attention, self.value(flat))
        return pooled, attention.view(batch, -1, frames, parts)


class FGSGLNetwork(nn.Module):
    """Skeleton -> class logits, the global feature in text space, and one local feature per dimension."""

    def __init__(self, encoder: SkeletonEncoder, n_classes: int, text_dim: int, body_parts: dict,
                 n_dimensions: int, projection_hidden: int = 256, dropout: float = 0.3):
        super().__init__()
        self.encoder = encoder
        hidden = encoder.out_channels
        self.register_buffer("part_pool", part_pooling_matrix(encoder.n_joints, body_parts))
        self.part_names = list(body_parts)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, n_classes)
        self.global_projection = nn.Sequential(
            nn.Linear(hidden, projection_hidden), nn.ReLU(), nn.Linear(projection_hidden, text_dim)
        )
        self.dimension_pooling = DimensionPooling(hidden, len(body_parts), n_dimensions)
        self.local_projections = nn.ModuleList(nn.Linear(hidden, text_dim) for _ in range(n_dimensions))
        self.category_adapter = nn.Linear(text_dim, text_dim)
        nn.init.zeros_(self.category_adapter.weight)
        nn.init.zeros_(self.category_adapter.bias)

    def forward(self, skeleton: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.encoder(skeleton)  # (B, H, T', V)
        pooled = self.dropout(features.mean((2, 3)))
        tokens = torch.einsum("bhtv,pv->btph", features, self.part_pool)
        local, attention = self.dimension_pooling(tokens)
        local = torch.stack([proj(local[:, d]) for d, proj in enumerate(self.local_projections)], 1)
        return {
            "logits": self.classifier(pooled),
            "global": F.normalize(self.global_projection(pooled), dim=-1),
            "local": F.normalize(local, dim=-1),
            "attention": attention,
        }

    def prototypes(self, category_text: torch.Tensor) -> torch.Tensor:
        """(K, E) category prototypes: frozen category embeddings plus the learned residual, normalised."""
        return F.normalize(category_text + self.category_adapter(category_text), dim=-1)
