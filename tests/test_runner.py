import json

import pandas as pd
import pytest
from processed_fixture import write_processed

from core.errors import ConfigError, MissingStageOutput
from experiments.runner import train


def test_ststnet_loso_end_to_end(project):
    write_processed(project, subjects=4)
    metrics = train("ststnet/casme2", ["trainer.max_epochs=8"])
    out = project / "results" / "ststnet" / "casme2"
    saved = json.loads((out / "metrics.json").read_text())
    for key in ("uf1", "uar", "accuracy", "n_samples", "n_folds"):
        assert key in saved
    assert saved["n_folds"] == 4 and saved["n_samples"] == 24
    assert saved["standin"] is True
    preds = pd.read_csv(out / "predictions.csv")
    assert list(preds.columns[:6]) == ["sample_id", "dataset", "subject", "fold", "y_true", "y_pred"]
    assert {f"score_{c}" for c in ("happiness", "others")} <= set(preds.columns)
    # every subject is tested exactly once, in its own fold
    assert preds.groupby("subject")["fold"].nunique().eq(1).all()
    assert sorted(preds["subject"].astype(str).unique()) == ["1", "2", "3", "4"]
    # the class signal is strong: a working pipeline is well above 5-class chance
    assert metrics["uf1"] > 0.5
    run = json.loads((out / "run.json").read_text())
    assert run["mlflow_run_id"] and run["standin"] is True


def test_lbptop_svm_separable(project):
    write_processed(project, subjects=3)
    metrics = train("lbptop_svm/casme2")
    assert metrics["uar"] > 0.8


def test_config_typo_is_an_error(project):
    write_processed(project, subjects=2, clips=2)
    with pytest.raises(ConfigError, match="trainer.max_epochs"):
        train("ststnet/casme2", ["trainer.max_epoch=3"])


def test_wrong_type_is_an_error(project):
    with pytest.raises(ConfigError, match="must be a number"):
        train("ststnet/casme2", ["optim.lr=fast"])


def test_unknown_experiment_lists_what_exists(project):
    with pytest.raises(ConfigError, match="ststnet has experiments for casme2, composite, samm, smic"):
        train("ststnet/casme")


def test_missing_processed_file_names_the_stage(project):
    with pytest.raises(MissingStageOutput, match="affect preprocess"):
        train("ststnet/casme2")


def test_resume_reuses_finished_folds(project):
    write_processed(project, subjects=3, clips=4)
    first = train("ststnet/casme2", ["trainer.max_epochs=2"])
    preds = project / "results" / "ststnet" / "casme2" / "predictions.csv"
    before = pd.read_csv(preds)
    again = train("ststnet/casme2", ["trainer.max_epochs=2"], resume=True)
    assert again["fold_seconds"] == {}  # nothing re-trained
    pd.testing.assert_frame_equal(before, pd.read_csv(preds))
    assert again["uf1"] == first["uf1"]


def test_composite_real_data_is_filtered_by_the_sample_list(project):
    """A licensed copy enters the composite only with the listed samples; stand-ins use the label mapping."""
    import pandas as pd

    from core.config import PACKAGE_ROOT
    from datamodules.micro_expression import MicroExpressionSource
    from experiments.config import load_experiment
    from rawdata.index import load_index, save_index

    for dataset, emotions in (("casme2", ("happiness", "disgust", "surprise")),
                              ("samm", ("happiness", "anger", "surprise")),
                              ("smic", ("positive", "negative", "surprise"))):
        folder = write_processed(project, dataset=dataset, subjects=2, clips=3, emotions=emotions)
        index = load_index(folder / "index.csv")
        index["standin"] = False
        if dataset == "casme2":  # subject 1 clip EP00 is in the real list (sub01/EP02_01f is, EP00 is not)
            index.loc[0, ["subject", "clip"]] = ["1", "EP02_01f"]
        save_index(index, folder / "index.csv")
    cfg = load_experiment("ststnet/composite")
    source = MicroExpressionSource(cfg, ("image28",), project)
    listed = pd.read_csv(PACKAGE_ROOT / "rawdata" / "layouts" / "composite_samples.csv", dtype=str)
    keys = set(zip(listed["dataset"], listed["subject"], listed["clip"]))
    assert len(source.index) >= 1
    assert all(key in keys for key in zip(source.index["dataset"], source.index["subject"], source.index["clip"]))
