"""The one runner: `affect train <name>/<dataset>` -> folds -> Lightning -> MLflow -> results/.

Flow: resolve the config (experiments/config.py), seed everything, let the method's task prepare its data
(which fails with a clear message before any run is opened if a processed file is missing), open the parent
MLflow run (resolved config, git commit, data hashes, package versions), run the task (folds or the
recommendation loop), then write results/<name>/<dataset>/{details.json, metrics.json, run.json} atomically:
metrics.json holds the task's headline numbers (the DVC metric), details.json the rest (core/results.py).
"""

from __future__ import annotations

import importlib
import json
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from core.config import PACKAGE_ROOT, load_params, project_root, to_flat_dict
from core.io import write_json
from core.process import route_library_logs
from core.provenance import file_md5, git_commit, package_versions
from core.results import write_run_metrics
from core.seeding import seed_everything
from experiments import registry
from experiments.config import load_experiment
from experiments.tracking import Tracker, resolve_tracking_uri
from lightning_modules.spec import MethodSpec
from rawdata.datasets import DATASETS

log = logging.getLogger(__name__)

TASK_MODULES = {
    "mer": "experiments.tasks.folds",
    "au": "experiments.tasks.folds",
    "masked": "experiments.tasks.folds",
    "gesture": "experiments.tasks.folds",
    "rec": "experiments.tasks.recommendation",
    "cdmer": "experiments.tasks.cross_database",
    "eeg": "experiments.tasks.eeg",
}


@dataclass
class RunContext:
    """What a task's `run` receives besides its prepared data."""

    cfg: DictConfig
    spec: MethodSpec
    root: Path
    out_dir: Path
    checkpoint_dir: Path
    tracker: Tracker
    seed: int
    resume: bool


def train(exp_id: str, overrides=(), resume: bool = False, profile: str | None = None) -> dict:
    route_library_logs()
    root = project_root()
    params = load_params(root / "params.yaml") if (root / "params.yaml").is_file() else OmegaConf.create({})
    cfg = load_experiment(exp_id, overrides, profile=profile, params=params)
    spec = registry.method(cfg.method)
    seed_everything(int(cfg.seed), bool(cfg.trainer.deterministic))
    import torch

    threads = torch.get_num_threads()
    if int(cfg.trainer.num_threads) > 0:
        torch.set_num_threads(int(cfg.trainer.num_threads))
    try:
        return _train(cfg, spec, params, root, resume)
    finally:  # trainer.num_threads holds for this run only (an in-process caller's next run starts as before)
        torch.set_num_threads(threads)


def _train(cfg, spec, params, root: Path, resume: bool) -> dict:
    task = importlib.import_module(TASK_MODULES[spec.task])
    prepared = task.prepare(cfg, spec, root)

    out_dir = root / cfg.output.results_root / cfg.name / cfg.dataset
    checkpoint_dir = root / cfg.output.checkpoints_root / cfg.name / cfg.dataset
    kind = "standin" if prepared.standin else "real"
    experiment_name = f"{cfg.tracking.experiment_prefix}{'standin/' if prepared.standin else ''}{cfg.dataset}"
    tracker = Tracker(resolve_tracking_uri(params.get("tracking", {}).get("uri")), experiment_name)
    tags = {
        "method": cfg.method, "name": cfg.name, "dataset": cfg.dataset, "experiment": cfg.experiment,
        "task": spec.task, "protocol": str(cfg.protocol.name) if "protocol" in cfg else "", "data": kind,
        "profile": cfg.profile, "seed": str(cfg.seed), "git_commit": git_commit(PACKAGE_ROOT),  # the code that ran
        "negative_control": str(OmegaConf.select(cfg, "data.negative_control", default="none")),
    }
    if root.resolve() != PACKAGE_ROOT.resolve():  # a project folder of its own (AFFECT_ROOT): its state as well
        tags["project_git_commit"] = git_commit(root)
    note, note_declared = spec.faithfulness_note(cfg)
    started = time.time()
    with tracker.parent_run(f"{cfg.name} | {cfg.dataset} | seed {cfg.seed}", tags) as run_id:
        tracker.log_params({**to_flat_dict(cfg), **package_versions()})
        tracker.log_params({f"data_md5.{p.parent.name}/{p.name}": file_md5(p) for p in prepared.data_files})
        tracker.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        ctx = RunContext(cfg, spec, root, out_dir, checkpoint_dir, tracker, int(cfg.seed), resume)
        metrics = task.run(prepared, ctx)
        metrics["standin"] = prepared.standin
        tracker.log_metrics(metrics)
        metrics_path, details_path = write_run_metrics(out_dir, spec.task, metrics)
        declared = DATASETS.get(str(cfg.dataset))
        run_info = {
            "experiment": cfg.experiment, "method": cfg.method, "dataset": cfg.dataset, "seed": int(cfg.seed),
            "task": spec.task, "protocol": tags["protocol"], "profile": cfg.profile, "standin": prepared.standin,
            "mlflow_run_id": run_id,
            "mlflow_experiment": experiment_name, "tracking_uri": tracker.uri, "git_commit": tags["git_commit"],
            "seconds": round(time.time() - started, 2), "python": platform.python_version(),
            # what the report needs of the method (it imports no method): paper, summary, faithfulness note
            "paper": spec.paper, "summary": spec.summary, "faithfulness": note,
            "faithfulness_declared": note_declared, "defaults_chosen": spec.defaults_chosen,
            # what the report says about the data and the training budget
            "standin_note": declared.standin_note if declared and prepared.standin else "",
            "negative_control": tags["negative_control"], "max_epochs": int(cfg.trainer.max_epochs),
            "validation": str(OmegaConf.select(cfg, "protocol.validation", default="none")),
            "max_folds": int(OmegaConf.select(cfg, "protocol.max_folds", default=0)),
        } | ({"project_git_commit": tags["project_git_commit"]} if "project_git_commit" in tags else {})
        write_json(out_dir / "run.json", run_info)
        tracker.log_artifact(metrics_path)
        tracker.log_artifact(details_path)
    log.debug("%s: %s", cfg.experiment, json.dumps({k: v for k, v in metrics.items() if isinstance(v, float)}))
    return metrics
