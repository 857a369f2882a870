"""What results/ holds: one :class:`Experiment` per `<name>/<dataset>`, with its comparable seed runs.

Layout read (docs/report.md):

    results/<name>/<dataset>/{metrics.json, details.json, run.json, predictions.csv | rankings.csv, ...}
    results/<name>/<dataset>/seeds/<seed>/{metrics.json, details.json, run.json, ...}   (experiments/seeds.py)

metrics.json holds the headline numbers (the DVC metric), details.json the rest (core/results.py); a run's
``metrics`` here is the two merged, so a run written before the split reads the same.

The run at the top of the folder is the *reference run*; seed runs join it only when they were made under the
same profile, on the same kind of data (stand-in or real) and with the same negative control, so a mean +- std
never mixes a quick run with a full one, synthetic data with real data, or a control with a real run. Nothing
here raises for missing or malformed files: every problem becomes a note the report prints (an experiment
configured but never run, a run interrupted mid-way, an unreadable metrics.json).
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core import metrics as M
from core.results import DETAILS_FILE, METRICS_FILE
from reports.faithfulness import Catalogue, MethodNote, note_from_run

log = logging.getLogger(__name__)

SEEDS_DIR = "seeds"
MOVIELENS = re.compile(r"movielens|ml-?100k", re.IGNORECASE)
TASK_ORDER = ("mer", "cdmer", "au", "masked", "gesture", "rec")


@dataclass
class SeedRun:
    """One finished run: its folder, metrics.json merged over details.json, and run.json ({} when missing)."""

    folder: Path
    metrics: dict
    run: dict
    problems: list[str] = field(default_factory=list)  # e.g. an unreadable details.json

    @property
    def seed(self) -> int | None:
        value = self.run.get("seed")
        return int(value) if isinstance(value, int) else None

    @property
    def profile(self) -> str:
        return str(self.run.get("profile", "unknown"))

    @property
    def standin(self) -> bool:
        return bool(self.metrics.get("standin", self.run.get("standin", False)))

    @property
    def negative_control(self) -> str:
        """``none`` for a real run, else the control (``permuted_labels``, ``blank_input``, ...)."""
        return str(self.run.get("negative_control") or "none")

    @property
    def capped(self) -> bool:
        """The run stopped at its epoch budget while its validation score still improved (``capped``: in
        metrics.json from the recommendation loop, in details.json from the fold loop, which writes null when the
        run had no validation split to tell)."""
        return self.metrics.get("capped") is True


@dataclass
class Experiment:
    """Everything the report knows about one `<name>/<dataset>`."""

    name: str
    dataset: str
    folder: Path
    method: str = ""
    task: str = ""
    protocol: str = ""
    runs: list[SeedRun] = field(default_factory=list)
    note: MethodNote | None = None  # the method's paper and faithfulness note (run.json, else the catalogue)
    status: str = "not run"  # complete | partial | not run | unreadable
    notes: list[str] = field(default_factory=list)

    @property
    def exp_id(self) -> str:
        return f"{self.name}/{self.dataset}"

    @property
    def reference(self) -> SeedRun | None:
        return self.runs[0] if self.runs else None

    @property
    def standin(self) -> bool:
        return is_standin_data(self.dataset, self.reference) if self.reference else False

    @property
    def data_label(self) -> str:
        return data_label(self.dataset, self.reference) if self.reference else "no result"

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs if r.seed is not None]

    @property
    def negative_control(self) -> str:
        return self.reference.negative_control if self.reference else "none"

    @property
    def capped(self) -> bool:
        return any(r.capped for r in self.runs)

    @property
    def protocol_label(self) -> str:
        """How the numbers were obtained, for the tables: ``LOSO (26 folds)``, ``subject k-fold (k=5)``,
        ``LODO (3 folds)``, ``split``, ``full ranking``; a smoke run limited to its first folds says so."""
        run = self.reference
        if run is None:
            return ""
        name = str(run.run.get("protocol") or self.protocol.split("-")[0] or "?")
        folds = run.metrics.get("n_folds")
        folds = int(folds) if isinstance(folds, (int, float)) and not isinstance(folds, bool) else None
        if self.task == "rec":
            return "split, full ranking"
        label = {"loso": "LOSO", "lodo": "LODO", "split": "split"}.get(name, name)
        if name == "subject_kfold":
            label = f"subject k-fold (k={folds})" if folds else "subject k-fold"
        elif folds and name != "split":
            label += f" ({folds} folds)"
        max_folds = run.run.get("max_folds")
        if isinstance(max_folds, int) and max_folds > 0:
            label += f", first {max_folds} folds only (smoke run)"
        return label

    def values(self, key: str) -> list[float]:
        """The finite values of a top-level metric over the comparable runs."""
        return [v for v in (number(r.metrics.get(key)) for r in self.runs) if v is not None]


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation (ddof=1) of one metric over seeds; std is None for a single run."""

    mean: float
    std: float | None
    n: int

    def text(self, digits: int = 4) -> str:
        if self.std is None:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f} (n={self.n})"


