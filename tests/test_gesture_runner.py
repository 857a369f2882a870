"""End to end: `affect train fgsgl/microgesture` through the one runner on a tiny stand-in (slow: MLflow + fit)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rawdata.synth import generate

TINY = ["trainer.max_epochs=1", "model.encoder.channels=[8,16]", "model.encoder.strides=[2,2]",
        "model.encoder.temporal_kernel=3", "model.text_encoder.backend=open_clip"]


@pytest.mark.slow
def test_runner_scores_top_k_on_the_cross_subject_split(tmp_path, monkeypatch):
    from experiments.runner import train

    root = tmp_path / "microgesture"
    generate("microgesture", root, subjects=3, seed=2, frames=24, repeats=1)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    results = tmp_path / "results"
    metrics = train("fgsgl/microgesture", [f"data.root={root}", f"output.results_root={results}",
                                           f"output.checkpoints_root={tmp_path / 'ckpt'}", *TINY], profile="default")
    assert 0.0 <= metrics["top1"] <= metrics["top5"] <= 1.0 and metrics["n_folds"] == 1 and metrics["standin"]
    out = results / "fgsgl" / "microgesture"
    predictions = pd.read_csv(out / "predictions.csv", dtype={"subject": str})
    test_subjects = set(json.loads((root / "SYNTHETIC.json").read_text())["test_subjects"])
    assert set(predictions["subject"].astype(int)) == test_subjects
    assert len([c for c in predictions.columns if c.startswith("score_")]) == 12
    assert "fgsa_part_attention" in json.loads((out / "interpretation.json").read_text())["summary"]
