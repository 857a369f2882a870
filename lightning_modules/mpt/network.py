"""MPT network (Liu, Shi, Chen et al., "MPT: Motion Prompt Tuning for Micro-Expression Recognition"): a vision
transformer fed the apex frame, with motion prompts (tokens from the magnified onset->apex motion) inserted after
its class token and a group adapter after every transformer block.

Only the abstract was read (/work/shared/seeds/papers-group.txt): it names motion magnification and Gaussian
tokenization as the prompt generator and a group adapter inserted into the large model. Everything below the
abstract's level is a CHOICE (knobs, defaults in experiments/_defaults/methods/mpt.yaml):

* Motion magnification: the motion image (C channels: the flow stage's (u, v, strain) onset->apex image) is
  multiplied by ``motion_gain`` (a Lagrangian magnification of the displacement; default 10, the amplification
  of the suite's Euler magnification stage).
* Gaussian tokenization: the magnified motion image is patch-embedded by its own convolution; ``n_prompts``
  learnable 2-D Gaussians (centre, log-width) over the patch grid pool the motion patch embeddings into
  ``n_prompts`` tokens.
* Group adapter: after each block, x + up(GELU(grouped-1x1(down(x)))) with ``adapter_dim`` hidden units split
  into ``adapter_groups`` groups; the up projection starts at zero so a pretrained backbone's output is unchanged
  at initialisation.
* Backbone: a timm ``VisionTransformer``. No pretrained weights can be downloaded here: ``checkpoint`` names a
  local file, read tensors-only (``torch.load(weights_only=True)``, never unpickled), in ``checkpoint_format``
  ``timm`` (a timm ViT state dict) or ``open_clip`` (an open_clip / OpenAI CLIP model state dict: its ``visual.*``
  weights, converted with timm's converter; the backbone is then built as CLIP's tower: a LayerNorm before the
  blocks, LayerNorm eps 1e-5, and ``activation`` gelu or quick_gelu as the checkpoint was trained). With no
  checkpoint the ViT is RANDOMLY INITIALISED and every result must say so. ``freeze_backbone`` (prompt tuning)
  defaults to true only when a checkpoint is loaded, and so does ``use_frame`` (the apex frame as the ViT's image;
  otherwise the magnified motion image is both the ViT's image and the prompts' source).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from core.errors import ConfigError

CHECKPOINT_FORMATS = ("timm", "open_clip")
RANDOM_INIT_NOTE = "randomly initialised ViT: not MPT's published condition"


class GroupAdapter(nn.Module):
    def __init__(self, dim: int, hidden: int = 32, groups: int = 4):
        super().__init__()
        if hidden % groups:
            raise ConfigError(f"model.adapter_dim {hidden} must be divisible by model.adapter_groups {groups}")
        self.down = nn.Linear(dim, hidden)
        self.mix = nn.Conv1d(hidden, hidden, 1, groups=groups)
        self.act = nn.GELU()
        self.up = nn.Linear(hidden, dim)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.down(x)
        h = self.mix(h.transpose(1, 2)).transpose(1, 2)
        return x + self.up(self.act(h))


class GaussianMotionPrompts(nn.Module):
    """(B, C, H, W) motion image -> (B, n_prompts, dim) tokens pooled by learnable 2-D Gaussians."""

    def __init__(self, in_channels: int, dim: int, patch: int, grid: int, n_prompts: int = 8):
        super().__init__()
        self.embed = nn.Conv2d(in_channels, dim, patch, stride=patch)
        g = torch.linspace(-1, 1, grid)
        yy, xx = torch.meshgrid(g, g, indexing="ij")
        self.register_buffer("coords", torch.stack([yy.reshape(-1), xx.reshape(-1)], 1), persistent=False)
        side = max(1, int(round(n_prompts ** 0.5)))
        init = torch.linspace(-0.6, 0.6, side)
        cy, cx = torch.meshgrid(init, init, indexing="ij")
        centres = torch.stack([cy.reshape(-1), cx.reshape(-1)], 1)
        centres = torch.cat([centres, torch.zeros(max(0, n_prompts - len(centres)), 2)])[:n_prompts]
        self.centres = nn.Parameter(centres)
        self.log_width = nn.Parameter(torch.full((n_prompts,), -0.7))

    def weights(self) -> torch.Tensor:
        """(n_prompts, N) pooling weights over the patch grid (each row sums to 1)."""
        d2 = ((self.coords[None] - self.centres[:, None]) ** 2).sum(-1)
        return torch.softmax(-d2 / (2 * torch.exp(self.log_width)[:, None] ** 2), dim=1)

    def forward(self, motion: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(motion).flatten(2).transpose(1, 2)  # (B, N, dim)
        return torch.einsum("pn,bnd->bpd", self.weights(), tokens)


def build_backbone(image_size: int, patch_size: int, dim: int, depth: int, heads: int, clip_tower: bool = False,
                   activation: str = "gelu"):
    """A timm ViT without head; ``clip_tower``: CLIP's layout (LayerNorm before the blocks, eps 1e-5)."""
    from timm.models.vision_transformer import VisionTransformer

    if image_size % patch_size:
        raise ConfigError(f"model.image_size {image_size} must be a multiple of model.patch_size {patch_size}")
    if dim % heads:
        raise ConfigError(f"model.dim {dim} must be divisible by model.heads {heads}")
    eps = 1e-5 if clip_tower else 1e-6
    return VisionTransformer(img_size=image_size, patch_size=patch_size, embed_dim=dim, depth=depth, num_heads=heads,
                             num_classes=0, class_token=True, global_pool="token", pre_norm=clip_tower,
                             norm_layer=partial(nn.LayerNorm, eps=eps), act_layer=activation)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:200]


