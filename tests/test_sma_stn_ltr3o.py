"""SMA-STN and LTR3O: rank pooling against its definition, shapes and gradients, learning a movement that tells the
classes apart on a tiny clip fixture, and a negative control (the same clips without the movement)."""

import pytest
import torch

from core.errors import ConfigError
from datamodules.micro_expression import DataInfo
from experiments.config import load_experiment
from lightning_modules.ltr3o.module import LTR3OModule, pairwise_rank_loss, profile_targets
from lightning_modules.ltr3o.network import occurring_positions
from lightning_modules.sma_stn.module import SMASTNModule, deviation_enhancement, weaker_movement
from preprocessing.dynamic_images import (
    rank_pool,
    rank_pool_coefficients,
    rank_pool_direct,
    segment_bounds,
    segment_dynamic_images,
)

SMALL = ["model.width=4", "model.depth=2", "data.seq_len=8", "data.image_size=16"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


# -- rank pooling -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 7, 12])
def test_rank_pool_matches_the_pairwise_definition(n):
    x = torch.randn(n, 2, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(rank_pool(x, 0), rank_pool_direct(x))


def test_rank_pool_ignores_a_still_clip_and_orders_time():
    assert rank_pool_coefficients(9).sum().abs() < 1e-5
    still = torch.ones(6, 1, 3, 3) * 0.7
    assert rank_pool(still, 0).abs().max() < 1e-5
    ramp = torch.arange(6.0)[:, None, None, None].expand(6, 1, 3, 3)
    assert (rank_pool(ramp, 0) > 0).all() and (rank_pool(ramp.flip(0), 0) < 0).all()


def test_segment_images_equal_per_segment_rank_pooling():
    frames = torch.randn(2, 9, 1, 4, 4, dtype=torch.float64)
    images = segment_dynamic_images(frames, 3, include_global=True, normalize=False)
    assert images.shape == (2, 4, 1, 4, 4)
    for k, (a, b) in enumerate(segment_bounds(9, 3)):
        torch.testing.assert_close(images[1, k], rank_pool_direct(frames[1, a:b]))
    torch.testing.assert_close(images[0, 3], rank_pool_direct(frames[0]))
    with pytest.raises(ValueError, match="segments"):
        segment_bounds(5, 3)


# -- tiny fixture ---------------------------------------------------------------------------------------------------
def clips(n_per_class=12, n_classes=3, t=8, size=16, signal=True, seed=0):
    """Noisy still faces; with ``signal`` class c's region (a horizontal band) brightens then fades mid-clip."""
    g = torch.Generator().manual_seed(seed)
    base = 0.5 + 0.1 * torch.rand(n_classes * n_per_class, 1, 3, size, size, generator=g)
    x = base.expand(-1, t, -1, -1, -1).clone() + 0.02 * torch.rand(base.shape[0], t, 3, size, size, generator=g)
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    if signal:
        profile = torch.tensor([0, .2, .5, .8, .8, .5, .2, 0])[:t]
        band = size // n_classes
        for i, c in enumerate(y.tolist()):
            x[i, :, :, c * band:(c + 1) * band, :] += 0.08 * profile[:, None, None, None]
    return x.clamp(0, 1), y


def info(n=3):
    return DataInfo(n_classes=n, class_names=[f"c{i}" for i in range(n)], class_counts=[12] * n, n_train=36)


def build(kind, extra=()):
    if kind == "sma_stn":
        return SMASTNModule(load_experiment("sma_stn/composite", [*SMALL, "model.segments=2", *extra]), info())
    return LTR3OModule(load_experiment("ltr3o/composite", [*SMALL, "model.candidates=4", *extra]), info())


def fit_accuracy(module, signal, epochs=25, seed=0):
    torch.manual_seed(seed)
    x, y = clips(signal=signal, seed=seed)
    xt, yt = clips(signal=signal, seed=seed + 100)
    opt = torch.optim.Adam(module.parameters(), lr=3e-3)
    for _ in range(epochs):
        module.train()
        for idx in torch.randperm(len(y)).split(12):
            _, losses = module.compute({"frames": x[idx], "y": y[idx]})
            opt.zero_grad()
            sum(losses.values()).backward()
            opt.step()
    module.eval()
    with torch.no_grad():
        scores, _ = module.compute({"frames": xt, "y": yt})
    return (scores["scores"].argmax(1) == yt).float().mean().item()


@pytest.mark.parametrize("kind", ["sma_stn", "ltr3o"])
def test_shapes_and_gradients(kind):
    module = build(kind)
    x, y = clips(n_per_class=2)
    module.train()
    out, losses = module.compute({"frames": x, "y": y})
    assert out["scores"].shape == (6, 3)
    assert set(losses) == ({"ce", "de"} if kind == "sma_stn" else {"ce", "rank"})
    sum(losses.values()).backward()
    grads = [p.grad for p in module.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


@pytest.mark.parametrize("kind", ["sma_stn", "ltr3o"])
def test_learns_the_movement_and_not_without_it(kind):
    torch.manual_seed(0)  # the initialisation too (not whatever the tests before left in the generator)
    learnt = fit_accuracy(build(kind), signal=True)
    torch.manual_seed(0)
    control = fit_accuracy(build(kind), signal=False)
    assert learnt >= 0.8, learnt
    assert control <= 0.6, control  # 3 classes: chance is 1/3; held-out clips with no movement


def test_ltr3o_positions_ranking_and_config_checks():
    pos = occurring_positions(4, 10, 5, train=True)
    assert pos.min() >= 1 and pos.max() <= 8
    grid = occurring_positions(2, 10, 3, train=False)
    assert grid[0, 0] == 1 and grid[0, -1] == 8
    targets = profile_targets(torch.tensor([[1, 5, 9]]), 11, torch.tensor([0.5]))
    assert targets[0, 1] == 1.0 and targets[0, 0] < targets[0, 1]
    good = pairwise_rank_loss(torch.tensor([[0.0, 5.0, 0.0]]), targets)
    bad = pairwise_rank_loss(torch.tensor([[5.0, 0.0, 5.0]]), targets)
    assert good < 0.01 < bad
    with pytest.raises(ConfigError, match="onset_offset"):
        build("ltr3o", ["data.span=onset_apex"])
    with pytest.raises(ConfigError, match="calibration"):
        build("ltr3o", ["model.calibration=macro"])


def test_deviation_enhancement_is_zero_for_identical_features_and_scale_free():
    f = torch.randn(6, 4)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    assert deviation_enhancement(f, f, y) == 0
    torch.testing.assert_close(deviation_enhancement(f, f * 0.5, y), deviation_enhancement(3 * f, 1.5 * f, y))


def test_deviation_enhancement_gives_no_pull_towards_shrinking_features():
    """Scaling every feature down must not lower the loss to first order (no reward for feature collapse)."""
    f = torch.randn(6, 4, dtype=torch.float64)
    weak = f + 0.1 * torch.randn(6, 4, dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    scale = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    deviation_enhancement(scale * f, scale * weak, y).backward()
    assert abs(scale.grad.item()) < 1e-4


def test_de_loss_pass_leaves_the_batch_norm_statistics_as_the_classification_pass_left_them():
    """The weak clip's forward pass must not move the running statistics used at evaluation (a version that let it
    predicted one class on every clip after training)."""
    x, y = clips(n_per_class=2)
    stats = []
    for weight in ("0", "0.5"):
        torch.manual_seed(0)
        module = build("sma_stn", [f"model.de_weight={weight}"])
        module.train()
        module.compute({"frames": x, "y": y})
        stats.append([b.clone() for n, b in module.named_buffers() if "running" in n])
    assert len(stats[0]) >= 4
    for before, after in zip(*stats):
        torch.testing.assert_close(before, after)


def test_a_scaled_clip_is_invisible_in_training_but_the_weaker_movement_is_not():
    """Why the weak clip adds noise: a scaled dynamic image gives the same features in training (bias-free
    convolution, then batch norm over the batch), so a scaled 'weaker movement' made the DE-Loss zero."""
    torch.manual_seed(0)
    module = build("sma_stn")
    module.train()
    images = module.net(clips(n_per_class=2)[0])["images"]
    feats = module.net.features(images)
    torch.testing.assert_close(module.net.features(0.5 * images), feats, rtol=1e-4, atol=1e-5)
    weak = weaker_movement(images, 0.5)
    assert (module.net.features(weak) - feats).pow(2).sum() > 1e-3 * feats.pow(2).sum()
    torch.testing.assert_close(weak.flatten(2).std(-1), torch.ones(weak.shape[:2]), rtol=0.1, atol=0.1)
    torch.testing.assert_close(weaker_movement(images, 1.0), images)
    with pytest.raises(ValueError, match="de_attenuation"):
        weaker_movement(images, 1.5)
