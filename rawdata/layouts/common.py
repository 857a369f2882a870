"""What every layout parser and writer shares: problems, sheet reading, frame folders, the sheet-to-index walk.

A parser never stops at the first problem: it records each one as a :class:`Problem` (severity, file, row,
message) and keeps the clips that are fine, so `affect data check` can list everything at once. Problems the
pipeline can handle (an apex that is `/` or -1, an exact duplicate row, a gap inside a clip) are warnings;
anything that makes a clip unusable (missing onset frame, onset after apex, unknown emotion, wrong cell type,
missing column) is an error, and a dataset with any error is not usable.

Spreadsheet rows are reported as Excel shows them (1-based, counting the header and any preamble rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DatasetError
from core.io import atomic_path
from rawdata.index import COLUMNS, make_sample_id, normalise_subject, parse_aus, to_frame

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
MISSING_CELLS = ("", "/", "-", "-1", "nan", "none", "n/a", "na")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset: `severity` "error" (clip or dataset unusable) or "warning" (handled)."""

    severity: str
    file: str
    row: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row is not None else self.file
        return f"{self.severity}: {where}: {self.message}"


@dataclass
class ParseResult:
    """A parsed dataset: the index DataFrame of its usable clips and every problem found."""

    index: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def usable(self) -> bool:
        return not self.errors and len(self.index) > 0


class Problems(list):
    """A list of :class:`Problem` with two shorthands."""

    def error(self, file, message: str, row: int | None = None) -> None:
        self.append(Problem("error", str(file), row, message))

    def warning(self, file, message: str, row: int | None = None) -> None:
        self.append(Problem("warning", str(file), row, message))


# -- cells ----------------------------------------------------------------------------------------------------------


def is_missing(value) -> bool:
    """Empty, NaN, `/`, `-`, `-1` and similar: the sheets' ways of saying "not annotated"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    if isinstance(value, int | float | np.integer | np.floating) and float(value) == -1:
        return True
    return str(value).strip().lower() in MISSING_CELLS


def frame_number(value) -> int:
    """A sheet cell as a frame number: ints, integral floats (`46.0`) and digit strings; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    raise ValueError(value)


def clean_text(value) -> str:
    """A cell as stripped text; integral floats lose their `.0` (Excel stores `1` as 1.0)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def header_key(value) -> str:
    """Column names compared without case, spaces or punctuation: `Onset Frame` == `OnsetFrame`."""
    return re.sub(r"[^a-z0-9]", "", clean_text(value).lower())


# -- sheets ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    """One data row of a coding sheet: Excel row number and its values keyed by the layout's field names."""

    number: int
    values: dict


def find_sheet(root: Path, patterns: Sequence[str], problems: Problems) -> Path | None:
    """The newest (last by name) file under `root` matching one of `patterns` (glob, searched two levels deep)."""
    found: list[Path] = []
    for pattern in patterns:
        found += sorted(root.glob(pattern)) + sorted(root.glob(f"*/{pattern}"))
    found = [p for p in found if not p.name.startswith((".", "~$"))]
    if not found:
        problems.error(root, f"no coding sheet found (expected a file matching {' or '.join(patterns)})")
        return None
    return sorted(found, key=lambda p: p.name)[-1]


