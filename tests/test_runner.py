import json

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from processed_fixture import write_processed

from core.config import PACKAGE_ROOT
from core.errors import ConfigError, MissingStageOutput
from core.provenance import git_commit
from core.results import read_run_metrics, split_metrics, write_run_metrics
from experiments import registry
from experiments.runner import train
from experiments.tasks.folds import NO_VALIDATION, epoch_budget
from rawdata.datasets import DATASETS


def test_ststnet_loso_end_to_end(project):
    write_processed(project, subjects=4)
    metrics = train("ststnet/casme2", ["trainer.max_epochs=8"])
    out = project / "results" / "ststnet" / "casme2"
    saved = json.loads((out / "metrics.json").read_text())
    # metrics.json (the DVC metric) holds the headline numbers and their floors only; details.json the rest
    assert set(saved) == {"uf1", "uar", "accuracy", "majority_uf1", "majority_accuracy", "n_samples", "n_folds",
                          "standin"}
    details = json.loads((out / "details.json").read_text())
    assert {"per_subject", "per_class_f1", "confusion_matrix", "class_names", "fold_seconds"} <= set(details)
    assert not set(saved) & set(details) and read_run_metrics(out) == {**details, **saved}
    assert saved["n_folds"] == 4 and saved["n_samples"] == 24
    assert saved["standin"] is True
    truth_counts = np.sum(details["confusion_matrix"], axis=1)  # rows: the pooled test labels
    assert saved["majority_accuracy"] == pytest.approx(truth_counts.max() / truth_counts.sum())
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
    # the commit is the code's (this checkout), the project folder (AFFECT_ROOT, no git here) is recorded apart
    assert run["git_commit"] == git_commit(PACKAGE_ROOT) and run["project_git_commit"] == "unknown"
    assert run["negative_control"] == "none" and run["max_epochs"] == 8 and run["validation"] == "none"
    assert run["standin_note"] == DATASETS["casme2"].standin_note and "calibrated" in run["standin_note"]
    assert run["defaults_chosen"] == registry.method("ststnet").defaults_chosen
    # no validation split: whether the budget cut training short cannot be told, and details.json says why
    assert details["capped"] is None and details["capped_reason"] == NO_VALIDATION


def test_inner_validation_records_each_folds_best_epoch_and_whether_the_budget_capped_it(project):
    write_processed(project, subjects=3, clips=3)
    overrides = ["trainer.max_epochs=3", "protocol.validation=inner", "trainer.num_threads=1"]
    first = train("ststnet/casme2", overrides)
    out = project / "results" / "ststnet" / "casme2"
    details = json.loads((out / "details.json").read_text())
    assert "capped" not in json.loads((out / "metrics.json").read_text())  # a detail, not a headline number
    best = details["best_epochs"]
    assert len(best) == 3 and all(0 <= epoch <= 2 for epoch in best.values())
    assert details["capped_folds"] == [fold for fold, epoch in best.items() if epoch == 2]
    assert details["capped"] is bool(details["capped_folds"]) and details["max_epochs"] == 3
    again = train("ststnet/casme2", overrides, resume=True)  # finished folds keep their best epochs
    assert again["fold_seconds"] == {} and again["best_epochs"] == first["best_epochs"] == best


def test_capped_needs_a_fold_whose_best_validation_epoch_is_its_last():
    assert epoch_budget({}, 10) == {"capped": None, "capped_reason": NO_VALIDATION}
    assert epoch_budget({"a": 3, "b": 9}, 10) == {"best_epochs": {"a": 3, "b": 9}, "max_epochs": 10,
                                                   "capped": True, "capped_folds": ["b"]}
    assert epoch_budget({"a": 3, "b": None}, 10)["capped"] is False  # a fold whose epoch was not kept is skipped
    assert epoch_budget({"a": None}, 10)["capped"] is None
    one = epoch_budget({"a": 0}, 1)  # an exact one-step fit (the SVMs): no curve to judge
    assert one["capped"] is None and "one training epoch" in one["capped_reason"]


def _scored(task: str) -> dict:
    """What the fold loop returns for ``task``: score() of pooled predictions, folds, timings, valid_ scores."""
    from experiments.tasks.folds import score, validation_scores

    rng = np.random.default_rng(0)
    classes, disguises, aus = ["a", "b", "c", "d", "e", "f"], ["x", "y"], ["1", "2", "4"]
    cfg = OmegaConf.create({"data": {"classes": classes, "disguise_classes": disguises, "aus": aus}, "model": {}})
    n = 40
    table = pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "dataset": "d",
                          "subject": [str(i % 4) for i in range(n)], "fold": "f",
                          "y_true": rng.integers(0, 6, n), "y_pred": rng.integers(0, 6, n)})
    for name in classes:
        table[f"score_{name}"] = rng.random(n)
    table["disguise_true"], table["disguise_pred"] = rng.integers(0, 2, n), rng.integers(0, 2, n)
    for name in aus:
        table[f"au_true_{name}"], table[f"au_score_{name}"] = rng.integers(0, 2, n), rng.random(n)
    metrics = score(task, table, None, cfg)
    metrics.update({"n_folds": 4, "fold_seconds": {"f": 1.0}, "standin": True},
                   **validation_scores(task, table, None, cfg))
    return metrics


