"""`affect synth microgesture`: seated upper-body micro-gestures written in the iMiGUE skeleton layout.

What the stand-in imitates (iMiGUE: press-conference players filmed from the front, OpenPose upper body):

- a person seated behind a table, forearms resting on it, drawn in 2-D "body units" (half the shoulder width = 1)
  around the neck, y pointing down as in images. Each subject has their own bone lengths (upper arm, forearm,
  neck, head size, +-10%), posture (lean, shoulder asymmetry, where the hands rest), tempo (0.75-1.3x), motion
  amplitude style and dominant hand (right with probability 0.8);
- twelve micro-gesture classes (:data:`GESTURES`), each a short episode inside the clip: the acting hand(s)
  travel from the rest pose to a contact point on the body (nose, chin, eye, ear, neck, head, hair, collar, the
  other arm, the other hand), act there with a class-specific small motion (hold, stroke, fast scratch, small
  circles, anti-phase rubbing, one tug), and return; shrugging moves the shoulders instead of the hands. Elbows
  follow by two-bone inverse kinematics; five finger points fan out from the wrist towards the contact. Classes
  differ by a few centimetres of position and by rhythm, which is what makes micro-gestures hard;
- per sample: random onset and duration (the episode may run past the clip's end), contact jitter, a partial
  reach now and then, idle sway of the whole upper body (slow rotation about the hips), small head nods and
  breathing, an occasional unrelated twitch of the resting hand;
- the camera: subject-specific scale (150-200 px per body unit) and position in a 1920x1080 frame, a little
  per-clip jitter; OpenPose-like output: (x, y) in pixels plus a confidence (lower for fingers and for hands near
  the face), Gaussian position noise (``noise`` body units, 2.5x on fingers) and dropped joints written as
  (0, 0, 0) as OpenPose does.

Written as ``train_*``/``test_*`` files with disjoint subjects (``test_fraction`` of them held out), labels as the
release's pickle AND as the JSON that ``affect data convert`` makes of it, plus ``SYNTHETIC.json`` (generator,
version, seed, parameters, class names) and ``ground_truth.json`` (per sample: subject, class, acting hand, onset
and offset frames, reach). ``frames`` defaults to 64 rather than iMiGUE's 90 to keep CPU training quick.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.errors import AffectError
from core.io import write_json
from rawdata.convert import convert_labels
from rawdata.index import STANDIN_MARKER
from rawdata.layouts import imigue

GENERATOR = "affect synth microgesture"
VERSION = 1

J = {name: i for i, name in enumerate(imigue.JOINTS)}
SIDES = {"left": -1.0, "right": 1.0}  # "left" joints sit at negative x in the body frame
REST_DEPTH = 1.3  # forearms resting on the table reach this far towards the camera (body units)


@dataclass(frozen=True)
class GestureSpec:
    """One class: where the acting hand(s) go, what they do there, and how the hand is shaped.

    ``hands``: "one" (the dominant hand), "both" or "none" (shoulders move instead). ``contact``: the contact
    point in body units for a right-handed actor (x is mirrored for the left hand; for "both" it is the right
    hand's and the left hand mirrors it). ``wrist_offset``: wrist position relative to the contact (the fingers
    reach the contact). ``motion``: "hold", "stroke" (vertical), "scratch" (fast horizontal), "circle", "rub"
    (anti-phase hands), "tug" (one pull down) or "shrug". ``amplitude`` in body units, ``cycles`` during the action.
    ``spread``/``finger_length``: open hand vs. pinch or fist. ``depth``: how far in front of the body the wrist is
    at the contact (z, towards the camera; only its foreshortening of the arm is seen).
    """

    hands: str
    contact: tuple[float, float]
    wrist_offset: tuple[float, float] = (0.3, 0.5)
    motion: str = "hold"
    amplitude: float = 0.0
    cycles: float = 0.0
    spread: float = 0.6
    finger_length: float = 0.3
    hidden_fingers: bool = False
    depth: float = 0.6


GESTURES: dict[str, GestureSpec] = {
    "touching_nose": GestureSpec("one", (0.05, -0.82), (0.25, 0.55), "hold", 0.01, 1, spread=0.25),
    "touching_chin": GestureSpec("one", (0.0, -0.55), (0.2, 0.5), "stroke", 0.06, 1, spread=0.4),
    "rubbing_eyes": GestureSpec("one", (0.17, -1.05), (0.3, 0.55), "circle", 0.05, 3, spread=0.3),
    "scratching_head": GestureSpec("one", (0.45, -1.45), (0.25, 0.35), "scratch", 0.06, 6, spread=0.7),
    "touching_ear": GestureSpec("one", (0.4, -0.95), (0.3, 0.5), "hold", 0.01, 1, spread=0.5),
    "scratching_neck": GestureSpec("one", (0.25, -0.2), (0.3, 0.45), "stroke", 0.06, 5, spread=0.6),
    "playing_with_hair": GestureSpec("one", (0.5, -1.2), (0.3, 0.4), "circle", 0.08, 1.5, spread=0.35),
    "folding_arms": GestureSpec("both", (-0.6, 1.0), (0.0, 0.05), "hold", 0.01, 1, spread=0.2,
                                finger_length=0.2, hidden_fingers=True, depth=0.5),
    "rubbing_hands": GestureSpec("both", (0.12, 1.5), (0.15, 0.2), "rub", 0.08, 4, spread=0.3, depth=1.0),
    "clasping_fingers": GestureSpec("both", (0.15, 1.7), (0.2, 0.15), "hold", 0.01, 1, spread=0.2,
                                    finger_length=0.25, depth=1.1),
    "adjusting_collar": GestureSpec("both", (0.35, 0.05), (0.15, 0.5), "tug", 0.1, 1, spread=0.5, depth=0.4),
    "shrugging_shoulders": GestureSpec("none", (0.0, 0.0), motion="shrug", amplitude=0.22, cycles=2),
}
CLASS_NAMES = tuple(GESTURES)


@dataclass(frozen=True)
class SubjectStyle:
    """A person's body, posture and way of moving, and where the camera sees them."""

    subject: int
    upper_arm: float
    forearm: float
    neck: float
    head: float
    shoulder_half_width: float
    lean: float
    shoulder_tilt: float
    rest_wrist: tuple[float, float]
    tempo: float
    amplitude: float
    dominant: str
    sway_amplitude: float
    sway_period: float
    px_per_unit: float
    origin_px: tuple[float, float]