def read_sheet(path: Path, columns: dict[str, str], known: Iterable[str], problems: Problems,
               max_preamble: int = 40) -> list[SheetRow]:
    """Rows of the first worksheet of `path` with values keyed by field name.

    `columns` maps field name -> header text. The header row is the first of the top `max_preamble` rows that
    holds all required headers (SAMM has ~13 preamble rows above it); missing headers are an error, unknown
    named headers a warning (unnamed columns, as CASME II has, are ignored). Fully empty rows are skipped.
    """
    try:
        raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    except Exception as err:  # openpyxl raises many types for a damaged or non-xlsx file
        problems.error(path, f"cannot read the spreadsheet: {err}")
        return []
    wanted = {header_key(h): name for name, h in columns.items()}
    header_at = _find_header_row(raw, set(wanted), max_preamble)
    if header_at is None:
        best = _best_header_row(raw, set(wanted), max_preamble)
        found = [clean_text(v) for v in raw.iloc[best]] if len(raw) else []
        missing = [columns[wanted[k]] for k in wanted if k not in {header_key(v) for v in found}]
        problems.error(path, f"missing columns {missing}; expected {list(columns.values())}, "
                             f"found {[f for f in found if f]}", row=best + 1 if len(raw) else None)
        return []
    headers = [header_key(v) for v in raw.iloc[header_at]]
    known_keys = set(wanted) | {header_key(k) for k in known}
    extra = [clean_text(v) for v, k in zip(raw.iloc[header_at], headers, strict=True) if k and k not in known_keys]
    if extra:
        problems.warning(path, f"extra columns ignored: {extra}", row=header_at + 1)
    positions = {wanted[k]: headers.index(k) for k in wanted}
    rows = []
    for i in range(header_at + 1, len(raw)):
        cells = raw.iloc[i]
        if all(is_blank(v) for v in cells):
            continue
        rows.append(SheetRow(i + 1, {name: cells.iloc[pos] for name, pos in positions.items()}))
    return rows


def is_blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _find_header_row(raw: pd.DataFrame, wanted: set[str], limit: int) -> int | None:
    for i in range(min(limit, len(raw))):
        if wanted <= {header_key(v) for v in raw.iloc[i]}:
            return i
    return None


def _best_header_row(raw: pd.DataFrame, wanted: set[str], limit: int) -> int:
    scores = [len(wanted & {header_key(v) for v in raw.iloc[i]}) for i in range(min(limit, len(raw)))]
    return int(np.argmax(scores)) if scores else 0


def drop_duplicates(rows: list[SheetRow], key: Callable[[SheetRow], tuple], sheet: Path,
                    problems: Problems) -> list[SheetRow]:
    """Keep the first row of each key. An exact repeat is a warning; the same clip with other values an error."""
    seen: dict[tuple, SheetRow] = {}
    kept = []
    for row in rows:
        k = key(row)
        first = seen.get(k)
        if first is None:
            seen[k] = row
            kept.append(row)
        elif _same_values(first.values, row.values):
            problems.warning(sheet, f"duplicate of row {first.number}, ignored", row=row.number)
        else:
            problems.error(sheet, f"same clip {k} as row {first.number} with different annotations", row=row.number)
    return kept


def _same_values(a: dict, b: dict) -> bool:
    return all(clean_text(a[k]) == clean_text(b[k]) for k in a)


# -- frames ---------------------------------------------------------------------------------------------------------


def list_frames(folder: Path, pattern: re.Pattern, problems: Problems) -> list[tuple[int, str]]:
    """(frame number, file name) of the images in `folder`, sorted by number (img9 before img10).

    `pattern` must have a group named `number`. Image files that do not match are reported as warnings and
    skipped; other files (Thumbs.db, shortcuts) are ignored.
    """
    frames = []
    for path in folder.iterdir():
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        match = pattern.fullmatch(path.name)
        if match is None:
            problems.warning(path, f"image name does not follow the layout ({pattern.pattern}), ignored")
            continue
        frames.append((int(match.group("number")), path.name))
    return sorted(frames)


def missing_runs(numbers: Iterable[int], first: int, last: int) -> list[str]:
    """Gaps of `numbers` inside first..last as compact ranges: ["57-59", "63"]."""
    present = set(numbers)
    gaps, start = [], None
    for n in range(first, last + 2):
        if n <= last and n not in present:
            start = n if start is None else start
        elif start is not None:
            gaps.append(f"{start}" if start == n - 1 else f"{start}-{n - 1}")
            start = None
    return gaps


