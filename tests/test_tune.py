"""`affect tune`: grid trials in their own folders, selection on validation only, the chosen run published."""

import json

import pandas as pd
import pytest
from processed_fixture import write_processed

from core.errors import ConfigError
from core.results import read_run_metrics
from experiments.cli import main
from experiments.tuning import choose, grid_trials, parse_grid, split_values, validation_score

LIGHT = ["trainer.num_threads=1"]


def read_tuning(out):
    return pd.read_csv(out / "tuning.csv"), json.loads((out / "tuning.json").read_text())


def assert_chosen_is_validation_argmax(out, metric, grid_key):
    """The published run is the trial with the highest validation score (first on ties), and says so."""
    table, summary = read_tuning(out)
    assert (table["status"] == "ok").all()
    best = table.loc[table[metric].idxmax()]  # idxmax: the first row among equal maxima
    assert summary["metric"] == metric and summary["chosen_trial"] == best["trial"]
    assert table["chosen"].tolist() == [trial == best["trial"] for trial in table["trial"]]
    main_metrics = read_run_metrics(out)
    trial_metrics = read_run_metrics(out / "tuning" / best["trial"])
    assert main_metrics["selection_metric"] == metric
    assert main_metrics["selected"] == {grid_key: pytest.approx(best[grid_key])}
    assert main_metrics[metric] == trial_metrics[metric] == pytest.approx(best[metric])
    run = json.loads((out / "run.json").read_text())
    assert run == json.loads((out / "tuning" / best["trial"] / "run.json").read_text())
    return table, summary, main_metrics


def test_fold_task_tunes_on_pooled_inner_validation(project, capsys):
    write_processed(project, subjects=4, clips=4)
    code = main(["tune", "ststnet/casme2", "--grid", "optim.lr=0.0001,0.02", "trainer.max_epochs=3",
                 "protocol.max_folds=2", *LIGHT])
    assert code == 0, capsys.readouterr().err
    out = project / "results" / "ststnet" / "casme2"
    table, summary, main_metrics = assert_chosen_is_validation_argmax(out, "valid_uf1", "optim.lr")
    assert table["optim.lr"].tolist() == [0.0001, 0.02] and summary["grid"] == {"optim.lr": [0.0001, 0.02]}
    assert {"test_uf1", "test_uar"} <= set(table.columns)
    assert "protocol.validation=inner" in summary["overrides"]
    # validation and test pools are different samples: the inner-validation subjects of 2 folds vs their test ones
    assert main_metrics["valid_n_samples"] == 2 * 4 and main_metrics["n_samples"] == 2 * 4
    for trial in table["trial"]:
        trial_metrics = read_run_metrics(out / "tuning" / trial)
        assert 0.0 <= trial_metrics["valid_uf1"] <= 1.0 and "selected" not in trial_metrics
        assert (project / "checkpoints" / "ststnet" / "casme2" / "tuning" / trial).is_dir()
    assert (out / "predictions.csv").is_file()
    assert not (project / "checkpoints" / "ststnet" / "casme2" / "folds").exists()  # main checkpoints untouched
    assert "chose optim.lr=" in capsys.readouterr().out


def test_a_failed_trial_is_recorded_the_rest_continue_and_runs_are_tagged(project):
    """Leave-one-dataset-out on a single dataset fails when the trial prepares its data (an AffectError)."""
    from mlflow.tracking import MlflowClient

    write_processed(project, subjects=3, clips=3)
    assert main(["tune", "ststnet/casme2", "--grid", "protocol.name=lodo,loso", "trainer.max_epochs=1",
                 "protocol.max_folds=1", *LIGHT]) == 0
    out = project / "results" / "ststnet" / "casme2"
    table, summary = read_tuning(out)
    assert table["status"].tolist() == ["failed", "ok"] and "two datasets" in table["error"][0]
    assert summary["chosen"] == {"protocol.name": "loso"} and summary["n_failed"] == 1
    assert read_run_metrics(out)["selected"] == {"protocol.name": "loso"}
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, "tags.tuning = 'ststnet/casme2'")
    assert [(r.data.tags["tuning_trial"], r.data.tags.get("tuning_selected")) for r in runs] == [
        (summary["chosen_trial"], "true")]


def test_rec_method_tunes_on_valid_recall(project, tmp_path):
    data = tmp_path / "recdata"
    assert main(["synth", "rec", "--out", str(data), "--users", "40", "--items", "30", "--interactions", "500",
                 "--image-dim", "8", "--text-dim", "4", "--seed", "3"]) == 0
    code = main(["tune", "vbpr/recsynth", f"data.root={data}", "trainer.max_epochs=2", "attribution.enabled=false",
                 *LIGHT, "--grid", "optim.lr=0.0001,0.05"])
    assert code == 0
    out = project / "results" / "vbpr" / "recsynth"
    table, summary, _ = assert_chosen_is_validation_argmax(out, "valid_recall@20", "optim.lr")
    assert len(table) == 2 and {"test_recall@20", "test_ndcg@20"} <= set(table.columns)
    assert (out / "rankings.csv").is_file()


