"""Determinism and resume of `affect train` (issue: reliability)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from processed_fixture import write_processed

from core.results import read_run_metrics
from experiments.runner import train


def test_same_seed_gives_identical_predictions(project):
    write_processed(project, subjects=3, clips=4)
    preds = project / "results" / "ststnet" / "casme2" / "predictions.csv"
    train("ststnet/casme2", ["trainer.max_epochs=3", "model.dropout=0.3"])
    first = pd.read_csv(preds)
    train("ststnet/casme2", ["trainer.max_epochs=3", "model.dropout=0.3"])
    pd.testing.assert_frame_equal(first, pd.read_csv(preds))
    train("ststnet/casme2", ["trainer.max_epochs=3", "model.dropout=0.3", "seed=1"])
    assert not first.equals(pd.read_csv(preds)), "a different seed should change the scores"


def test_killed_run_resumes_to_the_same_metrics(project):
    """Kill `affect train` in the middle of its second fold, resume, and match an uninterrupted run."""
    write_processed(project, subjects=3, clips=4)
    overrides = ["trainer.max_epochs=30", "model.dropout=0.3", "trainer.checkpoint_interval_s=0",
                 "trainer.fold_workers=1", "trainer.num_threads=1"]  # the same threads here and in the subprocess
    env = {**os.environ, "AFFECT_ROOT": str(project)}
    cmd = [sys.executable, "-m", "experiments.cli", "train", "ststnet/casme2", *overrides]
    fold1 = project / "checkpoints" / "ststnet" / "casme2" / "fold_001" / "last.ckpt"
    proc = subprocess.Popen(cmd, env=env, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not fold1.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (project / "results" / "ststnet" / "casme2" / "metrics.json").exists()
    assert (project / "checkpoints" / "ststnet" / "casme2" / "folds" / "000.csv").exists()

    done = subprocess.run(cmd + ["--resume"], env=env, cwd=project, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = read_run_metrics(project / "results" / "ststnet" / "casme2")
    assert "subject=casme2/1" not in resumed["fold_seconds"]  # the finished fold was not re-trained
    resumed_preds = pd.read_csv(project / "results" / "ststnet" / "casme2" / "predictions.csv")

    uninterrupted = train("ststnet/casme2", overrides)
    fresh_preds = pd.read_csv(project / "results" / "ststnet" / "casme2" / "predictions.csv")
    assert resumed["uf1"] == uninterrupted["uf1"] and resumed["uar"] == uninterrupted["uar"]
    pd.testing.assert_frame_equal(resumed_preds, fresh_preds, check_exact=False, atol=1e-5)


def test_killed_run_with_fold_workers_resumes_to_the_same_predictions(project):
    """Kill `affect train` (and so its fold workers) once a fold is kept, resume, and match an uninterrupted run."""
    write_processed(project, subjects=4, clips=4)
    overrides = ["trainer.max_epochs=20", "trainer.checkpoint_interval_s=0", "trainer.fold_workers=2",
                 "trainer.num_threads=1"]
    env = {**os.environ, "AFFECT_ROOT": str(project)}
    cmd = [sys.executable, "-m", "experiments.cli", "train", "ststnet/casme2", *overrides]
    kept = project / "checkpoints" / "ststnet" / "casme2" / "folds"
    proc = subprocess.Popen(cmd, env=env, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not list(kept.glob("[0-9][0-9][0-9].csv")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.0)  # the workers die with their parent (PR_SET_PDEATHSIG): no fold is written after the kill
    finished = sorted(p.name for p in kept.glob("[0-9][0-9][0-9].csv"))  # not a write the kill interrupted
    assert 1 <= len(finished) < 4 and not (project / "results" / "ststnet" / "casme2" / "metrics.json").exists()

    done = subprocess.run(cmd + ["--resume"], env=env, cwd=project, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    resumed = read_run_metrics(project / "results" / "ststnet" / "casme2")
    assert len(resumed["fold_seconds"]) == 4 - len(finished)  # the kept folds were not trained again
    assert not list(kept.glob(".*")), "a write interrupted by the kill was left behind"
    resumed_preds = pd.read_csv(project / "results" / "ststnet" / "casme2" / "predictions.csv")
    train("ststnet/casme2", overrides)
    fresh_preds = pd.read_csv(project / "results" / "ststnet" / "casme2" / "predictions.csv")
    pd.testing.assert_frame_equal(resumed_preds, fresh_preds)


def _open_tracker(uri: str, name: str, start_at: float) -> str:
    from experiments.tracking import Tracker

    time.sleep(max(0.0, start_at - time.time()))  # both processes reach the fresh store at the same moment
    return Tracker(uri, name).experiment_id


def test_two_processes_opening_a_fresh_sqlite_store_at_once_both_succeed(tmp_path):
    # a DVC queue with two workers on a fresh project: both migrate the schema and create the experiment
    import multiprocessing as mp

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    start_at = time.time() + 8.0  # after both interpreters have imported mlflow
    with mp.get_context("spawn").Pool(2) as pool:
        ids = pool.starmap(_open_tracker, [(uri, "standin/casme2", start_at)] * 2)
    assert ids[0] == ids[1]


def test_stale_temporaries_of_an_interrupted_write_are_removed_and_nothing_else(tmp_path):
    from core.io import atomic_path, remove_stale_temporaries

    with atomic_path(tmp_path / "001.csv") as tmp:  # a write that completes leaves only its destination
        tmp.write_text("x\n")
    _, left = tempfile.mkstemp(prefix=".002.csv.", suffix=".tmp.csv", dir=tmp_path)  # what a kill -9 leaves
    (tmp_path / ".hidden").write_text("kept")
    (tmp_path / "valid").mkdir()
    assert remove_stale_temporaries(tmp_path) == [Path(left)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden", "001.csv", "valid"]