def middle_frame(numbers: Sequence[int], onset: int, offset: int) -> int:
    """The existing frame closest to (onset + offset) / 2 (the SMIC convention for a missing apex)."""
    target = (onset + offset) / 2
    inside = [n for n in numbers if onset <= n <= offset] or list(numbers)
    return min(inside, key=lambda n: (abs(n - target), n))


# -- sheet -> index ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLayout:
    """How one sheet-based dataset is laid out (everything the generic walk needs).

    `columns` maps the fields subject, filename, onset, apex, offset, aus, emotion to header texts;
    `clip_folder(frames_root, subject_cell, filename, emotion)` gives the frame folder of a row;
    `clip_name(filename, onset)` the index `clip`; with `trim` the clip keeps only frames onset..offset (long
    recordings holding several expressions, as CAS(ME)^3).
    """

    dataset: str
    columns: dict[str, str]
    known_columns: tuple[str, ...]
    emotions: frozenset[str]
    frame_pattern: re.Pattern
    clip_folder: Callable[[Path, object, str, str], Path]
    clip_name: Callable[[str, int], str] = lambda filename, onset: filename
    trim: bool = False
    row_key: Callable[[SheetRow], tuple] = lambda row: (
        normalise_subject(row.values["subject"]), clean_text(row.values["filename"]))


def parse_sheet_dataset(sheet: Path, frames_root: Path, layout: SheetLayout, problems: Problems) -> pd.DataFrame:
    """Read every row of `sheet`, check it against its frame folder and return the index of the usable clips."""
    rows = read_sheet(sheet, layout.columns, layout.known_columns, problems)
    rows = drop_duplicates(rows, layout.row_key, sheet, problems)
    records = [r for row in rows if (r := read_row(row, sheet, frames_root, layout, problems)) is not None]
    return index_frame(records)


def index_frame(records: list[dict]) -> pd.DataFrame:
    if not records:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return to_frame(records)


def read_row(row: SheetRow, sheet: Path, frames_root: Path, layout: SheetLayout, problems: Problems) -> dict | None:
    """One sheet row -> index record, or None (with an error) when the clip cannot be used."""
    v, n = row.values, row.number
    subject = normalise_subject(clean_text(v["subject"]))
    filename = clean_text(v["filename"])
    if not subject or not filename:
        problems.error(sheet, "empty Subject or Filename", row=n)
        return None
    if not subject.isdigit():
        problems.error(sheet, f"{layout.columns['subject']} must hold a subject number, got "
                              f"{clean_text(v['subject'])!r}", row=n)
        return None
    emotion = clean_text(v["emotion"]).lower()
    if emotion not in layout.emotions:
        problems.error(sheet, f"unknown emotion {clean_text(v['emotion'])!r}; expected one of "
                              f"{sorted(layout.emotions)}", row=n)
        return None
    try:
        aus = "+".join(parse_aus(v["aus"]))
    except ValueError as err:
        problems.error(sheet, f"{layout.columns['aus']}: {err}", row=n)
        return None
    marks = read_marks(v, layout.columns, sheet, n, problems)
    if marks is None:
        return None
    folder = layout.clip_folder(frames_root, v["subject"], filename, emotion)
    frames = clip_frames(folder, layout.frame_pattern, problems)
    if not frames:
        return None
    onset, apex, offset = marks
    if layout.trim:
        last = offset if offset is not None else onset
        frames = [f for f in frames if onset <= f[0] <= last]
    timing = settle_timing(onset, apex, offset, [f[0] for f in frames], folder, sheet, n, problems)
    if timing is None:
        return None
    return clip_record(layout.dataset, subject, layout.clip_name(filename, onset), timing, aus, emotion,
                       folder, frames)


