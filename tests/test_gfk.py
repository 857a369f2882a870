"""GFK (lightning_modules/layers/domain_adaptation.py): the closed form against the geodesic integral it stands for."""

from __future__ import annotations

import numpy as np

from lightning_modules.layers.domain_adaptation import ADAPTERS, GFK, DomainAdaptedSVM, make_adapter


def _geodesic_integral(adapter, xs, xt, steps=4000):
    from scipy import linalg

    d = adapter.basis.shape[1] // 2
    ps = linalg.svd(xs - xs.mean(0), full_matrices=False)[2][:d].T
    pt = linalg.svd(xt - xt.mean(0), full_matrices=False)[2][:d].T
    u1, cos, vt = linalg.svd(ps.T @ pt)
    theta = np.arccos(np.clip(cos, -1, 1))
    complement = -(pt @ vt.T - ps @ u1 * cos) / np.sin(theta)
    total = np.zeros((xs.shape[1], xs.shape[1]))
    for t in (np.arange(steps) + 0.5) / steps:
        phi = ps @ u1 * np.cos(t * theta) - complement * np.sin(t * theta)
        total += phi @ phi.T / steps
    return 2 * total, phi, pt @ vt.T  # the paper's G is twice the integral; phi at t ~ 1 is P_t V


def test_the_closed_form_is_the_geodesic_flow_integral():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(40, 12)) @ rng.normal(size=(12, 12))
    xt = rng.normal(size=(35, 12)) @ rng.normal(size=(12, 12))
    adapter = GFK(dim=3).fit(xs, None, xt)
    integral, end, target_basis = _geodesic_integral(adapter, xs, xt)
    assert np.allclose(end, target_basis, atol=1e-3)  # the flow ends at the target subspace
    assert np.allclose(adapter.kernel(), integral, atol=1e-5)
    gram = adapter.source(xs) @ adapter.target(xt).T  # the embedding's inner products are x G x'
    assert np.allclose(gram, (xs - xs.mean(0)) @ adapter.kernel() @ (xt - xt.mean(0)).T, atol=1e-8)


def test_identical_subspaces_give_twice_the_projection():
    rng = np.random.default_rng(1)
    xs = rng.normal(size=(30, 8))
    adapter = GFK(dim=3).fit(xs, None, xs.copy())
    basis = np.linalg.svd(xs - xs.mean(0), full_matrices=False)[2][:3].T
    assert np.allclose(adapter.kernel(), 2 * basis @ basis.T, atol=1e-8)


def test_gfk_is_a_classical_da_adapter_that_classifies():
    assert ADAPTERS["gfk"] is GFK and make_adapter("gfk", dim=5).dim == 5
    rng = np.random.default_rng(2)
    ys = np.repeat(np.arange(3), 20)
    xs = rng.normal(size=(60, 10))
    xs[np.arange(60), ys] += 4
    yt = np.repeat(np.arange(3), 15)
    xt = rng.normal(size=(45, 10)) + 1.0
    xt[np.arange(45), yt] += 4
    model = DomainAdaptedSVM(make_adapter("gfk", dim=5)).fit(xs, ys, xt, 3)
    assert (model.target_scores.argmax(1) == yt).mean() > 0.8
