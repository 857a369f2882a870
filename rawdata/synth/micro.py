"""Semi-synthetic micro-expression datasets written in the official layouts (`affect synth casme2|samm|...`).

A dataset is planned, then rendered, then written by its layout's writer twin (`rawdata/layouts/`):

* **Plan** (`plan.py`, one seeded generator, cheap): class labels in the real dataset's proportions
  (`DatasetSpec.class_counts` below), clips dealt unevenly to subjects, recordings named by the layout's writer,
  expression timing (onset -> apex -> offset shorter than 500 ms at the dataset's frame rate, inside a longer
  clip), AUs drawn from the emotion priors of `aus.py` with micro amplitudes scaled by a per-subject
  expressiveness, and the nuisances of `plan.Difficulty`: head placement, slow head drift and roll,
  illumination drift (gain and a left-right gradient), sensor noise, JPEG quality, blinks (AU45, not coded in
  the sheet, as in real data), label noise and annotation jitter.
* **Render** (`render.py`, per recording, in parallel over subjects): each frame is one `cv2.remap` of the
  subject's identity canvas (`face.py`) through the head pose and the dense AU motion field, whose landmark
  displacements follow a raised-cosine profile that is 0 at onset and offset and exactly 1 at the apex.
* **Write**: frames and coding sheet in the official layout, plus `SYNTHETIC.json` (generator, version, seed,
  every parameter) and `ground_truth.json` (per sample: AUs with sides and amplitudes, coded and true
  onset/apex/offset, head motion, illumination, noise, and the 68 landmarks of every frame's neutral face (pose
  only) and moved face (pose + AUs + blink); per subject: identity parameters and neutral landmarks).

Sizes (:data:`SPECS`): about 90 clips of 20-45 frames, 240x240 px, 14 subjects per dataset by default, so the
whole default pipeline stays within minutes on two cores; `--subjects` and `--clips-per-subject` scale it.
The expression lasts 90-150 ms at 200 fps (CASME II, SAMM), 150-300 ms at 100 fps (SMIC), 150-350 ms at 90 fps
(MMEW) and 200-450 ms at 30 fps (CAS(ME)^3): shorter than most real micro-expressions (200-500 ms) at the high
frame rates, to keep clips small (a choice: `expression_ms` of the spec).

Difficulty: the defaults of `plan.Difficulty` were chosen so that a simple optical-flow baseline (onset->apex
DIS flow pooled on a grid, linear SVM, LOSO; `benchmarks/synth.py`) is clearly above chance and far from
perfect; `amplitude_scale`, `noise_sigma` and `label_noise` are the main knobs (`--set key=value`).
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from core.errors import AffectError
from core.io import write_json, write_text
from rawdata.index import STANDIN_MARKER, make_sample_id
from rawdata.layouts.common import write_frames
from rawdata.synth.face import FaceGeometry, identity_summary, render_identity, sample_identity
from rawdata.synth.plan import DatasetSpec, RecordingPlan, make_difficulty, plan_dataset
from rawdata.synth.render import RenderedRecording, render_recording

GENERATOR = "rawdata.synth.micro"
VERSION = 1


def _identity_priors(labels) -> dict[str, str]:
    return {label: label for label in labels}


SPECS: dict[str, DatasetSpec] = {
    # CASME II (Yan et al. 2014): 255 clips, 26 subjects, 200 fps.
    "casme2": DatasetSpec(
        "casme2", "rawdata.layouts.casme2", 200,
        {"others": 99, "disgust": 63, "happiness": 32, "repression": 27, "surprise": 25, "sadness": 7, "fear": 2},
        _identity_priors(("others", "disgust", "happiness", "repression", "surprise", "sadness", "fear")),
        tuple(range(1, 27)), subjects=26, clips=255),
    # SAMM (Davison et al. 2018): 159 micro clips, 32 subjects, 200 fps, greyscale.
    "samm": DatasetSpec(
        "samm", "rawdata.layouts.samm", 200,
        {"Anger": 57, "Other": 26, "Happiness": 26, "Surprise": 15, "Contempt": 12, "Disgust": 9, "Fear": 8,
         "Sadness": 6},
        {"Anger": "anger", "Other": "others", "Happiness": "happiness", "Surprise": "surprise",
         "Contempt": "contempt", "Disgust": "disgust", "Fear": "fear", "Sadness": "sadness"},
        (6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26, 28, 30, 31, 32, 33, 34, 35, 36,
         37),
        subjects=32, clips=159, first_frame=(1000, 15000), grayscale=True),
    # SMIC-HS (Li et al. 2013): 164 clips, 16 subjects, 100 fps; clips cut from onset to offset.
    "smic": DatasetSpec(
        "smic", "rawdata.layouts.smic", 100, {"negative": 70, "positive": 51, "surprise": 43},
        _identity_priors(("negative", "positive", "surprise")),
        (1, 2, 3, 4, 5, 6, 8, 9, 11, 12, 13, 14, 15, 18, 19, 20),
        subjects=16, clips=164, expression_ms=(150, 300), pad_frames=(0, 1), first_frame=(1000, 90000)),
    # CAS(ME)^3 part A (Li et al. 2022): 30 fps long recordings. The proportions below are an assumed shape
    # (disgust, surprise and others frequent; happy, sad, anger and fear rare), not the published counts.
    "casme3": DatasetSpec(
        "casme3", "rawdata.layouts.casme3", 30,
        {"disgust": 250, "surprise": 200, "others": 170, "fear": 80, "anger": 60, "sad": 60, "happy": 60},
        {"disgust": "disgust", "surprise": "surprise", "others": "others", "fear": "fear", "anger": "anger",
         "sad": "sadness", "happy": "happiness"},
        tuple(range(1, 101)),
        expression_ms=(200, 450), pad_frames=(4, 10), first_frame=(0, 0), expressions_per_recording=(1, 3),
        gap_frames=(8, 20)),
    # MMEW (Ben et al. 2021): 300 micro clips, 36 subjects, 90 fps.
    "mmew": DatasetSpec(
        "mmew", "rawdata.layouts.mmew", 90,
        {"surprise": 89, "disgust": 72, "others": 66, "happiness": 36, "fear": 16, "sadness": 13, "anger": 8},
        _identity_priors(("surprise", "disgust", "others", "happiness", "fear", "sadness", "anger")),
        tuple(range(1, 37)),
        expression_ms=(150, 350), pad_frames=(2, 5), first_frame=(1, 400)),
}

# SMIC's 25 fps channels (rawdata/layouts/smic.py): `affect synth smic --variant vis|nir`. Facts (the Oulu SMIC
# page): 25 fps, 71 clips. Choices (not verified from a source read here): 8 subjects and the class counts
# (positive 28, negative 23, surprise 20), so the class priors differ from HS's. The look is chosen too (the real
# channels' look is not measured here): both cameras see a smaller face (150 px jaw width against HS's 180 px, so
# AU motion spans fewer pixels); VIS is brighter and less noisy
# than the high-speed camera (a 25 fps exposure gathers more light); NIR is single-channel, flat (contrast 0.6),
# darker and 2.5x noisier. Expression durations are HS's (150-300 ms), so the same expression spans 4 times fewer
# frames. The real VIS/NIR clips were recorded together with HS (its latter subjects); the stand-in draws its own.
_SMIC_25FPS = {"class_counts": {"positive": 28, "negative": 23, "surprise": 20},
               "priors": _identity_priors(("negative", "positive", "surprise")),
               "subject_numbers": tuple(range(1, 9)), "subjects": 8, "clips": 71, "expression_ms": (150, 300),
               "pad_frames": (0, 1), "first_frame": (100, 20000), "geometry": FaceGeometry(face_width=150.0)}
VARIANTS: dict[str, dict[str, DatasetSpec]] = {
    "smic": {
        "hs": SPECS["smic"],
        "vis": DatasetSpec("smic_vis", "rawdata.layouts.smic_vis", 25, **_SMIC_25FPS, brightness=12.0,
                           noise_scale=0.75),
        "nir": DatasetSpec("smic_nir", "rawdata.layouts.smic_nir", 25, **_SMIC_25FPS, grayscale=True, contrast=0.6,
                           brightness=-20.0, noise_scale=2.5),
    },
}


def dataset_spec(dataset: str, variant: str | None = None) -> DatasetSpec:
    """The spec of `dataset`'s stand-in, or of one of its variants (`affect synth smic --variant nir`)."""
    if variant is None:
        return SPECS[dataset]
    variants = VARIANTS.get(dataset, {})
    if variant not in variants:
        hint = f"known: {', '.join(variants)}" if variants else f"{dataset} has no variants"
        raise AffectError(f"stand-in {dataset!r} has no variant {variant!r}", hint=hint)
    return variants[variant]


