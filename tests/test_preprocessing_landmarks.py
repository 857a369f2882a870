"""dlib 68-point landmarks: model location, caching, geometry, and the sub-pixel upscale mapping."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from preprocessing import faces, landmarks


@pytest.fixture(scope="module")
def portrait_and_box():
    image = np.ascontiguousarray(skimage.data.astronaut()[40:280, 100:340])
    return image, faces.detect_face(image, "hog", haar_fallback=False)


def test_model_is_found_without_importing_the_package():
    path = landmarks.shape_predictor_path()
    assert path.name == "shape_predictor_68_face_landmarks.dat" and path.stat().st_size > 50_000_000


def test_predictor_is_loaded_once_per_process():
    assert landmarks.load_shape_predictor() is landmarks.load_shape_predictor()


def test_points_follow_the_ibug_layout(portrait_and_box):
    image, box = portrait_and_box
    points = landmarks.predict_landmarks(image, box)
    assert points.shape == (68, 2) and points.dtype == np.float32
    left_eye, right_eye = landmarks.eye_centres(points)
    assert left_eye[0] < right_eye[0]  # the subject's right eye is on the image's left
    brows_y, eyes_y, nose_tip_y, mouth_y, chin_y = (
        points[17:27, 1].mean(), points[36:48, 1].mean(), points[33, 1], points[48:68, 1].mean(), points[8, 1]
    )
    assert brows_y < eyes_y < nose_tip_y < mouth_y < chin_y


@pytest.mark.parametrize("upscale", [1, 2])
def test_points_move_with_the_image(portrait_and_box, upscale):
    """Shifting the image by (3, -2) px shifts the landmarks by the same amount (median over the 68 points)."""
    image, box = portrait_and_box
    moved = cv2.warpAffine(image, np.float32([[1, 0, 3], [0, 1, -2]]), image.shape[1::-1],
                           borderMode=cv2.BORDER_REFLECT)
    moved_box = (box[0] + 3, box[1] - 2, box[2] + 3, box[3] - 2)
    before = landmarks.predict_landmarks(image, box, upscale)
    after = landmarks.predict_landmarks(moved, moved_box, upscale)
    assert np.median(after - before, axis=0) == pytest.approx([3.0, -2.0], abs=0.6)


def test_upscaled_points_map_back_to_the_original_frame(portrait_and_box):
    """Predicting at 2x then mapping back lands within a pixel or two of the 1x prediction, not at 2x scale."""
    image, box = portrait_and_box
    at_1x = landmarks.predict_landmarks(image, box, upscale=1)
    at_2x = landmarks.predict_landmarks(image, box, upscale=2)
    assert np.median(np.linalg.norm(at_2x - at_1x, axis=1)) < 1.5
    assert not np.allclose(at_2x, np.round(at_2x))  # sub-pixel positions


def test_clip_landmarks_stacks_frames(portrait_and_box):
    image, box = portrait_and_box
    clip = np.stack([image, image, image])
    points = landmarks.clip_landmarks(clip, box)
    assert points.shape == (3, 68, 2) and points.dtype == np.float32
    assert np.array_equal(points[0], points[2])


def test_tracking_follows_a_sub_pixel_shift_that_detection_cannot_resolve():
    """A real face shifted by 0.4 px: Lucas-Kanade tracking from the first frame measures the shift to a few
    hundredths of a pixel (per-frame dlib places points on its own grid and misses it by far more)."""
    import cv2
    from skimage import data

    from preprocessing.landmarks import track_landmarks

    face = cv2.resize(data.astronaut()[20:240, 140:330], (128, 148))[10:138]
    shift = 0.4
    moved = cv2.warpAffine(face, np.float32([[1, 0, shift], [0, 1, 0]]), (128, 128), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    box = (14.0, 14.0, 114.0, 124.0)
    points = track_landmarks(np.stack([face, moved]), box, upscale=2)
    dx = points[1, :, 0] - points[0, :, 0]
    inner = np.r_[17:68]  # brows, nose, eyes, mouth: textured points (the jaw line borders the background)
    assert abs(np.median(dx[inner]) - shift) < 0.05
    assert np.abs(points[1, :, 1] - points[0, :, 1])[inner].mean() < 0.05