@dataclass(frozen=True)
class SynthParams:
    subjects: int = 24
    seed: int = 0
    frames: int = 64
    repeats: int = 3
    test_fraction: float = 0.3
    noise: float = 0.025
    dropout: float = 0.01
    classes: tuple[str, ...] = field(default=CLASS_NAMES)


def draw_subject(rng: np.random.Generator, subject: int) -> SubjectStyle:
    """A subject's body proportions, posture, tempo, handedness and camera placement."""
    vary = lambda: float(rng.uniform(0.9, 1.1))  # noqa: E731
    return SubjectStyle(
        subject=subject,
        upper_arm=1.45 * vary(),
        forearm=1.25 * vary(),
        neck=vary(),
        head=vary(),
        shoulder_half_width=vary(),
        lean=float(rng.normal(0.0, 0.04)),
        shoulder_tilt=float(rng.normal(0.0, 0.04)),
        rest_wrist=(float(rng.uniform(0.45, 0.8)), float(rng.uniform(1.8, 2.15))),
        tempo=float(rng.uniform(0.75, 1.3)),
        amplitude=float(rng.uniform(0.7, 1.3)),
        dominant="right" if rng.random() < 0.8 else "left",
        sway_amplitude=float(rng.uniform(0.01, 0.035)),
        sway_period=float(rng.uniform(50, 150)),
        px_per_unit=float(rng.uniform(150, 200)),
        origin_px=(float(960 + rng.normal(0, 80)), float(480 + rng.normal(0, 40))),
    )