def sample_truth(plan: RecordingPlan, rendered: RenderedRecording, layout, root: Path, trim: bool) -> list[dict]:
    """ground_truth.json entries of one recording, one per annotated expression (sample). With `trim` (long
    recordings) a sample's frames are its onset..offset, as the parser reads them."""
    rec = plan.recording
    numbers = np.asarray(rec.frame_numbers)
    folder = layout.recording_folder(root, rec).relative_to(root).as_posix()
    entries = []
    for expression, units, motion in zip(rec.expressions, plan.units, plan.motions, strict=True):
        clip = layout.sample_clip_name(rec, expression)
        keep = (numbers >= expression.onset) & (numbers <= expression.offset) if trim else np.ones(len(numbers), bool)
        entries.append({
            "sample_id": make_sample_id(plan.dataset, str(rec.subject), clip),
            "subject": str(rec.subject),
            "clip": clip,
            "recording": rec.name,
            "frame_dir": folder,
            "emotion": expression.emotion,
            "aus": [{"au": u.au, "side": u.side, "amplitude_px": u.amplitude} for u in units],
            "onset": expression.onset,
            "apex": expression.apex,
            "offset": expression.offset,
            "motion": asdict(motion),
            "frame_numbers": numbers[keep].tolist(),
            "blinks": [asdict(b) for b in plan.blinks],
            "head_motion": asdict(plan.head),
            "illumination": asdict(plan.light),
            "noise_sigma": plan.noise_sigma,
            "jpeg_quality": plan.jpeg_quality,
            "landmarks_neutral": np.round(rendered.landmarks_neutral[keep], 2).tolist(),
            "landmarks_moved": np.round(rendered.landmarks_moved[keep], 2).tolist(),
        })
    return entries


