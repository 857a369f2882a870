"""Masked expressions: the stand-in generator, its layout's parser, and the dual-stream decoupling network."""

import json
from dataclasses import replace

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from openpyxl import load_workbook
from torch.utils.data import DataLoader

from core.errors import AffectError, ConfigError
from datamodules.micro_expression import DataInfo
from experiments.config import load_experiment
from lightning_modules.masked_decoupling.module import MaskedDecouplingModule, balanced_class_weights
from lightning_modules.masked_decoupling.network import DualStreamDecoupling, conv_block
from rawdata import layouts
from rawdata.index import au_set
from rawdata.synth import generate
from rawdata.synth.masked import (
    DISGUISE_AUS,
    TRUE_EMOTIONS,
    MaskingKnobs,
    disguise_labels,
    masked_timing,
    rise_and_hold,
    split_options,
    true_intensity,
)

DISGUISES = list(DISGUISE_AUS)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    root = tmp_path_factory.mktemp("masked") / "raw"
    summary = generate("masked", root, subjects=2, seed=5, clips_per_subject=2, workers=1)
    return root, summary


def truth_samples(root):
    lines = (root / "ground_truth.json").read_text().splitlines()[1:-1]
    return {s["sample_id"]: s for s in (json.loads(line.rstrip(",")) for line in lines)}


# -- timing and labels ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_timing_leaks_first_then_holds_a_stable_disguise(seed):
    rng = np.random.default_rng(seed)
    t = masked_timing(MaskingKnobs(), first=10, rng=rng)
    assert t.first < t.onset < t.leak_peak < t.leak_end
    assert t.leak_peak <= t.disguise_start <= t.leak_end < t.disguise_full <= t.apex <= t.last
    numbers = np.arange(t.first, t.last + 1)
    disguise = rise_and_hold(numbers, t.disguise_start, t.disguise_full)
    true = true_intensity(numbers, t, residual=0.2)
    assert true[0] == 0 and true[t.leak_peak - t.first] == pytest.approx(1.0)
    assert disguise[t.disguise_start - t.first] == 0 and (disguise[t.disguise_full - t.first:] == 1).all()
    assert true[t.apex - t.first] == pytest.approx(0.2)  # only the faint residual of the true emotion at the apex


def test_disguise_is_never_the_true_emotion_and_covers_every_disguise():
    emotions = list(TRUE_EMOTIONS) * 50
    disguises = disguise_labels(emotions, np.random.default_rng(0))
    assert all(d != e for d, e in zip(disguises, emotions))
    counts = {d: disguises.count(d) for d in DISGUISES}
    assert min(counts.values()) > 0.15 * len(emotions)


def test_unknown_or_invalid_options_are_user_errors():
    with pytest.raises(AffectError, match="leak_speed"):
        split_options({"leak_speed": 2})
    with pytest.raises(AffectError, match="residual"):
        split_options({"residual": [0.5, 0.1]})
    knobs, difficulty = split_options({"fps": 25, "noise_sigma": 1.0, "hold_ms": [200, 300]})
    assert knobs.fps == 25 and knobs.hold_ms == (200, 300) and difficulty.noise_sigma == 1.0


def test_the_micro_calibration_scales_the_leak_and_not_the_posed_disguise():
    from rawdata.synth.masked import plan_dataset

    def amplitudes(**options):
        knobs, difficulty = split_options(options)
        plans = plan_dataset(3, 0, knobs, difficulty)
        return (np.array([u.amplitude for p in plans for u in p.true_units]),
                np.array([u.amplitude for p in plans for u in p.disguise_units]))

    leak, disguise = amplitudes(amplitude_scale=1.0)
    calibrated_leak, calibrated_disguise = amplitudes(amplitude_scale=0.25)
    assert np.allclose(calibrated_leak, 0.25 * leak, atol=2e-3)  # amplitudes are kept to 3 decimals
    assert np.allclose(calibrated_disguise, disguise)
    assert np.allclose(amplitudes(disguise_amplitude_scale=0.5)[1], 0.5 * disguise, atol=2e-3)
    with pytest.raises(AffectError, match="disguise_amplitude_scale"):
        split_options({"disguise_amplitude_scale": -1})