def rest_pose(style: SubjectStyle) -> np.ndarray:
    """(22, 2) body-frame positions of the seated rest pose (fingers filled in later)."""
    pose = np.zeros((len(imigue.JOINTS), 2))
    h, w = style.head, style.shoulder_half_width
    pose[J["nose"]] = (0.0, -0.9 * style.neck)
    for side, sx in SIDES.items():
        pose[J[f"{side}_shoulder"]] = (sx * w, 0.1 + sx * style.shoulder_tilt)
        pose[J[f"{side}_eye"]] = (sx * 0.17 * h, pose[J["nose"], 1] - 0.15 * h)
        pose[J[f"{side}_ear"]] = (sx * 0.4 * h, pose[J["nose"], 1] - 0.05 * h)
    return pose


def envelope(u: np.ndarray, reach: float) -> np.ndarray:
    """0 -> reach -> 0 over gesture time u in [0, 1]: smooth approach (30%), hold, smooth return (last 25%)."""
    up = _smoothstep(np.clip(u / 0.3, 0, 1))
    down = _smoothstep(np.clip((1 - u) / 0.25, 0, 1))
    return reach * np.minimum(up, down) * ((u >= 0) & (u <= 1))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    return x * x * (3 - 2 * x)


def action_motion(spec: GestureSpec, u: np.ndarray, amplitude: float, phase: float) -> np.ndarray:
    """(T, 2) displacement of the acting hand during the action phase (u in 0.3..0.75), by motion kind."""
    active = np.clip((u - 0.3) / 0.45, 0, 1) * ((u >= 0.3) & (u <= 0.75))
    angle = 2 * np.pi * spec.cycles * active + phase
    on = (active > 0).astype(float)
    if spec.motion in ("stroke", "tug"):
        wave = np.sin(angle) if spec.motion == "stroke" else np.sin(np.pi * active)
        return amplitude * on[:, None] * np.stack([0 * wave, wave], 1)
    if spec.motion in ("scratch", "rub"):
        return amplitude * on[:, None] * np.stack([np.sin(angle), 0.3 * np.cos(angle)], 1)
    if spec.motion == "circle":
        return amplitude * on[:, None] * np.stack([np.cos(angle) - np.cos(phase), np.sin(angle) - np.sin(phase)], 1)
    return amplitude * on[:, None] * np.stack([np.sin(3.1 * angle), np.cos(2.3 * angle)], 1)  # hold: tremor


def two_bone_elbow(shoulder: np.ndarray, wrist: np.ndarray, upper: float, fore: float, sx: float) -> np.ndarray:
    """(T, 3) elbow positions in 3-D (z towards the camera) keeping both bone lengths, bent outwards and down.

    Law of cosines gives the angle between the shoulder->wrist line and the upper arm; the elbow lies on the
    circle of solutions on the side of the pole direction (outwards ``sx``, down, slightly back). Dropping z is
    the orthographic view of the camera, so a forearm pointing at the camera looks short, as in video.
    """
    reach = wrist - shoulder
    dist = np.clip(np.linalg.norm(reach, axis=-1), abs(upper - fore) + 1e-3, upper + fore - 1e-3)
    direction = _unit(reach)
    angle = np.arccos(np.clip((upper**2 + dist**2 - fore**2) / (2 * upper * dist), -1, 1))
    pole = np.array([0.6 * sx, 1.0, -0.3])
    normal = _unit(pole - (direction @ pole)[:, None] * direction)
    return shoulder + upper * (np.cos(angle)[:, None] * direction + np.sin(angle)[:, None] * normal)


