"""Atomic file writes: a result or processed file is either complete or absent, never half-written.

Every writer goes to a temporary file in the destination folder and renames it into place (``os.replace`` is
atomic on POSIX within one file system), so an interrupted stage or run leaves no partial output and a resumed
run can trust any file that exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed onto ``path``, on error removed.

    ``suffix`` defaults to the destination's suffix so writers that choose a format by extension still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary name ends in the real suffix (numpy appends ".npz"/".npy" to names without it)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + (suffix if suffix is not None else path.suffix), dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; results are ordinary shared files
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete what :func:`atomic_path` left in ``folder`` when its process was killed mid-write; return the paths.

    Only names of atomic_path's own form (``.<name>.<random>.tmp<suffix>``) are touched, never sub-folders.
    """
    folder = Path(folder)
    stale = [p for p in folder.glob(".*.tmp*") if p.is_file() and ".tmp" in p.name] if folder.is_dir() else []
    for path in stale:
        path.unlink()
    return stale


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_csv(path: str | Path, frame) -> Path:
    """Write a pandas DataFrame as CSV without its index."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)


def write_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    """Write compressed arrays; ``np.savez_compressed`` would append ``.npz`` to a name without it."""
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return Path(path)


def write_npy(path: str | Path, array: np.ndarray) -> Path:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)
    return Path(path)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def replace_folder(source: Path, target: Path) -> None:
    """Move ``source`` onto ``target`` (same file system), dropping what ``target`` held before."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    os.replace(source, target)
    if old is not None:
        shutil.rmtree(old)