def test_all_trials_failing_is_a_one_line_error(project, capsys):
    """No processed data: every trial fails with the runner's MissingStageOutput."""
    code = main(["tune", "ststnet/casme2", "--grid", "optim.lr=0.001,0.01", *LIGHT])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no trial of ststnet/casme2 can be selected: 2 of 2 failed") and "\n" not in err
    table = pd.read_csv(project / "results" / "ststnet" / "casme2" / "tuning.csv")
    assert table["status"].tolist() == ["failed", "failed"]
    assert table["error"].str.contains("affect preprocess").all()
    assert not (project / "results" / "ststnet" / "casme2" / "metrics.json").exists()


# ---------------------------------------------------------------- selection reads validation scores only


def test_selection_never_reads_a_test_metric():
    trials = [{"uf1": 0.9, "valid_uf1": 0.2}, {"uf1": 0.1, "valid_uf1": 0.7}]
    assert choose(trials, "valid_uf1") == 1
    with pytest.raises(ConfigError, match="not a validation score"):
        choose(trials, "uf1")
    with pytest.raises(ConfigError, match="not a validation score"):
        validation_score({"recall@20": 0.5}, "recall@20")


def test_ties_go_to_the_first_combination_and_failures_are_skipped():
    assert choose([{"valid_top1": 0.5}, {"valid_top1": 0.5}], "valid_top1") == 0
    assert choose([None, {"valid_top1": float("nan")}, {"valid_top1": 0.1}], "valid_top1") == 2
    assert choose([None, None], "valid_top1") is None


def test_grid_is_a_cartesian_product_in_grid_order():
    grid = parse_grid(["model.widths=[3,5,8],[4,6,10]", "optim.lr=0.1,0.2"])
    assert grid == {"model.widths": ["[3,5,8]", "[4,6,10]"], "optim.lr": ["0.1", "0.2"]}
    trials = grid_trials(grid)
    assert [t.values for t in trials] == [
        {"model.widths": "[3,5,8]", "optim.lr": "0.1"}, {"model.widths": "[3,5,8]", "optim.lr": "0.2"},
        {"model.widths": "[4,6,10]", "optim.lr": "0.1"}, {"model.widths": "[4,6,10]", "optim.lr": "0.2"}]
    assert len({t.slug for t in trials}) == 4 and all("/" not in t.slug for t in trials)
    assert split_values("a, b") == ["a", "b"]


# ---------------------------------------------------------------- bad input: one-line errors


@pytest.mark.parametrize("grid, message", [
    ("model.cl_weight", "--grid 'model.cl_weight' must look like KEY=V1,V2"),
    ("=0.1,0.2", "--grid '=0.1,0.2' must look like KEY=V1,V2"),
    ("optim.lr=", "--grid 'optim.lr=' has an empty value"),
    ("optim.lr=0.1,,0.2", "--grid 'optim.lr=0.1,,0.2' has an empty value"),
    ("optim.lr=0.1,0.1", "lists a value twice"),
])
def test_malformed_grid_is_a_one_line_error(project, capsys, grid, message):
    assert main(["tune", "ststnet/casme2", "--grid", grid]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


def test_grid_key_outside_the_schema_is_the_train_config_error(project, capsys):
    write_processed(project, subjects=2, clips=2)
    assert main(["tune", "ststnet/casme2", "--grid", "optim.lrr=0.1,0.2"]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'optim.lrr'" in err and "optim.lr" in err
    assert not (project / "results").exists()  # nothing ran
    assert main(["tune", "ststnet/casme2", "--grid", "optim.lr=fast,slow"]) == 2
    assert "must be a number" in capsys.readouterr().err


def test_metric_must_be_a_validation_score(project, capsys):
    assert main(["tune", "ststnet/casme2", "--grid", "optim.lr=0.1,0.2", "--metric", "uf1"]) == 2
    assert "--metric 'uf1' is not a validation score" in capsys.readouterr().err


def test_fold_tasks_refuse_tuning_without_inner_validation(project, capsys):
    assert main(["tune", "ststnet/casme2", "protocol.validation=none", "--grid", "optim.lr=0.1,0.2"]) == 2
    assert "protocol.validation must be inner" in capsys.readouterr().err
    assert main(["tune", "ststnet/casme2", "optim.lr=0.1", "--grid", "optim.lr=0.1,0.2"]) == 2
    assert "both set 'optim.lr'" in capsys.readouterr().err


def test_inner_validation_scores_survive_resume(project):
    """The fold loop keeps each fold's validation predictions beside its test ones, so --resume re-scores both."""
    from experiments.runner import train

    write_processed(project, subjects=3, clips=3)
    overrides = ["trainer.max_epochs=1", "protocol.validation=inner", *LIGHT]
    first = train("ststnet/casme2", overrides)
    again = train("ststnet/casme2", overrides, resume=True)
    assert again["fold_seconds"] == {}  # nothing re-trained
    valid = {k: v for k, v in first.items() if k.startswith("valid_")}
    assert valid["valid_n_samples"] == 3 * 3  # one held-out training subject of 3 clips in each of 3 folds
    assert {k: again[k] for k in valid} == valid
