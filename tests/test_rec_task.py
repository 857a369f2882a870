"""One tiny end-to-end recommendation run through the runner: fit, early-stopping selection, test, outputs."""

import json

import pandas as pd
import pytest

from core.results import read_run_metrics
from experiments.runner import train
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
