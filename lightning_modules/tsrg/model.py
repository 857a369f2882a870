"""TSRG as a fitted model of the transductive cross-database protocol (datamodules/cross_database.py).

Fit: (optionally z-score with source statistics) -> kernels between all samples and the source / target samples
-> P by IALM (solver.py) -> regenerated target ``P^T K_t`` -> a linear SVM trained on the ORIGINAL source features
predicts the regenerated target samples. Source samples are never regenerated (TSRG maps the target into the
source's feature distribution), so held-out source samples are scored by the SVM directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.domain_adaptation import LinearSVM, median_gamma, rbf_kernel
from lightning_modules.tsrg.solver import IALMResult, IALMSettings, solve_tsrg


@dataclass
class TSRG:
    """Target Sample Re-Generator (Zong, Huang, Zheng, Cui, Zhao, ACM MM 2017); knobs as in the method's YAML."""

    lam: float = 1.0
    mu: float = 0.01
    c: float = 1.0
    kernel: str = "linear"
    gamma_scale: float = 1.0
    standardize: bool = False
    pool_blocks: int = 1
    lbptop_bins: int = 59
    ialm: IALMSettings = field(default_factory=IALMSettings)

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.kernel == "linear":
            return a @ b.T
        if self.kernel == "rbf":
            return rbf_kernel(a, b, self.gamma)
        raise ValueError(f"TSRG kernel must be linear or rbf, got {self.kernel!r}")

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, n_classes: int) -> TSRG:
        xs, xt = self.pool(xs), self.pool(xt)
        self.mean = xs.mean(0) if self.standardize else np.zeros(xs.shape[1])
        self.std = np.maximum(xs.std(0, ddof=1), 1e-6) if self.standardize else np.ones(xs.shape[1])
        zs, zt = (xs - self.mean) / self.std, (xt - self.mean) / self.std
        support = np.vstack([zs, zt])
        self.gamma = median_gamma(support) * self.gamma_scale if self.kernel == "rbf" else 0.0
        k_source, k_target = self._kernel(support, zs), self._kernel(support, zt)
        k_delta = k_source.mean(1) - k_target.mean(1)
        self.result: IALMResult = solve_tsrg(zs, k_source, k_delta, self.lam, self.mu, self.ialm)
        self.regenerated = (self.result.projection.T @ k_target).T  # (n_t, D), in the source's feature space
        self.svm = LinearSVM(self.c, n_classes).fit(zs, ys)
        self.target_scores = self.svm.decision(self.regenerated)
        return self

    def source_scores(self, x: np.ndarray) -> np.ndarray:
        return self.svm.decision((self.pool(x) - self.mean) / self.std)

    def pool(self, x: np.ndarray) -> np.ndarray:
        """LBP-TOP on a coarser block grid: the mean of each ``pool_blocks`` x ``pool_blocks`` group of block
        histograms (layout: block row, block column, plane XY/XT/YT, ``lbptop_bins`` bins; preprocessing/lbptop.py),
        which is the histogram of the merged block when the blocks are equal (they differ by at most a pixel).
        1 keeps the features. A speed knob: IALM's cost grows with the dimension (8x8 -> 4x4 blocks: 4x faster)."""
        factor = int(self.pool_blocks)
        if factor == 1:
            return x
        per_block = 3 * int(self.lbptop_bins)
        side = int(round(np.sqrt(x.shape[1] / per_block)))
        if factor < 1 or side * side * per_block != x.shape[1] or side % factor:
            raise ValueError(f"model.pool_blocks={factor}: features of dimension {x.shape[1]} are not a square grid "
                             f"of blocks of 3 x {self.lbptop_bins} bins whose side divides by {factor} "
                             "(model.lbptop_bins must match preprocess.features.lbptop)")
        grid = x.reshape(len(x), side // factor, factor, side // factor, factor, per_block)
        return grid.mean(axis=(2, 4)).reshape(len(x), -1)


def fit_tsrg(problem, params: dict, **knobs) -> TSRG:
    """A fit function of the transductive protocol: `params` (the grid point: lam, mu, c, ...) over `knobs` (the
    method's fixed settings); `problem` a TransductiveProblem."""
    settings = {**knobs, **params}
    ialm = settings.pop("ialm", {})
    model = TSRG(**settings, ialm=ialm if isinstance(ialm, IALMSettings) else IALMSettings(**dict(ialm)))
    return model.fit(problem.xs, problem.ys, problem.xt, problem.n_classes)


# `model:` is the TSRG dataclass's fields (typed by it, ialm a nested dataclass): checked like every method's
fit_tsrg.model_block = ModelBlock(network=TSRG)
