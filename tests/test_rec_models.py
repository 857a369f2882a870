"""Recommendation graphs, each method's forward and loss on a tiny graph, BeFA in several bases, attribution."""

import pytest
import torch
import torch.nn.functional as F

from datamodules.mmrec import BPRTriples, MMRecDataModule, UserBatches
from experiments import registry
from experiments.config import load_experiment
from lightning_modules.befa.adapter import BehaviourDrivenFeatureAdapter, ReleasedBehaviourGate
from lightning_modules.befa.attribution import befa_mask_summary, integrated_gradients
from lightning_modules.layers.optim import build_optimizer
from lightning_modules.layers.rec_graphs import bipartite_adjacency, knn_item_graph, knn_neighbours
from lightning_modules.layers.rec_losses import embedding_regularizer, info_nce
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
    graph = knn_item_graph(features, k=2, weights="binary").to_dense()
    assert (graph > 0).sum(1).tolist() == [2, 2, 2, 2, 2]
    assert torch.allclose(graph.sum(1), torch.ones(5))  # binary weights over constant degree k: row means


def test_knn_graph_keeps_cosine_similarities_as_edge_weights_before_normalising():
    features = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.7, 0.7]])
    graph = knn_item_graph(features, k=2).to_dense()
    normalized = F.normalize(features, dim=1)
    cosine = normalized @ normalized.T
    # item 4's neighbours: itself (1.0) and item 1 (cos 0.78); degrees are the row sums of the weights
    weights = torch.zeros(5, 5)
    for row, cols in enumerate(knn_neighbours(features, 2).tolist()):
        weights[row, cols] = cosine[row, cols]
    scale = weights.sum(1).rsqrt()
    assert torch.allclose(graph, scale[:, None] * weights * scale[None, :], atol=1e-6)
    assert not torch.allclose(graph, knn_item_graph(features, k=2, weights="binary").to_dense())
    with pytest.raises(ValueError, match="knn_weights"):
        knn_item_graph(features, k=2, weights="cosine")


def test_info_nce_matches_autograd_cross_entropy():
    generator = torch.Generator().manual_seed(0)
    anchor = torch.randn(33, 8, generator=generator, requires_grad=True)
    positive = torch.randn(33, 8, generator=generator, requires_grad=True)
    ours = info_nce(anchor, positive, 0.2)
    grads = torch.autograd.grad(3 * ours, (anchor, positive), retain_graph=True)
    again = torch.autograd.grad(ours, (anchor, positive))  # a retained graph gives the same gradient twice
    logits = F.normalize(anchor, dim=-1) @ F.normalize(positive, dim=-1).T / 0.2
    reference = F.cross_entropy(logits, torch.arange(33))
    expected = torch.autograd.grad(3 * reference, (anchor, positive))
    assert ours.item() == pytest.approx(reference.item(), rel=1e-5)
    for got, want, once in zip(grads, expected, again):
        assert torch.allclose(got, want, atol=1e-6) and torch.allclose(3 * once, want, atol=1e-6)


def test_regularizer_forms_differ_as_documented():
    rows = torch.tensor([[3.0, 4.0], [0.0, 0.0]])  # a batch of 2 rows, one table
    assert embedding_regularizer("squared", rows).item() == pytest.approx(25 / 4)  # sum of squares / (2 x 2)
    assert embedding_regularizer("norm", rows).item() == pytest.approx(5 / 2)  # Frobenius norm / 2
    with pytest.raises(ValueError, match="reg_form"):
        embedding_regularizer("l1", rows)


def test_exponential_schedule_is_the_mmrec_decay():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "scheduler": "exponential",
                            "lr_decay": 0.96, "lr_decay_epochs": 50})
    built = build_optimizer([torch.nn.Parameter(torch.zeros(1))], cfg)
    optimizer, scheduler = built["optimizer"], built["lr_scheduler"]
    for _ in range(25):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.96**0.5)


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


