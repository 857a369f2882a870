"""Masked (disguised) facial expressions: this suite's own documented layout; parser and writer twin.

No public layout exists for masked-expression data (the likely dataset, MFED, is not distributed with a known
folder format; ../shared/reference/datasets.md), so the suite defines one. Arrange a licensed copy like this and
the rest of the pipeline works unchanged::

    <root>/
      masked_coding.xlsx                 coding sheet, one row per clip (header row first; preamble rows allowed)
      frames/s01/m01/img12.jpg           frames of clip m01 of subject 1; N in imgN is the absolute frame number
      frames/s01/m02/...                 (.jpg, .png or .bmp; not zero-padded, sorted numerically)

Sheet columns (matched without case, spaces or punctuation; extra named columns are a warning):

=========================  ==========================================================================
Subject                    subject id (`1`, `s01`, `sub1` all mean subject 1)
Filename                   clip folder name under frames/s<NN>/
OnsetFrame                 first frame of the masked expression: the true emotion starts to leak
ApexFrame                  a frame in the STABLE disguise (the apex-frame paradigm reads this frame);
                           `/` or -1 when not annotated (the middle frame is used, a warning)
OffsetFrame                last frame of the expression (the disguise is still held)
Action Units               AUs of the TRUE emotion (`9+10`, `R12`); the index's `aus` column
True Emotion               anger, contempt, disgust, fear, happiness, sadness or surprise: the label
Disguised Expression       the expression shown to mask it: one of the above or neutral
Disguise Action Units      AUs of the disguising expression (may be empty for neutral)
=========================  ==========================================================================

The index (docs/architecture.md) gets the usual columns, `emotion` = the true emotion, plus two extra columns:
`disguise` (lower-case label of the disguised expression; the datamodule's `y_disguise`, mapped through
`data.disguise_classes`) and `disguise_aus` (normalised AU codes). Every problem is reported with file and row as
for the other sheet layouts (rawdata/layouts/common.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rawdata.index import normalise_subject, parse_aus
from rawdata.layouts.common import (
    ParseResult,
    Problems,
    SheetLayout,
    SheetRow,
    clean_text,
    drop_duplicates,
    find_dir,
    find_sheet,
    index_frame,
    read_row,
    read_sheet,
    report_unused_folders,
    require_root,
    write_xlsx,
)

DATASET = "masked"
SHEET_NAME = "masked_coding.xlsx"
SHEET_PATTERNS = ("masked_coding*.xlsx",)
FRAME_FOLDERS = ("frames",)
COLUMNS = {"subject": "Subject", "filename": "Filename", "onset": "OnsetFrame", "apex": "ApexFrame",
           "offset": "OffsetFrame", "aus": "Action Units", "emotion": "True Emotion",
           "disguise": "Disguised Expression", "disguise_aus": "Disguise Action Units"}
HEADER = tuple(COLUMNS.values())
TRUE_EMOTIONS = frozenset({"anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise"})
DISGUISES = TRUE_EMOTIONS | {"neutral"}
FRAME_PATTERN = re.compile(r"img(?P<number>\d+)\.(?:jpe?g|png|bmp)", re.IGNORECASE)
EXTRA_COLUMNS = ("disguise", "disguise_aus")


def subject_folder(subject) -> str:
    """`1`, `s01`, 1.0 -> `s01`."""
    return f"s{int(normalise_subject(subject)):02d}"


def clip_folder(frames_root: Path, subject, filename: str, emotion: str = "") -> Path:
    return frames_root / subject_folder(subject) / filename


LAYOUT = SheetLayout(DATASET, COLUMNS, (), TRUE_EMOTIONS, FRAME_PATTERN, clip_folder)


def read_disguise(row: SheetRow, sheet: Path, problems: Problems) -> dict | None:
    """The disguise label and AUs of a row, or None (with an error) when either is unusable."""
    label = clean_text(row.values["disguise"]).lower()
    if label not in DISGUISES:
        problems.error(sheet, f"unknown disguised expression {clean_text(row.values['disguise'])!r}; expected one "
                              f"of {sorted(DISGUISES)}", row=row.number)
        return None
    try:
        aus = "+".join(parse_aus(row.values["disguise_aus"]))
    except ValueError as err:
        problems.error(sheet, f"{COLUMNS['disguise_aus']}: {err}", row=row.number)
        return None
    return {"disguise": label, "disguise_aus": aus}


def index_with_disguise(records: list[dict]) -> pd.DataFrame:
    """The index DataFrame of the records plus the `disguise` and `disguise_aus` columns."""
    frame = index_frame(records)
    for column in EXTRA_COLUMNS:
        frame[column] = pd.Series([r[column] for r in records], dtype=object)
    return frame


def parse(root: str | Path) -> ParseResult:
    root = require_root(root)
    problems = Problems()
    sheet = find_sheet(root, SHEET_PATTERNS, problems)
    frames_root = find_dir(root, FRAME_FOLDERS, problems, "frame")
    if sheet is None or frames_root is None:
        return ParseResult(index_with_disguise([]), problems)
    rows = drop_duplicates(read_sheet(sheet, COLUMNS, (), problems), LAYOUT.row_key, sheet, problems)
    records = []
    for row in rows:
        disguise = read_disguise(row, sheet, problems)
        record = read_row(row, sheet, frames_root, LAYOUT, problems) if disguise is not None else None
        if record is not None:
            records.append({**record, **disguise})
    index = index_with_disguise(records)
    report_unused_folders(frames_root, set(index["frame_dir"]), problems)
    return ParseResult(index, problems)


# -- writer twin --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaskedAnnotation:
    """One sheet row as the writer lays it out (AU codes as coding-sheet tokens, labels lower-case)."""

    subject: int
    filename: str
    onset: int
    apex: int
    offset: int
    true_codes: tuple[str, ...]
    emotion: str
    disguise: str
    disguise_codes: tuple[str, ...]


def clip_path(root: Path, subject: int, filename: str) -> Path:
    return clip_folder(root / FRAME_FOLDERS[0], subject, filename)


def frame_name(number: int) -> str:
    return f"img{number}.jpg"


def write_annotations(root: Path, annotations: list[MaskedAnnotation]) -> Path:
    rows = [(a.subject, a.filename, a.onset, a.apex, a.offset, "+".join(a.true_codes), a.emotion, a.disguise,
             "+".join(a.disguise_codes)) for a in annotations]
    return write_xlsx(root / SHEET_NAME, HEADER, rows)
