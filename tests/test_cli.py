"""The command line speaks to the user: one-line errors, non-zero exit, tracebacks only with --debug."""

import json
import os
import subprocess
import sys


def _affect(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_help_lists_every_command(tmp_path):
    out = _affect("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in ("synth", "data", "preprocess", "train", "list", "report", "bench"):
        assert command in out.stdout


def test_list_json(project):
    out = _affect("list", "--json", cwd=project)
    data = json.loads(out.stdout)
    assert "ststnet" in data["methods"] and "ststnet/casme2" in data["experiments"]
    assert "composite" in data["datasets"]


def test_unknown_experiment_is_one_line_without_traceback(project):
    out = _affect("train", "ststnet/nonexistent", cwd=project)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown experiment 'ststnet/nonexistent'")


def test_unknown_method_lists_the_valid_ones(project, tmp_path):
    out = _affect("train", "nomethod/casme2", cwd=project)
    assert out.returncode == 2 and "no method or ablation named 'nomethod'" in out.stderr
    assert "ststnet" in out.stderr and "lbptop_svm" in out.stderr


def test_missing_processed_data_names_the_stage_and_debug_shows_traceback(project):
    out = _affect("train", "ststnet/casme2", cwd=project)
    assert out.returncode == 2
    assert "affect preprocess index casme2" in out.stderr and "Traceback" not in out.stderr
    debug = _affect("--debug", "train", "ststnet/casme2", cwd=project)
    assert "Traceback" in debug.stderr


def test_corrupt_mlflow_store_is_a_clear_error(project):
    from processed_fixture import write_processed

    write_processed(project, subjects=2, clips=2)
    (project / "bad.db").write_text("this is not a sqlite database")
    out = _affect("train", "ststnet/casme2", "trainer.max_epochs=1", cwd=project,
                  env={"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'bad.db'}"})
    assert out.returncode == 2, out.stderr[-1500:]
    assert "cannot open the MLflow tracking store" in out.stderr and "Traceback" not in out.stderr


def test_nan_in_a_processed_input_names_the_file(project):
    import numpy as np
    from processed_fixture import write_processed

    folder = write_processed(project, subjects=2, clips=2)
    damaged = sorted((folder / "flow").glob("*.npz"))[1]
    with np.load(damaged) as npz:
        arrays = dict(npz)
    arrays["image28"][0, 3, 3] = np.nan
    np.savez(damaged, **arrays)
    out = _affect("train", "ststnet/casme2", "trainer.max_epochs=1", cwd=project)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert str(damaged) in out.stderr and "NaN or infinite" in out.stderr
    assert "affect preprocess flow casme2" in out.stderr


def test_resuming_from_a_checkpoint_of_another_method_is_a_clear_error(project):
    import shutil

    from processed_fixture import write_processed

    write_processed(project, subjects=2, clips=3)
    done = _affect("train", "lbptop_svm/casme2", "trainer.max_epochs=1", cwd=project)
    assert done.returncode == 0, done.stderr[-1500:]
    foreign = project / "checkpoints" / "lbptop_svm" / "casme2" / "fold_000" / "last.ckpt"
    target = project / "checkpoints" / "ststnet" / "casme2" / "fold_000" / "last.ckpt"
    target.parent.mkdir(parents=True)
    shutil.copy(foreign, target)
    out = _affect("train", "ststnet/casme2", "trainer.max_epochs=1", "--resume", cwd=project)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert str(target) in out.stderr and "checkpoint of method 'lbptop_svm'" in out.stderr


def test_lightning_info_banners_are_filtered_but_its_warnings_and_our_logs_are_not():
    import logging

    from experiments.cli import quiet_libraries

    def record(name, level):
        return logging.LogRecord(name, level, __file__, 1, "msg", None, None)

    assert not quiet_libraries(record("lightning.pytorch.utilities.rank_zero", logging.INFO))
    assert quiet_libraries(record("lightning.pytorch.trainer", logging.WARNING))
    assert quiet_libraries(record("experiments.runner", logging.INFO))
