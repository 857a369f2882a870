"""MPT (issue 19): the network learns, the local checkpoint path (timm and open_clip formats, wrong files refused
with one line), the registered module (a training step through a Trainer, the predict contract, the runner) and
the random-initialisation label of its runs."""

import argparse
import json

import numpy as np
import pandas as pd
import pytest
import torch

from core.errors import ConfigError
from datamodules.micro_expression import DataInfo
from experiments.config import load_experiment
from experiments.registry import method
from lightning_modules.mpt import RANDOM_INIT, run_condition
from lightning_modules.mpt.network import MPT, build_backbone

SMALL = dict(dim=48, depth=2, heads=4)
SMALL_KEYS = ["model.dim=48", "model.depth=2", "model.heads=4", "model.n_prompts=4", "model.adapter_dim=16"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


# -- checkpoints --------------------------------------------------------------------------------------------------
def test_timm_checkpoint_is_loaded_and_freezes_the_backbone(tmp_path):
    torch.manual_seed(1)
    vit = build_backbone(28, 4, 48, 2, 4)
    path = tmp_path / "vit.pt"
    torch.save(vit.state_dict(), path)
    model = MPT(3, **SMALL, checkpoint=str(path))
    assert model.pretrained and model.loaded["format"] == "timm" and str(path) in model.condition
    for key, value in vit.state_dict().items():
        assert torch.equal(model.vit.state_dict()[key], value), key
    assert not any(p.requires_grad for p in model.vit.parameters())  # prompt tuning freezes the backbone
    assert any(p.requires_grad for p in model.adapters.parameters())
    assert all(p.requires_grad for p in MPT(3, **SMALL, checkpoint=str(path), freeze_backbone=False).vit.parameters())
    random = MPT(3, **SMALL)
    assert not random.pretrained and random.condition.startswith("randomly initialised ViT")
    assert all(p.requires_grad for p in random.vit.parameters())
    # use_frame null: the pretrained ViT reads the apex frame, the random-init one the motion image (the frame unused)
    assert model.use_frame and not random.use_frame and MPT(3, **SMALL, use_frame=True).use_frame
    motion, frame = torch.randn(2, 3, 28, 28), torch.randn(2, 3, 28, 28)
    random.eval()
    torch.testing.assert_close(random(motion, frame), random(motion, torch.zeros_like(frame)))
    model.eval()
    assert not torch.allclose(model(motion, frame), model(motion, torch.zeros_like(frame)))


def test_open_clip_checkpoint_gives_the_clip_towers_features(tmp_path):
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    torch.manual_seed(2)
    clip = CLIP(16, CLIPVisionCfg(layers=2, width=48, head_width=12, patch_size=4, image_size=28),
                CLIPTextCfg(context_length=8, vocab_size=64, width=32, heads=2, layers=1)).eval()
    path = tmp_path / "clip.pt"
    torch.save(clip.state_dict(), path)
    model = MPT(3, **SMALL, checkpoint=str(path), checkpoint_format="open_clip").eval()
    assert model.loaded["format"] == "open_clip"
    image = torch.randn(2, 3, 28, 28)
    with torch.no_grad():
        ours = model.vit.forward_features(image)[:, 0] @ clip.visual.proj
        theirs = clip.visual(image)
    assert torch.allclose(ours, theirs, atol=1e-4), (ours - theirs).abs().max()


def _one_line_error(match, **kwargs):
    with pytest.raises(ConfigError, match=match) as caught:
        MPT(3, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_wrong_checkpoint_files_are_refused_in_one_line_naming_the_file(tmp_path):
    timm_file = tmp_path / "vit.pt"
    torch.save(build_backbone(28, 4, 48, 2, 4).state_dict(), timm_file)
    missing = tmp_path / "missing.pt"
    assert str(missing) in _one_line_error("is not a file", **SMALL, checkpoint=str(missing))
    garbage = tmp_path / "notes.pt"
    garbage.write_text("not a checkpoint\nsecond line")
    message = _one_line_error("cannot be read as a weights-only checkpoint", **SMALL, checkpoint=str(garbage))
    assert str(garbage) in message and "expected a timm ViT state dict" in message
    pickled = tmp_path / "object.pt"  # needs unpickling: refused, never executed
    torch.save({"config": argparse.Namespace(dim=48)}, pickled)
    assert str(pickled) in _one_line_error("weights-only", **SMALL, checkpoint=str(pickled))
    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    _one_line_error("holds no state dict of tensors", **SMALL, checkpoint=str(tensor))
    message = _one_line_error("does not fit the configured ViT", dim=64, depth=2, heads=4, checkpoint=str(timm_file))
    assert str(timm_file) in message and "shape" in message
    _one_line_error("does not fit the configured ViT", dim=48, depth=3, heads=4, checkpoint=str(timm_file))
    _one_line_error("no visual", **SMALL, checkpoint=str(timm_file), checkpoint_format="open_clip")


# -- network --------------------------------------------------------------------------------------------------
def test_adapters_leave_a_loaded_backbone_unchanged_at_init():
    torch.manual_seed(0)
    model = MPT(3, **SMALL)
    x = torch.randn(2, 8, 48)  # (B, tokens, dim)
    assert torch.allclose(model.adapters[0](x), x)
    assert torch.allclose(model.prompts.weights().sum(1), torch.ones(8))


def test_mpt_learns_tiny_fixture():
    torch.manual_seed(0)
    n, classes = 48, 3
    y = torch.arange(n) % classes
    motion = 0.03 * torch.randn(n, 3, 28, 28)
    for c in range(classes):  # class-specific motion in a different face region
        motion[y == c, :, 4 + 8 * c: 10 + 8 * c, 8:20] += 0.1
    frame = torch.randn(n, 3, 28, 28) * 0.1
    model = MPT(classes, **SMALL, n_prompts=4, adapter_dim=16)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    first = None
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(motion, frame), y)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(motion, frame).argmax(1) == y).float().mean().item()
    assert float(loss.detach()) < 0.5 * first and acc > 0.9


