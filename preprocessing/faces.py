"""Face detection, alignment and cropping of a whole clip with one transform.

Micro-movements are a pixel or two, so re-cropping every frame would bury them in crop jitter. The clip is
therefore aligned once, on its FIRST frame: find the face (dlib's HOG detector, Dalal & Triggs 2005, falling
back to OpenCV's Viola-Jones Haar cascade), predict its 68 landmarks, and build the similarity transform that
puts the two eye centres on one row, `inter_ocular * crop_size` pixels apart, centred horizontally and
`eye_row * crop_size` below the top. That single affine warps every frame of the clip.

Choices where the papers are silent (all `preprocess.faces` knobs unless noted):
- `detector`: `hog` (default) or `haar` (the cascade only).
- `upsample`: the HOG detector is tried with each upsampling count in turn (0 finds faces >= 80 px, 1 finds
  faces >= 40 px at four times the cost); among several detections the highest-scoring one is kept.
- `haar_fallback`: when HOG finds nothing, `haarcascade_frontalface_default.xml` from `cv2.data.haarcascades`
  is tried (scale step 1.1, 5 neighbours, faces at least 1/8 of the frame's shorter side) and its largest box
  is kept. A Haar box sits higher and is larger than a HOG box on the same face;
  it is moved down by 0.14 and shrunk to 0.92 of its side (measured on skimage's astronaut portrait) so the
  landmark predictor starts from the box it was trained with.
- `inter_ocular` 0.34 and `eye_row` 0.34 (fractions of `preprocess.crop_size`) keep brows to chin in the crop.
- `landmark_upscale` 2: the first frame's landmarks (which set the transform) are predicted at twice the
  resolution for sub-pixel precision (see preprocessing.landmarks).
- Warping is bilinear with replicated borders (not a knob).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from core.errors import AffectError, ConfigError
from preprocessing.landmarks import eye_centres, predict_landmarks, to_gray

Box = tuple[float, float, float, float]  # left, top, right, bottom in pixels
DETECTORS = ("hog", "haar")
HAAR_CASCADE = "haarcascade_frontalface_default.xml"
HAAR_TO_HOG_SHIFT = 0.14  # fraction of the Haar box side the HOG box centre lies lower
HAAR_TO_HOG_SCALE = 0.92  # HOG box side / Haar box side


class FaceNotFound(AffectError):
    """No face was found in the frame the clip is aligned on."""


def read_frame(path: str | Path) -> np.ndarray:
    """One frame as uint8 RGB (H, W, 3); a missing, empty, truncated or unreadable file raises AffectError."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise AffectError("missing frame file", path=path)
    try:
        with Image.open(path) as image:
            image.load()
            return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError:
        raise AffectError("not an image file (empty or unknown format)", path=path) from None
    except OSError as err:
        raise AffectError(f"truncated or corrupt image ({err})", path=path) from None


def read_clip(frame_dir: str | Path, names: Sequence[str]) -> np.ndarray:
    """All frames of a clip (T, H, W, 3) uint8; every frame must have the first frame's size."""
    frame_dir = Path(frame_dir)
    if not names:
        raise AffectError("clip has no frames", path=frame_dir)
    frames = [read_frame(frame_dir / name) for name in names]
    for name, frame in zip(names, frames):
        if frame.shape != frames[0].shape:
            raise AffectError(
                f"frame size {frame.shape[1]}x{frame.shape[0]} differs from the clip's first frame "
                f"{frames[0].shape[1]}x{frames[0].shape[0]}",
                path=frame_dir / name,
            )
    return np.stack(frames)


def detect_face_hog(gray: np.ndarray, upsample: Sequence[int] = (0, 1)) -> Box | None:
    """Highest-scoring HOG face box, trying each upsampling count in turn; None when none is found."""
    detector = _hog_detector()
    for times in upsample:
        rects, scores, _ = detector.run(gray, int(times), 0.0)
        if len(rects):
            best = rects[int(np.argmax(scores))]
            return float(best.left()), float(best.top()), float(best.right()), float(best.bottom())
    return None


