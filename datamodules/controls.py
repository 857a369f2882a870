"""Negative controls: a run whose labels or inputs carry no information, which must score at its floor.

``data.negative_control`` (experiments/_defaults/global.yaml) is ``none`` for every real run. The CI sets it to
``permuted_labels`` in a copy of the quick pipeline and expects every experiment to fall below its regression band
(experiments/quick_pipeline.py): a band that such a run cannot leave would not detect a model that ignores its
input. ``blank_input`` replaces every input array by zeros instead.

Labels are permuted across ALL samples (train and test alike) with a generator seeded by the run's seed, so each
sample keeps its subject, dataset and fold but gets another sample's labels; every label column moves together
(emotion, disguise, AU codes), which keeps the class and AU frequencies of the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import ConfigError

CONTROLS = ("none", "permuted_labels", "blank_input")
LABEL_COLUMNS = ("y", "label", "class_name", "emotion", "aus", "y_disguise", "disguise", "disguise_aus")


def negative_control(cfg) -> str:
    mode = str(cfg.data.get("negative_control", "none"))
    if mode not in CONTROLS:
        raise ConfigError(f"data.negative_control={mode!r}: expected one of {', '.join(CONTROLS)}")
    return mode


def permute_labels(index: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``index`` with its label columns shuffled together across rows (same permutation for every column)."""
    order = np.random.default_rng([seed, 7919]).permutation(len(index))
    out = index.copy()
    for column in LABEL_COLUMNS:
        if column in out:
            out[column] = out[column].to_numpy()[order]
    return out


def blank_inputs(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.zeros_like(value) for key, value in arrays.items()}


def apply(cfg, index: pd.DataFrame, arrays: dict[str, np.ndarray]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The index and input arrays a source serves under ``data.negative_control``."""
    mode = negative_control(cfg)
    if mode == "permuted_labels":
        return permute_labels(index, int(cfg.seed)), arrays
    if mode == "blank_input":
        return index, blank_inputs(arrays)
    return index, arrays
