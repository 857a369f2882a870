"""The cross-database (CDMER) benchmark's databases checked together: `affect data check cdmer --root data/raw`.

`root` holds one folder per database of the benchmark (casme2/, smic/, smic_vis/, smic_nir/, each in its own
format); this parses every one with its own parser and pools the clips, as the composite does for MEGC2019. The
benchmark's tasks (which database is source and which target) are data: cdmer_tasks.yaml beside this file, read by
rawdata/datasets.py (one experiment dataset per task) and datamodules/cross_database.py (the protocol).
"""

from __future__ import annotations

from pathlib import Path

from rawdata.datasets import CDMER_TASKS_FILE, cdmer_task_pairs
from rawdata.layouts import parse as parse_format
from rawdata.layouts.common import ParseResult, parse_folders

TASKS_FILE = CDMER_TASKS_FILE


def databases(path: Path = TASKS_FILE) -> list[str]:
    """Every database a task names, in order of first appearance."""
    return list(dict.fromkeys(name for pair in cdmer_task_pairs(path) for name in pair))


def parse(root: str | Path) -> ParseResult:
    return parse_folders(root, databases(), "the CDMER benchmark needs", parse_format)
