"""Micro-AU CLIP LightningModule: micro-AU detection, and emotion-label-free micro-expression recognition.

Wraps the plain network (network.py) with the losses of losses.py:

    loss = BCE(AU logits, AU labels) + gd_weight * GDLoss + miaucl_weight * MiAUCL

Emotion labels are NEVER used in training: ``predict_step`` returns ``au_scores`` (sigmoid probabilities, B x A)
and ``scores`` (B x C) computed from the predicted AUs by the FACS/EMFACS rules of au_to_emotion.py for the
experiment's label set, so the runner can score label-free UF1/UAR against the emotion labels.

Inputs (docs/architecture.md): ``apex`` (B, 3, S, S) in [0, 1] and ``landmarks`` (B, T, 68, 2) resampled over
the onset -> apex span (``data.span: onset_apex``), so the apex frame's landmarks are the last row; any other
span is refused rather than silently placing the AU regions on another frame.

What the image encoder sees (``model.input``): ``apex`` (default, the paper's input) is the apex frame.
``difference`` is a documented DEVIATION for the setting without CLIP weights: ``0.5 + difference_gain *
(apex - onset)``, clipped to [0, 1], i.e. the motion from the onset frame (``onset`` input, same aligned crop),
which removes the identity a from-scratch encoder otherwise has to learn to ignore. The default `dvc repro` runs
``micro_au_clip-difference/casme2`` (this input, 5 subject folds); the report marks it as not the paper's input.

Why the apex input cannot work on the stand-ins (investigated, benchmarks/micro_au_clip.py): the stand-in
renders every AU as a geometric warp of the identity's neutral face (no wrinkles, no texture change) of 0.14-0.7
px on a 180 px face after calibration, while face shapes differ between identities by several pixels. One frame
therefore holds no identity-independent AU evidence. Measured on the CASME II stand-in's ground-truth landmarks
(no detector involved) with per-AU logistic regressions over 5 subject folds: mean AU F1 0.15 from the apex
frame's own landmark shape (all-positive floor 0.16), 0.66 from apex minus onset landmarks, 0.76 from the apex
against the true neutral face (an oracle). The network agrees: apex input at the floor, difference input well
above it. On real faces AUs also change texture (furrows, wrinkles, bulges), which a CLIP pretrained on faces can
read from one frame: the paper's setting needs real data and real CLIP weights (``model.clip.arch=ViT-B-32
model.clip.pretrained=...``), not the stand-in.

Text side: the AU prompts of au_descriptions.yaml embedded ONCE by the suite's frozen text encoder
(core/text.py), kept as a buffer, and mapped into the image feature space by a learned linear layer (the only
trainable part of the text side). ``model.text_encoder.backend: auto`` (default) takes the open_clip text tower of
the image tower's checkpoint when ``model.clip.pretrained`` names one, so ``model.clip.arch=ViT-B-32
model.clip.pretrained=/path/to/open_clip_checkpoint.pt`` alone gives the paper's setting (CLIP on both sides);
without a checkpoint it is all-MiniLM-L6-v2 (bundled, pretrained).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from omegaconf import OmegaConf
from torch import nn

from core.errors import ConfigError
from core.text import build_text_encoder
from lightning_modules.layers.base import MultilabelAUModule
from lightning_modules.layers.config import TEXT_ENCODER, ModelBlock
from lightning_modules.layers.optim import build_optimizer, trainer_epochs
from lightning_modules.micro_au_clip import losses as L
from lightning_modules.micro_au_clip.au_to_emotion import emotion_scores, prototype_index
from lightning_modules.micro_au_clip.network import MicroAUCLIP, build_clip_image_encoder

DESCRIPTIONS = Path(__file__).with_name("au_descriptions.yaml")
GD_MODES = ("attention", "prediction")
INPUTS = ("apex", "difference")
POS_WEIGHTS = ("balanced", "none")
# the image tower: `model.clip` minus what the module reads itself (freezing, the tower's learning-rate scale)
CLIP_ENCODER = ModelBlock(build_clip_image_encoder, knobs=("freeze", "lr_scale"))


def load_au_descriptions(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """AU number -> {"name", "description"} from the YAML data file (default: the bundled one)."""
    path = Path(path) if path else DESCRIPTIONS
    try:
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read AU descriptions: {err}", path=path) from None
    if not isinstance(table, dict):
        raise ConfigError("expected a mapping AU -> {name, description}", path=path)
    for au, entry in table.items():
        if not isinstance(entry, dict) or not {"name", "description"} <= set(entry):
            raise ConfigError(f"AU {au!r} needs both `name` and `description`", path=path)
    return {str(au): {k: str(v) for k, v in entry.items()} for au, entry in table.items()}


def au_prompts(au_names: list[str], template: str, path: str | Path | None = None) -> list[str]:
    """One text prompt per AU, in the order of ``au_names``."""
    table = load_au_descriptions(path)
    missing = [a for a in au_names if str(a).lstrip("LR") not in table]
    if missing:
        raise ConfigError(f"no description for AUs {missing}", path=path or DESCRIPTIONS,
                          hint="add them to the descriptions file before listing them in data.aus")
    return [template.format(**table[str(a).lstrip("LR")]) for a in au_names]


def check_config(cfg, au_names: list[str], class_names: list[str]) -> None:
    """Refuse, before any training, settings this method cannot honour."""
    m = cfg.model
    if not au_names:
        raise ConfigError("micro_au_clip needs AU labels: set data.aus in the dataset config")
    if str(cfg.data.span) != "onset_apex":
        raise ConfigError(f"micro_au_clip reads the apex landmarks as the last frame of the onset->apex span; "
                          f"data.span must be onset_apex, got {cfg.data.span!r}")
    if int(cfg.data.image_size):
        raise ConfigError(f"micro_au_clip places AU regions with landmarks in the processed crop's pixels; "
                          f"data.image_size={cfg.data.image_size} would resize the images away from them",
                          hint="leave data.image_size at 0 and set the encoder's input with model.clip.image_size")
    if str(m.input) not in INPUTS:
        raise ConfigError(f"model.input must be one of {INPUTS}, got {m.input!r}")
    if str(m.gd_mode) not in GD_MODES:
        raise ConfigError(f"model.gd_mode must be one of {GD_MODES}, got {m.gd_mode!r}")
    if str(m.pos_weight) not in POS_WEIGHTS:
        raise ConfigError(f"model.pos_weight must be one of {POS_WEIGHTS}, got {m.pos_weight!r}")
    prototype_index(class_names, au_names)  # an emotion class no FACS rule can score fails now, not after training


def text_encoder_settings(m) -> dict:
    """The text encoder's knobs with ``backend: auto`` resolved: the open_clip text tower of the image tower's
    checkpoint when ``model.clip.pretrained`` is set (the paper's CLIP on both sides), MiniLM otherwise."""
    settings = OmegaConf.to_container(m.text_encoder, resolve=True)
    if settings["backend"] == "auto":
        settings["backend"] = "open_clip" if m.clip.pretrained else "minilm"
    return settings


def embed_au_descriptions(m, au_names: list[str]) -> tuple[torch.Tensor, dict]:
    """(A, D_text) frozen embeddings of the AU prompts, and where the text encoder came from."""
    encoder = build_text_encoder(text_encoder_settings(m))
    prompts = au_prompts(au_names, str(m.prompt_template), m.descriptions)
    return encoder.encode(prompts).float(), encoder.describe()


class MicroAUCLIPModule(MultilabelAUModule):
    model_block = ModelBlock(
        MicroAUCLIP,
        knobs=("input", "difference_gain", "descriptions", "prompt_template", "pos_weight", "max_pos_weight",
               "gd_mode", "gd_weight", "gd_smoothing", "miaucl_weight", "miaucl_temperature", "au_threshold",
               "emotion.fallback_score", "emotion.specificity", "emotion.hard"),
        blocks={"clip": CLIP_ENCODER, "text_encoder": TEXT_ENCODER},
    )

    def __init__(self, cfg, info):
        super().__init__(cfg, info)
        m = cfg.model
        self.au_names = [str(a) for a in info.au_names]
        self.class_names = list(info.class_names)
        check_config(cfg, self.au_names, self.class_names)

        encoder = CLIP_ENCODER.build(cfg, "model.clip")
        encoder.requires_grad_(not bool(m.clip.freeze))
        self.network = self.model_block.build(cfg, image_encoder=encoder, au_names=self.au_names)
        au_text, self.text_source = embed_au_descriptions(m, self.au_names)
        self.register_buffer("au_text", au_text)
        self.text_projection = nn.Linear(au_text.shape[1], self.network.dim)

        n = len(self.au_names)
        cooc = torch.as_tensor(info.au_cooccurrence, dtype=torch.float32).reshape(-1, n) if n else torch.zeros(0, 0)
        self.register_buffer("au_cooccurrence", cooc if len(cooc) else torch.zeros(n, n))
        self.register_buffer("dependency_target", L.dependency_target(self.au_cooccurrence, float(m.gd_smoothing)))
        frequency = info.au_frequency if len(info.au_frequency) else [0.0] * n
        balanced = str(m.pos_weight) == "balanced"
        self.register_buffer("pos_weight", L.balanced_pos_weight(frequency, float(m.max_pos_weight)) if balanced
                             else torch.ones(n))

    # -- one step for train/val/test ---------------------------------------------------------------------------
    def image(self, batch: dict) -> torch.Tensor:
        """What the image encoder reads: the apex frame, or the onset -> apex motion image (``model.input``)."""
        if str(self.cfg.model.input) == "apex":
            return batch["apex"]
        return (0.5 + float(self.cfg.model.difference_gain) * (batch["apex"] - batch["onset"])).clamp(0.0, 1.0)

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return self.network(self.image(batch), batch["landmarks"][:, -1])

    def losses(self, out: dict[str, torch.Tensor], aus: torch.Tensor) -> dict[str, torch.Tensor]:
        m = self.cfg.model
        terms = {"bce": F.binary_cross_entropy_with_logits(out["au_logits"], aus, pos_weight=self.pos_weight)}
        if float(m.gd_weight) > 0:
            if str(m.gd_mode) == "attention":
                gd = L.attention_dependency_loss(out["gda_attention"], self.dependency_target)
            else:
                gd = L.prediction_dependency_loss(out["au_logits"].sigmoid(), self.au_cooccurrence)
            terms["gd"] = float(m.gd_weight) * gd
        if float(m.miaucl_weight) > 0:
            text = self.text_projection(self.au_text)
            miaucl = L.miaucl_loss(out["au_features"], text, aus, float(m.miaucl_temperature))
            terms["miaucl"] = float(m.miaucl_weight) * miaucl
        return terms

    def compute(self, batch: dict) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """The shared step's (outputs, losses): the network's heads and the weighted BCE / GD / MiAUCL terms."""
        out = self(batch)
        return out, self.losses(out, batch["aus"].float())

    def predict_step(self, batch, batch_idx):
        probs = self(batch)["au_logits"].sigmoid()
        e = self.cfg.model.emotion
        scores = emotion_scores(probs, self.au_names, self.class_names, fallback_score=float(e.fallback_score),
                                specificity=float(e.specificity), hard=bool(e.hard),
                                threshold=float(self.cfg.model.au_threshold))
        return {"au_scores": probs, "scores": scores}

    def configure_optimizers(self):
        encoder = list(self.network.encoder.parameters())
        encoder_ids = {id(p) for p in encoder}
        rest = [p for p in self.parameters() if id(p) not in encoder_ids and p.requires_grad]
        groups = [{"params": rest}]
        trainable_encoder = [p for p in encoder if p.requires_grad]
        if trainable_encoder:
            lr = float(self.cfg.optim.lr) * float(self.cfg.model.clip.lr_scale)
            groups.append({"params": trainable_encoder, "lr": lr})
        return build_optimizer(groups, self.cfg.optim, trainer_epochs(self))
