"""Negative controls (datamodules/controls.py): labels permuted together across samples, or inputs blanked."""

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from core.errors import ConfigError
from datamodules import controls


def _index(n=40):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    return pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "subject": [str(i % 5) for i in range(n)],
                         "y": y, "emotion": np.array(["a", "b", "c"])[y], "aus": [f"{v + 1}" for v in y]})


def test_permuted_labels_move_every_label_column_together_and_keep_frequencies():
    index = _index()
    cfg = OmegaConf.create({"seed": 3, "data": {"negative_control": "permuted_labels"}})
    permuted, arrays = controls.apply(cfg, index, {"x": np.ones((40, 2))})
    assert (permuted["sample_id"] == index["sample_id"]).all() and (permuted["subject"] == index["subject"]).all()
    assert sorted(permuted["y"]) == sorted(index["y"])  # class frequencies kept
    assert (permuted["y"] != index["y"]).mean() > 0.4  # labels really moved
    # the columns moved together: emotion and AU codes still agree with y
    assert (permuted["emotion"] == np.array(["a", "b", "c"])[permuted["y"]]).all()
    assert (permuted["aus"] == (permuted["y"] + 1).astype(str)).all()
    again, _ = controls.apply(cfg, index, {})
    assert (again["y"] == permuted["y"]).all()  # seeded by the run's seed
    assert arrays["x"].sum() == 80


def test_blank_input_zeroes_every_array_and_keeps_labels():
    index = _index()
    cfg = OmegaConf.create({"seed": 0, "data": {"negative_control": "blank_input"}})
    same, arrays = controls.apply(cfg, index, {"x": np.ones((40, 2)), "img": np.full((40, 3), 7, np.uint8)})
    assert (same["y"] == index["y"]).all()
    assert all(not a.any() for a in arrays.values()) and arrays["img"].dtype == np.uint8


def test_an_unknown_control_is_a_config_error():
    with pytest.raises(ConfigError, match="negative_control"):
        controls.apply(OmegaConf.create({"seed": 0, "data": {"negative_control": "shuffle"}}), _index(), {})
