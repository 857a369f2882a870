"""Official dataset layouts: one parser module per format, each with a writer twin used by `affect synth`.

A format name (as in `params.yaml` `datasets.<name>.format` and `affect data check <format>`) is the name of its
module here; every module exposes ``parse(root) -> ParseResult``. The formats in use are those of the dataset
declarations (rawdata/datasets.py ``FORMATS``).
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from types import ModuleType

from core.errors import ConfigError, DatasetError
from rawdata.datasets import FORMATS
from rawdata.layouts.common import ParseResult, Problem

__all__ = ["FORMATS", "ParseResult", "Problem", "layout_module", "parse"]


def layout_module(format_name: str) -> ModuleType:
    """The parser module of `format_name`; an unknown name is a ConfigError naming the closest formats."""
    if format_name not in FORMATS:
        close = difflib.get_close_matches(format_name, FORMATS, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"known formats: {', '.join(sorted(FORMATS))}"
        raise ConfigError(f"unknown dataset format {format_name!r}", hint=hint)
    return importlib.import_module(FORMATS[format_name])


def parse(format_name: str, root: str | Path) -> ParseResult:
    """Parse the dataset folder `root` laid out as `format_name` into an index and a list of problems."""
    module = layout_module(format_name)
    root = Path(root)
    if not root.is_dir():
        raise DatasetError("dataset folder not found", path=root, hint=f"expected a {format_name} dataset here")
    return module.parse(root)