def read_state_dict(path: Path, fmt: str) -> dict[str, torch.Tensor]:
    """The tensors of a local checkpoint file (``weights_only``: a file that needs unpickling is refused)."""
    expected = {"timm": "a timm ViT state dict saved with torch.save (tensors only)",
                "open_clip": "an open_clip/OpenAI CLIP model state dict with visual.* weights (tensors only)"}[fmt]
    if not path.is_file():
        raise ConfigError("model.checkpoint is not a file", path=path,
                          hint=f"expected a local file holding {expected}; nothing is downloaded")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 (torch raises several types for a file that is not a tensor archive)
        raise ConfigError(f"model.checkpoint cannot be read as a weights-only checkpoint ({_one_line(error)})",
                          path=path, hint=f"expected {expected}") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"model.checkpoint holds no state dict of tensors (found {type(state).__name__})",
                          path=path, hint=f"expected {expected}")
    return {str(k).removeprefix("module."): v for k, v in state.items()}


def load_checkpoint(vit: nn.Module, path: str | Path, fmt: str = "timm") -> dict:
    """Load a local backbone checkpoint into ``vit``; every backbone weight must be present with its shape."""
    path = Path(path)
    if fmt not in CHECKPOINT_FORMATS:
        raise ConfigError(f"model.checkpoint_format={fmt!r}: expected one of {CHECKPOINT_FORMATS}")
    state = read_state_dict(path, fmt)
    if fmt == "open_clip":
        from timm.models.vision_transformer import _convert_openai_clip

        if not any(k.startswith("visual.") for k in state):
            raise ConfigError("model.checkpoint has no visual.* weights", path=path,
                              hint="expected an open_clip/OpenAI CLIP model state dict; a timm ViT state dict "
                                   "needs model.checkpoint_format=timm")
        state = _convert_openai_clip(state, vit)
    state = {k: v for k, v in state.items() if not k.startswith("head.")}
    expected = vit.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        detail = (f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}" if unexpected else
                  f"{wrong[0]} has shape {tuple(state[wrong[0]].shape)}, the configured ViT "
                  f"{tuple(expected[wrong[0]].shape)}")
        raise ConfigError(f"model.checkpoint does not fit the configured ViT ({detail})", path=path,
                          hint=f"expected a {fmt} ViT of model.image_size/patch_size/dim/depth/heads as configured")
    vit.load_state_dict(state)
    return {"path": str(path), "format": fmt, "tensors": len(state)}


