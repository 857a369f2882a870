"""Identity faces for the stand-in datasets: one real face texture, many face shapes and complexions.

The texture is the real, public-domain NASA portrait `skimage.data.astronaut()`. Its 68 iBUG landmarks were
found once with dlib (HOG detector + `shape_predictor_68_face_landmarks.dat`) and are stored in
`astronaut_landmarks.json`, so generation needs no model file; `detect_reference_landmarks` recomputes them.

An identity is made in four steps, each a pure function of a seeded random generator:

1. **Shape**: the reference landmarks are placed in a `frame_size` frame by a similarity transform (jaw width
   `face_width` px) and varied per identity: overall scale, face width, jaw width, eye spacing and size, brow
   height, nose length, mouth width and height, lip thickness, in-plane roll (:func:`sample_identity`). Half the
   identities use the mirrored portrait, with the iBUG left/right point permutation, for texture variety.
2. **Warp**: a piecewise-affine warp (Delaunay mesh over the 68 landmarks, ten virtual skin points on forehead,
   cheeks and chin, a fixed ring around the head and the canvas border) maps the portrait onto the new shape
   (:func:`render_identity`). Outside the ring nothing moves.
3. **Complexion**: inside a feathered face mask the skin is darkened or lightened and warmed or cooled; then a
   global brightness/contrast change and a static fine grain (skin texture that moves with the face).
4. **Motion support**: the same mesh gives, for every canvas pixel, barycentric weights over the control points
   (:func:`barycentric_weights`), so a displacement of the control points (an AU, a blink) becomes a dense,
   piecewise-linear motion field with one sparse product (`weights @ displacements`).

The canvas is the frame plus `margin` px on each side, so head drift never shows an empty border. Choices not
fixed by any paper (all knobs of :class:`FaceGeometry` or ranges in :func:`sample_identity`): frame 240 px,
face (jaw) width 180 px so dlib's box is about 180 px, +-6% scale, mirrored texture for half the identities.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from scipy import sparse
from scipy.spatial import Delaunay

REFERENCE_LANDMARKS_FILE = Path(__file__).with_name("astronaut_landmarks.json")

# iBUG 68-point topology. "Right" is the subject's right, which is the image's left in a frontal view.
JAW = tuple(range(0, 17))
RIGHT_BROW, LEFT_BROW = tuple(range(17, 22)), tuple(range(22, 27))
NOSE_BRIDGE, NOSTRILS = tuple(range(27, 31)), tuple(range(31, 36))
RIGHT_EYE, LEFT_EYE = tuple(range(36, 42)), tuple(range(42, 48))
OUTER_LIPS, INNER_LIPS = tuple(range(48, 60)), tuple(range(60, 68))
N_LANDMARKS = 68

# Virtual skin points appended after the 68 landmarks (indices 68..77); see `virtual_points`.
FOREHEAD = (68, 69, 70, 71, 72)  # above right outer brow, right mid brow, midline, left mid brow, left outer brow
CHEEKS = (73, 74)  # right, left cheek apple
LOWER_CHEEKS = (75, 76)  # right, left, beside the lip corners
CHIN = 77  # between lower lip and chin
N_CONTROL = 78

_PAIRS = (
    [(i, 16 - i) for i in range(8)]
    + [(17, 26), (18, 25), (19, 24), (20, 23), (21, 22), (31, 35), (32, 34)]
    + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    + [(48, 54), (49, 53), (50, 52), (59, 55), (58, 56), (60, 64), (61, 63), (67, 65)]
    + [(68, 72), (69, 71), (73, 74), (75, 76)]
)


def _mirror_permutation() -> np.ndarray:
    perm = np.arange(N_CONTROL)
    for a, b in _PAIRS:
        perm[a], perm[b] = b, a
    return perm


MIRROR = _mirror_permutation()
"""MIRROR[i] is the control point that i becomes when the face is flipped left-right (midline points map to
themselves)."""

RIGHT_SIDE = frozenset(a for a, _ in _PAIRS)
LEFT_SIDE = frozenset(b for _, b in _PAIRS)
MIDLINE = frozenset(range(N_CONTROL)) - RIGHT_SIDE - LEFT_SIDE


@dataclass(frozen=True)
class FaceGeometry:
    """Where the face sits in a frame. `face_width` is the jaw width (landmark 0 to 16) of an average identity."""

    frame_size: int = 240
    face_width: float = 180.0
    face_centre: tuple[float, float] = (120.0, 124.0)
    margin: int = 24

    @property
    def canvas_size(self) -> int:
        return self.frame_size + 2 * self.margin


@dataclass(frozen=True)
class IdentityParams:
    """Everything that makes one synthetic subject look different (written to ground_truth.json)."""

    mirrored: bool
    scale: float
    width: float
    jaw_width: float
    eye_spacing_px: float
    eye_size: float
    brow_raise_px: float
    nose_length_px: float
    mouth_width: float
    mouth_drop_px: float
    lip_thickness: float
    roll_deg: float
    darkness: float
    warmth: float
    brightness: float
    contrast: float
    grain_sigma: float
    grain_seed: int


@dataclass(frozen=True)
class Identity:
    """A rendered identity: neutral canvas (float32 RGB, canvas_size^2) and its neutral control points."""

    params: IdentityParams
    geometry: FaceGeometry
    canvas: np.ndarray
    control_points: np.ndarray  # (N_CONTROL, 2) in canvas coordinates
    weights: sparse.csr_matrix  # (canvas_size^2, n_mesh_points): barycentric weights of every canvas pixel

    @property
    def landmarks(self) -> np.ndarray:
        """The 68 neutral landmarks in canonical frame coordinates (canvas minus margin)."""
        return self.control_points[:N_LANDMARKS] - self.geometry.margin

    def dense_field(self, displacements: np.ndarray) -> np.ndarray:
        """(H, W, 2) float32 canvas displacement field from (N_CONTROL, 2) control-point displacements.

        The ring and border points of the mesh stay fixed, so motion fades out between the face and the ring.
        """
        size = self.geometry.canvas_size
        full = np.zeros((self.weights.shape[1], 2))
        full[:N_CONTROL] = displacements
        return np.asarray(self.weights @ full, dtype=np.float32).reshape(size, size, 2)


# -- reference face -----------------------------------------------------------------------------------------------


def astronaut_image() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def reference_landmarks() -> np.ndarray:
    """(68, 2) float landmarks of `astronaut_image()` from the committed data file."""
    points = json.loads(REFERENCE_LANDMARKS_FILE.read_text())["points"]
    return np.asarray(points, dtype=np.float64)


def shape_predictor_path() -> Path:
    """dlib's 68-point model shipped by face-recognition-models (located without importing the package, whose
    import needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face-recognition-models is not installed")
    return Path(spec.submodule_search_locations[0]) / "models" / "shape_predictor_68_face_landmarks.dat"


