"""A low-resolution copy of a processed dataset, so that every MER method can be scored on restored faces.

Each aligned face clip (``faces/<id>.npz``) is degraded by ``factor`` (preprocessing/degrade.py: anti-alias blur,
area down-sampling, optional noise) and restored to its original side by one super-resolution method
(preprocessing/super_resolution.py: bicubic, Lanczos, or SRCNN / ESPCN trained here), then written to the copy's
``faces/``. The landmark stage then re-runs on the restored frames (``landmarks="detect"``: what a detector finds
on a face that was once low-resolution) or keeps the clean clip's (``"copy"``). The downstream stages (magnify,
flow, features) run on the copy like on any processed dataset, so every method reads restored clips through its
usual inputs (benchmarks/occlusion.py ``--study lowres`` builds such roots and trains each method on them).

Learned networks are trained on the dataset's own CLEAN frames, label-free, with a two-way subject cross-fit
(the same rule as benchmarks/low_resolution.py): the subjects, sorted, alternate into two halves, and the network
trained on one half's frames restores the other half's clips, so no clip is restored by a network that saw its
subject. Choices (knobs): ``frames_per_clip`` evenly spaced frames of each training clip feed the network (the
frames of one clip are nearly identical), ``sr_steps`` Adam steps; colour clips are restored channel by channel with
the network trained on grey frames (SR work often restores luminance only; the faces here are near-grey).
The noise of each clip is seeded from ``seed`` and its sample id, so a copy is reproducible.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import AffectError


def _clip_seed(seed: int, sample_id: str) -> int:
    return int(hashlib.sha256(f"{seed}/{sample_id}".encode()).hexdigest()[:8], 16)


def degraded_name(dataset: str, factor: int, sr: str) -> str:
    """Processed-dataset name of the low-resolution copy: `<dataset>-x<factor>-<sr>`."""
    return f"{dataset}-x{int(factor)}-{sr}"


def subject_halves(index: pd.DataFrame) -> dict[str, int]:
    """sample_id -> 0 / 1: the dataset's (dataset, subject) pairs, sorted, alternate between the two halves."""
    keys = sorted({(str(d), str(s)) for d, s in zip(index["dataset"], index["subject"])})
    half = {k: i % 2 for i, k in enumerate(keys)}
    return {sid: half[(str(d), str(s))] for sid, d, s in zip(index["sample_id"], index["dataset"], index["subject"])}


def restore(clip: np.ndarray, factor: int, sr: str, net=None, blur_sigma=None, noise_std: float = 0.0,
            seed: int = 0) -> np.ndarray:
    """(T, H, W[, C]) uint8 clip -> the same shape after degradation by ``factor`` and restoration by ``sr``."""
    from preprocessing.degrade import degrade_clip
    from preprocessing.super_resolution import restore_clip

    clip = np.asarray(clip)
    if clip.dtype != np.uint8 or clip.ndim not in (3, 4) or len(clip) == 0:
        raise AffectError(f"the low-resolution copy needs a (T, H, W[, C]) uint8 clip, got {clip.dtype} {clip.shape}")
    low = degrade_clip(clip, factor, blur_sigma, noise_std, seed=seed)
    size = clip.shape[1:3]
    if clip.ndim == 3:
        return restore_clip(low, size, sr, net)
    return np.stack([restore_clip(low[..., c], size, sr, net) for c in range(clip.shape[3])], axis=-1)


def _training_frames(faces: Path, sample_ids: list[str], frames_per_clip: int) -> np.ndarray:
    from preprocessing.landmarks import to_gray

    out = []
    for sid in sample_ids:
        with np.load(faces / f"{sid}.npz") as f:
            frames = f["frames"]
        for k in np.unique(np.linspace(0, len(frames) - 1, max(int(frames_per_clip), 1)).round().astype(int)):
            out.append(to_gray(frames[k]))
    return np.stack(out)


