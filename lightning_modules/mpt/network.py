"""MPT network (Liu, Shi, Chen et al., "MPT: Motion Prompt Tuning for Micro-Expression Recognition"): a vision
transformer fed the apex frame, with motion prompts (tokens from the magnified onset->apex motion) prepended to
its patch tokens and a group adapter inserted after every transformer block.

Only the abstract was read (/work/shared/seeds/papers-group.txt): it names motion magnification and Gaussian
tokenization as the prompt generator and a group adapter inserted into the large model. Everything below the
abstract's level is a CHOICE (knobs):

* Motion prompts: the motion image (C channels, e.g. the flow stage's (u, v, strain) or a magnified frame
  difference) is patch-embedded by its own convolution; ``n_prompts`` learnable 2-D Gaussians (centre, log-width)
  pool the motion patch embeddings into ``n_prompts`` tokens ("Gaussian tokenization" as read here).
* Group adapter: after each block, x + up(GELU(grouped-linear(down(x)))) with ``adapter_dim`` hidden units split
  into ``adapter_groups`` groups (grouped 1x1 mixing); the up projection starts at zero so a pretrained
  backbone's output is unchanged at initialisation.
* Backbone: a timm ``VisionTransformer``. No pretrained weights can be downloaded here: ``checkpoint`` names a
  local file (timm state dict, or open_clip/OpenAI-CLIP visual weights converted with timm's converter); with no
  checkpoint the ViT is RANDOMLY INITIALISED and every result must say so. ``freeze_backbone`` (prompt tuning)
  defaults to true only when a checkpoint is loaded.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

CHECKPOINT_FORMATS = ("timm", "open_clip")


class GroupAdapter(nn.Module):
    def __init__(self, dim: int, hidden: int = 32, groups: int = 4):
        super().__init__()
        if hidden % groups:
            raise ValueError(f"adapter_dim {hidden} must be divisible by adapter_groups {groups}")
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

    def forward(self, motion: torch.Tensor) -> torch.Tensor:
        tokens = self.embed(motion).flatten(2).transpose(1, 2)  # (B, N, dim)
        d2 = ((self.coords[None] - self.centres[:, None]) ** 2).sum(-1)  # (P, N)
        weights = torch.softmax(-d2 / (2 * torch.exp(self.log_width)[:, None] ** 2), dim=1)
        return torch.einsum("pn,bnd->bpd", weights, tokens)


def build_backbone(image_size: int, patch_size: int, dim: int, depth: int, heads: int):
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(img_size=image_size, patch_size=patch_size, embed_dim=dim, depth=depth,
                             num_heads=heads, num_classes=0, class_token=True, global_pool="token")


def load_checkpoint(vit: nn.Module, path: str | Path, fmt: str = "timm") -> dict:
    """Load a local backbone checkpoint into ``vit`` (tensors only: ``torch.load(weights_only=True)``)."""
    path = Path(path)
    if fmt not in CHECKPOINT_FORMATS:
        raise ValueError(f"model.checkpoint_format={fmt!r}: expected one of {CHECKPOINT_FORMATS}")
    if not path.is_file():
        raise FileNotFoundError(f"model.checkpoint: {path} is not a file (expected a local {fmt} state dict)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"model.checkpoint: {path} holds no state dict")
    if fmt == "open_clip":
        from timm.models.vision_transformer import _convert_openai_clip

        state = {k.removeprefix("visual."): v for k, v in state.items() if not k.startswith("transformer.")
                 or k.startswith("visual.")}
        state = _convert_openai_clip(state, vit)
    state = {k: v for k, v in state.items() if not k.startswith("head.")}
    try:
        missing, unexpected = vit.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches
        raise ValueError(f"model.checkpoint: {path} does not fit the configured ViT ({str(error)[:300]})") from None
    if unexpected or [m for m in missing if not m.startswith("head")]:
        raise ValueError(f"model.checkpoint: {path} does not fit the configured ViT "
                         f"(missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]})")
    return {"path": str(path), "format": fmt, "tensors": len(state)}


class MPT(nn.Module):
    def __init__(self, n_classes: int, image_size: int = 28, patch_size: int = 4, dim: int = 96, depth: int = 4,
                 heads: int = 4, motion_channels: int = 3, frame_channels: int = 3, n_prompts: int = 8,
                 adapter_dim: int = 32, adapter_groups: int = 4, checkpoint: str | None = None,
                 checkpoint_format: str = "timm", freeze_backbone: bool | None = None, use_frame: bool = True):
        super().__init__()
        self.vit = build_backbone(image_size, patch_size, dim, depth, heads)
        self.loaded = load_checkpoint(self.vit, checkpoint, checkpoint_format) if checkpoint else None
        self.pretrained = self.loaded is not None
        freeze = self.pretrained if freeze_backbone is None else bool(freeze_backbone)
        for p in self.vit.parameters():
            p.requires_grad = not freeze
        self.use_frame = use_frame
        self.frame_proj = nn.Conv2d(frame_channels, 3, 1) if frame_channels != 3 else nn.Identity()
        self.prompts = GaussianMotionPrompts(motion_channels, dim, patch_size, image_size // patch_size, n_prompts)
        self.adapters = nn.ModuleList(GroupAdapter(dim, adapter_dim, adapter_groups) for _ in range(depth))
        self.head = nn.Linear(dim, n_classes)

    def forward(self, motion: torch.Tensor, frame: torch.Tensor | None = None) -> torch.Tensor:
        """``motion`` (B, Cm, S, S); ``frame`` (B, Cf, S, S) apex frame (motion itself when absent)."""
        image = self.frame_proj(frame) if (self.use_frame and frame is not None) else motion[:, :3]
        x = self.vit.patch_embed(image)
        x = self.vit._pos_embed(x)  # class token + position embedding
        x = torch.cat([x[:, :1], self.prompts(motion), x[:, 1:]], dim=1)
        for block, adapter in zip(self.vit.blocks, self.adapters):
            x = adapter(block(x))
        x = self.vit.norm(x)
        return self.head(x[:, 0])
