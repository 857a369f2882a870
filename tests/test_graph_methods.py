"""The landmark-graph layers, geograph, DeRe-GRL, the linear SVM head and LBP-SDG, on hand-made and random inputs."""

import json
import math
from collections import deque

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch.nn import functional as F
from torch.utils.data import DataLoader

from core.errors import ConfigError
from datamodules.micro_expression import DataInfo
from experiments.config import load_experiment
from lightning_modules.dere_grl.module import DeReGRLModule
from lightning_modules.dere_grl.network import DeReGRL, RelationReconstruction, component_pooling_matrix
from lightning_modules.geograph.losses import adaptive_au_loss, balanced_au_weights, class_weights
from lightning_modules.geograph.module import GeoGraphModule
from lightning_modules.geograph.network import GeometricTwoStreamGraphNet
from lightning_modules.layers.graph import (
    FACE_COMPONENTS,
    GraphConv,
    align_to_reference,
    anatomical_edges,
    edges_to_adjacency,
    inter_ocular_distance,
    knn_adjacency,
    movement_features,
    neighbour_relative,
    normalize_adjacency,
)
from lightning_modules.layers.svm import fit_dual_squared_hinge, squared_hinge_loss
from lightning_modules.lbp_sdg.directions import CANONICAL, FAMILIES, resolve_directions, select_directions
from lightning_modules.lbp_sdg.module import LBPSDGModule
from lightning_modules.lbptop_svm.module import LinearSVMModule

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def face_like(batch: int = 2, frames: int = 5, seed: int = 0) -> torch.Tensor:
    """(B, T, 68, 2) landmarks: a random face layout that moves a little over time."""
    g = torch.Generator().manual_seed(seed)
    layout = torch.rand(68, 2, generator=g) * 80 + 24
    return layout.expand(batch, frames, 68, 2) + 0.5 * torch.randn(batch, frames, 68, 2, generator=g)


def similarity(points: torch.Tensor, angle: float, scale: float, shift) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    rotation = torch.tensor([[c, -s], [s, c]])
    return scale * points @ rotation.T + torch.tensor(shift)


# -- the landmark graph -------------------------------------------------------------------------------------------


def test_anatomical_graph_is_undirected_simple_and_connected():
    edges = anatomical_edges()
    adj = edges_to_adjacency(edges)
    assert torch.equal(adj, adj.T) and adj.diagonal().sum() == 0
    reached, queue = {0}, deque([0])
    while queue:
        for j in torch.nonzero(adj[queue.popleft()]).flatten().tolist():
            if j not in reached:
                reached.add(j)
                queue.append(j)
    assert reached == set(range(68))
    assert adj[36, 41] == 1 and adj[48, 59] == 1  # eyes and lips are closed curves
    assert adj[16, 17] == 0  # the jaw's end is not chained to the brow


