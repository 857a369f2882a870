"""Transfer group-sparse regression: the model family of RSTR and TGSR (cross-database MER), one solver for both.

Facial regions. A clip's LBP-TOP is a grid of block histograms (preprocessing/lbptop.py: block row, block column,
plane XY/XT/YT, bins). A REGION is one block of a coarser grid: :class:`RegionPyramid` pools the 8 x 8 blocks into
the levels it is given (1 x 1, 2 x 2, 4 x 4, 8 x 8 by default: 1 + 4 + 16 + 64 = 85 regions, each 3 x 59 = 177
features, 15 045 in all). That pyramid is what the public TGSR code's features are (85 groups of 15 045 / 85 = 177
LBP-TOP R3P8 features, read as facts from github.com/jiangxingxun/Seeking_Salient_Facial_Region, get_fdim_LBPTOP.m
and the 85-region loops); a pooled block is the mean of its block histograms, the histogram of the merged block when
the blocks are equal (they differ by at most a pixel).

The model. With Z_s (D x n_s) the source samples' region features, L_s (c x n_s) their one-hot labels and
delta = mean(Z_s) - mean(Z_t) the difference of the domain means, learn C (D x c):

    min_C  || L_s - C^T Z_s ||_F^2  +  lambda || C^T delta ||^2  +  R(C)

(regress the labels from the features; the mean-matching term asks the source and target means to receive the same
label scores, i.e. a linear-kernel MMD between the domains in the label space; R selects regions). Predictions are
``argmax C^T z``, for target and source alike. The mean-matching term is implemented as the public code does: one
extra column ``sqrt(lambda) delta`` appended to Z_s with a zero label column.

Region penalties, the difference between the two methods:

* ``group_lasso`` (RSTR): ``R(C) = mu sum_g ||C_g||_F`` over the regions g: a region is kept when its evidence
  outweighs mu (block soft-thresholding);
* ``top_k`` (TGSR, the public code's ``solve_l1l2`` "fixednum" rule): at every iteration the threshold is the
  (k+1)-th largest region norm, so exactly ``k`` regions survive, shrunk by that threshold; ``k`` is the knob.

Solver: inexact ALM on the split C = P = B (multiplier T, penalty kappa), as the public TGSR code (ALM_ISLSR_fixednum
.m, read as facts: rho 1.1, kappa0 1e-3, kappa_max 1e15, tol 1e-8, at most 1e6 iterations, C started at ones, T at
zeros):

    P <- (2 Z Z^T / kappa + I)^-1 (B + (2 Z L^T - T) / kappa)      (closed form, from the thin SVD of Z, computed once)
    B <- prox_{R / kappa}(P + T / kappa)
    stop when max |P - B| < tol; else T <- T + kappa (P - B), kappa <- min(rho kappa, kappa_max)

Cost: two (D x r) by (r x c) products per iteration (r = rank of Z <= n_s + 1) and one SVD per fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_limits

Penalty = Literal["group_lasso", "top_k"]


@dataclass(frozen=True)
class ALMSettings:
    """The inexact-ALM solver's knobs, shared by TSRG (``model.ialm``; lightning_modules/tsrg/solver.py names it
    ``IALMSettings``), RSTR and TGSR (``model.alm``); the defaults are the public TSRG and TGSR code's, which agree.
    ``init``: the projection starts at this constant (the code: ones); TSRG's multiplier starts there too, the
    group-sparse solvers' multiplier at zeros."""

    rho: float = 1.1
    kappa0: float = 1e-3
    kappa_max: float = 1e15
    tol: float = 1e-8
    max_iter: int = 1_000_000
    init: float = 1.0

    def check(self) -> None:
        if not (self.rho > 1 and self.kappa0 > 0 and self.kappa_max >= self.kappa0 and self.tol > 0
                and self.max_iter >= 1):
            raise ValueError(f"ALM settings {self}: expected rho > 1, 0 < kappa0 <= kappa_max, tol > 0, max_iter >= 1")


