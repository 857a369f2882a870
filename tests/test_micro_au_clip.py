"""Micro-AU CLIP: AU regions, FACS emotion rules, losses, the network, and learning on generated faces."""

import json

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from core.errors import ConfigError
from core.metrics import all_positive_au_f1, au_f1
from datamodules.micro_expression import DataInfo
from experiments.config import load_experiment
from lightning_modules.micro_au_clip import losses as L
from lightning_modules.micro_au_clip.au_to_emotion import emotion_scores, prototype_index
from lightning_modules.micro_au_clip.module import MicroAUCLIPModule, au_prompts, text_encoder_settings
from lightning_modules.micro_au_clip.network import (
    SMALL_MODEL_NAME,
    MicroAUCLIP,
    PatchTokenAttention,
    build_clip_image_encoder,
)
from lightning_modules.micro_au_clip.regions import AU_ANCHORS, anchor_points, anchor_table, region_masks

CASME2_AUS = ["1", "2", "4", "5", "6", "7", "9", "10", "12", "14", "15", "17", "20", "23", "24", "26"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def face_landmarks(size: float = 128.0, shift=(0.0, 0.0)) -> torch.Tensor:
    """A frontal 68-point face (iBUG order) in a size x size crop: coarse, but every part where it belongs."""
    t = np.linspace(0, 1, 17)
    jaw = np.stack([0.14 + 0.72 * t, 0.40 + 0.52 * np.sin(np.pi * t)], 1)
    brow_r = np.stack([np.linspace(0.22, 0.44, 5), [0.31, 0.28, 0.27, 0.28, 0.30]], 1)
    brow_l = np.stack([1 - brow_r[::-1, 0], brow_r[::-1, 1]], 1)
    bridge = np.stack([[0.5] * 4, np.linspace(0.40, 0.56, 4)], 1)
    nostrils = np.stack([np.linspace(0.44, 0.56, 5), [0.60, 0.61, 0.62, 0.61, 0.60]], 1)
    eye_r = np.array([[0.29, 0.40], [0.33, 0.38], [0.37, 0.38], [0.41, 0.40], [0.37, 0.42], [0.33, 0.42]])
    eye_l = np.stack([1 - eye_r[[3, 2, 1, 0, 5, 4], 0], eye_r[[3, 2, 1, 0, 5, 4], 1]], 1)
    outer = np.array([[0.38, 0.75], [0.42, 0.72], [0.46, 0.71], [0.5, 0.72], [0.54, 0.71], [0.58, 0.72],
                      [0.62, 0.75], [0.58, 0.79], [0.54, 0.80], [0.5, 0.81], [0.46, 0.80], [0.42, 0.79]])
    inner = np.array([[0.40, 0.75], [0.46, 0.74], [0.5, 0.745], [0.54, 0.74], [0.60, 0.75], [0.54, 0.77],
                      [0.5, 0.775], [0.46, 0.77]])
    points = np.concatenate([jaw, brow_r, brow_l, bridge, nostrils, eye_r, eye_l, outer, inner])
    assert points.shape == (68, 2)
    return torch.tensor(points * size + np.asarray(shift), dtype=torch.float32)


def casme2_info(au_names=CASME2_AUS, classes=("happiness", "surprise", "disgust", "repression", "others"), aus=None):
    aus = np.asarray(aus) if aus is not None else np.eye(len(au_names))[np.arange(40) % len(au_names)]
    counts = aus.sum(0)
    cooc = (aus.T @ aus) / np.maximum(counts[:, None], 1)
    return DataInfo(n_classes=len(classes), class_names=list(classes), au_names=list(au_names),
                    au_frequency=(counts / len(aus)).tolist(), au_cooccurrence=cooc.tolist())


def quick_cfg(*overrides):
    return load_experiment("micro_au_clip/casme2", ["model.text_encoder.backend=open_clip", *overrides],
                           profile="quick")


# -- regions ----------------------------------------------------------------------------------------------------
def test_every_au_region_is_non_empty_and_sits_on_its_facial_part():
    landmarks = face_landmarks()[None]
    masks = region_masks(landmarks, CASME2_AUS, grid=8, crop_size=128, radius=0.35)
    assert masks.shape == (1, len(CASME2_AUS), 64)
    assert masks.sum(-1).min() >= 1
    rows = {au: {int(i) // 8 for i in masks[0, k].nonzero()} for k, au in enumerate(CASME2_AUS)}
    assert max(rows["1"]) <= 3 and max(rows["2"]) <= 3  # brows: upper half of the face
    assert min(rows["12"]) >= 5 and min(rows["17"]) >= 5  # mouth corners and chin: lower part


def patch_columns(mask: torch.Tensor, grid: int = 8) -> set[int]:
    return {int(i) % grid for i in mask[0, 0].nonzero()}


def test_regions_follow_the_face_and_do_not_depend_on_crop_scale():
    base = region_masks(face_landmarks()[None], ["12"], grid=8, crop_size=128, radius=0.35)
    moved = region_masks(face_landmarks(shift=(32, 0))[None], ["12"], grid=8, crop_size=128, radius=0.35)
    doubled = region_masks(face_landmarks(256)[None], ["12"], grid=8, crop_size=256, radius=0.35)
    assert torch.equal(base, doubled)
    assert min(patch_columns(moved)) == min(patch_columns(base)) + 2


def test_anchor_points_shift_by_inter_ocular_distance():
    landmarks = face_landmarks()[None]
    index, shift, _ = anchor_table(["6"])
    points = anchor_points(landmarks, index, shift)
    iod = (landmarks[0, 36:42].mean(0) - landmarks[0, 42:48].mean(0)).norm()
    assert torch.allclose(points[0, 0, 0], landmarks[0, 41] + torch.tensor([0.0, 0.35 * float(iod)]))
    with pytest.raises(ValueError):
        anchor_table(["99"])
    assert {str(a) for a in CASME2_AUS} <= set(AU_ANCHORS)


# -- FACS rules ---------------------------------------------------------------------------------------------------
def _probs(present, au_names=CASME2_AUS, low=0.05, high=0.95):
    return torch.tensor([[high if a in present else low for a in au_names]])


@pytest.mark.parametrize(
    "classes,present,expected",
    [
        (["happiness", "surprise", "disgust", "repression", "others"], {"6", "12"}, "happiness"),
        (["happiness", "surprise", "disgust", "repression", "others"], {"1", "2"}, "surprise"),
        (["happiness", "surprise", "disgust", "repression", "others"], {"9", "4"}, "disgust"),
        (["happiness", "surprise", "disgust", "repression", "others"], {"14"}, "repression"),
        (["happiness", "surprise", "disgust", "repression", "others"], set(), "others"),
        (["anger", "contempt", "happiness", "surprise", "other"], {"12", "14"}, "contempt"),
        (["anger", "contempt", "happiness", "surprise", "other"], {"4", "7"}, "anger"),
        (["anger", "contempt", "happiness", "surprise", "other"], {"12"}, "happiness"),
        (["negative", "positive", "surprise"], {"10"}, "negative"),
        (["negative", "positive", "surprise"], {"6", "12"}, "positive"),
        (["negative", "positive", "surprise", "others"], {"1", "2", "5"}, "surprise"),
        (["surprise", "fear"], {"1", "2", "4", "5"}, "fear"),
    ],
)
def test_fac_rules_pick_the_emotion_of_the_au_set(classes, present, expected):
    for hard in (False, True):
        scores = emotion_scores(_probs(present), CASME2_AUS, classes, hard=hard)
        assert classes[int(scores.argmax(1))] == expected


def test_rules_skip_prototypes_with_uncoded_aus_and_reject_unknown_classes():
    table = prototype_index(["happiness", "others"], ["12"])
    assert table == [[[0]], []]  # 6+12 needs the uncoded AU6: only the 12 prototype remains
    with pytest.raises(ConfigError, match="boredom"):
        prototype_index(["boredom"], CASME2_AUS)
    with pytest.raises(ConfigError, match="surprise"):
        prototype_index(["surprise", "others"], ["12"])


# -- losses -------------------------------------------------------------------------------------------------------
def test_dependency_target_is_row_stochastic_and_unseen_aus_attend_to_themselves():
    cooc = torch.tensor([[1.0, 0.5, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    target = L.dependency_target(cooc, smoothing=0.0)
    assert torch.allclose(target.sum(1), torch.ones(3))
    assert torch.allclose(target[0], torch.tensor([2 / 3, 1 / 3, 0.0]))
    assert torch.equal(target[2], torch.tensor([0.0, 0.0, 1.0]))
    attention = target.clamp_min(1e-8)[None].expand(2, -1, -1)
    uniform = torch.full((2, 3, 3), 1 / 3)
    assert float(L.attention_dependency_loss(attention, target)) < 1e-6
    assert float(L.attention_dependency_loss(uniform, target)) > 0.1


def test_prediction_dependency_loss_is_zero_when_predictions_reproduce_the_prior():
    labels = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    cooc = (labels.T @ labels) / labels.sum(0).clamp_min(1)[:, None]
    assert float(L.prediction_dependency_loss(labels, cooc)) < 1e-8
    assert float(L.prediction_dependency_loss(torch.full_like(labels, 0.5), cooc)) > 0.05


def test_miaucl_prefers_features_aligned_with_their_own_description():
    g = torch.Generator().manual_seed(0)
    text = torch.randn(4, 16, generator=g)
    present = torch.tensor([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 1]], dtype=torch.float32)
    noise = torch.randn(3, 4, 16, generator=g)
    aligned = text[None] * (2 * present[..., None] - 1) + 0.1 * noise  # present AUs point at their own text
    shuffled = text[torch.tensor([1, 2, 3, 0])][None] * (2 * present[..., None] - 1) + 0.1 * noise
    assert float(L.miaucl_loss(aligned, text, present)) < float(L.miaucl_loss(shuffled, text, present))
    assert float(L.miaucl_loss(aligned, text, torch.zeros_like(present))) == 0.0


def test_balanced_pos_weight_is_capped_and_neutral_for_unseen_aus():
    w = L.balanced_pos_weight([0.5, 0.2, 0.01, 0.0], max_pos_weight=10)
    assert torch.allclose(w, torch.tensor([1.0, 4.0, 10.0, 1.0]))


# -- network ------------------------------------------------------------------------------------------------------
def test_patch_token_attention_only_looks_inside_each_region():
    pta = PatchTokenAttention(dim=32, n_aus=3, heads=4)
    region = torch.zeros(2, 3, 16, dtype=torch.bool)
    region[:, 0, :4], region[:, 1, 5], region[:, 2, 8:] = True, True, True
    features, weights = pta(torch.randn(2, 16, 32), region)
    assert features.shape == (2, 3, 32)
    assert float(weights.detach()[~region].abs().max()) == 0.0
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3))


def test_network_shapes_and_local_checkpoint_loading(tmp_path):
    import open_clip

    build_clip_image_encoder(SMALL_MODEL_NAME)  # registers the small config
    clip = open_clip.create_model(SMALL_MODEL_NAME, pretrained=None)
    path = tmp_path / "small_clip.pt"
    torch.save(clip.state_dict(), path)
    encoder = build_clip_image_encoder(SMALL_MODEL_NAME, pretrained=str(path))
    assert torch.equal(encoder.conv1.weight, clip.visual.conv1.weight)
    net = MicroAUCLIP(encoder, CASME2_AUS)
    out = net(torch.rand(2, 3, 96, 96), face_landmarks(96)[None].expand(2, -1, -1))
    assert out["au_logits"].shape == (2, 16)
    assert out["au_features"].shape == (2, 16, 128)
    assert out["gda_attention"].shape == (2, 16, 16)
    with pytest.raises(ConfigError, match="not found"):
        build_clip_image_encoder(SMALL_MODEL_NAME, pretrained=str(tmp_path / "missing.pt"))
    with pytest.raises(ConfigError, match="unknown open_clip architecture"):
        build_clip_image_encoder("ViT-Nope-7")


# -- the paper's setting: an open_clip checkpoint file (issue 17) ---------------------------------------------------
# A tiny ViT with ViT-B-32's patch geometry (32 px patches on 224 px, a 7 x 7 grid) for the default run; the real
# ViT-B-32 (151 M parameters, about 20 s to build three times on a CPU) runs the same check under the slow marker.
TINY_B32 = {"embed_dim": 64, "vision_cfg": {"image_size": 224, "layers": 1, "width": 64, "head_width": 32,
                                            "patch_size": 32},
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 1, "layers": 1}}


def random_clip_checkpoint(arch: str, folder) -> tuple[str, torch.Tensor]:
    """An open_clip model with random weights saved as a float16 state dict (as released checkpoints often are);
    returns the file and the float32 value of its patch-embedding weights."""
    import open_clip

    model = open_clip.create_model(arch, pretrained=None)
    path = folder / f"{arch}-random.pt"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}, path)
    return str(path), model.visual.conv1.weight.detach().half().float()


