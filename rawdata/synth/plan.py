"""Planning a stand-in: every random choice of a dataset, drawn from one seeded generator before rendering.

A plan fixes, per recording (one frame folder), the layout's names and frame numbers, the expressions with
their labels, AUs and amplitudes, their true motion timing and the annotated (coded) timing, and every nuisance
(head placement and drift, illumination, blinks, noise, JPEG quality). Rendering then depends only on the plan,
so it can run in any order and in parallel and still give the same files for the same seed.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from core.errors import AffectError
from rawdata.layouts.common import Expression, Recording
from rawdata.synth.aus import ActionUnit, parse_code, sample_au_codes
from rawdata.synth.face import FaceGeometry


@dataclass(frozen=True)
class Difficulty:
    """The knobs that make a stand-in easy or hard (all written to SYNTHETIC.json).

    Amplitudes are in px on a 180 px face at the apex; `amplitude_scale` multiplies them all. Noise is the
    standard deviation of Gaussian sensor noise in grey levels per frame. Head drift is the largest translation
    (px) and roll (degrees) reached over a recording; placement jitter moves each recording's face as a whole.
    Illumination drift is the largest relative gain change and left-right gradient over a recording.
    `blink_rate` is the expected number of blinks in a clip of up to one second (and per second beyond).
    Expressiveness: per-subject amplitude multiplier exp(N(0, sd)).

    Two knobs model the coding rather than the video. `label_noise`: the probability that an expression's
    AUs are drawn from the prior of another label of the dataset (real labels come from AUs, self-reports
    and the eliciting video, so AUs and label disagree at times). `annotation_jitter_ms`: the sheet's onset,
    apex and offset differ from the true motion by up to this much (uniform, in whole frames; the true timing
    is in ground_truth.json under `motion`).

    Calibration (benchmarks/calibrate.py -> benchmarks/results/calibration.json). ONE knob, ``amplitude_scale``,
    was searched, against ONE reported anchor: LBP-TOP + linear SVM (the suite's ``lbptop_svm``) on the MEGC2019
    composite (the CASME II, SAMM and SMIC-HS stand-ins at their real datasets' sizes, 3 classes, LOSO over 73
    (dataset, subject) keys, 444 clips), reported UF1 0.5882 / UAR 0.5785 (HTNet's comparison table,
    reports/reported.csv). Every other knob keeps the value it had before calibration (fixed a priori; label
    noise 0.15 and annotation jitter 10 ms make the task imperfect even for a method that reads every AU). The
    target was the MEAN over generator seeds, because one draw is not the generator: the same knobs give UF1
    0.55-0.65 depending on the seed (which subjects, expressiveness and label noise are drawn). Composite LBP-TOP
    UF1 at the real size (the knob searched on the seed mean only):

        amplitude_scale       1.0   0.85  0.7   0.5   0.45        0.35        0.28        0.25  0.0
        generator seed 0      .663  .655  .646  .602  .589        .577        .554        .533  .311
        mean over seeds       -     -     -     -     .625 (0-2)  .620 (0-4)  .587 (0-4)  -     -

    At the chosen ``amplitude_scale = 0.28`` (seeds 0-4): UF1 .554 / .647 / .548 / .615 / .569, mean 0.587 +- 0.042
    (anchor 0.5882); UAR mean 0.619 +- 0.041 (anchor 0.5785). The per-dataset parts are measured, not targets
    (seed mean: CASME II 0.594, SAMM 0.580, SMIC 0.549; reported 0.7026, 0.3954, 0.2000): the stand-ins do not
    reproduce the real datasets' differences in difficulty. With ``amplitude_scale`` 0 (no AU motion) the same
    baseline falls to 0.311 (chance 0.33), so nothing but the AU motion carries the label. Smaller draws of the
    same generator (``--subjects`` at 3/4 and 1/2 of the real counts) are in calibration.json and the report's
    data section. Consequence to keep in mind: calibrated AU motion is 0.14-0.7 px on a 180 px face (about
    0.1-0.5 px on the 128 px crop), below the landmark stage's ~0.8 px error.
    The search ran with the baseline's z-scoring on (its default then). Inner validation later chose it off
    (lightning_modules/lbptop_svm), and the 5-seed point was re-measured as the experiment now runs (z-scoring
    off, amplitude 0.28): UF1 .573 / .669 / .596 / .646 / .601, mean 0.617 +- 0.040 (anchor 0.5882, inside one
    standard deviation); UAR 0.602 +- 0.038 (anchor 0.5785); parts CASME II 0.671, SAMM 0.608, SMIC 0.555. The
    knob was not re-searched: the anchor still lies within the generator's seed spread.
    """

    amplitude_scale: float = 0.28
    amplitude_px: tuple[float, float] = (0.5, 2.5)
    noise_sigma: float = 2.0
    head_drift_px: float = 1.5
    head_roll_deg: float = 0.5
    placement_jitter_px: float = 3.0
    placement_roll_deg: float = 2.0
    illumination_drift: float = 0.04
    blink_rate: float = 0.25
    jpeg_quality: tuple[int, int] = (82, 95)
    expressiveness_sd: float = 0.25
    label_noise: float = 0.15
    annotation_jitter_ms: float = 10.0

    def check(self) -> None:
        low, high = self.amplitude_px
        if not 0 <= low <= high or self.amplitude_scale < 0 or self.noise_sigma < 0:
            raise AffectError(f"invalid difficulty: amplitudes {self.amplitude_px} x {self.amplitude_scale}, "
                              f"noise {self.noise_sigma} (expected 0 <= low <= high, non-negative scale and noise)")
        if not 0 <= self.label_noise <= 1 or self.annotation_jitter_ms < 0:
            raise AffectError(f"invalid label_noise {self.label_noise} (expected 0..1) or annotation_jitter_ms "
                              f"{self.annotation_jitter_ms} (expected >= 0)")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise AffectError(f"invalid jpeg_quality {self.jpeg_quality} (expected 1 <= low <= high <= 100)")


@dataclass(frozen=True)
class DatasetSpec:
    """What makes each stand-in look like its real dataset.

    `class_counts` are the real dataset's label counts (as the dataset spells the labels; only the proportions
    are used); `priors` maps each label to an emotion prior of `aus.py`; `clips` and `subjects` are the default
    size; `expression_ms` the onset-to-offset duration range; `pad_frames` the neutral frames before onset and
    after offset; `first_frame` the range of the first absolute frame number; `expressions_per_recording` and
    `gap_frames` describe long recordings holding several expressions (CAS(ME)^3).

    The sensor: `grayscale` (one channel, written as grey images), `contrast` (deviations from mid-grey 128 are
    multiplied by it), `brightness` (grey levels added) and `noise_scale` (multiplies ``Difficulty.noise_sigma``);
    `geometry.face_width` sets the face size in the frame, and AU amplitudes (px on a 180 px face) scale with it,
    so a smaller face moves by fewer pixels. The defaults leave a spec's frames exactly as before these knobs.
    """

    name: str
    layout: str
    fps: int
    class_counts: dict[str, int]
    priors: dict[str, str]
    subject_numbers: tuple[int, ...]
    subjects: int = 14
    clips: int = 90
    expression_ms: tuple[int, int] = (90, 150)
    pad_frames: tuple[int, int] = (2, 6)
    first_frame: tuple[int, int] = (1, 300)
    grayscale: bool = False
    expressions_per_recording: tuple[int, int] = (1, 1)
    gap_frames: tuple[int, int] = (0, 0)
    geometry: FaceGeometry = field(default_factory=FaceGeometry)
    contrast: float = 1.0
    brightness: float = 0.0
    noise_scale: float = 1.0

    @property
    def face_scale(self) -> float:
        """Face width relative to the default 180 px face (AU amplitudes are given on that face)."""
        return self.geometry.face_width / FaceGeometry().face_width

    @property
    def long_recordings(self) -> bool:
        """Recordings hold several expressions; a sample's frames are then its onset..offset only."""
        return self.expressions_per_recording[1] > 1