def render_subject(args: tuple) -> tuple[list[dict], dict, float, int]:
    """Render and write all recordings of one subject (a worker task): (truth entries, identity, CPU seconds
    of this process, frames)."""
    plans, spec, root = args
    cv2.setNumThreads(1)
    start = time.process_time()
    layout = importlib.import_module(spec.layout)
    identity = render_identity(sample_identity(np.random.default_rng(plans[0].identity_seed)), spec.geometry)
    entries, n_frames = [], 0
    for plan in plans:
        rendered = render_recording(plan, identity, spec.fps)
        names = [layout.frame_name(plan.recording, n) for n in plan.recording.frame_numbers]
        write_frames(layout.recording_folder(root, plan.recording), names, rendered.frames, plan.jpeg_quality)
        entries += sample_truth(plan, rendered, layout, root, trim=spec.long_recordings)
        n_frames += len(names)
    return entries, identity_summary(identity), time.process_time() - start, n_frames


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def generate_standin(dataset: str, out: str | Path, subjects: int | None = None, seed: int = 0,
                     clips_per_subject: int | None = None, workers: int | None = None, variant: str | None = None,
                     **difficulty) -> dict:
    """Write the stand-in of `dataset` (or of its `variant`, :data:`VARIANTS`) into `out` (an empty or missing
    folder) and return a summary.

    `difficulty` holds :class:`Difficulty` overrides (e.g. amplitude_scale=0.5, noise_sigma=4). With
    `workers` > 1 subjects render in spawned processes, so a calling script needs the usual
    `if __name__ == "__main__":` guard.
    """
    spec = dataset_spec(dataset, variant)
    knobs = make_difficulty(difficulty)
    n_subjects = subjects or spec.subjects
    clips = n_subjects * clips_per_subject if clips_per_subject else round(spec.clips * n_subjects / spec.subjects)
    plans = plan_dataset(spec, n_subjects, clips, seed, knobs)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    tasks = [([p for p in plans if p.recording.subject == s], spec, root)
             for s in dict.fromkeys(p.recording.subject for p in plans)]
    start = time.perf_counter()
    results = run_tasks(tasks, workers or default_workers())
    wall = time.perf_counter() - start
    layout = importlib.import_module(spec.layout)
    layout.write_annotations(root, [p.recording for p in plans])
    samples = [e for entries, _, _, _ in results for e in entries]
    identities = {task[0][0].recording.subject: ident for task, (_, ident, _, _) in zip(tasks, results, strict=True)}
    params = {"dataset": spec.name, **({"variant": variant} if variant else {}), "subjects": n_subjects,
              "clips": len(samples), "clips_per_subject": clips_per_subject, "difficulty": asdict(knobs),
              "spec": spec_summary(spec)}
    truth = {"generator": GENERATOR, "version": VERSION, "dataset": spec.name, "fps": spec.fps,
             "frame_size": spec.geometry.frame_size, "subjects": identities, "samples": samples}
    # one sample per line, no indentation: the per-frame landmarks would otherwise be most of the stand-in's size
    write_text(root / "ground_truth.json", compact_json(truth))
    write_json(root / STANDIN_MARKER, {"generator": GENERATOR, "version": VERSION, "seed": seed,
                                       "format": spec.name, "parameters": params})
    cpu = sum(r[2] for r in results)
    n_frames = sum(r[3] for r in results)
    return {"dataset": spec.name, "out": str(root), "subjects": n_subjects, "samples": len(samples),
            "recordings": len(plans), "frames": n_frames, "seconds": round(wall, 2),
            "cpu_seconds_per_clip": round(cpu / max(len(samples), 1), 4),
            "cpu_ms_per_frame": round(1000 * cpu / max(n_frames, 1), 2)}


def compact_json(truth: dict) -> str:
    """JSON with the `samples` list one sample per line."""
    head = json.dumps({k: v for k, v in truth.items() if k != "samples"}, sort_keys=True)[:-1]
    body = ",\n".join(json.dumps(sample, separators=(",", ":"), sort_keys=True) for sample in truth["samples"])
    return f'{head}, "samples": [\n{body}\n]}}\n'


def spec_summary(spec: DatasetSpec) -> dict:
    summary = asdict(spec)
    summary["geometry"] = asdict(spec.geometry)
    return summary


def run_tasks(tasks: list, workers: int) -> list:
    """Run subject tasks in order, in a process pool when `workers` > 1 (results keep task order).

    Workers are spawned, not forked: a fork of a process whose OpenCV/BLAS threads hold locks can deadlock."""
    if workers <= 1 or len(tasks) <= 1:
        return [render_subject(t) for t in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        return list(pool.map(render_subject, tasks))