def detect_reference_landmarks() -> np.ndarray:
    """Recompute the stored landmarks with dlib (best-scoring HOG box, one upsampling)."""
    import dlib

    image = astronaut_image()
    boxes, scores, _ = dlib.get_frontal_face_detector().run(image, 1)
    box = boxes[int(np.argmax(scores))]
    shape = dlib.shape_predictor(str(shape_predictor_path()))(image, box)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


# -- geometry helpers -----------------------------------------------------------------------------------------------


def face_axes(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (image-right along the eye line, image-down across it) of a face's 68 landmarks."""
    across = landmarks[list(LEFT_EYE)].mean(0) - landmarks[list(RIGHT_EYE)].mean(0)
    e_x = across / np.linalg.norm(across)
    return e_x, np.array([-e_x[1], e_x[0]])


def virtual_points(landmarks: np.ndarray) -> np.ndarray:
    """The ten virtual skin points (68..77) as fixed combinations of the 68 landmarks.

    Forehead points sit 45% of the brow-to-nose-tip distance above the brows; cheek apples are the centroid of
    jaw, nostril and lower-lid points; lower cheeks lie between the jaw and the lip corners; the chin point is
    between the lower lip and the chin.
    """
    p = landmarks
    _, e_y = face_axes(p)
    lift = 0.45 * np.linalg.norm(p[30] - (p[19] + p[24]) / 2) * e_y
    brow_mid = (p[21] + p[22]) / 2
    forehead = [p[17] - lift, p[19] - lift, brow_mid - 1.1 * lift, p[24] - lift, p[26] - lift]
    cheeks = [(p[1] + p[31] + p[41]) / 3, (p[15] + p[35] + p[46]) / 3]
    lower = [0.55 * p[48] + 0.45 * p[4], 0.55 * p[54] + 0.45 * p[12]]
    chin = [0.5 * p[57] + 0.5 * p[8]]
    return np.array(forehead + cheeks + lower + chin)


def control_points(landmarks: np.ndarray) -> np.ndarray:
    """(N_CONTROL, 2): the 68 landmarks followed by the virtual skin points."""
    return np.vstack([landmarks, virtual_points(landmarks)])


def mirror_landmarks(landmarks: np.ndarray, image_width: int) -> np.ndarray:
    """Landmarks of the left-right flipped image, re-indexed so index i keeps its iBUG meaning."""
    flipped = landmarks.copy()
    flipped[:, 0] = image_width - 1 - flipped[:, 0]
    return flipped[MIRROR[:N_LANDMARKS]]


def similarity(scale: float, angle_deg: float, centre_from, centre_to) -> np.ndarray:
    """2x3 matrix rotating/scaling about `centre_from` and moving it to `centre_to`."""
    a = np.deg2rad(angle_deg)
    rot = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([rot, (np.asarray(centre_to) - rot @ np.asarray(centre_from))[:, None]])


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(matrix.astype(np.float64))


def landmark_centre(landmarks: np.ndarray) -> np.ndarray:
    return (landmarks.min(0) + landmarks.max(0)) / 2


def placement(source_landmarks: np.ndarray, geometry: FaceGeometry) -> np.ndarray:
    """Similarity (2x3) from portrait pixels to canvas pixels: jaw width `face_width`, box centre at
    `face_centre`."""
    jaw = np.linalg.norm(source_landmarks[16] - source_landmarks[0])
    target = np.asarray(geometry.face_centre) + geometry.margin
    return similarity(geometry.face_width / jaw, 0.0, landmark_centre(source_landmarks), target)


# -- identities -----------------------------------------------------------------------------------------------------


def sample_identity(rng: np.random.Generator) -> IdentityParams:
    """Draw one subject's shape and complexion. Ranges are chosen to look like different adults while keeping
    every face detectable; none comes from a paper."""
    u = rng.uniform
    return IdentityParams(
        mirrored=bool(rng.random() < 0.5),
        scale=u(0.94, 1.06),
        width=u(0.93, 1.07),
        jaw_width=u(0.92, 1.08),
        eye_spacing_px=u(-4, 4),
        eye_size=u(0.88, 1.15),
        brow_raise_px=u(-3, 4),
        nose_length_px=u(-4, 5),
        mouth_width=u(0.9, 1.1),
        mouth_drop_px=u(-3, 4),
        lip_thickness=u(0.85, 1.2),
        roll_deg=u(-3, 3),
        darkness=u(-0.08, 0.35),
        warmth=u(-0.08, 0.08),
        brightness=u(-12, 12),
        contrast=u(0.88, 1.12),
        grain_sigma=u(1.5, 3.5),
        grain_seed=int(rng.integers(2**31)),
    )


def _scale_about(points: np.ndarray, centre: np.ndarray, sx: float, sy: float, e_x, e_y) -> np.ndarray:
    rel = points - centre
    return centre + np.outer(rel @ e_x * sx, e_x) + np.outer(rel @ e_y * sy, e_y)


def identity_shape(base: np.ndarray, params: IdentityParams) -> np.ndarray:
    """Vary the 68 placed reference landmarks by the identity's shape parameters (pure; pixels on the canvas)."""
    e_x, e_y = face_axes(base)
    centre = landmark_centre(base)
    p = _scale_about(base, centre, params.scale * params.width, params.scale, e_x, e_y)
    jaw = list(JAW)
    lower_weight = np.clip((p[jaw] - centre) @ e_y / (np.abs((p[jaw] - centre) @ e_y).max() + 1e-9), 0, 1)
    lateral = (p[jaw] - centre) @ e_x
    p[jaw] += np.outer(lateral * (params.jaw_width - 1) * lower_weight, e_x)
    for eye, sign in ((RIGHT_EYE, -1), (LEFT_EYE, 1)):
        idx = list(eye)
        c = p[idx].mean(0)
        p[idx] = _scale_about(p[idx], c, params.eye_size, params.eye_size, e_x, e_y)
        p[idx] += sign * params.eye_spacing_px / 2 * e_x
    brows = list(RIGHT_BROW + LEFT_BROW)
    p[brows] -= params.brow_raise_px * e_y
    p[[30, *NOSTRILS]] += params.nose_length_px * e_y
    p[29] += 0.5 * params.nose_length_px * e_y
    mouth = list(OUTER_LIPS + INNER_LIPS)
    mouth_centre = p[mouth].mean(0)
    p[mouth] = _scale_about(p[mouth], mouth_centre, params.mouth_width, params.lip_thickness, e_x, e_y)
    p[mouth] += params.mouth_drop_px * e_y
    roll = similarity(1.0, params.roll_deg, centre, centre)
    return apply_affine(roll, p)


def mesh_points(controls: np.ndarray, geometry: FaceGeometry, ring_centre, ring_radii) -> np.ndarray:
    """Control points + a fixed ring of 20 points around the head + the canvas border (every 48 px)."""
    angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    ring = np.asarray(ring_centre) + np.c_[ring_radii[0] * np.cos(angles), ring_radii[1] * np.sin(angles)]
    size = geometry.canvas_size - 1
    ticks = np.unique(np.r_[np.arange(0, size, 48), size]).astype(float)
    border = np.unique(
        np.vstack([np.c_[ticks, np.zeros_like(ticks)], np.c_[ticks, np.full_like(ticks, size)],
                   np.c_[np.zeros_like(ticks), ticks], np.c_[np.full_like(ticks, size), ticks]]), axis=0)
    return np.vstack([controls, ring, border])


def barycentric_weights(points: np.ndarray, grid: np.ndarray) -> sparse.csr_matrix:
    """Sparse (len(grid), len(points)) matrix of each grid point's barycentric weights in the Delaunay mesh of
    `points`: `weights @ values` interpolates per-point values piecewise linearly."""
    tri = Delaunay(points)
    simplex = tri.find_simplex(grid)
    if (simplex < 0).any():
        raise ValueError("grid points outside the mesh")
    transform = tri.transform[simplex]
    partial = np.einsum("nij,nj->ni", transform[:, :2], grid - transform[:, 2])
    bary = np.c_[partial, 1 - partial.sum(1)]
    rows = np.repeat(np.arange(len(grid)), 3)
    return sparse.csr_matrix((bary.ravel(), (rows, tri.simplices[simplex].ravel())),
                             shape=(len(grid), len(points)))


def canvas_grid(size: int) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size]
    return np.c_[xs.ravel(), ys.ravel()].astype(np.float64)


