"""User-facing errors.

Everything that goes wrong because of the user's input (a wrong path, a malformed sheet, a missing frame, a
config typo, a stage not yet run) raises :class:`AffectError` with a message that names the file (and row, or
key) and says what was expected. The CLI prints such errors as one line and exits non-zero; the traceback is
shown only with ``--debug``. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations

from pathlib import Path


class AffectError(Exception):
    """An error caused by input the user controls; its message is shown to the user as is."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None):
        self.path = Path(path) if path is not None else None
        self.hint = hint
        text = f"{self.path}: {message}" if self.path is not None else message
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


class DatasetError(AffectError):
    """A dataset folder or coding sheet that cannot be parsed as the expected layout."""


class ConfigError(AffectError):
    """An unknown experiment, method, dataset or config key, or a value of the wrong type."""


class MissingStageOutput(AffectError):
    """A processed file is missing: the message names the stage that writes it."""

    def __init__(self, path: str | Path, stage: str, dataset: str | None = None):
        command = f"affect preprocess {stage}" + (f" {dataset}" if dataset else "")
        super().__init__(
            "missing processed file", path=path, hint=f"run `{command}` or `dvc repro` first"
        )
        self.stage = stage
