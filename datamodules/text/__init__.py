"""Class texts for vision-language methods: ``microgesture_classes.yaml`` (see its header for what it holds)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from core.errors import ConfigError

MICROGESTURE_TEXT = Path(__file__).with_name("microgesture_classes.yaml")
DIMENSIONS = ("body_part", "motion_path", "speed_rhythm", "contact")


@dataclass(frozen=True)
class ClassText:
    """The category-level text and the four fine-grained descriptions of one class."""

    name: str
    category: str
    fine: tuple[str, ...]  # one sentence per entry of DIMENSIONS
    uncertain: bool = False


@cache
def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def class_texts(text_set: str, class_names: list[str], path: Path = MICROGESTURE_TEXT) -> list[ClassText]:
    """The texts of ``class_names`` (in that order) from set ``text_set``; every class must be described."""
    sets = _load(path)["sets"]
    if text_set not in sets:
        raise ConfigError(f"no text set {text_set!r} in {path.name}; known: {', '.join(sets)}", path=path)
    described = {entry["name"]: entry for entry in sets[text_set]["classes"]}
    missing = [name for name in class_names if name not in described]
    if missing:
        raise ConfigError(f"classes {missing} have no text in set {text_set!r}", path=path,
                          hint="data.classes must use the names of the text file")
    return [
        ClassText(name, described[name]["category"], tuple(described[name][d] for d in DIMENSIONS),
                  bool(described[name].get("uncertain", False)))
        for name in class_names
    ]


def set_class_names(text_set: str, path: Path = MICROGESTURE_TEXT) -> list[str]:
    """Class names of a text set in label order."""
    return [entry["name"] for entry in _load(path)["sets"][text_set]["classes"]]
