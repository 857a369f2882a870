"""Masked-expression stand-in (`affect synth masked --out DIR --subjects N --seed S`): true emotions hidden by a
disguising expression, written in the layout of rawdata/layouts/masked.py.

What a clip shows (the situation of the masked-emotion paper, arXiv 2603.16760): the true emotion's AUs LEAK
briefly as a micro-expression (raised-cosine onset -> leak peak -> fade, micro amplitudes), then the subject puts on
a disguising expression (a posed, larger "macro" expression) that rises and reaches a STABLE apex held to the end
of the clip, while the true AUs never vanish completely: a faint residual (a fraction of the leak amplitude)
follows the disguise's rise and stays. Pairs are e.g. a smile over disgust, a neutral face over surprise; the
disguise is drawn uniformly among the disguise expressions other than the true emotion, so the two labels are
nearly independent (what the dual-stream network's HSIC term assumes).

Annotation: onset = the first leak frame, apex = the middle of the stable disguise plateau, offset = the last
frame. So the onset->apex span (the onset-clip paradigm) contains the leak, and the apex frame alone (the
apex-frame paradigm) holds only the disguise and the faint residual: the harder setting the paper introduces.

Reused from the micro-expression generator (rawdata/synth/): identities and the dense motion field
(face.py), AU displacements and the EMFACS-like emotion -> AU priors for the TRUE emotion (aus.py), head motion,
illumination, blinks, sensor noise, JPEG and per-subject expressiveness (plan.py's
:class:`~rawdata.synth.plan.Difficulty` knobs; its `amplitude_px`, `label_noise` and `annotation_jitter_ms`
are not used here, the masking knobs below replace them), frame warping and finishing (render.py). Only the
temporal composition (leak + residual + rise-and-hold) is new.

Knobs (:class:`MaskingKnobs`, all written to SYNTHETIC.json; choices of this suite, no paper gives numbers):
30 fps; leak 130-270 ms at 1-2.5 px (before `amplitude_scale`, below); disguise rise 170-330 ms to 4-8 px, held
330-600 ms; residual 10-30% of the leak amplitude; 2-5 neutral frames before the onset. Default size: 12
subjects x 8 clips of about 25-40 frames.
Ground truth (ground_truth.json, one sample per line): AUs with sides and amplitudes of both expressions, the
true timing, and the 68 landmarks of every frame's neutral and moved face.

What the stand-in builds in (read this next to any result on it). The paper's claim is built in BY CONSTRUCTION:
the onset leaks the true emotion (a clean micro-expression before the disguise starts), and at the stable
disguised apex the true AUs survive only as the faint residual (10-30% of the leak) under the disguise. An
onset-clip result above an apex result on this stand-in therefore confirms the generator, not the paper.

Amplitudes. The leak's knob is in px before the calibrated renderer scale `amplitude_scale` (plan.py's
Difficulty, 0.28 by default, fitted on the micro-expression stand-ins against a micro-expression anchor), which
multiplies the leak and so its residual. The disguise, a deliberate posed expression that anyone reads from a
still photo, is not a micro-expression and keeps its own scale (`disguise_amplitude_scale`, 1); under the micro
calibration it would shrink to 1-3 px, which one frame no longer shows (apex-shape probe below: disguise UF1
0.39 that way), against the abstract's stable, shown disguise. Default draw (5th-95th percentiles, 180 px face):
leak 0.3-0.9 px, apex residual 0.05-0.2 px, disguise 3.8-10.9 px.

What one apex frame can hold. Every AU is rendered as a geometric warp of the identity's neutral face (no
wrinkles or texture change), so a single frame shows an expression only relative to a neutral face it does not
contain, and identity shapes differ by several pixels. Measured with the generator's own ground-truth landmarks
and a linear probe under LOSO (benchmarks/masked_decoupling.py, `landmark_probe`; default draw, 12 subjects,
seed 15), UF1 of the true emotion (chance 0.167) / of the disguise: apex frame's landmark shape 0.18 / 0.91;
apex minus onset landmarks 0.16 / 0.99 (head motion between the two frames swamps the residual); apex
displacement against the true neutral face (never observable) 0.31 / 1.0; leak peak 0.90 / 0.28; the onset ->
apex clip 0.28 / 0.98. So the TRUE EMOTION IS NOT LEARNABLE FROM THE APEX FRAME of this stand-in: apex-paradigm
experiments on it can show the disguise and the onset-clip comparison, not the paper's apex-frame recognition.
This is not a knob setting to tune away: with the true AUs held at their full leak amplitude to the end
(`residual=[1, 1]`, before calibration) the apex-frame probe stayed at 0.20. The masking knobs were fixed a priori
from the paper's abstract (the onset leaks the true emotion; the apex holds a stable, shown disguise) and were
never chosen by a method's scores.
"""

