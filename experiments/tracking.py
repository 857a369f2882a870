"""The one MLflow helper: a parent run per experiment, a nested run per fold, artifacts and metrics.

The tracking URI is, in order: the MLFLOW_TRACKING_URI environment variable, `tracking.uri` in params.yaml, and
the embedded default `sqlite:///<project>/mlflow.db` (artifacts in `<project>/mlartifacts/`). A team server
(`http://host:5000`, PostgreSQL behind it) therefore works unchanged. All calls go through an explicit
`MlflowClient`, so nothing depends on MLflow's global active-run state.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lightning.pytorch.loggers.logger import Logger

from core.config import project_root
from core.errors import AffectError


def resolve_tracking_uri(params_uri: str | None = None, root: Path | None = None) -> str:
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    if params_uri:
        return str(params_uri)
    return f"sqlite:///{(root or project_root()) / 'mlflow.db'}"


def _local_artifact_root(uri: str, root: Path | None = None) -> str | None:
    """For an embedded sqlite store, keep artifacts beside it (not in the working directory)."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///"):])
        return (db.parent / "mlartifacts").resolve().as_uri()
    if uri.startswith("file:") or "://" not in uri:
        return None
    return None if uri.startswith(("http://", "https://", "databricks")) else (root or project_root()).as_uri()


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialise the creation of an embedded sqlite store and of its experiments across processes.

    Two `affect train` processes starting together on a fresh project (a DVC queue with two workers, two shells)
    would otherwise both run MLflow's schema migration and one fails ("table ... already exists"), or both create
    the same experiment. Other stores (a tracking server, PostgreSQL) handle concurrency themselves.
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    lock_path = Path(uri[len("sqlite:///"):]).with_suffix(".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Tracker:
    """Wraps one MLflow experiment (named after the dataset) and the runs of one `affect train`."""

    def __init__(self, uri: str, experiment_name: str):
        import mlflow
        from mlflow.tracking import MlflowClient

        self.uri = uri
        self._mlflow = mlflow
        try:
            with _store_lock(uri):
                self.client = MlflowClient(tracking_uri=uri)
                experiment = self.client.get_experiment_by_name(experiment_name)
                if experiment is None:
                    self.experiment_id = self.client.create_experiment(
                        experiment_name, artifact_location=_artifact_location(uri, experiment_name)
                    )
                else:
                    self.experiment_id = experiment.experiment_id
        except Exception as err:  # a corrupt or unreachable store
            raise AffectError(
                f"cannot open the MLflow tracking store {uri!r}: {type(err).__name__}: {str(err).splitlines()[0]}",
                hint="check tracking.uri in params.yaml or MLFLOW_TRACKING_URI",
            ) from None
        self.parent_id: str | None = None

    @contextlib.contextmanager
    def parent_run(self, run_name: str, tags: dict[str, str]) -> Iterator[str]:
        run = self.client.create_run(self.experiment_id, run_name=run_name, tags=tags)
        self.parent_id = run.info.run_id
        status = "FAILED"
        try:
            yield self.parent_id
            status = "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        finally:
            self.client.set_terminated(self.parent_id, status=status)

    @contextlib.contextmanager
    def child_run(self, run_name: str, tags: dict[str, str] | None = None) -> Iterator[str]:
        tags = {**(tags or {}), "mlflow.parentRunId": self.parent_id}
        run = self.client.create_run(self.experiment_id, run_name=run_name, tags=tags)
        status = "FAILED"
        try:
            yield run.info.run_id
            status = "FINISHED"
        finally:
            self.client.set_terminated(run.info.run_id, status=status)

    def lightning_logger(self, run_id: str) -> BufferedRunLogger:
        """A Lightning logger writing into an existing (nested) run: see :class:`BufferedRunLogger`."""
        return BufferedRunLogger(self, run_id)

    def log_params(self, params: dict[str, object], run_id: str | None = None) -> None:
        from mlflow.entities import Param

        items = [Param(str(k)[:250], _short(v)) for k, v in params.items()]
        for start in range(0, len(items), 100):
            self.client.log_batch(run_id or self.parent_id, params=items[start:start + 100])

    def log_metrics(self, metrics: dict[str, float], run_id: str | None = None, step: int | None = None) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(_metric_key(k), float(v), now, step or 0)
            for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
        ]
        for start in range(0, len(items), 500):
            self.client.log_batch(run_id or self.parent_id, metrics=items[start:start + 500])

    def log_records(self, records: list, run_id: str | None = None, batch: int = 1000) -> None:
        """Metric entities as a :class:`RecordingLogger` kept them (names, steps and timestamps unchanged)."""
        for start in range(0, len(records), batch):
            self.client.log_batch(run_id or self.parent_id, metrics=records[start:start + batch])

    def set_tags(self, tags: dict[str, str], run_id: str | None = None) -> None:
        for key, value in tags.items():
            self.client.set_tag(run_id or self.parent_id, key, str(value))

    def log_artifact(self, path: str | Path, artifact_path: str | None = None, run_id: str | None = None) -> None:
        self.client.log_artifact(run_id or self.parent_id, str(path), artifact_path)

    def log_text(self, text: str, name: str, run_id: str | None = None) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            self.log_artifact(path, run_id=run_id)