def degrade_dataset(source_dir, target_dir, factor: int, sr: str = "bicubic", landmarks: str = "detect",
                    params=None, jobs: int | None = None, blur_sigma: float | None = None, noise_std: float = 0.0,
                    seed: int = 0, sr_steps: int = 300, frames_per_clip: int = 4) -> dict:
    """Write a degraded-and-restored copy of a processed dataset: index.csv, faces/ and landmarks/.

    ``landmarks="detect"`` runs the `landmarks` stage on the restored frames (it needs ``params``, whose
    ``preprocess.landmarks`` knobs it uses, and ``jobs`` worker processes); ``"copy"`` copies the clean clips'.
    The copy's faces/ fingerprint hashes the source's fingerprints with every knob here and this code, so a changed
    knob recomputes the stages downstream. Returns a summary (also written to ``degrade.json``)."""
    from core.io import write_json, write_npz
    from preprocessing import degrade, super_resolution
    from preprocessing import derived_copy as copy
    from preprocessing.degrade import low_size

    source_dir, target_dir = Path(source_dir), Path(target_dir)
    if sr not in super_resolution.METHODS:
        raise AffectError(f"unknown super-resolution method {sr!r}",
                          hint=f"one of {', '.join(super_resolution.METHODS)}")
    copy.check_request(source_dir, target_dir, landmarks, params, "low-resolution copy")
    index = pd.read_csv(source_dir / "index.csv", dtype={"subject": str})
    missing = [c for c in ("sample_id", "dataset", "subject") if c not in index.columns]
    if missing:
        raise AffectError(f"index.csv lacks the columns {missing}", path=source_dir / "index.csv")
    faces = source_dir / "faces"
    present = [sid for sid in index["sample_id"] if (faces / f"{sid}.npz").is_file()]
    skipped = {sid: f"no faces file {faces / f'{sid}.npz'}" for sid in index["sample_id"] if sid not in set(present)}
    if present:  # a factor that leaves too few pixels is named before anything is written
        with np.load(faces / f"{present[0]}.npz") as clip:
            side = min(clip["frames"].shape[1:3])
        try:
            low_size(side, factor)
        except ValueError as err:
            raise AffectError(f"{err} (the {side} px faces of this dataset)", path=faces / f"{present[0]}.npz",
                              hint="lower the degrade factor") from None
    halves = subject_halves(index[index["sample_id"].isin(present)])
    if sr in super_resolution.LEARNED and len(set(halves.values())) < 2:
        raise AffectError(f"the subject cross-fit of {sr} needs subjects in both halves; the dataset has one subject",
                          path=source_dir / "index.csv", hint="use bicubic or lanczos on a one-subject dataset")
    start = time.perf_counter()
    settings = {"factor": int(factor), "sr": sr, "blur_sigma": blur_sigma, "noise_std": float(noise_std),
                "seed": int(seed), "sr_steps": int(sr_steps), "frames_per_clip": int(frames_per_clip)}
    code = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (degrade, super_resolution))
                          + Path(__file__).read_bytes()).hexdigest()[:16]
    fingerprint = hashlib.sha256(json.dumps([settings, copy.source_fingerprints(source_dir), code], sort_keys=True,
                                            default=str).encode()).hexdigest()
    folder = copy.prepare_faces(source_dir, target_dir, fingerprint)

    nets, sr_info = {0: None, 1: None}, {}
    if sr in super_resolution.LEARNED:
        for h in (0, 1):
            train_ids = [sid for sid in present if halves[sid] == h]
            frames = _training_frames(faces, train_ids, frames_per_clip)
            began = time.perf_counter()
            # the network of half h restores the clips of the other half
            nets[1 - h], losses = super_resolution.train_sr(frames, sr, factor, steps=sr_steps, seed=seed + h,
                                                            blur_sigma=blur_sigma, noise_std=noise_std)
            sr_info[f"trained_on_half{h}"] = {"frames": int(len(frames)), "clips": len(train_ids),
                                              "loss_first": round(losses[0], 5),
                                              "loss_last20": round(float(np.mean(losses[-20:])), 5),
                                              "seconds": round(time.perf_counter() - began, 1)}
    done = 0
    for sid in present:
        out = folder / f"{sid}.npz"
        if not out.is_file():
            with np.load(faces / f"{sid}.npz") as clip:
                arrays = {key: clip[key] for key in clip.files}
            arrays["frames"] = restore(arrays["frames"], factor, sr, nets[halves[sid]], blur_sigma, noise_std,
                                       _clip_seed(seed, sid))
            write_npz(out, **arrays)
        done += 1
    copy.seal_faces(folder, fingerprint)
    summary = {"stage": "degrade", "source": str(source_dir), "params": settings, "n_done": done,
               "n_skipped": len(skipped), "skipped": skipped, "landmarks": landmarks, "sr_training": sr_info,
               "seconds": round(time.perf_counter() - start, 3)}
    summary.update(copy.finish_landmarks(source_dir, target_dir, landmarks, params, jobs))
    write_json(target_dir / "degrade.json", summary)
    return summary
