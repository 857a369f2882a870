"""MMEW (Ben et al., IEEE TPAMI 2021): 90 fps, 36 subjects, 300 micro clips; parser and writer twin.

Layout (../shared/reference/datasets.md; folder nesting as public loaders read it)::

    Micro_Expression/<emotion>/<Filename>/<N>.jpg
    MMEW_Micro_Exp.xlsx        (Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Action Units,
                                Estimated Emotion, remarks)

Emotions: happiness, surprise, anger, disgust, fear, sadness, others (some releases add repression). The
writer names clips `S<subject>-<emotion index>-<clip>` and subjects `S01`; the real naming is not in our
reference and the parser does not depend on it (the folder is `<emotion>/<Filename>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rawdata.layouts.common import (
    ParseResult,
    Recording,
    SheetLayout,
    parse_sheet_layout,
    write_xlsx,
)

DATASET = "mmew"
SHEET_PATTERNS = ("MMEW_Micro_Exp*.xlsx", "MMEW*Micro*.xls*")
SHEET_NAME = "MMEW_Micro_Exp.xlsx"
FRAME_FOLDERS = ("Micro_Expression", "MMEW_Final/Micro_Expression", "MMEW/Micro_Expression")
COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "OnsetFrame", "apex": "ApexFrame",
           "offset": "OffsetFrame", "aus": "Action Units", "emotion": "Estimated Emotion"}
KNOWN_COLUMNS = ("remarks",)
HEADER = ("Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion",
          "remarks")
EMOTION_ORDER = ("happiness", "surprise", "anger", "disgust", "fear", "sadness", "others", "repression")
EMOTIONS = frozenset(EMOTION_ORDER)
FRAME_PATTERN = re.compile(r"(?P<number>\d+)\.(?:jpe?g|png|bmp)", re.IGNORECASE)


def clip_folder(frames_root: Path, subject, filename: str, emotion: str) -> Path:
    return frames_root / emotion / filename


LAYOUT = SheetLayout(DATASET, COLUMNS, KNOWN_COLUMNS, EMOTIONS, FRAME_PATTERN, clip_folder)


def parse(root: str | Path) -> ParseResult:
    return parse_sheet_layout(root, SHEET_PATTERNS, FRAME_FOLDERS, LAYOUT)


# -- writer twin --------------------------------------------------------------------------------------------------


def recording_names(subject: int, emotions: list[str], rng: np.random.Generator) -> list[str]:
    names, counts = [], {}
    for emotion in emotions:
        counts[emotion] = counts.get(emotion, 0) + 1
        names.append(f"S{subject:02d}-{EMOTION_ORDER.index(emotion) + 1:02d}-{counts[emotion]:03d}")
    return names


def recording_folder(root: Path, recording: Recording) -> Path:
    return root / FRAME_FOLDERS[0] / recording.expressions[0].emotion / recording.name


def frame_name(recording: Recording, number: int) -> str:
    return f"{number}.jpg"


def sample_clip_name(recording: Recording, expression) -> str:
    return recording.name


def write_annotations(root: Path, recordings: list[Recording]) -> Path:
    rows = [(f"S{r.subject:02d}", r.name, e.onset, e.apex, e.offset, e.aus, e.emotion, "")
            for r in recordings for e in r.expressions]
    return write_xlsx(root / SHEET_NAME, HEADER, rows)
