"""TANN (Li et al.): transferable attention over brain regions and samples, adversarial against the target.

Per one-second window x (62 electrodes x 5 DE bands), with the unlabelled TARGET windows of the fold (the test
side, datamodules/eeg.py ``transductive: true``) drawn beside every source window:

- region features: the 15 brain regions of lightning_modules/layers/eeg_graph.py (5 front-to-back groups x left /
  midline / right); f_r = relu(W_r vec(x_r)) per region (``region_width``);
- region-level discriminators D_r (one per region, behind gradient reversal) tell source from target on f_r; the
  local attention of region r for a sample is 1 + H(softmax(D_r(f_r))) (entropy, detached): regions whose features
  the discriminator cannot tell apart are the transferable ones and weigh more;
- the attended region features are concatenated and mapped to a global feature g (``global_width``); a
  sample-level discriminator D_g on g gives the sample attention 1 + H(softmax(D_g(g))) (detached), which weights
  each SOURCE sample's cross-entropy (normalised to mean 1 in the batch);
- domain loss: mean over regions of CE(D_r) + CE(D_g) on source and target windows, times ``domain_weight``; the
  reversal coefficient follows DANN's schedule (``dann_coefficient`` of training progress, ``grl_gamma``).

Faithful to the abstract's mechanism (region-level and sample-level discriminators driving local and global
attention, adversarial transfer). Not faithful where the abstract is silent and we chose (knobs): linear region
encoders (the paper's feature extractor is recurrent, as we recall it: not verified), the entropy form of the
attention (TADA-style), the region partition, the widths and the weights. Evaluation needs the unlabelled target:
a transductive setting (the paper's cross-subject protocol has it too).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.domain_losses import DomainDiscriminator, dann_coefficient
from lightning_modules.layers.eeg_graph import brain_regions


def entropy(logits: torch.Tensor) -> torch.Tensor:
    p = logits.softmax(-1)
    return -(p * p.clamp_min(1e-12).log()).sum(-1)


class TANN(nn.Module):
    def __init__(self, channels: Sequence[str], n_bands: int, n_classes: int, region_width: int = 16,
                 global_width: int = 64, discriminator_hidden: int = 32, dropout: float = 0.5):
        super().__init__()
        regions = torch.as_tensor(brain_regions(channels))
        self.members = [torch.where(regions == r)[0] for r in sorted(set(regions.tolist()))]
        for r, members in enumerate(self.members):
            self.register_buffer(f"members_{r}", members, persistent=False)
        self.region_encoders = nn.ModuleList(nn.Linear(len(m) * n_bands, region_width) for m in self.members)
        self.region_discriminators = nn.ModuleList(DomainDiscriminator(region_width, discriminator_hidden)
                                                   for _ in self.members)
        self.global_encoder = nn.Sequential(nn.Dropout(dropout),
                                            nn.Linear(len(self.members) * region_width, global_width), nn.ReLU())
        self.sample_discriminator = DomainDiscriminator(global_width, discriminator_hidden)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(global_width, n_classes))

    def forward(self, x: torch.Tensor, coefficient: float = 0.0) -> dict[str, torch.Tensor]:
        features, region_logits, attention = [], [], []
        for r, encoder in enumerate(self.region_encoders):
            f = F.relu(encoder(x[:, getattr(self, f"members_{r}")].flatten(1)))
            d = self.region_discriminators[r](f, coefficient)
            w = 1.0 + entropy(d).detach()
            features.append(w.unsqueeze(-1) * f)
            region_logits.append(d)
            attention.append(w)
        g = self.global_encoder(torch.cat(features, dim=-1))
        sample_logits = self.sample_discriminator(g, coefficient)
        return {"scores": self.classifier(g), "region_domain": torch.stack(region_logits, 1),
                "sample_domain": sample_logits, "sample_attention": 1.0 + entropy(sample_logits).detach(),
                "region_attention": torch.stack(attention, 1)}


class TANNModule(ClassifierModule):
    model_block = ModelBlock(TANN, knobs=("domain_weight", "grl_gamma"))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.network = self.model_block.build(cfg, channels=info.channels, n_bands=info.n_bands,
                                              n_classes=info.n_classes)
        self.domain_weight, self.grl_gamma = float(cfg.model.domain_weight), float(cfg.model.grl_gamma)
        self._attention_sum, self._attention_n = None, 0

    def progress(self) -> float:
        """Share of training done (0 outside a Trainer: the reversal starts at 0 as in DANN's schedule)."""
        if self._trainer is None:
            return 0.0
        total = max(int(self.trainer.estimated_stepping_batches or 1), 1)
        return self.global_step / total

    def compute(self, batch: dict):
        if not self.training or "x_target" not in batch:
            out = self.network(batch["x"])
            return {"scores": out["scores"]}, {"ce": F.cross_entropy(out["scores"], batch["y"])}
        n = len(batch["x"])
        coefficient = dann_coefficient(self.progress(), self.grl_gamma)
        out = self.network(torch.cat([batch["x"], batch["x_target"]]), coefficient)
        weights = out["sample_attention"][:n]
        ce = (F.cross_entropy(out["scores"][:n], batch["y"], reduction="none") * weights / weights.mean()).mean()
        domain = torch.cat([torch.zeros(n), torch.ones(len(batch["x_target"]))]).long().to(batch["x"].device)
        region = F.cross_entropy(out["region_domain"].flatten(0, 1), domain.repeat_interleave(
            out["region_domain"].shape[1]))
        sample = F.cross_entropy(out["sample_domain"], domain)
        attention = out["region_attention"].detach().mean(0)
        self._attention_sum = attention if self._attention_sum is None else self._attention_sum + attention
        self._attention_n += 1
        return {"scores": out["scores"][:n]}, {"ce": ce, "domain": self.domain_weight * (region + sample)}

    def interpretation(self) -> dict:
        """Mean local (region) attention over training batches: which regions the discriminators found transferable."""
        if self._attention_sum is None:
            return {}
        return {"region_attention": (self._attention_sum / self._attention_n).cpu().numpy()}
