"""Methods, datasets and experiments known to the suite (discovered or declared once, never listed twice).

- methods: every sub-package of lightning_modules/ whose ``__init__`` declares ``METHOD = MethodSpec(...)``;
- datasets: the declarations of rawdata/datasets.py that have a defaults YAML (experiments/_defaults/datasets/);
- experiments: every ``experiments/<name>/<dataset>.yaml``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

import lightning_modules
from core.errors import ConfigError
from lightning_modules.spec import MethodSpec
from rawdata.datasets import DATASETS

EXPERIMENTS_DIR = Path(__file__).resolve().parent
DEFAULTS_DIR = EXPERIMENTS_DIR / "_defaults"


@cache
def methods() -> dict[str, MethodSpec]:
    """Every sub-package of lightning_modules/ that declares METHOD."""
    found = {}
    for info in pkgutil.iter_modules(lightning_modules.__path__):
        if not info.ispkg or info.name == "layers":
            continue
        module = importlib.import_module(f"lightning_modules.{info.name}")
        spec = getattr(module, "METHOD", None)
        if isinstance(spec, MethodSpec):
            found[spec.name] = spec
    return found


def method(name: str) -> MethodSpec:
    known = methods()
    if name not in known:
        raise ConfigError(f"unknown method {name!r}", hint=f"known methods: {', '.join(sorted(known))}")
    return known[name]


def datasets() -> list[str]:
    """Datasets an experiment can name: declared in rawdata/datasets.py, with a defaults YAML."""
    return sorted(name for name, spec in DATASETS.items() if spec.defaults)


def defaults_file(dataset: str) -> Path:
    return DEFAULTS_DIR / "datasets" / f"{dataset}.yaml"


def experiment_ids() -> list[str]:
    """Every `<name>/<dataset>` with a YAML under experiments/."""
    ids = []
    for path in sorted(EXPERIMENTS_DIR.glob("*/*.yaml")):
        if not path.parent.name.startswith("_"):
            ids.append(f"{path.parent.name}/{path.stem}")
    return ids


def experiments() -> list[str]:
    return experiment_ids()
