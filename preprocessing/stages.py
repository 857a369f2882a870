"""The preprocessing stage driver: one pure function per clip, run in parallel, resumable, atomic per clip.

Stages and their files (docs/architecture.md, "Processed data"), all under `data/processed/<dataset>/`:

    index      raw dataset                 -> index.csv (+ `standin` column)
    faces      raw frames                  -> faces/<sample_id>.npz       frames, frame_numbers, transform, face_box
    landmarks  faces                       -> landmarks/<sample_id>.npy   (T, 68, 2) crop coordinates
    magnify    faces                       -> magnified/<sample_id>.npz   frames (T, S, S) gray, magnified
    flow       faces                       -> flow/<sample_id>.npz        flow, strain, image28 (onset -> apex)
    features   magnified (or faces)        -> features/<sample_id>.npz    interp, lbptop, hsdg

`faces` also stores `face_box` (4,) float32, the detector's box in crop coordinates, which `landmarks` reads.

How a stage runs (`run_stage`):
- Each clip's output is written atomically by the worker that computed it (core.io), so an interrupted
  run loses nothing and the next run skips every clip whose output exists (resume).
- Outputs are only reused when they were made from the same inputs, knobs and code: a stage's folder holds
  `.fingerprint.json`, a hash of its knobs, of the source of its modules, and of its upstream (the index's
  bytes for `faces`, the upstream stage's fingerprint otherwise). When it differs, the folder's clip files are
  removed first and everything is recomputed, so a changed knob or function never leaves stale clips behind
  (this is what makes DVC's `persist: true` outs safe).
- A clip that fails because of its input (no face found, a missing or truncated frame, an onset that is not
  among the frames) is skipped: its reason, naming the file, is logged and listed in `<stage>.json`; the
  stage goes on. Clips skipped upstream are listed downstream with the upstream reason. A programming error
  stops the stage (finished clips stay on disk).
- `<stage>.json` holds the contract's params, n_done, n_skipped, skipped and seconds, plus n_clips,
  n_computed (this run), n_resumed (already there) and cpu_seconds (CPU time of the clips computed).
- Clips run over `preprocess.n_jobs` worker processes (default 2, forked from a fork server) with a tqdm
  progress bar; each worker uses one OpenCV thread and loads the dlib models once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
from omegaconf import DictConfig

from core.errors import AffectError, ConfigError, DatasetError, MissingStageOutput
from core.io import write_json, write_npy, write_npz
from preprocessing import faces, flow, hsdg, interpolate, landmarks, lbptop, magnify
from preprocessing.params import dataset_source, n_jobs, stage_params
from rawdata import layouts
from rawdata.index import is_standin, load_index, save_index

log = logging.getLogger(__name__)

FINGERPRINT_FILE = ".fingerprint.json"
ClipOutput = dict[str, np.ndarray] | np.ndarray


@dataclass(frozen=True)
class Stage:
    name: str
    folder: str  # sub-folder of data/processed/<dataset>/ holding one file per clip
    suffix: str  # ".npz" (several arrays) or ".npy" (one array)
    compute: Callable[[dict, Path, dict], ClipOutput]  # (index row, dataset folder, knobs) -> arrays
    code: tuple[ModuleType, ...]  # modules whose source the outputs depend on (part of the fingerprint)

    def output(self, dataset_dir: Path, sample_id: str) -> Path:
        return dataset_dir / self.folder / f"{sample_id}{self.suffix}"


# ---------------------------------------------------------------------------------------------------- per clip


def faces_of_clip(row: dict, dataset_dir: Path, knobs: dict) -> dict[str, np.ndarray]:
    """Read the raw frames and align the clip on its first frame."""
    frames = faces.read_clip(row["frame_dir"], row["frames"])
    try:
        aligned = faces.align_clip(
            frames,
            crop_size=knobs["crop_size"],
            inter_ocular=knobs["inter_ocular"],
            eye_row=knobs["eye_row"],
            detector=knobs["detector"],
            upsample=knobs["upsample"],
            haar_fallback=knobs["haar_fallback"],
            landmark_upscale=knobs["landmark_upscale"],
        )
    except faces.FaceNotFound as err:
        raise faces.FaceNotFound(str(err), path=Path(row["frame_dir"]) / row["frames"][0]) from None
    return {**aligned, "frame_numbers": np.asarray(row["frame_numbers"], dtype=np.int64)}


def landmarks_of_clip(row: dict, dataset_dir: Path, knobs: dict) -> np.ndarray:
    """68 landmarks of every aligned frame, from the face box the faces stage found."""
    clip = _load(STAGES["faces"], dataset_dir, row["sample_id"], ("frames", "face_box"))
    method = knobs.get("method", "detect")
    if method == "track":
        return landmarks.track_landmarks(clip["frames"], tuple(clip["face_box"]), upscale=knobs["upscale"],
                                         window=int(knobs.get("window", 15)))
    if method != "detect":
        raise ConfigError(f"preprocess.landmarks.method={method!r}: expected detect or track")
    return landmarks.clip_landmarks(clip["frames"], tuple(clip["face_box"]), upscale=knobs["upscale"])


def magnified_of_clip(row: dict, dataset_dir: Path, knobs: dict) -> dict[str, np.ndarray]:
    """Euler-magnified grayscale clip."""
    frames = _gray_clip(_load(STAGES["faces"], dataset_dir, row["sample_id"], ("frames",))["frames"])
    settings = {k: knobs[k] for k in MAGNIFY_KNOBS}
    return {"frames": magnify.to_uint8(magnify.magnify_clip(frames, **settings))}


def flow_of_clip(row: dict, dataset_dir: Path, knobs: dict) -> dict[str, np.ndarray]:
    """Onset -> apex optical flow, optical strain and the 28x28 (u, v, strain) image."""
    clip = _load(STAGES["faces"], dataset_dir, row["sample_id"], ("frames", "frame_numbers"))
    onset, apex = onset_apex_positions(row, clip["frame_numbers"].tolist())
    gray = _gray_clip(clip["frames"][[onset, apex]])
    method = knobs["method"]
    return flow.onset_apex_flow(gray[0], gray[1], method, knobs["image_size"], **(knobs.get(method) or {}))


def features_of_clip(row: dict, dataset_dir: Path, knobs: dict) -> dict[str, np.ndarray]:
    """Interpolated clip, LBP-TOP and HSDG."""
    source = STAGES[knobs["source"]]
    frames = _load(source, dataset_dir, row["sample_id"], ("frames",))["frames"]
    clip = _gray_clip(frames) if frames.ndim == 4 else frames
    resampled = interpolate.interpolate_clip(clip, **knobs["interpolate"])
    if knobs.get("size"):
        resampled = _resize_clip(resampled, int(knobs["size"]))
    interp = np.clip(np.rint(resampled), 0, 255).astype(np.uint8)
    lbp, sdg = knobs["lbptop"], knobs["hsdg"]
    return {
        "interp": interp,
        "lbptop": lbptop.lbp_top(interp, tuple(lbp["blocks"]), lbp["radius"], lbp["radius_t"], lbp["n_points"]),
        "hsdg": hsdg.hsdg(interp, tuple(sdg["blocks"]), sdg["n_bins"], sdg["value_range"]),
    }


MAGNIFY_KNOBS = ("fps", "alpha", "low_hz", "high_hz", "levels", "method", "filter", "lambda_c", "amplify_residual")

STAGES: dict[str, Stage] = {
    "faces": Stage("faces", "faces", ".npz", faces_of_clip, (faces, landmarks)),
    "landmarks": Stage("landmarks", "landmarks", ".npy", landmarks_of_clip, (landmarks,)),
    "magnify": Stage("magnify", "magnified", ".npz", magnified_of_clip, (magnify,)),
    "flow": Stage("flow", "flow", ".npz", flow_of_clip, (flow,)),
    "features": Stage("features", "features", ".npz", features_of_clip, (interpolate, lbptop, hsdg)),
}
ORDER = ("index", "faces", "landmarks", "magnify", "flow", "features")


def upstream_of(stage: str, knobs: dict) -> str | None:
    """The stage whose per-clip files `stage` reads (None: the raw frames listed in index.csv)."""
    if stage == "faces":
        return None
    if stage == "features":
        if knobs["source"] not in ("magnify", "faces"):
            raise ConfigError(f"preprocess.features.source must be magnify or faces, got {knobs['source']!r}")
        return knobs["source"]
    return "faces"


def onset_apex_positions(row: dict, frame_numbers: list[int]) -> tuple[int, int]:
    """Positions of the onset and apex frames among the clip's frame numbers.

    An unannotated apex (-1) becomes the frame nearest to the middle frame number (onset + offset) // 2.
    """
    numbers = [int(n) for n in frame_numbers]
    onset = _position(numbers, int(row["onset"]), "onset", row["frame_dir"])
    if int(row["apex"]) >= 0:
        return onset, _position(numbers, int(row["apex"]), "apex", row["frame_dir"])
    middle = (int(row["onset"]) + int(row["offset"])) // 2
    return onset, int(np.argmin(np.abs(np.asarray(numbers) - middle)))


def _position(numbers: list[int], number: int, what: str, frame_dir: str) -> int:
    if number not in numbers:
        raise AffectError(f"{what} frame {number} is not among the clip's frames ({min(numbers)}..{max(numbers)})",
                          path=frame_dir)
    return numbers.index(number)


def _load(stage: Stage, dataset_dir: Path, sample_id: str, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    path = stage.output(dataset_dir, sample_id)
    if not path.is_file():
        raise MissingStageOutput(path, stage.name, dataset_dir.name)
    with np.load(path) as data:
        return {key: data[key] for key in keys}


def _gray_clip(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) RGB uint8 -> (T, H, W) gray uint8."""
    return np.stack([landmarks.to_gray(frame) for frame in frames])


