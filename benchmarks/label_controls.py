"""Helper of the EEG benchmarks (e2stn.py, mfmc.py): a permuted-label control scored two ways.

The suite's control (``data.negative_control=permuted_labels``, datamodules/controls.py) shuffles the TRIAL labels
across every trial of the run (both datasets of a cross-dataset run; training and test trials alike) before the
folds are made, so the model trains on labels that carry no information about the windows. Its metrics.json
scores the test windows against their permuted labels. :func:`against_true_labels` scores the same predictions
against the windows' TRUE labels, read from the predictions.csv of the real run on the same windows (same sample
ids; a real run's ``y_true``): that is the control as "training labels permuted, test labels true". Both must sit
at chance; the first would also catch a test window leaking into training (it would carry its permuted label to
both sides), the second a model that scores without its training labels (e.g. by reading test labels).

Run alone it does nothing; it is imported by the benchmark scripts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core import metrics as M


def predictions(results: Path, experiment: str) -> pd.DataFrame:
    name, dataset = experiment.split("/")
    return pd.read_csv(results / name / dataset / "predictions.csv", dtype={"subject": str, "sample_id": str})


def against_true_labels(control: pd.DataFrame, real: pd.DataFrame, n_classes: int) -> dict:
    """The control's predictions against the real run's labels: pooled accuracy / macro-F1, accuracy per subject
    (mean, std), the true labels' majority floor, and the share of test windows whose label the permutation moved."""
    truth = real.set_index("sample_id")["y_true"]
    if len(truth) != len(control) or not control["sample_id"].isin(truth.index).all():
        raise ValueError("the control and the real run predicted different windows: not the same data")
    y_true = truth.loc[control["sample_id"]].to_numpy()
    y_pred = control["y_pred"].to_numpy()
    correct = pd.Series(y_true == y_pred).groupby(control["subject"].to_numpy()).mean()
    counts = np.bincount(y_true, minlength=n_classes)
    return {"accuracy_true_labels": round(M.accuracy(y_true, y_pred), 4),
            "uf1_true_labels": round(M.uf1(y_true, y_pred, n_classes), 4),
            "subject_accuracy_true_labels_mean": round(float(correct.mean()), 4),
            "subject_accuracy_true_labels_std": round(float(correct.std(ddof=0)), 4),
            "majority_accuracy_true_labels": round(float(counts.max() / counts.sum()), 4),
            "test_labels_moved": round(float(np.mean(control["y_true"].to_numpy() != y_true)), 4)}
