"""MPT network: checkpoint load path and learning on a tiny fixture (issue 19)."""

import pytest
import torch

from lightning_modules.mpt.network import MPT, build_backbone


def test_checkpoint_load_path(tmp_path):
    torch.manual_seed(1)
    vit = build_backbone(28, 4, 48, 2, 4)
    path = tmp_path / "vit.pt"
    torch.save(vit.state_dict(), path)
    model = MPT(3, dim=48, depth=2, heads=4, checkpoint=str(path))
    assert model.pretrained and model.loaded["format"] == "timm"
    for key, value in vit.state_dict().items():
        assert torch.equal(model.vit.state_dict()[key], value), key
    assert not any(p.requires_grad for p in model.vit.parameters())  # prompt tuning freezes the backbone
    assert any(p.requires_grad for p in model.adapters.parameters())
    random = MPT(3, dim=48, depth=2, heads=4)
    assert not random.pretrained and all(p.requires_grad for p in random.vit.parameters())
    with pytest.raises(FileNotFoundError, match="model.checkpoint"):
        MPT(3, dim=48, depth=2, heads=4, checkpoint=str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="does not fit"):
        MPT(3, dim=64, depth=2, heads=4, checkpoint=str(path))


def test_adapters_leave_a_loaded_backbone_unchanged_at_init(tmp_path):
    torch.manual_seed(0)
    model = MPT(3, dim=48, depth=2, heads=4)
    x = torch.randn(2, 48, 48)[:, :8]  # (B, tokens, dim)
    assert torch.allclose(model.adapters[0](x), x)


def test_mpt_learns_tiny_fixture():
    torch.manual_seed(0)
    n, classes = 48, 3
    y = torch.arange(n) % classes
    motion = 0.3 * torch.randn(n, 3, 28, 28)
    for c in range(classes):  # class-specific motion in a different face region
        motion[y == c, :, 4 + 8 * c: 10 + 8 * c, 8:20] += 1.0
    frame = torch.randn(n, 3, 28, 28) * 0.1
    model = MPT(classes, dim=48, depth=2, heads=4, n_prompts=4, adapter_dim=16)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    first = None
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(motion, frame), y)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(motion, frame).argmax(1) == y).float().mean().item()
    assert float(loss) < 0.5 * first and acc > 0.9
