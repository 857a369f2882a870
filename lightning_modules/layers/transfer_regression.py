"""Transfer group-sparse regression over facial-region blocks of LBP-TOP: the shared model and solver of RSTR
(lightning_modules/rstr/) and TGSR (lightning_modules/tgsr/).

Both methods (Zong et al.'s CDMER benchmark, arXiv 1812.07742, and the TGSR paper, 2021; only their abstracts were
readable here, shared/seeds/papers-group.txt) regress the one-hot source labels on the source features with a
projection U whose rows are grouped by facial region (the LBP-TOP blocks), penalise each region's rows with its
Frobenius norm (group sparsity: whole regions drop out, the "region selection") and add a term that makes the
source and target projections share their mean (the linear-kernel MMD). With X_s (n_s x D, source rows centred on
the source mean), Y_s (n_s x C, one-hot minus its column means), ``delta = mean(X_t) - mean(X_s)`` and the region
groups g with weights w_g:

    min_U  || Y_s - X_s U ||_F^2  +  lambda || delta U ||^2  +  mu sum_g w_g || U_g ||_F  +  l1 || U ||_1

``l1`` > 0 is the sparse-group variant (selects features inside the kept regions too). Prediction of any sample x:
``(x - mean(X_s)) U + mean(Y_s)``, argmax over classes.

Solver: inexact ALM as TSRG's (lightning_modules/tsrg/solver.py), split U = Q, multiplier T, penalty kappa:

    Q <- (G G^T + kappa/2 I)^-1 (X_s^T Y_s + (kappa P + T) / 2),   G = [X_s^T, sqrt(lambda) delta^T]  (D x (n_s+1))
    P <- prox of (mu sum_g w_g ||.||_F + l1 ||.||_1) / kappa at Q - T / kappa   (soft threshold, then group shrink)
    stop when max |P - Q| < tol; else T <- T + kappa (P - Q), kappa <- min(rho kappa, kappa_max)

The inverse uses G's thin SVD once (D is ~10^4 for 8x8 blocks, n_s ~ 10^2): ``(G G^T + c I)^-1 = W diag(1/(s^2 + c))
W^T + (I - W W^T) / c``, so an iteration costs a few D x n products. The knobs' defaults are TSRG's public code's
(rho 1.1, kappa0 1e-3, kappa_max 1e15, tol 1e-8); neither paper's solver constants were readable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class SolverSettings:
    """``model.solver`` in the methods' YAML (the IALM knobs)."""

    rho: float = 1.1
    kappa0: float = 1e-3
    kappa_max: float = 1e15
    tol: float = 1e-8
    max_iter: int = 100_000

    def check(self) -> None:
        if not (self.rho > 1 and self.kappa0 > 0 and self.kappa_max >= self.kappa0 and self.tol > 0
                and self.max_iter >= 1):
            raise ValueError(f"model.solver {self}: expected rho > 1, 0 < kappa0 <= kappa_max, tol > 0, "
                             "max_iter >= 1")


@dataclass(frozen=True)
class RegressionResult:
    projection: np.ndarray  # U, D x C
    iterations: int
    converged: bool
    residual: float


def region_groups(dim: int, grid: int, per_block: int) -> np.ndarray:
    """The region index of every feature of an LBP-TOP vector laid out block row, block column, then the block's
    ``per_block`` values (preprocessing/lbptop.py); ``grid`` x ``grid`` blocks."""
    if grid * grid * per_block != dim:
        raise ValueError(f"features of dimension {dim} are not {grid} x {grid} blocks of {per_block} values "
                         "(model.lbptop_bins / the LBP-TOP grid must match preprocess.features.lbptop)")
    return np.repeat(np.arange(grid * grid), per_block)


