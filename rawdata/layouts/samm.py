"""SAMM (Davison et al., IEEE TAC 2018): 200 fps greyscale, 32 subjects, 159 micro clips; parser and writer twin.

Layout (../shared/reference/datasets.md)::

    SAMM/006/006_1_2/006_05562.jpg        (subject 3 digits; frame number padded to 4 or 5 digits per clip)
    SAMM_Micro_FACS_Codes_v2.xlsx         (about 13 preamble rows above the header row)

Columns: Subject, Filename, Inducement Code, Onset Frame, Apex Frame, Offset Frame, Duration, Type,
Action Units (`R12 + R15`), Notes, Estimated Emotion (Anger, Contempt, Disgust, Fear, Happiness, Sadness,
Surprise, Other), Objective Classes. Apex can be -1 (estimated as the middle frame, a warning). The header row
is found by its column names, so the number of preamble rows does not matter. The writer's preamble text is
our own (the real one is a title and notes); the Type cell says `Micro - 1/2` and Objective Classes is derived
from the AUs (see `rawdata.synth.aus.objective_class`).
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

DATASET = "samm"
SHEET_PATTERNS = ("SAMM_Micro_FACS_Codes*.xlsx", "SAMM*FACS*.xls*")
SHEET_NAME = "SAMM_Micro_FACS_Codes_v2.xlsx"
FRAME_FOLDERS = ("SAMM", "SAMM_CROP", ".")
COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "Onset Frame", "apex": "Apex Frame",
           "offset": "Offset Frame", "aus": "Action Units", "emotion": "Estimated Emotion"}
KNOWN_COLUMNS = ("Inducement Code", "Duration", "Type", "Notes", "Objective Classes")
HEADER = ("Subject", "Filename", "Inducement Code", "Onset Frame", "Apex Frame", "Offset Frame", "Duration",
          "Type", "Action Units", "Notes", "Estimated Emotion", "Objective Classes")
EMOTIONS = frozenset({"anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise", "other"})
FRAME_PATTERN = re.compile(r"\d+_(?P<number>\d+)\.(?:jpe?g|png|bmp)", re.IGNORECASE)
PREAMBLE_ROWS = 13


def subject_folder(subject) -> str:
    """`6`, `006`, 6.0 -> `006`."""
    return f"{int(normalise_subject(subject)):03d}"


def clip_folder(frames_root: Path, subject, filename: str, emotion: str) -> Path:
    return frames_root / subject_folder(subject) / filename


LAYOUT = SheetLayout(DATASET, COLUMNS, KNOWN_COLUMNS, EMOTIONS, FRAME_PATTERN, clip_folder)


def parse(root: str | Path) -> ParseResult:
    return parse_sheet_layout(root, SHEET_PATTERNS, FRAME_FOLDERS, LAYOUT)


# -- writer twin --------------------------------------------------------------------------------------------------


def recording_names(subject: int, emotions: list[str], rng: np.random.Generator) -> list[str]:
    """`<subject>_<inducement 1-7>_<clip>` names, e.g. `006_1_2`."""
    names, counts = [], {}
    for _ in emotions:
        inducement = int(rng.integers(1, 8))
        counts[inducement] = counts.get(inducement, 0) + 1
        names.append(f"{subject:03d}_{inducement}_{counts[inducement]}")
    return names


def recording_folder(root: Path, recording: Recording) -> Path:
    return root / FRAME_FOLDERS[0] / subject_folder(recording.subject) / recording.name


def frame_name(recording: Recording, number: int) -> str:
    """Padding follows the clip: 5 digits when its numbers reach 10000, else 4 (both occur in SAMM)."""
    pad = 5 if max(recording.frame_numbers) >= 10000 else 4
    return f"{recording.subject:03d}_{number:0{pad}d}.jpg"


def sample_clip_name(recording: Recording, expression) -> str:
    return recording.name


def preamble() -> list[list[str]]:
    lines = ["SAMM micro-movement FACS codes (stand-in written by `affect synth samm`)",
             "Frames are numbered as in the recording; onset, apex and offset are absolute frame numbers.",
             "Action Units use FACS codes with L/R for unilateral movements.",
             "Estimated Emotion is the emotion the coders judged most likely.",
             "Objective Classes group clips by their AUs."]
    return [[line] for line in lines] + [[] for _ in range(PREAMBLE_ROWS - len(lines))]


def write_annotations(root: Path, recordings: list[Recording]) -> Path:
    from rawdata.synth.aus import objective_class

    rows = []
    for r in recordings:
        for e in r.expressions:
            inducement = int(r.name.split("_")[1])
            rows.append((f"{r.subject:03d}", r.name, inducement, e.onset, e.apex, e.offset, e.offset - e.onset + 1,
                         "Micro - 1/2", " + ".join(e.codes), "", e.emotion, objective_class(list(e.codes))))
    return write_xlsx(root / SHEET_NAME, HEADER, rows, preamble=preamble())
