"""Micro-AU CLIP network (arXiv 2603.16302) as plain nn.Modules: CLIP patch tokens -> one feature per AU -> logits.

Pipeline, following the abstract's independence-to-dependency decomposition:

1. Image encoder: the vision tower of the open_clip architecture ``model.clip.arch`` (e.g. ViT-B-32, the
   paper's setting), its weights read from the local checkpoint ``model.clip.pretrained`` (none can be
   downloaded here; :func:`load_visual_weights`). Without one the default is ``MicroAU-ViT-T-16`` (the JSON
   beside this file: 4 layers, width 192, 16 px patches on a 64 px input, i.e. a 4 x 4 grid over the face crop,
   128-d joint space; 64 px was chosen on inner validation, experiments/_defaults/methods/micro_au_clip.yaml), a
   SMALL CLIP vision config trained from scratch on the micro-expression data, so the "CLIP" prior of the paper
   is absent in that setting. Patch tokens are taken after the tower's final LayerNorm
   and mapped into the joint image-text space with the tower's own projection (as CLIP's pooled token is).
   Patch dropout is forced off: it would break the token-to-grid correspondence the AU regions rely on.
2. Local Semantic Independence, Patch Token Attention (PTA): each AU has a learned query that attends only to
   the patch tokens inside that AU's landmark region (regions.py), mapping "several local features within the
   AU region to the same feature space" -> one feature per AU.
3. Global Semantic Dependency, Global Dependency Attention (GDA): pre-norm Transformer blocks whose tokens are
   the AU features (plus a learned AU-identity embedding), so each AU feature is enhanced by the others. The last
   block's head-averaged attention map (B, A, A) is returned for the Global Dependency Loss (losses.py).
4. Detection head: one independent linear classifier per AU on its enhanced feature (the paper's head is not
   described; independent heads keep the local independence of step 2).

The inputs are normalised with CLIP's RGB mean/std; the crop is resized to the encoder's input size when they
differ (landmarks stay in crop pixels: the region geometry is scale-free).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from lightning_modules.micro_au_clip.regions import region_masks

SMALL_CONFIG = Path(__file__).with_name("MicroAU-ViT-T-16.json")
SMALL_MODEL_NAME = SMALL_CONFIG.stem
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def build_clip_image_encoder(arch: str, pretrained: str | None = None, image_size: int = 0) -> nn.Module:
    """The vision tower of the open_clip architecture ``arch``, set to return its patch tokens.

    ``pretrained``: a local open_clip checkpoint file of that architecture (or None: random initialisation);
    only its ``visual.*`` weights are read (:func:`load_visual_weights`). ``image_size`` > 0 overrides the
    config's input size; a checkpoint's position embeddings are then resampled to the new patch grid.
    """
    import open_clip

    if arch == SMALL_MODEL_NAME and arch not in open_clip.list_models():
        open_clip.add_model_config(SMALL_CONFIG)
    if arch not in open_clip.list_models():
        raise ConfigError(f"unknown open_clip architecture {arch!r}",
                          hint=f"use {SMALL_MODEL_NAME} or an open_clip name such as ViT-B-32 or ViT-B-16")
    if pretrained and not Path(pretrained).is_file():
        raise ConfigError("CLIP checkpoint not found", path=pretrained,
                          hint="model.clip.pretrained must be a local file; nothing is downloaded")
    try:
        model = open_clip.create_model(arch, pretrained=None, pretrained_text=False, force_patch_dropout=0.0,
                                       force_image_size=image_size or None)
    except (RuntimeError, ValueError, KeyError) as err:
        raise ConfigError(f"cannot build open_clip {arch!r}: {err}") from err
    visual = model.visual
    if not hasattr(visual, "grid_size") or getattr(visual, "proj", None) is None:
        raise ConfigError(f"open_clip architecture {arch!r} has no ViT image tower with patch tokens and projection")
    if pretrained:
        load_visual_weights(model, pretrained)
    visual.output_tokens = True
    return visual


def load_visual_weights(model: nn.Module, path: str) -> None:
    """Load the image tower of an open_clip checkpoint file into ``model`` (a whole open_clip CLIP).

    Read with open_clip's own reader (``state_dict`` nesting and ``module.`` prefixes handled), never unpickled
    (``weights_only``). Floating tensors are cast to float32 first: checkpoints are often stored in float16, and
    resampling float16 position embeddings to another grid fails on the CPU. Every ``visual.*`` weight of the
    architecture must be present with its shape (a checkpoint of another architecture is refused by name).
    """
    from open_clip.factory import load_state_dict
    from open_clip.model import resize_pos_embed

    try:
        state = load_state_dict(path, weights_only=True)
    except Exception as err:  # torch raises several types for a file that is not a weights-only checkpoint
        raise ConfigError(f"cannot read the CLIP checkpoint: {err}", path=path,
                          hint="expected an open_clip state dict (.pt/.bin/.safetensors) of model.clip.arch") from None
    state = {k: v.float() if torch.is_floating_point(v) else v for k, v in state.items()}
    resize_pos_embed(state, model)
    visual = {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
    expected = model.visual.state_dict()
    missing = sorted(set(expected) - set(visual))
    wrong = sorted(k for k in set(expected) & set(visual) if visual[k].shape != expected[k].shape)
    if missing or wrong:
        detail = f"missing {missing[:3]}" if missing else f"shape of {wrong[0]} is {tuple(visual[wrong[0]].shape)}, " \
                 f"expected {tuple(expected[wrong[0]].shape)}"
        raise ConfigError(f"the checkpoint's image tower does not match the open_clip architecture: {detail}",
                          path=path, hint="set model.clip.arch to the checkpoint's architecture")
    model.visual.load_state_dict({k: visual[k] for k in expected})


class PatchTokenAttention(nn.Module):
    """PTA: a learned query per AU attends over the patch tokens of that AU's region -> (B, A, D) AU features."""

    def __init__(self, dim: int, n_aus: int, heads: int = 4):
        super().__init__()
        if dim % heads:
            raise ValueError(f"PTA feature size {dim} must be divisible by its {heads} heads")
        self.heads = heads
        self.queries = nn.Parameter(torch.randn(n_aus, dim) / math.sqrt(dim))
        self.norm = nn.LayerNorm(dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, tokens: torch.Tensor, region: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, N, D), region (B, A, N) bool -> AU features (B, A, D), attention (B, A, N)."""
        b, n, d = tokens.shape
        h, dh = self.heads, d // self.heads
        x = self.norm(tokens)
        keys = self.key(x).view(b, n, h, dh)
        values = self.value(x).view(b, n, h, dh)
        queries = self.queries.view(-1, h, dh)
        logits = torch.einsum("ahd,bnhd->bhan", queries, keys) / math.sqrt(dh)
        weights = logits.masked_fill(~region[:, None], float("-inf")).softmax(dim=-1)
        pooled = torch.einsum("bhan,bnhd->bahd", weights, values).reshape(b, -1, d)
        return self.out(pooled), weights.mean(dim=1)


class DependencyBlock(nn.Module):
    """One pre-norm Transformer block over AU tokens that also returns its head-averaged attention."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 2.0, dropout: float = 0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.norm1(x)
        attended, weights = self.attention(y, y, y, need_weights=True, average_attn_weights=True)
        x = x + attended
        return x + self.mlp(self.norm2(x)), weights


