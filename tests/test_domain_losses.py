"""The shared deep domain-adaptation layers: gradient reversal, DANN's schedule, multi-kernel MMD."""

import math

import pytest
import torch

from lightning_modules.layers.domain_losses import (
    DomainDiscriminator,
    dann_coefficient,
    mmd2,
    reverse_gradient,
)


def test_gradient_reversal_is_identity_forward_and_negates_scaled_gradient():
    x = torch.randn(5, 3, requires_grad=True)
    y = reverse_gradient(x, 0.5)
    assert torch.equal(y, x)
    (y * torch.arange(3.0)).sum().backward()
    assert torch.allclose(x.grad, -0.5 * torch.arange(3.0).expand(5, 3))


def test_dann_schedule_starts_at_zero_and_approaches_scale():
    assert dann_coefficient(0.0) == 0.0
    assert dann_coefficient(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1)
    assert dann_coefficient(2.0) == dann_coefficient(1.0)  # clipped
    values = [dann_coefficient(p / 10) for p in range(11)]
    assert values == sorted(values)


def test_mmd_is_small_for_same_distribution_and_large_for_shifted():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 4, generator=g), torch.randn(200, 4, generator=g)
    shifted = torch.randn(200, 4, generator=g) + 1.5
    same, diff = mmd2(a, b).item(), mmd2(a, shifted).item()
    assert same >= 0 and diff > 10 * same
    assert abs(mmd2(a, b, unbiased=True).item()) < 0.02


def test_mmd_gradient_pulls_domains_together():
    g = torch.Generator().manual_seed(1)
    source = torch.randn(64, 2, generator=g)
    target = (torch.randn(64, 2, generator=g) + 2.0).requires_grad_(True)
    before = mmd2(source, target)
    before.backward()
    moved = (target - 0.5 * target.grad).detach()
    assert mmd2(source, moved).item() < before.item()


def test_mmd_rejects_an_empty_domain():
    with pytest.raises(ValueError, match="both domains"):
        mmd2(torch.randn(3, 2), torch.randn(0, 2))


def test_discriminator_gradient_reaches_features_reversed():
    torch.manual_seed(0)
    features = torch.randn(8, 6, requires_grad=True)
    head = DomainDiscriminator(6, hidden=5)
    loss = torch.nn.functional.cross_entropy(head(features, coefficient=1.0), torch.zeros(8, dtype=torch.long))
    loss.backward()
    reversed_grad = features.grad.clone()
    features.grad = None
    plain = torch.nn.functional.cross_entropy(head.net(features), torch.zeros(8, dtype=torch.long))
    plain.backward()
    assert torch.allclose(reversed_grad, -features.grad)
