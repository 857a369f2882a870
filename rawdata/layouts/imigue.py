"""iMiGUE skeleton release (Liu et al., CVPR 2021): OpenPose upper body, 22 joints, 32 micro-gesture classes.

Layout parsed (see :mod:`rawdata.layouts.skeleton_arrays` for the shared rules), as far as public loaders show
it (the authors' ST-GCN data generator for iMiGUE and the MiGA 2023 challenge solutions); verify against your copy::

    <root>/train_data.npy    float32 (N, 3, 90, 22, 1): channels (x, y, confidence) of OpenPose, x/y in pixels of
                             the 1920x1080 press-conference video; T = 90 frames (the last 90 of a longer gesture,
                             zero-padded after a shorter one); V = 22 joints (below); M = 1 body
    <root>/train_label.pkl   pickle of (sample_names, labels) -> convert once to train_label.json
    <root>/test_data.npy, <root>/test_label.pkl   the held-out subjects (optionally val_*/valid_* too)

Labels are 0-based integers 0..31 (class names and their order: ``datamodules/text/microgesture_classes.yaml``).
Sample names are ``<video>_<k>``: the zero-padded id of the press-conference video (e.g. ``0054``) and the
gesture's number within it. The subject column is the video id without padding (``0054_3`` -> subject ``54``,
clip ``0054_3``): the release names no player, and one player can appear in several videos, so the video is a
finer key than the person. The cross-subject protocol is the split files themselves (the paper's train and test
players are disjoint); the parser reports a video id found in both splits.

Joints, in array order (names as in the authors' joint list; "left"/"right" as named there)::

    0 nose  1 neck  2 left shoulder  3 left elbow  4 left wrist  5 right shoulder  6 right elbow  7 right wrist
    8 left eye  9 right eye  10 left ear  11 right ear  12-16 right-hand fingers 1-5  17-21 left-hand fingers 1-5

The graph joins the body chain, nose-eyes-ears, and each hand's five finger points to that side's wrist. The
published edge lists of public loaders disagree about the finger links; this one follows the joint names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rawdata.index import normalise_subject
from rawdata.layouts.common import ParseResult
from rawdata.layouts.skeleton_arrays import SkeletonLayout, parse_release, write_release

FORMAT = "imigue"
N_CLASSES = 32
FRAMES = 90
FRAME_SIZE = (1920, 1080)

JOINTS = (
    "nose", "neck", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    "left_eye", "right_eye", "left_ear", "right_ear",
    *(f"right_finger_{i}" for i in range(1, 6)),
    *(f"left_finger_{i}" for i in range(1, 6)),
)
RIGHT_FINGERS = tuple(range(12, 17))
LEFT_FINGERS = tuple(range(17, 22))
EDGES = (
    (1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (0, 8), (8, 10), (0, 9), (9, 11),
    *((7, f) for f in RIGHT_FINGERS),
    *((4, f) for f in LEFT_FINGERS),
)
BODY_PARTS = {
    "head": (0, 8, 9, 10, 11),
    "trunk": (1, 2, 5),
    "left_arm": (3, 4),
    "right_arm": (6, 7),
    "left_hand": LEFT_FINGERS,
    "right_hand": RIGHT_FINGERS,
}

_NAME = re.compile(r"^(?P<video>\d+)_(?P<k>\d+)$")


def subject_of(sample_name: str) -> tuple[str, str]:
    """``0054_3`` -> (``54``, ``0054_3``): subject = video id, clip = the sample name."""
    match = _NAME.match(sample_name)
    if not match:
        raise ValueError(f"sample name {sample_name!r} is not <video>_<k> (e.g. 0054_3)")
    return normalise_subject(match.group("video")), sample_name


def sample_name(video: int, k: int) -> str:
    """The release's name of the k-th gesture of a video: ``sample_name(54, 3) == "0054_3"``."""
    return f"{video:04d}_{k}"


LAYOUT = SkeletonLayout(
    dataset=FORMAT,
    joints=JOINTS,
    edges=EDGES,
    channels=("x", "y", "confidence"),
    nominal_frames=FRAMES,
    n_classes=N_CLASSES,
    subject_of=subject_of,
    center_joint=1,
    shoulder_joints=(2, 5),
    body_parts=BODY_PARTS,
)


def parse(root: str | Path, dataset: str | None = None) -> ParseResult:
    """Index (one row per gesture sample) and problems of an iMiGUE skeleton folder."""
    return parse_release(root, LAYOUT, dataset)


def write(
    root: str | Path,
    splits: dict[str, tuple[Sequence[str], Sequence[int], np.ndarray]],
    label_format: str = "pkl",
) -> list[Path]:
    """Writer twin: ``{split: (sample_names, labels, (N, 3, T, 22, 1) array)}`` in the release layout."""
    return write_release(root, splits, label_format)
