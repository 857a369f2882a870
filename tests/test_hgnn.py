"""HGNN: pooling / unpooling shapes, the ablations drop what they name, a tiny fit lowers the loss, the subject
k-fold protocol never puts a subject on both sides, and subject-level scores average each subject's windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from core.errors import ConfigError
from datamodules.eeg_protocols import eeg_folds, shared_subjects, trial_of
from experiments.tasks.eeg import subject_level_scores
from lightning_modules.hgnn.module import HGNN, PoolUnpool, assignment_entropy, normalised_adjacency
from rawdata.layouts.modma import TEN_TWENTY

CHANNELS = list(TEN_TWENTY)
SMALL = {"encoder_kernel": 7, "encoder_filters": 4, "node_dim": 8, "gnn_dim": 8, "adjacency_dim": 8}


def test_pool_unpool_shapes_and_assignment_rows_sum_to_one():
    torch.manual_seed(0)
    x = torch.randn(5, 19, 8)
    a = normalised_adjacency(torch.rand(5, 19, 19))
    gpum = PoolUnpool(8, regions=4)
    pooled, region_a, r = gpum.pool(x, a)
    assert pooled.shape == (5, 4, 8) and region_a.shape == (5, 4, 4) and r.shape == (5, 19, 4)
    assert torch.allclose(r.sum(-1), torch.ones(5, 19))
    assert torch.allclose(region_a, region_a.transpose(-1, -2), atol=1e-6)
    out, r2 = gpum(x, a)
    assert out.shape == x.shape and torch.equal(r, r2)
    assert float(assignment_entropy(r).detach()) <= 19 * np.log(4) + 1e-4


def test_normalised_adjacency_is_symmetric_with_unit_spectrum_bound():
    a = normalised_adjacency(torch.randn(19, 19))
    assert torch.allclose(a, a.T, atol=1e-6)
    assert float(torch.linalg.eigvalsh(a).abs().max()) <= 1 + 1e-5


@pytest.mark.parametrize(("branches", "gpum", "has_adjacency", "has_gpum"), [
    ("both", True, True, True), ("both", False, True, False), ("common", True, False, False),
    ("individual", True, True, True)])
def test_ablations_drop_what_they_name(branches, gpum, has_adjacency, has_gpum):
    net = HGNN(CHANNELS, 64, 2, branches=branches, gpum=gpum, **SMALL)
    out = net(torch.randn(3, 19, 64))
    assert out["scores"].shape == (3, 2)
    assert hasattr(net, "adjacency") == has_adjacency and hasattr(net, "gpum") == has_gpum
    assert ("assignment" in out) == has_gpum and hasattr(net, "common") == (branches != "individual")


def test_proximity_graph_is_fixed_and_learned_graph_trains():
    fixed = HGNN(CHANNELS, 64, 2, common_graph="proximity", **SMALL)
    learned = HGNN(CHANNELS, 64, 2, common_graph="learned", **SMALL)
    assert "common_weight" not in dict(fixed.named_parameters())
    assert "common_weight" in dict(learned.named_parameters())
    with pytest.raises(ValueError, match="common_graph=learned"):
        HGNN([f"E{i}" for i in range(1, 20)], 64, 2, common_graph="proximity", **SMALL)


def test_a_tiny_fit_lowers_the_loss():
    torch.manual_seed(0)
    x = torch.randn(32, 19, 64)
    y = torch.arange(32) % 2
    x[y == 1, 3] += torch.sin(torch.linspace(0, 12, 64))  # a class-dependent rhythm on one channel
    net = HGNN(CHANNELS, 64, 2, **SMALL)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        optimiser.zero_grad()
        out = net(x)
        loss = torch.nn.functional.cross_entropy(out["scores"], y) + 1e-5 * assignment_entropy(out["assignment"])
        loss.backward()
        optimiser.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


def _index(n_subjects: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"sample_id": [f"modma_{s:08d}_rest" for s in range(n_subjects)],
                         "subject": [f"{s:08d}" for s in range(n_subjects)], "session": 1, "trial": 1,
                         "label": [s % 2 for s in range(n_subjects)], "windows": 3, "dataset": "modma"})


@pytest.mark.parametrize("options", [{"n_folds": 5}, {"n_folds": 3, "stratified": True, "validation_subjects": 2}])
def test_subject_kfold_never_shares_a_subject(options):
    index = _index()
    subject_of = dict(zip(index["sample_id"], index["subject"], strict=True))
    folds = eeg_folds(index, "subject_kfold", seed=1, **options)
    assert len(folds) == options["n_folds"]
    tested = [subject_of[trial_of(w)] for f in folds for w in f.test]
    assert sorted(set(tested)) == sorted(index["subject"]) and len(tested) == 3 * len(index)  # each once
    for fold in folds:
        assert not shared_subjects(fold, lambda w: subject_of[trial_of(w)])
        val = {subject_of[trial_of(w)] for w in fold.val}
        assert len(val) == options.get("validation_subjects", 0)
        assert not val & {subject_of[trial_of(w)] for w in fold.train}
        if options.get("stratified"):
            labels = {int(index.set_index("subject").loc[subject_of[trial_of(w)], "label"]) for w in fold.test}
            assert labels == {0, 1}
    with pytest.raises(ConfigError, match="n_folds"):
        eeg_folds(index, "subject_kfold", n_folds=11)


def test_subject_level_scores_average_each_subjects_windows():
    table = pd.DataFrame({"dataset": "modma", "subject": ["a"] * 3 + ["b"] * 3 + ["c"] * 2,
                          "y_true": [1, 1, 1, 0, 0, 0, 1, 1], "score_HC": [.6, .6, .1, .9, .4, .8, .7, .7],
                          "score_MDD": [.4, .4, .9, .1, .6, .2, .3, .3]})
    scores = subject_level_scores(table, ["HC", "MDD"])
    # a: mean MDD .567 -> MDD (right); b: .3 -> HC (right); c: .3 -> HC (wrong)
    assert scores["subject_level_accuracy"] == pytest.approx(2 / 3) and scores["subject_level_n"] == 3
    assert scores["subject_level_f1_positive"] == pytest.approx(2 / 3)
    assert scores["subject_level_majority_accuracy"] == pytest.approx(2 / 3)
    table.loc[0, "y_true"] = 0
    with pytest.raises(ConfigError, match="one label per subject"):
        subject_level_scores(table, ["HC", "MDD"])


def test_method_defaults_build_through_the_model_block():
    from experiments.config import load_experiment

    cfg = load_experiment("hgnn-no_ignn/modma")
    assert cfg.model.branches == "common" and cfg.protocol.name == "subject_kfold"
    assert OmegaConf.select(cfg, "model.entropy_weight") == pytest.approx(1e-5)


def test_mean_readout_is_the_frozen_window_average_and_leaves_the_other_layers_alone():
    torch.manual_seed(0)
    conv = HGNN(CHANNELS, 64, 2, **SMALL)
    torch.manual_seed(0)
    mean = HGNN(CHANNELS, 64, 2, encoder_readout="mean", **SMALL)
    readout = mean.encoder.whole_window
    assert not readout.weight.requires_grad and torch.all(readout.weight == 1.0 / readout.weight.shape[-1])
    # same random draw for every other layer: the knob changes the read-out only
    other = [k for k in conv.state_dict() if k != "encoder.net.8.weight"]
    assert all(torch.equal(conv.state_dict()[k], mean.state_dict()[k]) for k in other)
    assert not torch.equal(conv.encoder.whole_window.weight, readout.weight)
    # what it computes: the window mean of the layer below
    mean.eval()
    x = torch.randn(3, 19, 64)
    below = mean.encoder.net[:8](x.reshape(-1, 1, 64))
    assert torch.allclose(readout(below).squeeze(-1), below.mean(-1), atol=1e-6)
    # a training step leaves it where it is
    opt = torch.optim.Adam([p for p in mean.parameters() if p.requires_grad], lr=1e-2)
    mean.train()
    torch.nn.functional.cross_entropy(mean(x)["scores"], torch.tensor([0, 1, 0])).backward()
    opt.step()
    assert torch.all(readout.weight == 1.0 / readout.weight.shape[-1])
    with pytest.raises(ValueError, match="encoder_readout"):
        HGNN(CHANNELS, 64, 2, encoder_readout="max", **SMALL)


@pytest.mark.parametrize("experiment", ["hgnn/modma", "hgnn-no_ignn/modma", "hgnn-no_gpum/modma"])
def test_modma_experiments_use_what_the_declared_read_out_study_adopted(experiment):
    """The read-out and batch of the MODMA experiments are the recorded study's choice, not hand-set values."""
    import json
    from pathlib import Path

    from experiments.config import load_experiment

    recorded = Path(__file__).parents[1] / "benchmarks" / "results" / "hgnn_calibration.json"
    adopted = json.loads(recorded.read_text())["readout_choice"]["adopted"]
    cfg = load_experiment(experiment)
    assert adopted is not None
    assert cfg.model.encoder_readout == adopted["model.encoder_readout"]
    assert cfg.data.batch_size == adopted["data.batch_size"]
    method = OmegaConf.load(Path(__file__).parents[1] / "experiments" / "_defaults" / "methods" / "hgnn.yaml")
    assert (method.model.encoder_readout, method.data.batch_size) == ("conv", 128)  # the method stays the reference