def test_knn_adjacency_on_points_of_a_line():
    points = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    expected = torch.tensor([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=torch.float32)
    assert torch.equal(knn_adjacency(points, k=1), expected)
    batched = knn_adjacency(torch.stack([points, -points]), k=1)
    assert batched.shape == (2, 4, 4) and torch.equal(batched[1], expected)


def test_normalized_adjacency_of_two_linked_nodes_and_an_isolated_one():
    adj = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    expected = torch.tensor([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert torch.allclose(normalize_adjacency(adj), expected)


def test_graph_conv_matches_torch_geometric_gcnconv():
    from torch_geometric.nn import GCNConv

    torch.manual_seed(0)
    ours, theirs = GraphConv(3, 4), GCNConv(3, 4)
    with torch.no_grad():
        ours.bias.normal_()
        theirs.lin.weight.copy_(ours.weight)
        theirs.bias.copy_(ours.bias)
    x = torch.randn(68, 3)
    edges = anatomical_edges()
    adj = normalize_adjacency(edges_to_adjacency(edges))
    out = ours(x.T[None, :, None, :], adj)[0, :, 0, :].T
    assert torch.allclose(out, theirs(x, edges), atol=1e-5)


def test_alignment_removes_head_motion_and_keeps_the_expression():
    onset = face_like(1, 1)[0, 0]
    expressed = onset.clone()
    expressed[48:68, 1] += 2.0  # the mouth moves, the anchors (nose bridge, eye corners) do not
    moved_head = similarity(expressed, angle=0.1, scale=1.2, shift=[5.0, -3.0])
    clip = torch.stack([onset, moved_head])[None]
    aligned = align_to_reference(clip, "similarity")
    assert torch.allclose(aligned[0, 1], expressed, atol=1e-3)
    shifted = torch.stack([onset, expressed + torch.tensor([4.0, 1.0])])[None]
    assert torch.allclose(align_to_reference(shifted, "translation")[0, 1], expressed, atol=1e-4)


def test_movement_features_are_onset_relative_and_scale_free():
    marks = face_like(2, 4)
    x = movement_features(marks, ("displacement", "velocity", "position"))
    assert x.shape == (2, 6, 4, 68)
    assert torch.allclose(x[:, :4, 0], torch.zeros(2, 4, 68), atol=1e-5)  # no movement or velocity at the onset
    assert torch.allclose(movement_features(3.0 * marks + 7.0, ("displacement", "velocity", "position")), x,
                          atol=1e-4)
    with pytest.raises(ValueError, match="movement features"):
        movement_features(marks, ("speed",))


def test_inter_ocular_distance_of_hand_placed_eyes():
    points = torch.zeros(68, 2)
    points[36:42] = torch.tensor([10.0, 20.0])
    points[42:48] = torch.tensor([40.0, 60.0])
    assert inter_ocular_distance(points).item() == pytest.approx(50.0)


def test_neighbour_relative_is_zero_for_a_rigid_shift():
    adj = edges_to_adjacency(anatomical_edges())
    shift = torch.tensor([1.5, -2.0]).view(1, 2, 1, 1).expand(1, 2, 3, 68)
    assert torch.allclose(neighbour_relative(shift, adj), torch.zeros_like(shift), atol=1e-6)
    bump = torch.zeros(1, 1, 1, 68)
    bump[..., 30] = 1.0
    assert neighbour_relative(bump, adj)[..., 30].item() == pytest.approx(1.0)


# -- geograph -------------------------------------------------------------------------------------------------


def test_geograph_shapes_with_and_without_au_head():
    marks = face_like(3, 6)
    out = GeometricTwoStreamGraphNet(n_classes=5, n_aus=4, knn_k=4)(marks)
    assert out["scores"].shape == (3, 5) and out["au_logits"].shape == (3, 4)
    out = GeometricTwoStreamGraphNet(n_classes=3, n_aus=0, fusion="sum", knn_k=0)(marks)
    assert out["scores"].shape == (3, 3) and "au_logits" not in out


@pytest.mark.parametrize("mode", ["both", "learned", "dynamic", "none"])
def test_semantic_adjacency_knob_changes_the_high_order_graph(mode):
    torch.manual_seed(0)
    net = GeometricTwoStreamGraphNet(n_classes=3, semantic_adjacency=mode, knn_k=3)
    _, high, fixed = net.stream_inputs(face_like(2, 4))
    _, graphs = net.semantic.run(high, fixed)
    # at initialisation both parts of S are zero (learned S and the dynamic part's gate): the anatomical graph
    assert all(torch.allclose(g, fixed.expand_as(g)) for g in graphs)
    for adjacency in net.semantic.adjacencies:
        if adjacency.learned is not None:
            torch.nn.init.normal_(adjacency.learned)  # as after training (it starts at zero)
        if adjacency.gate is not None:
            adjacency.gate.data.fill_(0.5)
    _, graphs = net.semantic.run(high, fixed)
    differs = [not torch.allclose(g, fixed.expand_as(g)) for g in graphs]
    assert all(differs) if mode != "none" else not any(differs)
    if mode in ("both", "dynamic"):
        assert graphs[0].shape == (2, 68, 68)  # one graph per sample


def test_ungated_dynamic_adjacency_enters_at_full_weight():
    torch.manual_seed(0)
    net = GeometricTwoStreamGraphNet(n_classes=3, semantic_adjacency="dynamic", dynamic_gate=None)
    _, high, fixed = net.stream_inputs(face_like(2, 4))
    _, graphs = net.semantic.run(high, fixed)
    extra = graphs[0] - fixed
    assert torch.allclose(extra.sum(-1), torch.ones(2, 68), atol=1e-5)  # the row-softmax, ungated


def test_balanced_au_loss_is_plain_bce_at_half_frequency():
    logits = torch.tensor([[1.0, -2.0], [0.5, 0.3]])
    targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = adaptive_au_loss(logits, targets, torch.tensor([0.5, 0.5]))
    assert loss.item() == pytest.approx(F.binary_cross_entropy_with_logits(logits, targets).item())


def test_adaptive_au_loss_on_a_hand_computed_example():
    # one coded clip (AU a present, AU b absent) and one uncoded clip (all zeros) that must be ignored
    logits = torch.tensor([[0.0, 0.0], [3.0, 3.0]])
    targets = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    rate = torch.tensor([0.1, 0.25])  # w+ of a = 1/(2*0.1) = 5, w- of b = 1/(2*0.75) = 2/3
    expected = (5.0 * math.log(2.0) + (2.0 / 3.0) * math.log(2.0)) / 2
    assert adaptive_au_loss(logits, targets, rate).item() == pytest.approx(expected, rel=1e-6)
    # counting the uncoded clip as "no AU": its logits of 3 are two negatives with weights 1/1.8 and 1/1.5
    softplus3 = math.log1p(math.exp(3.0))
    expected_all = (2 * expected + (1 / 1.8 + 1 / 1.5) * softplus3) / 4
    assert adaptive_au_loss(logits, targets, rate, skip_uncoded=False).item() == pytest.approx(expected_all, rel=1e-6)


def test_adaptive_au_loss_weights_and_empty_batches():
    w_pos, w_neg = balanced_au_weights(torch.tensor([0.0, 0.5, 0.9]), min_rate=0.05)
    assert torch.allclose(w_pos, torch.tensor([10.0, 1.0, 0.5 / 0.9]))
    assert torch.allclose(w_neg, torch.tensor([0.5 / 0.95, 1.0, 5.0]))
    logits = torch.randn(2, 3, requires_grad=True)
    loss = adaptive_au_loss(logits, torch.zeros(2, 3), torch.full((3,), 0.2))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(logits.grad, torch.zeros(2, 3))


def test_balanced_class_weights():
    assert torch.allclose(class_weights([1, 3], 2, "balanced"), torch.tensor([2.0, 2.0 / 3.0]))
    assert torch.equal(class_weights([1, 3], 2, "none"), torch.ones(2))


# -- DeRe-GRL -------------------------------------------------------------------------------------------------


def test_component_pooling_averages_each_component():
    pool = component_pooling_matrix(FACE_COMPONENTS)
    assert pool.shape == (5, 68) and torch.allclose(pool.sum(1), torch.ones(5))
    nodes = torch.arange(68.0)[None, None]  # node i carries the value i
    means = torch.einsum("bcn,pn->bpc", nodes, pool)[0, :, 0]
    assert means.tolist() == pytest.approx([21.5, 41.5, 31.0, 57.5, 8.0])  # brows, eyes, nose, mouth, contour


def test_relation_reconstruction_starts_as_actions_plus_their_mean():
    rrm = RelationReconstruction(3)
    actions = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [2.0, 4.0]]])
    assert torch.allclose(rrm(actions), actions + torch.tensor([1.0, 2.0]))