# -- generator + parser ----------------------------------------------------------------------------------------------
def test_standin_parses_back_to_its_ground_truth(standin):
    root, summary = standin
    assert (root / "SYNTHETIC.json").is_file() and (root / "README.md").read_text().startswith("# Masked")
    parsed = layouts.parse("masked", root)
    assert parsed.usable, parsed.problems
    truth = truth_samples(root)
    index = parsed.index.set_index("sample_id")
    assert len(index) == summary["samples"] == len(truth) == 4
    for sample_id, sample in truth.items():
        row = index.loc[sample_id]
        assert row["emotion"] == sample["emotion"] and row["disguise"] == sample["disguise"]
        assert au_set(row["aus"]) == {a["au"] for a in sample["aus"]}
        assert au_set(row["disguise_aus"]) == set(DISGUISE_AUS[sample["disguise"]])
        timing = sample["timing"]
        assert (row["onset"], row["apex"], row["offset"]) == (timing["onset"], timing["apex"], timing["last"])
        assert row["frame_numbers"] == sample["frame_numbers"]


def test_apex_landmarks_move_with_the_disguise_and_the_leak_with_the_true_emotion(standin):
    root, _ = standin
    for sample in truth_samples(root).values():
        numbers, t = sample["frame_numbers"], sample["timing"]
        moved = np.asarray(sample["landmarks_moved"]) - np.asarray(sample["landmarks_neutral"])
        leak = np.abs(moved[numbers.index(t["leak_peak"])]).max()
        apex = np.abs(moved[numbers.index(t["apex"])]).max()
        assert 0.05 < leak < 2.0  # calibrated micro amplitudes, with the subject's expressiveness
        if sample["disguise"] != "neutral":
            assert apex > 2 * leak  # the posed disguise is a larger expression


def test_generator_is_deterministic(standin, tmp_path):
    root, _ = standin
    again = tmp_path / "again"
    generate("masked", again, subjects=2, seed=5, clips_per_subject=2, workers=1)
    assert (again / "ground_truth.json").read_text() == (root / "ground_truth.json").read_text()
    frames = sorted((root / "frames").rglob("*.jpg"))
    assert [p.read_bytes() for p in frames[:5]] == [(again / p.relative_to(root)).read_bytes() for p in frames[:5]]


def _edit_sheet(root, row: int, column: str, value):
    path = root / "masked_coding.xlsx"
    book = load_workbook(path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=row, column=headers.index(column) + 1, value=value)
    book.save(path)


@pytest.mark.parametrize(
    "column,value,message",
    [("Disguised Expression", "smirk", "unknown disguised expression"),
     ("Disguise Action Units", "12+X", "Disguise Action Units"),
     ("True Emotion", "boredom", "unknown emotion")],
)
def test_bad_rows_are_reported_with_file_and_row(standin, tmp_path, column, value, message):
    import shutil

    root, _ = standin
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    _edit_sheet(copy, 3, column, value)
    parsed = layouts.parse("masked", copy)
    errors = [p for p in parsed.errors if message in p.message]
    assert errors and errors[0].row == 3 and errors[0].file.endswith("masked_coding.xlsx")
    assert len(parsed.index) == 3 and "disguise" in parsed.index


