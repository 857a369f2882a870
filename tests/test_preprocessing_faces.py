"""Face detection, first-frame alignment and frame reading, on the real astronaut portrait."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from core.errors import AffectError, ConfigError
from preprocessing import faces, landmarks


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    """240x240 RGB crop of skimage's astronaut around her face (the face is about 90 px wide)."""
    return np.ascontiguousarray(skimage.data.astronaut()[40:280, 100:340])


def rotate(image: np.ndarray, degrees: float, scale: float = 1.0) -> np.ndarray:
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, scale)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_hog_finds_the_face(portrait):
    left, top, right, bottom = faces.detect_face(portrait, "hog", upsample=(0,), haar_fallback=False)
    assert 60 < right - left < 120 and 60 < bottom - top < 120
    assert left < 125 < right and top < 70 < bottom  # the eyes are around (125, 63) in this crop


def test_haar_box_is_converted_close_to_the_hog_box(portrait):
    hog = np.array(faces.detect_face(portrait, "hog", haar_fallback=False))
    haar = np.array(faces.detect_face(portrait, "haar"))
    side = hog[2] - hog[0]
    assert np.abs(haar - hog).max() < 0.15 * side


def test_no_face_gives_none_and_align_raises():
    blank = np.full((120, 120, 3), 128, np.uint8)
    assert faces.detect_face(blank) is None
    with pytest.raises(faces.FaceNotFound, match="no face found"):
        faces.align_clip(np.stack([blank, blank]))


def test_unknown_detector_is_a_config_error(portrait):
    with pytest.raises(ConfigError, match="detector"):
        faces.detect_face(portrait, "mtcnn")


def test_alignment_transform_levels_the_eyes_at_the_requested_distance():
    points = np.zeros((68, 2))
    points[36:42] = (40.0, 80.0)  # eye centres at (40, 80) and (100, 110): tilted, 67 px apart
    points[42:48] = (100.0, 110.0)
    transform = faces.alignment_transform(points, crop_size=128, inter_ocular=0.34, eye_row=0.34)
    left, right = faces.transform_points(np.array([[40.0, 80.0], [100.0, 110.0]]), transform)
    assert left[1] == pytest.approx(right[1], abs=1e-9)
    assert left[1] == pytest.approx(0.34 * 128, abs=1e-9)
    assert right[0] - left[0] == pytest.approx(0.34 * 128, abs=1e-9)
    assert (left[0] + right[0]) / 2 == pytest.approx(63.5, abs=1e-9)


def test_align_clip_undoes_a_head_roll(portrait):
    """After alignment of a 12-degree rolled face, the predicted eye centres are level and 0.34 * S apart."""
    rolled = rotate(portrait, 12.0)
    clip = np.stack([rolled, rolled])
    aligned = faces.align_clip(clip, crop_size=128, inter_ocular=0.34, eye_row=0.34)
    assert aligned["frames"].shape == (2, 128, 128, 3) and aligned["frames"].dtype == np.uint8
    assert aligned["transform"].shape == (2, 3)
    points = landmarks.predict_landmarks(aligned["frames"][0], tuple(aligned["face_box"]), upscale=2)
    left, right = landmarks.eye_centres(points)
    assert abs(left[1] - right[1]) < 1.5
    assert abs(right[0] - left[0] - 0.34 * 128) < 2.5
    assert abs(left[1] - 0.34 * 128) < 2.0


def test_the_same_transform_moves_every_frame(portrait):
    """A later frame shifted by 2 px stays shifted by 2 px (times the scale) in the crop: no re-cropping."""
    shifted = cv2.warpAffine(portrait, np.float32([[1, 0, 2], [0, 1, 0]]), (240, 240), borderMode=cv2.BORDER_REFLECT)
    aligned = faces.align_clip(np.stack([portrait, shifted]), crop_size=128)
    gray = [landmarks.to_gray(f).astype(np.float32) for f in aligned["frames"]]
    window = cv2.createHanningWindow((128, 128), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(gray[0], gray[1], window)
    expected = aligned["transform"][:, :2] @ np.array([2.0, 0.0])
    assert (dx, dy) == pytest.approx(tuple(expected), abs=0.25)


def test_face_box_is_mapped_into_the_crop(portrait):
    aligned = faces.align_clip(np.stack([portrait]), crop_size=128)
    left, top, right, bottom = aligned["face_box"]
    assert 0 <= left < right <= 128 and 0 <= top < bottom <= 128


def test_read_frame_reports_missing_truncated_and_empty_files(tmp_path, portrait):
    good = tmp_path / "img1.jpg"
    cv2.imwrite(str(good), portrait)
    assert faces.read_frame(good).shape == (240, 240, 3)
    truncated = tmp_path / "img2.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    empty = tmp_path / "img3.jpg"
    empty.write_bytes(b"")
    with pytest.raises(AffectError, match="missing frame file") as missing:
        faces.read_frame(tmp_path / "img9.jpg")
    assert "img9.jpg" in str(missing.value)
    with pytest.raises(AffectError, match="truncated or corrupt") as bad:
        faces.read_frame(truncated)
    assert "img2.jpg" in str(bad.value)
    with pytest.raises(AffectError, match="not an image") as nothing:
        faces.read_frame(empty)
    assert "img3.jpg" in str(nothing.value)


def test_read_clip_rejects_frames_of_another_size(tmp_path, portrait):
    cv2.imwrite(str(tmp_path / "a.png"), portrait)
    cv2.imwrite(str(tmp_path / "b.png"), portrait[:200])
    with pytest.raises(AffectError, match="differs from the clip's first frame") as err:
        faces.read_clip(tmp_path, ["a.png", "b.png"])
    assert "b.png" in str(err.value)


def test_hog_miss_falls_back_to_haar_only_when_allowed(portrait):
    # an empty upsampling list makes HOG return nothing: the fallback path, without touching the detectors
    assert faces.detect_face(portrait, "hog", upsample=(), haar_fallback=False) is None
    fallback = faces.detect_face(portrait, "hog", upsample=(), haar_fallback=True)
    assert fallback is not None
    np.testing.assert_allclose(fallback, faces.detect_face(portrait, "haar"))
