"""E2STN (Zhou, Li, Li et al.): EEG emotion style transfer for cross-dataset recognition.

Built from the abstract (../shared/seeds/papers-group.txt): a transfer module encodes source and target, then
re-composes the SOURCE's emotional pattern with the TARGET's statistical characteristics into stylised EEG
representations; a transfer evaluation module constrains them to keep both and not distort; a discriminative
prediction module classifies the stylised representations. Per one-second window x (62 electrodes x 5 DE bands)
with an unlabelled TARGET window x_t drawn beside every labelled source window (datamodules/eeg.py
``transductive: true``; on a cross-dataset task the target is the other dataset's windows):

- transfer module: a content encoder E_c and a style encoder E_s (separate weights, each an MLP applied to every
  electrode's band vector, ``width`` features per electrode, ``encoder_depth`` layers) give maps (62, width);
  AdaIN-like statistics transfer re-composes them: z = sigma(E_s(x_t)) * (E_c(x) - mu(E_c(x))) / sigma(E_c(x)) +
  mu(E_s(x_t)), the statistics per feature over the electrodes (an instance's "style", as AdaIN takes them over
  image positions); a decoder D (MLP per electrode back to the 5 bands) gives the stylised window x~ = D(z), in
  the DE space of the input;
- transfer evaluation module (losses on x~, in the input's DE space, where nothing can collapse): CONTENT
  ``content_weight`` * MSE(IN(x~), IN(x)), IN the instance normalisation per band over electrodes (the spatial
  pattern of the source window, level and spread removed); STYLE ``style_weight`` * [MSE(mu(x~), mu(x_t)) +
  MSE(sigma(x~), sigma(x_t))], the per-band mean and std over electrodes of the paired target window;
  RECONSTRUCTION ``reconstruction_weight`` * MSE(D(AdaIN(E_c(x), E_s(x))), x) (a window in its own style comes
  back unchanged: the guard against distortion); optionally DOMAIN ``mmd_weight`` * MMD^2 between the stylised
  batch and the target batch (lightning_modules/layers/domain_losses.py ``mmd2``: the target's statistics at the
  level of the whole distribution, 0 by default);
- discriminative prediction module: a classifier C (MLP on the flattened window, ``hidden`` units, ``dropout``)
  trained with cross-entropy on C(x~) and the SOURCE labels (``classify_source``: also on C(x), off by default).
  At test the target windows are already in the target's style and go to C directly.

``transfer: false`` is the source-only baseline: the same classifier C on the raw source windows, no transfer
module, no target window read (experiments/e2stn-no_transfer/; its data keeps ``transductive: false``).

Faithful to the abstract's three modules and their roles (source content + target statistics -> stylised
representations -> classifier; constraints that keep content, take style and avoid distortion). Not faithful
where the abstract is silent and we chose (every one a model.* knob, experiments/_defaults/methods/e2stn.yaml):
AdaIN statistics over electrodes as the "style" (the paper's exact re-composition is not in the abstract), the
per-electrode MLP encoders / decoder and their widths, the evaluation losses (content as instance-normalised
pattern, style as per-band mean / std, a self-reconstruction term, an optional MMD term; the paper may use
adversarial or other terms), the MLP classifier, the loss weights, and the pairing of every source window with a
random target window.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import ConfigError
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.domain_losses import mmd2

EPS = 1e-5


def electrode_stats(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean and std over the electrodes of (B, electrodes, features): each (B, 1, features)."""
    mu = h.mean(1, keepdim=True)
    return mu, (h.var(1, keepdim=True, unbiased=False) + EPS).sqrt()