# -- network and module ---------------------------------------------------------------------------------------------
def test_both_paradigms_give_two_heads_and_two_features():
    net = DualStreamDecoupling(6, 4, feature_dim=16, width=8)
    out = net(torch.rand(5, 3, 32, 32))
    assert out["true_logits"].shape == (5, 6) and out["disguise_logits"].shape == (5, 4)
    assert out["true_features"].shape == out["disguise_features"].shape == (5, 16)
    clip = DualStreamDecoupling(6, 4, feature_dim=16, width=8, paradigm="onset_clip")
    assert clip(torch.rand(5, 4, 3, 32, 32))["true_logits"].shape == (5, 6)
    still = torch.rand(2, 1, 3, 32, 32).expand(2, 4, 3, 32, 32)  # no motion: differences are all zero
    clip.eval()
    assert torch.allclose(clip(still)["true_features"], clip(torch.zeros(2, 4, 3, 32, 32))["true_features"])
    with pytest.raises(ValueError, match="expects a 5-d input"):
        clip(torch.rand(5, 3, 32, 32))


def test_streams_pool_before_relu_in_channels_last_with_the_usual_values_and_gradients():
    """The speed-ups of network.py change no result: max-pool then ReLU equals ReLU then max-pool (values and
    gradients), and the channels-last layout gives the NCHW output."""
    torch.manual_seed(0)
    fast = conv_block(3, 8)
    usual = torch.nn.Sequential(fast[0], fast[1], torch.nn.ReLU(), torch.nn.MaxPool2d(2))
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    y_usual = usual(x)
    grad_usual = torch.autograd.grad(y_usual.square().sum(), [x, fast[0].weight])
    y_fast = fast(x)
    assert torch.equal(y_fast, y_usual)  # the order alone: bit-identical
    assert all(torch.equal(a, b) for a, b in zip(torch.autograd.grad(y_fast.square().sum(), [x, fast[0].weight]),
                                                 grad_usual, strict=True))
    y_fast = fast(x.contiguous(memory_format=torch.channels_last))  # the layout: equal up to rounding
    grad_fast = torch.autograd.grad(y_fast.square().sum(), [x, fast[0].weight])
    assert torch.allclose(y_fast, y_usual, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5 * float(b.abs().max())) for a, b in zip(grad_fast, grad_usual,
                                                                                       strict=True))
    net = DualStreamDecoupling(6, 4, feature_dim=16, width=8).eval()
    x = torch.rand(3, 3, 32, 32)
    nchw = torch.nn.Sequential(*net.true_stream)((x - 0.5) / 0.25)
    assert torch.allclose(net(x)["true_features"], nchw, atol=1e-5)


def test_apex_difference_input_removes_the_face_and_needs_the_onset():
    net = DualStreamDecoupling(6, 4, feature_dim=16, width=8, apex_input="difference").eval()
    face, other_face = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    motion = torch.zeros(2, 3, 32, 32)
    motion[:, :, 4:8, 4:8] = 0.2
    # the same motion on two different faces gives the same features: only apex - onset is encoded
    a, b = net(face + motion, face)["true_features"], net(other_face + motion, other_face)["true_features"]
    assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="onset frame"):
        net(face)
    with pytest.raises(ValueError, match="apex_input"):
        DualStreamDecoupling(6, 4, apex_input="flow")


def masked_info(n_true=6, n_disguise=4, counts=None):
    return DataInfo(n_classes=n_true, class_names=list(TRUE_EMOTIONS[:n_true]),
                    class_counts=counts or [10] * n_true, disguise_classes=DISGUISES[:n_disguise])


def test_class_weights_and_config_checks():
    assert torch.allclose(balanced_class_weights([30, 10, 0], 3, "balanced"), torch.tensor([40 / 90, 40 / 30, 1.0]))
    cfg = load_experiment("masked_decoupling-onset_clip/masked", ["data.span=clip"])
    with pytest.raises(ConfigError, match="onset_apex"):
        MaskedDecouplingModule(cfg, masked_info())
    with pytest.raises(ConfigError, match="disguise"):
        MaskedDecouplingModule(load_experiment("masked_decoupling/masked"), replace(masked_info(),
                                                                                     disguise_classes=[]))