def without_token_mixing(encoder) -> None:
    """Zero every residual branch of the ViT, so each output token is a function of its own patch only."""
    with torch.no_grad():
        for block in encoder.transformer.resblocks:
            for layer in (block.attn.out_proj, block.mlp.c_proj):
                layer.weight.zero_()
                layer.bias.zero_()


def check_paper_setting(arch: str, folder, grid: int, dim: int) -> None:
    """`model.clip.arch=<arch> model.clip.pretrained=<file>` end to end: the image tower holds the file's weights,
    the text side is the same checkpoint's text tower, the AU regions sit on the patches that hold their landmarks
    in THIS architecture's token order, and a training step runs."""
    path, conv1 = random_clip_checkpoint(arch, folder)
    cfg = load_experiment("micro_au_clip/casme2", [f"model.clip.arch={arch}", f"model.clip.pretrained={path}"])
    module = MicroAUCLIPModule(cfg, casme2_info())
    net = module.network
    assert (net.grid, net.input_size, net.dim) == (grid, 224, dim)
    assert torch.equal(net.encoder.conv1.weight, conv1)
    assert module.text_source["backend"] == "open_clip" and module.text_source["source"] == path

    # Patch mapping: a bright dot on each AU's first anchor (128 px crop) must change the token of the grid cell
    # that holds the anchor, and that token must belong to the AU's region as the network computes it. A
    # transposed grid, a class token left among the patch tokens, or regions placed in the encoder's 224 px
    # instead of the crop's pixels all fail here.
    without_token_mixing(net.encoder)
    landmarks = face_landmarks(128.0)[None]
    index, shift, valid = anchor_table(CASME2_AUS)
    anchors = anchor_points(landmarks, index, shift)[0, :, 0]
    blank = torch.full((1, 3, 128, 128), 0.5)
    with torch.no_grad():
        regions = net(blank, landmarks)["region"][0]  # what PTA pools over
        base = net.patch_tokens(blank)
        for a, au in enumerate(CASME2_AUS):
            x, y = (int(v) for v in anchors[a].floor())
            dot = blank.clone()
            dot[..., y, x] = 1.0
            change = (net.patch_tokens(dot) - base).abs().sum(-1)[0]
            token = int(change.argmax())
            assert token == (y * grid // 128) * grid + x * grid // 128, f"AU {au}: dot at ({x}, {y})"
            assert regions[a, token], f"AU {au}: the token under its anchor is outside its region"

    batch = {"apex": torch.rand(2, 3, 128, 128), "onset": torch.rand(2, 3, 128, 128),
             "landmarks": landmarks[:, None].expand(2, 4, -1, -1).clone(), "aus": torch.eye(16)[:2]}
    _, losses = module.compute(batch)
    sum(losses.values()).backward()
    assert net.encoder.conv1.weight.grad is not None


def test_paper_setting_from_an_open_clip_checkpoint_with_the_vit_b_32_patch_grid(tmp_path):
    import open_clip

    config = tmp_path / "MicroAU-test-ViT-32.json"
    config.write_text(json.dumps(TINY_B32))
    open_clip.add_model_config(config)
    check_paper_setting("MicroAU-test-ViT-32", tmp_path, grid=7, dim=64)


@pytest.mark.slow
def test_paper_setting_from_a_vit_b_32_checkpoint(tmp_path):
    check_paper_setting("ViT-B-32", tmp_path, grid=7, dim=512)


def test_checkpoints_of_another_architecture_or_format_are_refused(tmp_path):
    import open_clip

    build_clip_image_encoder(SMALL_MODEL_NAME)  # registers the small config
    path = tmp_path / "small.pt"
    torch.save(open_clip.create_model(SMALL_MODEL_NAME, pretrained=None).state_dict(), path)
    config = tmp_path / "MicroAU-test-ViT-32.json"
    config.write_text(json.dumps(TINY_B32))
    open_clip.add_model_config(config)
    with pytest.raises(ConfigError, match="does not match the open_clip architecture"):
        build_clip_image_encoder("MicroAU-test-ViT-32", pretrained=str(path))
    garbage = tmp_path / "notes.pt"
    garbage.write_text("not a checkpoint")
    with pytest.raises(ConfigError, match="cannot read the CLIP checkpoint"):
        build_clip_image_encoder(SMALL_MODEL_NAME, pretrained=str(garbage))


def test_every_au_of_the_dataset_configs_has_a_description():
    prompts = au_prompts(CASME2_AUS, "{name}: {description}")
    assert prompts[0].startswith("inner brow raiser: ")
    assert len(set(prompts)) == len(prompts)


# -- the LightningModule ------------------------------------------------------------------------------------------
def generated_faces(n: int, seed: int, au_names=("1", "12")):
    """Faces whose AU regions brighten when the AU is present; the face moves, so the regions must follow it."""
    rng = np.random.default_rng(seed)
    items = []
    for _ in range(n):
        aus = rng.random(len(au_names)) < 0.4
        landmarks = face_landmarks(shift=rng.uniform(-8, 8, 2))
        image = 0.45 + 0.05 * rng.standard_normal((3, 128, 128))
        index, shift, valid = anchor_table(list(au_names))
        points = anchor_points(landmarks[None], index, shift)[0]
        yy, xx = np.mgrid[:128, :128]
        for k in np.flatnonzero(aus):
            for x, y in points[k][valid[k]].numpy():
                image += 0.5 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 4.0**2))
        items.append({
            "sample_id": f"s{len(items)}", "y": torch.tensor(0),
            "aus": torch.tensor(aus, dtype=torch.float32),
            "apex": torch.tensor(np.clip(image, 0, 1), dtype=torch.float32),
            "landmarks": landmarks[None].expand(4, -1, -1).clone(),
        })
    return items