@dataclass(frozen=True)
class RegionPyramid:
    """Facial regions from a square grid of LBP-TOP block histograms: every block of every level in ``levels``
    (block-grid sides, each dividing the feature grid's side). ``levels=()`` treats the features as
    ``n_groups`` equal contiguous groups instead (features without a block layout, e.g. in tests)."""

    levels: tuple[int, ...] = (1, 2, 4, 8)
    bins: int = 59  # bins per block and plane (uniform patterns, P=8): preprocess.features.lbptop
    n_groups: int = 1

    def transform(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """(n, D) features -> ((n, G * g) region features, g): G regions of g features each, contiguous."""
        x = np.asarray(x, dtype=np.float64)
        if not self.levels:
            if self.n_groups < 1 or x.shape[1] % self.n_groups:
                raise ValueError(f"model.regions.n_groups={self.n_groups} does not divide the feature dimension "
                                 f"{x.shape[1]}")
            return x, x.shape[1] // self.n_groups
        per_block = 3 * int(self.bins)
        side = int(round(np.sqrt(x.shape[1] / per_block)))
        if side * side * per_block != x.shape[1]:
            raise ValueError(f"features of dimension {x.shape[1]} are not a square grid of blocks of 3 x {self.bins} "
                             "bins (model.regions.bins must match preprocess.features.lbptop)")
        grid = x.reshape(len(x), side, side, per_block)
        parts = []
        for level in self.levels:
            if level < 1 or side % level:
                raise ValueError(f"model.regions.levels: {level} does not divide the block grid's side {side}")
            f = side // level
            parts.append(grid.reshape(len(x), level, f, level, f, per_block).mean(axis=(2, 4)).reshape(len(x), -1))
        return np.concatenate(parts, axis=1), per_block

    def names(self) -> list[str]:
        """One name per region, in feature order: ``L<side>:<row>,<col>``."""
        if not self.levels:
            return [f"group {i}" for i in range(self.n_groups)]
        return [f"L{level}:{r},{c}" for level in self.levels for r in range(level) for c in range(level)]


@dataclass(frozen=True)
class RegressionResult:
    coef: np.ndarray  # C, (D, c)
    iterations: int
    converged: bool
    residual: float  # max |P - B| at the end
    region_norms: np.ndarray = field(repr=False)  # ||C_g||_F per region


def region_norms(c: np.ndarray, group_size: int) -> np.ndarray:
    return np.sqrt((c.reshape(-1, group_size * c.shape[1]) ** 2).sum(1)) if c.size else np.zeros(0)


def prox(w: np.ndarray, group_size: int, penalty: Penalty, strength: float) -> np.ndarray:
    """The region penalty's proximal step on W (D x c): ``group_lasso`` shrinks each region's block by ``strength``
    (its Frobenius norm); ``top_k`` keeps the ``int(strength)`` largest regions, shrunk by the next one's norm."""
    blocks = w.reshape(-1, group_size * w.shape[1])
    norms = np.sqrt((blocks**2).sum(1))
    if penalty == "group_lasso":
        threshold = float(strength)
    elif penalty == "top_k":
        k = int(strength)
        threshold = float(np.sort(norms)[::-1][k]) if k < len(norms) else 0.0
    else:
        raise ValueError(f"region penalty must be group_lasso or top_k, got {penalty!r}")
    scale = np.where(norms > threshold, 1.0 - threshold / np.maximum(norms, 1e-300), 0.0)
    return (blocks * scale[:, None]).reshape(w.shape)


def objective(coef: np.ndarray, zs: np.ndarray, ls: np.ndarray, delta: np.ndarray, lam: float, group_size: int,
              mu: float) -> float:
    """The group-lasso objective at C (zs: n_s x D samples in rows, ls: n_s x c one-hot, delta: (D,))."""
    fit = ls - zs @ coef
    return float((fit**2).sum() + lam * ((coef.T @ delta) ** 2).sum() + mu * region_norms(coef, group_size).sum())


def solve(zs: np.ndarray, ls: np.ndarray, delta: np.ndarray, lam: float, group_size: int, penalty: Penalty,
          strength: float, settings: ALMSettings = ALMSettings()) -> RegressionResult:
    """Minimise the module docstring's objective by inexact ALM. ``zs`` (n_s, D) holds the source samples in ROWS,
    ``ls`` (n_s, c) their one-hot labels, ``delta`` (D,) mean(source) - mean(target)."""
    settings.check()
    if lam < 0 or strength < 0:
        raise ValueError(f"lambda and the region penalty must be >= 0, got {lam}, {strength}")
    if zs.shape[1] % group_size:
        raise ValueError(f"{zs.shape[1]} features do not split into regions of {group_size}")
    with threadpool_limits(limits=1, user_api="blas"):  # shared, busy machines: threads only contend
        return _alm(np.asarray(zs, np.float64), np.asarray(ls, np.float64), np.asarray(delta, np.float64),
                    float(lam), group_size, penalty, float(strength), settings)


def _alm(zs, ls, delta, lam, group_size, penalty, strength, s: ALMSettings) -> RegressionResult:
    z = np.hstack([zs.T, np.sqrt(lam) * delta[:, None]])  # (D, n_s + 1): the mean-matching column appended
    labels = np.vstack([ls, np.zeros((1, ls.shape[1]))])  # (n_s + 1, c): its target is zero
    u, sv, _ = np.linalg.svd(z, full_matrices=False)
    keep = sv > sv.max(initial=0.0) * 1e-12
    u, sv2 = u[:, keep], sv[keep] ** 2
    zl = 2 * z @ labels  # 2 Z L^T, (D, c), fixed
    b = np.full((z.shape[0], ls.shape[1]), s.init)
    multiplier = np.zeros_like(b)
    kappa, residual, p = s.kappa0, np.inf, b
    for iteration in range(1, s.max_iter + 1):
        w = b + (zl - multiplier) / kappa
        p = w + u @ ((1.0 / (1.0 + 2.0 * sv2 / kappa) - 1.0)[:, None] * (u.T @ w))
        strength_now = strength / kappa if penalty == "group_lasso" else strength
        b = prox(p + multiplier / kappa, group_size, penalty, strength_now)
        gap = p - b
        residual = float(np.abs(gap).max())
        if residual < s.tol:
            return RegressionResult(b, iteration, True, residual, region_norms(b, group_size))
        multiplier += kappa * gap
        kappa = min(s.kappa_max, s.rho * kappa)
    return RegressionResult(b, s.max_iter, False, residual, region_norms(b, group_size))


@dataclass
class TransferGroupRegression:
    """A fitted transfer group-sparse regression (the fit function's model): ``target_scores`` and
    ``source_scores`` for the cross-database task loop, ``selected_regions`` for the report."""

    lam: float = 1.0
    penalty: Penalty = "group_lasso"
    strength: float = 1.0
    standardize: bool = False
    regions: RegionPyramid = field(default_factory=RegionPyramid)
    alm: ALMSettings = field(default_factory=ALMSettings)

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, n_classes: int) -> TransferGroupRegression:
        zs, self.group_size = self.regions.transform(xs)
        zt, _ = self.regions.transform(xt)
        self.mean = zs.mean(0) if self.standardize else np.zeros(zs.shape[1])
        self.std = np.maximum(zs.std(0, ddof=1), 1e-6) if self.standardize else np.ones(zs.shape[1])
        zs, zt = (zs - self.mean) / self.std, (zt - self.mean) / self.std
        labels = np.eye(n_classes)[np.asarray(ys, dtype=int)]
        delta = zs.mean(0) - zt.mean(0)
        self.result = solve(zs, labels, delta, self.lam, self.group_size, self.penalty, self.strength, self.alm)
        self.target_scores = zt @ self.result.coef
        return self

    def source_scores(self, x: np.ndarray) -> np.ndarray:
        z, _ = self.regions.transform(x)
        return ((z - self.mean) / self.std) @ self.result.coef

    def selected_regions(self) -> list[str]:
        names = self.regions.names()
        return [names[i] for i in np.flatnonzero(self.result.region_norms > 0)]


def build(settings: dict, penalty: Penalty, strength_key: str) -> TransferGroupRegression:
    """A TransferGroupRegression from a flat knob dict (the method's ``model:`` block with a grid point over it)."""
    knobs = dict(settings)
    regions = knobs.pop("regions", {}) or {}
    alm = knobs.pop("alm", {}) or {}
    strength = knobs.pop(strength_key)
    unknown = sorted(set(knobs) - {"lam", "standardize"})
    if unknown:
        raise ValueError(f"unknown model knobs {unknown}")
    if not isinstance(regions, RegionPyramid):
        regions = dict(regions)
        regions["levels"] = tuple(int(v) for v in regions.get("levels", (1, 2, 4, 8)) or ())
        regions = RegionPyramid(**regions)
    return TransferGroupRegression(lam=float(knobs.get("lam", 1.0)), penalty=penalty, strength=float(strength),
                                   standardize=bool(knobs.get("standardize", False)), regions=regions,
                                   alm=alm if isinstance(alm, ALMSettings) else ALMSettings(**dict(alm)))