class GlobalDependencyAttention(nn.Module):
    """GDA: self-attention across the AU features; returns enhanced features and the last attention map."""

    def __init__(self, dim: int, n_aus: int, heads: int = 4, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.au_embedding = nn.Parameter(torch.zeros(n_aus, dim))
        self.blocks = nn.ModuleList(DependencyBlock(dim, heads, dropout=dropout) for _ in range(layers))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = features + self.au_embedding
        weights = None
        for block in self.blocks:
            x, weights = block(x)
        return x, weights


class PerAUClassifier(nn.Module):
    """An independent linear classifier per AU: logit_a = <w_a, f_a> + b_a."""

    def __init__(self, dim: int, n_aus: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_aus, dim) / math.sqrt(dim))
        self.bias = nn.Parameter(torch.zeros(n_aus))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return (features * self.weight).sum(-1) + self.bias


class MicroAUCLIP(nn.Module):
    """Image + apex landmarks -> AU logits, AU features (in the CLIP joint space) and the GDA attention map."""

    def __init__(
        self,
        image_encoder: nn.Module,
        au_names: list[str],
        region_radius: float = 0.35,
        pta_heads: int = 4,
        gda_heads: int = 4,
        gda_layers: int = 1,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.encoder = image_encoder
        self.au_names = list(au_names)
        self.region_radius = float(region_radius)
        self.dim = int(image_encoder.proj.shape[1])
        self.grid = int(image_encoder.grid_size[0])
        self.input_size = int(image_encoder.image_size[0])
        n_aus = len(self.au_names)
        self.pta = PatchTokenAttention(self.dim, n_aus, pta_heads)
        self.gda = GlobalDependencyAttention(self.dim, n_aus, gda_heads, gda_layers, dropout)
        self.classifier = PerAUClassifier(self.dim, n_aus)
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    def patch_tokens(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) in [0, 1] -> (B, G*G, D) patch tokens in the joint space."""
        if image.shape[-1] != self.input_size or image.shape[-2] != self.input_size:
            image = F.interpolate(image, size=(self.input_size, self.input_size), mode="bilinear",
                                  align_corners=False)
        _, tokens = self.encoder((image - self.mean) / self.std)
        return tokens @ self.encoder.proj

    def forward(self, image: torch.Tensor, landmarks: torch.Tensor) -> dict[str, torch.Tensor]:
        """image (B, 3, S, S) in [0, 1]; landmarks (B, 68, 2) of that frame in crop pixels."""
        region = region_masks(landmarks, self.au_names, self.grid, image.shape[-1], self.region_radius)
        local, pta_weights = self.pta(self.patch_tokens(image), region)
        features, gda_weights = self.gda(local)
        return {
            "au_logits": self.classifier(features),
            "au_features": features,
            "gda_attention": gda_weights,
            "pta_attention": pta_weights,
            "region": region,
        }
