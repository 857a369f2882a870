"""Where a result came from: the repository commit, package versions, data file hashes (run.json, MLflow, baselines)."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path

PACKAGES = ("torch", "lightning", "torchmetrics", "numpy", "opencv-contrib-python-headless", "open_clip_torch",
            "torch-geometric", "mlflow", "dvc", "scikit-learn", "omegaconf", "pandas")


def git_commit(root: Path, exclude: tuple[str, ...] = ()) -> str:
    """HEAD of the repository at ``root`` (``-dirty`` when tracked files changed), or ``unknown``.

    ``exclude``: paths (relative to ``root``) whose changes do not count as dirty, e.g. a benchmark's own results
    folder, which the benchmark rewrites as it runs."""
    pathspec = ["--", ".", *(f":(exclude){path}" for path in exclude)] if exclude else []
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", *pathspec], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[f"version.{name}"] = version(name)
        except PackageNotFoundError:
            out[f"version.{name}"] = "missing"
    return out


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
