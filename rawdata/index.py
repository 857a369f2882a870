"""The clip index: one row per clip, the common language of parsers, preprocessing stages and datamodules.

Columns are fixed in docs/architecture.md. List-valued columns (`frames`, `frame_numbers`) are Python lists in
memory and JSON strings on disk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from core.errors import DatasetError, MissingStageOutput
from core.io import write_csv

COLUMNS = (
    "sample_id",
    "dataset",
    "subject",
    "clip",
    "onset",
    "apex",
    "offset",
    "apex_estimated",
    "aus",
    "emotion",
    "frame_dir",
    "frames",
    "frame_numbers",
)
LIST_COLUMNS = ("frames", "frame_numbers")
STANDIN_MARKER = "SYNTHETIC.json"

_AU_TOKEN = re.compile(r"^(?P<side>[LRBT]?)(?P<num>\d+)(?P<suffix>[A-Ea-e]?)$")


def is_standin(root: str | Path) -> bool:
    """A dataset folder written by `affect synth` carries SYNTHETIC.json; a licensed copy does not."""
    return (Path(root) / STANDIN_MARKER).is_file()


def make_sample_id(dataset: str, subject: str, clip: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{dataset}_{subject}_{clip}")
    return safe


def normalise_subject(value) -> str:
    """`sub01`, `01`, `1.0`, `s1`, `spNO.1`, `006` -> `1`, `6`...; anything without digits is kept stripped."""
    text = str(value).strip()
    digits = re.findall(r"\d+", text)
    if not digits:
        return text
    return str(int(digits[-1]))


def parse_aus(value) -> list[str]:
    """Normalise a coding-sheet AU cell into tokens: `4+7`, `R12 + R15`, `AU1+AU2`, `L10`, `12.0` -> lists.

    Sides are kept as prefixes (`L12`); intensity letters (`12C`) are dropped. Empty, `/` or NaN give [].
    Raises ValueError on a token that is not an AU code.
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    text = str(value).strip()
    if text in ("", "/", "-", "nan", "None"):
        return []
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    tokens = []
    for raw in re.split(r"[+,;/\s]+", text.upper().replace("AU", "")):
        if not raw:
            continue
        m = _AU_TOKEN.match(raw)
        if not m:
            raise ValueError(f"not an action unit code: {raw!r} in {value!r}")
        side = m.group("side") if m.group("side") in ("L", "R") else ""
        tokens.append(f"{side}{int(m.group('num'))}")
    return tokens


def au_set(aus: str | list[str]) -> set[str]:
    """AU numbers present, ignoring side: `1+2+L12` -> {"1", "2", "12"}."""
    tokens = aus.split("+") if isinstance(aus, str) else aus
    return {t.lstrip("LR") for t in tokens if t}


def to_frame(records: list[dict]) -> pd.DataFrame:
    """Build the index DataFrame from parser records, checking columns and unique sample ids."""
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    dup = frame["sample_id"][frame["sample_id"].duplicated()]
    if len(dup):
        raise DatasetError(f"duplicate samples in index: {sorted(set(dup))[:5]}")
    for col in ("onset", "apex", "offset"):
        frame[col] = frame[col].astype(int)
    frame["apex_estimated"] = frame["apex_estimated"].astype(bool)
    frame["subject"] = frame["subject"].astype(str)
    return frame


def save_index(frame: pd.DataFrame, path: str | Path) -> Path:
    out = frame.copy()
    for col in LIST_COLUMNS:
        if col in out:
            out[col] = out[col].map(json.dumps)
    return write_csv(path, out)


def load_index(path: str | Path, stage_hint: str = "index") -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise MissingStageOutput(path, stage_hint, path.parent.name)
    frame = pd.read_csv(path, dtype={"subject": str, "clip": str, "sample_id": str, "aus": str}, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"index is missing columns {missing}", path=path)
    for col in LIST_COLUMNS:
        frame[col] = frame[col].map(json.loads)
    return frame