class RecordingLogger(Logger):
    """Lightning's logger that keeps every logged metric in memory (``records``: MLflow ``Metric`` entities with
    the names in MLflow's alphabet, as the parent run's, their steps and timestamps) and writes nothing.

    A fold trained in a worker process (experiments/tasks/folds.py, ``trainer.fold_workers``) logs into one: the
    worker never opens the tracking store (an sqlite connection must not cross a fork); the main process writes
    the records into the fold's MLflow run when the fold comes back (:meth:`Tracker.log_records`).
    """

    def __init__(self):
        super().__init__()
        self.records: list = []

    @property
    def name(self) -> str:
        return "mlflow"

    @property
    def version(self) -> str:
        return "recording"

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        """Nothing: the parent run holds the resolved configuration (logged once)."""

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.records += [Metric(_metric_key(k), float(v), now, step or 0) for k, v in metrics.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v]


class BufferedRunLogger(RecordingLogger):
    """Lightning's logger for one fold's MLflow run: metrics are kept in memory during the fit and written in
    batches of 1000 when the fit ends (and whenever 1000 are waiting).

    Lightning's MLFlowLogger writes each logging call as its own request, i.e. one sqlite transaction per
    training step logged; over a 70-fold LOSO of a small network that was seconds per fold. The run, the metric
    names (MLflow's alphabet, as the parent run's), steps and timestamps are the same as logged one by one; a
    fit that crashes still flushes what it logged (Lightning calls ``finalize`` on failure too).
    """

    def __init__(self, tracker: Tracker, run_id: str, flush_every: int = 1000):
        super().__init__()
        self._tracker, self._run_id, self._flush_every = tracker, run_id, flush_every

    @property
    def version(self) -> str:
        return self._run_id

    @property
    def run_id(self) -> str:
        return self._run_id

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        super().log_metrics(metrics, step)
        if len(self.records) >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        self._tracker.log_records(self.records, self._run_id, self._flush_every)
        self.records = []

    def finalize(self, status: str) -> None:
        self.flush()


def _artifact_location(uri: str, experiment_name: str) -> str | None:
    root = _local_artifact_root(uri)
    if root is None:
        return None
    safe = experiment_name.replace("/", "__")
    return f"{root.rstrip('/')}/{safe}"


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 6000 else text[:5997] + "..."


def _metric_key(key: str) -> str:
    """A metrics.json key in MLflow's alphabet: ``recall@20`` -> ``recall_at_20`` (the name the recommenders log per
    epoch, lightning_modules/layers/rec_module.py), any other character outside it -> ``_``."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in key.replace("@", "_at_"))
