"""Synthetic occlusions: geometry follows the landmarks, identical across frames, bad input errors."""

import numpy as np
import pytest

from core.errors import AffectError
from preprocessing.occlusion import occlude_clip, occlude_dataset, occlusion_mask


def _face(shift=(0.0, 0.0), scale=1.0):
    """A crude frontal 68-point face centred at (64, 64) in a 128 px crop (iBUG indices where they matter)."""
    p = np.zeros((68, 2))
    t = np.linspace(-1, 1, 17)
    p[:17] = np.stack([64 + 40 * t, 64 + 10 + 40 * np.sqrt(1 - np.clip(t, -1, 1) ** 2) * 0.9], 1)  # jaw 0..16
    p[:17, 1] = np.where(np.arange(17) < 3, 40 + 10 * np.arange(17), p[:17, 1])
    p[0:17, 1] = 40 + 60 * np.sin(np.linspace(0, np.pi, 17))  # jaw from temple (y 40) via chin (y 100)
    p[17:27] = np.stack([np.linspace(30, 98, 10), np.full(10, 30.0)], 1)  # brows
    p[27:31] = np.stack([np.full(4, 64.0), np.linspace(38, 62, 4)], 1)  # nose bridge
    p[31:36] = np.stack([np.linspace(56, 72, 5), np.full(5, 66.0)], 1)
    p[36:42] = np.stack([44 + 6 * np.cos(np.linspace(0, 6, 6)), 40 + 2 * np.sin(np.linspace(0, 6, 6))], 1)
    p[42:48] = np.stack([84 + 6 * np.cos(np.linspace(0, 6, 6)), 40 + 2 * np.sin(np.linspace(0, 6, 6))], 1)
    p[48:68] = np.stack([64 + 12 * np.cos(np.linspace(0, 6.2, 20)), 82 + 4 * np.sin(np.linspace(0, 6.2, 20))], 1)
    return (p - 64) * scale + 64 + np.asarray(shift)


def test_mask_covers_mouth_not_eyes_and_moves_with_landmarks():
    p = _face()
    cover = occlusion_mask(p, (128, 128), "mask")
    assert cover[82, 64] == 1 and cover[40, 44] == 0 and cover[40, 84] == 0
    moved = occlusion_mask(_face(shift=(10, 6)), (128, 128), "mask")
    assert np.array_equal(np.roll(np.roll(cover, 6, 0), 10, 1)[20:110, 20:118], moved[20:110, 20:118])


def test_glasses_cover_eyes_not_mouth():
    cover = occlusion_mask(_face(), (128, 128), "glasses")
    assert cover[40, 44] == 1 and cover[40, 84] == 1 and cover[82, 64] == 0


def test_block_area_follows_ratio_and_seed():
    p = _face()
    box = (p[:27].max(0) - p[:27].min(0)).prod()
    for ratio in (0.1, 0.3):
        area = occlusion_mask(p, (128, 128), "block", "s1", ratio=ratio).sum()
        assert abs(area / box - ratio) < 0.05
    a = occlusion_mask(p, (128, 128), "block", "s1", ratio=0.2)
    assert np.array_equal(a, occlusion_mask(p, (128, 128), "block", "s1", ratio=0.2))
    assert not np.array_equal(a, occlusion_mask(p, (128, 128), "block", "s1", ratio=0.2, seed=5))


@pytest.mark.parametrize("kind", ["block", "glasses", "mask"])
def test_occluder_identical_across_frames(kind):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 128, 128, 3), dtype=np.uint8)
    jitter = np.stack([_face(shift=rng.normal(0, 1.5, 2)) for _ in range(5)])
    out = occlude_clip(frames, jitter, kind, "clip")
    changed = out != frames
    covered = np.abs(out.astype(int) - frames.astype(int)).sum(-1) > 0
    assert changed.any()
    fill = out[0][covered[0]]
    # every frame is occluded at the same pixels with the same value
    for t in range(1, 5):
        assert np.array_equal(out[t][covered[0]], fill)


def test_bad_input_errors(tmp_path):
    frames = np.zeros((3, 64, 64), np.uint8)
    with pytest.raises(AffectError, match="unknown occlusion kind"):
        occlude_clip(frames, np.stack([_face()] * 3), "scarf")
    with pytest.raises(AffectError, match="landmarks"):
        occlude_clip(frames, np.zeros((2, 68, 2)), "mask")
    with pytest.raises(AffectError, match="uint8"):
        occlude_clip(frames.astype(float), np.stack([_face()] * 3), "mask")
    with pytest.raises(AffectError, match="ratio"):
        occlusion_mask(_face(), (128, 128), "block", ratio=1.5)
    with pytest.raises(AffectError, match="landmarks"):
        occlude_dataset(tmp_path / "src", tmp_path / "dst", "mask")