def test_module_refuses_a_span_that_does_not_end_at_the_apex():
    with pytest.raises(ConfigError, match="onset_apex"):
        MicroAUCLIPModule(quick_cfg("data.span=clip"), casme2_info())


def test_module_learns_aus_beyond_the_all_positive_floor_and_predicts_emotions():
    pl.seed_everything(0, verbose=False)
    au_names = ["1", "12"]
    train, test = generated_faces(64, seed=1), generated_faces(32, seed=2)
    labels = np.stack([t["aus"].numpy() for t in train])
    info = casme2_info(au_names, classes=("happiness", "others"), aus=labels)
    cfg = quick_cfg("optim.lr=0.002", "model.dropout=0.0", "model.clip.image_size=64")  # 4 x 4 patch grid
    module = MicroAUCLIPModule(cfg, info)
    trainer = pl.Trainer(max_epochs=6, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, DataLoader(train, batch_size=16, shuffle=True))
    out = trainer.predict(module, DataLoader(test, batch_size=16))
    au_scores = torch.cat([b["au_scores"] for b in out]).numpy()
    scores = torch.cat([b["scores"] for b in out]).numpy()
    truth = np.stack([t["aus"].numpy() for t in test])
    assert au_scores.shape == (32, 2) and scores.shape == (32, 2)
    assert ((au_scores >= 0) & (au_scores <= 1)).all()
    learned = au_f1(truth, au_scores >= 0.5, au_names)
    floor = all_positive_au_f1(truth, au_names)
    assert learned["mean_au_f1"] > floor["mean_au_f1"] + 0.2
    happy = scores.argmax(1) == 0
    assert (happy == (au_scores[:, 1] >= 0.5)).mean() > 0.9  # AU12 detected <-> happiness


