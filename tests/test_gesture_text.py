"""The fine-grained class texts: every class of every gesture dataset is described in all four dimensions."""

from __future__ import annotations

import pytest
import yaml

from core.errors import ConfigError
from datamodules.text import DIMENSIONS, MICROGESTURE_TEXT, class_texts, set_class_names
from experiments.config import DEFAULTS_DIR
from rawdata.synth.microgesture import CLASS_NAMES

EXPECTED = {"microgesture": 12, "imigue": 32, "smg": 17}


@pytest.mark.parametrize(("text_set", "n_classes"), EXPECTED.items())
def test_every_class_has_a_category_and_four_distinct_descriptions(text_set, n_classes):
    names = set_class_names(text_set)
    assert len(names) == len(set(names)) == n_classes
    for text in class_texts(text_set, names):
        assert text.category and len(text.fine) == len(DIMENSIONS) == 4
        assert all(len(sentence.split()) >= 3 for sentence in text.fine)
        assert len(set(text.fine)) == 4


@pytest.mark.parametrize("dataset", EXPECTED)
def test_dataset_configs_list_the_text_set_in_label_order(dataset):
    data = yaml.safe_load((DEFAULTS_DIR / "datasets" / f"{dataset}.yaml").read_text())["data"]
    assert data["text_set"] == dataset
    assert data["classes"] == set_class_names(dataset)


def test_standin_classes_match_the_generator_and_smg_is_marked_uncertain():
    assert tuple(set_class_names("microgesture")) == CLASS_NAMES
    assert all(t.uncertain for t in class_texts("smg", set_class_names("smg")))
    assert yaml.safe_load(MICROGESTURE_TEXT.read_text())["dimensions"] == list(DIMENSIONS)


def test_unknown_set_or_class_is_a_config_error():
    with pytest.raises(ConfigError, match="no text set 'ntu'"):
        class_texts("ntu", ["a"])
    with pytest.raises(ConfigError, match=r"\['juggling'\] have no text"):
        class_texts("imigue", ["folding_arms", "juggling"])
