"""The micro-expression stand-in generator: AU geometry, the warp, realism for dlib, determinism, sidecars."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from rawdata.layouts import parse
from rawdata.layouts.common import Expression, Recording
from rawdata.synth import aus, face, generate, plan, render
from rawdata.synth.micro import SPECS

AMPLITUDE = 1.7


@pytest.fixture(scope="module")
def identity():
    return face.render_identity(face.sample_identity(np.random.default_rng(7)))


@pytest.fixture(scope="module")
def tiny_casme2(tmp_path_factory):
    out = tmp_path_factory.mktemp("standin") / "casme2"
    summary = generate("casme2", out, subjects=2, seed=5, clips_per_subject=2, workers=1)
    return out, summary


def apex_displacement(code: str, amplitude: float, controls: np.ndarray) -> np.ndarray:
    au, side = aus.parse_code(code)
    return aus.au_displacements([aus.ActionUnit(au, side, amplitude)], controls)


# -- AU geometry ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", aus.SIDES)
@pytest.mark.parametrize("au", aus.AUS)
def test_an_au_moves_its_most_moved_landmark_by_its_amplitude(identity, au, side):
    moved = np.linalg.norm(apex_displacement(side + au, AMPLITUDE, identity.control_points)[:68], axis=1)
    assert moved.max() == pytest.approx(AMPLITUDE, abs=1e-9)


@pytest.mark.parametrize("au", aus.AUS)
def test_an_au_moves_exactly_the_points_it_declares(identity, au):
    declared = {p for p, _, _ in aus.AU_MOVES[au]}
    declared |= {int(face.MIRROR[p]) for p in declared}
    moved = np.flatnonzero(np.linalg.norm(apex_displacement(au, 1.0, identity.control_points), axis=1) > 0)
    assert set(moved.tolist()) == declared


# (code, landmark, expected image direction): image x to the right, y down; the subject's right side is the
# image's left. Landmarks: 21/22 inner brows, 17 right outer brow, 37 right upper lid, 41 right lower lid,
# 31 right nostril wing, 50 upper lip, 48/54 right/left lip corner, 57 lower lip, 8 chin.
DIRECTIONS = [
    ("1", 21, (0, -1)), ("1", 22, (0, -1)), ("2", 17, (0, -1)), ("4", 21, (1, 1)), ("4", 22, (-1, 1)),
    ("5", 37, (0, -1)), ("6", 41, (0, -1)), ("7", 41, (0, -1)), ("9", 31, (0, -1)), ("10", 50, (0, -1)),
    ("12", 48, (-1, -1)), ("12", 54, (1, -1)), ("L12", 54, (1, -1)), ("R12", 48, (-1, -1)), ("14", 48, (-1, 0)),
    ("15", 48, (0, 1)), ("17", 57, (0, -1)), ("20", 54, (1, 0)), ("23", 48, (1, 0)), ("24", 57, (0, -1)),
    ("26", 8, (0, 1)), ("45", 37, (0, 1)),
]


@pytest.mark.parametrize(("code", "point", "direction"), DIRECTIONS)
def test_an_au_moves_a_landmark_in_its_facs_direction(identity, code, point, direction):
    moved = apex_displacement(code, 1.0, identity.control_points)[point]
    expected = np.asarray(direction, float) / np.linalg.norm(direction)
    assert np.linalg.norm(moved) > 0.3
    assert moved @ expected / np.linalg.norm(moved) > 0.8  # identities are rolled by up to 3 degrees


@pytest.mark.parametrize(("code", "still"), [("L12", 48), ("R12", 54), ("L14", 48), ("R14", 54), ("L2", 17)])
def test_a_unilateral_au_leaves_the_other_side_still(identity, code, still):
    assert np.allclose(apex_displacement(code, 2.0, identity.control_points)[still], 0)


def test_unilateral_variants_mirror_each_other(identity):
    left = apex_displacement("L12", 1.0, identity.control_points)
    right = apex_displacement("R12", 1.0, identity.control_points)
    assert np.linalg.norm(left[54]) == pytest.approx(np.linalg.norm(right[48]))


def test_every_prior_combination_is_made_of_known_aus():
    for combos in aus.EMOTION_AU_PRIORS.values():
        for combo, weight in combos:
            assert weight > 0
            assert all(aus.parse_code(code)[0] in aus.AU_MOVES for code in combo.split("+"))


def test_classes_share_aus_so_emotion_is_not_a_function_of_the_aus():
    def aus_of(prior):
        return {aus.parse_code(c)[0] for combo, _ in aus.EMOTION_AU_PRIORS[prior] for c in combo.split("+")}

    assert aus_of("others") & aus_of("disgust") and aus_of("others") & aus_of("repression")
    assert aus_of("anger") & aus_of("disgust") and aus_of("fear") & aus_of("surprise")


# -- rendering --------------------------------------------------------------------------------------------------------


def still_plan(units: list[aus.ActionUnit], n_frames: int = 9, apex: int = 5) -> plan.RecordingPlan:
    """A recording without nuisances: no head motion, light change, noise or blink."""
    codes = tuple(u.code for u in units)
    recording = Recording(1, "clip", tuple(range(1, n_frames + 1)), (Expression("x", codes, 1, apex, n_frames),))
    return plan.RecordingPlan("casme2", recording, (tuple(units),), (plan.Motion(1, apex, n_frames, "x"),), 0,
                               plan.HeadMotion((0, 0), 0, 1, (0, 0), 0, 0, 1, 0),
                               plan.Illumination((1, 1), (0, 0), 0), (), 0.0, 0, 95, False)


def test_the_warp_moves_image_content_by_the_field():
    """Channels holding the x and y coordinates are interpolated exactly, so the content found at a pixel tells
    where it came from: a uniform field d must move content by +d (within half of OpenCV's 1/32 px map step)."""
    size, margin, shift = 40, 4, np.array([0.6, -1.3])
    ys, xs = np.mgrid[0:size + 2 * margin, 0:size + 2 * margin].astype(np.float32)
    canvas = np.dstack([xs, ys, np.zeros_like(xs)])
    field = np.broadcast_to(shift.astype(np.float32), canvas.shape[:2] + (2,)).copy()
    gy, gx = np.mgrid[0:size, 0:size].astype(np.float32)
    out = render.warp_frame(canvas, field, np.array([[1.0, 0, 0], [0, 1.0, 0]]), gx, gy, margin)
    inner = (slice(8, -8), slice(8, -8))  # away from the border
    moved_x = (gx + margin - out[..., 0])[inner]
    moved_y = (gy + margin - out[..., 1])[inner]
    assert np.abs(moved_x - shift[0]).max() <= 1 / 64 + 1e-4
    assert np.abs(moved_y - shift[1]).max() <= 1 / 64 + 1e-4


def test_apex_landmarks_are_the_neutral_ones_moved_by_the_au(identity):
    unit = aus.ActionUnit("12", "", 2.0)
    rendered = render.render_recording(still_plan([unit]), identity, fps=200)
    expected = aus.au_displacements([unit], identity.control_points)[:68]
    assert np.allclose(rendered.landmarks_moved[4] - rendered.landmarks_neutral[4], expected, atol=1e-6)
    assert np.allclose(rendered.landmarks_moved[0], rendered.landmarks_neutral[0])
    assert np.allclose(rendered.landmarks_moved[-1], rendered.landmarks_neutral[-1])


@pytest.mark.parametrize(("code", "amplitude", "point"), [("12", 2.0, 54), ("26", 2.5, 8), ("1", 1.5, 21)])
def test_the_image_moves_where_and_as_far_as_the_au_says(identity, code, amplitude, point):
    """Optical flow (Farneback) between onset and apex at the landmark agrees with the AU's displacement."""
    au, side = aus.parse_code(code)
    rendered = render.render_recording(still_plan([aus.ActionUnit(au, side, amplitude)]), identity, fps=200)
    onset, apex = (cv2.cvtColor(rendered.frames[i], cv2.COLOR_RGB2GRAY) for i in (0, 4))
    flow = cv2.calcOpticalFlowFarneback(onset, apex, None, 0.5, 3, 9, 5, 5, 1.1, 0)
    x, y = np.round(rendered.landmarks_neutral[0][point]).astype(int)
    measured = flow[y - 3:y + 4, x - 3:x + 4].reshape(-1, 2).mean(0)
    true = rendered.landmarks_moved[4][point] - rendered.landmarks_neutral[4][point]
    assert measured @ true / (np.linalg.norm(measured) * np.linalg.norm(true)) > 0.9
    assert 0.5 < np.linalg.norm(measured) / np.linalg.norm(true) < 1.2
    field = identity.dense_field(aus.au_displacements([aus.ActionUnit(au, side, amplitude)],
                                                      identity.control_points))
    margin = identity.geometry.margin
    moving = np.linalg.norm(field[margin:-margin, margin:-margin], axis=2) > 0.01
    still = ~cv2.dilate(moving.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool)
    assert still.mean() > 0.1
    assert np.linalg.norm(flow[still], axis=1).mean() < 0.1


def test_the_temporal_profile_is_zero_at_onset_and_offset_and_one_at_apex():
    numbers = np.arange(100, 131)
    profile = render.raised_cosine(numbers, 105, 112, 125)
    assert profile[numbers == 112][0] == 1.0
    assert profile[numbers == 105][0] == 0.0 and profile[numbers == 125][0] == 0.0
    assert (profile[numbers < 105] == 0).all() and (profile[numbers > 125] == 0).all()
    assert (np.diff(profile[(numbers >= 105) & (numbers <= 112)]) > 0).all()


def test_expressions_last_under_500_ms_inside_a_longer_clip():
    for name, spec in SPECS.items():
        plans = plan.plan_dataset(spec, 3, 12, seed=1, difficulty=plan.Difficulty())
        for recording_plan in plans:
            motions, numbers = recording_plan.motions, recording_plan.recording.frame_numbers
            for motion in motions:
                assert (motion.offset - motion.onset) / spec.fps < 0.5, name
                assert motion.onset < motion.apex < motion.offset
            if name != "smic":  # SMIC clips are cut from onset to offset, as in the real dataset
                assert numbers[0] < motions[0].onset and motions[-1].offset < numbers[-1]


def test_class_proportions_follow_the_real_dataset():
    spec = SPECS["casme2"]
    labels = [e.emotion for p in plan.plan_dataset(spec, 14, 90, 0, plan.Difficulty()) for e in
              p.recording.expressions]
    counts = pd.Series(labels).value_counts()
    assert counts.index[0] == "others" and counts["others"] > 3 * counts["surprise"]
    assert set(counts.index) == set(spec.class_counts)


def test_dlib_finds_the_face_and_its_landmarks_in_generated_frames(tiny_casme2):
    dlib = pytest.importorskip("dlib")
    out, _ = tiny_casme2
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(face.shape_predictor_path()))
    truth = json.loads((out / "ground_truth.json").read_text())["samples"]
    errors = []
    for sample in truth:
        for k in (0, len(sample["frame_numbers"]) // 2):
            path = out / sample["frame_dir"] / f"img{sample['frame_numbers'][k]}.jpg"
            image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            boxes = detector(image, 0)
            assert len(boxes) == 1, path
            found = np.array([[p.x, p.y] for p in predictor(image, boxes[0]).parts()])
            errors.append(np.linalg.norm(found - np.array(sample["landmarks_moved"][k]), axis=1).mean())
    assert np.mean(errors) < 3.0


def test_stored_reference_landmarks_match_dlib():
    pytest.importorskip("dlib")
    assert np.abs(face.detect_reference_landmarks() - face.reference_landmarks()).max() == 0


# -- datasets ---------------------------------------------------------------------------------------------------------


def file_digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_seed_gives_the_same_files_and_another_seed_other_files(tmp_path, tiny_casme2):
    out, _ = tiny_casme2
    again = tmp_path / "again"
    generate("casme2", again, subjects=2, seed=5, clips_per_subject=2, workers=2)
    assert file_digests(again) == file_digests(out)
    other = tmp_path / "other"
    generate("casme2", other, subjects=2, seed=6, clips_per_subject=2, workers=1)
    assert file_digests(other) != file_digests(out)


def test_sidecars_describe_the_generation_and_match_the_parsed_index(tiny_casme2):
    out, summary = tiny_casme2
    marker = json.loads((out / "SYNTHETIC.json").read_text())
    assert marker["seed"] == 5 and marker["format"] == "casme2"
    assert marker["parameters"]["difficulty"]["amplitude_scale"] == plan.Difficulty().amplitude_scale
    truth = {s["sample_id"]: s for s in json.loads((out / "ground_truth.json").read_text())["samples"]}
    index = parse("casme2", out).index
    assert summary["samples"] == len(index) == len(truth) == 4
    for row in index.itertuples():
        sample = truth[row.sample_id]
        assert (row.onset, row.apex, row.offset) == (sample["onset"], sample["apex"], sample["offset"])
        assert row.frame_numbers == sample["frame_numbers"]
        assert row.aus == "+".join(a["side"] + a["au"] for a in sample["aus"])
        assert row.emotion == sample["emotion"]
        assert len(sample["landmarks_moved"]) == len(row.frames)
        assert 0 < min(a["amplitude_px"] for a in sample["aus"])


def test_difficulty_knobs_reach_the_plan():
    spec = SPECS["smic"]
    easy = plan.plan_dataset(spec, 2, 6, 0, plan.make_difficulty({"amplitude_scale": 0.5, "noise_sigma": 0}))
    base = plan.plan_dataset(spec, 2, 6, 0, plan.Difficulty())
    ratio = 0.5 / plan.Difficulty().amplitude_scale  # the calibrated default is not 1
    for a, b in zip(easy, base, strict=True):
        assert a.noise_sigma == 0
        for ua, ub in zip(a.units, b.units, strict=True):
            assert [u.amplitude for u in ua] == pytest.approx([ratio * u.amplitude for u in ub], abs=2e-3)


def test_an_unknown_option_is_a_user_error(tmp_path):
    from core.errors import AffectError

    with pytest.raises(AffectError, match="unknown stand-in option"):
        generate("casme2", tmp_path / "x", subjects=1, seed=0, amplitude=3)
    assert not (tmp_path / "x").exists()


def test_generate_never_overwrites_a_folder_that_is_not_a_standin(tmp_path):
    from core.errors import AffectError

    real = tmp_path / "real"
    real.mkdir()
    (real / "CASME2-coding-20140508.xlsx").write_text("licensed")
    with pytest.raises(AffectError, match="not a stand-in"):
        generate("casme2", real, subjects=1, seed=0)
    assert (real / "CASME2-coding-20140508.xlsx").read_text() == "licensed"


def test_the_synth_command_writes_a_standin_with_its_options(tmp_path, capsys):
    from experiments.cli import main

    out = tmp_path / "smic"
    code = main(["synth", "smic", "--out", str(out), "--subjects", "1", "--clips-per-subject", "2", "--seed", "4",
                 "--workers", "1", "--set", "noise_sigma=0", "--set", "jpeg_quality=[90, 90]", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    marker = json.loads((out / "SYNTHETIC.json").read_text())
    assert summary["samples"] == 2 and summary["out"] == str(out)
    assert marker["seed"] == 4 and marker["parameters"]["difficulty"]["noise_sigma"] == 0
    assert marker["parameters"]["difficulty"]["jpeg_quality"] == [90, 90]
    assert parse("smic", out).usable


def test_the_synth_command_prints_one_summary_line(tmp_path, capsys):
    from experiments.cli import main

    out = tmp_path / "smic"
    args = ["--subjects", "1", "--clips-per-subject", "2", "--workers", "1"]
    assert main(["synth", "smic", "--out", str(out), *args]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith(f"synth smic -> {out}: subjects 1, samples 2")


def test_the_synth_command_rejects_a_malformed_setting(tmp_path, capsys):
    from experiments.cli import main

    assert main(["synth", "casme2", "--out", str(tmp_path / "x"), "--set", "noise_sigma"]) == 2
    assert "--set expects KEY=VALUE" in capsys.readouterr().err
