"""Skeleton encoder, FG-SGL losses and schedule, and a tiny fit of FG-SGL (and its ablations) and the CE baseline."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from core.errors import ConfigError
from datamodules.gesture import GestureSource
from datamodules.protocols import make_folds
from experiments import registry
from experiments.config import load_experiment
from lightning_modules.fgsgl import losses as L
from lightning_modules.layers.skeleton import SkeletonEncoder, adjacency_matrix, hop_distance, partitioned_adjacency
from rawdata.layouts import imigue, smg
from rawdata.synth import generate

# FG-SGL variants: a random small CLIP text tower (fast, no weights needed) and every level active from epoch 0
FGSGL_SMALL = ["model.text_encoder.backend=open_clip", "model.schedule.kind=joint"]
SMALL_ENCODER = ["model.encoder.channels=[8,16]", "model.encoder.strides=[2,2]", "model.encoder.temporal_kernel=3"]


# -- encoder ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", [imigue.LAYOUT, smg.LAYOUT])
def test_layout_graphs_are_trees_and_partitions_cover_the_neighbourhood(layout):
    adj = adjacency_matrix(layout.n_joints, layout.edges)
    assert len(layout.edges) == layout.n_joints - 1 and np.isfinite(hop_distance(adj)).all()  # a connected tree
    parts = partitioned_adjacency(layout.n_joints, layout.edges, layout.center_joint)
    assert parts.shape == (3, layout.n_joints, layout.n_joints)
    np.testing.assert_array_equal(parts.sum(0) > 0, adj + np.eye(layout.n_joints) > 0)
    np.testing.assert_allclose(parts.sum((0, 1)), np.ones(layout.n_joints), rtol=1e-6)  # column-normalised
    assert np.all(np.diag(parts[0]) > 0) and not np.diag(parts[1]).any()


def test_encoder_shapes_and_graph_locality():
    torch.manual_seed(0)
    encoder = SkeletonEncoder(3, 22, imigue.EDGES, 1, channels=(4, 6), strides=(1, 2), temporal_kernel=3).eval()
    x = torch.randn(2, 3, 16, 22, 1, requires_grad=True)
    assert encoder(x).shape == (2, 6, 8, 22)
    encoder(x)[:, :, :, 0].sum().backward()  # the nose after two graph layers
    reached = x.grad.abs().sum((0, 1, 2, 4)) > 0
    hops = hop_distance(adjacency_matrix(22, imigue.EDGES))[0]
    assert reached[torch.from_numpy(hops <= 2)].all() and not reached[torch.from_numpy(hops > 2)].any()


# -- losses and schedule -----------------------------------------------------------------------------------------
def test_category_alignment_prefers_features_on_their_prototype():
    prototypes = torch.nn.functional.normalize(torch.randn(4, 8), dim=-1)
    y = torch.tensor([0, 1, 2, 3, 1])
    aligned = L.category_alignment_loss(prototypes[y], prototypes, y, 0.1)
    shuffled = L.category_alignment_loss(prototypes[(y + 1) % 4], prototypes, y, 0.1)
    assert aligned < shuffled
    assert L.category_alignment_loss(prototypes[y], prototypes, y, 0.1, symmetric=False) < aligned + 1


def test_fine_targets_share_credit_between_alike_descriptions():
    text = torch.nn.functional.normalize(torch.randn(3, 4, 8), dim=-1)
    text[1, 3] = text[0, 3]  # classes 0 and 1 describe contact the same way
    y = torch.tensor([0, 2])
    soft = L.fine_grained_targets(text, y, temperature=0.05)
    assert soft.shape == (2, 4, 3)
    torch.testing.assert_close(soft.sum(-1), torch.ones(2, 4))
    assert torch.isclose(soft[0, 3, 0], soft[0, 3, 1]) and soft[0, 0, 0] > 0.9
    hard = L.fine_grained_targets(text, y, temperature=0)
    assert torch.equal(hard[1, 2], torch.tensor([0.0, 0.0, 1.0]))
    aligned = L.fine_grained_alignment_loss(text[y], text, soft, 0.1)
    assert aligned < L.fine_grained_alignment_loss(text[(y + 1) % 3], text, soft, 0.1)


def test_coarse_to_fine_schedule():
    weights = [L.fine_weight(e, 10, "coarse_to_fine", 0.2, 0.6) for e in range(10)]
    assert weights[:3] == [0.0, 0.0, 0.0] and weights[6:] == [1.0] * 4
    assert 0 < weights[4] < 1 and weights == sorted(weights)
    assert L.fine_weight(0, 10, "joint", 0.2, 0.6) == 1.0
    with pytest.raises(ValueError, match="schedule"):
        L.fine_weight(0, 10, "fine_first", 0.2, 0.6)


# -- modules ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gesture-models") / "microgesture"
    generate("microgesture", out, subjects=3, seed=5, frames=24, repeats=1)
    return out


def _module_and_data(release: Path, experiment: str, *overrides: str):
    extra = FGSGL_SMALL if experiment.startswith("fgsgl") else []
    cfg = load_experiment(experiment, [f"data.root={release}", "data.batch_size=12", *SMALL_ENCODER, *extra,
                                       *overrides])
    spec = registry.method(cfg.method)
    source = GestureSource(cfg, spec.inputs, Path("."))
    (fold,) = make_folds(source.index, cfg.protocol)
    torch.manual_seed(0)
    return spec.load()(cfg, source.info(fold.train)), source.datamodule(fold, seed=0), cfg


@pytest.mark.parametrize(
    ("experiment", "terms"),
    [("fgsgl/microgesture", {"ce", "cpa", "fgsa"}), ("fgsgl-no_fgsa/microgesture", {"ce", "cpa"}),
     ("fgsgl-no_cpa/microgesture", {"ce", "fgsa"}), ("skeleton_ce/microgesture", {"ce"})],
)
def test_each_variant_computes_its_losses_and_scores(release, experiment, terms):
    module, datamodule, _ = _module_and_data(release, experiment)
    batch = next(iter(datamodule.train_dataloader()))
    outputs, losses = module.compute(batch)
    assert set(losses) == terms and all(torch.isfinite(v) for v in losses.values())
    assert outputs["scores"].shape == (12, 12)
    sum(losses.values()).backward()
    assert module.network.encoder.blocks[0].graph.conv.weight.grad.abs().sum() > 0


def test_fine_alignment_alone_trains_the_encoder(release):
    module, datamodule, _ = _module_and_data(release, "fgsgl/microgesture")
    _, losses = module.compute(next(iter(datamodule.train_dataloader())))
    losses["fgsa"].backward()
    assert module.network.encoder.blocks[0].graph.conv.weight.grad.abs().sum() > 0
    assert module.network.classifier.weight.grad is None


def test_tiny_fit_lowers_the_loss_and_predicts_probabilities(release):
    module, datamodule, _ = _module_and_data(release, "fgsgl/microgesture", "trainer.max_epochs=4", "optim.lr=0.005")
    batch = next(iter(datamodule.train_dataloader()))
    module.eval()
    before = sum(module.compute(batch)[1].values()).item()
    trainer = pl.Trainer(max_epochs=4, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, datamodule=datamodule)
    module.eval()
    with torch.no_grad():
        after = sum(module.compute(batch)[1].values()).item()
    assert after < before
    predictions = trainer.predict(module, datamodule=datamodule)
    scores = torch.cat([p["scores"] for p in predictions])
    torch.testing.assert_close(scores.sum(1), torch.ones(len(scores)))
    attention = module.interpretation()["fgsa_part_attention"]
    assert attention.shape == (4, len(imigue.BODY_PARTS))
    np.testing.assert_allclose(attention.sum(1), 1.0, atol=1e-3)


def test_score_levels_must_leave_an_active_level(release):
    with pytest.raises(ConfigError, match="no active level"):
        _module_and_data(release, "fgsgl-no_fgsa/microgesture", "model.score_levels=[fine]")
