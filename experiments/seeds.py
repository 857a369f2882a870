"""Extra seeds of an experiment, stored beside its main run: results/<name>/<dataset>/seeds/<seed>/.

The runner writes to results/<name>/<dataset>/ whatever the seed, so a second seed would overwrite the first.
A seed run therefore trains into a private temporary results root (``output.results_root`` and
``output.checkpoints_root`` overridden, inside results/ so the final move is a rename on the same file system)
and its finished folder is then moved to ``seeds/<seed>/``. The MLflow runs are ordinary runs tagged with their
seed. The report averages the seed runs that share the main run's profile and data kind
(reports/results.py); the regression baselines are computed from them (experiments/baselines.py).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from core.config import experiment_ids_from_params, load_params, pipeline_overrides_from_params
from core.errors import AffectError
from core.io import replace_folder
from experiments.config import split_experiment_id
from experiments.runner import train
from reports.results import SEEDS_DIR, SeedRun, load_run

log = logging.getLogger(__name__)


def seed_folder(results_dir: Path, exp_id: str, seed: int) -> Path:
    name, dataset = split_experiment_id(exp_id)
    return results_dir / name / dataset / SEEDS_DIR / str(seed)


def existing_seed_run(results_dir: Path, exp_id: str, seed: int, profile: str) -> SeedRun | None:
    """A finished seed run of the same profile, or None."""
    run, _ = load_run(seed_folder(results_dir, exp_id, seed))
    return run if run is not None and run.profile == profile else None


def run_seed(exp_id: str, seed: int, profile: str, results_dir: Path, overrides: tuple[str, ...] = ()) -> SeedRun:
    """Train ``exp_id`` with ``seed`` under ``profile`` and keep its results in seeds/<seed>/."""
    name, dataset = split_experiment_id(exp_id)
    target = seed_folder(results_dir, exp_id, seed)
    results_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=results_dir, prefix=".seed-run-") as tmp:
        scratch = Path(tmp)
        log.info("%s: seed %d (%s profile)", exp_id, seed, profile)
        train(exp_id, [f"seed={seed}", f"output.results_root={scratch / 'results'}",
                       f"output.checkpoints_root={scratch / 'checkpoints'}", *overrides], profile=profile)
        replace_folder(scratch / "results" / name / dataset, target)
    run, problem = load_run(target)
    if run is None:
        raise RuntimeError(f"seed run of {exp_id} left no readable result in {target}: {problem}")
    return run


def add_seeds_command(root: Path, results_dir: Path, exp_ids: list[str] | None, seeds: list[int],
                      profile: str | None) -> int:
    """`affect report --add-seeds`: train each seed of each experiment into its seeds/<seed>/ folder."""
    exp_ids = exp_ids or experiment_ids_from_params(root)
    if not exp_ids:
        raise AffectError("no experiments given", hint="pass --experiments ID ... or list them in params.yaml")
    params = root / "params.yaml"
    profile = profile or (str(load_params(params).get("profile", "default")) if params.is_file() else "default")
    pipeline = pipeline_overrides_from_params(root)
    for exp_id in exp_ids:
        for seed in seeds:
            run = run_seed(exp_id, seed, profile, results_dir, tuple(pipeline.get(exp_id, ())))
            print(f"{exp_id} seed {seed} ({profile}): {run.folder}")
    return 0
