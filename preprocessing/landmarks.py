"""68-point facial landmarks with dlib's shape predictor (Kazemi & Sullivan 2014, an ensemble of regression trees).

The model is `shape_predictor_68_face_landmarks.dat` shipped by the `face-recognition-models` wheel (trained on
iBUG 300-W: research use only). Importing `face_recognition_models` fails with recent setuptools (it needs
`pkg_resources`), so the file is located through the package's import spec without importing it.

Points follow the iBUG 68 mark-up: 0-16 jaw, 17-26 brows, 27-35 nose, 36-41 the eye on the image's left (the
subject's right eye), 42-47 the other eye, 48-67 mouth. Coordinates are (x, y) in pixels with pixel centres at
integers, the convention of OpenCV's warps and of dlib.

dlib returns integer pixel positions. To get sub-pixel landmarks on small aligned crops, `predict_landmarks`
can run the predictor on the image enlarged by an integer factor `upscale` (bilinear) and map the points back;
that is the `preprocess.landmarks.upscale` knob (1 = dlib as is).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import cv2
import numpy as np

from core.errors import AffectError

N_LANDMARKS = 68
RIGHT_EYE = slice(36, 42)  # the subject's right eye, on the image's left
LEFT_EYE = slice(42, 48)
MODEL_FILE = "shape_predictor_68_face_landmarks.dat"


def shape_predictor_path() -> Path:
    """Path of the 68-point model inside the installed `face-recognition-models` package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise AffectError("the package face-recognition-models is not installed", hint="pip install -e .")
    path = Path(spec.submodule_search_locations[0]) / "models" / MODEL_FILE
    if not path.is_file():
        raise AffectError("the 68-point landmark model is missing from face-recognition-models", path=path)
    return path


@functools.cache
def load_shape_predictor():
    """The dlib shape predictor, loaded once per process (about 100 MB, 0.5 s to load)."""
    import dlib

    return dlib.shape_predictor(str(shape_predictor_path()))


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grayscale of an RGB (H, W, 3) or grayscale (H, W) image."""
    if image.ndim == 3:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image, dtype=np.uint8)


def predict_landmarks(image: np.ndarray, box: tuple[float, float, float, float], upscale: int = 1) -> np.ndarray:
    """The 68 landmarks (68, 2) float32 (x, y) of the face in `box` = (left, top, right, bottom) of `image`.

    With `upscale` k > 1 the predictor sees the image enlarged k times; a point found at x_k maps back to
    (x_k + 0.5) / k - 0.5, the inverse of the pixel-centre mapping of a bilinear resize.
    """
    import dlib

    gray = to_gray(image)
    k = int(upscale)
    if k > 1:
        gray = cv2.resize(gray, (gray.shape[1] * k, gray.shape[0] * k), interpolation=cv2.INTER_LINEAR)
    left, top, right, bottom = ((np.asarray(box, dtype=np.float64) + 0.5) * k - 0.5).round().astype(int)
    shape = load_shape_predictor()(gray, dlib.rectangle(int(left), int(top), int(right), int(bottom)))
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    if k > 1:
        points = (points + 0.5) / k - 0.5
    return points


def clip_landmarks(frames: np.ndarray, box: tuple[float, float, float, float], upscale: int = 1) -> np.ndarray:
    """Landmarks of every frame (T, 68, 2) float32, all predicted from the same face box.

    The box is the same for every frame because the faces stage warps the whole clip with one transform, so
    the face stays where the first frame put it.
    """
    return np.stack([predict_landmarks(frame, box, upscale) for frame in frames]).astype(np.float32)


def track_landmarks(frames: np.ndarray, box: tuple[float, float, float, float], upscale: int = 1,
                    window: int = 15, levels: int = 2) -> np.ndarray:
    """Landmarks of every frame (T, 68, 2) float32: dlib on the first frame, then each point followed into every
    frame by pyramidal Lucas-Kanade optical flow FROM THE FIRST FRAME (no chaining, so errors do not accumulate).

    dlib places each frame's points independently, with an error of about a pixel that does not follow the face's
    sub-pixel motion; a micro-expression moves the face by less than that, so per-frame detection buries it in
    noise. Lucas-Kanade measures each point's displacement to sub-pixel precision from the local texture (Bouguet's
    pyramidal implementation in OpenCV). A point the tracker loses in a frame (status 0) keeps its first-frame
    position there. `window` is the side of the tracked patch (px), `levels` the pyramid levels above the crop.
    """
    first = predict_landmarks(frames[0], box, upscale)
    reference = to_gray(frames[0])
    out = np.empty((len(frames), N_LANDMARKS, 2), dtype=np.float32)
    out[0] = first
    start = first.reshape(-1, 1, 2).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
    for t in range(1, len(frames)):
        moved, status, _ = cv2.calcOpticalFlowPyrLK(reference, to_gray(frames[t]), start, None,
                                                    winSize=(window, window), maxLevel=levels, criteria=criteria)
        found = status.reshape(-1).astype(bool)
        out[t] = np.where(found[:, None], moved.reshape(-1, 2), first)
    return out


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre of the eye on the image's left, centre of the eye on the image's right): means of the 6 lid points."""
    points = np.asarray(points, dtype=np.float64)
    return points[RIGHT_EYE].mean(axis=0), points[LEFT_EYE].mean(axis=0)
