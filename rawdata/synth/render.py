"""Rendering a planned recording: identity canvas -> head pose + AU motion field -> light, noise -> frames.

Each frame is one bilinear `cv2.remap` of the subject's identity canvas (`face.py`): frame pixel -> canvas
through the inverse head pose, then through the inverse of the dense AU motion field (the landmark
displacements of `aus.py` spread by the identity's mesh), whose intensity follows a raised-cosine profile in
time. The 68 landmarks of every frame are computed alongside, before and after the AU motion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from rawdata.synth.aus import BLINK, au_displacements, eye_opening, to_image_displacements, unit_moves
from rawdata.synth.face import N_LANDMARKS, Identity, apply_affine, similarity
from rawdata.synth.plan import HeadMotion, RecordingPlan


def raised_cosine(numbers: np.ndarray, start: int, peak: int, end: int) -> np.ndarray:
    """Temporal profile: 0 before `start` and after `end`, rising as a half cosine to exactly 1 at `peak`, then
    falling back to 0 at `end`."""
    t = numbers.astype(float)
    rise = 0.5 * (1 - np.cos(np.pi * np.clip((t - start) / max(peak - start, 1), 0, 1)))
    fall = 0.5 * (1 + np.cos(np.pi * np.clip((t - peak) / max(end - peak, 1), 0, 1)))
    return np.where(t <= peak, rise, fall) * ((t >= start) & (t <= end))


def pose_matrices(head: HeadMotion, n_frames: int, fps: int, centre: Sequence[float]) -> np.ndarray:
    """(T, 2, 3) affine canonical-face -> frame pixels for every frame."""
    tau = np.linspace(0, 1, n_frames) if n_frames > 1 else np.zeros(1)
    seconds = np.arange(n_frames) / fps
    wobble = head.wobble_px * np.sin(2 * np.pi * head.wobble_hz * seconds + head.wobble_phase)
    mats = []
    for k in range(n_frames):
        shift = np.asarray(head.offset_px) + tau[k] * np.asarray(head.drift_px) + wobble[k] * np.array([0.6, 0.8])
        roll = head.roll_deg + tau[k] * head.drift_roll_deg
        mats.append(similarity(head.scale, roll, centre, np.asarray(centre) + shift))
    return np.array(mats)


@dataclass
class RenderedRecording:
    frames: np.ndarray  # (T, H, W, 3) or (T, H, W) uint8
    landmarks_neutral: np.ndarray  # (T, 68, 2) frame pixels
    landmarks_moved: np.ndarray  # (T, 68, 2)
    poses: np.ndarray  # (T, 2, 3)


def motion_profiles(plan: RecordingPlan, numbers: np.ndarray, identity: Identity) -> tuple[np.ndarray, list]:
    """(T, K) intensities and K control-point displacement patterns (expressions, then blinks)."""
    controls = identity.control_points
    patterns = [au_displacements(list(units), controls) for units in plan.units]
    profiles = [raised_cosine(numbers, m.onset, m.apex, m.offset) for m in plan.motions]
    lid_travel = eye_opening(controls)
    for blink in plan.blinks:
        patterns.append(to_image_displacements(blink.closure * lid_travel * unit_moves(BLINK, ""), controls))
        profiles.append(raised_cosine(numbers, blink.start, blink.peak, blink.end))
    return np.stack(profiles, axis=1), patterns


def render_recording(plan: RecordingPlan, identity: Identity, fps: int) -> RenderedRecording:
    """Render every frame of a planned recording (see the module docstring)."""
    geometry = identity.geometry
    numbers = np.asarray(plan.recording.frame_numbers)
    intensity, patterns = motion_profiles(plan, numbers, identity)
    fields = [identity.dense_field(p) for p in patterns]
    poses = pose_matrices(plan.head, len(numbers), fps, geometry.face_centre)
    size, margin = geometry.frame_size, geometry.margin
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    neutral = identity.landmarks
    frames, marks_neutral, marks_moved = [], [], []
    for k in range(len(numbers)):
        field = np.zeros_like(fields[0])
        for weight, pattern_field in zip(intensity[k], fields, strict=True):
            if weight > 0:
                field += np.float32(weight) * pattern_field
        image = warp_frame(identity.canvas, field, poses[k], xs, ys, margin)
        frames.append(finish_frame(image, plan, k / max(len(numbers) - 1, 1), plan.noise_seed + k))
        moved = neutral + sum(w * p[:N_LANDMARKS] for w, p in zip(intensity[k], patterns, strict=True))
        marks_neutral.append(apply_affine(poses[k], neutral))
        marks_moved.append(apply_affine(poses[k], moved))
    return RenderedRecording(np.array(frames), np.array(marks_neutral), np.array(marks_moved), poses)


def warp_frame(canvas: np.ndarray, field: np.ndarray, pose: np.ndarray, xs: np.ndarray, ys: np.ndarray,
               margin: int) -> np.ndarray:
    """Sample the canvas for every frame pixel p: q = pose^-1(p) on the canvas, then the inverse of the motion
    x -> x + field(x) by two fixed-point steps (y = q - field(q - field(q))), exact to second order for
    the smooth, few-pixel fields used here.

    Bilinear sampling, not bicubic: OpenCV's bicubic kernel (a = -0.75) shifts content by up to 0.05 px
    depending on the sub-pixel phase, a tenth of the smallest micro amplitude; bilinear places it within
    OpenCV's 1/32 px map precision. The canvas is smooth (an upsampled photograph), so bilinear blurs little."""
    inverse = cv2.invertAffineTransform(pose)
    qx = (inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2] + margin).astype(np.float32)
    qy = (inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2] + margin).astype(np.float32)
    if np.any(field):
        first = cv2.remap(field, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        second = cv2.remap(field, qx - first[..., 0], qy - first[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT)
        qx, qy = qx - second[..., 0], qy - second[..., 1]
    return cv2.remap(canvas, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def finish_frame(image: np.ndarray, plan: RecordingPlan, tau: float, noise_seed: int) -> np.ndarray:
    """Illumination at time `tau` (0..1 over the recording), optional greyscale, the sensor's contrast and
    brightness, sensor noise (OpenCV's RNG, seeded per frame: several times faster than numpy's normal sampler
    here), uint8."""
    light = plan.light
    gain = light.gain[0] + tau * (light.gain[1] - light.gain[0])
    gradient = light.gradient[0] + tau * (light.gradient[1] - light.gradient[0])
    width = image.shape[1]
    ramp = (gain * (1 + gradient * (np.arange(width) - width / 2) / width)).astype(np.float32)
    lit = image * (ramp[None, :, None] if image.ndim == 3 else ramp[None, :]) + np.float32(light.offset)
    if plan.grayscale:
        lit = cv2.cvtColor(lit, cv2.COLOR_RGB2GRAY)
    if plan.contrast != 1 or plan.brightness != 0:  # the sensor's response (a NIR camera's flat, dim image)
        lit = np.float32(128 + plan.brightness) + np.float32(plan.contrast) * (lit - np.float32(128))
    if plan.noise_sigma > 0:
        noise = np.empty_like(lit)
        cv2.setRNGSeed(noise_seed)
        cv2.randn(noise, 0.0, float(plan.noise_sigma))
        lit += noise
    return np.clip(np.rint(lit), 0, 255).astype(np.uint8)