def adain(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """`content` with its per-feature electrode statistics replaced by those of `style` (both (B, E, F))."""
    mu_c, sd_c = electrode_stats(content)
    mu_s, sd_s = electrode_stats(style)
    return sd_s * (content - mu_c) / sd_c + mu_s


def instance_normalise(x: torch.Tensor) -> torch.Tensor:
    mu, sd = electrode_stats(x)
    return (x - mu) / sd


def per_electrode_mlp(n_in: int, width: int, n_out: int, depth: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    size = n_in
    for _ in range(max(depth - 1, 0)):
        layers += [nn.Linear(size, width), nn.ReLU()]
        size = width
    layers.append(nn.Linear(size, n_out))
    return nn.Sequential(*layers)


class TransferModule(nn.Module):
    """Content encoder, style encoder, AdaIN re-composition and decoder (module docstring)."""

    def __init__(self, n_bands: int, width: int = 32, encoder_depth: int = 2):
        super().__init__()
        self.content_encoder = per_electrode_mlp(n_bands, width, width, encoder_depth)
        self.style_encoder = per_electrode_mlp(n_bands, width, width, encoder_depth)
        self.decoder = per_electrode_mlp(width, width, n_bands, encoder_depth)

    def forward(self, x: torch.Tensor, x_style: torch.Tensor) -> torch.Tensor:
        return self.decoder(adain(self.content_encoder(x), self.style_encoder(x_style)))


class E2STN(nn.Module):
    def __init__(self, n_channels: int, n_bands: int, n_classes: int, transfer: bool = True, width: int = 32,
                 encoder_depth: int = 2, hidden: int = 64, dropout: float = 0.5):
        super().__init__()
        if width < 1 or hidden < 1 or encoder_depth < 1:
            raise ConfigError(f"e2stn: width={width}, hidden={hidden}, encoder_depth={encoder_depth}: each must be "
                              ">= 1 (model.*)")
        self.transfer = TransferModule(n_bands, width, encoder_depth) if transfer else None
        self.classifier = nn.Sequential(nn.Flatten(1), nn.Linear(n_channels * n_bands, hidden), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def stylise(self, x: torch.Tensor, x_target: torch.Tensor) -> torch.Tensor:
        """Source windows `x` re-composed with the statistics of the paired target windows `x_target`."""
        if self.transfer is None:
            raise ConfigError("e2stn: model.transfer=false has no transfer module to stylise with")
        return self.transfer(x, x_target)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x)


class E2STNModule(ClassifierModule):
    model_block = ModelBlock(E2STN, knobs=("content_weight", "style_weight", "reconstruction_weight", "mmd_weight",
                                           "classify_source"))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, n_channels=info.n_channels, n_bands=info.n_bands,
                                              n_classes=info.n_classes)
        model = cfg.model
        self.weights = {k: float(model[f"{k}_weight"]) for k in ("content", "style", "reconstruction", "mmd")}
        bad = {k: v for k, v in self.weights.items() if not v >= 0}  # also catches NaN
        if bad:
            raise ConfigError(f"e2stn: loss weights {bad} must be >= 0 (model.<name>_weight)")
        self.classify_source = bool(model.classify_source)
        transductive = bool(cfg.data.get("transductive", False))
        if self.network.transfer is not None and not transductive:
            raise ConfigError("e2stn: model.transfer=true needs the unlabelled target windows at training",
                              hint="set data.transductive=true, or model.transfer=false for the source-only baseline")
        if self.network.transfer is None and transductive:
            raise ConfigError("e2stn: model.transfer=false is the source-only baseline and reads no target window",
                              hint="set data.transductive=false")

    def transfer_losses(self, x: torch.Tensor, x_target: torch.Tensor, stylised: torch.Tensor) -> dict:
        """The transfer evaluation module: content kept, target statistics taken, no distortion (module doc)."""
        w = self.weights
        mu_x, sd_x = electrode_stats(stylised)
        mu_t, sd_t = electrode_stats(x_target)
        losses = {"content": w["content"] * F.mse_loss(instance_normalise(stylised), instance_normalise(x)),
                  "style": w["style"] * (F.mse_loss(mu_x, mu_t) + F.mse_loss(sd_x, sd_t))}
        if w["reconstruction"] > 0:
            losses["reconstruction"] = w["reconstruction"] * F.mse_loss(self.network.stylise(x, x), x)
        if w["mmd"] > 0:
            losses["mmd"] = w["mmd"] * mmd2(stylised.flatten(1), x_target.flatten(1))
        return losses

    def compute(self, batch: dict):
        x, y = batch["x"], batch["y"]
        if not self.training or self.network.transfer is None:
            scores = self.network(x)
            return {"scores": scores}, {"ce": F.cross_entropy(scores, y)}
        if "x_target" not in batch:
            raise ConfigError("e2stn: a training batch without x_target (data.transductive must be true)")
        stylised = self.network.stylise(x, batch["x_target"])
        scores = self.network(stylised)
        losses = {"ce": F.cross_entropy(scores, y)}
        if self.classify_source:
            losses["ce_source"] = F.cross_entropy(self.network(x), y)
        losses.update(self.transfer_losses(x, batch["x_target"], stylised))
        return {"scores": scores}, losses
