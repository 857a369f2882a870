"""RRRN: shapes, gradient, learning on a tiny fixture, attention follows regions; MEGC2018 objective classes; the
fast path (channels-last backbone, hypot magnitude) computes what the plain one did."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from core.errors import DatasetError
from datamodules.micro_expression import _label_source
from lightning_modules.rrrn import network
from lightning_modules.rrrn.network import REGIONS, RRRN, flow_channels


def _landmarks(b):
    """A crude face in a 64 px crop: all 68 points spread on a grid, jaw 0 and 16 at the sides."""
    t = torch.linspace(0, 1, 68)
    pts = torch.stack([12 + 40 * t, 12 + 40 * ((t * 7) % 1)], -1)
    pts[0], pts[16] = torch.tensor([8.0, 30.0]), torch.tensor([56.0, 30.0])
    return pts.expand(b, 68, 2).clone()


def test_shapes_and_gradient():
    net = RRRN(n_classes=5)
    flow = torch.randn(4, 64, 64, 2, requires_grad=True)
    logits, alpha = net(flow, _landmarks(4)[:, None].repeat(1, 3, 1, 1), return_attention=True)
    assert logits.shape == (4, 5) and alpha.shape == (4, len(REGIONS) + 1)
    assert ((alpha > 0) & (alpha < 1)).all()
    logits.sum().backward()
    assert flow.grad is not None and flow.grad.abs().sum() > 0
    assert all(p.grad is not None for n, p in net.named_parameters() if p.requires_grad)


def test_bad_input():
    net = RRRN(n_classes=3)
    with pytest.raises(ValueError, match="landmarks"):
        net(torch.randn(2, 64, 64, 2), torch.randn(2, 10, 2))
    with pytest.raises(ValueError, match="regions"):
        RRRN(n_classes=3, regions=("ear",))


def test_regions_follow_landmarks():
    """A one-pixel patch samples exactly at the mean of the region's landmarks, and moves with them."""
    net = RRRN(n_classes=2, regions=("mouth", "brow_r"), global_node=False, channels=(4,), region_size=1).eval()
    lm = _landmarks(1)
    grids = net.region_grids(lm, 64, 64)
    centre = (net.membership @ lm[0])
    assert torch.allclose((grids[0, :, 0, 0] + 1) / 2 * 63, centre, atol=1e-4)
    moved = net.region_grids(lm + torch.tensor([5.0, -3.0]), 64, 64)
    assert torch.allclose((moved[0, :, 0, 0] + 1) / 2 * 63, centre + torch.tensor([5.0, -3.0]), atol=1e-4)


def test_learns_tiny_fixture():
    torch.manual_seed(0)
    n = 48
    y = torch.arange(n) % 2
    flow = torch.randn(n, 32, 32, 2) * 0.1
    flow[y == 1, 18:28, 8:24, 1] += 1.0  # class 1: upward motion in the lower face
    lm = _landmarks(n) / 2
    net = RRRN(n_classes=2, channels=(8, 16), hidden=16, dropout=0.0)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(flow, lm), y)
        loss.backward()
        opt.step()
    net.eval()
    assert (net(flow, lm).argmax(1) == y).float().mean() > 0.9


def test_megc2018_objective_classes(tmp_path):
    index = pd.DataFrame({"aus": ["6+12", "1+2", "4+7", "9", "15", "1+2+4", "14", np.nan],
                          "emotion": ["x"] * 8})
    labels = list(_label_source(index, "objective_class", tmp_path))
    assert labels == ["i", "ii", "iii", "iv", "v", "vi", "vii", "vii"]
    assert list(_label_source(index.assign(emotion=["Happiness"] * 8), "emotion", tmp_path))[0] == "happiness"
    with pytest.raises(DatasetError, match="label_from"):
        _label_source(index, "au", tmp_path)
    with pytest.raises(DatasetError, match="aus"):
        _label_source(index.drop(columns="aus"), "objective_class", tmp_path)


def test_megc2018_config_maps_five_classes():
    from core.config import load_yaml
    from experiments.registry import DEFAULTS_DIR

    cfg = load_yaml(DEFAULTS_DIR / "datasets" / "megc2018.yaml")
    assert list(cfg.data.sources) == ["casme2", "samm"] and cfg.data.label_from == "objective_class"
    for name in cfg.data.sources:
        assert sorted(cfg.data.label_map[name].values()) == list(cfg.data.classes)


