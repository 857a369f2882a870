"""Which run a checkpoint belongs to, and loading checkpoints safely.

Every checkpoint the runner writes carries an ``"affect"`` entry (added by :class:`CheckpointIdentity`):
the method, the experiment id and the fold. Before a run resumes from a checkpoint, :func:`verify_checkpoint`
reads it with ``torch.load(weights_only=True)`` (no arbitrary code is unpickled) and refuses, with one line
naming the file, a checkpoint that cannot be read or that another method or experiment wrote; without the check
Lightning would fail deep inside ``load_state_dict`` with a list of mismatched tensor names.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch

from core.errors import AffectError

KEY = "affect"


def identity(cfg, fold: str | None = None) -> dict:
    """What a checkpoint of this run must say about itself."""
    return {"method": str(cfg.method), "experiment": str(cfg.experiment), "fold": fold}


class CheckpointIdentity(pl.Callback):
    """Writes :func:`identity` into every checkpoint the trainer saves."""

    def __init__(self, expected: dict):
        self.expected = dict(expected)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint[KEY] = dict(self.expected)


def load_checkpoint(path: str | Path) -> dict:
    """``torch.load(path, weights_only=True)`` on CPU; an unreadable file is an AffectError naming it."""
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AffectError("checkpoint not found", path=path) from None
    except Exception as err:  # truncated zip, pickle with disallowed globals, not a checkpoint at all
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise AffectError(f"cannot read the checkpoint ({first_line})", path=path,
                          hint="delete it to start the run from scratch (drop --resume)") from None


def verify_checkpoint(path: str | Path, expected: dict) -> dict:
    """The checkpoint at ``path`` after checking it belongs to the run described by ``expected``."""
    checkpoint = load_checkpoint(path)
    found = checkpoint.get(KEY) if isinstance(checkpoint, dict) else None
    if not isinstance(found, dict):
        raise AffectError("this file was not written by `affect train` (no run identity in it)", path=path,
                          hint="delete it to start the run from scratch (drop --resume)")
    for field in ("method", "experiment", "fold"):
        if found.get(field) != expected.get(field):
            raise AffectError(
                f"checkpoint of {field} {found.get(field)!r}, but this run is {field} {expected.get(field)!r}",
                path=path, hint="a checkpoint from another run cannot be resumed; delete it or drop --resume")
    return checkpoint
