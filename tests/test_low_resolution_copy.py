"""preprocessing/low_resolution.py: degraded-and-restored copies of a processed dataset (the low-resolution study of
every MER method): shapes and keys kept, learned SR cross-fitted over subjects, resumable, bad input named."""

import numpy as np
import pandas as pd
import pytest

from core.errors import AffectError
from preprocessing.low_resolution import degrade_dataset, restore, subject_halves

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _texture(n_frames=3, size=64, colour=True, seed=0):
    rng = np.random.default_rng(seed)
    base = (128 + 60 * np.sin(np.arange(size) / 1.3)[:, None] * np.cos(np.arange(size) / 1.7)[None, :])
    frames = np.stack([base + rng.normal(0, 5, base.shape) for _ in range(n_frames)])
    frames = np.clip(frames, 0, 255).astype(np.uint8)
    return np.repeat(frames[..., None], 3, axis=-1) if colour else frames


def _dataset(root, subjects=("1", "2", "3", "4")):
    (root / "faces").mkdir(parents=True)
    (root / "landmarks").mkdir()
    rows = []
    for k, subject in enumerate(subjects):
        sid = f"c{k}"
        np.savez(root / "faces" / f"{sid}.npz", frames=_texture(seed=k), frame_numbers=np.arange(3) + 10 * k)
        np.save(root / "landmarks" / f"{sid}.npy", np.full((3, 68, 2), 30.0 + k))
        rows.append({"sample_id": sid, "dataset": "d", "subject": subject})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)
    return root


def test_restore_keeps_the_shape_and_loses_detail_with_the_factor():
    clip = _texture()
    assert np.array_equal(restore(clip, 1, "bicubic"), clip)  # factor 1: nothing to restore
    errors = []
    for factor in (2, 4, 8):
        out = restore(clip, factor, "bicubic")
        assert out.shape == clip.shape and out.dtype == np.uint8
        errors.append(np.abs(out.astype(float) - clip).mean())
    assert errors[0] < errors[1] < errors[2]
    grey = _texture(colour=False)
    assert restore(grey, 2, "lanczos").shape == grey.shape
    with pytest.raises(AffectError, match="uint8 clip"):
        restore(clip.astype(np.float32), 2, "bicubic")


def test_subject_halves_alternate_over_sorted_subjects():
    index = pd.DataFrame({"sample_id": ["a", "b", "c", "d"], "dataset": ["x"] * 4, "subject": ["2", "1", "1", "3"]})
    assert subject_halves(index) == {"a": 1, "b": 0, "c": 0, "d": 0}


def test_degrade_dataset_copy_cross_fits_learned_sr_and_resumes(tmp_path):
    src = _dataset(tmp_path / "d")
    target = tmp_path / "lowres" / "d"
    summary = degrade_dataset(src, target, 2, "srcnn", landmarks="copy", sr_steps=3, frames_per_clip=2)
    assert summary["n_done"] == 4 and summary["n_skipped"] == 0 and summary["landmarks_copied"] == 4
    info = summary["sr_training"]
    assert info["trained_on_half0"]["clips"] == 2 and info["trained_on_half1"]["clips"] == 2
    assert info["trained_on_half0"]["frames"] == 4  # 2 of each clip's 3 frames
    out = np.load(target / "faces" / "c1.npz")
    assert out["frames"].shape == (3, 64, 64, 3) and np.array_equal(out["frame_numbers"], np.arange(3) + 10)
    assert not np.array_equal(out["frames"], np.load(src / "faces" / "c1.npz")["frames"])
    assert np.array_equal(np.load(target / "landmarks" / "c1.npy"), np.load(src / "landmarks" / "c1.npy"))
    assert (target / "degrade.json").is_file() and (target / "index.csv").is_file()

    stamp = (target / "faces" / "c1.npz").stat().st_mtime_ns
    degrade_dataset(src, target, 2, "srcnn", landmarks="copy", sr_steps=3, frames_per_clip=2)
    assert (target / "faces" / "c1.npz").stat().st_mtime_ns == stamp  # same knobs: the copy is kept
    degrade_dataset(src, target, 4, "bicubic", landmarks="copy")
    assert (target / "faces" / "c1.npz").stat().st_mtime_ns != stamp  # another factor: recomputed


