"""Optical flow on known sub-pixel shifts of a real face, and optical strain on analytic flows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from core.errors import ConfigError
from preprocessing import flow


@pytest.fixture(scope="module")
def face128() -> np.ndarray:
    gray = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(gray[60:188, 150:278])


def shift_image(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Content moved by (+dx, +dy) px with bicubic resampling."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(image.astype(np.float32), matrix, image.shape[::-1], flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    return np.clip(np.rint(moved), 0, 255).astype(np.uint8)


def analytic_flow(u_of, v_of, size: int = 32) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    return np.stack([u_of(xx, yy), v_of(xx, yy)], axis=-1)


@pytest.mark.parametrize(
    ("method", "tolerance"), [("tvl1", 0.05), ("dis", 0.1), ("farneback", 0.15)]
)
@pytest.mark.parametrize(("dx", "dy"), [(0.5, 0.0), (1.5, -0.7), (0.2, 0.3)])
def test_flow_recovers_subpixel_shifts(face128, method, tolerance, dx, dy):
    moved = shift_image(face128, dx, dy)
    estimate = flow.optical_flow(face128, moved, method)
    assert estimate.shape == (128, 128, 2) and estimate.dtype == np.float32
    inner = estimate[16:-16, 16:-16]
    assert np.median(inner[..., 0]) == pytest.approx(dx, abs=tolerance)
    assert np.median(inner[..., 1]) == pytest.approx(dy, abs=tolerance)


def test_identical_frames_have_no_flow(face128):
    assert np.abs(flow.optical_flow(face128, face128)).max() < 0.05


def test_unknown_method_and_unknown_tvl1_setting_are_config_errors(face128):
    with pytest.raises(ConfigError, match="method"):
        flow.optical_flow(face128, face128, "raft")
    with pytest.raises(ConfigError, match="inner_iteration"):
        flow.optical_flow(face128, face128, "tvl1", inner_iteration=3)


def test_tvl1_settings_reach_opencv(face128):
    """One warp at one scale cannot follow a 1.5 px shift as well as the default settings."""
    moved = shift_image(face128, 1.5, 0.0)
    coarse = flow.optical_flow(face128, moved, "tvl1", nscales=1, warps=1, outer_iterations=1, inner_iterations=1)
    fine = flow.optical_flow(face128, moved, "tvl1")
    assert abs(np.median(fine[16:-16, 16:-16, 0]) - 1.5) < abs(np.median(coarse[16:-16, 16:-16, 0]) - 1.5)


def test_translation_has_zero_strain():
    strain = flow.optical_strain(analytic_flow(lambda x, y: 0 * x + 1.3, lambda x, y: 0 * x - 0.4))
    assert np.abs(strain).max() < 1e-12


def test_stretch_has_strain_sqrt_a2_plus_b2():
    a, b = 0.03, -0.02
    strain = flow.optical_strain(analytic_flow(lambda x, y: a * x, lambda x, y: b * y))
    assert np.allclose(strain, np.hypot(a, b), atol=1e-7)


def test_rotation_has_zero_strain():
    w = 0.01
    strain = flow.optical_strain(analytic_flow(lambda x, y: -w * y, lambda x, y: w * x))
    assert np.abs(strain).max() < 1e-9


def test_simple_shear_has_strain_s_over_sqrt2():
    s = 0.04
    e_xx, e_yy, e_xy = flow.strain_components(analytic_flow(lambda x, y: s * y, lambda x, y: 0 * x))
    assert np.allclose(e_xx, 0) and np.allclose(e_yy, 0) and np.allclose(e_xy, s / 2)
    strain = flow.optical_strain(analytic_flow(lambda x, y: s * y, lambda x, y: 0 * x))
    assert np.allclose(strain, s / np.sqrt(2), atol=1e-7)


def test_central_differences_are_exact_for_quadratic_flow_inside():
    """u = x^2 / 100: du/dx = x / 50 exactly with central differences (not with one-sided ones)."""
    e_xx, _, _ = flow.strain_components(analytic_flow(lambda x, y: x**2 / 100, lambda x, y: 0 * x))
    x = np.arange(32)
    assert np.allclose(e_xx[:, 1:-1], (x[1:-1] / 50)[None, :])


def test_flow_image_is_area_averaged_and_keeps_units():
    field = analytic_flow(lambda x, y: 0 * x + 2.0, lambda x, y: (y >= 64) * 1.0, size=128).astype(np.float32)
    strain = flow.optical_strain(field)
    image = flow.flow_image(field, strain, 28)
    assert image.shape == (3, 28, 28) and image.dtype == np.float32
    assert np.allclose(image[0], 2.0)
    assert image[1, 0].max() == 0.0 and image[1, -1].min() == 1.0
    assert image[2].max() > 0  # the step in v is strained


def test_onset_apex_flow_has_the_contract_shapes(face128):
    out = flow.onset_apex_flow(face128, shift_image(face128, 0.5, 0.0))
    assert out["flow"].shape == (2, 128, 128) and out["strain"].shape == (128, 128)
    assert out["image28"].shape == (3, 28, 28)
    assert all(v.dtype == np.float32 for v in out.values())