def detect_face_haar(gray: np.ndarray) -> Box | None:
    """Largest Haar-cascade face box converted to where a HOG box would sit; None when none is found."""
    cascade = _haar_cascade()
    min_side = max(24, min(gray.shape) // 8)
    found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    if len(found) == 0:
        return None
    x, y, w, h = (float(v) for v in max(found, key=lambda r: r[2] * r[3]))
    side = HAAR_TO_HOG_SCALE * w
    cx, cy = x + w / 2.0, y + h / 2.0 + HAAR_TO_HOG_SHIFT * h
    return cx - side / 2.0, cy - side / 2.0, cx + side / 2.0, cy + side / 2.0


def detect_face(
    image: np.ndarray, detector: str = "hog", upsample: Sequence[int] = (0, 1), haar_fallback: bool = True
) -> Box | None:
    """The face box of `image` (RGB or gray) with `detector` (hog | haar); HOG falls back to Haar when allowed."""
    if detector not in DETECTORS:
        raise ConfigError(f"preprocess.faces.detector must be one of {DETECTORS}, got {detector!r}")
    gray = to_gray(image)
    box = detect_face_hog(gray, upsample) if detector == "hog" else None
    if box is None and (detector == "haar" or haar_fallback):
        box = detect_face_haar(gray)
    return box


def alignment_transform(points: np.ndarray, crop_size: int, inter_ocular: float, eye_row: float) -> np.ndarray:
    """Similarity transform (2, 3) raw -> crop that levels the eyes and fixes their distance and position.

    With e1, e2 the eye centres (image left, image right), theta the angle of e2 - e1, and
    s = inter_ocular * crop_size / |e2 - e1|, a point p maps to  s R(-theta) (p - m) + c  where m is the eyes'
    midpoint and c = ((crop_size - 1) / 2, eye_row * crop_size): the horizontal centre of the crop in
    pixel-centre coordinates.
    """
    left, right = eye_centres(points)
    dx, dy = right - left
    distance = float(np.hypot(dx, dy))
    if distance < 1e-6:
        raise FaceNotFound("landmarks put both eyes on the same point")
    scale = inter_ocular * crop_size / distance
    cos, sin = dx / distance, dy / distance
    linear = scale * np.array([[cos, sin], [-sin, cos]])
    midpoint = (left + right) / 2.0
    target = np.array([(crop_size - 1) / 2.0, eye_row * crop_size])
    return np.hstack([linear, (target - linear @ midpoint)[:, None]])


def transform_points(points: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to (..., 2) points (x, y)."""
    points = np.asarray(points, dtype=np.float64)
    return points @ transform[:, :2].T + transform[:, 2]


def transform_box(box: Box, transform: np.ndarray) -> Box:
    """Axis-aligned bounds of a box's four corners after the affine."""
    left, top, right, bottom = box
    corners = transform_points(np.array([[left, top], [right, top], [left, bottom], [right, bottom]]), transform)
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def warp_clip(frames: np.ndarray, transform: np.ndarray, crop_size: int) -> np.ndarray:
    """Warp every frame (T, H, W[, C]) with the same affine into (T, S, S[, C]), bilinear, replicated borders."""
    return np.stack(
        [
            cv2.warpAffine(frame, transform, (crop_size, crop_size), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
            for frame in frames
        ]
    )


def align_clip(
    frames: np.ndarray,
    crop_size: int = 128,
    inter_ocular: float = 0.34,
    eye_row: float = 0.34,
    detector: str = "hog",
    upsample: Sequence[int] = (0, 1),
    haar_fallback: bool = True,
    landmark_upscale: int = 2,
) -> dict[str, np.ndarray]:
    """Align a clip on its first frame: `frames` (T, S, S, 3) uint8, `transform` (2, 3) raw -> crop, `face_box` (4,).

    `face_box` is the detector's box mapped into crop coordinates (left, top, right, bottom): the landmarks
    stage predicts every frame's points from it. Raises FaceNotFound when the first frame has no face.
    """
    first = frames[0]
    box = detect_face(first, detector, upsample, haar_fallback)
    if box is None:
        tried = "the Haar cascade" if detector == "haar" else "the HOG detector" + (
            " nor the Haar cascade" if haar_fallback else "")
        raise FaceNotFound(f"no face found in the clip's first frame by {tried}")
    points = predict_landmarks(first, box, upscale=landmark_upscale)
    transform = alignment_transform(points, crop_size, inter_ocular, eye_row)
    return {
        "frames": warp_clip(frames, transform, crop_size),
        "transform": transform.astype(np.float64),
        "face_box": np.array(transform_box(box, transform), dtype=np.float32),
    }


@functools.cache
def _hog_detector():
    """dlib's frontal HOG detector, built once per process."""
    import dlib

    return dlib.get_frontal_face_detector()


@functools.cache
def _haar_cascade() -> cv2.CascadeClassifier:
    """OpenCV's frontal-face Haar cascade, loaded once per process."""
    path = Path(cv2.data.haarcascades) / HAAR_CASCADE
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise AffectError("OpenCV's Haar cascade could not be loaded", path=path)
    return cascade
