"""Configuration shared by every layer: the project root, YAML loading, params.yaml, strict config merges.

- :func:`project_root`: the folder holding params.yaml (AFFECT_ROOT, else the working directory if it has one,
  else the checkout);
- :func:`load_yaml` / :func:`load_params`: a YAML mapping as an omegaconf DictConfig, errors naming the file
  (the one loader of params.yaml, for the CLI, the stages and the runner alike);
- :func:`merge_strict` / :func:`parse_overrides`: the schema rules of experiment configs (experiments/config.py
  layers them): an unknown key is an error naming the closest valid keys, a value must keep its default's type;
- :func:`experiment_ids_from_params`: the experiments `dvc repro` runs (params.yaml ``experiments`` and
  ``rec_experiments``).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from core.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def project_root() -> Path:
    """The folder holding params.yaml: AFFECT_ROOT, else the working directory if it has one, else the checkout."""
    if os.environ.get("AFFECT_ROOT"):
        return Path(os.environ["AFFECT_ROOT"]).resolve()
    cwd = Path.cwd()
    return cwd if (cwd / "params.yaml").is_file() else PACKAGE_ROOT


def load_yaml(path: Path) -> DictConfig:
    try:
        cfg = OmegaConf.load(path)
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except Exception as err:  # yaml syntax errors
        raise ConfigError(f"not valid YAML: {err}", path=path) from None
    if not isinstance(cfg, DictConfig):
        raise ConfigError("expected a mapping at the top level", path=path)
    return cfg


def load_params(path: str | Path | None = None) -> DictConfig:
    """params.yaml of the project (what DVC stages read), or another file with the same layout."""
    return load_yaml(Path(path) if path else project_root() / "params.yaml")


def params_or_empty(root: Path | None = None) -> DictConfig:
    """params.yaml of ``root`` (default: the project), or an empty config when there is none."""
    path = (root or project_root()) / "params.yaml"
    return load_params(path) if path.is_file() else OmegaConf.create({})


def experiment_ids_from_params(root: Path) -> list[str]:
    """The experiments `dvc repro` runs: params.yaml `experiments` and `rec_experiments` (each a list of ids or a
    mapping whose values have an `id`)."""
    path = root / "params.yaml"
    if not path.is_file():
        return []
    params = load_params(path)
    ids = []
    for group in ("experiments", "rec_experiments"):
        entries = params.get(group) or []
        if hasattr(entries, "items"):
            ids += [str(v["id"]) if hasattr(v, "get") and v.get("id") else str(k) for k, v in entries.items()]
        else:
            ids += [str(e) for e in entries]
    return ids


def pipeline_overrides_from_params(root: Path) -> dict[str, list[str]]:
    """What the pipeline's train stages pass to each experiment beyond its id and seed (dvc.yaml): the
    ``negative_control`` of params.yaml and the entry's ``args`` (``key=value`` words). Seed runs and baseline
    refreshes use them too, so every seed of an experiment runs the protocol its pipeline entry runs."""
    path = root / "params.yaml"
    if not path.is_file():
        return {}
    params = load_params(path)
    control = f"data.negative_control={params.get('negative_control', 'none')}"
    out = {}
    for group in ("experiments", "rec_experiments"):
        entries = params.get(group) or {}
        if hasattr(entries, "items"):
            for value in entries.values():
                if hasattr(value, "get") and value.get("id"):
                    out[str(value["id"])] = [control, *str(value.get("args") or "").split()]
    return out


def parse_overrides(overrides: Iterable[str]) -> DictConfig:
    items = list(overrides)
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value (e.g. trainer.max_epochs=5)")
    try:
        return OmegaConf.from_dotlist(items)
    except OmegaConfBaseException as err:
        raise ConfigError(f"cannot parse overrides {items}: {err}") from None


def merge_strict(base: DictConfig, update: DictConfig, source: str) -> DictConfig:
    """Merge ``update`` into ``base`` refusing unknown keys and changed value types."""
    _check_keys_and_types(base, update, source, prefix="")
    _open_mappings(base)
    merged = OmegaConf.merge(base, update)
    OmegaConf.set_struct(merged, True)
    return merged


def to_flat_dict(cfg: DictConfig) -> dict[str, object]:
    """`a.b.c -> value` for logging config values as MLflow params."""
    flat: dict[str, object] = {}

    def walk(node, prefix):
        if isinstance(node, DictConfig):
            for key in node:
                walk(node[key], f"{prefix}{key}.")
        else:
            value = OmegaConf.to_container(node) if isinstance(node, ListConfig) else node
            flat[prefix[:-1]] = value

    walk(cfg, "")
    return flat


def _check_keys_and_types(base: DictConfig, update: DictConfig, source: str, prefix: str) -> None:
    for key in update:
        full = f"{prefix}{key}"
        if key not in base:
            if _is_open_mapping(base):
                continue
            close = difflib.get_close_matches(str(key), [str(k) for k in base.keys()], n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(prefix + c for c in close)}?" if close else (
                f"valid keys here: {', '.join(prefix + str(k) for k in base.keys())}"
            )
            raise ConfigError(f"unknown config key {full!r} (from {source})", hint=hint)
        old, new = base._get_node(key), update._get_node(key)
        if isinstance(old, DictConfig) and isinstance(new, DictConfig):
            _check_keys_and_types(old, new, source, prefix=f"{full}.")
        elif isinstance(old, DictConfig) != isinstance(new, DictConfig) and not _is_none(old) and not _is_none(new):
            raise ConfigError(f"config key {full!r} (from {source}) must be a mapping like its default")
        else:
            _check_type(full, old, new, source)


def _check_type(key: str, old, new, source: str) -> None:
    old_value = old._value() if hasattr(old, "_value") else old
    new_value = new._value() if hasattr(new, "_value") else new
    if old_value is None or new_value is None or isinstance(old, ListConfig):
        return
    if isinstance(old_value, bool) != isinstance(new_value, bool):
        raise ConfigError(f"config key {key!r} (from {source}) must be true/false, got {new_value!r}")
    if isinstance(old_value, (int, float)) and not isinstance(old_value, bool):
        if not isinstance(new_value, (int, float)) or isinstance(new_value, bool):
            raise ConfigError(f"config key {key!r} (from {source}) must be a number, got {new_value!r}")
        if isinstance(old_value, int) and isinstance(new_value, float) and not new_value.is_integer():
            raise ConfigError(f"config key {key!r} (from {source}) must be an integer, got {new_value!r}")


def _open_mappings(node: DictConfig) -> None:
    """Let the open mappings of ``node`` (see :func:`_is_open_mapping`) take new keys in the merge too (struct mode
    would refuse them), and mark them open so later layers may add keys as well."""
    for key in node:
        child = node._get_node(key)
        if not isinstance(child, DictConfig) or _is_none(child):
            continue
        if _is_open_mapping(child):
            child._set_flag("open", True)
            OmegaConf.set_struct(child, False)
        else:
            _open_mappings(child)


def _is_open_mapping(node: DictConfig) -> bool:
    """A mapping whose default is empty (e.g. `label_map: {}`) accepts new keys."""
    return len(node) == 0 or bool(node._get_flag("open"))


def _is_none(node) -> bool:
    return hasattr(node, "_is_none") and node._is_none()
