"""CAS(ME)^3 part A (Li et al., IEEE TPAMI 2022): 30 fps colour long recordings; parser and writer twin.

Layout (../shared/reference/datasets.md)::

    part_A/spNO.1/a/color/0.jpg ...                   (one folder per recording task, frames numbered from 0)
    cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx         (Subject, Filename, Onset, Apex, Offset, AU,
                                                       Objective class, emotion)

A recording (`Filename`, a letter) holds several expressions, one sheet row each, so a sample is (subject,
recording, onset): its `clip` is `<letter>_<onset>` and its frames are onset..offset only (our choice; the
sheet has no clip folders). Emotions: happy, disgust, fear, anger, sad, surprise, others. The content of the
`Objective class` column is not documented in our reference; the writer fills it from the AUs like SAMM's.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np

from rawdata.index import normalise_subject
from rawdata.layouts.common import (
    ParseResult,
    Recording,
    SheetLayout,
    clean_text,
    frame_number,
    parse_sheet_layout,
    write_xlsx,
)

DATASET = "casme3"
SHEET_PATTERNS = ("cas(me)3_part_A*.xlsx", "CAS(ME)3_part_A*.xlsx", "*part_A*ME*.xlsx")
SHEET_NAME = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
FRAME_FOLDERS = ("part_A", "part_A/data/part_A", "data/part_A", "ME_A", ".")
COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "Onset", "apex": "Apex", "offset": "Offset",
           "aus": "AU", "emotion": "emotion"}
KNOWN_COLUMNS = ("Objective class",)
HEADER = ("Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion")
EMOTIONS = frozenset({"happy", "disgust", "fear", "anger", "sad", "surprise", "others"})
FRAME_PATTERN = re.compile(r"(?P<number>\d+)\.(?:jpe?g|png|bmp)", re.IGNORECASE)


def subject_folder(subject) -> str:
    """`spNO.1` stays; a bare number 1 becomes `spNO.1`."""
    text = clean_text(subject)
    return text if text.lower().startswith("spno") else f"spNO.{normalise_subject(text)}"


def clip_folder(frames_root: Path, subject, filename: str, emotion: str) -> Path:
    return frames_root / subject_folder(subject) / filename / "color"


def clip_name(filename: str, onset: int) -> str:
    return f"{filename}_{onset}"


def _row_key(row) -> tuple:
    try:
        onset = frame_number(row.values["onset"])
    except ValueError:
        onset = clean_text(row.values["onset"])
    return normalise_subject(clean_text(row.values["subject"])), clean_text(row.values["filename"]), onset


LAYOUT = SheetLayout(DATASET, COLUMNS, KNOWN_COLUMNS, EMOTIONS, FRAME_PATTERN, clip_folder, clip_name=clip_name,
                     trim=True, row_key=_row_key)


def parse(root: str | Path) -> ParseResult:
    return parse_sheet_layout(root, SHEET_PATTERNS, FRAME_FOLDERS, LAYOUT)


# -- writer twin --------------------------------------------------------------------------------------------------


def recording_names(subject: int, emotions: list[str], rng: np.random.Generator) -> list[str]:
    """Recording tasks are letters a, b, c, ... (then aa, ab, ...)."""
    letters = string.ascii_lowercase
    return [letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26] for i in range(len(emotions))]


def recording_folder(root: Path, recording: Recording) -> Path:
    return root / FRAME_FOLDERS[0] / f"spNO.{recording.subject}" / recording.name / "color"


def frame_name(recording: Recording, number: int) -> str:
    return f"{number}.jpg"


def sample_clip_name(recording: Recording, expression) -> str:
    return clip_name(recording.name, expression.onset)


def write_annotations(root: Path, recordings: list[Recording]) -> Path:
    from rawdata.synth.aus import objective_class

    rows = [(f"spNO.{r.subject}", r.name, e.onset, e.apex, e.offset, e.aus, objective_class(list(e.codes)),
             e.emotion) for r in recordings for e in r.expressions]
    return write_xlsx(root / SHEET_NAME, HEADER, rows)