def summarise(values: list[float]) -> Summary | None:
    if not values:
        return None
    array = np.asarray(values, dtype=float)
    std = float(array.std(ddof=1)) if len(array) > 1 else None
    return Summary(float(array.mean()), std, len(array))


def number(value) -> float | None:
    """A finite float, or None for anything else (missing, None, NaN, a dict)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def is_standin_data(dataset: str, run: SeedRun) -> bool:
    """Synthetic data (metrics.json ``standin``) and MovieLens-100k (real, but a stand-in for the paper datasets)."""
    return run.standin or bool(MOVIELENS.search(dataset))


def data_label(dataset: str, run: SeedRun) -> str:
    """"real", "stand-in (synthetic)" or "stand-in (MovieLens-100k)"; a run may name its kind (``standin_kind``)."""
    if not is_standin_data(dataset, run):
        return "real"
    kind = run.metrics.get("standin_kind") or run.run.get("standin_kind")
    if kind:
        return f"stand-in ({kind})"
    return "stand-in (MovieLens-100k)" if MOVIELENS.search(dataset) else "stand-in (synthetic)"


def read_json(path: Path) -> tuple[dict | None, str | None]:
    """(data, None) or (None, reason) for a missing or malformed JSON object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{path.name} missing"
    except (OSError, ValueError) as err:
        return None, f"{path} unreadable: {err}"
    if not isinstance(data, dict):
        return None, f"{path} is not a JSON object"
    return data, None


def load_run(folder: Path) -> tuple[SeedRun | None, str | None]:
    """The run in ``folder`` (metrics.json marks it finished), or (None, why not)."""
    metrics, problem = read_json(folder / METRICS_FILE)
    if metrics is None:
        return None, problem
    details, details_problem = read_json(folder / DETAILS_FILE)
    problems = [] if details is not None or "missing" in (details_problem or "") else [details_problem]
    run, _ = read_json(folder / "run.json")
    return SeedRun(folder, {**(details or {}), **metrics}, run or {}, problems), None


def comparable_runs(reference: SeedRun | None, seed_runs: list[SeedRun], dataset: str
                    ) -> tuple[list[SeedRun], list[str]]:
    """The reference run plus the seed runs of the same profile and data kind, one run per seed.

    Without a reference run, the lowest seed run takes its place. Returns (runs, notes on what was left out).
    """
    candidates = sorted(seed_runs, key=lambda r: (r.seed is None, r.seed or 0))
    if reference is None:
        if not candidates:
            return [], []
        reference, candidates = candidates[0], candidates[1:]
    runs, notes, seen = [reference], [], {reference.seed}
    for run in candidates:
        if run.profile != reference.profile:
            notes.append(f"seed {run.seed} left out: profile {run.profile!r}, not {reference.profile!r}")
        elif is_standin_data(dataset, run) != is_standin_data(dataset, reference):
            notes.append(f"seed {run.seed} left out: {data_label(dataset, run)} data, not "
                         f"{data_label(dataset, reference)}")
        elif run.negative_control != reference.negative_control:
            notes.append(f"seed {run.seed} left out: negative control {run.negative_control!r}, not "
                         f"{reference.negative_control!r}")
        elif run.seed in seen:
            continue
        else:
            runs.append(run)
            seen.add(run.seed)
    return runs, notes


def load_experiment_results(name: str, dataset: str, results_dir: Path, checkpoints_dir: Path | None,
                            catalogue: Catalogue | None = None) -> Experiment:
    """An :class:`Experiment` from its results folder (which may not exist)."""
    folder = results_dir / name / dataset
    experiment = Experiment(name, dataset, folder)
    reference, problem = load_run(folder)
    if problem and (folder / "metrics.json").exists():
        experiment.notes.append(problem)
        experiment.status = "unreadable"
    seed_runs = []
    for seed_folder in sorted((folder / SEEDS_DIR).glob("[!.]*")) if (folder / SEEDS_DIR).is_dir() else []:
        run, seed_problem = load_run(seed_folder)
        if run is not None:
            seed_runs.append(run)
        elif seed_folder.is_dir():
            experiment.notes.append(f"seed folder {seed_folder.name}: {seed_problem}")
    experiment.runs, left_out = comparable_runs(reference, seed_runs, dataset)
    experiment.notes.extend(left_out)
    experiment.notes.extend(problem for run in experiment.runs for problem in run.problems)
    if experiment.runs:
        experiment.status = "complete"
        if reference is None:
            experiment.notes.append("no run at the top of the results folder: seed runs only")
    elif experiment.status != "unreadable":
        finished = finished_folds(checkpoints_dir / name / dataset) if checkpoints_dir else 0
        if finished:
            experiment.status = "partial"
            experiment.notes.append(f"interrupted: {finished} fold(s) finished; "
                                    f"`affect train {experiment.exp_id} --resume` completes it")
    describe(experiment, catalogue or Catalogue())
    return experiment