def _norm_channels(flow, memory_format=torch.contiguous_format):
    """flow_channels as it was before the speed-up (benchmarks/rrrn_speed.py): the magnitude from ``norm``."""
    return torch.cat([flow, flow.norm(dim=1, keepdim=True)], dim=1).contiguous(memory_format=memory_format)


def test_flow_magnitude_is_the_norm():
    flow = torch.randn(4, 2, 16, 16) * 3
    flow[0, :, :4] = 0  # an occluder: no motion
    reference = _norm_channels(flow)
    fast = flow_channels(flow)
    ulp = torch.nextafter(reference, torch.tensor(float("inf"))) - reference
    assert ((fast - reference).abs() <= ulp).all()  # hypot and norm round differently, by at most one ulp
    nhwc = flow_channels(flow, torch.channels_last)
    assert nhwc.is_contiguous(memory_format=torch.channels_last) and torch.equal(nhwc, fast)
    assert torch.equal(flow_channels(flow.permute(0, 2, 3, 1)), fast)
    differentiated = flow.clone().requires_grad_()
    flow_channels(differentiated)[:, 2].sum().backward()  # the norm's subgradient: finite at zero flow
    assert torch.isfinite(differentiated.grad).all() and differentiated.grad[0, :, :4].abs().sum() == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_fast_path_trains_as_before(monkeypatch, threads):
    """Same seed, same batches: the channels-last network with the hypot magnitude and the NCHW network with the
    norm (the computation before benchmarks/rrrn_speed.py's speed-up) give the same logits before any step up to
    float rounding (1e-5) and stay within 1e-2 over three Adam steps. Rounding grows there: a conv bias that a
    BatchNorm follows has a zero true gradient, and Adam scales its rounding-level gradient to steps of about lr in
    either layout (as it would between two thread counts): measured at most 2.8e-3 after three steps on one thread,
    1e-6 on two, while swapping the two flow channels moves the logits by 0.1 from the first forward on. In eval
    mode the running mean carries that bias: eval logits measured within 6e-4 (one thread), 2.3e-2 with the channels
    swapped, hence 5e-3 and the same argmax; parameters within 2.7e-3 (a sanity bound, 5e-3)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _fast_path_trains_as_before(monkeypatch)
    finally:
        torch.set_num_threads(previous)


def _fast_path_trains_as_before(monkeypatch):
    torch.manual_seed(0)
    fast = RRRN(n_classes=3)
    slow = copy.deepcopy(fast).use_memory_format(torch.contiguous_format)
    assert fast.backbone[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert slow.backbone[0].weight.is_contiguous() and torch.equal(fast.backbone[0].weight, slow.backbone[0].weight)
    generator = torch.Generator().manual_seed(1)
    flow = torch.randn(8, 2, 64, 64, generator=generator)
    y = torch.arange(8) % 3
    lm = _landmarks(8)
    optimisers = {net: torch.optim.Adam(net.parameters(), lr=1e-3) for net in (fast, slow)}
    for step in range(4):
        logits = {}
        for net, opt in optimisers.items():
            with monkeypatch.context() as patch:
                if net is slow:
                    patch.setattr(network, "flow_channels", _norm_channels)
                torch.manual_seed(step)  # the same dropout mask
                opt.zero_grad()
                logits[net] = net(flow, lm)
                torch.nn.functional.cross_entropy(logits[net], y).backward()
                opt.step()
        assert torch.allclose(logits[fast], logits[slow], rtol=1e-4, atol=1e-5 if step == 0 else 1e-2), step
    before_bn = {f"backbone.{i}.bias" for i, layer in enumerate(fast.backbone) if isinstance(layer, torch.nn.Conv2d)}
    slow_params = dict(slow.named_parameters())
    for name, value in fast.named_parameters():
        if name not in before_bn:
            assert torch.allclose(value, slow_params[name], atol=5e-3), name
    fast.eval(), slow.eval()
    with monkeypatch.context() as patch:
        patch.setattr(network, "flow_channels", _norm_channels)
        before = slow(flow, lm)
    after = fast(flow, lm)
    assert torch.allclose(after, before, atol=5e-3) and torch.equal(after.argmax(1), before.argmax(1))
