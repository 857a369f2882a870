"""SMIC-HS (Li et al., FG 2013): 100 fps, 16 subjects, 164 clips, labels from folder names; parser and writer.

Layout (../shared/reference/datasets.md)::

    HS/s1/micro/positive/s1_po_01/reg_image046534.bmp      (6-digit absolute frame number)

There is no coding sheet: the emotion is the folder name (positive, negative, surprise) and no AUs or apex
are annotated. Each clip is cut from onset to offset, so onset/offset are the first/last frames and the apex
is the middle frame (`apex_estimated=True`; one warning for the whole dataset). The writer writes JPEG frames
(`reg_imageNNNNNN.jpg`) to keep the stand-in small; the parser accepts .bmp, .jpg and .png alike.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rawdata.index import normalise_subject
from rawdata.layouts.common import (
    ParseResult,
    Problems,
    Recording,
    clip_frames,
    clip_record,
    find_dir,
    index_frame,
    require_root,
    settle_timing,
)

DATASET = "smic"
HS_FOLDERS = ("HS", "SMIC/HS", "SMIC_all_cropped/HS", "SMIC-HS", ".")
LABELS = ("positive", "negative", "surprise")
ABBREVIATIONS = {"positive": "po", "negative": "ne", "surprise": "sur"}
SUBJECT_FOLDER = re.compile(r"s\d+", re.IGNORECASE)
FRAME_PATTERN = re.compile(r"reg_image(?P<number>\d+)\.(?:bmp|jpe?g|png)", re.IGNORECASE)
FRAME_SUFFIX = ".jpg"


def list_clip_folders(hs: Path, problems: Problems) -> list[tuple[str, str, Path]]:
    """(subject folder, label, clip folder) of every clip under HS/sN/micro/<label>/<clip>."""
    clips = []
    for subject in sorted(p for p in hs.iterdir() if p.is_dir() and SUBJECT_FOLDER.fullmatch(p.name)):
        micro = subject / "micro"
        if not micro.is_dir():
            problems.error(subject, "no micro/ folder (expected sN/micro/<positive|negative|surprise>/<clip>)")
            continue
        for label_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            if label_dir.name.lower() not in LABELS:
                problems.error(label_dir, f"unknown emotion folder {label_dir.name!r}; expected one of {LABELS}")
                continue
            clip_dirs = sorted(p for p in label_dir.iterdir() if p.is_dir())
            if not clip_dirs:
                problems.warning(label_dir, "empty folder, ignored")
            clips += [(subject.name, label_dir.name.lower(), clip) for clip in clip_dirs]
    return clips


def read_clip(subject: str, label: str, folder: Path, problems: Problems) -> dict | None:
    frames = clip_frames(folder, FRAME_PATTERN, problems)
    if not frames:
        return None
    numbers = [n for n, _ in frames]
    timing = settle_timing(numbers[0], None, numbers[-1], numbers, folder, None, None, problems)
    return clip_record(DATASET, normalise_subject(subject), folder.name, timing, "", label, folder, frames)


def parse(root: str | Path) -> ParseResult:
    root = require_root(root)
    problems = Problems()
    hs = find_dir(root, HS_FOLDERS, problems, "SMIC HS")
    if hs is None:
        return ParseResult(index_frame([]), problems)
    clips = list_clip_folders(hs, problems)
    if not clips:
        problems.error(hs, "no clips found (expected sN/micro/<positive|negative|surprise>/<clip>/reg_image*.bmp)")
    records = [r for s, label, folder in clips if (r := read_clip(s, label, folder, problems)) is not None]
    if records:
        problems.warning(hs, f"SMIC has no apex annotation: the middle frame is used as apex for {len(records)} clips")
    return ParseResult(index_frame(records), problems)


# -- writer twin --------------------------------------------------------------------------------------------------


def recording_names(subject: int, emotions: list[str], rng: np.random.Generator) -> list[str]:
    """`s<subject>_<po|ne|sur>_<nn>`, numbered per label."""
    names, counts = [], {}
    for emotion in emotions:
        counts[emotion] = counts.get(emotion, 0) + 1
        names.append(f"s{subject}_{ABBREVIATIONS[emotion]}_{counts[emotion]:02d}")
    return names


def recording_folder(root: Path, recording: Recording) -> Path:
    label = recording.expressions[0].emotion
    return root / "HS" / f"s{recording.subject}" / "micro" / label / recording.name


def frame_name(recording: Recording, number: int) -> str:
    return f"reg_image{number:06d}{FRAME_SUFFIX}"


def sample_clip_name(recording: Recording, expression) -> str:
    return recording.name


def write_annotations(root: Path, recordings: list[Recording]) -> None:
    """SMIC-HS has no sheet: labels live in the folder names."""
    return None