def test_dere_grl_shapes_interpretation_and_gradients():
    net = DeReGRL(n_classes=3, n_actions=4, action_channels=8)
    scores = net(face_like(2, 4))
    assert scores.shape == (2, 3)
    scores.sum().backward()
    assert net.adm.map_logits.grad.abs().sum() > 0 and net.rrm.relation_logits.grad.abs().sum() > 0
    info = net.interpretation()
    assert info["component_to_action"].shape == (4, 5) and info["relation_weights"].shape == (4, 4)
    assert info["action_class_importance"].shape == (3, 4)
    assert np.allclose(info["component_to_action"].sum(1), 1.0) and np.allclose(info["relation_weights"].sum(1), 1.0)


def test_no_rrm_ablation_removes_the_relation_module():
    net = DeReGRL(n_classes=3, use_rrm=False)
    assert net.rrm is None and "relation_weights" not in net.interpretation()
    assert net(face_like(2, 4)).shape == (2, 3)


# -- linear SVM head --------------------------------------------------------------------------------------------


def test_squared_hinge_on_hand_made_scores():
    scores = torch.tensor([[2.0, -0.5], [0.0, 0.0]])
    y = torch.tensor([0, 1])
    # sample 0: class 0 margin 2 -> 0; class 1 (t=-1) 1 - 0.5 = 0.5 -> 0.25. sample 1: both 1 -> 2
    assert squared_hinge_loss(scores, y, reduction="none").tolist() == pytest.approx([0.25, 2.0])
    assert squared_hinge_loss(scores, y).item() == pytest.approx(2.25)


