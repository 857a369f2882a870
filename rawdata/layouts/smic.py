"""SMIC (Li et al., FG 2013): the HS, VIS and NIR channels, labels from folder names; parser and writer.

SMIC was recorded by three cameras. Facts: ../shared/reference/datasets.md for HS; [O] the SMIC project page of
the Oulu CMVS group (oulu.fi/cmvs, read via the search tool: VIS and NIR cameras at 25 fps were added for the
latter 10 of the 20 recorded subjects, and SMIC-E-VIS and SMIC-E-NIR hold 71 clips each); [U] unverified here (not
in any source read), used only as the stand-in generator's choices, verify against a real copy:

* HS: a high-speed camera, 100 fps, 16 subjects, 164 clips (negative 70, positive 51, surprise 43).
* VIS: a normal colour camera, 25 fps [O], 71 clips [O]; 8 subjects with clips and positive 28, negative 23,
  surprise 20 [U].
* NIR: a near-infrared camera, 25 fps [O], recorded with VIS, 71 clips [O]; single-channel images.

Layout: the official tree has one folder per channel, each with the same structure::

    SMIC/HS/s1/micro/positive/s1_po_01/reg_image046534.bmp      (6-digit absolute frame number)
    SMIC/VIS/s1/micro/negative/s1_ne_02/reg_image000123.bmp
    SMIC/NIR/s1/micro/surprise/s1_sur_01/reg_image000123.bmp

datasets.md documents the HS tree only; that VIS and NIR mirror it (same `sN/micro/<label>/<clip>` folders and
frame names) is an ASSUMPTION of this parser, so it also accepts `imageNNNNNN` frame names (without `reg_`).

Each channel is its own dataset key (``smic`` = HS, ``smic_vis``, ``smic_nir``; rawdata/datasets.py), with its own
format name and parser: ``affect data check smic_vis --root <SMIC folder>`` finds ``VIS/`` under the root (or
takes the root itself as the channel folder). There is no coding sheet: the emotion is the folder name (positive,
negative, surprise) and no AUs or apex are annotated. Each clip is cut from onset to offset, so onset/offset are
the first/last frames and the apex is the middle frame (`apex_estimated=True`; one warning for the whole
dataset). The writer writes JPEG frames (`reg_imageNNNNNN.jpg`) to keep the stand-in small; the parser accepts
.bmp, .jpg and .png alike.

The module-level functions are the HS channel's (format ``smic``); rawdata/layouts/smic_vis.py and smic_nir.py
bind the same code to their channel (:class:`SmicChannel`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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

LABELS = ("positive", "negative", "surprise")
ABBREVIATIONS = {"positive": "po", "negative": "ne", "surprise": "sur"}
SUBJECT_FOLDER = re.compile(r"s\d+", re.IGNORECASE)
FRAME_PATTERN = re.compile(r"(?:reg_)?image(?P<number>\d+)\.(?:bmp|jpe?g|png)", re.IGNORECASE)
FRAME_SUFFIX = ".jpg"


@dataclass(frozen=True)
class SmicChannel:
    """One SMIC channel: its folder in the official tree (`folder`) and its dataset key (`dataset`)."""

    folder: str
    dataset: str

    @property
    def candidates(self) -> tuple[str, ...]:
        """Where the channel folder may be under a root: the official tree, the cropped release, or the root
        itself (the user pointed at the channel folder)."""
        f = self.folder
        return (f, f"SMIC/{f}", f"SMIC_all_cropped/{f}", f"SMIC_all_raw/{f}", f"SMIC-{f}", ".")

    # -- parser -----------------------------------------------------------------------------------------------------

    def parse(self, root: str | Path) -> ParseResult:
        root = require_root(root)
        problems = Problems()
        channel = find_dir(root, self.candidates, problems, f"SMIC {self.folder}")
        if channel is None:
            return ParseResult(index_frame([]), problems)
        clips = list_clip_folders(channel, problems)
        if not clips:
            problems.error(channel, "no clips found (expected sN/micro/<positive|negative|surprise>/<clip>/"
                                    "reg_image*.bmp)")
        records = [r for s, label, folder in clips if (r := self.read_clip(s, label, folder, problems)) is not None]
        if records:
            problems.warning(channel, f"SMIC has no apex annotation: the middle frame is used as apex for "
                                      f"{len(records)} clips")
        return ParseResult(index_frame(records), problems)

    def read_clip(self, subject: str, label: str, folder: Path, problems: Problems) -> dict | None:
        frames = clip_frames(folder, FRAME_PATTERN, problems)
        if not frames:
            return None
        numbers = [n for n, _ in frames]
        timing = settle_timing(numbers[0], None, numbers[-1], numbers, folder, None, None, problems)
        return clip_record(self.dataset, normalise_subject(subject), folder.name, timing, "", label, folder, frames)

    # -- writer twin ------------------------------------------------------------------------------------------------

    def recording_folder(self, root: Path, recording: Recording) -> Path:
        label = recording.expressions[0].emotion
        return root / self.folder / f"s{recording.subject}" / "micro" / label / recording.name


def list_clip_folders(channel: Path, problems: Problems) -> list[tuple[str, str, Path]]:
    """(subject folder, label, clip folder) of every clip under <channel>/sN/micro/<label>/<clip>."""
    clips = []
    for subject in sorted(p for p in channel.iterdir() if p.is_dir() and SUBJECT_FOLDER.fullmatch(p.name)):
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


HS = SmicChannel("HS", "smic")
VIS = SmicChannel("VIS", "smic_vis")
NIR = SmicChannel("NIR", "smic_nir")
CHANNELS = {"hs": HS, "vis": VIS, "nir": NIR}

# -- the HS channel as this module's format (``smic``) ------------------------------------------------------------

DATASET = HS.dataset
parse = HS.parse
recording_folder = HS.recording_folder


def recording_names(subject: int, emotions: list[str], rng: np.random.Generator) -> list[str]:
    """`s<subject>_<po|ne|sur>_<nn>`, numbered per label (the same in every channel)."""
    names, counts = [], {}
    for emotion in emotions:
        counts[emotion] = counts.get(emotion, 0) + 1
        names.append(f"s{subject}_{ABBREVIATIONS[emotion]}_{counts[emotion]:02d}")
    return names


def frame_name(recording: Recording, number: int) -> str:
    return f"reg_image{number:06d}{FRAME_SUFFIX}"


def sample_clip_name(recording: Recording, expression) -> str:
    return recording.name


def write_annotations(root: Path, recordings: list[Recording]) -> None:
    """SMIC has no sheet: labels live in the folder names."""
    return None