from __future__ import annotations

import inspect
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import cv2
import numpy as np

from core.errors import AffectError
from core.io import write_json, write_text
from rawdata.index import STANDIN_MARKER, make_sample_id
from rawdata.layouts import masked as layout
from rawdata.layouts.common import write_frames
from rawdata.synth.aus import (
    BLINK,
    ActionUnit,
    au_displacements,
    eye_opening,
    sample_au_codes,
    to_image_displacements,
    unit_moves,
)
from rawdata.synth.face import (
    N_LANDMARKS,
    FaceGeometry,
    Identity,
    apply_affine,
    identity_summary,
    render_identity,
    sample_identity,
)
from rawdata.synth.micro import compact_json, default_workers
from rawdata.synth.plan import (
    Blink,
    Difficulty,
    HeadMotion,
    Illumination,
    apportion,
    dataset_code,
    deal_to_subjects,
    make_difficulty,
    sample_blinks,
    sample_head,
    sample_light,
    sample_units,
)
from rawdata.synth.render import finish_frame, pose_matrices, raised_cosine, warp_frame

GENERATOR = "rawdata.synth.masked"
VERSION = 1
TRUE_EMOTIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
# The posed disguises, as full EMFACS prototypes (a deliberate expression, not a leak): a neutral face, a smile,
# a sad face and a surprised face.
DISGUISE_AUS: dict[str, tuple[str, ...]] = {
    "neutral": (),
    "happiness": ("6", "12"),
    "sadness": ("1", "4", "15"),
    "surprise": ("1", "2", "5", "26"),
}
DISGUISES = tuple(DISGUISE_AUS)
DEFAULT_SUBJECTS = 12