def test_dual_fit_reaches_linearsvc_optimum_on_low_dimensional_data():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    reference = LinearSVC(C=0.5, tol=1e-10, max_iter=100000).fit(x, y)
    coef = fit_dual_squared_hinge(x @ x.T, y, 3, c=0.5)
    assert np.allclose((x.T @ coef).T, reference.coef_, atol=1e-4)
    assert np.allclose(coef.sum(0), reference.intercept_, atol=1e-4)


# -- LBP-SDG --------------------------------------------------------------------------------------------------

def test_direction_families_follow_the_hsdg_steps():
    from preprocessing.hsdg import DIRECTIONS

    def names(family):
        return {DIRECTIONS[i] for i in FAMILIES[family]}

    assert names("horizontal") == {"x+", "t+x-", "t+x+"}  # one of each pair of opposite steps
    assert names("oblique") == {"y+x-", "y+x+"} and names("temporal") == {"t+"}
    kinds = ("horizontal", "vertical", "oblique", "temporal")
    assert sorted(i for kind in kinds for i in FAMILIES[kind]) == CANONICAL  # a partition of the 9 distinct
    assert len(CANONICAL) == 9 and len(FAMILIES["xy"]) == len(FAMILIES["xt"]) == len(FAMILIES["yt"]) == 4


def test_opposite_directions_give_mirror_image_histograms():
    """G_{-d}(v) = -G_d(v - d): the HSDG of x- is the bin-reversed HSDG of x+ up to the voxels at block borders
    (and the zero-gradient bin), on a textured clip with real motion; x+ and y+ differ far more. This is why only
    9 of the 18 steps are compared."""
    from skimage import data

    from preprocessing.hsdg import DIRECTIONS, hsdg

    image = data.camera()[100:228, 150:278].astype(float)
    clip = np.stack([np.roll(image, shift, axis=1) for shift in range(6)])  # a face-sized texture moving right
    clip += np.random.default_rng(0).uniform(-0.01, 0.01, clip.shape)  # no exact zero (its bin is not mirrored)
    histograms = hsdg(clip, blocks=(4, 4), n_bins=16).reshape(18, 16, 16)
    pos, neg, vertical = (histograms[DIRECTIONS.index(n)] for n in ("x+", "x-", "y+"))
    mirror = np.abs(neg - pos[:, ::-1]).sum(1).mean() / 2  # total-variation distance per block
    assert mirror < 0.06  # the voxels of one block-border column out of 31
    assert np.abs(vertical - pos).sum(1).mean() / 2 > 2 * mirror