def read_marks(values: dict, columns: dict[str, str], sheet: Path, row: int,
               problems: Problems) -> tuple[int, int | None, int | None] | None:
    """(onset, apex or None, offset or None) of a row; a missing apex or offset is a warning, a wrong type an
    error."""
    try:
        onset = frame_number(values["onset"])
    except ValueError:
        problems.error(sheet, f"{columns['onset']} must be a frame number, got {clean_text(values['onset'])!r}",
                       row=row)
        return None
    result = [onset]
    for name in ("apex", "offset"):
        cell = values[name]
        if is_missing(cell) or (name == "offset" and clean_text(cell) == "0"):
            what = "the middle frame is used" if name == "apex" else "the last frame of the clip is used"
            problems.warning(sheet, f"{columns[name]} not annotated ({clean_text(cell) or 'empty'}); {what}",
                             row=row)
            result.append(None)
            continue
        try:
            result.append(frame_number(cell))
        except ValueError:
            problems.error(sheet, f"{columns[name]} must be a frame number, got {clean_text(cell)!r}", row=row)
            return None
    return result[0], result[1], result[2]


def clip_frames(folder: Path, pattern: re.Pattern, problems: Problems) -> list[tuple[int, str]]:
    """Sorted frames of a clip folder; a missing or image-less folder is an error (returns [])."""
    if not folder.is_dir():
        problems.error(folder, "clip folder not found")
        return []
    frames = list_frames(folder, pattern, problems)
    if not frames:
        problems.error(folder, "clip folder holds no frames")
    return frames


@dataclass(frozen=True)
class Timing:
    onset: int
    apex: int
    offset: int
    apex_estimated: bool


def settle_timing(onset: int, apex: int | None, offset: int | None, numbers: list[int], folder: Path,
                  sheet: Path | None, row: int | None, problems: Problems) -> Timing | None:
    """Check onset <= apex <= offset against the frames present; fill a missing offset (last frame) and apex
    (middle frame). Missing onset/apex/offset frames are errors, gaps between them warnings."""
    where = sheet if sheet is not None else folder
    if offset is None:
        offset = numbers[-1] if numbers else onset
    if onset > offset:
        problems.error(where, f"onset {onset} is after offset {offset}", row=row)
        return None
    if apex is not None and not onset <= apex <= offset:
        relation = f"onset {onset} is after apex {apex}" if onset > apex else f"apex {apex} is after offset {offset}"
        problems.error(where, relation, row=row)
        return None
    present = set(numbers)
    absent = [f"{name} {n}" for name, n in (("onset", onset), ("apex", apex), ("offset", offset))
              if n is not None and n not in present]
    annotated = f" (annotated in {sheet.name} row {row})" if sheet is not None and row is not None else ""
    if absent:
        span = f"{numbers[0]}..{numbers[-1]}" if numbers else "none"
        problems.error(folder, f"missing frames: {', '.join(absent)}; frames present: {span}{annotated}")
        return None
    gaps = missing_runs(numbers, onset, offset)
    if gaps:
        problems.warning(folder, f"missing frames between onset and offset: {', '.join(gaps)}{annotated}")
    if apex is None:
        return Timing(onset, middle_frame(numbers, onset, offset), offset, True)
    return Timing(onset, apex, offset, False)


def clip_record(dataset: str, subject: str, clip: str, timing: Timing, aus: str, emotion: str, folder: Path,
                frames: list[tuple[int, str]]) -> dict:
    """One index row (docs/architecture.md)."""
    return {
        "sample_id": make_sample_id(dataset, subject, clip),
        "dataset": dataset,
        "subject": subject,
        "clip": clip,
        "onset": timing.onset,
        "apex": timing.apex,
        "offset": timing.offset,
        "apex_estimated": timing.apex_estimated,
        "aus": aus,
        "emotion": emotion,
        "frame_dir": str(folder.resolve()),
        "frames": [name for _, name in frames],
        "frame_numbers": [number for number, _ in frames],
    }


def require_root(root: str | Path) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError("dataset folder not found", path=root)
    return root


def find_dir(root: Path, candidates: Sequence[str], problems: Problems, what: str) -> Path | None:
    """The first existing `root/<candidate>` (candidates may hold `/`); an error naming all of them if none."""
    for name in candidates:
        if (root / name).is_dir():
            return root / name
    problems.error(root, f"no {what} folder (expected one of {', '.join(candidates)})")
    return None