@lru_cache(maxsize=2)
def _source(mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    image = astronaut_image()
    marks = reference_landmarks()
    if mirrored:
        return np.ascontiguousarray(image[:, ::-1]), mirror_landmarks(marks, image.shape[1])
    return image, marks


def render_identity(params: IdentityParams, geometry: FaceGeometry = FaceGeometry()) -> Identity:
    """Warp the portrait onto the identity's shape and apply its complexion (see the module docstring)."""
    image, source_marks = _source(params.mirrored)
    place = placement(source_marks, geometry)
    base = apply_affine(place, source_marks)
    target_controls = control_points(identity_shape(base, params))
    source_controls_canvas = control_points(base)
    centre = landmark_centre(base)
    radii = (0.78 * geometry.face_width, 0.95 * geometry.face_width)
    target_mesh = mesh_points(target_controls, geometry, centre, radii)
    fixed = mesh_points(source_controls_canvas, geometry, centre, radii)
    source_mesh = apply_affine(invert_affine(place), fixed)  # back to portrait pixels
    size = geometry.canvas_size
    weights = barycentric_weights(target_mesh, canvas_grid(size))
    source_xy = np.asarray(weights @ source_mesh, dtype=np.float32).reshape(size, size, 2)
    canvas = cv2.remap(image.astype(np.float32), source_xy[..., 0], source_xy[..., 1], cv2.INTER_CUBIC,
                       borderMode=cv2.BORDER_REFLECT)
    canvas = apply_complexion(canvas, target_controls, params)
    return Identity(params, geometry, canvas, target_controls, weights)


def face_mask(controls: np.ndarray, size: int, feather: float = 8.0) -> np.ndarray:
    """Soft (0..1) mask of the face: convex hull of jaw and forehead points, Gaussian-feathered."""
    hull = cv2.convexHull(controls[list(JAW) + list(FOREHEAD)].astype(np.float32)).astype(np.int32)
    mask = np.zeros((size, size), np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    return cv2.GaussianBlur(mask, (0, 0), feather)


def apply_complexion(canvas: np.ndarray, controls: np.ndarray, params: IdentityParams) -> np.ndarray:
    """Skin tone inside the face mask, then global brightness/contrast and a static grain (float32, 0..255)."""
    mask = face_mask(controls, canvas.shape[0])[..., None]
    tone = (1 - params.darkness) * np.array([1 + params.warmth, 1.0, 1 - params.warmth], np.float32)
    out = canvas * (1 + mask * (tone - 1))
    out = (out - 128.0) * params.contrast + 128.0 + params.brightness
    grain = np.random.default_rng(params.grain_seed).normal(0, params.grain_sigma, canvas.shape[:2])
    out += cv2.GaussianBlur(grain.astype(np.float32), (0, 0), 0.7)[..., None]
    return np.clip(out, 0, 255).astype(np.float32)


def identity_summary(identity: Identity) -> dict:
    """JSON-ready description of an identity for ground_truth.json."""
    return {"params": asdict(identity.params), "neutral_landmarks": np.round(identity.landmarks, 2).tolist()}