def group_shrink(x: np.ndarray, groups: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Block soft-thresholding: each group's rows scaled by max(0, 1 - t_g / ||x_g||_F)."""
    norms = np.sqrt(np.bincount(groups, weights=(x**2).sum(1), minlength=len(thresholds)))
    scale = np.maximum(0.0, 1.0 - thresholds / np.maximum(norms, 1e-300))
    return x * scale[groups][:, None]


def objective(u, xs, ys, delta, groups, weights, lam, mu, l1) -> float:
    norms = np.sqrt(np.bincount(groups, weights=(u**2).sum(1), minlength=len(weights)))
    return float(((ys - xs @ u) ** 2).sum() + lam * ((delta @ u) ** 2).sum() + mu * (weights * norms).sum()
                 + l1 * np.abs(u).sum())


def solve(xs: np.ndarray, ys: np.ndarray, delta: np.ndarray, groups: np.ndarray, weights: np.ndarray,
          lam: float, mu: float, l1: float = 0.0, settings: SolverSettings = SolverSettings()) -> RegressionResult:
    """Minimise :func:`objective` by IALM (module docstring); xs centred (n_s x D), ys centred (n_s x C)."""
    settings.check()
    if min(lam, mu, l1) < 0:
        raise ValueError(f"lambda, mu and l1 must be >= 0, got {lam}, {mu}, {l1}")
    with threadpool_limits(limits=1, user_api="blas"):
        return _ialm(np.asarray(xs, np.float64), np.asarray(ys, np.float64), np.asarray(delta, np.float64),
                     np.asarray(groups), np.asarray(weights, np.float64), float(lam), float(mu), float(l1), settings)


def _ialm(xs, ys, delta, groups, weights, lam, mu, l1, s: SolverSettings) -> RegressionResult:
    dim, n_classes = xs.shape[1], ys.shape[1]
    g = np.hstack([xs.T, np.sqrt(lam) * delta[:, None]])
    w, sv, _ = np.linalg.svd(g, full_matrices=False)
    keep = sv > sv.max() * 1e-12 if sv.size else sv.astype(bool)
    w, sq = w[:, keep], sv[keep] ** 2
    xty = xs.T @ ys
    p = np.zeros((dim, n_classes))
    t = np.zeros((dim, n_classes))
    kappa, residual = s.kappa0, np.inf
    for iteration in range(1, s.max_iter + 1):
        c = kappa / 2
        rhs = xty + (kappa * p + t) / 2
        proj = w.T @ rhs
        q = w @ (proj / (sq + c)[:, None]) + (rhs - w @ proj) / c
        z = q - t / kappa
        if l1 > 0:
            z = np.sign(z) * np.maximum(np.abs(z) - l1 / kappa, 0.0)
        p = group_shrink(z, groups, mu * weights / kappa)
        gap = p - q
        residual = float(np.abs(gap).max())
        if residual < s.tol:
            return RegressionResult(p, iteration, True, residual)
        t += kappa * gap
        kappa = min(s.kappa_max, s.rho * kappa)
    return RegressionResult(p, s.max_iter, False, residual)


def pool_blocks(x: np.ndarray, grid: int, factor: int, per_block: int) -> np.ndarray:
    """LBP-TOP on a coarser grid: the mean of each factor x factor group of block histograms (as TSRG.pool)."""
    if factor == 1:
        return x
    if grid % factor:
        raise ValueError(f"a grid of {grid} blocks does not divide into regions of {factor} x {factor} blocks")
    cells = x.reshape(len(x), grid // factor, factor, grid // factor, factor, per_block)
    return cells.mean(axis=(2, 4)).reshape(len(x), -1)


def block_grid(dim: int, per_block: int) -> int:
    side = int(round(np.sqrt(dim / per_block)))
    if side * side * per_block != dim:
        raise ValueError(f"features of dimension {dim} are not a square grid of blocks of {per_block} values "
                         "(model.lbptop_bins must match preprocess.features.lbptop)")
    return side


@dataclass
class TransferRegression:
    """The fitted model both methods share. ``scales``: region sizes in blocks (1 = the LBP-TOP blocks; [1, 2, 4]
    adds coarser regions built by pooling, each its own groups); ``region_weight``: w_g = 1 (``uniform``) or
    sqrt(group size) (``sqrt_size``, the group lasso's usual weight)."""

    lam: float = 1.0
    mu: float = 1.0
    l1: float = 0.0
    scales: tuple = (1,)
    region_weight: str = "sqrt_size"
    lbptop_bins: int = 59
    standardize: bool = False
    solver: SolverSettings = SolverSettings()

    def features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_block = 3 * int(self.lbptop_bins)
        grid = block_grid(x.shape[1], per_block)
        parts, groups, offset = [], [], 0
        for factor in self.scales:
            pooled = pool_blocks(x, grid, int(factor), per_block)
            side = grid // int(factor)
            parts.append(pooled)
            groups.append(region_groups(pooled.shape[1], side, per_block) + offset)
            offset += side * side
        return np.hstack(parts), np.concatenate(groups)

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, n_classes: int) -> TransferRegression:
        if self.region_weight not in ("uniform", "sqrt_size"):
            raise ValueError(f"model.region_weight must be uniform or sqrt_size, got {self.region_weight!r}")
        fs, self.groups = self.features(xs)
        ft, _ = self.features(xt)
        self.mean = fs.mean(0)
        self.std = np.maximum(fs.std(0, ddof=1), 1e-6) if self.standardize else np.ones(fs.shape[1])
        zs, zt = (fs - self.mean) / self.std, (ft - self.mean) / self.std
        onehot = np.eye(n_classes)[np.asarray(ys, int)]
        self.y_mean = onehot.mean(0)
        sizes = np.bincount(self.groups).astype(np.float64)
        weights = np.sqrt(sizes) if self.region_weight == "sqrt_size" else np.ones_like(sizes)
        weights = weights / weights.mean()  # mu's scale independent of the region size
        self.result = solve(zs, onehot - self.y_mean, zt.mean(0), self.groups, weights, self.lam, self.mu, self.l1,
                            self.solver)
        self.target_scores = zt @ self.result.projection + self.y_mean
        return self

    @property
    def region_norms(self) -> np.ndarray:
        """||U_g||_F per region: zero for the regions the group penalty dropped."""
        u = self.result.projection
        return np.sqrt(np.bincount(self.groups, weights=(u**2).sum(1)))

    def source_scores(self, x: np.ndarray) -> np.ndarray:
        f, _ = self.features(x)
        return ((f - self.mean) / self.std) @ self.result.projection + self.y_mean


def fit_transfer_regression(problem, params: dict, **knobs) -> TransferRegression:
    """A fit function of the transductive protocol: the grid point over the method's fixed knobs."""
    settings = {**knobs, **params}
    solver = settings.pop("solver", {})
    solver = solver if isinstance(solver, SolverSettings) else SolverSettings(**dict(solver))
    settings["scales"] = tuple(int(v) for v in settings.get("scales", (1,)))
    model = TransferRegression(**settings, solver=solver)
    return model.fit(problem.xs, problem.ys, problem.xt, problem.n_classes)