def test_loso_through_the_runner_writes_au_and_label_free_metrics(project):
    from processed_fixture import write_processed

    from experiments.runner import train

    write_processed(project, subjects=2, clips=4, crop=32)
    metrics = train("micro_au_clip/casme2", ["trainer.max_epochs=1", "model.text_encoder.backend=open_clip",
                                             "model.clip.image_size=32", "data.batch_size=4"])
    from core.results import read_run_metrics

    saved = read_run_metrics(project / "results" / "micro_au_clip" / "casme2")  # headline + details
    assert saved["n_folds"] == 2 and saved["n_samples"] == 8
    assert set(saved["au_f1"]) == set(CASME2_AUS)
    assert saved["au_f1"]["26"] is None and "26" in saved["au_without_positives"]  # reported as such, not NaN
    assert 0 <= saved["mean_au_f1"] <= 1 and 0 <= saved["all_positive_floor"] <= 1
    assert 0 <= saved["label_free_uf1"] <= 1 and 0 <= saved["label_free_uar"] <= 1
    assert metrics["label_free"]["class_names"] == ["happiness", "surprise", "disgust", "repression", "others"]


def test_module_refuses_resized_images_and_takes_its_text_tower_from_the_clip_checkpoint():
    with pytest.raises(ConfigError, match="data.image_size"):
        MicroAUCLIPModule(quick_cfg("data.image_size=64"), casme2_info())
    m = load_experiment("micro_au_clip/casme2").model
    assert text_encoder_settings(m)["backend"] == "minilm"
    m = load_experiment("micro_au_clip/casme2", ["model.clip.arch=ViT-B-32", "model.clip.pretrained=/x.pt"]).model
    assert text_encoder_settings(m) == {"backend": "open_clip", "pretrained": "/x.pt", "model_name": "ViT-B-32"}
    m = load_experiment("micro_au_clip/casme2", ["model.clip.pretrained=/x.pt", "model.text_encoder.backend=minilm"])
    assert text_encoder_settings(m.model)["backend"] == "minilm"


def test_difference_input_is_the_onset_to_apex_motion_and_unknown_inputs_are_refused():
    info = casme2_info()
    with pytest.raises(ConfigError, match="model.input"):
        MicroAUCLIPModule(quick_cfg("model.input=flow"), info)
    apex = torch.full((2, 3, 8, 8), 0.6)
    onset = torch.full((2, 3, 8, 8), 0.5)
    onset[0, :, 0, 0] = 0.0  # a large motion saturates instead of leaving [0, 1]
    batch = {"apex": apex, "onset": onset}
    assert torch.equal(MicroAUCLIPModule(quick_cfg(), info).image(batch), apex)
    moved = MicroAUCLIPModule(quick_cfg("model.input=difference", "model.difference_gain=2"), info).image(batch)
    assert torch.allclose(moved[1], torch.full((3, 8, 8), 0.7))
    assert moved[0, 0, 0, 0] == 1.0 and moved.min() >= 0.0