FOLD_HEADLINES = {
    "mer": {"uf1", "uar", "accuracy"},
    "masked": {"uf1", "uar", "accuracy", "disguise_uf1", "disguise_uar"},
    "gesture": {"uf1", "uar", "accuracy", "top1", "top5"},
    "au": {"mean_au_f1", "label_free_uf1", "label_free_uar"},
}


@pytest.mark.parametrize("task", sorted(FOLD_HEADLINES))
def test_metrics_json_holds_the_headline_set_of_each_task_and_details_json_the_rest(tmp_path, task):
    metrics = _scored(task)
    write_run_metrics(tmp_path, task, metrics)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    floors = {"all_positive_floor"} if task == "au" else {"majority_uf1", "majority_accuracy"}
    expected = FOLD_HEADLINES[task] | floors | {f"valid_{k}" for k in FOLD_HEADLINES[task]} | {
        "n_samples", "n_folds", "standin"}
    assert set(saved) == expected
    details = json.loads((tmp_path / "details.json").read_text())
    assert set(details) == set(metrics) - expected  # everything else, nothing lost
    assert "fold_seconds" in details and ("per_subject" in details or task == "au")


def test_recommendation_headline_set():
    metrics = {"recall@10": 0.1, "recall@20": 0.2, "recall@50": 0.3, "ndcg@10": 0.1, "ndcg@20": 0.1,
               "ndcg@50": 0.2, "valid_recall@20": 0.2, "valid_recall@50": 0.3, "n_test_users": 9, "best_epoch": 3,
               "stopped_epoch": 8, "capped": False, "popularity_recall@20": 0.05, "epochs": 9,
               "train_seconds": 2.0, "seconds_per_epoch": 0.2, "attribution_informative_share_image": 0.4,
               "standin": True}
    headline, details = split_metrics("rec", metrics)
    assert set(headline) == {"recall@10", "recall@20", "ndcg@10", "ndcg@20", "valid_recall@20", "n_test_users",
                             "best_epoch", "stopped_epoch", "capped", "popularity_recall@20", "standin"}
    assert set(details) == {"recall@50", "ndcg@50", "valid_recall@50", "epochs", "train_seconds",
                            "seconds_per_epoch", "attribution_informative_share_image"}


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


def test_frame_inputs_can_come_from_the_magnified_clips(project):
    """data.frames_from=magnify: frames / apex / onset read the magnify stage's grey clips (one channel); a clip the
    stage lacks is a missing-output error naming the stage; an unknown source is named."""
    from core.errors import DatasetError
    from core.io import write_npz
    from datamodules.micro_expression import MicroExpressionSource
    from experiments.config import load_experiment

    folder = write_processed(project, subjects=2, clips=3, frames=6, crop=16)
    ids = [p.stem for p in sorted((folder / "faces").glob("*.npz"))]
    for k, sid in enumerate(ids):
        write_npz(folder / "magnified" / f"{sid}.npz", frames=np.full((6, 16, 16), 10 + k, np.uint8))
    cfg = load_experiment("sma_stn/casme2", ["data.image_size=16", "data.frames_from=faces"])
    faces = MicroExpressionSource(cfg, ("frames", "apex"), project)
    assert faces.arrays["frames"].shape[2] == 3 and faces.arrays["apex"].shape[1] == 3
    cfg.data.frames_from = "magnify"
    magnified = MicroExpressionSource(cfg, ("frames", "apex"), project)
    frames, order = magnified.arrays["frames"], list(magnified.index["sample_id"])
    assert frames.shape == (len(order), int(cfg.data.seq_len), 1, 16, 16)
    assert [int(frames[i].max()) for i in range(len(order))] == [10 + ids.index(s) for s in order]
    assert magnified.arrays["apex"].shape == (len(order), 1, 16, 16)
    (folder / "magnified" / f"{ids[0]}.npz").unlink()
    with pytest.raises(MissingStageOutput, match="magnif"):
        MicroExpressionSource(cfg, ("frames",), project)
    cfg.data.frames_from = "flow"
    with pytest.raises(DatasetError, match="frames_from"):
        MicroExpressionSource(cfg, ("frames",), project)