# -- module ---------------------------------------------------------------------------------------------------
def _batches(n=24, classes=3, crop=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    motion = 0.05 * torch.randn(n, 3, 28, 28, generator=g)
    for c in range(classes):
        motion[y == c, c % 3, 6 * c: 6 * c + 8, 4:24] += 0.2
    apex = (torch.rand(n, 3, crop, crop, generator=g) * 255).to(torch.uint8)
    from torch.utils.data import DataLoader

    return DataLoader([{"sample_id": [f"s{i}" for i in range(k, k + 8)], "y": y[k:k + 8], "image28": motion[k:k + 8],
             "apex": apex[k:k + 8]} for k in range(0, n, 8)],
                      batch_size=None)  # each item is already a batch


def test_module_trains_through_a_trainer_and_predicts_class_probabilities():
    import lightning.pytorch as pl

    cfg = load_experiment("mpt/composite", [*SMALL_KEYS, "optim.lr=0.003"])
    info = DataInfo(n_classes=3, class_names=["negative", "positive", "surprise"])
    module = method("mpt").load()(cfg, info)
    assert module.condition.startswith(RANDOM_INIT.split(":")[0])
    batches = _batches()
    before = [p.detach().clone() for p in module.parameters()]
    trainer = pl.Trainer(max_epochs=15, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", deterministic=True)
    trainer.fit(module, train_dataloaders=batches)
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))
    assert trainer.callback_metrics["train/loss"] < 0.9  # chance is ln 3 = 1.10
    outputs = trainer.predict(module, dataloaders=batches)
    assert len(outputs) == 3 and set(outputs[0]) == {"scores"}
    scores = torch.cat([o["scores"] for o in outputs])
    assert scores.shape == (24, 3) and torch.allclose(scores.sum(1), torch.ones(24), atol=1e-5)
    assert (scores >= 0).all()
    with pytest.raises(ConfigError, match="model.frame_normalisation"):
        method("mpt").load()(load_experiment("mpt/composite", ["model.frame_normalisation=sepia"]), info)


def test_run_condition_labels_random_initialisation_first(tmp_path):
    cfg = load_experiment("mpt/composite")
    assert cfg.model.checkpoint is None and run_condition(cfg) == RANDOM_INIT
    note, declared = method("mpt").faithfulness_note(cfg)
    assert declared and note.startswith("randomly initialised ViT: not MPT's published condition")
    assert "randomly initialised" in method("mpt").faithfulness_note()[0]  # the note without a run says it too
    with_file = load_experiment("mpt/composite", [f"model.checkpoint={tmp_path / 'vit.pt'}"])
    assert "vit.pt (timm format)" in run_condition(with_file) and "randomly" not in run_condition(with_file)
    assert method("ststnet").faithfulness_note(cfg)[0] == method("ststnet").faithfulness_note()[0]


def test_loso_through_the_runner_writes_the_random_init_label(project):
    from processed_fixture import write_processed

    from experiments.runner import train

    write_processed(project, subjects=2, clips=4, crop=32)
    metrics = train("mpt/casme2", [*SMALL_KEYS, "trainer.max_epochs=1", "data.batch_size=4",
                                   "trainer.fold_workers=1"])
    out = project / "results" / "mpt" / "casme2"
    run = json.loads((out / "run.json").read_text())
    assert run["faithfulness"].startswith("randomly initialised ViT: not MPT's published condition")
    predictions = pd.read_csv(out / "predictions.csv")
    classes = [f"score_{c}" for c in ("happiness", "surprise", "disgust", "repression", "others")]
    assert len(predictions) == 8 and set(classes) <= set(predictions.columns)
    assert np.allclose(predictions[classes].sum(1), 1, atol=1e-4)
    assert metrics["n_folds"] == 2 and 0 <= metrics["uf1"] <= 1
