"""What the derived copies of a processed dataset share (occluded faces, preprocessing/occlusion.py; degraded and
restored faces, preprocessing/low_resolution.py): the request's checks, the copy's faces/ folder keyed by a
fingerprint, and its landmarks, re-detected on the copy's frames or copied from the clean clips.

A copy holds index.csv, faces/ (the changed frames, with the source's other keys) and landmarks/; the downstream
stages (magnify, flow, features) then run on it like on any processed dataset. Its faces/ fingerprint hashes the
source's fingerprints with the copy's knobs and code, so a changed knob recomputes everything downstream. Its
landmarks/ folder keeps the source's fingerprint when copied, so :func:`landmark_mode` tells the two modes apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.errors import AffectError

LANDMARK_MODES = ("detect", "copy")


def check_request(source_dir: Path, target_dir: Path, landmarks: str, params, what: str) -> None:
    """The checks every copy makes before writing anything; ``what`` names the copy in the messages."""
    if landmarks not in LANDMARK_MODES:
        raise AffectError(f"unknown landmark mode {landmarks!r} of the {what}",
                          hint=f"one of {', '.join(LANDMARK_MODES)}")
    if landmarks == "detect" and params is None:
        raise AffectError(f"the {what} with landmarks='detect' needs the params (preprocess.landmarks knobs)")
    for needed in ("index.csv", "faces", "landmarks"):
        if not (source_dir / needed).exists():
            raise AffectError(f"the {what} needs the {needed} output of the processed dataset",
                              path=source_dir / needed, hint="run `affect preprocess landmarks <dataset>` first")
    if source_dir.resolve() == target_dir.resolve():
        raise AffectError(f"the {what} cannot overwrite its source", path=target_dir)


def source_fingerprints(source_dir: Path) -> dict[str, str]:
    """The source's faces / landmarks fingerprints, which every copy's own fingerprint hashes."""
    from preprocessing.stages import read_fingerprint

    return {stage: read_fingerprint(source_dir / stage) or "unknown" for stage in ("faces", "landmarks")}


def prepare_faces(source_dir: Path, target_dir: Path, fingerprint: str) -> Path:
    """The copy's faces/ folder, emptied when an earlier copy was made with other knobs (or never finished: it
    has no fingerprint yet), and the source's index.csv next to it. Returns the folder."""
    from preprocessing.stages import read_fingerprint

    folder = target_dir / "faces"
    if folder.is_dir() and read_fingerprint(folder) != fingerprint:
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_dir / "index.csv", target_dir / "index.csv")
    return folder


def seal_faces(folder: Path, fingerprint: str) -> None:
    """Mark the copy's faces/ complete for these knobs (written after the last clip)."""
    from core.io import write_json

    write_json(folder / ".fingerprint.json", {"fingerprint": fingerprint, "stage": "faces"})


def finish_landmarks(source_dir: Path, target_dir: Path, landmarks: str, params, jobs: int | None) -> dict:
    """The copy's landmarks: the `landmarks` stage on its frames (``detect``) or the clean clips' (``copy``).
    Returns the summary entries to add to the copy's record."""
    if landmarks == "copy":
        return {"landmarks_copied": copy_landmarks(source_dir, target_dir)}
    from preprocessing.stages import run_stage

    stage = run_stage("landmarks", target_dir.name, params, target_dir.parent, jobs=jobs, progress=False)
    return {"landmarks_stage": {k: stage[k] for k in ("n_done", "n_skipped", "seconds", "cpu_seconds")}}


def copy_landmarks(source_dir, target_dir) -> int:
    """Copy the clean clips' landmarks into a copy (`landmarks="copy"`), replacing re-detected ones.

    The folder keeps the source's fingerprint, so `landmark_mode` tells copied from re-detected landmarks.
    Returns the number of files copied (0 when the copy is already there)."""
    from core.io import write_json
    from preprocessing.stages import read_fingerprint

    source, target = Path(source_dir) / "landmarks", Path(target_dir) / "landmarks"
    fingerprint = read_fingerprint(source) or "unknown"
    if target.is_dir() and read_fingerprint(target) != fingerprint:
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.glob("*.npy")):
        if not (target / path.name).is_file() and (Path(target_dir) / "faces" / f"{path.stem}.npz").is_file():
            shutil.copyfile(path, target / path.name)
            copied += 1
    write_json(target / ".fingerprint.json", {"fingerprint": fingerprint, "stage": "landmarks"})
    return copied


def landmark_mode(source_dir, target_dir) -> str:
    """How the landmarks of a copy were made, read from the folders' fingerprints: `copied` (the source's
    fingerprint), `redetected` (another one: the landmarks stage ran on the copy's faces) or `missing`."""
    from preprocessing.stages import read_fingerprint

    target = read_fingerprint(Path(target_dir) / "landmarks")
    if target is None:
        return "missing"
    return "copied" if target == read_fingerprint(Path(source_dir) / "landmarks") else "redetected"
