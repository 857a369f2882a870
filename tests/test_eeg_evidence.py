"""Helpers of the EEG evidence benchmarks: the permuted-label control scored against the true labels
(benchmarks/label_controls.py) and the PGCN readout rule (benchmarks/pgcn_readout.py, fixed before its runs)."""

from __future__ import annotations

import pandas as pd
import pytest
from benchmark_module import load_benchmark


def _load(name: str, monkeypatch):
    return load_benchmark(name, monkeypatch)


def test_control_predictions_are_scored_against_the_real_runs_labels(monkeypatch):
    controls = _load("label_controls", monkeypatch)
    real = pd.DataFrame({"sample_id": ["a#w0", "a#w1", "b#w0", "c#w0"], "subject": ["1", "1", "2", "2"],
                         "y_true": [0, 0, 1, 2], "y_pred": [0, 0, 1, 2]})
    control = pd.DataFrame({"sample_id": ["c#w0", "b#w0", "a#w1", "a#w0"], "subject": ["2", "2", "1", "1"],
                            "y_true": [2, 0, 1, 1], "y_pred": [2, 1, 1, 1]})  # labels permuted, rows reordered
    scores = controls.against_true_labels(control, real, 3)
    assert scores["accuracy_true_labels"] == 0.5  # c and b right, a wrong (true 0, predicted 1)
    assert scores["subject_accuracy_true_labels_mean"] == 0.5  # subject 1: 0/2, subject 2: 2/2
    assert scores["test_labels_moved"] == 0.75 and scores["majority_accuracy_true_labels"] == 0.5
    with pytest.raises(ValueError, match="different windows"):
        controls.against_true_labels(control.iloc[:3], real, 3)


def test_pgcn_readout_rule_takes_the_higher_mean_and_gives_ties_to_pool(monkeypatch):
    rule = _load("pgcn_readout", monkeypatch).choose
    assert rule({"a": {"pool": 0.50, "flatten": 0.70}, "b": {"pool": 0.60, "flatten": 0.50}})[0] == "flatten"
    assert rule({"a": {"pool": 0.70, "flatten": 0.50}, "b": {"pool": 0.40, "flatten": 0.55}})[0] == "pool"
    chosen, means = rule({"a": {"pool": 0.600, "flatten": 0.604}})
    assert chosen == "pool" and means["flatten"] > means["pool"]  # under 0.005 apart: the a-priori version