def coded_images(n: int, seed: int):
    """True label drawn as a bright square in one of 3 positions on top, disguise label as one of 2 at the bottom."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        y, d = int(rng.integers(3)), int(rng.integers(2))
        image = 0.3 + 0.05 * rng.standard_normal((3, 32, 32))
        image[:, 2:10, 2 + 10 * y:8 + 10 * y] += 0.6
        image[:, 22:30, 4 + 16 * d:12 + 16 * d] += 0.6
        items.append({"sample_id": f"s{i}", "y": torch.tensor(y), "y_disguise": torch.tensor(d),
                      "aus": torch.zeros(2), "apex": torch.tensor(image, dtype=torch.float32)})
    return items


@pytest.mark.parametrize("experiment", ["masked_decoupling/masked", "masked_decoupling-no_hsic/masked"])
def test_module_learns_both_labels_and_predicts_probabilities(experiment):
    pl.seed_everything(0, verbose=False)
    cfg = load_experiment(experiment, ["model.width=8", "model.feature_dim=32", "optim.lr=0.005"])
    module = MaskedDecouplingModule(cfg, masked_info(3, 2, counts=[20, 20, 20]))
    trainer = pl.Trainer(max_epochs=6, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, DataLoader(coded_images(96, seed=1), batch_size=16, shuffle=True))
    test = coded_images(48, seed=2)
    out = trainer.predict(module, DataLoader(test, batch_size=16))
    scores = torch.cat([b["scores"] for b in out])
    disguise = torch.cat([b["scores_disguise"] for b in out])
    assert scores.shape == (48, 3) and disguise.shape == (48, 2)
    assert torch.allclose(scores.sum(1), torch.ones(48), atol=1e-5)
    y = torch.stack([t["y"] for t in test])
    y_disguise = torch.stack([t["y_disguise"] for t in test])
    assert (scores.argmax(1) == y).float().mean() > 0.8
    assert (disguise.argmax(1) == y_disguise).float().mean() > 0.8
    _, losses = module.compute(next(iter(DataLoader(test, batch_size=16))))
    assert ("hsic" in losses) == (float(cfg.model.hsic.weight) > 0)


def test_loso_through_the_runner_scores_true_emotion_and_disguise(project):
    from processed_fixture import write_processed

    from experiments.runner import train
    from rawdata.index import load_index, save_index

    folder = write_processed(project, dataset="masked", subjects=2, clips=6, crop=16, emotions=TRUE_EMOTIONS)
    index = load_index(folder / "index.csv")
    index["disguise"] = [DISGUISES[i % 4] for i in range(len(index))]
    save_index(index, folder / "index.csv")
    metrics = train("masked_decoupling/masked", ["trainer.max_epochs=1", "model.width=4", "model.feature_dim=8",
                                                 "data.batch_size=6"])
    out = project / "results" / "masked_decoupling" / "masked"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["n_folds"] == 2 and saved["n_samples"] == 12
    for key in ("uf1", "uar", "disguise_uf1", "disguise_uar"):
        assert 0 <= saved[key] <= 1
    assert metrics["disguise"]["class_names"] == DISGUISES
    import pandas as pd

    predictions = pd.read_csv(out / "predictions.csv")
    assert (predictions["disguise_true"] == [DISGUISES.index(d) for d in index.set_index("sample_id").loc[
        predictions["sample_id"], "disguise"]]).all()


def test_onset_clip_paradigm_reads_the_frames_and_ignores_the_apex():
    cfg = load_experiment("masked_decoupling-onset_clip/masked", ["model.width=4", "model.feature_dim=8"])
    module = MaskedDecouplingModule(cfg, masked_info())
    batch = {"y": torch.tensor([0, 1, 2, 3]), "y_disguise": torch.tensor([0, 1, 2, 3]),
             "frames": torch.rand(4, 5, 3, 32, 32), "apex": torch.full((4, 3, 32, 32), float("nan"))}
    outputs, losses = module.compute(batch)
    assert outputs["scores"].shape == (4, 6) and outputs["scores_disguise"].shape == (4, 4)
    assert set(losses) == {"ce_true", "ce_disguise", "hsic"} and all(torch.isfinite(v) for v in losses.values())