def finger_fan(wrist: np.ndarray, towards: np.ndarray, spread: float, length: float) -> np.ndarray:
    """(T, 5, 2) finger points fanning out from the wrist towards a point."""
    direction = towards - wrist
    direction = direction / np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-9)
    angles = np.linspace(-0.5, 0.5, 5) * spread
    lengths = length * np.array([0.7, 1.0, 1.05, 1.0, 0.85])
    cos, sin = np.cos(angles)[None, :], np.sin(angles)[None, :]
    dx, dy = direction[:, :1], direction[:, 1:]
    fan = np.stack([cos * dx - sin * dy, sin * dx + cos * dy], -1)
    return wrist[:, None, :] + lengths[None, :, None] * fan


def render_sample(rng: np.random.Generator, style: SubjectStyle, name: str, frames: int, params: SynthParams):
    """One clip: (3, T, 22, 1) float32 OpenPose-like array and its ground truth."""
    spec = GESTURES[name]
    t = np.arange(frames, dtype=float)
    duration = float(np.clip(rng.normal(0.65, 0.12) * frames / style.tempo, 0.3 * frames, 1.2 * frames))
    onset = float(rng.uniform(-0.1 * duration, max(frames - 0.8 * duration, 1.0)))
    u = (t - onset) / duration
    reach = 1.0 if rng.random() > 0.15 else float(rng.uniform(0.6, 0.9))
    env = envelope(u, reach)
    amplitude = spec.amplitude * style.amplitude * float(rng.uniform(0.6, 1.4))
    phase = float(rng.uniform(0, 2 * np.pi))
    acting = style.dominant

    base = np.repeat(rest_pose(style)[None], frames, 0)  # (T, 22, 2)
    wrists, pointing = hand_paths(rng, style, spec, u, env, amplitude, phase)

    if spec.motion == "shrug":
        lift = amplitude * env * np.abs(np.sin(np.pi * spec.cycles * np.clip(u, 0, 1)))
        base[:, [J["left_shoulder"], J["right_shoulder"]], 1] -= lift[:, None]
        head = [J["nose"], J["left_eye"], J["right_eye"], J["left_ear"], J["right_ear"]]
        base[:, head, 1] += 0.35 * lift[:, None]

    pose = _place_arms(base, wrists, pointing, style, spec)
    pose = _idle_motion(pose, style, t, rng)
    array, confidence = _camera(pose, style, rng, params, spec, env)
    truth = {"class": name, "acting_hand": acting if spec.hands == "one" else spec.hands,
             "onset_frame": int(round(onset)), "offset_frame": int(round(onset + duration)), "reach": reach}
    return np.concatenate([array, confidence[..., None]], -1).transpose(2, 0, 1)[..., None].astype(np.float32), truth