def _resize_clip(clip: np.ndarray, size: int) -> np.ndarray:
    """Area-averaged resize of every frame of a (T, H, W) clip to (T, size, size)."""
    return np.stack([cv2.resize(f.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) for f in clip])


# ---------------------------------------------------------------------------------------------------- driver


def run_index(dataset: str, params: DictConfig, processed_root: Path) -> dict[str, Any]:
    """Parse the raw dataset with its layout parser; write index.csv (usable clips, + `standin`) and index.json.

    Problems the parser reports are logged and listed in index.json (`affect data check` shows them in full);
    clips it could not use are left out. No usable clip at all is an error.
    """
    start = time.perf_counter()
    root, layout = dataset_source(params, dataset)
    parsed = layouts.parse(layout, root)
    for problem in parsed.problems:
        log.warning("index %s: %s", dataset, problem)
    if len(parsed.index) == 0:
        first = "; ".join(str(p) for p in parsed.errors[:3])
        raise DatasetError(f"no usable clip found as a {layout} dataset" + (f" ({first})" if first else ""),
                           path=root, hint=f"run `affect data check {layout} --root {root}`")
    frame = parsed.index.copy()
    frame["standin"] = is_standin(root)
    dataset_dir = processed_root / dataset
    save_index(frame, dataset_dir / "index.csv")
    summary = {
        "stage": "index", "dataset": dataset, "params": {"root": str(root), "format": layout},
        "n_clips": int(len(frame)), "n_done": int(len(frame)), "n_skipped": 0, "skipped": {},
        "problems": [str(p) for p in parsed.problems], "seconds": round(time.perf_counter() - start, 3),
    }
    write_json(dataset_dir / "index.json", summary)
    return summary