def test_occlude_dataset_copy(tmp_path):
    src = tmp_path / "d"
    (src / "faces").mkdir(parents=True)
    (src / "landmarks").mkdir()
    (src / "index.csv").write_text("sample_id\nc1\n")
    frames = np.full((4, 128, 128, 3), 100, np.uint8)
    np.savez(src / "faces" / "c1.npz", frames=frames, frame_numbers=np.arange(4))
    np.save(src / "landmarks" / "c1.npy", np.stack([_face()] * 4))
    summary = occlude_dataset(src, tmp_path / "d-occ-mask", "mask")
    assert summary["n_done"] == 1
    out = np.load(tmp_path / "d-occ-mask" / "faces" / "c1.npz")
    assert out["frames"][0, 82, 64, 0] == 200 and out["frames"][0, 40, 44, 0] == 100
    assert np.array_equal(out["frame_numbers"], np.arange(4))
    assert (tmp_path / "d-occ-mask" / "landmarks" / "c1.npy").is_file()


def _benchmark(monkeypatch):
    """benchmarks/occlusion.py, loaded by path (benchmarks/ is a script folder, not a package on sys.path)."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(folder))  # its own imports (timed_runs)
    spec = importlib.util.spec_from_file_location("occlusion_benchmark", folder / "occlusion.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_scores_a_stopped_run_on_its_finished_folds(tmp_path, monkeypatch):
    import pandas as pd

    from core import metrics as M

    bench = _benchmark(monkeypatch)
    folds = tmp_path / "folds"
    (folds / "valid").mkdir(parents=True)  # validation tables live one level down and are not test folds
    a = pd.DataFrame({"fold": "subject=a", "y_true": [0, 1, 2], "y_pred": [0, 1, 1]})
    b = pd.DataFrame({"fold": "subject=b", "y_true": [2, 2], "y_pred": [2, 0]})
    a.to_csv(folds / "000.csv", index=False)
    b.to_csv(folds / "001.csv", index=False)
    pd.DataFrame({"fold": "x", "y_true": [0], "y_pred": [1]}).to_csv(folds / "valid" / "000.csv", index=False)
    row = bench.partial_scores(folds, "rrrn")
    pooled = pd.concat([a, b])
    assert row["complete"] is False and row["folds_done"] == 2 and row["n_samples"] == 5
    assert row["partial_uf1"] == round(M.uf1(pooled["y_true"], pooled["y_pred"], 3), 4)
    assert row["folds"] == ["subject=a", "subject=b"]
    other = pd.concat([a.assign(y_pred=[0, 1, 2]), b, pd.DataFrame({"fold": "subject=c", "y_true": [1],
                                                                       "y_pred": [0]})])
    other.to_csv(tmp_path / "predictions.csv", index=False)
    table = {"clean": {"preprocess_seconds": {"casme2/flow": 1.0}, "rrrn": row,
                       "lbptop_svm": {"complete": True, "predictions": str(tmp_path / "predictions.csv")},
                       "ststnet": {"complete": False, "predictions": str(tmp_path / "predictions.csv")}}}
    same = bench.same_folds(table, "clean", "rrrn", ["n", "p", "s"])
    kept = other[other["fold"] != "subject=c"]
    assert same == {"lbptop_svm": round(M.uf1(kept["y_true"], kept["y_pred"], 3), 4)}
    assert bench.partial_scores(tmp_path / "absent", "rrrn") == {"complete": False, "folds_done": 0}


def test_benchmark_plan_follows_the_issue_priority_and_merges(monkeypatch):
    import datetime as dt

    bench = _benchmark(monkeypatch)
    plan = bench.default_plan()
    assert plan[0] == "clean/rrrn" and plan[1:4] == ["mask/lbptop_svm", "mask/ststnet", "mask/rrrn"]
    assert sorted(plan) == sorted(f"{c}/{m}" for c in bench.CONDITIONS for m in bench.DEFAULT_METHODS)
    table = {"clean": {"ststnet": {"uf1": 0.6}, "rrrn": {"complete": False, "folds_done": 3}},
             "mask": {"rrrn": {"complete": False, "error": "boom"}}}
    assert bench.done(table, "clean/ststnet")  # a row of an earlier version (no `complete`) is kept
    assert not bench.done(table, "clean/rrrn") and not bench.done(table, "mask/rrrn")
    assert not bench.done(table, "block/rrrn")
    moment = dt.datetime(2030, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert bench.parse_deadline("2030-01-02T03:04") == moment.timestamp()
    assert bench.parse_deadline(None) is None
    missing = bench.missing(table)
    assert "clean/ststnet" not in missing and "clean/rrrn (partial: 3 folds)" in missing and "mask/rrrn" in missing
    assert len(missing) == len(bench.CONDITIONS) * len(bench.DEFAULT_METHODS) - 1