def hand_paths(rng, style: SubjectStyle, spec: GestureSpec, u: np.ndarray, env: np.ndarray, amplitude: float,
               phase: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per side: the (T, 3) wrist path (z towards the camera) and the (T, 2) point its fingers aim at.

    An acting hand goes from its rest place to ``contact + wrist_offset`` (at the gesture's depth) following the
    envelope, plus the action motion; a resting hand stays, with an occasional twitch.
    """
    wrists, pointing = {}, {}
    down = np.array([0.0, 1.0])
    for side, sx in SIDES.items():
        rest = np.array([sx * style.rest_wrist[0], style.rest_wrist[1], REST_DEPTH])
        if not (spec.hands == "both" or (spec.hands == "one" and side == style.dominant)):
            wrists[side] = rest + np.pad(_twitch(rng, np.arange(len(u), dtype=float)), ((0, 0), (0, 1)))
            pointing[side] = wrists[side][:, :2] + down
            continue
        mirror = np.array([sx, 1.0])  # contacts are given for the right hand; the left hand mirrors them
        contact = mirror * np.array(spec.contact) + rng.normal(0, 0.06, 2)
        goal = np.append(contact + mirror * np.array(spec.wrist_offset), spec.depth)
        # mirrored motion (both hands tug down together); rubbing: the left hand also moves opposite in y, so the
        # two hands slide past each other in both directions
        opposite = np.array([1.0, -1.0]) if (spec.motion == "rub" and side == "left") else np.ones(2)
        motion = mirror * opposite * action_motion(spec, u, amplitude, phase)
        wrists[side] = rest + env[:, None] * (goal - rest) + np.pad(motion, ((0, 0), (0, 1)))
        pointing[side] = np.where(env[:, None] > 0.2, contact + motion, wrists[side][:, :2] + down)
    return wrists, pointing


def _twitch(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """An occasional small, unrelated movement of a resting hand."""
    if rng.random() > 0.25:
        return np.zeros((len(t), 2))
    centre, width = rng.uniform(0, len(t)), rng.uniform(4, 12)
    bump = np.exp(-0.5 * ((t - centre) / width) ** 2)
    return bump[:, None] * rng.normal(0, 0.12, 2)[None]


def _place_arms(base, wrists, pointing, style: SubjectStyle, spec: GestureSpec) -> np.ndarray:
    """Elbows by 3-D inverse kinematics, wrists at forearm length from them, fingers towards what they point at."""
    pose = base.copy()
    for side, sx in SIDES.items():
        shoulder = np.concatenate([pose[:, J[f"{side}_shoulder"]], np.zeros((len(pose), 1))], 1)
        elbow = two_bone_elbow(shoulder, wrists[side], style.upper_arm, style.forearm, sx)
        wrist = elbow + style.forearm * _unit(wrists[side] - elbow)  # out of reach: the arm stretches towards it
        pose[:, J[f"{side}_elbow"]] = elbow[:, :2]
        pose[:, J[f"{side}_wrist"]] = wrist[:, :2]
        fingers = imigue.LEFT_FINGERS if side == "left" else imigue.RIGHT_FINGERS
        pose[:, list(fingers)] = finger_fan(wrist[:, :2], pointing[side], spec.spread, spec.finger_length)
    return pose


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _idle_motion(pose: np.ndarray, style: SubjectStyle, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sway about the hips, head nods about the neck, breathing, and the subject's lean."""
    sway = style.lean + style.sway_amplitude * np.sin(2 * np.pi * t / style.sway_period + rng.uniform(0, 2 * np.pi))
    hips = np.array([0.0, 3.0])
    out = _rotate(pose - hips, sway) + hips
    nod = 0.03 * np.sin(2 * np.pi * t / rng.uniform(30, 80) + rng.uniform(0, 2 * np.pi))
    head = [J["nose"], J["left_eye"], J["right_eye"], J["left_ear"], J["right_ear"]]
    neck = out[:, J["neck"]][:, None]
    out[:, head] = _rotate(out[:, head] - neck, nod) + neck
    breathing = 0.01 * np.sin(2 * np.pi * t / rng.uniform(40, 70))
    out[:, [J["left_shoulder"], J["right_shoulder"]], 1] -= breathing[:, None]
    return out


def _rotate(points: np.ndarray, angle: np.ndarray) -> np.ndarray:
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = points[..., 0], points[..., 1]
    return np.stack([cos * x - sin * y, sin * x + cos * y], -1)


def _camera(pose, style: SubjectStyle, rng, params: SynthParams, spec: GestureSpec, env):
    """Pixels with noise and OpenPose-like confidences; dropped joints become (0, 0) with confidence 0."""
    frames, n_joints = pose.shape[:2]
    fingers = list(imigue.LEFT_FINGERS + imigue.RIGHT_FINGERS)
    sigma = np.full(n_joints, params.noise)
    sigma[fingers] *= 2.5
    noisy = pose + rng.normal(0, 1, pose.shape) * sigma[None, :, None]
    scale = style.px_per_unit * rng.uniform(0.97, 1.03)
    origin = np.array(style.origin_px) + rng.normal(0, 10, 2)
    pixels = noisy * scale + origin
    confidence = rng.uniform(0.7, 0.95, (frames, n_joints))
    confidence[:, fingers] = rng.uniform(0.3, 0.8, (frames, len(fingers)))
    if spec.hidden_fingers:
        confidence[:, fingers] *= 1 - 0.7 * env[:, None]
    dropped = rng.random((frames, n_joints)) < np.where(np.isin(np.arange(n_joints), fingers), 3, 0.5) * params.dropout
    pixels[dropped] = 0.0
    confidence[dropped] = 0.0
    return pixels, confidence


def generate(out: str | Path, params: SynthParams) -> dict:
    """Write the stand-in to ``out`` and return a summary (counts per split)."""
    out = Path(out)
    _check(params)
    rng = np.random.default_rng(params.seed)
    styles = [draw_subject(rng, s) for s in range(1, params.subjects + 1)]
    n_test = max(1, int(round(params.test_fraction * params.subjects)))
    test_subjects = set(rng.choice([s.subject for s in styles], n_test, replace=False).tolist())
    splits = {"train": ([], [], []), "test": ([], [], [])}
    truth = {}
    for style in styles:
        split = "test" if style.subject in test_subjects else "train"
        order = [c for c in params.classes for _ in range(params.repeats)]
        for k, name in enumerate(rng.permutation(order)):
            array, info = render_sample(rng, style, str(name), params.frames, params)
            sample = imigue.sample_name(style.subject, k)
            names, labels, arrays = splits[split]
            names.append(sample)
            labels.append(params.classes.index(str(name)))
            arrays.append(array)
            truth[sample] = {"subject": style.subject, "split": split, **info}
    release = {k: (names, labels, np.stack(arrays)) for k, (names, labels, arrays) in splits.items()}
    imigue.write(out, release, label_format="pkl")
    for split in release:
        convert_labels(out / f"{split}_label.pkl", out / f"{split}_label.json")
    write_json(out / "ground_truth.json", {"samples": truth, "subjects": [asdict(s) for s in styles]})
    summary = {split: len(names) for split, (names, _, _) in release.items()}
    write_json(out / STANDIN_MARKER, {
        "generator": GENERATOR, "version": VERSION, "seed": params.seed, "format": imigue.FORMAT,
        "parameters": asdict(params), "classes": list(params.classes), "test_subjects": sorted(test_subjects),
        "samples": summary,
        "labels": "train_label.pkl/test_label.pkl as released; the .json files are their `affect data convert` output",
    })
    return summary


def generate_microgesture(out: Path, subjects: int | None = None, seed: int = 0, frames: int = 64, repeats: int = 3,
                          test_fraction: float = 0.3, noise: float = 0.025, dropout: float = 0.01,
                          classes: list[str] | None = None) -> dict:
    """`affect synth microgesture` (rawdata/datasets.py): options as :class:`SynthParams`."""
    params = SynthParams(
        subjects=SynthParams.subjects if subjects is None else int(subjects), seed=int(seed), frames=int(frames),
        repeats=int(repeats), test_fraction=float(test_fraction), noise=float(noise), dropout=float(dropout),
        classes=tuple(classes) if classes else CLASS_NAMES,
    )
    return {"out": str(out), **generate(out, params)}


def _check(params: SynthParams) -> None:
    unknown = sorted(set(params.classes) - set(GESTURES))
    if unknown:
        raise AffectError(f"unknown micro-gesture classes {unknown}; known: {', '.join(GESTURES)}")
    if params.subjects < 2:
        raise AffectError(f"--subjects must be at least 2 (train and test subjects differ), got {params.subjects}")
    if params.frames < 16:
        raise AffectError(f"--frames must be at least 16, got {params.frames}")
    if not 0 < params.test_fraction < 1:
        raise AffectError(f"test_fraction must be between 0 and 1, got {params.test_fraction}")