def run_stage(
    stage_name: str,
    dataset: str,
    params: DictConfig,
    processed_root: Path,
    jobs: int | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run one stage over every clip of `dataset`; returns (and writes) the `<stage>.json` summary."""
    if stage_name == "index":
        return run_index(dataset, params, processed_root)
    if stage_name not in STAGES:
        raise ConfigError(f"unknown preprocessing stage {stage_name!r}", hint=f"one of {', '.join(ORDER)}")
    start = time.perf_counter()
    stage = STAGES[stage_name]
    dataset_dir = processed_root / dataset
    index = load_index(dataset_dir / "index.csv")
    knobs = stage_params(params, stage_name, dataset)
    upstream = upstream_of(stage_name, knobs)
    if upstream is not None and not (dataset_dir / STAGES[upstream].folder).is_dir():
        raise MissingStageOutput(dataset_dir / STAGES[upstream].folder, upstream, dataset)
    ensure_fresh(stage, dataset_dir, stage_fingerprint(stage_name, knobs, dataset_dir, upstream))

    rows = index.to_dict("records")
    upstream_skips = _upstream_skips(upstream, dataset_dir, rows)
    existing = {r["sample_id"] for r in rows if stage.output(dataset_dir, r["sample_id"]).is_file()}
    todo = [r for r in rows if r["sample_id"] not in upstream_skips and r["sample_id"] not in existing]
    skipped = dict(upstream_skips)
    computed, cpu_seconds = 0, 0.0
    for sample_id, reason, cpu in map_clips(stage, todo, dataset_dir, knobs, jobs or n_jobs(params), progress):
        cpu_seconds += cpu
        if reason is None:
            computed += 1
        else:
            skipped[sample_id] = reason
            log.warning("%s %s: skipped %s: %s", stage_name, dataset, sample_id, reason)
    summary = {
        "stage": stage_name,
        "dataset": dataset,
        "params": knobs,
        "n_clips": len(rows),
        "n_done": computed + len(existing),
        "n_computed": computed,
        "n_resumed": len(existing),
        "n_skipped": len(skipped),
        "skipped": dict(sorted(skipped.items())),
        "seconds": round(time.perf_counter() - start, 3),
        "cpu_seconds": round(cpu_seconds, 3),
    }
    write_json(dataset_dir / f"{stage_name}.json", summary)
    return summary


def map_clips(
    stage: Stage, rows: list[dict], dataset_dir: Path, knobs: dict, jobs: int, progress: bool | None = None
) -> Iterator[tuple[str, str | None, float]]:
    """Yield (sample_id, None when written | reason when skipped, CPU seconds) per row, over `jobs` processes.

    Workers come from a fork server that has imported this module and nothing else: forking the caller
    directly would copy OpenCV's thread pool mid-state when the caller has used OpenCV (a worker then hangs
    in its first OpenCV call), and spawning would re-import everything for every worker.
    """
    from tqdm import tqdm

    bar = tqdm(total=len(rows), desc=f"{stage.name} {dataset_dir.name}", unit="clip",
               disable=None if progress is None else not progress)
    with bar:
        if jobs <= 1 or len(rows) <= 1:
            for row in rows:
                yield process_clip(stage.name, row, dataset_dir, knobs)
                bar.update()
            return
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker)
        try:
            futures = [pool.submit(process_clip, stage.name, row, dataset_dir, knobs) for row in rows]
            for future in as_completed(futures):
                yield future.result()
                bar.update()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def process_clip(stage_name: str, row: dict, dataset_dir: Path, knobs: dict) -> tuple[str, str | None, float]:
    """Compute and atomically write one clip: (sample_id, None | the reason it was skipped, CPU seconds).

    Input problems (AffectError) come back as the reason instead of an exception.
    """
    stage = STAGES[stage_name]
    sample_id = row["sample_id"]
    start = time.process_time()
    try:
        result = stage.compute(row, dataset_dir, knobs)
    except AffectError as err:
        return sample_id, str(err), time.process_time() - start
    except Exception as err:
        raise RuntimeError(f"preprocess {stage_name} failed on clip {sample_id}: {err!r}") from err
    path = stage.output(dataset_dir, sample_id)
    if isinstance(result, dict):
        write_npz(path, **result)
    else:
        write_npy(path, result)
    return sample_id, None, time.process_time() - start


def _init_worker() -> None:
    """One OpenCV thread per worker: the workers already use every core."""
    cv2.setNumThreads(1)


def _upstream_skips(upstream: str | None, dataset_dir: Path, rows: list[dict]) -> dict[str, str]:
    """Clips without an upstream file, with the upstream stage's reason (or a note that the file is missing)."""
    if upstream is None:
        return {}
    stage = STAGES[upstream]
    summary_path = dataset_dir / f"{upstream}.json"
    reasons = json.loads(summary_path.read_text()).get("skipped", {}) if summary_path.is_file() else {}
    skips = {}
    for row in rows:
        sample_id = row["sample_id"]
        if not stage.output(dataset_dir, sample_id).is_file():
            reason = reasons.get(sample_id, f"no {upstream} output (run `affect preprocess {upstream}`)")
            skips[sample_id] = f"skipped by {upstream}: {reason}"
    return skips


