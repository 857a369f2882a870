"""The stage driver end to end on a tiny dataset of real-face clips written to disk.

Clips are skimage's astronaut portrait whose face moves up by a known sub-pixel amount from onset to apex,
plus two bad clips: one without a face and one with a truncated JPEG.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from omegaconf import OmegaConf

from core.config import load_params
from core.errors import AffectError, MissingStageOutput
from experiments.cli import main
from preprocessing.stages import ORDER, STAGES, onset_apex_positions, run_stage
from rawdata.index import save_index, to_frame

DATASET = "toy"
N_FRAMES = 6
APEX_SHIFT = 1.2  # px the face moves up at the apex frame
PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"


def write_clip(folder: Path, frames: list[np.ndarray]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"img{i + 1}.jpg" for i in range(len(frames))]
    for name, frame in zip(names, frames):
        cv2.imwrite(str(folder / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 98])
    return names


def moving_face(dx: float) -> list[np.ndarray]:
    """The face translated by dx, then moving up by APEX_SHIFT * sin(pi t / (T - 1)) (apex in the middle)."""
    face = np.ascontiguousarray(skimage.data.astronaut()[40:280, 100:340])
    frames = []
    for t in range(N_FRAMES):
        dy = -APEX_SHIFT * np.sin(np.pi * t / (N_FRAMES - 1))
        matrix = np.float32([[1, 0, dx], [0, 1, dy]])
        frames.append(cv2.warpAffine(face, matrix, (240, 240), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT))
    return frames


def record(raw: Path, name: str, frames: list[np.ndarray]) -> dict:
    names = write_clip(raw / name, frames)
    return {
        "sample_id": f"{DATASET}_1_{name}", "dataset": DATASET, "subject": "1", "clip": name,
        "onset": 1, "apex": 3, "offset": N_FRAMES, "apex_estimated": False, "aus": "1+2", "emotion": "surprise",
        "frame_dir": str(raw / name), "frames": names, "frame_numbers": list(range(1, N_FRAMES + 1)),
    }


@pytest.fixture(scope="module")
def params():
    return load_params(PARAMS_FILE)


@pytest.fixture(scope="module")
def processed(tmp_path_factory, params) -> Path:
    """A processed root where every stage has run once (2 workers) on 2 good clips and 2 bad ones."""
    base = tmp_path_factory.mktemp("toy")
    raw = base / "raw"
    records = [record(raw, "good_a", moving_face(0.0)), record(raw, "good_b", moving_face(0.4))]
    records.append(record(raw, "no_face", [np.full((240, 240, 3), 90, np.uint8)] * N_FRAMES))
    broken = record(raw, "broken", moving_face(0.0))
    third = Path(broken["frame_dir"]) / broken["frames"][2]
    third.write_bytes(third.read_bytes()[:2000])
    records.append(broken)
    save_index(to_frame(records), base / "processed" / DATASET / "index.csv")
    for stage in ORDER[1:]:
        run_stage(stage, DATASET, params, base / "processed", jobs=2, progress=False)
    return base / "processed"


def summary(root: Path, stage: str) -> dict:
    return json.loads((root / DATASET / f"{stage}.json").read_text())


def copy_of(processed: Path, tmp_path: Path) -> Path:
    target = tmp_path / "processed"
    shutil.copytree(processed, target)
    return target


def test_outputs_follow_the_processed_data_contract(processed):
    folder = processed / DATASET
    sample = f"{DATASET}_1_good_a"
    with np.load(folder / "faces" / f"{sample}.npz") as faces:
        assert faces["frames"].shape == (N_FRAMES, 128, 128, 3) and faces["frames"].dtype == np.uint8
        assert faces["frame_numbers"].tolist() == list(range(1, N_FRAMES + 1))
        assert faces["transform"].shape == (2, 3) and faces["face_box"].shape == (4,)
    points = np.load(folder / "landmarks" / f"{sample}.npy")
    assert points.shape == (N_FRAMES, 68, 2) and points.dtype == np.float32
    with np.load(folder / "magnified" / f"{sample}.npz") as magnified:
        assert magnified["frames"].shape == (N_FRAMES, 128, 128) and magnified["frames"].dtype == np.uint8
    with np.load(folder / "flow" / f"{sample}.npz") as flow:
        assert flow["flow"].shape == (2, 128, 128) and flow["strain"].shape == (128, 128)
        assert flow["image28"].shape == (3, 28, 28) and flow["flow"].dtype == np.float32
    with np.load(folder / "features" / f"{sample}.npz") as features:
        assert features["interp"].shape == (10, 128, 128) and features["interp"].dtype == np.uint8
        assert features["lbptop"].shape == (8 * 8 * 3 * 59,) and features["hsdg"].shape == (18, 8 * 8 * 16)
    for stage in ORDER[1:]:
        report = summary(processed, stage)
        assert report["n_done"] == 2 and report["n_skipped"] == 2 and report["params"]
        assert "n_jobs" not in report["params"]


def test_flow_measures_the_known_motion(processed):
    """Onset -> apex (frame 3: sin(2 pi / 5) of the amplitude) the face moves up; the crop scale applies."""
    folder = processed / DATASET
    sample = f"{DATASET}_1_good_a"
    with np.load(folder / "faces" / f"{sample}.npz") as faces:
        transform = faces["transform"]
    with np.load(folder / "flow" / f"{sample}.npz") as flow:
        v = flow["flow"][1, 24:104, 24:104]
    expected = transform[:, :2] @ np.array([0.0, -APEX_SHIFT * np.sin(np.pi * 2 / (N_FRAMES - 1))])
    assert float(np.median(v)) == pytest.approx(expected[1], abs=0.15)


def test_bad_clips_are_skipped_with_a_reason_naming_the_file(processed):
    faces = summary(processed, "faces")["skipped"]
    assert "no face found" in faces[f"{DATASET}_1_no_face"] and "img1.jpg" in faces[f"{DATASET}_1_no_face"]
    assert "truncated" in faces[f"{DATASET}_1_broken"] and "img3.jpg" in faces[f"{DATASET}_1_broken"]
    flow = summary(processed, "flow")["skipped"]
    assert flow[f"{DATASET}_1_no_face"].startswith("skipped by faces: ")
    assert not (processed / DATASET / "flow" / f"{DATASET}_1_broken.npz").exists()


def test_a_second_run_computes_nothing(processed, params):
    for stage in ORDER[1:]:
        report = run_stage(stage, DATASET, params, processed, jobs=2, progress=False)
        assert report["n_computed"] == 0 and report["n_resumed"] == 2 and report["n_skipped"] == 2


def test_an_interrupted_stage_resumes_with_the_missing_clips_only(processed, params, tmp_path):
    root = copy_of(processed, tmp_path)
    lost = root / DATASET / "flow" / f"{DATASET}_1_good_b.npz"
    kept = root / DATASET / "flow" / f"{DATASET}_1_good_a.npz"
    before = kept.stat().st_mtime_ns
    lost.unlink()
    report = run_stage("flow", DATASET, params, root, jobs=1, progress=False)
    assert report["n_computed"] == 1 and report["n_resumed"] == 1 and lost.is_file()
    assert kept.stat().st_mtime_ns == before


def test_a_changed_knob_recomputes_that_stage_and_what_reads_it(processed, params, tmp_path):
    root = copy_of(processed, tmp_path)
    changed = OmegaConf.merge(params, {"preprocess": {"magnify": {"alpha": 5.0}}})
    assert run_stage("magnify", DATASET, changed, root, jobs=1, progress=False)["n_computed"] == 2
    assert run_stage("features", DATASET, changed, root, jobs=1, progress=False)["n_computed"] == 2
    assert run_stage("flow", DATASET, changed, root, jobs=1, progress=False)["n_computed"] == 0


def test_a_stage_before_its_upstream_names_the_command_to_run(params, tmp_path):
    folder = tmp_path / DATASET
    save_index(to_frame([record(tmp_path / "raw", "only", moving_face(0.0))]), folder / "index.csv")
    with pytest.raises(MissingStageOutput, match="affect preprocess faces toy"):
        run_stage("landmarks", DATASET, params, tmp_path, jobs=1)


def test_onset_and_apex_positions():
    row = {"onset": 11, "apex": 13, "offset": 20, "frame_dir": "clip"}
    numbers = list(range(10, 21))
    assert onset_apex_positions(row, numbers) == (1, 3)
    assert onset_apex_positions({**row, "apex": -1}, numbers) == (1, 5)  # (11 + 20) // 2 = 15
    with pytest.raises(AffectError, match="onset frame 9 is not among the clip's frames"):
        onset_apex_positions({**row, "onset": 9}, numbers)


def test_cli_runs_a_stage_and_lists_skipped_clips(processed, tmp_path, capsys):
    root = copy_of(processed, tmp_path)
    shutil.rmtree(root / DATASET / STAGES["flow"].folder)
    code = main(["preprocess", "flow", DATASET, "--params", str(PARAMS_FILE), "--processed", str(root),
                 "--jobs", "1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "flow toy: 2 clips done (2 computed, 0 already there), 2 skipped" in out
    assert f"skipped {DATASET}_1_no_face: skipped by faces: " in out