def test_direction_selection_resolves_families_names_indices_and_all():
    assert resolve_directions(["all"]) == CANONICAL and resolve_directions(["all18"]) == list(range(18))
    assert resolve_directions(["temporal", "x+", 17, "5"]) == [1, 5, 9, 17]
    assert resolve_directions("oblique") == FAMILIES["oblique"]
    with pytest.raises(ConfigError, match="unknown direction 'diagonal'"):
        resolve_directions(["diagonal"])
    with pytest.raises(ConfigError, match="outside"):
        resolve_directions([18])
    hsdg = torch.arange(2 * 6 * 3.0).view(2, 6, 3)
    assert torch.equal(select_directions(hsdg, torch.tensor([1, 4])), torch.cat([hsdg[:, 1], hsdg[:, 4]], 1))


def test_lbp_sdg_feature_vector_holds_lbptop_then_the_chosen_histograms():
    cfg = load_experiment("lbp_sdg-vertical/casme2", profile="default")
    module = LBPSDGModule(cfg, make_info(cfg, {"lbptop": (10,), "hsdg": (18, 4)}))
    batch = random_batch(cfg, {"lbptop": (10,), "hsdg": (18, 4)}, n=3)
    features = module.raw_features(batch)
    assert features.shape == (3, 10 + 3 * 4)  # y+, t+y- and t+y+ (one of each pair of opposite steps)
    assert torch.equal(features[:, :10], batch["lbptop"])
    assert torch.equal(features[:, 10:14], batch["hsdg"][:, FAMILIES["vertical"][0]])
    assert module.head.linear.in_features == 22


def test_lbp_sdg_takes_one_direction_from_a_command_line_or_grid_override():
    # `affect tune lbp_sdg-all/<d> --grid model.directions=x+,y+,...` sets a plain string, not a list
    cfg = load_experiment("lbp_sdg-all/casme2", ["model.directions=t+x-"], profile="default")
    module = LBPSDGModule(cfg, make_info(cfg, {"lbptop": (10,), "hsdg": (18, 4)}))
    assert module.directions.tolist() == [12] and module.head.linear.in_features == 14


def test_lbp_sdg_best_chooses_the_informative_direction_on_inner_validation_of_training_subjects():
    """Only the t+x+ histogram carries the label: the default (directions=best) must pick it in the fold, from the
    training batch alone, put weight only on LBP-TOP and that block, and report the choice."""
    from preprocessing.hsdg import DIRECTIONS

    cfg = load_experiment("lbp_sdg/casme2", profile="default")
    shapes = {"lbptop": (6,), "hsdg": (18, 5)}
    n, classes = 60, len(cfg.data.classes)
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % classes
    hsdg = torch.rand(n, 18, 5, generator=g)
    informative = DIRECTIONS.index("t+x+")
    hsdg[:, informative, :] += 2.0 * torch.nn.functional.one_hot(y, classes)[:, :5]
    batch = {"lbptop": torch.rand(n, 6, generator=g), "hsdg": hsdg, "y": y,
             "group": [f"casme2/{i // 6}" for i in range(n)]}  # 10 subjects, every class in each
    module = LBPSDGModule(cfg, make_info(cfg, shapes))
    assert module.select_best and len(module.directions) == 9
    weight, _ = module.fit_standardized(module.raw_features(batch).double(), batch)
    chosen = module.interpretation()
    best = chosen["direction_names"][int(np.argmax(chosen["chosen_direction"]))]
    assert best == "t+x+" and max(chosen["inner_uf1"]) > 0.9
    slot = module.directions.tolist().index(informative)
    used = (weight.abs().sum(0) > 0).numpy()
    assert used[:6].all() and used[6 + 5 * slot:6 + 5 * (slot + 1)].all() and used.sum() == 6 + 5


