"""End-to-end recommendation runs through the runner (fit, early-stopping selection, test, outputs), the
popularity baseline, the negative controls and the epoch timer."""

import json

import numpy as np
import pandas as pd
import pytest

from core.results import read_run_metrics
from experiments.runner import train
from experiments.tasks.recommendation import (
    EpochTimer,
    apply_negative_control,
    permute_training_users,
    popularity_baseline,
)
from rawdata.layouts.mmrec import load_mmrec
from rawdata.synth.rec import generate


@pytest.fixture()
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    root = generate(tmp_path / "standin", users=50, items=40, interactions=700, image_dim=16, text_dim=8, seed=4)
    overrides = [f"data.root={root}", f"output.results_root={tmp_path / 'results'}",
                 f"output.checkpoints_root={tmp_path / 'checkpoints'}", "trainer.max_epochs=2",
                 "attribution.users=4", "attribution.top_items=3", "attribution.steps=2"]
    return tmp_path, root, overrides


def test_befa_mgcn_end_to_end_writes_metrics_rankings_and_attribution(isolated):
    tmp_path, root, overrides = isolated
    metrics = train("befa-mgcn/recsynth", overrides, profile="quick")
    out = tmp_path / "results" / "befa-mgcn" / "recsynth"
    saved = read_run_metrics(out)  # metrics.json (headline) over details.json (recall@50, ...)
    for key in ("recall@10", "recall@20", "recall@50", "ndcg@10", "ndcg@20", "ndcg@50", "valid_recall@20"):
        assert 0.0 <= saved[key] <= 1.0 and saved[key] == pytest.approx(metrics[key])
    assert saved["standin"] is True and 0 <= saved["best_epoch"] < 2
    assert saved["stopped_epoch"] == 1 and saved["epochs"] == saved["max_epochs"] == 2 and saved["capped"] is True
    for key in ("popularity_recall@20", "popularity_ndcg@20", "popularity_recall@10", "popularity_ndcg@10"):
        assert 0.0 <= saved[key] <= 1.0
    assert saved["seconds_per_epoch"] > 0 and saved["seconds_per_validation"] > 0

    from mlflow.tracking import MlflowClient

    run_id = json.loads((out / "run.json").read_text())["mlflow_run_id"]
    client = MlflowClient(tracking_uri=str(json.loads((out / "run.json").read_text())["tracking_uri"]))
    parent = client.get_run(run_id).data.metrics
    child_id = client.search_runs([client.get_run(run_id).info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{run_id}'")[0].info.run_id
    child = client.get_run(child_id).data.metrics
    assert "recall_at_20" in parent and "recall_at_20" in child and "val/recall_at_20" in child
    assert parent["recall_at_20"] == pytest.approx(saved["recall@20"]) == pytest.approx(child["recall_at_20"])
    assert not [name for name in {*parent, *child} if "@" in name or "recall20" in name]

    data = load_mmrec(root)
    rankings = pd.read_csv(out / "rankings.csv")
    assert list(rankings.columns) == ["user_id", "rank", "item_id"]
    assert set(rankings["user_id"]) == set(data.test)
    train_items = pd.DataFrame(data.train_pairs, columns=["user_id", "item_id"]).groupby("user_id")["item_id"]
    known = {int(u): set(items) for u, items in train_items}
    for user, group in rankings.groupby("user_id"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert not known.get(user, set()) & set(group["item_id"])  # training items are never recommended
        assert len(group) == min(50, data.n_items - len(known.get(user, ())))

    attribution = json.loads((out / "attribution.json").read_text())
    assert attribution["befa"] is True and set(attribution["modalities"]) == {"image", "text"}
    assert "informative_share" in attribution["modalities"]["image"]
    assert (out / "attribution.png").stat().st_size > 0


@pytest.mark.slow
def test_ld4mrec_end_to_end(isolated):
    tmp_path, _, overrides = isolated
    metrics = train("ld4mrec/recsynth", overrides + ["attribution.enabled=false"], profile="quick")
    assert 0.0 <= metrics["recall@20"] <= 1.0
    assert (tmp_path / "results" / "ld4mrec" / "recsynth" / "rankings.csv").is_file()


def test_resume_refuses_a_checkpoint_of_another_method_and_a_corrupt_one(isolated):
    import shutil

    from core.errors import AffectError

    tmp_path, _, overrides = isolated
    overrides = overrides + ["attribution.enabled=false", "trainer.max_epochs=1"]
    train("vbpr/recsynth", overrides, profile="quick")
    target = tmp_path / "checkpoints" / "lightgcn" / "recsynth" / "last.ckpt"
    target.parent.mkdir(parents=True)
    shutil.copy(tmp_path / "checkpoints" / "vbpr" / "recsynth" / "last.ckpt", target)
    with pytest.raises(AffectError, match=r"checkpoint of method 'vbpr', but this run is method 'lightgcn'"):
        train("lightgcn/recsynth", overrides, resume=True, profile="quick")
    target.write_bytes(b"not a checkpoint")
    with pytest.raises(AffectError, match=r"last\.ckpt: cannot read the checkpoint"):
        train("lightgcn/recsynth", overrides, resume=True, profile="quick")


def test_popularity_baseline_ranks_by_training_count_with_training_items_masked(tmp_path):
    root = generate(tmp_path / "standin", users=30, items=20, interactions=300, image_dim=4, text_dim=4, seed=1)
    data = load_mmrec(root)
    counts = np.bincount(data.train_pairs[:, 1], minlength=data.n_items)
    user = sorted(data.test)[0]
    seen = set(data.train_pairs[data.train_pairs[:, 0] == user, 1])
    ranking = [i for i in np.argsort(-counts, kind="stable") if i not in seen]
    truth = {user: np.array([ranking[0]])}  # the most popular unseen item: a hit at rank 1
    result = popularity_baseline(data, truth, (1, 10))
    assert result["popularity_recall@1"] == 1.0 and result["popularity_ndcg@10"] == pytest.approx(1.0)
    truth = {user: np.array([ranking[-1]])}  # the least popular unseen item
    assert popularity_baseline(data, truth, (10,))["popularity_recall@10"] == 0.0


def test_permuted_labels_keep_item_popularity_and_user_activity_and_break_the_association(tmp_path):
    root = generate(tmp_path / "standin", users=300, items=300, interactions=3000, image_dim=4, text_dim=4, seed=2)
    data = load_mmrec(root)
    permuted = permute_training_users(data.train_pairs, seed=0)
    assert np.array_equal(permuted, permute_training_users(data.train_pairs, seed=0))  # fixed generator
    assert len(np.unique(permuted, axis=0)) == len(permuted)  # still binary
    dropped = len(data.train_pairs) - len(permuted)
    assert dropped < 0.05 * len(data.train_pairs)  # duplicates the permutation made (about the density)
    items_before = np.bincount(data.train_pairs[:, 1], minlength=data.n_items)
    items_after = np.bincount(permuted[:, 1], minlength=data.n_items)
    assert np.abs(items_before - items_after).sum() == dropped  # popularity kept, up to the dropped duplicates
    users_before = np.bincount(data.train_pairs[:, 0], minlength=data.n_users)
    users_after = np.bincount(permuted[:, 0], minlength=data.n_users)
    assert np.abs(users_before - users_after).sum() == dropped
    kept = {tuple(p) for p in data.train_pairs.tolist()} & {tuple(p) for p in permuted.tolist()}
    assert len(kept) < 0.2 * len(permuted)  # the user-item pairs themselves are new
    controlled = apply_negative_control(data, "permuted_labels", seed=0)
    assert controlled.valid == data.valid and controlled.test == data.test
    blank = apply_negative_control(data, "blank_input", seed=0)
    assert all(not a.any() for a in blank.features.values()) and np.array_equal(blank.train_pairs, data.train_pairs)
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="negative_control"):
        apply_negative_control(data, "shuffled", seed=0)


def test_permuted_labels_run_falls_to_the_popularity_level(tmp_path, monkeypatch):
    """The negative control of the rec task: same split and settings, training users permuted."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    root = generate(tmp_path / "standin", users=300, items=150, interactions=6000, image_dim=16, text_dim=8, seed=5,
                    popularity_skew=0.3)
    common = [f"data.root={root}", "trainer.max_epochs=30", "trainer.early_stopping_patience=3",
              "attribution.enabled=false", "optim.lr=0.01", "data.batch_size=512"]

    def run(name, *extra):
        return train("lightgcn/recsynth", common + [f"output.results_root={tmp_path / name}",
                                                    f"output.checkpoints_root={tmp_path / name / 'ckpt'}", *extra])

    real = run("real")
    control = run("control", "data.negative_control=permuted_labels")
    assert real["recall@20"] > 1.3 * real["popularity_recall@20"]
    assert control["negative_control"] == "permuted_labels"
    assert control["recall@20"] < 1.1 * control["popularity_recall@20"]
    assert control["recall@20"] < 0.8 * real["recall@20"]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_epoch_timer_leaves_the_validation_pass_out(monkeypatch):
    import experiments.tasks.recommendation as task

    clock = FakeClock()
    monkeypatch.setattr(task.time, "perf_counter", clock)
    timer = EpochTimer()
    timer.on_train_epoch_start(None, None)
    clock.now = 3.0  # training batches
    timer.on_validation_start(None, None)
    clock.now = 5.0  # validation inside the epoch, before on_train_epoch_end (Lightning's order)
    timer.on_validation_end(None, None)
    clock.now = 5.5
    timer.on_train_epoch_end(None, None)
    timer.on_validation_start(None, None)  # a validation outside training (the final validate call)
    clock.now = 9.0
    timer.on_validation_end(None, None)
    assert timer.seconds == [pytest.approx(3.5)] and timer.validation_seconds == [2.0, 3.5]
