"""SMIC's three channels (HS, VIS, NIR): the stand-in variants, the official tree and the parsers that read it."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import AffectError
from rawdata.datasets import DATASETS, STANDINS, VARIANTS, standin_variant
from rawdata.layouts import parse
from rawdata.synth import generate, plan, render
from rawdata.synth.micro import SPECS
from rawdata.synth.micro import VARIANTS as SPEC_VARIANTS

CHANNELS = {"hs": ("HS", "smic", 100), "vis": ("VIS", "smic_vis", 25), "nir": ("NIR", "smic_nir", 25)}


@pytest.fixture(scope="module")
def smic_root(tmp_path_factory) -> Path:
    """One SMIC folder holding all three channels, as the official release does."""
    root = tmp_path_factory.mktemp("SMIC")
    for variant, (folder, _, _) in CHANNELS.items():
        out = root.parent / f"{root.name}-{variant}"
        generate("smic", out, subjects=2, seed=3, clips_per_subject=3, workers=1, variant=variant)
        (out / folder).rename(root / folder)
        (out / "ground_truth.json").rename(root / f"ground_truth_{variant}.json")
    return root


def frames_of(root: Path, folder: str) -> list[np.ndarray]:
    return [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted((root / folder).rglob("*.jpg"))]


def test_each_channel_parser_reads_its_own_folder_of_the_official_tree(smic_root):
    ids = set()
    for variant, (folder, dataset, fps) in CHANNELS.items():
        result = parse(dataset, smic_root)
        assert result.usable, result.problems
        index = result.index
        truth = json.loads((smic_root / f"ground_truth_{variant}.json").read_text())
        assert truth["fps"] == fps and truth["dataset"] == dataset
        assert set(index["sample_id"]) == {s["sample_id"] for s in truth["samples"]}
        assert (index["dataset"] == dataset).all()
        assert all(f"/{folder}/s" in d for d in index["frame_dir"])
        assert set(index["emotion"]) <= {"positive", "negative", "surprise"}
        assert index["apex_estimated"].all()
        ids |= set(index["sample_id"])
    assert len(ids) == 3 * 6  # sample ids never collide between channels


def test_a_channel_folder_itself_is_a_valid_root(smic_root):
    assert parse("smic_nir", smic_root / "NIR").usable


def test_the_25fps_channels_span_fewer_frames_for_the_same_expression_time(smic_root):
    lengths = {}
    for variant, (_, dataset, _) in CHANNELS.items():
        index = parse(dataset, smic_root).index
        lengths[variant] = float(np.mean([len(f) for f in index["frames"]]))
    assert lengths["vis"] < lengths["hs"] / 2 and lengths["nir"] < lengths["hs"] / 2


def test_nir_looks_single_channel_flat_and_noisy(smic_root):
    hs, vis, nir = (frames_of(smic_root, f) for f in ("HS", "VIS", "NIR"))
    assert hs[0].ndim == 3 and vis[0].ndim == 3 and nir[0].ndim == 2
    gray = lambda f: cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if f.ndim == 3 else f  # noqa: E731
    assert np.mean([gray(f).std() for f in nir]) < 0.8 * np.mean([gray(f).std() for f in vis])


def test_the_sensor_knobs_act_on_the_rendered_frame():
    image = np.full((16, 16), 100.0, np.float32)
    image[:, 8:] = 180.0
    light = plan.Illumination(gain=(1.0, 1.0), gradient=(0.0, 0.0), offset=0.0)
    base = dict(dataset="x", recording=None, units=(), motions=(), identity_seed=0, head=None, light=light,
                blinks=(), noise_sigma=0.0, noise_seed=0, jpeg_quality=90, grayscale=False)
    plain = render.finish_frame(image, plan.RecordingPlan(**base), 0.0, 0)
    flat = render.finish_frame(image, plan.RecordingPlan(**base, contrast=0.5, brightness=-10), 0.0, 0)
    assert plain.std() == pytest.approx(40, abs=0.5) and flat.std() == pytest.approx(20, abs=0.5)
    assert flat.mean() == pytest.approx(plain.mean() - 10 - 0.5 * (plain.mean() - 128), abs=0.5)


def test_noise_and_face_size_reach_the_plan():
    knobs = plan.Difficulty()
    hs, nir = SPEC_VARIANTS["smic"]["hs"], SPEC_VARIANTS["smic"]["nir"]
    p_hs = plan.plan_dataset(hs, 2, 6, 0, knobs)
    p_nir = plan.plan_dataset(nir, 2, 6, 0, knobs)
    assert all(p.noise_sigma == knobs.noise_sigma for p in p_hs)
    assert all(p.noise_sigma == pytest.approx(2.5 * knobs.noise_sigma) for p in p_nir)
    assert nir.face_scale == pytest.approx(150 / 180) and hs.face_scale == 1.0
    amp = lambda plans: np.mean([u.amplitude for p in plans for us in p.units for u in us])  # noqa: E731
    many = lambda spec: plan.plan_dataset(spec, 8, 200, 1, knobs)  # noqa: E731
    assert amp(many(nir)) < amp(many(hs))


def test_the_shift_never_comes_from_label_semantics():
    """Every channel draws an expression's AUs from the same emotion prior for the same label: the label means
    the same movement everywhere; only frame rate, sensor, face size, class priors and subjects differ."""
    specs = SPEC_VARIANTS["smic"]
    for spec in specs.values():
        assert spec.priors == SPECS["smic"].priors
        assert set(spec.class_counts) == {"positive", "negative", "surprise"}
    assert specs["hs"] is SPECS["smic"]
    shares = {v: np.array([s.class_counts[c] for c in ("positive", "negative", "surprise")]) for v, s in specs.items()}
    assert not np.allclose(shares["hs"] / shares["hs"].sum(), shares["vis"] / shares["vis"].sum(), atol=0.05)


def test_the_channels_are_declared_as_variants_of_one_kind():
    assert STANDINS["smic"] is DATASETS["smic"]
    assert {v: d.name for v, d in VARIANTS["smic"].items()} == {"hs": "smic", "vis": "smic_vis", "nir": "smic_nir"}
    assert {d.format for d in VARIANTS["smic"].values()} == {"smic", "smic_vis", "smic_nir"}
    assert standin_variant("smic", "nir").standin_subjects == SPEC_VARIANTS["smic"]["nir"].subjects == 8
    assert standin_variant("smic").name == "smic"


def test_the_synth_command_writes_a_variant(tmp_path, capsys):
    from experiments.cli import main

    out = tmp_path / "smic_vis"
    assert main(["synth", "smic", "--variant", "vis", "--out", str(out), "--subjects", "1",
                 "--clips-per-subject", "2", "--workers", "1"]) == 0
    assert (out / "VIS" / "s1" / "micro").is_dir() and not (out / "HS").exists()
    marker = json.loads((out / "SYNTHETIC.json").read_text())
    assert marker["format"] == "smic_vis" and marker["parameters"]["variant"] == "vis"
    assert parse("smic_vis", out).usable


def test_an_unknown_variant_is_a_user_error_naming_the_known_ones(tmp_path):
    with pytest.raises(AffectError, match="no variant 'swir'.*hs, vis, nir"):
        generate("smic", tmp_path / "x", subjects=1, seed=0, variant="swir")
    with pytest.raises(AffectError, match="masked has no variants"):
        generate("masked", tmp_path / "y", subjects=1, seed=0, variant="nir")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
