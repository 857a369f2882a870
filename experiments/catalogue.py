"""The suite's declarations handed to the report (reports/faithfulness.py ``Catalogue``): the report imports no
method and no config, so `affect report` tells it the configured experiments, each one's method and protocol,
and each method's paper and faithfulness note."""

from __future__ import annotations

import logging

import yaml

from core.errors import AffectError
from experiments import registry
from experiments.config import load_experiment
from reports.faithfulness import Catalogue, MethodNote

log = logging.getLogger(__name__)


class SuiteCatalogue(Catalogue):
    def experiments(self) -> list[str]:
        return registry.experiment_ids()

    def method_of(self, exp_id: str) -> str | None:
        """The ``method:`` line of experiments/<name>/<dataset>.yaml (None when the file is gone)."""
        path = registry.EXPERIMENTS_DIR / f"{exp_id}.yaml"
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, yaml.YAMLError):
            return None
        return str(data["method"]) if isinstance(data, dict) and data.get("method") else None

    def protocol_of(self, exp_id: str) -> str | None:
        try:
            cfg = load_experiment(exp_id)
        except AffectError as err:
            log.info("no config for %s: %s", exp_id, err)
            return None
        return str(cfg.protocol.name) if "protocol" in cfg else ""

    def method_note(self, method: str) -> MethodNote | None:
        spec = registry.methods().get(method)
        if spec is None:
            return None
        note, declared = spec.faithfulness_note()
        return MethodNote(method, spec.task, spec.paper, note, declared, spec.defaults_chosen)