@dataclass(frozen=True)
class MaskingKnobs:
    """Timing and amplitude of the leak, the disguise and the residual (see the module docstring)."""

    fps: int = 30
    clips_per_subject: int = 8
    pad_frames: tuple[int, int] = (2, 5)
    leak_ms: tuple[float, float] = (130.0, 270.0)
    leak_amplitude_px: tuple[float, float] = (1.0, 2.5)
    disguise_start: tuple[float, float] = (0.2, 0.8)  # when the disguise starts, as a fraction of the leak's fade
    disguise_rise_ms: tuple[float, float] = (170.0, 330.0)
    disguise_amplitude_px: tuple[float, float] = (4.0, 8.0)
    hold_ms: tuple[float, float] = (330.0, 600.0)
    residual: tuple[float, float] = (0.1, 0.3)
    # The disguise is a deliberate, posed expression, not a micro-expression: the renderer scale `amplitude_scale`
    # (calibrated on a MICRO-expression anchor) scales the leak and its residual only; this one scales the disguise.
    disguise_amplitude_scale: float = 1.0

    def check(self) -> None:
        for name in ("pad_frames", "leak_ms", "leak_amplitude_px", "disguise_start", "disguise_rise_ms",
                     "disguise_amplitude_px", "hold_ms", "residual"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise AffectError(f"masked stand-in option {name}={[low, high]}: expected 0 <= low <= high")
        if self.disguise_amplitude_scale < 0:
            raise AffectError(f"masked stand-in option disguise_amplitude_scale={self.disguise_amplitude_scale}: "
                              "expected >= 0")
        if self.fps <= 0 or self.clips_per_subject <= 0:
            raise AffectError(f"masked stand-in needs fps > 0 and clips_per_subject > 0, got {self.fps}, "
                              f"{self.clips_per_subject}")


@dataclass(frozen=True)
class MaskedTiming:
    """Absolute frame numbers of one clip: leak onset/peak/end, disguise start/full (then held), annotated apex."""

    first: int
    onset: int
    leak_peak: int
    leak_end: int
    disguise_start: int
    disguise_full: int
    apex: int
    last: int


@dataclass(frozen=True)
class MaskedPlan:
    """Everything needed to render one clip (render.finish_frame reads light, grayscale, contrast, brightness,
    noise_sigma)."""

    subject: int
    filename: str
    emotion: str
    disguise: str
    true_units: tuple[ActionUnit, ...]
    disguise_units: tuple[ActionUnit, ...]
    residual: float
    timing: MaskedTiming
    identity_seed: int
    head: HeadMotion
    light: Illumination
    blinks: tuple[Blink, ...]
    noise_sigma: float
    noise_seed: int
    jpeg_quality: int
    grayscale: bool = False
    contrast: float = 1.0
    brightness: float = 0.0

    @property
    def frame_numbers(self) -> np.ndarray:
        return np.arange(self.timing.first, self.timing.last + 1)

    def annotation(self) -> layout.MaskedAnnotation:
        t = self.timing
        return layout.MaskedAnnotation(self.subject, self.filename, t.onset, t.apex, t.last,
                                       tuple(u.code for u in self.true_units), self.emotion, self.disguise,
                                       tuple(u.code for u in self.disguise_units))


# -- plan -------------------------------------------------------------------------------------------------------


def frames_of(ms: float, fps: int) -> int:
    return max(1, int(round(ms * fps / 1000)))


def masked_timing(knobs: MaskingKnobs, first: int, rng: np.random.Generator) -> MaskedTiming:
    """Leak (rise to its peak at 40% of its length, then fade), disguise start during the fade, rise, hold."""
    onset = first + int(rng.integers(knobs.pad_frames[0], knobs.pad_frames[1] + 1))
    leak = max(3, frames_of(rng.uniform(*knobs.leak_ms), knobs.fps))
    leak_peak = onset + max(1, int(round(0.4 * leak)))
    leak_end = onset + leak
    start = leak_peak + int(round(rng.uniform(*knobs.disguise_start) * (leak_end - leak_peak)))
    full = start + max(2, frames_of(rng.uniform(*knobs.disguise_rise_ms), knobs.fps))
    hold = max(3, frames_of(rng.uniform(*knobs.hold_ms), knobs.fps))
    last = max(full + hold, leak_end + 2)
    return MaskedTiming(first, onset, leak_peak, leak_end, start, full, (full + last + 1) // 2, last)


def disguise_labels(true_emotions: list[str], rng: np.random.Generator) -> list[str]:
    """A disguise per clip, uniform among the disguises that differ from the true emotion."""
    return [str(rng.choice([d for d in DISGUISES if d != emotion])) for emotion in true_emotions]


def plan_dataset(n_subjects: int, seed: int, knobs: MaskingKnobs, difficulty: Difficulty) -> list[MaskedPlan]:
    """Every clip of the stand-in (pure given the seed): balanced true emotions dealt unevenly to subjects."""
    rng = np.random.default_rng([seed, dataset_code(layout.DATASET)])
    total = n_subjects * knobs.clips_per_subject
    counts = apportion(dict.fromkeys(TRUE_EMOTIONS, 1), total)
    emotions = np.array([e for e, n in counts.items() for _ in range(n)], dtype=object)
    rng.shuffle(emotions)
    disguises = disguise_labels(list(emotions), rng)
    per_subject = deal_to_subjects(total, n_subjects, rng)
    plans, start = [], 0
    for subject, n in enumerate(per_subject, start=1):
        gain = float(np.exp(rng.normal(0, difficulty.expressiveness_sd)))
        identity_seed = int(np.random.SeedSequence([seed, dataset_code(layout.DATASET), subject]).generate_state(1)[0])
        for k in range(n):
            plans.append(plan_clip(subject, f"m{k + 1:02d}", emotions[start + k], disguises[start + k], gain,
                                   identity_seed, knobs, difficulty, rng))
        start += n
    return plans


def plan_clip(subject: int, filename: str, emotion: str, disguise: str, gain: float, identity_seed: int,
              knobs: MaskingKnobs, difficulty: Difficulty, rng: np.random.Generator) -> MaskedPlan:
    timing = masked_timing(knobs, int(rng.integers(1, 200)), rng)
    true_units = sample_units(sample_au_codes(emotion, rng), gain,
                              replace(difficulty, amplitude_px=knobs.leak_amplitude_px), rng)
    posed = replace(difficulty, amplitude_px=knobs.disguise_amplitude_px,
                    amplitude_scale=knobs.disguise_amplitude_scale)
    disguise_units = sample_units(list(DISGUISE_AUS[disguise]), gain, posed, rng)
    numbers = range(timing.first, timing.last + 1)
    return MaskedPlan(
        subject=subject, filename=filename, emotion=emotion, disguise=disguise, true_units=true_units,
        disguise_units=disguise_units, residual=float(rng.uniform(*knobs.residual)), timing=timing,
        identity_seed=identity_seed, head=sample_head(difficulty, rng), light=sample_light(difficulty, rng),
        blinks=sample_blinks(numbers, knobs.fps, difficulty, rng), noise_sigma=difficulty.noise_sigma,
        noise_seed=int(rng.integers(2**31)),
        jpeg_quality=int(rng.integers(difficulty.jpeg_quality[0], difficulty.jpeg_quality[1] + 1)),
    )


# -- render -----------------------------------------------------------------------------------------------------


def rise_and_hold(numbers: np.ndarray, start: int, full: int) -> np.ndarray:
    """0 before `start`, a half-cosine rise to exactly 1 at `full`, then 1 (a stable, held expression)."""
    t = np.clip((numbers.astype(float) - start) / max(full - start, 1), 0, 1)
    return 0.5 * (1 - np.cos(np.pi * t))


def true_intensity(numbers: np.ndarray, timing: MaskedTiming, residual: float) -> np.ndarray:
    """The true AUs: the leak's raised cosine, never below the residual that follows the disguise's rise."""
    leak = raised_cosine(numbers, timing.onset, timing.leak_peak, timing.leak_end)
    return np.maximum(leak, residual * rise_and_hold(numbers, timing.disguise_start, timing.disguise_full))


def motion_patterns(plan: MaskedPlan, identity: Identity) -> tuple[np.ndarray, list[np.ndarray]]:
    """(T, K) intensities and K control-point displacement patterns: true AUs, disguise AUs, then blinks."""
    numbers, controls = plan.frame_numbers, identity.control_points
    patterns = [au_displacements(list(plan.true_units), controls),
                au_displacements(list(plan.disguise_units), controls)]
    profiles = [true_intensity(numbers, plan.timing, plan.residual),
                rise_and_hold(numbers, plan.timing.disguise_start, plan.timing.disguise_full)]
    lid_travel = eye_opening(controls)
    for blink in plan.blinks:
        patterns.append(to_image_displacements(blink.closure * lid_travel * unit_moves(BLINK, ""), controls))
        profiles.append(raised_cosine(numbers, blink.start, blink.peak, blink.end))
    return np.stack(profiles, axis=1), patterns


def render_clip(plan: MaskedPlan, identity: Identity, fps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, H, W, 3) uint8 frames and the (T, 68, 2) neutral and moved landmarks in frame pixels."""
    geometry = identity.geometry
    intensity, patterns = motion_patterns(plan, identity)
    dense = [identity.dense_field(p) for p in patterns]
    poses = pose_matrices(plan.head, len(intensity), fps, geometry.face_centre)
    ys, xs = np.mgrid[0:geometry.frame_size, 0:geometry.frame_size].astype(np.float32)
    frames, neutral, moved = [], [], []
    for k, weights in enumerate(intensity):
        field = sum(np.float32(w) * f for w, f in zip(weights, dense, strict=True))
        image = warp_frame(identity.canvas, field, poses[k], xs, ys, geometry.margin)
        frames.append(finish_frame(image, plan, k / max(len(intensity) - 1, 1), plan.noise_seed + k))
        displaced = identity.landmarks + sum(w * p[:N_LANDMARKS] for w, p in zip(weights, patterns, strict=True))
        neutral.append(apply_affine(poses[k], identity.landmarks))
        moved.append(apply_affine(poses[k], displaced))
    return np.array(frames), np.array(neutral), np.array(moved)


def unit_list(units: tuple[ActionUnit, ...]) -> list[dict]:
    return [{"au": u.au, "side": u.side, "amplitude_px": u.amplitude} for u in units]


def sample_truth(plan: MaskedPlan, neutral: np.ndarray, moved: np.ndarray) -> dict:
    """One ground_truth.json entry."""
    return {
        "sample_id": make_sample_id(layout.DATASET, str(plan.subject), plan.filename),
        "subject": str(plan.subject), "clip": plan.filename, "emotion": plan.emotion, "disguise": plan.disguise,
        "aus": unit_list(plan.true_units), "disguise_aus": unit_list(plan.disguise_units), "residual": plan.residual,
        "timing": asdict(plan.timing), "frame_numbers": plan.frame_numbers.tolist(),
        "blinks": [asdict(b) for b in plan.blinks], "head_motion": asdict(plan.head),
        "illumination": asdict(plan.light), "noise_sigma": plan.noise_sigma, "jpeg_quality": plan.jpeg_quality,
        "landmarks_neutral": np.round(neutral, 2).tolist(), "landmarks_moved": np.round(moved, 2).tolist(),
    }


def render_subject(args: tuple) -> tuple[list[dict], dict, int]:
    """Render and write every clip of one subject (a worker task): truth entries, identity summary, frames."""
    plans, root, fps, geometry = args
    cv2.setNumThreads(1)
    identity = render_identity(sample_identity(np.random.default_rng(plans[0].identity_seed)), geometry)
    entries, n_frames = [], 0
    for plan in plans:
        frames, neutral, moved = render_clip(plan, identity, fps)
        names = [layout.frame_name(int(n)) for n in plan.frame_numbers]
        write_frames(layout.clip_path(root, plan.subject, plan.filename), names, frames, plan.jpeg_quality)
        entries.append(sample_truth(plan, neutral, moved))
        n_frames += len(names)
    return entries, identity_summary(identity), n_frames


# -- write ------------------------------------------------------------------------------------------------------


def split_options(options: dict) -> tuple[MaskingKnobs, Difficulty]:
    """`--set` options -> masking knobs and nuisance knobs; an unknown option is a user error listing both."""
    masking = {f.name for f in fields(MaskingKnobs)}
    nuisance = {f.name for f in fields(Difficulty)}
    unknown = sorted(set(options) - masking - nuisance)
    if unknown:
        raise AffectError(f"`affect synth masked` does not take {unknown}",
                          hint=f"masking options: {sorted(masking)}; nuisance options: {sorted(nuisance)}")
    knobs = MaskingKnobs(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items() if k in masking})
    knobs.check()
    return knobs, make_difficulty({k: v for k, v in options.items() if k in nuisance})


def generate_masked(out: str | Path, subjects: int | None = None, seed: int = 0, workers: int | None = None,
                    **options) -> dict:
    """Write the masked-expression stand-in into `out` and return a summary (see the module docstring)."""
    knobs, difficulty = split_options(options)
    n_subjects = subjects or DEFAULT_SUBJECTS
    plans = plan_dataset(n_subjects, seed, knobs, difficulty)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    geometry = FaceGeometry()
    tasks = [([p for p in plans if p.subject == s], root, knobs.fps, geometry) for s in range(1, n_subjects + 1)]
    started = time.perf_counter()
    workers = workers or default_workers()
    if workers > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks), os.cpu_count() or 1)) as pool:
            results = list(pool.map(render_subject, tasks))
    else:
        results = [render_subject(t) for t in tasks]
    layout.write_annotations(root, [p.annotation() for p in plans])
    write_text(root / "README.md", layout_readme())
    samples = [e for entries, _, _ in results for e in entries]
    truth = {"generator": GENERATOR, "version": VERSION, "dataset": layout.DATASET, "fps": knobs.fps,
             "frame_size": geometry.frame_size, "subjects": {s: r[1] for s, r in enumerate(results, start=1)},
             "samples": samples}
    write_text(root / "ground_truth.json", compact_json(truth))
    params = {"subjects": n_subjects, "clips": len(samples), "masking": asdict(knobs),
              "difficulty": asdict(difficulty), "true_emotions": TRUE_EMOTIONS, "disguises": DISGUISE_AUS}
    write_json(root / STANDIN_MARKER, {"generator": GENERATOR, "version": VERSION, "seed": seed,
                                       "format": layout.DATASET, "parameters": params})
    return {"dataset": layout.DATASET, "out": str(root), "subjects": n_subjects, "samples": len(samples),
            "frames": sum(r[2] for r in results), "seconds": round(time.perf_counter() - started, 2)}


def layout_readme() -> str:
    """The layout's documentation (the parser's docstring), written beside the stand-in's data."""
    return "# Masked-expression dataset layout\n\n" + inspect.getdoc(layout) + "\n"
