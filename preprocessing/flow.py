"""Optical flow from onset to apex, optical strain, and the 28x28 (u, v, strain) image of STSTNet-style networks.

Flow methods (`preprocess.flow.method`):
- `tvl1` (default): TV-L1 (Zach, Pock & Bischof 2007; the duality-based solver of Wedel et al. 2009) from
  opencv-contrib, `cv2.optflow.DualTVL1OpticalFlow_create`. Its defaults cost about 0.8 s per 256x256 pair;
  the fast settings nscales=3, warps=3, epsilon=0.02, outerIterations=5, innnerIterations=10 (OpenCV's spelling)
  give the same accuracy on sub-pixel shifts at a third of the time, and are the defaults of params.yaml.
- `dis`: Dense Inverse Search (Kroeger et al. 2016), `cv2.DISOpticalFlow_create(preset)`; under 10 ms a pair.
- `farneback`: polynomial expansion (Farneback 2003), `cv2.calcOpticalFlowFarneback`; known to under-estimate
  sub-pixel shifts by about 20%.

All take 8-bit grayscale frames of the same size and return (H, W, 2) float32 displacements (u, v) in pixels:
the onset pixel (x, y) moves to (x + u, y + v) at the apex.

Optical strain (Shreve et al. 2011; Liong et al. 2016, "Spontaneous subtle expression detection and
recognition based on facial strain"): with the flow as a displacement field, the infinitesimal strain tensor
is  eps = 1/2 (grad w + grad w^T),  i.e.

    e_xx = du/dx,   e_yy = dv/dy,   e_xy = e_yx = (du/dy + dv/dx) / 2,

and the strain magnitude used here is its Frobenius norm

    strain = sqrt(e_xx^2 + e_yy^2 + 2 e_xy^2).

Derivatives are central differences (u[x+1] - u[x-1]) / 2 inside the image and one-sided differences on its
border (`numpy.gradient`). A pure translation has zero strain; u = a x, v = b y has strain sqrt(a^2 + b^2); the
rotation u = -w y, v = w x has zero strain; the shear u = s y, v = 0 has strain s / sqrt(2).

The 28x28 image (STSTNet, Liong et al. 2019) stacks (u, v, strain) resized with area averaging; u and v stay
in pixels of the crop and strain is dimensionless (no rescaling: the values are what the crop measured).
"""

from __future__ import annotations

import cv2
import numpy as np

from core.errors import ConfigError

METHODS = ("tvl1", "dis", "farneback")
TVL1_DEFAULTS = {"nscales": 3, "warps": 3, "epsilon": 0.02, "outer_iterations": 5, "inner_iterations": 10}
TVL1_KEYWORDS = {  # params.yaml name -> (OpenCV keyword, type)
    "tau": ("tau", float),
    "lambda": ("lambda_", float),
    "theta": ("theta", float),
    "nscales": ("nscales", int),
    "warps": ("warps", int),
    "epsilon": ("epsilon", float),
    "inner_iterations": ("innnerIterations", int),
    "outer_iterations": ("outerIterations", int),
    "scale_step": ("scaleStep", float),
    "gamma": ("gamma", float),
    "median_filtering": ("medianFiltering", int),
}
DIS_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}
FARNEBACK_DEFAULTS = {
    "pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2,
}


def tvl1_flow(onset: np.ndarray, apex: np.ndarray, **knobs) -> np.ndarray:
    """TV-L1 flow; `knobs` are the snake_case names of TVL1_KEYWORDS (unset ones keep TVL1_DEFAULTS/OpenCV's)."""
    unknown = sorted(set(knobs) - set(TVL1_KEYWORDS))
    if unknown:
        raise ConfigError(
            f"unknown TV-L1 settings {unknown} in preprocess.flow.tvl1", hint=f"known: {sorted(TVL1_KEYWORDS)}"
        )
    settings = {**TVL1_DEFAULTS, **knobs}
    keywords = {TVL1_KEYWORDS[k][0]: TVL1_KEYWORDS[k][1](v) for k, v in settings.items()}
    return cv2.optflow.DualTVL1OpticalFlow_create(**keywords).calc(onset, apex, None)


def dis_flow(onset: np.ndarray, apex: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Dense Inverse Search flow with one of OpenCV's presets (ultrafast, fast, medium)."""
    if preset not in DIS_PRESETS:
        raise ConfigError(f"preprocess.flow.dis.preset must be one of {sorted(DIS_PRESETS)}, got {preset!r}")
    return cv2.DISOpticalFlow_create(DIS_PRESETS[preset]).calc(onset, apex, None)


def farneback_flow(onset: np.ndarray, apex: np.ndarray, **knobs) -> np.ndarray:
    """Farneback flow with OpenCV's parameters (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma)."""
    s = {**FARNEBACK_DEFAULTS, **knobs}
    return cv2.calcOpticalFlowFarneback(
        onset, apex, None, float(s["pyr_scale"]), int(s["levels"]), int(s["winsize"]), int(s["iterations"]),
        int(s["poly_n"]), float(s["poly_sigma"]), 0,
    )


def optical_flow(onset: np.ndarray, apex: np.ndarray, method: str = "tvl1", **knobs) -> np.ndarray:
    """(H, W, 2) float32 flow from `onset` to `apex` (both (H, W) uint8) with the chosen method."""
    if onset.shape != apex.shape or onset.ndim != 2:
        raise ValueError(f"expected two gray frames of one size, got {onset.shape} and {apex.shape}")
    onset, apex = np.ascontiguousarray(onset, np.uint8), np.ascontiguousarray(apex, np.uint8)
    if method == "tvl1":
        flow = tvl1_flow(onset, apex, **knobs)
    elif method == "dis":
        flow = dis_flow(onset, apex, **knobs)
    elif method == "farneback":
        flow = farneback_flow(onset, apex, **knobs)
    else:
        raise ConfigError(f"preprocess.flow.method must be one of {METHODS}, got {method!r}")
    return flow.astype(np.float32)


def strain_components(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(e_xx, e_yy, e_xy) of an (H, W, 2) flow; central differences inside, one-sided on the border."""
    u, v = flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64)
    du_dy, du_dx = np.gradient(u)
    dv_dy, dv_dx = np.gradient(v)
    return du_dx, dv_dy, 0.5 * (du_dy + dv_dx)


def optical_strain(flow: np.ndarray) -> np.ndarray:
    """Strain magnitude sqrt(e_xx^2 + e_yy^2 + 2 e_xy^2) of an (H, W, 2) flow, float32 (H, W)."""
    e_xx, e_yy, e_xy = strain_components(flow)
    return np.sqrt(e_xx**2 + e_yy**2 + 2.0 * e_xy**2).astype(np.float32)


def flow_image(flow: np.ndarray, strain: np.ndarray, size: int = 28) -> np.ndarray:
    """(3, size, size) float32 stack of u, v and strain, each resized with area averaging."""
    channels = (flow[..., 0], flow[..., 1], strain)
    return np.stack([cv2.resize(c.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA) for c in channels])


def onset_apex_flow(
    onset: np.ndarray, apex: np.ndarray, method: str = "tvl1", image_size: int = 28, **method_knobs
) -> dict[str, np.ndarray]:
    """`flow` (2, H, W), `strain` (H, W) and `image28` (3, s, s) between two gray frames."""
    flow = optical_flow(onset, apex, method, **method_knobs)
    strain = optical_strain(flow)
    return {
        "flow": np.ascontiguousarray(flow.transpose(2, 0, 1)),
        "strain": strain,
        "image28": flow_image(flow, strain, image_size),
    }

