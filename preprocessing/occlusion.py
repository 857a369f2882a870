"""Synthetic facial occlusions (block, glasses, mask) for occluded micro-expression recognition (RRRN, Mao et al.).

The occlusion is drawn from the 68 iBUG landmarks the `landmarks` stage already computed, on ONE reference frame
(the first: clips are aligned on their first frame), and the same pixel mask is applied to every frame of the clip,
so an occluder never moves or flickers and cannot create motion of its own (optical flow inside it is zero).

Geometry (facts read in the authors' public generator, github.com/2111808003/micro-expression-occlusion; the code
here is our own). Their generator uses face_recognition's 68 points, the same iBUG mark-up as ours:
- mask: vertically from a point a quarter down the nose bridge (iBUG 28) to the chin bottom (8); each half's width
  is the distance of a jaw point (2 on the left, 14 on the right) to the nose-chin line, times 1.2.
- glasses: vertically from the brow (iBUG 24) to the nose bridge (28), centred between 27 and 28; each half's
  width is the distance of the outer jaw point (0, 16) to the nose line, times 1.2.
- block: a black rectangle whose sides are sqrt(area ratio) times the width / height of the box around the jaw
  and brow points (0-26); its centre is drawn uniformly so that the block stays inside that box, and it keeps its
  offset to the nose tip across frames. They generate ratios 0.05 ... 0.50.

Choices (the authors paste PNG images of 10 masks / 10 glasses; we draw shapes, so these are knobs):
- `mask` is a filled polygon (the two top corners, then the jaw points 2..14 below the nose) of grey `fill`.
- `glasses` are two filled ellipses (lenses, each filling its half of the box) joined by a bridge bar, `fill`
  and `opacity` (1 = opaque sunglasses).
- block positions come from `seed` and the clip's sample_id (a stable hash), so a copy is reproducible.

Landmarks of the occluded copy (`landmarks=`): `detect` (default) runs the `landmarks` stage on the occluded frames
(dlib on the first frame from the faces stage's `face_box`, then Lucas-Kanade tracking), so every landmark-based
method (RRRN's regions, the landmark graphs of GEO-Graph and DeRE-GRL) sees what a landmark detector finds on an
occluded face; `copy` keeps the clean clip's landmarks (the earlier setting: it hands those methods the points
under the occluder). Either way the occluder itself is PLACED from the clean first frame's landmarks (it models
where a real mask or pair of glasses sits), and the face box is the clean detection's (the faces stage, which
finds the face and aligns the clip, is not re-run; the occluder is drawn on the aligned crop).
"""

from __future__ import annotations

import hashlib
import math

import cv2
import numpy as np

from core.errors import AffectError

KINDS = ("block", "glasses", "mask")
WIDTH_RATIO = 1.2
DEFAULTS = {
    "block": {"ratio": 0.2, "fill": 0, "seed": 0},
    "glasses": {"fill": 20, "opacity": 1.0},
    "mask": {"fill": 200},
}