# ---------------------------------------------------------------------------------------------------- freshness


def stage_fingerprint(stage_name: str, knobs: dict, dataset_dir: Path, upstream: str | None) -> str:
    """Hash of what a stage's outputs depend on: its knobs, its code (the source of its modules and of this
    driver) and its upstream (the index's bytes for `faces`, the upstream stage's fingerprint otherwise)."""
    if upstream is None:
        source = hashlib.sha256((dataset_dir / "index.csv").read_bytes()).hexdigest()
    else:
        source = read_fingerprint(dataset_dir / STAGES[upstream].folder) or "unknown"
    modules = (*STAGES[stage_name].code, sys.modules[__name__])
    code = {m.__name__: hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest() for m in modules}
    payload = json.dumps({"stage": stage_name, "knobs": knobs, "code": code, "upstream": source}, sort_keys=True,
                         default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def read_fingerprint(folder: Path) -> str | None:
    path = folder / FINGERPRINT_FILE
    return json.loads(path.read_text())["fingerprint"] if path.is_file() else None


def ensure_fresh(stage: Stage, dataset_dir: Path, fingerprint: str) -> None:
    """Remove a stage's clip files when they were made from other knobs or inputs, then record the fingerprint."""
    folder = dataset_dir / stage.folder
    previous = read_fingerprint(folder)
    if previous == fingerprint:
        return
    stale = sorted(folder.glob(f"*{stage.suffix}")) if folder.is_dir() else []
    if stale:
        log.warning("%s %s: knobs or inputs changed since the last run; recomputing %d clips",
                    stage.name, dataset_dir.name, len(stale))
        for path in stale:
            path.unlink()
    write_json(folder / FINGERPRINT_FILE, {"fingerprint": fingerprint, "stage": stage.name})


def run_all(dataset: str, params: DictConfig, processed_root: Path, jobs: int | None = None,
            progress: bool | None = None) -> list[dict[str, Any]]:
    """Every stage in order."""
    return [run_stage(name, dataset, params, processed_root, jobs, progress) for name in ORDER]
