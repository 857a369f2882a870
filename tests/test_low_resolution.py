"""Low-resolution study: degradation, super-resolution (issue 19)."""

import numpy as np
import pytest
import torch

from preprocessing.degrade import degrade_clip, degrade_frame, low_size
from preprocessing.super_resolution import ESPCN, SRCNN, restore_clip, train_sr


def _smooth_clip(t=3, size=64, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = 128 + 60 * np.sin(2 * np.pi * (xx + rng.uniform())) * np.cos(2 * np.pi * yy)
    return np.stack([np.clip(base + k, 0, 255).astype(np.uint8) for k in range(t)])


def test_degrade_shapes_and_determinism():
    clip = _smooth_clip(3, 64)
    out = degrade_clip(clip, 4, noise_std=5.0, seed=3)
    assert out.shape == (3, 16, 16) and out.dtype == np.uint8
    assert np.array_equal(out, degrade_clip(clip, 4, noise_std=5.0, seed=3))
    assert not np.array_equal(out, degrade_clip(clip, 4, noise_std=5.0, seed=4))
    rgb = np.repeat(clip[..., None], 3, axis=3)
    assert degrade_clip(rgb, 2).shape == (3, 32, 32, 3)
    assert np.array_equal(degrade_frame(clip[0], 1, noise_std=0.0), clip[0])


def test_degrade_rejects_bad_factor():
    with pytest.raises(ValueError, match="at least 4"):
        low_size(16, 8)
    with pytest.raises(ValueError, match="integer >= 1"):
        low_size(16, 0)


def test_bicubic_round_trip_is_close_on_smooth_frames():
    clip = _smooth_clip(2, 64)
    for method in ("bicubic", "lanczos"):
        back = restore_clip(degrade_clip(clip, 2), (64, 64), method)
        assert back.shape == clip.shape
        err = np.abs(back.astype(float) - clip).mean()
        assert err < 4.0, (method, err)
    # a coarser factor loses more
    err8 = np.abs(restore_clip(degrade_clip(clip, 8), (64, 64), "bicubic").astype(float) - clip).mean()
    err2 = np.abs(restore_clip(degrade_clip(clip, 2), (64, 64), "bicubic").astype(float) - clip).mean()
    assert err8 > err2


def test_sr_network_shapes():
    low = torch.rand(2, 1, 8, 8)
    up = torch.rand(2, 1, 32, 32)
    assert SRCNN()(low, up).shape == (2, 1, 32, 32)
    assert ESPCN(4)(low, up).shape == (2, 1, 32, 32)


@pytest.mark.parametrize("method", ["srcnn", "espcn"])
def test_sr_trains_and_restores(method):
    frames = np.concatenate([_smooth_clip(4, 48, seed=s) for s in range(3)])
    net, losses = train_sr(frames, method, 2, steps=40, batch=4, patch=24, lr=3e-3)
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < losses[0]
    out = restore_clip(degrade_clip(frames[:2], 2), (48, 48), method, net)
    assert out.shape == (2, 48, 48) and out.dtype == np.uint8
    with pytest.raises(ValueError, match="trained network"):
        restore_clip(degrade_clip(frames[:2], 2), (48, 48), method)


def test_report_figure_only_when_json_exists(tmp_path):
    import json

    from reports import figure_sets

    path = tmp_path / "low_resolution.json"
    assert not figure_sets.low_resolution_figures(path, tmp_path).jobs
    runs = [{"resolution": 128, "sr": "none", "lbptop_svm": {"uf1": 0.6}, "ststnet": {"uf1": 0.5}},
            {"resolution": 32, "sr": "bicubic", "lbptop_svm": {"uf1": 0.4}, "ststnet": {"uf1": 0.3}}]
    path.write_text(json.dumps({"stand_in": True, "runs": runs}))
    panels = figure_sets.low_resolution_panels(path)
    assert panels["lbptop_svm"]["bicubic"] == [(128, 0.6), (32, 0.4)]
    figures = figure_sets.low_resolution_figures(path, tmp_path)
    job = figures.jobs[0]
    assert "stand-in" in job.caption
    assert job.draw(job.path, *job.args).stat().st_size > 0


def test_report_draws_every_mer_method_from_the_lowres_study(tmp_path):
    """benchmarks/occlusion.py --study lowres rows: one panel per restoration, one line per MER method from its
    clean point; partial rows and other conditions are left out."""
    import json

    from reports import figure_sets

    table = {"clean": {"ststnet": {"uf1": 0.6, "complete": True}, "rrrn": {"uf1": 0.5, "complete": True},
                       "preprocess_seconds": {"casme2/flow": 1.0}},
             "x2-bicubic": {"ststnet": {"uf1": 0.55, "complete": True}, "rrrn": {"complete": False, "folds_done": 1}},
             "x8-bicubic": {"ststnet": {"uf1": 0.3, "complete": True}},
             "x4-espcn": {"rrrn": {"uf1": 0.45}}, "mask": {"ststnet": {"uf1": 0.1}}}
    path = tmp_path / "low_resolution_methods.json"
    path.write_text(json.dumps({"crop_size": 128, "holdout_database": table}))
    panels = figure_sets.lowres_method_panels(path)
    assert set(panels) == {"holdout_database"}
    assert panels["holdout_database"] == {"bicubic": {"ststnet": [(128, 0.6), (64, 0.55), (16, 0.3)]},
                                          "espcn": {"rrrn": [(128, 0.5), (32, 0.45)]}}
    figures = figure_sets.low_resolution_figures(tmp_path / "low_resolution.json", tmp_path)
    assert [job.caption.split(":")[0] for job in figures.jobs] == ["Every MER method"]
    job = figures.jobs[0]
    assert "stand-in" in job.caption and job.draw(job.path, *job.args).stat().st_size > 0
