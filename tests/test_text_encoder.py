"""The shared frozen text encoder: offline MiniLM, open_clip from a local checkpoint, random small CLIP."""

from __future__ import annotations

import json

import pytest
import torch

from core.errors import ConfigError
from core.text import build_text_encoder, bundled_minilm_path, settings_from_config

RANDOM_CLIP = {"embed_dim": 32, "width": 32, "heads": 2, "layers": 1, "context_length": 32}


def test_minilm_is_offline_pretrained_and_semantic():
    encoder = build_text_encoder({"backend": "minilm"})
    texts = ["the hand touches the nose", "a finger rubs the nose", "both arms fold across the chest"]
    rows = encoder.encode(texts)
    assert encoder.pretrained is True
    assert encoder.source == str(bundled_minilm_path())
    assert rows.shape == (3, encoder.dim) == (3, 384)
    assert not rows.requires_grad
    torch.testing.assert_close(rows.norm(dim=1), torch.ones(3))
    similarity = rows @ rows.T
    assert similarity[0, 1] > similarity[0, 2]  # a pretrained encoder knows nose-touching from arm-folding


def test_encoders_are_shared_per_setting_and_cache_sentences():
    first = build_text_encoder({"backend": "open_clip", "random_config": RANDOM_CLIP})
    again = build_text_encoder({"backend": "open_clip", "random_config": RANDOM_CLIP, "batch_size": 64})
    assert first is again
    rows = first.encode(["scratch the head", "rub the hands", "scratch the head"])
    torch.testing.assert_close(rows[0], rows[2])
    assert not torch.allclose(rows[0], rows[1])
    assert first.encode([]).shape == (0, first.dim)


def test_random_open_clip_reports_not_pretrained_and_is_seeded():
    encoder = build_text_encoder({"backend": "open_clip", "random_config": RANDOM_CLIP, "seed": 3})
    other_seed = build_text_encoder({"backend": "open_clip", "random_config": RANDOM_CLIP, "seed": 4})
    assert encoder.pretrained is False and encoder.describe()["source"] == "random-init"
    assert encoder.dim == RANDOM_CLIP["embed_dim"]
    text = ["fold the arms"]
    assert not torch.allclose(encoder.encode(text), other_seed.encode(text))


def test_open_clip_loads_a_local_checkpoint_folder(tmp_path):
    """open_clip's own `local-dir:` format: open_clip_config.json plus the weights file."""
    source = build_text_encoder({"backend": "open_clip", "random_config": RANDOM_CLIP, "seed": 7})
    vision = {"layers": 1, "width": 32, "head_width": 32, "patch_size": 16, "image_size": 32}
    text = {k: RANDOM_CLIP[k] for k in ("width", "heads", "layers", "context_length")}
    model_cfg = {"embed_dim": RANDOM_CLIP["embed_dim"], "vision_cfg": vision, "text_cfg": text}
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": model_cfg}))
    torch.save(source.model.state_dict(), tmp_path / "open_clip_pytorch_model.bin")

    loaded = build_text_encoder({"backend": "open_clip", "pretrained": f"local-dir:{tmp_path}"})
    assert loaded.pretrained is True
    sentences = ["touch the chin with one finger", "adjust the collar"]
    torch.testing.assert_close(loaded.encode(sentences), source.encode(sentences))


def test_bad_settings_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="backend must be one of"):
        settings_from_config({"backend": "bert"})
    with pytest.raises(ConfigError, match="checkpoint not found"):
        build_text_encoder({"backend": "open_clip", "pretrained": str(tmp_path / "missing.pt")})
    with pytest.raises(ConfigError, match="modules.json"):
        build_text_encoder({"backend": "minilm", "pretrained": str(tmp_path)})