# -- one-fold smoke fits on random batches shaped like the real ones ---------------------------------------------


def make_info(cfg, shapes) -> DataInfo:
    n = len(cfg.data.classes)
    return DataInfo(n_classes=n, class_names=list(cfg.data.classes), au_names=list(cfg.data.aus),
                    input_shapes=shapes, n_train=24, class_counts=[24 // n] * n,
                    au_frequency=[0.3] * len(cfg.data.aus))


def random_batch(cfg, shapes, n: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    n_classes = len(cfg.data.classes)
    batch = {"sample_id": [f"s{i}" for i in range(n)], "y": torch.arange(n) % n_classes,
             "aus": (torch.rand(n, len(cfg.data.aus), generator=g) > 0.6).float()}
    for key, shape in shapes.items():
        batch[key] = torch.rand(n, *shape, generator=g)
    if "landmarks" in batch:
        batch["landmarks"] = face_like(n, shapes["landmarks"][0], seed) + batch["y"].view(-1, 1, 1, 1)
    return batch


def batches(cfg, shapes, n_batches: int, size: int) -> list[dict]:
    return [random_batch(cfg, shapes, size, seed) for seed in range(n_batches)]


@pytest.mark.parametrize("experiment, module_cls, shapes", [
    ("geograph/casme2", GeoGraphModule, {"landmarks": (8, 68, 2)}),
    ("geograph-no_au_loss/casme2", GeoGraphModule, {"landmarks": (8, 68, 2)}),
    ("dere_grl-no_rrm/smic", DeReGRLModule, {"landmarks": (8, 68, 2)}),
    ("lbp_sdg-oblique/samm", LBPSDGModule, {"lbptop": (12,), "hsdg": (18, 4)}),
])
def test_one_fold_fit_and_predict(experiment, module_cls, shapes):
    one_step_fit = issubclass(module_cls, LinearSVMModule)  # the SVM fits exactly, once, on one full batch
    epochs = 1 if one_step_fit else 2
    cfg = load_experiment(experiment, [f"trainer.max_epochs={epochs}"], profile="default")
    module = module_cls(cfg, make_info(cfg, shapes))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    train = batches(cfg, shapes, n_batches=1 if one_step_fit else 2, size=10)
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, train_dataloaders=DataLoader(train, batch_size=None))
    logged = set(trainer.callback_metrics)
    changed = [k for k, v in module.state_dict().items() if v.dtype.is_floating_point and not torch.equal(v, before[k])]
    assert changed, "training changed no parameter"
    out = trainer.predict(module, DataLoader(train[:1], batch_size=None))[0]
    assert out["scores"].shape == (10, len(cfg.data.classes)) and torch.isfinite(out["scores"]).all()
    assert "train/loss" in logged and ("train/au" in logged) == (experiment == "geograph/casme2")


def test_dere_grl_interpretation_survives_the_fold_summary():
    from experiments.tasks.folds import summarise_interpretations

    folds = {name: DeReGRL(n_classes=3).interpretation() for name in ("subject=1", "subject=2")}
    summary = json.loads(json.dumps(summarise_interpretations(folds)))
    assert summary["n_folds"] == 2
    assert np.asarray(summary["summary"]["component_to_action"]["mean"]).shape == (6, 5)
    assert np.asarray(summary["summary"]["relation_weights"]["std"]).shape == (6, 6)


@pytest.mark.slow
def test_dere_grl_interpretation_lands_in_the_results(project):
    from processed_fixture import write_processed

    from experiments.runner import train

    write_processed(project, subjects=3, clips=4)
    metrics = train("dere_grl/casme2", ["trainer.max_epochs=1", "protocol.max_folds=1"])
    assert metrics["n_samples"] == 4
    saved = json.loads((project / "results" / "dere_grl" / "casme2" / "interpretation.json").read_text())
    assert saved["n_folds"] == 1
    assert np.asarray(saved["summary"]["component_to_action"]["mean"]).shape == (6, 5)
    assert OmegaConf.create(saved).summary.relation_weights.mean is not None


def expression_clips(n: int, seed: int, frames: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Landmark clips whose class is which component moves (0: lip corners up, 1: brows up, 2: nothing), under
    random head motion and jitter: learnable only from movement relative to the face."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    layout = face_like(1, 1, seed=0)[0, 0]
    ramp = torch.linspace(0, 1, frames)
    clips = []
    for label in y.tolist():
        motion = torch.zeros(frames, 68, 2)
        moved = {0: [48, 54, 60, 64], 1: list(range(17, 27)), 2: []}[label]
        motion[:, moved, 1] = -1.5 * ramp[:, None]
        frames_ = []
        for t in range(frames):
            angle, shift = 0.05 * torch.randn(1, generator=g).item(), (3 * torch.randn(2, generator=g)).tolist()
            frames_.append(similarity(layout + motion[t], angle, 1.0 + 0.02 * t, shift))
        clips.append(torch.stack(frames_) + 0.1 * torch.randn(frames, 68, 2, generator=g))
    return torch.stack(clips), y


@pytest.mark.parametrize("experiment, module_cls", [("geograph/smic", GeoGraphModule),
                                                     ("dere_grl/smic", DeReGRLModule)])
def test_graph_methods_learn_which_component_moves(experiment, module_cls):
    pl.seed_everything(0, verbose=False)
    cfg = load_experiment(experiment, ["trainer.max_epochs=12", "model.dropout=0.0"], profile="default")
    module = module_cls(cfg, make_info(cfg, {"landmarks": (8, 68, 2)}))
    x, y = expression_clips(48, seed=1)
    train = [{"landmarks": x[i:i + 16], "y": y[i:i + 16], "aus": torch.zeros(16, 0)} for i in range(0, 48, 16)]
    trainer = pl.Trainer(max_epochs=12, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(module, train_dataloaders=DataLoader(train, batch_size=None))
    x_test, y_test = expression_clips(30, seed=2)
    scores = trainer.predict(module, DataLoader([{"landmarks": x_test, "y": y_test}], batch_size=None))[0]["scores"]
    assert (scores.argmax(1) == y_test).float().mean() >= 0.9


def test_dere_grl_structure_weights_get_their_own_learning_rate():
    cfg = load_experiment("dere_grl/casme2", ["model.structure_lr_scale=4.0", "optim.lr=0.01"], profile="default")
    module = DeReGRLModule(cfg, make_info(cfg, {"landmarks": (8, 68, 2)}))
    base, structure = module.configure_optimizers().param_groups
    assert structure["lr"] == pytest.approx(0.04) and base["lr"] == pytest.approx(0.01)
    assert {id(p) for p in structure["params"]} == {id(module.net.adm.map_logits), id(module.net.rrm.relation_logits)}
    assert len(base["params"]) + 2 == len(list(module.parameters()))


def test_geograph_semantic_adjacency_gets_its_own_learning_rate():
    cfg = load_experiment("geograph/casme2", ["model.semantic_lr_scale=0.1", "optim.lr=0.01"], profile="default")
    module = GeoGraphModule(cfg, make_info(cfg, {"landmarks": (8, 68, 2)}))
    base, semantic = module.configure_optimizers().param_groups
    assert semantic["lr"] == pytest.approx(0.001) and base["lr"] == pytest.approx(0.01)
    learned = [a.learned for a in module.net.semantic.adjacencies]
    assert {id(p) for p in semantic["params"]} == {id(p) for p in learned} and len(learned) == 2
    cfg = load_experiment("geograph-no_semantic_adj/casme2", profile="default")
    (only,) = GeoGraphModule(cfg, make_info(cfg, {"landmarks": (8, 68, 2)})).configure_optimizers().param_groups