def test_degrade_dataset_names_bad_input(tmp_path):
    src = _dataset(tmp_path / "d")
    with pytest.raises(AffectError, match="super-resolution method 'nearest'"):
        degrade_dataset(src, tmp_path / "o", 2, "nearest", landmarks="copy")
    with pytest.raises(AffectError, match="landmark mode"):
        degrade_dataset(src, tmp_path / "o", 2, "bicubic", landmarks="clean")
    with pytest.raises(AffectError, match="needs the params"):
        degrade_dataset(src, tmp_path / "o", 2, "bicubic")
    with pytest.raises(AffectError, match="cannot overwrite its source"):
        degrade_dataset(src, src, 2, "bicubic", landmarks="copy")
    with pytest.raises(AffectError, match="leaves 2 px"):
        degrade_dataset(src, tmp_path / "o", 32, "espcn", landmarks="copy", sr_steps=1)
    one = _dataset(tmp_path / "one", subjects=("1", "1"))
    with pytest.raises(AffectError, match="both halves"):
        degrade_dataset(one, tmp_path / "o1", 2, "espcn", landmarks="copy", sr_steps=1)
    (src / "landmarks" / "c0.npy").unlink()
    for path in (src / "landmarks").iterdir():
        path.unlink()
    (src / "landmarks").rmdir()
    with pytest.raises(AffectError, match="landmarks output"):
        degrade_dataset(src, tmp_path / "o", 2, "bicubic", landmarks="copy")


def test_landmarks_are_redetected_on_the_restored_face(face_clip):
    """On a real face, the landmarks stage runs on the restored frames: near the clean points at factor 2, further
    off at factor 8 (a 16 px face)."""
    from preprocessing.derived_copy import landmark_mode

    root, params = face_clip
    clean = np.load(root / "d" / "landmarks" / "c1.npy")
    error = {}
    for factor in (2, 8):
        target = root / f"d-x{factor}"
        summary = degrade_dataset(root / "d", target, factor, "bicubic", landmarks="detect", params=params, jobs=1)
        assert summary["landmarks_stage"]["n_done"] == 1
        assert landmark_mode(root / "d", target) == "redetected"
        found = np.load(target / "landmarks" / "c1.npy")
        assert found.shape == clean.shape
        error[factor] = float(np.linalg.norm(found - clean, axis=2).mean())
    assert error[2] < 1.0 and error[8] > 3 * error[2]  # measured: 0.33 and 1.91 px


def test_affect_preprocess_degrade_writes_the_named_copy(project, capsys):
    from experiments.cli import main

    _dataset(project / "data" / "processed" / "d")
    assert main(["preprocess", "degrade", "d", "--factor", "2", "--sr", "lanczos", "--landmarks", "copy"]) == 0
    assert "d -> d-x2-lanczos: 4 clips" in capsys.readouterr().out
    copy = project / "data" / "processed" / "d-x2-lanczos"
    assert (copy / "degrade.json").is_file() and len(list((copy / "faces").glob("*.npz"))) == 4


def test_a_derived_copy_magnifies_at_its_source_datasets_frame_rate():
    from omegaconf import OmegaConf

    from preprocessing.params import stage_params

    params = OmegaConf.create({"preprocess": {"magnify": {"fps": 200}}, "datasets": {"smic": {"fps": 100}}})
    assert stage_params(params, "magnify", "smic")["fps"] == 100
    assert stage_params(params, "magnify", "smic-x4-bicubic")["fps"] == 100
    assert stage_params(params, "magnify", "smic-occ-mask")["fps"] == 100
    assert stage_params(params, "magnify", "casme2-occ-mask")["fps"] == 200  # no entry: the default
