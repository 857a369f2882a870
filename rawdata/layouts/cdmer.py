"""The cross-database (CDMER) benchmark's databases checked together: `affect data check cdmer --root data/raw`.

`root` holds one folder per database of the benchmark (casme2/, smic/, smic_vis/, smic_nir/, each in its own
format); this parses every one with its own parser and pools the clips, as the composite does for MEGC2019. The
benchmark's tasks (which database is source and which target) are data: cdmer_tasks.yaml beside this file, read by
rawdata/datasets.py (one experiment dataset per task) and datamodules/cross_database.py (the protocol).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rawdata.datasets import CDMER_TASKS_FILE, cdmer_task_pairs
from rawdata.layouts import parse as parse_format
from rawdata.layouts.common import ParseResult, Problems, index_frame

TASKS_FILE = CDMER_TASKS_FILE


def databases(path: Path = TASKS_FILE) -> list[str]:
    """Every database a task names, in order of first appearance."""
    return list(dict.fromkeys(name for pair in cdmer_task_pairs(path) for name in pair))


def parse(root: str | Path) -> ParseResult:
    root = Path(root)
    problems = Problems()
    parts = []
    for name in databases():
        folder = root / name
        if not folder.is_dir():
            problems.error(folder, f"{name} folder not found (the CDMER benchmark needs {', '.join(databases())})")
            continue
        result = parse_format(name, folder)
        problems += result.problems
        parts.append(result.index)
    index = pd.concat(parts, ignore_index=True) if parts else index_frame([])
    return ParseResult(index, problems)