def _check_landmarks(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (68, 2) or not np.all(np.isfinite(points)):
        raise AffectError(f"occlusion needs (68, 2) finite landmarks of one frame, got shape {points.shape}")
    return points


def _line_distance(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance of `point` to the line through a and b."""
    d = b - a
    norm = float(np.hypot(*d))
    if norm == 0:
        raise AffectError("occlusion: degenerate landmarks (two reference points coincide)")
    return abs(d[0] * (point[1] - a[1]) - d[1] * (point[0] - a[0])) / norm


def mask_polygon(points: np.ndarray) -> np.ndarray:
    """(N, 2) polygon of the face mask: top corners level with iBUG 28, then the jaw from 14 down to 2."""
    p = _check_landmarks(points)
    top, chin = p[28], p[8]
    axis = (chin - top) / max(np.hypot(*(chin - top)), 1e-9)
    normal = np.array([-axis[1], axis[0]])  # points to the image's left when the face is upright
    left = _line_distance(p[2], top, chin) * WIDTH_RATIO
    right = _line_distance(p[14], top, chin) * WIDTH_RATIO
    jaw = [p[i] for i in range(14, 1, -1)]
    return np.array([top + normal * left, top - normal * right, *jaw], dtype=np.float64)


def glasses_box(points: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """(centre, left half-width, right half-width, height) of the glasses, from the brow down to iBUG 28."""
    p = _check_landmarks(points)
    centre = (p[27] + p[28]) / 2
    height = abs(p[28][1] - p[24][1])
    left = _line_distance(p[0], p[27], p[28]) * WIDTH_RATIO
    right = _line_distance(p[16], p[27], p[28]) * WIDTH_RATIO
    return centre, left, right, max(height, 1.0)


def block_rect(points: np.ndarray, ratio: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a block covering `ratio` of the jaw-and-brow box, placed uniformly inside it."""
    if not 0 < ratio <= 1:
        raise AffectError(f"occlusion block ratio must be in (0, 1], got {ratio}")
    p = _check_landmarks(points)[:27]
    x_min, y_min = p.min(axis=0)
    x_max, y_max = p.max(axis=0)
    scale = math.sqrt(ratio)
    w, h = (x_max - x_min) * scale, (y_max - y_min) * scale
    cx = rng.uniform(x_min + w / 2, max(x_max - w / 2, x_min + w / 2))
    cy = rng.uniform(y_min + h / 2, max(y_max - h / 2, y_min + h / 2))
    return (int(round(cx - w / 2)), int(round(cy - h / 2)), int(round(cx + w / 2)), int(round(cy + h / 2)))


def occlusion_mask(points: np.ndarray, shape: tuple[int, int], kind: str, sample_id: str = "",
                   **knobs) -> np.ndarray:
    """(H, W) float32 coverage in [0, 1] of occluder `kind` for a face with landmarks `points` (68, 2)."""
    if kind not in KINDS:
        raise AffectError(f"unknown occlusion kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    k = {**DEFAULTS[kind], **knobs}
    cover = np.zeros(shape, dtype=np.uint8)
    if kind == "mask":
        cv2.fillPoly(cover, [np.round(mask_polygon(points)).astype(np.int32)], 255)
    elif kind == "glasses":
        centre, left, right, height = glasses_box(points)
        cx, cy = centre
        for c, half in ((cx - left / 2, left / 2), (cx + right / 2, right / 2)):
            cv2.ellipse(cover, (int(round(c)), int(round(cy))), (max(int(round(half)), 1),
                        max(int(round(height / 2)), 1)), 0, 0, 360, 255, -1)
        bar = max(int(round(height / 6)), 1)
        cv2.rectangle(cover, (int(round(cx - left / 2)), int(round(cy - bar / 2))),
                      (int(round(cx + right / 2)), int(round(cy + bar / 2))), 255, -1)
    else:
        digest = hashlib.sha256(f"{k['seed']}:{sample_id}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        x0, y0, x1, y1 = block_rect(points, float(k["ratio"]), rng)
        cv2.rectangle(cover, (x0, y0), (x1 - 1, y1 - 1), 255, -1)
    coverage = cover.astype(np.float32) / 255.0
    if kind == "glasses":
        coverage *= float(k["opacity"])
    return coverage


def occlude_clip(frames: np.ndarray, landmarks: np.ndarray, kind: str, sample_id: str = "",
                 **knobs) -> np.ndarray:
    """The clip (T, H, W[, C]) uint8 with occluder `kind` drawn from the first frame's landmarks on every frame."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or len(frames) == 0:
        raise AffectError(f"occlusion needs a (T, H, W[, C]) uint8 clip, got {frames.dtype} {frames.shape}")
    landmarks = np.asarray(landmarks)
    if landmarks.ndim != 3 or landmarks.shape[0] != frames.shape[0]:
        raise AffectError(f"occlusion needs (T, 68, 2) landmarks for {frames.shape[0]} frames, "
                          f"got shape {landmarks.shape}")
    fill = float({**DEFAULTS[kind], **knobs}["fill"]) if kind in KINDS else 0.0
    coverage = occlusion_mask(landmarks[0], frames.shape[1:3], kind, sample_id, **knobs)
    if frames.ndim == 4:
        coverage = coverage[..., None]
    out = frames.astype(np.float32) * (1.0 - coverage) + fill * coverage
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def occluded_name(dataset: str, kind: str) -> str:
    """Processed-dataset name of the occluded copy: `<dataset>-occ-<kind>`."""
    return f"{dataset}-occ-{kind}"


def occlude_dataset(source_dir, target_dir, kind: str, landmarks: str = "detect", params=None, jobs=None,
                    **knobs) -> dict:
    """Write an occluded copy of a processed dataset: index.csv, faces/ (occluded) and landmarks/.

    `landmarks="detect"` runs the `landmarks` stage on the occluded frames (it needs `params`, the params.yaml
    whose `preprocess.landmarks` knobs it uses; `jobs` worker processes); `"copy"` copies the clean clip's.
    The downstream stages (magnify, flow, features) then run on the copy with `affect preprocess <stage>
    <dataset>-occ-<kind>`, so every method of the suite reads occluded clips through its usual inputs. The copy's
    faces/ fingerprint hashes the source fingerprints with the occlusion knobs, so a changed knob recomputes the
    stages downstream. Returns a summary (also written to `occlude.json`).
    """
    import json
    import time
    from pathlib import Path

    from core.io import write_json, write_npz
    from preprocessing import derived_copy as copy

    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if kind not in KINDS:
        raise AffectError(f"unknown occlusion kind {kind!r}", hint=f"one of {', '.join(KINDS)}")
    copy.check_request(source_dir, target_dir, landmarks, params, "occluded copy")
    start = time.perf_counter()
    settings = {**DEFAULTS[kind], **knobs}
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    fingerprint = hashlib.sha256(json.dumps([kind, settings, copy.source_fingerprints(source_dir), code],
                                            sort_keys=True, default=str).encode()).hexdigest()
    folder = copy.prepare_faces(source_dir, target_dir, fingerprint)
    done, skipped = 0, {}
    for landmark_file in sorted((source_dir / "landmarks").glob("*.npy")):
        sample_id = landmark_file.stem
        face_file = source_dir / "faces" / f"{sample_id}.npz"
        out = folder / f"{sample_id}.npz"
        if not face_file.is_file():
            skipped[sample_id] = f"no faces file {face_file}"
            continue
        if not out.is_file():
            points = np.load(landmark_file)
            with np.load(face_file) as clip:
                arrays = {key: clip[key] for key in clip.files}
            arrays["frames"] = occlude_clip(arrays["frames"], points, kind, sample_id, **knobs)
            write_npz(out, **arrays)
        done += 1
    copy.seal_faces(folder, fingerprint)
    summary = {"stage": "occlude", "source": str(source_dir), "kind": kind, "params": settings, "n_done": done,
               "n_skipped": len(skipped), "skipped": skipped, "landmarks": landmarks,
               "seconds": round(time.perf_counter() - start, 3)}
    summary.update(copy.finish_landmarks(source_dir, target_dir, landmarks, params, jobs))
    write_json(target_dir / "occlude.json", summary)
    return summary
