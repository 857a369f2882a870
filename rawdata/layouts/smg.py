"""SMG skeleton release (Chen et al., IJCV 2023): Kinect v2, 25 joints, 17 micro-gesture classes, 40 subjects.

Layout parsed (shared rules in :mod:`rawdata.layouts.skeleton_arrays`), as far as the authors' public ST-GCN
data generator for SMG shows it; verify against your copy::

    <root>/train_data.npy    float32 (N, 3, 60, 25, 1): Kinect camera-space (x, y, z) in metres; T = 60 frames
                             (the last 60 of a longer gesture, zero-padded after a shorter one); V = 25; M = 1
    <root>/train_label.pkl   pickle of (sample_names, labels) -> convert once to train_label.json
    <root>/test_data.npy, <root>/test_label.pkl   the held-out subjects (the authors' script holds out 36-40)

Labels are 0-based integers 0..16 (the per-sequence ``SampleXXXX_finelabels.csv`` files count from 1 and the
generator subtracts 1). Sample names are ``Sample<subject:04d><k>``, the subject's zero-padded number followed
directly by the gesture's number (``Sample00013`` -> subject ``1``, clip ``3``); ``Sample0001_3`` is accepted too.
The cross-subject protocol is the split files; the parser reports a subject found in both.

Joints, in array order (Kinect v2)::

    0 spine base  1 spine mid  2 neck  3 head  4 left shoulder  5 left elbow  6 left wrist  7 left hand
    8 right shoulder  9 right elbow  10 right wrist  11 right hand  12 left hip  13 left knee  14 left ankle
    15 left foot  16 right hip  17 right knee  18 right ankle  19 right foot  20 spine shoulder
    21 left hand tip  22 left thumb  23 right hand tip  24 right thumb

The raw per-sequence CSV layout (``SampleXXXX/SampleXXXX_skeleton.csv`` with frame ranges in
``SampleXXXX_finelabels.csv``) is not parsed here; run the authors' generator or convert it to these arrays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rawdata.index import normalise_subject
from rawdata.layouts.common import ParseResult
from rawdata.layouts.skeleton_arrays import SkeletonLayout, parse_release, write_release

FORMAT = "smg"
N_CLASSES = 17
FRAMES = 60

JOINTS = (
    "spine_base", "spine_mid", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand",
    "left_hip", "left_knee", "left_ankle", "left_foot",
    "right_hip", "right_knee", "right_ankle", "right_foot",
    "spine_shoulder", "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)
EDGES = (
    (0, 1), (1, 20), (20, 2), (2, 3),
    (20, 4), (4, 5), (5, 6), (6, 7), (7, 21), (7, 22),
    (20, 8), (8, 9), (9, 10), (10, 11), (11, 23), (11, 24),
    (0, 12), (12, 13), (13, 14), (14, 15),
    (0, 16), (16, 17), (17, 18), (18, 19),
)
BODY_PARTS = {
    "head": (2, 3),
    "trunk": (0, 1, 20),
    "left_arm": (4, 5, 6),
    "right_arm": (8, 9, 10),
    "left_hand": (7, 21, 22),
    "right_hand": (11, 23, 24),
    "legs": (12, 13, 14, 15, 16, 17, 18, 19),
}

_NAME = re.compile(r"^Sample(?P<subject>\d{4})_?(?P<k>\d+)$")


def subject_of(sample_name: str) -> tuple[str, str]:
    """``Sample00013`` -> (``1``, ``3``): four digits of subject, then the gesture number."""
    match = _NAME.match(sample_name)
    if not match:
        raise ValueError(f"sample name {sample_name!r} is not Sample<subject:04d><k> (e.g. Sample00013)")
    return normalise_subject(match.group("subject")), match.group("k")


def sample_name(subject: int, k: int) -> str:
    """The release's name of the k-th gesture of a subject: ``sample_name(1, 3) == "Sample00013"``."""
    return f"Sample{subject:04d}{k}"


LAYOUT = SkeletonLayout(
    dataset=FORMAT,
    joints=JOINTS,
    edges=EDGES,
    channels=("x", "y", "z"),
    nominal_frames=FRAMES,
    n_classes=N_CLASSES,
    subject_of=subject_of,
    center_joint=20,
    shoulder_joints=(4, 8),
    body_parts=BODY_PARTS,
)


def parse(root: str | Path, dataset: str | None = None) -> ParseResult:
    """Index (one row per gesture sample) and problems of an SMG skeleton folder."""
    return parse_release(root, LAYOUT, dataset)


def write(
    root: str | Path,
    splits: dict[str, tuple[Sequence[str], Sequence[int], np.ndarray]],
    label_format: str = "pkl",
) -> list[Path]:
    """Writer twin: ``{split: (sample_names, labels, (N, 3, T, 25, 1) array)}`` in the release layout."""
    return write_release(root, splits, label_format)
