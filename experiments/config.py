"""Experiment configs: layered defaults, strict overrides.

Layers, later wins (docs/architecture.md):
    _defaults/global.yaml [<- _defaults/<base>.yaml] <- _defaults/datasets/<dataset>.yaml
    <- _defaults/methods/<method>.yaml <- <name>/<dataset>.yaml <- profiles.<profile> of each layer
    <- command-line key=value
The three default layers define the schema; the experiment file, profiles and the command line may only set keys
the schema has (a typo is an error naming the closest valid keys) and must keep each value's type (the merge
rules: core/config.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from core.config import load_yaml, merge_strict, params_or_empty, parse_overrides
from core.errors import ConfigError
from experiments import registry
from experiments.registry import DEFAULTS_DIR, EXPERIMENTS_DIR, experiment_ids
from rawdata.datasets import DATASETS

__all__ = ["DEFAULTS_DIR", "EXPERIMENTS_DIR", "experiment_ids", "experiment_path", "load_experiment",
           "split_experiment_id"]


def split_experiment_id(exp_id: str) -> tuple[str, str]:
    parts = exp_id.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"experiment id must be <method>/<dataset>, got {exp_id!r}")
    return parts[0], parts[1]


def experiment_path(exp_id: str) -> Path:
    """The YAML of an experiment; an unknown id lists the valid method names or that method's datasets."""
    name, dataset = split_experiment_id(exp_id)
    path = EXPERIMENTS_DIR / name / f"{dataset}.yaml"
    if path.is_file():
        return path
    names = sorted({e.split("/")[0] for e in experiment_ids()})
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = (f"did you mean {', '.join(close)}? " if close else "") + f"known: {', '.join(names)}"
        raise ConfigError(f"unknown experiment {exp_id!r}: no method or ablation named {name!r}", hint=hint)
    runs_on = sorted(p.stem for p in (EXPERIMENTS_DIR / name).glob("*.yaml"))
    raise ConfigError(f"unknown experiment {exp_id!r}: {name} has experiments for {', '.join(runs_on)}",
                      hint="add experiments/<name>/<dataset>.yaml to run it on another dataset")


def load_experiment(
    exp_id: str, overrides: Iterable[str] = (), profile: str | None = None, params: DictConfig | None = None
) -> DictConfig:
    """The resolved config of one experiment."""
    name, dataset = split_experiment_id(exp_id)
    path = experiment_path(exp_id)
    experiment = load_yaml(path)
    method = str(experiment.get("method", name))
    methods = registry.methods()
    if method not in methods:
        raise ConfigError(f"unknown method {method!r}", path=path, hint=f"known methods: {', '.join(sorted(methods))}")
    dataset_file = registry.defaults_file(dataset)
    if dataset not in registry.datasets() or not dataset_file.is_file():
        known = registry.datasets()
        raise ConfigError(f"unknown dataset {dataset!r}", path=path, hint=f"known datasets: {', '.join(known)}")

    layers = [load_yaml(DEFAULTS_DIR / "global.yaml"), load_yaml(dataset_file)]
    base = DATASETS[dataset].base  # a defaults layer shared by a family of datasets (the CDMER tasks)
    if base:
        layers.insert(1, load_yaml(DEFAULTS_DIR / f"{base}.yaml"))
    method_file = DEFAULTS_DIR / "methods" / f"{method}.yaml"
    if method_file.is_file():
        layers.append(load_yaml(method_file))
    profiles = [_pop(layer, "profiles") for layer in layers] + [_pop(experiment, "profiles")]
    schema = OmegaConf.merge(*layers)
    schema.experiment = exp_id
    schema.name = name
    schema.method = method
    schema.dataset = dataset
    schema.task = methods[method].task
    OmegaConf.set_struct(schema, True)

    params = params if params is not None else params_or_empty()
    profile = profile or str(params.get("profile", "default"))
    cfg = merge_strict(schema, experiment, source=str(path))
    for layer_profiles in profiles:
        if layer_profiles is not None and profile in layer_profiles:
            cfg = merge_strict(cfg, layer_profiles[profile], source=f"profile {profile!r}")
    cfg.profile = profile
    cfg = merge_strict(cfg, parse_overrides(overrides), source="command line")
    return cfg


def _pop(cfg: DictConfig, key: str):
    if key in cfg:
        value = cfg[key]
        del cfg[key]
        return value
    return None
