"""benchmarks/full_profile_estimate.py: a stage's time scaled from a run of its first folds."""

import pytest
from benchmark_module import load_benchmark


def _bench():
    return load_benchmark("full_profile_estimate")  # it imports its sibling timed_runs as python runs it


def test_a_stage_is_start_up_plus_its_rounds_of_folds():
    bench = _bench()
    run = {"wall_seconds": 130.0, "fold_seconds": {"subject=1": 100.0, "subject=2": 110.0},
           "metrics": {"n_folds": 2, "n_folds_of_protocol": 71, "fold_workers": 2}}
    got = bench.estimate(run)
    # one round of two folds side by side lasts its longest fold; 71 folds are 36 such rounds
    assert got["round_seconds"] == 110.0 and got["start_up_seconds"] == 20.0
    assert got["estimated_seconds"] == pytest.approx(20.0 + 36 * 110.0)
    assert bench.fold_rounds({"a": 1.0, "b": 3.0, "c": 2.0}, 2) == [3.0, 2.0]


def test_the_pipeline_stages_are_named_as_dvc_names_them():
    bench = _bench()
    params = {"experiments": {"rrrn--composite": {"id": "rrrn/composite", "args": ""}},
              "rec_experiments": {"mgcn--recsynth": {"id": "mgcn/recsynth", "args": ""}}}
    assert set(bench.training_stage_entries(params)) == {"train@rrrn--composite", "train_rec@mgcn--recsynth"}
