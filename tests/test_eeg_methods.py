"""The EEG emotion methods (DGCNN, PGCN, TANN, STRNN), their window DataModule and the `eeg` task.

Fast: electrode-graph layers, each method's output shapes, finite gradients and learning on a separable toy
problem, the DataModule's fold hygiene (normalisation from training windows, context inside one trial, the
transductive target drawn from the test side only), the field's mean +- std scores, and a negative control
(permuted trial labels: a method trained through the real data path falls to chance while the true labels stay
well above it). Slow: the end-to-end `affect train dgcnn/seed` and `tann-loso/seed` on a small stand-in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from datamodules.eeg import EEGInfo, EEGSource
from datamodules.eeg_protocols import eeg_folds, trial_of
from experiments import registry
from experiments.config import load_experiment
from experiments.tasks.eeg import field_scores
from lightning_modules.layers.eeg_graph import (
    brain_regions,
    chebyshev_basis,
    electrode_grid,
    normalized_laplacian,
    proximity_adjacency,
)
from rawdata.layouts.seed import BANDS, CHANNELS
from rawdata.synth.eeg import generate_seed

METHODS = ("dgcnn", "pgcn", "tann", "strnn", "gmss")


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    """3 subjects, short trials, a clear emotion pattern (pattern_scale 0.5) so that learning shows in few windows."""
    out = tmp_path_factory.mktemp("seed")
    generate_seed(out, subjects=3, seed=0, windows=(8, 10), pattern_scale=0.5, psd=False)
    return out


def info(n_classes: int = 3, context: int = 1) -> EEGInfo:
    return EEGInfo(n_classes=n_classes, class_names=["negative", "neutral", "positive"][:n_classes],
                   channels=list(CHANNELS), bands=list(BANDS), n_train=100, n_domains=2, context=context)


def config(method: str, *overrides: str):
    return load_experiment(f"{method}/seed", list(overrides))


def build(method: str, *overrides: str):
    cfg = config(method, *overrides)
    return registry.method(method).load()(cfg, info(context=int(cfg.data.context))), cfg


def toy_batch(n: int = 96, context: int = 1, seed: int = 0) -> dict:
    """Windows whose class shifts a fixed (channel, band) pattern: separable by any working method."""
    patterns = torch.randn(3, 62, 5, generator=torch.Generator().manual_seed(1234))  # the same in every batch
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = 0.8 * patterns[y] + torch.randn(n, 62, 5, generator=g)
    batch = {"x": x, "y": y, "x_target": 0.8 * patterns[y.flip(0)] + torch.randn(n, 62, 5, generator=g) + 0.3}
    if context > 1:
        batch["seq"] = x.unsqueeze(1).repeat(1, context, 1, 1) + 0.1 * torch.randn(n, context, 62, 5, generator=g)
    return batch


# -- layers ----------------------------------------------------------------------------------------------------------


def test_electrode_grid_places_every_seed_channel_in_its_own_cell():
    cells = electrode_grid(CHANNELS)
    assert cells.shape == (62, 2)
    assert len({tuple(c) for c in cells}) == 62
    names = list(CHANNELS)
    assert tuple(cells[names.index("CZ")]) == (4, 4)
    assert cells[names.index("FP1")][1] < 4 < cells[names.index("FP2")][1]
    assert cells[names.index("T7")][1] == 0 and cells[names.index("T8")][1] == 8
    assert set(brain_regions(CHANNELS)) == set(range(15))


def test_proximity_graph_is_symmetric_local_and_chebyshev_starts_at_identity():
    a = proximity_adjacency(CHANNELS)
    assert np.allclose(a, a.T) and np.all(np.diag(a) == 0)
    names = list(CHANNELS)
    assert a[names.index("C3"), names.index("C1")] > 0 and a[names.index("FP1"), names.index("O2")] == 0
    basis = chebyshev_basis(normalized_laplacian(torch.as_tensor(a, dtype=torch.float32)), 3)
    assert torch.allclose(basis[0], torch.eye(62))
    scaled = basis[1]
    assert torch.allclose(basis[2], 2 * scaled @ scaled - torch.eye(62), atol=1e-5)


# -- methods ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_method_shapes_and_finite_gradients(method):
    module, cfg = build(method)
    module.train()
    batch = toy_batch(16, int(cfg.data.context))
    outputs, losses = module.compute(batch)
    assert outputs["scores"].shape == (16, 3)
    loss = torch.stack(list(losses.values())).sum()
    loss.backward()
    grads = [p.grad for p in module.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads), method
    assert sum(float(g.abs().sum()) for g in grads) > 0
    module.eval()
    with torch.no_grad():
        scores = module.predict_step({k: v for k, v in batch.items() if k != "x_target"}, 0)["scores"]
    assert torch.allclose(scores.sum(1), torch.ones(16), atol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_method_learns_a_separable_toy_problem(method):
    torch.manual_seed(0)
    module, cfg = build(method, "model.dropout=0.0")
    context = int(cfg.data.context)
    train, test = toy_batch(192, context, seed=1), toy_batch(96, context, seed=2)
    optimiser = torch.optim.Adam(module.parameters(), lr=3e-3)
    module.train()
    for _ in range(60):
        optimiser.zero_grad()
        _, losses = module.compute(train)
        torch.stack(list(losses.values())).sum().backward()
        optimiser.step()
    module.eval()
    with torch.no_grad():
        predicted = module.compute({k: v for k, v in test.items() if k != "x_target"})[0]["scores"].argmax(1)
    assert (predicted == test["y"]).float().mean() > 0.8, method


def test_pgcn_rejects_coarse_groups_that_do_not_partition_the_classes():
    with pytest.raises(Exception, match="coarse_groups"):
        build("pgcn", "model.coarse_groups=[[0],[0,2]]")


def test_pgcn_readouts_pool_over_or_keep_the_electrodes_and_both_learn():
    """``model.readout`` (chosen on inner validation, benchmarks/pgcn_readout.py): ``pool`` feeds the heads a
    width independent of the electrode count (mean and max over electrodes: permuting the node features leaves it
    unchanged), ``flatten`` one feature block per electrode; both learn the toy problem; a typo is a ConfigError."""
    torch.manual_seed(0)
    pool, _ = build("pgcn", "model.readout=pool", "model.dropout=0.0")
    flat, cfg = build("pgcn", "model.readout=flatten")
    assert pool.network.coarse_head.in_features == 4 * int(cfg.model.hidden)
    assert flat.network.coarse_head.in_features == 62 * int(cfg.model.pointwise)
    h = torch.randn(4, 62, 2 * int(cfg.model.hidden))
    readout = lambda f: torch.cat([f.mean(1), f.amax(1)], dim=-1)  # noqa: E731 - what forward() pools
    assert torch.allclose(readout(h), readout(h[:, torch.randperm(62)]), atol=1e-6)
    train, test = toy_batch(192, seed=1), toy_batch(96, seed=2)
    optimiser = torch.optim.Adam(pool.parameters(), lr=3e-3)
    pool.train()
    for _ in range(60):
        optimiser.zero_grad()
        torch.stack(list(pool.compute(train)[1].values())).sum().backward()
        optimiser.step()
    pool.eval()
    with torch.no_grad():
        assert (pool.compute(test)[0]["scores"].argmax(1) == test["y"]).float().mean() > 0.7  # chance 1/3
    with pytest.raises(Exception, match="readout"):
        build("pgcn", "model.readout=mean")


# -- data ------------------------------------------------------------------------------------------------------------


def test_source_indexes_windows_and_folds_keep_trials_whole(standin):
    cfg = config("dgcnn", f"data.eeg_root={standin}")
    source = EEGSource(cfg, (), ".")
    assert len(source.index) == int(source.trials["windows"].sum()) == len(source.x)
    assert source.x.shape[1:] == (62, 5) and source.standin
    folds = eeg_folds(source.trials, "subject_dependent")
    assert len(folds) == 9
    fold = folds[0]
    assert not {trial_of(w) for w in fold.train} & {trial_of(w) for w in fold.test}
    dm = source.datamodule(fold, seed=0)
    train = dm.x[dm.train_rows].numpy()
    assert np.allclose(train.mean(0), 0, atol=1e-4) and np.allclose(train.std(0), 1, atol=1e-2)
    assert not np.allclose(dm.x[dm.test_rows].numpy().mean(0), 0, atol=1e-3)  # test statistics never used


def test_context_stays_inside_one_trial(standin):
    cfg = config("strnn", f"data.eeg_root={standin}")
    source = EEGSource(cfg, (), ".")
    dm = source.datamodule(eeg_folds(source.trials, "loso")[0], seed=0)
    dataset = dm._dataset(dm.train_rows)
    trial_ids = source.index["trial_id"].to_numpy()
    starts = source.index.groupby("trial_id").cumcount().to_numpy() == 0
    first = int(np.flatnonzero(starts[dm.train_rows])[1])  # the first window of a trial that is not the first
    item = dataset[first]
    assert item["seq"].shape == (4, 62, 5)
    row = int(dm.train_rows[first])
    assert all(torch.equal(item["seq"][k], dm.x[row]) for k in range(4))  # earlier windows belong to another trial
    later = dataset[first + 3]
    assert torch.equal(later["seq"][0], dm.x[row]) and trial_ids[row] == trial_ids[row + 3]


def test_transductive_target_comes_from_the_test_side_only(standin):
    cfg = config("tann-loso", f"data.eeg_root={standin}")
    source = EEGSource(cfg, (), ".")
    fold = eeg_folds(source.trials, "loso")[0]
    dm = source.datamodule(fold, seed=0)
    dataset = dm._dataset(dm.train_rows, train=True)
    test = dm.x[dm.test_rows]
    for i in range(0, len(dataset), 97):
        item = dataset[i]
        assert (item["x_target"] == test).all(dim=(1, 2)).any()
        assert 0 <= int(item["domain"]) < 2
    assert "x_target" not in source.datamodule(fold)._dataset(dm.test_rows)[0]
    plain = EEGSource(config("dgcnn-loso", f"data.eeg_root={standin}"), (), ".").datamodule(fold)
    assert "x_target" not in plain._dataset(plain.train_rows, train=True)[0]


def test_field_scores_average_folds_then_subjects():
    table = pd.DataFrame({"fold": ["a"] * 4 + ["b"] * 4 + ["c"] * 2, "subject": ["1"] * 8 + ["2"] * 2,
                          "y_true": [0, 1, 2, 0, 0, 1, 2, 0, 1, 1], "y_pred": [0, 1, 2, 0, 0, 0, 0, 0, 0, 1]})
    scores = field_scores(table, 3)
    assert scores["per_fold"]["a"]["accuracy"] == 1.0 and scores["per_fold"]["b"]["accuracy"] == 0.5
    assert scores["fold_accuracy_mean"] == pytest.approx(2 / 3)
    assert scores["subject_accuracy_mean"] == pytest.approx((0.75 + 0.5) / 2)
    assert scores["subject_accuracy_std"] == pytest.approx(0.125)
    assert scores["n_subjects"] == 2


def _fold_accuracy(standin, *overrides: str) -> float:
    """DGCNN trained through the real data path on every subject-dependent fold; test accuracy pooled."""
    cfg = config("dgcnn", f"data.eeg_root={standin}", "model.dropout=0.0", *overrides)
    source = EEGSource(cfg, (), ".")
    correct = total = 0
    for number, fold in enumerate(eeg_folds(source.trials, "subject_dependent")):
        torch.manual_seed(number)
        module = registry.method("dgcnn").load()(cfg, source.info(fold.train))
        dm = source.datamodule(fold, seed=number)
        optimiser = torch.optim.Adam(module.parameters(), lr=3e-3)
        module.train()
        for _ in range(15):
            for batch in dm.train_dataloader():
                optimiser.zero_grad()
                torch.stack(list(module.compute(batch)[1].values())).sum().backward()
                optimiser.step()
        module.eval()
        with torch.no_grad():
            for batch in dm.predict_dataloader():
                correct += int((module.compute(batch)[0]["scores"].argmax(1) == batch["y"]).sum())
                total += len(batch["y"])
    return correct / total


def test_negative_control_permuted_labels_falls_to_chance(standin):
    real = _fold_accuracy(standin)
    permuted = _fold_accuracy(standin, "data.negative_control=permuted_labels")
    assert real > 0.6
    assert permuted < 0.5  # chance is 1/3; 9 folds x 6 test trials
    assert real - permuted > 0.2


# -- end to end ------------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["dgcnn/seed", "tann-loso/seed"])
def test_train_end_to_end_on_the_standin(project, standin, experiment):
    import json

    from experiments.runner import train

    metrics = train(experiment, [f"data.eeg_root={standin}", "trainer.max_epochs=3"])
    out = project / "results" / experiment.split("/")[0] / "seed"
    headline = json.loads((out / "metrics.json").read_text())
    details = json.loads((out / "details.json").read_text())
    assert headline["standin"] is True
    assert headline["subject_accuracy_mean"] == pytest.approx(metrics["subject_accuracy_mean"])
    assert headline["subject_accuracy_mean"] > headline["majority_accuracy"] + 0.1
    assert details["n_subjects"] == 3 and len(details["per_fold"]) == metrics["n_folds"]
    predictions = pd.read_csv(out / "predictions.csv")
    assert len(predictions) == metrics["n_samples"]


def test_a_run_of_the_first_folds_records_the_protocols_fold_count(project, standin):
    from core.results import read_run_metrics
    from experiments.runner import train

    train("dgcnn-loso/seed", [f"data.eeg_root={standin}", "trainer.max_epochs=1", "protocol.max_folds=1"])
    details = read_run_metrics(project / "results" / "dgcnn-loso" / "seed")
    assert details["n_folds"] == 1 and details["n_folds_of_protocol"] == 3  # LOSO over the stand-in's 3 subjects


# -- report ----------------------------------------------------------------------------------------------------------


def test_report_section_shows_subject_mean_std_labels_the_standin_and_the_placeholder(tmp_path):
    from reports.document import Table
    from reports.eeg import eeg_section
    from reports.reported import Reported
    from reports.results import Experiment, SeedRun

    metrics = {"subject_accuracy_mean": 0.8, "subject_accuracy_std": 0.05, "subject_f1_mean": 0.7,
               "subject_f1_std": 0.1, "majority_accuracy": 0.34, "standin": True}
    run = SeedRun(tmp_path, metrics, {"standin": True, "max_epochs": 12, "protocol": "subject_dependent"})
    experiment = Experiment("dgcnn", "seed", tmp_path, "dgcnn", "eeg", "subject_dependent", [run],
                            status="complete")
    placeholder = Reported("dgcnn", "seed", "subject_dependent", "subject_accuracy_mean", None, "Song et al.", "")
    blocks = eeg_section([experiment], [placeholder])
    table = next(b for b in blocks if isinstance(b, Table))
    row = [c.text for c in table.rows[0]]
    assert row[1] == "dgcnn/seed" and row[2] == "stand-in"
    assert row[3] == "80.0 ± 5.0" and row[4] == "70.0 ± 10.0" and row[-1] == "not yet entered"
    entered = Reported("dgcnn", "seed", "subject_dependent", "subject_accuracy_mean", 0.9, "Song et al.", "")
    assert [c.text for c in next(b for b in eeg_section([experiment], [entered])
                                 if isinstance(b, Table)).rows[0]][-1] == "90.00"
    assert eeg_section([], []) == []


def test_gmss_jigsaw_views_are_permutations_of_the_window():
    module, _ = build("gmss")
    net = module.network
    assert len({tuple(o) for o in net.spatial.tolist()}) == 6 and net.spatial[0].tolist() == list(range(62))
    assert all(sorted(o) == list(range(62)) for o in net.spatial.tolist())
    x = torch.randn(4, 62, 5)
    view = torch.gather(x, 1, net.spatial[3].unsqueeze(0).unsqueeze(-1).expand(4, 62, 5))
    assert torch.equal(view.sort(1).values, x.sort(1).values) and not torch.equal(view, x)
