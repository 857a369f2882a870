"""RRRN: shapes, gradient, learning on a tiny fixture, attention follows regions; MEGC2018 objective classes."""

import numpy as np
import pandas as pd
import pytest
import torch

from core.errors import DatasetError
from datamodules.micro_expression import _label_source
from lightning_modules.rrrn.network import REGIONS, RRRN


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