# -- writers --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """One annotated expression (one coding-sheet row): label as the dataset writes it, AU codes, frames."""

    emotion: str
    codes: tuple[str, ...]
    onset: int
    apex: int
    offset: int

    @property
    def aus(self) -> str:
        return "+".join(self.codes)


@dataclass(frozen=True)
class Recording:
    """One frame folder as a writer lays it out: a subject number, the folder name, absolute frame numbers and
    the expressions annotated in it (one, except in long recordings such as CAS(ME)^3's)."""

    subject: int
    name: str
    frame_numbers: tuple[int, ...]
    expressions: tuple[Expression, ...]


def write_xlsx(path: Path, header: Sequence, rows: Iterable[Sequence], preamble: Sequence[Sequence] = ()) -> Path:
    """Write one worksheet: optional preamble rows, the header row (None = unnamed column), then the rows.

    The file is byte-identical for identical content (fixed document dates and zip entry times), so a
    regenerated stand-in does not look changed to DVC.
    """
    import io
    import zipfile
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.properties.created = datetime(2000, 1, 1)
    sheet = book.active
    for line in preamble:
        sheet.append(list(line))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    with atomic_path(path) as tmp, zipfile.ZipFile(buffer) as source, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_frames(folder: Path, names: Sequence[str], frames: np.ndarray, jpeg_quality: int = 90) -> None:
    """Write RGB (T,H,W,3) or grey (T,H,W) uint8 frames under `folder` with the given file names.

    Files go straight into place: the stand-in generator writes a whole dataset into a staging folder that is
    renamed into place only when complete (see rawdata/synth/__init__.py).
    """
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(names, frames, strict=True):
        image = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if name.lower().endswith((".jpg", ".jpeg")) else []
        if not cv2.imwrite(str(folder / name), image, params):
            raise OSError(f"could not write {folder / name}")


def parse_sheet_layout(root: str | Path, sheet_patterns: Sequence[str], frame_folders: Sequence[str],
                       layout: SheetLayout) -> ParseResult:
    """The whole parse of a sheet-based dataset: find sheet and frame folder, walk the rows, report strays."""
    root = require_root(root)
    problems = Problems()
    sheet = find_sheet(root, sheet_patterns, problems)
    frames_root = find_dir(root, frame_folders, problems, "frame")
    if sheet is None or frames_root is None:
        return ParseResult(index_frame([]), problems)
    index = parse_sheet_dataset(sheet, frames_root, layout, problems)
    report_unused_folders(frames_root, set(index["frame_dir"]), problems)
    return ParseResult(index, problems)


def report_unused_folders(frames_root: Path, used: set[str], problems: Problems) -> None:
    """Warn about empty folders and frame folders no annotation points to (they are ignored)."""
    for folder in sorted(p for p in frames_root.rglob("*") if p.is_dir()):
        children = list(folder.iterdir())
        if not children:
            problems.warning(folder, "empty folder, ignored")
        elif str(folder.resolve()) not in used and any(c.suffix.lower() in IMAGE_SUFFIXES for c in children):
            problems.warning(folder, "frame folder not in the annotations, ignored")


def parse_folders(root: str | Path, names: Sequence[str], needed_by: str,
                  parse_one: Callable[[str, Path], ParseResult]) -> ParseResult:
    """``root/<name>`` for every name, each parsed by ``parse_one(name, folder)`` (its own format), the indices
    pooled; a missing folder is a problem naming it and what needs the set (``needed_by``)."""
    root = Path(root)
    problems = Problems()
    parts = []
    for name in names:
        folder = root / name
        if not folder.is_dir():
            problems.error(folder, f"{name} folder not found ({needed_by} {', '.join(names)})")
            continue
        result = parse_one(name, folder)
        problems += result.problems
        parts.append(result.index)
    index = pd.concat(parts, ignore_index=True) if parts else index_frame([])
    return ParseResult(index, problems)