def finished_folds(checkpoint_folder: Path) -> int:
    """Folds of an unfinished run whose predictions the fold runner already kept (experiments/tasks/folds.py)."""
    folds = checkpoint_folder / "folds"
    return len(list(folds.glob("*.csv"))) if folds.is_dir() else 0


def describe(experiment: Experiment, catalogue: Catalogue) -> None:
    """Fill method, task, protocol and the method's note: from run.json, else from the catalogue the caller handed
    in (the experiment YAML's ``method:``, the method's declaration), else from the metrics.

    Only a result whose run.json predates the ``protocol`` field asks the catalogue for it (a full config load).
    """
    run = experiment.reference.run if experiment.reference else {}
    experiment.method = str(run.get("method") or catalogue.method_of(experiment.exp_id)
                            or experiment.name.split("-")[0])
    experiment.note = note_from_run(experiment.method, run) or catalogue.method_note(experiment.method)
    if experiment.note and not experiment.note.defaults_chosen:  # a run.json written before the field existed
        declared = catalogue.method_note(experiment.method)
        if declared and declared.defaults_chosen:
            experiment.note = replace(experiment.note, defaults_chosen=declared.defaults_chosen)
    experiment.task = str(run.get("task") or (experiment.note.task if experiment.note else None)
                          or infer_task(experiment))
    protocol = run.get("protocol")
    if protocol is None and experiment.reference is not None:
        protocol = catalogue.protocol_of(experiment.exp_id) or ""
    experiment.protocol = protocol_key(experiment.task, str(protocol or ""), experiment)


def protocol_key(task: str, protocol_name: str, experiment: Experiment) -> str:
    """The protocol label reported.csv uses: ``loso-3class``, ``split-32class``, ``lodo``, ``full-ranking``."""
    if task == "rec":
        return "full-ranking"
    classes = experiment.reference.metrics.get("class_names") if experiment.reference else None
    if task in ("mer", "masked", "gesture") and isinstance(classes, list):
        return f"{protocol_name}-{len(classes)}class"
    return protocol_name


def infer_task(experiment: Experiment) -> str:
    """The task of a result whose method is unknown, from the metrics it holds."""
    metrics = experiment.reference.metrics if experiment.reference else {}
    for task, key in (("rec", "recall@20"), ("au", "mean_au_f1"), ("masked", "disguise_uf1"), ("gesture", "top1")):
        if key in metrics:
            return task
    return "mer"


def discover(results_dir: Path, configured: list[str], checkpoints_dir: Path | None = None,
             catalogue: Catalogue | None = None) -> list[Experiment]:
    """Every experiment with a results folder, plus every configured one (shown as "not run" without results)."""
    found = set()
    if results_dir.is_dir():
        for folder in results_dir.glob("*/*"):
            if folder.is_dir() and not folder.name.startswith((".", "_")) and not folder.parent.name.startswith(
                    (".", "_")):
                found.add((folder.parent.name, folder.name))
    for exp_id in configured:
        name, _, dataset = exp_id.partition("/")
        found.add((name, dataset))
    experiments = [load_experiment_results(n, d, results_dir, checkpoints_dir, catalogue) for n, d in sorted(found)]
    return sorted(experiments, key=lambda e: (_task_rank(e.task), e.dataset, e.name))


def _task_rank(task: str) -> int:
    return TASK_ORDER.index(task) if task in TASK_ORDER else len(TASK_ORDER)


def composite_parts(run: SeedRun) -> dict[str, dict[str, float]]:
    """UF1, UAR and accuracy of each source dataset's part of a composite's pooled predictions.

    MEGC2019 reports a composite pooled and per source dataset; the part scores come from the same predictions
    (the rows of predictions.csv whose ``dataset`` is that source). {} when predictions.csv is missing or holds
    one dataset only.
    """
    import pandas as pd

    path = run.folder / "predictions.csv"
    classes = run.metrics.get("class_names")
    if not path.is_file() or not isinstance(classes, list):
        return {}
    try:
        frame = pd.read_csv(path, usecols=["dataset", "y_true", "y_pred"])
    except (OSError, ValueError) as err:
        log.warning("cannot read %s: %s", path, err)
        return {}
    if frame["dataset"].nunique() < 2:
        return {}
    return {
        str(name): {k: v for k, v in M.classification_report(part["y_true"], part["y_pred"], classes).items()
                    if k in ("uf1", "uar", "accuracy")}
        for name, part in frame.groupby("dataset", sort=True)
    }
