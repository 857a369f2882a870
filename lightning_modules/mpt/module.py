"""LightningModule of MPT (Motion Prompt Tuning): cross-entropy on a ViT that reads the apex frame, with motion
prompts from the onset->apex motion and a group adapter after every block (network.py).

Faithfulness (what follows the abstract, /work/shared/seeds/papers-group.txt; the full paper was not read):
the abstract gives (1) a large pre-trained model (LM) adapted to MER by prompt tuning, (2) motion prompt
generation made of motion magnification and Gaussian tokenization, whose tokens are the LM's prompts, (3) a group
adapter inserted into the LM, and (4) evaluation on three widely used MER datasets (not named in the abstract; the
suite runs CASME II, SAMM, SMIC and the MEGC2019 composite of the three). Everything else is a choice, a knob of
experiments/_defaults/methods/mpt.yaml, fixed a priori and never tuned on test folds:

* the LM: a timm ViT. No weights can be downloaded here, so by default it is small (dim 96, depth 4, 4 heads,
  4 px patches on a 28 px input) and RANDOMLY INITIALISED and trained end to end: not MPT's published condition,
  and the run's faithfulness note (run.json, the report) starts with "randomly initialised ViT: not MPT's published
  condition". ``model.checkpoint`` names a local timm or open_clip file (``model.checkpoint_format``); the ViT's
  sizes must then match the checkpoint (e.g. image_size 224, patch_size 16, dim 768, depth 12, heads 12 for a
  ViT-B/16) and the backbone is frozen (``model.freeze_backbone``: null = frozen exactly when a checkpoint is
  loaded), so only prompts, adapters and head train, as prompt tuning does;
* inputs (``METHOD.inputs``): the apex frame of the faces stage (``apex``, uint8 RGB crop, scaled to [0, 1],
  normalised by ``model.frame_normalisation`` and resized to ``model.image_size``) as the LM's image, and the flow
  stage's onset->apex (u, v, optical strain) 28 x 28 image (``image28``) as the motion;
* motion magnification: the motion image times ``model.motion_gain`` (10, the suite's Euler magnification alpha),
  i.e. the displacement magnified, not magnified frames (the magnify stage's clips are not used);
* Gaussian tokenization: 8 learnable 2-D Gaussians over the motion's patch grid pool its patch embeddings into
  8 prompt tokens, inserted after the class token before the first block;
* group adapter: bottleneck 32 units split into 4 groups mixed by a grouped 1x1 map, residual, zero-initialised
  up projection, after every block;
* the ViT's image: the apex frame when a checkpoint is loaded; without one the motion image (``model.use_frame``
  null; chosen on inner validation, below);
* head: linear on the final class token; Adam lr 3e-4 (inner validation, below), batch 64, 100 epochs (below), the
  last epoch's model.

Finding on the composite stand-in (benchmarks/results/mpt.json): the randomly initialised ViT does not clear the
majority-class UF1 + 0.15 bar, and the reason is the missing premise, a pretrained model, not the stand-in or a
fault found in this code. History: with the a-priori 30 epochs the ViT stayed at the class prior (5 subject folds
through the runner: UF1 .269 frame+motion, .337 motion-only, majority .241); 100 epochs, chosen on an inner split of
training subjects (``inner_direct``), fitted (train .842, inner-valid .412) and gave UF1 .341 / UAR .348 (+.10,
seed 0, runner). Then a declared search on inner validation (``benchmarks/mpt.py --inner-select``; the suite's
protocol.validation=inner split of subject folds 1 and 2's training subjects, 20 % held out; test subjects never
used; mean held-out UF1 over the two splits; ``inner_selection``): frame+motion at Adam 1e-3 .265, motion-only .365,
AdamW + weight decay 0.05 + cosine .344 (frame+motion) and .327 (motion-only); round 2 on top of motion-only, declared
before round 1's last run was read: a 4x smaller ViT (dim 48, depth 2) .293, lr 3e-4 .367. STSTNet on the same
splits and the same motion image: .586. So the movement is in the input; the from-scratch ViT either learns little
from the apex frame's 49 identity-laden tokens (frame+motion: training UF1 .63) or memorises its ~270 training clips
(motion-only: training UF1 .84-1.00) and generalises at about .37, whatever the optimiser or size in that search.
Checked for faults: input scales (apex in [-1, 1]; flow u/v std .17/.20, strain .035, times the gain 10), the timm
class-token/position-embedding path, the prompt pooling (rows sum to 1) and the zero-initialised adapters (tests).
Defaults now: ``model.use_frame: null`` (the apex frame is the ViT's image exactly when a checkpoint is loaded, as
in MPT; a random-init ViT reads the motion image) and ``optim.lr: 3e-4`` (won round 2 by .002, within noise: the
declared rule, higher mean wins, was followed), 100 epochs. At these defaults (5 subject folds, seed 0, plain loop
over this module; mpt.json ``seeds``): UF1 .364 / UAR .366 against a majority UF1 of .241, +.12, below the +.15 bar
(seeds 1 and 2 did not fit the session's CPU time: about 16 min per 5-fold run on 2 shared cores). MPT's claim
(prompt tuning of a large pretrained model) is untested here: with no checkpoint this is a small ViT trained from
scratch on 444 clips, where a small CNN on the same motion image does far better.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from core.errors import ConfigError
from lightning_modules.layers.base import ClassifierModule
from lightning_modules.layers.config import ModelBlock
from lightning_modules.mpt.network import MPT

NORMALISATIONS = {  # (mean, std) of the RGB channels in [0, 1]
    "half": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # timm's ViT (augreg) weights
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "clip": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
}


class MPTModule(ClassifierModule):
    model_block = ModelBlock(MPT, knobs=("frame_normalisation",))

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        self.net = self.model_block.build(cfg, n_classes=info.n_classes)
        name = str(cfg.model.get("frame_normalisation", "auto"))
        if name == "auto":
            name = "clip" if str(cfg.model.get("checkpoint_format", "timm")) == "open_clip" else "half"
        if name not in NORMALISATIONS:
            raise ConfigError(f"model.frame_normalisation must be auto or one of {', '.join(NORMALISATIONS)}, "
                              f"got {name!r}", hint="defaults in experiments/_defaults/methods/mpt.yaml")
        mean, std = NORMALISATIONS[name]
        self.register_buffer("frame_mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("frame_std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.condition = self.net.condition  # "randomly initialised ViT: ..." or where the weights came from

    def frame(self, apex: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) uint8 apex crop -> normalised float."""
        return (apex.float() / 255.0 - self.frame_mean) / self.frame_std

    def compute(self, batch):
        logits = self.net(batch["image28"].float(), self.frame(batch["apex"]))
        return {"scores": logits}, {"ce": F.cross_entropy(logits, batch["y"])}
