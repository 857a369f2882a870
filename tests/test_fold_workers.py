"""Folds trained in forked worker processes (trainer.fold_workers) give what one process gives."""

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from processed_fixture import write_processed

from core.errors import AffectError
from experiments.runner import train
from experiments.tasks import folds as fold_loop
from experiments.tracking import resolve_tracking_uri

ONE_THREAD = ["trainer.max_epochs=3", "trainer.num_threads=1"]


def _predictions(project) -> pd.DataFrame:
    return pd.read_csv(project / "results" / "ststnet" / "casme2" / "predictions.csv")


def test_two_workers_predict_exactly_what_one_process_predicts_and_mlflow_gets_every_folds_metrics(project):
    write_processed(project, subjects=4)
    serial = train("ststnet/casme2", [*ONE_THREAD, "trainer.fold_workers=1"])
    alone = _predictions(project)
    parallel = train("ststnet/casme2", [*ONE_THREAD, "trainer.fold_workers=2"])
    together = _predictions(project)
    pd.testing.assert_frame_equal(alone, together)  # same folds, same order, same scores bit for bit
    assert serial["uf1"] == parallel["uf1"]
    details = json.loads((project / "results" / "ststnet" / "casme2" / "details.json").read_text())
    assert details["fold_workers"] == 2 and list(details["fold_seconds"]) == list(serial["fold_seconds"])
    client = MlflowClient(resolve_tracking_uri(root=project))
    run_id = json.loads((project / "results" / "ststnet" / "casme2" / "run.json").read_text())["mlflow_run_id"]
    children = client.search_runs([client.get_run(run_id).info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{run_id}'")
    assert len(children) == 4 and all(c.info.status == "FINISHED" for c in children)
    for child in children:  # the worker's Lightning metrics and the fold's scores, written by the main process
        assert "train/loss" in child.data.metrics and "uf1" in child.data.metrics
        assert len(client.get_metric_history(child.info.run_id, "train/loss")) >= 1


def test_a_failing_fold_in_a_worker_is_raised_and_the_folds_that_finished_are_kept(project, monkeypatch):
    write_processed(project, subjects=4)
    real = fold_loop.run_fold

    def fold_one_fails(prepared, ctx, fold, number, logger):
        if number == 1:
            raise AffectError(f"fold {fold.name}: broken on purpose")
        return real(prepared, ctx, fold, number, logger)

    monkeypatch.setattr(fold_loop, "run_fold", fold_one_fails)  # the forked workers inherit it
    with pytest.raises(AffectError, match="broken on purpose"):
        train("ststnet/casme2", ["trainer.max_epochs=1", "trainer.fold_workers=2", "trainer.max_fold_workers=2"])
    kept = sorted(p.name for p in (project / "checkpoints" / "ststnet" / "casme2" / "folds").glob("*.csv"))
    assert "001.csv" not in kept and "000.csv" in kept  # fold 0 ran beside the failing one and was kept
    monkeypatch.setattr(fold_loop, "run_fold", real)
    resumed = train("ststnet/casme2", ["trainer.max_epochs=1", "trainer.fold_workers=2"], resume=True)
    assert len(resumed["fold_seconds"]) <= 3  # only the folds not kept ran again
    assert resumed["n_folds"] == 4 and resumed["n_samples"] == 24


def test_fold_workers_setting():
    from omegaconf import OmegaConf

    def cfg(**trainer):
        base = {"accelerator": "cpu", "strategy": "auto", "num_threads": 0, "fold_workers": "auto",
                "max_fold_workers": 4}
        return OmegaConf.create({"trainer": {**base, **trainer}})

    assert fold_loop.fold_workers(cfg(fold_workers=1), 10) == (1, 0)
    assert fold_loop.fold_workers(cfg(fold_workers=3), 2)[0] == 2  # never more workers than folds left
    assert fold_loop.fold_workers(cfg(fold_workers=2, num_threads=3), 5) == (2, 3)
    assert fold_loop.fold_workers(cfg(fold_workers=2, accelerator="gpu"), 5)[0] == 1
    assert fold_loop.fold_workers(cfg(fold_workers=2, strategy="ddp"), 5)[0] == 1
    workers, threads = fold_loop.fold_workers(cfg(), 10)
    assert 1 <= workers <= 4 and threads >= 1
    with pytest.raises(AffectError, match="fold_workers"):
        fold_loop.fold_workers(cfg(fold_workers="many"), 5)
    with pytest.raises(AffectError, match="at least 1"):
        fold_loop.fold_workers(cfg(fold_workers=0), 5)