@pytest.mark.parametrize("name", ["mgcn", "befa-mgcn"])
def test_mgcn_batch_rows_give_the_loss_and_gradients_of_the_whole_tables(name, tiny):
    """The fuser runs on the batch's rows only; the loss must be the whole-table computation's."""
    from lightning_modules.layers.rec_module import EmbeddingRecommender

    module, cfg = build(name, tiny, befa_dropout=0.0)
    batch = first_batch(cfg, tiny)
    rows = module.training_losses(batch)
    grads_rows = torch.autograd.grad(rows["loss"], list(module.parameters()), allow_unused=True)
    whole = EmbeddingRecommender.batch_representations  # all users and items, batch ids as they are
    module.batch_representations = lambda b: whole(module, b)
    full = module.training_losses(batch)
    grads_full = torch.autograd.grad(full["loss"], list(module.parameters()), allow_unused=True)
    for key in ("bpr", "l2", "cl", "loss"):
        assert rows[key].item() == pytest.approx(full[key].item(), rel=1e-5)
    for a, b in zip(grads_rows, grads_full):
        assert (a is None) == (b is None) and (a is None or torch.allclose(a, b, atol=1e-6))


def test_vbpr_regularizer_scope_covers_the_content_projection_only_when_full(tiny):
    batch = first_batch(build("vbpr", tiny)[1], tiny)
    for scope, content_gets_gradient in (("ids", False), ("full", True)):
        module, _ = build("vbpr", tiny, reg_scope=scope, reg_form="norm", reg_weight=1.0)
        penalty = module.training_losses(batch)["l2"]
        penalty.backward()
        grad = module.net.content["text"].project.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == content_gets_gradient


@pytest.mark.parametrize("form, adapter_class", [("released", ReleasedBehaviourGate),
                                                 ("decoupled", BehaviourDrivenFeatureAdapter)])
@pytest.mark.parametrize("name", ["befa-vbpr", "befa-lightgcn", "befa-mgcn"])
def test_befa_plugs_into_base_models_and_learns_from_behaviour(name, form, adapter_class, tiny):
    module, cfg = build(name, tiny, befa_form=form)
    adapters = [m for m in module.modules() if isinstance(m, adapter_class)]
    assert len(adapters) == 2  # one per modality
    module.training_losses(first_batch(cfg, tiny))["loss"].backward()
    assert all(a.mask[0].weight.grad is not None and a.mask[0].weight.grad.abs().sum() > 0 for a in adapters)
    assert set(befa_mask_summary(module)) == {"image", "text"}
    plain, _ = build(name.removeprefix("befa-"), tiny)
    assert not any(isinstance(m, (BehaviourDrivenFeatureAdapter, ReleasedBehaviourGate)) for m in plain.modules())


def test_released_befa_gates_the_behaviour_embedding():
    gate = ReleasedBehaviourGate(in_dim=6, out_dim=4, dropout=0.0)
    features, behaviour = torch.randn(5, 6), torch.randn(5, 4)
    mask = gate.mask_values(features, behaviour)
    assert ((mask > 0) & (mask < 1)).all()
    assert torch.allclose(gate(features, behaviour), behaviour * mask)
    assert torch.equal(gate(features, torch.zeros(5, 4)), torch.zeros(5, 4))


def test_befa_mask_depends_on_the_behaviour_embedding():
    adapter = BehaviourDrivenFeatureAdapter(in_dim=6, out_dim=4, behaviour_dim=3)
    features = torch.randn(5, 6)
    out_a = adapter(features, torch.zeros(5, 3))
    out_b = adapter(features, torch.ones(5, 3))
    assert out_a.shape == (5, 4) and not torch.allclose(out_a, out_b)


def test_integrated_gradients_are_complete(tiny):
    module, _ = build("befa-mgcn", tiny)
    module.eval()  # the released BeFA gate has dropout
    users, items = torch.tensor([0, 1, 2, 3]), torch.tensor([4, 5, 6, 7])
    attribution, gap = integrated_gradients(module, users, items, "image", steps=32)
    assert attribution.shape == tiny.data.features["image"].shape
    assert gap < 0.05  # sum of attributions = score(x) - score(baseline), up to the Riemann error
    linear, _ = build("vbpr", tiny)  # VBPR's score is linear in the features: IG is exact
    _, exact_gap = integrated_gradients(linear, users, items, "text", steps=2)
    assert exact_gap < 1e-4
