"""The preprocessing knobs of params.yaml, as the stages read them.

Every stage reads its own block `preprocess.<stage>` plus the shared `preprocess.crop_size`; where a dataset's
raw copy lives and how it is laid out come from `datasets.<name>.root` / `.format` (and, when set,
`datasets.<name>.fps`, which overrides `preprocess.magnify.fps`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from core.errors import ConfigError

STAGES = ("index", "faces", "landmarks", "magnify", "flow", "features")


def stage_params(params: DictConfig, stage: str, dataset: str | None = None) -> dict[str, Any]:
    """The plain-dict knobs a stage depends on: its `preprocess.<stage>` block plus `crop_size`.

    `n_jobs` is deliberately left out: it changes how fast a stage runs, never what it writes. For `magnify`,
    a `datasets.<dataset>.fps` entry overrides `preprocess.magnify.fps` (the frame rate is a property of the
    recording, the default is CASME II's 200 fps); a derived copy `<dataset>-...` (occluded, low-resolution) takes
    its source dataset's.
    """
    preprocess = params.get("preprocess")
    if preprocess is None or stage not in preprocess:
        raise ConfigError(f"params.yaml has no `preprocess.{stage}` block", hint="see the preprocess: section")
    knobs = OmegaConf.to_container(preprocess[stage], resolve=True)
    knobs["crop_size"] = int(preprocess.get("crop_size", 128))
    if stage == "magnify" and dataset is not None:
        fps = OmegaConf.select(params, f"datasets.{dataset}.fps", default=None)
        if fps is None and "-" in dataset:  # a derived copy (<dataset>-occ-<kind>, <dataset>-x<factor>-<sr>)
            fps = OmegaConf.select(params, f"datasets.{dataset.split('-')[0]}.fps", default=None)  # its source's
        if fps is not None:
            knobs["fps"] = float(fps)
    return knobs


def n_jobs(params: DictConfig) -> int:
    """Worker processes for the stage driver (`preprocess.n_jobs`, default 2)."""
    return max(1, int(OmegaConf.select(params, "preprocess.n_jobs", default=2)))


def dataset_source(params: DictConfig, dataset: str) -> tuple[Path, str]:
    """(`datasets.<dataset>.root`, `datasets.<dataset>.format`), with an error naming the missing key."""
    entry = OmegaConf.select(params, f"datasets.{dataset}", default=None)
    if entry is None:
        known = sorted((params.get("datasets") or {}).keys())
        raise ConfigError(f"unknown dataset {dataset!r} in params.yaml `datasets:`", hint=f"known: {known}")
    for key in ("root", "format"):
        if not entry.get(key):
            raise ConfigError(f"params.yaml `datasets.{dataset}.{key}` is not set")
    return Path(entry.root), str(entry.format)
