"""The EEG cross-dataset tasks' datasets checked together: `affect data check eeg_cross --root data/raw`.

`root` holds one folder per dataset of the tasks (seed/, seed_iv/, each in its own format, rawdata/layouts/seed.py
and seed_iv.py); this parses each with its own parser and pools the trials (as rawdata/layouts/cdmer.py does for
the micro-expression benchmark). The tasks themselves (which dataset is source, which target) are
rawdata/datasets.py ``EEG_CROSS_PAIRS``; the protocol and its class mapping are datamodules/eeg_protocols.py's.
"""

from __future__ import annotations

from pathlib import Path

from rawdata.datasets import EEG_CROSS_PAIRS
from rawdata.layouts import parse as parse_format
from rawdata.layouts.common import ParseResult, parse_folders


def datasets() -> list[str]:
    """Every dataset a task names, in order of first appearance."""
    return list(dict.fromkeys(name for pair in EEG_CROSS_PAIRS for name in pair))


def parse(root: str | Path) -> ParseResult:
    return parse_folders(root, datasets(), "the EEG cross-dataset tasks need", parse_format)
