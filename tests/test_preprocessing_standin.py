"""`affect preprocess all` on a tiny CASME II stand-in, checked against the generator's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from experiments.cli import main
from preprocessing import faces
from preprocessing.stages import ORDER, onset_apex_positions
from rawdata.index import load_index
from rawdata.synth.micro import generate_standin

PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """4 clips of 2 subjects in the CASME II layout, preprocessed by the CLI with 2 workers."""
    base = tmp_path_factory.mktemp("standin")
    raw = base / "raw"
    generate_standin("casme2", raw, subjects=2, seed=3, clips_per_subject=2, workers=1)
    params = OmegaConf.merge(OmegaConf.load(PARAMS_FILE), {"datasets": {"casme2": {"root": str(raw)}}})
    OmegaConf.save(params, base / "params.yaml")
    code = main(["preprocess", "all", "casme2", "--params", str(base / "params.yaml"),
                 "--processed", str(base / "processed"), "--jobs", "2", "--no-progress"])
    assert code == 0
    truth = {s["sample_id"]: s for s in json.loads((raw / "ground_truth.json").read_text())["samples"]}
    return base / "processed" / "casme2", truth


def test_index_lists_every_generated_clip_as_a_standin(standin):
    folder, truth = standin
    index = load_index(folder / "index.csv")
    assert sorted(index["sample_id"]) == sorted(truth)
    assert index["standin"].all()
    for stage in ORDER:
        assert json.loads((folder / f"{stage}.json").read_text())["n_done"] == len(truth)


def test_landmarks_are_close_to_the_true_points(standin):
    folder, truth = standin
    for sample_id, entry in truth.items():
        with np.load(folder / "faces" / f"{sample_id}.npz") as clip:
            transform, numbers = clip["transform"], clip["frame_numbers"].tolist()
        keep = [entry["frame_numbers"].index(n) for n in numbers]
        true = faces.transform_points(np.asarray(entry["landmarks_moved"])[keep], transform)
        error = np.linalg.norm(np.load(folder / "landmarks" / f"{sample_id}.npy") - true, axis=2)
        assert error.mean() < 2.0, sample_id  # crop pixels; the crop's inter-ocular distance is 43.5 px


def test_flow_follows_the_true_motion_where_the_aus_move(standin):
    """At the landmarks an AU moves (eyes left out during blinks), onset -> apex flow points the way the true
    displacement does."""
    folder, truth = standin
    index = load_index(folder / "index.csv").set_index("sample_id")
    cosines = []
    for sample_id, entry in truth.items():
        if not entry["aus"]:
            continue
        with np.load(folder / "faces" / f"{sample_id}.npz") as clip:
            transform, numbers = clip["transform"], clip["frame_numbers"].tolist()
        onset, apex = onset_apex_positions(index.loc[sample_id].to_dict(), numbers)
        at = [entry["frame_numbers"].index(numbers[i]) for i in (onset, apex)]
        moved, neutral = np.asarray(entry["landmarks_moved"]), np.asarray(entry["landmarks_neutral"])
        shift = np.linalg.norm(moved[at[1]] - neutral[at[1]], axis=1)
        if any(b["start"] <= numbers[apex] and b["end"] >= numbers[onset] for b in entry["blinks"]):
            shift[36:48] = 0.0  # a blink is not the AU's motion
        if shift.max() == 0:
            continue
        region = shift >= 0.5 * shift.max()
        start = faces.transform_points(moved[at[0]][region], transform)
        true = faces.transform_points(moved[at[1]][region], transform) - start
        with np.load(folder / "flow" / f"{sample_id}.npz") as stored:
            field = stored["flow"]
        x, y = np.rint(start).astype(int).T
        estimate = field[:, y, x].T
        cosines.append(np.sum(estimate * true) / (np.linalg.norm(estimate) * np.linalg.norm(true)))
    assert cosines and np.mean(cosines) > 0.7


def test_ground_truth_landmarks_input_serves_the_generators_points_in_crop_coordinates(standin):
    """data.landmarks=ground_truth (a diagnostic) reads the stand-in's true points; they agree with the landmark
    stage within its error and differ from it (they are not the detected points)."""
    from datamodules.micro_expression import MicroExpressionSource
    from experiments.config import load_experiment

    folder, _ = standin
    root = folder.parents[1]
    cfg = load_experiment("geograph/casme2", ["data.processed_root=processed", "data.landmarks=ground_truth"],
                          params=OmegaConf.create({}))
    truth = MicroExpressionSource(cfg, ("landmarks",), root).arrays["landmarks"]
    cfg.data.landmarks = "detected"
    detected = MicroExpressionSource(cfg, ("landmarks",), root).arrays["landmarks"]
    error = np.linalg.norm(truth - detected, axis=-1)
    assert truth.shape == detected.shape and 0.05 < error.mean() < 2.0
