"""CASME II (Yan et al., PLoS ONE 2014): 200 fps, 26 subjects, 255 clips; parser and writer twin.

Layout (../shared/reference/datasets.md)::

    CASME2_RAW_selected/sub01/EP02_01f/img46.jpg      (cropped release: Cropped/sub01/EP02_01f/reg_img46.jpg)
    CASME2-coding-20140508.xlsx                       (later releases: CASME2-coding-20190701.xlsx)

Sheet columns in order: Subject, Filename, (unnamed), OnsetFrame, ApexFrame, OffsetFrame, (unnamed),
Action Units, Estimated Emotion. N in imgN is the absolute frame number, not zero-padded, so frames are sorted
by number. Some ApexFrame cells are `/` (apex estimated as the middle frame, a warning). The two unnamed
columns are ignored; the writer leaves them empty (their content in the real sheet is not documented).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rawdata.index import normalise_subject
from rawdata.layouts.common import (
    ParseResult,
    Recording,
    SheetLayout,
    parse_sheet_layout,
    write_xlsx,
)

DATASET = "casme2"
SHEET_PATTERNS = ("CASME2-coding-*.xlsx", "CASME2-coding*.xls*")
SHEET_NAME = "CASME2-coding-20140508.xlsx"
FRAME_FOLDERS = ("CASME2_RAW_selected", "CASME2_RAW", "CASME2-RAW", "Cropped", "CASME2_Cropped")
COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "OnsetFrame", "apex": "ApexFrame",
           "offset": "OffsetFrame", "aus": "Action Units", "emotion": "Estimated Emotion"}
HEADER = ("Subject", "Filename", None, "OnsetFrame", "ApexFrame", "OffsetFrame", None, "Action Units",
          "Estimated Emotion")
EMOTIONS = frozenset({"happiness", "surprise", "disgust", "repression", "others", "fear", "sadness"})
FRAME_PATTERN = re.compile(r"(?:reg_)?img(?P<number>\d+)\.(?:jpe?g|png|bmp)", re.IGNORECASE)


def subject_folder(subject) -> str:
    """`1`, `sub01`, 1.0 -> `sub01`."""
    return f"sub{int(normalise_subject(subject)):02d}"


def clip_folder(frames_root: Path, subject, filename: str, emotion: str) -> Path:
    return frames_root / subject_folder(subject) / filename


LAYOUT = SheetLayout(DATASET, COLUMNS, (), EMOTIONS, FRAME_PATTERN, clip_folder)


def parse(root: str | Path) -> ParseResult:
    return parse_sheet_layout(root, SHEET_PATTERNS, FRAME_FOLDERS, LAYOUT)


# -- writer twin --------------------------------------------------------------------------------------------------


def recording_names(subject: int, emotions: list[str], rng: np.random.Generator) -> list[str]:
    """`EPxx_yy` names (elicitation episode, clip), a quarter with the `f` suffix some real names carry."""
    names, used = [], set()
    for _ in emotions:
        episode = int(rng.integers(1, 20))
        clip = 1 + sum(1 for e, _ in used if e == episode)
        used.add((episode, clip))
        names.append(f"EP{episode:02d}_{clip:02d}" + ("f" if rng.random() < 0.25 else ""))
    return names


def recording_folder(root: Path, recording: Recording) -> Path:
    return root / FRAME_FOLDERS[0] / subject_folder(recording.subject) / recording.name


def frame_name(recording: Recording, number: int) -> str:
    return f"img{number}.jpg"


def sample_clip_name(recording: Recording, expression) -> str:
    return recording.name


def write_annotations(root: Path, recordings: list[Recording]) -> Path:
    rows = [(r.subject, r.name, None, e.onset, e.apex, e.offset, None, e.aus, e.emotion)
            for r in recordings for e in r.expressions]
    return write_xlsx(root / SHEET_NAME, HEADER, rows)
