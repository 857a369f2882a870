"""The two metrics files of a run: the headline numbers (a DVC metric) and everything else.

``results/<name>/<dataset>/metrics.json`` is what dvc.yaml declares as the stage's metric, so `dvc metrics show`
and `dvc metrics diff` print it: it holds the headline numbers of the task only (:data:`HEADLINE`), their
trivial floors (:data:`FLOORS`), the ``valid_`` selection scores of the same headline metrics (what `affect tune`
selects on), the run's size (``n_samples``, ``n_folds``) and ``standin``. Everything else the task loop measured
(per-subject and per-class scores, the confusion matrix, class names, per-AU F1, the disguise and label-free
reports, timings, the tuning selection, ...) goes to ``details.json`` beside it, which is no DVC metric; the
report and its figures read both.

Writers and readers use this module only: :func:`write_run_metrics` writes ``details.json`` first and
``metrics.json`` last (each atomically), so a folder whose metrics.json exists holds a finished run;
:func:`read_run_metrics` returns the two merged (a run written before the split has everything in metrics.json
and no details.json, and reads the same).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.errors import AffectError
from core.io import write_json

METRICS_FILE = "metrics.json"
DETAILS_FILE = "details.json"

# the headline numbers of each task (the metric keys the report's tables and the regression read)
HEADLINE: dict[str, tuple[str, ...]] = {
    "mer": ("uf1", "uar", "accuracy"),
    "masked": ("uf1", "uar", "accuracy", "disguise_uf1", "disguise_uar"),
    "gesture": ("top1", "top5", "uf1", "uar", "accuracy"),
    "au": ("mean_au_f1", "label_free_uf1", "label_free_uar"),
    "rec": ("recall@10", "recall@20", "ndcg@10", "ndcg@20"),
    # EEG: mean and std over subjects of per-fold accuracy / macro-F1, as the field reports them; pooled beside
    "eeg": ("subject_accuracy_mean", "subject_accuracy_std", "subject_f1_mean", "subject_f1_std", "accuracy", "uf1"),
    "cdmer": ("uf1", "uar", "accuracy"),  # on the target, with the honest selection; the oracle is in details.json
}
# trivial floors a result must clear (issue 15): no training behind them
FLOORS: dict[str, tuple[str, ...]] = {
    "mer": ("majority_uf1", "majority_accuracy"),
    "masked": ("majority_uf1", "majority_accuracy"),
    "gesture": ("majority_uf1", "majority_accuracy"),
    "au": ("all_positive_floor",),
    "rec": ("popularity_recall@20",),
    "cdmer": ("majority_uf1", "majority_accuracy"),
    "eeg": ("majority_uf1", "majority_accuracy"),
}
# what every run's metrics.json may hold besides: size, data kind, and how training ended
RUN_KEYS: dict[str, tuple[str, ...]] = {
    "rec": ("n_test_users", "best_epoch", "stopped_epoch", "capped", "standin"),
}
# the fold loop's ``capped`` (null without a validation split) and its evidence stay in details.json
FOLD_RUN_KEYS = ("n_samples", "n_folds", "standin")
VALID_PREFIX = "valid_"


def headline_keys(task: str) -> tuple[str, ...]:
    """Every key metrics.json may hold for ``task`` (an unknown task is treated like ``mer``)."""
    task = task if task in HEADLINE else "mer"
    metrics = HEADLINE[task]
    return (*metrics, *FLOORS[task], *(VALID_PREFIX + k for k in metrics), *RUN_KEYS.get(task, FOLD_RUN_KEYS))


def split_metrics(task: str, metrics: dict) -> tuple[dict, dict]:
    """(headline, details): the keys of :func:`headline_keys` and everything else."""
    keys = headline_keys(task)
    headline = {k: metrics[k] for k in keys if k in metrics}
    details = {k: v for k, v in metrics.items() if k not in headline}
    return headline, details


def write_run_metrics(out_dir: Path, task: str, metrics: dict) -> tuple[Path, Path]:
    """details.json, then metrics.json (the finished-run marker); returns their paths."""
    headline, details = split_metrics(task, metrics)
    details_path = write_json(Path(out_dir) / DETAILS_FILE, details)
    return write_json(Path(out_dir) / METRICS_FILE, headline), details_path


def read_run_metrics(folder: Path) -> dict:
    """metrics.json merged over details.json (missing details.json: metrics.json alone); errors name the file."""
    merged: dict = {}
    for name in (DETAILS_FILE, METRICS_FILE):
        path = Path(folder) / name
        if name == DETAILS_FILE and not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AffectError("no metrics file: the run did not finish", path=path) from None
        except (OSError, ValueError) as err:
            raise AffectError(f"unreadable: {err}", path=path) from None
        if not isinstance(data, dict):
            raise AffectError("expected a JSON object", path=path)
        merged.update(data)
    return merged
