"""GestureSource / GestureDataModule: the cross-subject split of a stand-in release as normalised batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import DatasetError
from datamodules.gesture import GestureSource, normalise_skeletons, resample_frames
from datamodules.protocols import make_folds
from experiments.config import load_experiment
from rawdata.layouts import imigue
from rawdata.synth import generate


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gesture") / "microgesture"
    generate("microgesture", out, subjects=4, seed=3, frames=32, repeats=1)
    return out


def _source(release: Path, *overrides: str) -> GestureSource:
    cfg = load_experiment("skeleton_ce/microgesture", [f"data.root={release}", *overrides])
    return GestureSource(cfg, ("skeleton",), Path("."))


def test_split_protocol_gives_one_cross_subject_fold(release):
    source = _source(release)
    (fold,) = make_folds(source.index, source.cfg.protocol)
    subjects = source.index.set_index("sample_id")["subject"]
    assert set(subjects[list(fold.train)]).isdisjoint(subjects[list(fold.test)])
    assert len(fold.train) + len(fold.test) == len(source.index) == 48
    assert source.standin and source.index["dataset"].eq("microgesture").all()
    info = source.info(fold.train)
    assert info.n_classes == 12 and info.input_shapes["skeleton"] == (3, 32, 22, 1)
    assert sum(info.class_counts) == len(fold.train)


def test_batches_follow_the_contract(release):
    source = _source(release, "data.batch_size=5")
    (fold,) = make_folds(source.index, source.cfg.protocol)
    datamodule = source.datamodule(fold, seed=0)
    batch = next(iter(datamodule.predict_dataloader()))
    assert batch["skeleton"].shape == (5, 3, 32, 22, 1) and batch["skeleton"].dtype == torch.float32
    assert batch["y"].dtype == torch.long
    assert batch["sample_id"] == list(fold.test[:5])
    assert datamodule.val_dataloader() == []


def test_normalisation_centres_on_the_neck_and_scales_by_shoulder_width(release):
    raw = _source(release, "data.normalise=none").arrays["skeleton"]
    normalised = normalise_skeletons(raw, imigue.LAYOUT)
    coords = normalised[:, :2]
    detected = np.abs(raw[:, :2]).sum(1) > 0
    neck = coords[:, :, :, 1, 0].transpose(0, 2, 1)[detected[:, :, 1, 0]]
    assert np.abs(neck.mean(0)).max() < 0.05
    shoulders = np.linalg.norm(coords[:, :, :, 2, 0] - coords[:, :, :, 5, 0], axis=1)
    both = detected[:, :, 2, 0] & detected[:, :, 5, 0]
    assert abs(shoulders[both].mean() - 1.0) < 0.05
    np.testing.assert_array_equal(normalised[:, 2], raw[:, 2])  # confidences untouched
    undetected = ~detected  # OpenPose's missing joints, written as (0, 0, 0): they sit at the centre afterwards
    assert undetected.any() and (np.abs(coords).sum(1)[undetected] == 0).all()


def test_resampling_and_unknown_settings(release):
    assert resample_frames(np.zeros((2, 3, 32, 22, 1), np.float32), 20).shape == (2, 3, 20, 22, 1)
    ramp = np.arange(5, dtype=np.float32).reshape(1, 1, 5, 1, 1)
    np.testing.assert_allclose(resample_frames(ramp, 9)[0, 0, :, 0, 0], np.linspace(0, 4, 9))
    with pytest.raises(DatasetError, match="data.normalise"):
        _source(release, "data.normalise=zscore")
    with pytest.raises(DatasetError, match="unknown skeleton layout"):
        _source(release, "data.format=kinect")