class MPT(nn.Module):
    def __init__(self, n_classes: int, image_size: int = 28, patch_size: int = 4, dim: int = 96, depth: int = 4,
                 heads: int = 4, motion_channels: int = 3, frame_channels: int = 3, n_prompts: int = 8,
                 adapter_dim: int = 32, adapter_groups: int = 4, motion_gain: float = 10.0,
                 checkpoint: str | None = None, checkpoint_format: Literal["timm", "open_clip"] = "timm",
                 activation: Literal["gelu", "quick_gelu"] = "gelu", freeze_backbone: bool | None = None,
                 use_frame: bool | None = None, dropout: float = 0.0):
        super().__init__()
        self.image_size = image_size
        self.vit = build_backbone(image_size, patch_size, dim, depth, heads,
                                  clip_tower=checkpoint_format == "open_clip", activation=activation)
        self.loaded = load_checkpoint(self.vit, checkpoint, checkpoint_format) if checkpoint else None
        self.pretrained = self.loaded is not None
        self.condition = (f"ViT weights from {checkpoint} ({checkpoint_format})" if self.pretrained
                          else RANDOM_INIT_NOTE)
        self.frozen = self.pretrained if freeze_backbone is None else bool(freeze_backbone)
        for p in self.vit.parameters():
            p.requires_grad = not self.frozen
        # null: the apex frame is the ViT's image exactly when pretrained weights read it (MPT's set-up); a randomly
        # initialised ViT reads the motion image instead (chosen on inner validation, module.py)
        self.use_frame = self.pretrained if use_frame is None else bool(use_frame)
        self.motion_gain = motion_gain
        self.frame_proj = nn.Conv2d(frame_channels, 3, 1) if frame_channels != 3 else nn.Identity()
        self.prompts = GaussianMotionPrompts(motion_channels, dim, patch_size, image_size // patch_size, n_prompts)
        self.adapters = nn.ModuleList(GroupAdapter(dim, adapter_dim, adapter_groups) for _ in range(depth))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(dim, n_classes)

    def fit_size(self, image: torch.Tensor) -> torch.Tensor:
        """Resize (B, C, H, W) to the ViT's input size (antialiased when shrinking)."""
        if image.shape[-2:] == (self.image_size, self.image_size):
            return image
        return F.interpolate(image, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False,
                             antialias=image.shape[-1] > self.image_size)

    def features(self, motion: torch.Tensor, frame: torch.Tensor | None = None) -> torch.Tensor:
        """(B, dim) class token after the adapted blocks."""
        motion = self.fit_size(motion) * self.motion_gain
        image = self.frame_proj(self.fit_size(frame)) if (self.use_frame and frame is not None) else motion[:, :3]
        x = self.vit.patch_embed(image)
        x = self.vit._pos_embed(x)  # class token + position embedding
        x = torch.cat([x[:, :1], self.prompts(motion), x[:, 1:]], dim=1)
        x = self.vit.norm_pre(x)
        for block, adapter in zip(self.vit.blocks, self.adapters):
            x = adapter(block(x))
        return self.vit.norm(x)[:, 0]

    def forward(self, motion: torch.Tensor, frame: torch.Tensor | None = None) -> torch.Tensor:
        """``motion`` (B, Cm, H, W); ``frame`` (B, Cf, H', W') normalised apex frame (motion itself when absent or
        ``use_frame`` is false); both resized to ``image_size``. Returns (B, n_classes) logits."""
        return self.head(self.dropout(self.features(motion, frame)))
