"""Recommendation graphs, each method's forward and loss on a tiny graph, BeFA in several bases, attribution."""

import pytest
import torch

from datamodules.mmrec import BPRTriples, MMRecDataModule, UserBatches
from experiments import registry
from experiments.config import load_experiment
from lightning_modules.befa.adapter import BehaviourDrivenFeatureAdapter
from lightning_modules.befa.attribution import integrated_gradients
from lightning_modules.layers.rec_graphs import bipartite_adjacency, knn_item_graph, knn_neighbours
from rawdata.layouts.mmrec import interaction_matrix
from rawdata.synth.rec import generate

EXPERIMENTS = ["vbpr", "lightgcn", "lightgcn-feat", "mgcn", "ld4mrec", "befa-vbpr", "befa-lightgcn", "befa-mgcn"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = generate(tmp_path_factory.mktemp("rec") / "tiny", users=40, items=30, interactions=500, image_dim=16,
                    text_dim=8, seed=2)
    module = MMRecDataModule(root)
    module.setup()
    return module


def build(name, datamodule, **model):
    cfg = load_experiment(f"{name}/recsynth", [f"model.{k}={v}" for k, v in model.items()], profile="quick")
    torch.manual_seed(0)
    return registry.method(cfg.method).load()(cfg, datamodule.info()), cfg


def first_batch(cfg, datamodule):
    data = datamodule.data
    if registry.method(cfg.method).extra["train_batches"] == "users":
        return next(iter(UserBatches(data.train_pairs[:, 0], 16, seed=0)))
    return next(iter(BPRTriples(data.train_pairs, data.n_items, 64, seed=0)))


def test_bipartite_adjacency_is_symmetric_normalised():
    train = interaction_matrix(torch.tensor([[0, 0], [0, 1], [1, 1]]).numpy(), 2, 2)
    dense = bipartite_adjacency(train).to_dense()
    assert torch.allclose(dense, dense.T)
    # user 0 (degree 2) - item 1 (degree 2): 1 / sqrt(2 * 2); user 1 (degree 1) - item 1: 1 / sqrt(1 * 2)
    assert dense[0, 3] == pytest.approx(0.5) and dense[1, 3] == pytest.approx(2**-0.5)
    assert dense[1, 2] == 0


def test_knn_graph_links_each_item_to_its_k_most_similar_items():
    features = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.7, 0.7]])
    neighbours = knn_neighbours(features, k=2, chunk_size=2)
    assert neighbours[:, 0].tolist() == [0, 1, 2, 3, 4]  # itself first
    assert neighbours[0, 1] == 1 and neighbours[2, 1] == 3
    graph = knn_item_graph(features, k=2).to_dense()
    assert (graph > 0).sum(1).tolist() == [2, 2, 2, 2, 2]
    assert torch.allclose(graph.sum(1), torch.ones(5))  # binary weights over constant degree k: row means


def test_chunked_knn_equals_unchunked():
    features = torch.randn(50, 6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(knn_neighbours(features, 5, chunk_size=7), knn_neighbours(features, 5, chunk_size=1000))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_method_trains_and_scores_all_items(name, tiny):
    module, cfg = build(name, tiny)
    losses = module.training_losses(first_batch(cfg, tiny))
    assert torch.isfinite(losses["loss"])
    losses["loss"].backward()
    assert not [n for n, p in module.named_parameters() if p.grad is None]
    scores = module.user_scorer()(torch.tensor([0, 3, 5]))
    assert scores.shape == (3, tiny.data.n_items) and torch.isfinite(scores).all()


def test_mgcn_reports_its_contrastive_term(tiny):
    module, cfg = build("mgcn", tiny)
    losses = module.training_losses(first_batch(cfg, tiny))
    assert set(losses) == {"bpr", "l2", "cl", "loss"}
    assert losses["cl"] > 0


@pytest.mark.parametrize("name", ["befa-vbpr", "befa-lightgcn", "befa-mgcn"])
def test_befa_plugs_into_base_models_and_learns_from_behaviour(name, tiny):
    module, cfg = build(name, tiny)
    adapters = [m for m in module.modules() if isinstance(m, BehaviourDrivenFeatureAdapter)]
    assert len(adapters) == 2  # one per modality
    module.training_losses(first_batch(cfg, tiny))["loss"].backward()
    assert all(a.mask[0].weight.grad is not None and a.mask[0].weight.grad.abs().sum() > 0 for a in adapters)
    plain, _ = build(name.removeprefix("befa-"), tiny)
    assert not any(isinstance(m, BehaviourDrivenFeatureAdapter) for m in plain.modules())


def test_befa_mask_depends_on_the_behaviour_embedding():
    adapter = BehaviourDrivenFeatureAdapter(in_dim=6, out_dim=4, behaviour_dim=3)
    features = torch.randn(5, 6)
    out_a = adapter(features, torch.zeros(5, 3))
    out_b = adapter(features, torch.ones(5, 3))
    assert out_a.shape == (5, 4) and not torch.allclose(out_a, out_b)


def test_integrated_gradients_are_complete(tiny):
    module, _ = build("befa-mgcn", tiny)
    users, items = torch.tensor([0, 1, 2, 3]), torch.tensor([4, 5, 6, 7])
    attribution, gap = integrated_gradients(module, users, items, "image", steps=32)
    assert attribution.shape == tiny.data.features["image"].shape
    assert gap < 0.05  # sum of attributions = score(x) - score(baseline), up to the Riemann error
    linear, _ = build("vbpr", tiny)  # VBPR's score is linear in the features: IG is exact
    _, exact_gap = integrated_gradients(linear, users, items, "text", steps=2)
    assert exact_gap < 1e-4