def make_difficulty(overrides: dict) -> Difficulty:
    """The default :class:`Difficulty` with `overrides` (e.g. from `--set noise_sigma=3`); an unknown knob or a
    value of the wrong type or range is a user error."""
    known = {f.name for f in fields(Difficulty)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise AffectError(f"unknown stand-in option(s) {unknown}; known: {sorted(known)}")
    defaults = Difficulty()
    knobs = replace(defaults, **{k: _coerce(k, v, getattr(defaults, k)) for k, v in overrides.items()})
    knobs.check()
    return knobs


def _coerce(name: str, value, default):
    """`value` in the type of `default`: a float, or a pair like the default pair."""
    try:
        if isinstance(default, tuple):
            if len(value) != len(default):
                raise ValueError(value)
            return tuple(type(d)(v) for d, v in zip(default, value, strict=True))
        return float(value)
    except (TypeError, ValueError) as err:
        raise AffectError(f"stand-in option {name}: expected a value like {default!r}, got {value!r}") from err


@dataclass(frozen=True)
class HeadMotion:
    """Pose of the face in a recording: a fixed placement plus a linear drift and a slow wobble."""

    offset_px: tuple[float, float]
    roll_deg: float
    scale: float
    drift_px: tuple[float, float]
    drift_roll_deg: float
    wobble_px: float
    wobble_hz: float
    wobble_phase: float


@dataclass(frozen=True)
class Illumination:
    """Gain (multiplicative) and left-right gradient at the first and last frame, plus a constant offset."""

    gain: tuple[float, float]
    gradient: tuple[float, float]
    offset: float


@dataclass(frozen=True)
class Blink:
    """A blink (AU45): absolute start/peak/end frame numbers and the upper-lid travel as a fraction of the
    eye opening."""

    start: int
    peak: int
    end: int
    closure: float


@dataclass(frozen=True)
class Motion:
    """True timing of an expression's motion (absolute frames); the sheet's may differ by the annotation jitter.
    `prior` is the emotion prior its AUs were drawn from (another label's under label noise)."""

    onset: int
    apex: int
    offset: int
    prior: str


@dataclass(frozen=True)
class RecordingPlan:
    """Everything needed to render one frame folder, fixed before rendering (so rendering order is free)."""

    dataset: str
    recording: Recording
    units: tuple[tuple[ActionUnit, ...], ...]  # one tuple per expression of the recording
    motions: tuple[Motion, ...]  # true timing per expression
    identity_seed: int
    head: HeadMotion
    light: Illumination
    blinks: tuple[Blink, ...]
    noise_sigma: float
    noise_seed: int
    jpeg_quality: int
    grayscale: bool
    contrast: float = 1.0
    brightness: float = 0.0


def dataset_code(name: str) -> int:
    """A stable number per dataset name, mixed into every seed so datasets differ at the same seed."""
    return zlib.crc32(name.encode())


def subject_numbers(spec: DatasetSpec, n: int) -> list[int]:
    """The first `n` subject numbers of the real dataset's numbering, continued past its last one."""
    known = list(spec.subject_numbers[:n])
    return known + list(range(max(spec.subject_numbers) + 1, max(spec.subject_numbers) + 1 + n - len(known)))


def apportion(counts: dict[str, int], total: int) -> dict[str, int]:
    """Split `total` in the proportions of `counts` (largest remainder), every class at least once when
    `total` allows it."""
    labels = list(counts)
    weights = np.array([counts[k] for k in labels], dtype=float)
    exact = weights / weights.sum() * total
    result = np.floor(exact).astype(int)
    if total >= len(labels):
        result = np.maximum(result, 1)
    for i in np.argsort(-(exact - np.floor(exact))):
        if result.sum() >= total:
            break
        result[i] += 1
    while result.sum() > total:
        result[int(np.argmax(result))] -= 1
    return dict(zip(labels, result.tolist(), strict=True))


def deal_to_subjects(n_clips: int, n_subjects: int, rng: np.random.Generator) -> np.ndarray:
    """Clips per subject: one each, the rest by a Dirichlet(2) share, as real datasets have uneven subjects."""
    if n_clips < n_subjects:
        raise AffectError(f"{n_clips} clips cannot cover {n_subjects} subjects (each subject needs at least one)")
    share = rng.dirichlet(np.full(n_subjects, 2.0))
    return 1 + rng.multinomial(n_clips - n_subjects, share)


def expression_frames(spec: DatasetSpec, rng: np.random.Generator) -> tuple[int, int]:
    """(length in frames, apex position) of one expression: onset..offset lasts `expression_ms`."""
    duration_ms = rng.uniform(*spec.expression_ms)
    length = max(5, int(round(duration_ms * spec.fps / 1000)) + 1)
    apex = int(round(rng.uniform(0.3, 0.55) * (length - 1)))
    return length, min(max(apex, 1), length - 2)


def sample_units(codes: list[str], subject_gain: float, difficulty: Difficulty,
                 rng: np.random.Generator) -> tuple[ActionUnit, ...]:
    """Amplitudes of one expression's AUs: a common intensity in `amplitude_px`, +-20% per AU, times the
    subject's expressiveness and `amplitude_scale`."""
    base = rng.uniform(*difficulty.amplitude_px) * subject_gain * difficulty.amplitude_scale
    units = []
    for code in codes:
        au, side = parse_code(code)
        units.append(ActionUnit(au, side, float(round(base * rng.uniform(0.8, 1.2), 3))))
    return tuple(units)


def sample_head(difficulty: Difficulty, rng: np.random.Generator) -> HeadMotion:
    angle = rng.uniform(0, 2 * np.pi)
    drift = rng.uniform(0, difficulty.head_drift_px)
    return HeadMotion(
        offset_px=tuple(rng.uniform(-1, 1, 2) * difficulty.placement_jitter_px),
        roll_deg=float(rng.uniform(-1, 1) * difficulty.placement_roll_deg),
        scale=float(rng.uniform(0.97, 1.03)),
        drift_px=(float(drift * np.cos(angle)), float(drift * np.sin(angle))),
        drift_roll_deg=float(rng.uniform(-1, 1) * difficulty.head_roll_deg),
        wobble_px=float(0.2 * difficulty.head_drift_px * rng.random()),
        wobble_hz=float(rng.uniform(0.5, 3.0)),
        wobble_phase=float(rng.uniform(0, 2 * np.pi)),
    )


def sample_light(difficulty: Difficulty, rng: np.random.Generator) -> Illumination:
    d = difficulty.illumination_drift
    return Illumination(gain=(1.0, float(1 + rng.uniform(-d, d))),
                        gradient=(float(rng.uniform(-d, d)), float(rng.uniform(-d, d))),
                        offset=float(rng.uniform(-6, 6)))


def sample_blinks(numbers: Sequence[int], fps: int, difficulty: Difficulty,
                  rng: np.random.Generator) -> tuple[Blink, ...]:
    """Blinks of 100-180 ms (closing 40% of the time) anywhere in the recording, Poisson in number."""
    seconds = len(numbers) / fps
    count = rng.poisson(difficulty.blink_rate * max(1.0, seconds))
    blinks = []
    for _ in range(count):
        length = max(3, int(round(rng.uniform(0.10, 0.18) * fps)))
        start = int(numbers[0] + rng.integers(-length // 2, len(numbers)))
        blinks.append(Blink(start, start + max(1, int(0.4 * length)), start + length, float(rng.uniform(0.7, 0.95))))
    return tuple(blinks)


def plan_dataset(spec: DatasetSpec, subjects: int, clips: int, seed: int, difficulty: Difficulty,
                 rng: np.random.Generator | None = None) -> list[RecordingPlan]:
    """Plan every recording of a stand-in (pure given the seed)."""
    rng = rng or np.random.default_rng([seed, dataset_code(spec.name)])
    counts = apportion(spec.class_counts, clips)
    labels = np.array([label for label, n in counts.items() for _ in range(n)], dtype=object)
    rng.shuffle(labels)
    per_subject = deal_to_subjects(clips, subjects, rng)
    layout = importlib.import_module(spec.layout)
    plans, start = [], 0
    for number, n in zip(subject_numbers(spec, subjects), per_subject, strict=True):
        subject_labels = list(labels[start:start + n])
        start += n
        plans += plan_subject(spec, layout, number, subject_labels, seed, difficulty, rng)
    return plans


def plan_subject(spec: DatasetSpec, layout, number: int, labels: list[str], seed: int, difficulty: Difficulty,
                 rng: np.random.Generator) -> list[RecordingPlan]:
    """Group a subject's expressions into recordings and plan each one."""
    gain = float(np.exp(rng.normal(0, difficulty.expressiveness_sd))) * spec.face_scale
    groups, taken = [], 0
    while taken < len(labels):
        size = int(rng.integers(spec.expressions_per_recording[0], spec.expressions_per_recording[1] + 1))
        groups.append(labels[taken:taken + size])
        taken += size
    names = layout.recording_names(number, [g[0] for g in groups], rng)
    identity_seed = int(np.random.SeedSequence([seed, dataset_code(spec.name), number]).generate_state(1)[0])
    return [plan_recording(spec, number, name, group, gain, identity_seed, difficulty, rng)
            for name, group in zip(names, groups, strict=True)]


def choose_prior(spec: DatasetSpec, label: str, difficulty: Difficulty, rng: np.random.Generator) -> str:
    """The label's own prior, or with probability `label_noise` the prior of another label (uniformly)."""
    own = spec.priors[label]
    others = sorted({p for p in spec.priors.values() if p != own})
    if others and rng.random() < difficulty.label_noise:
        return others[int(rng.integers(len(others)))]
    return own


def annotate(motion: Motion, first: int, last: int, jitter: int, rng: np.random.Generator) -> tuple[int, int, int]:
    """The coder's onset/apex/offset: the true ones moved by up to +-`jitter` frames, kept in order and inside
    the recording first..last."""
    onset, apex, offset = (m + int(rng.integers(-jitter, jitter + 1)) for m in (motion.onset, motion.apex,
                                                                                 motion.offset))
    onset = min(max(onset, first), motion.apex - 1)
    apex = min(max(apex, onset + 1), last - 1)
    return onset, apex, min(max(offset, apex + 1), last)


def plan_recording(spec: DatasetSpec, subject: int, name: str, labels: list[str], gain: float, identity_seed: int,
                   difficulty: Difficulty, rng: np.random.Generator) -> RecordingPlan:
    first = int(rng.integers(spec.first_frame[0], spec.first_frame[1] + 1))
    cursor = first + int(rng.integers(spec.pad_frames[0], spec.pad_frames[1] + 1))
    motions, codes, units = [], [], []
    for i, label in enumerate(labels):
        if i:
            cursor += int(rng.integers(spec.gap_frames[0], spec.gap_frames[1] + 1))
        length, apex = expression_frames(spec, rng)
        prior = choose_prior(spec, label, difficulty, rng)
        motions.append(Motion(cursor, cursor + apex, cursor + length - 1, prior))
        codes.append(sample_au_codes(prior, rng))
        units.append(sample_units(codes[-1], gain, difficulty, rng))
        cursor += length
    last = cursor - 1 + int(rng.integers(spec.pad_frames[0], spec.pad_frames[1] + 1))
    jitter = int(round(difficulty.annotation_jitter_ms * spec.fps / 1000))
    expressions = tuple(Expression(label, tuple(c), *annotate(m, first, last, jitter, rng))
                        for label, c, m in zip(labels, codes, motions, strict=True))
    numbers = tuple(range(first, last + 1))
    return RecordingPlan(
        dataset=spec.name,
        recording=Recording(subject, name, numbers, expressions),
        units=tuple(units),
        motions=tuple(motions),
        identity_seed=identity_seed,
        head=sample_head(difficulty, rng),
        light=sample_light(difficulty, rng),
        blinks=sample_blinks(numbers, spec.fps, difficulty, rng),
        noise_sigma=difficulty.noise_sigma * spec.noise_scale,
        noise_seed=int(rng.integers(2**31)),
        jpeg_quality=int(rng.integers(difficulty.jpeg_quality[0], difficulty.jpeg_quality[1] + 1)),
        grayscale=spec.grayscale,
        contrast=spec.contrast,
        brightness=spec.brightness,
    )
