"""`affect train <method>/<source>_to_<target>`: the cross-database task loop end to end on tiny processed data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from processed_fixture import write_processed

from core.errors import ConfigError, DatasetError
from core.results import read_run_metrics
from datamodules.cross_database import ORACLE_LABEL
from experiments.catalogue import SuiteCatalogue
from experiments.runner import train
from reports.build import ReportOptions, build_report


@pytest.fixture
def cdmer_project(project):
    """CASME II and SMIC-HS processed, their LBP-TOP class signals on the same dimensions after the 3-class mapping
    (happiness/positive, surprise, disgust/negative), SMIC offset as another camera would be."""
    write_processed(project, "casme2", subjects=4, clips=6, seed=1)
    folder = write_processed(project, "smic", subjects=3, clips=6, seed=2, emotions=("positive", "surprise",
                                                                                    "negative"))
    for path in (folder / "features").glob("*.npz"):
        with np.load(path) as npz:
            arrays = dict(npz)
        arrays["lbptop"] = arrays["lbptop"] + 0.5
        np.savez(path, **arrays)
    return project


def test_a_classical_da_run_writes_honest_results_and_the_oracle_apart(cdmer_project):
    metrics = train("coral/casme2_to_smic", ["selection.grid.c=[0.1,1.0]"])
    out = cdmer_project / "results" / "coral" / "casme2_to_smic"
    table = pd.read_csv(out / "predictions.csv")
    assert len(table) == 18 and set(table["dataset"]) == {"smic"} and (table["fold"] == "casme2_to_smic").all()
    headline = json.loads((out / "metrics.json").read_text())
    assert {"uf1", "uar", "accuracy", "majority_uf1"} <= set(headline) and "oracle" not in headline
    details = read_run_metrics(out)
    assert details["war"] == details["accuracy"] and details["n_source"] == 24 - 5  # "others" is not mapped
    assert set(details["selection"]) == {"source_cv", "reverse_validation", "iwcv"}
    assert details["selection_rule"] == "reverse_validation"
    assert details["oracle"]["label"] == ORACLE_LABEL
    assert details["oracle"]["uar"] >= details["uar"] and details["oracle_gap_uar"] >= 0
    assert metrics["uar"] > 0.6
    run = json.loads((out / "run.json").read_text())
    assert run["task"] == "cdmer" and run["protocol"] == "cross_database"


def test_tsrg_runs_through_the_same_loop(cdmer_project):
    metrics = train("tsrg/casme2_to_smic", ["selection.grid.lam=[1.0]", "selection.grid.mu=[0.01]",
                                            "model.ialm.tol=1e-6"])
    assert metrics["selected"] == {"lam": 1.0, "mu": 0.01} and metrics["grid"] == [{"lam": 1.0, "mu": 0.01}]
    assert metrics["n_samples"] == 18 and 0 <= metrics["uar"] <= 1


@pytest.mark.parametrize("exp_id, grid", [("rstr/casme2_to_smic", ["selection.grid.lam=[1.0]",
                                                                    "selection.grid.mu=[0.01]"]),
                                          ("tgsr/casme2_to_smic", ["selection.grid.lam=[1.0]",
                                                                    "selection.grid.k=[4]"])])
def test_rstr_and_tgsr_run_through_the_cross_database_loop(cdmer_project, exp_id, grid):
    # the fixture's 40 LBP-TOP features have no block layout: 10 groups of 4 (three carry the class signals; TGSR keeps
    # 4, one more than those, because the model has no intercept, as the public code, and a plain group carries it)
    metrics = train(exp_id, [*grid, "model.regions.levels=[]", "model.regions.n_groups=10", "model.alm.tol=1e-6"])
    assert metrics["n_samples"] == 18 and metrics["uar"] > 0.6


def test_bad_selection_settings_are_config_errors(cdmer_project):
    with pytest.raises(ConfigError, match="not honest rules"):
        train("source_only/casme2_to_smic", ["selection.rule=oracle"])
    with pytest.raises(ConfigError, match=r"selection.grid names \['lamda'\]"):
        train("source_only/casme2_to_smic", ["selection.grid.lamda=[1.0]"])


def test_a_target_with_classes_the_source_lacks_is_an_error(cdmer_project):
    write_processed(cdmer_project, "casme2", subjects=2, clips=4, emotions=("surprise", "disgust", "others"))
    with pytest.raises(DatasetError, match=r"target 'smic' has classes \['positive'\] that the source 'casme2' lacks"):
        train("source_only/casme2_to_smic")


def test_the_report_shows_the_task_by_method_matrix_with_the_oracle_apart(cdmer_project):
    train("source_only/casme2_to_smic", ["selection.grid.c=[0.1,1.0]"])
    train("coral/casme2_to_smic", ["selection.grid.c=[0.1,1.0]"])
    options = ReportOptions(root=cdmer_project, results_dir=cdmer_project / "results",
                            out_dir=cdmer_project / "reports", mlflow=False, dvc=False, workers=1,
                            catalogue=SuiteCatalogue())
    md = build_report(options, configured=[]).markdown.read_text()
    section = md[md.index("## Cross-database micro-expression recognition (CDMER)"):]
    assert "| Task | coral UAR | source_only UAR | coral oracle UAR | source_only oracle UAR |" in section
    assert "| CASME II → SMIC-HS |" in section and "oracle columns, set apart" in section
    assert "SMIC-VIS → SMIC-NIR (within SMIC)" in section and "1812.07742" in section
