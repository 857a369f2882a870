"""TSRG's optimisation problem and its inexact augmented Lagrangian (IALM) solver.

With X_s (D x n_s) the source features, K_s = k(all samples, source samples) ((n_s + n_t) x n_s),
K_t = k(all samples, target samples) ((n_s + n_t) x n_t) and the kernel mean difference
``k_delta = K_s 1 / n_s - K_t 1 / n_t``, TSRG learns the (n_s + n_t) x D projection

    min_P  || X_s - P^T K_s ||_F^2  +  lambda || P^T k_delta ||^2  +  mu || P ||_1

(regression of the source features on the kernel, a mean-matching term that makes regenerated target samples
share the source mean, an L1 penalty making P sparse) and regenerates a target sample as ``P^T k(all, x_t)``.

IALM (the variable split P = Q, multiplier T, penalty kappa): with ``G = [K_s, sqrt(lambda) k_delta]`` and
``G G^T = U diag(d) U^T`` computed once,

    Q <- U diag(1 / (d + kappa / 2)) U^T (K_s X_s^T + (kappa P + T) / 2)    (the smooth part, closed form)
    P <- soft_threshold(Q - T / kappa, mu / kappa)                           (the L1 part)
    stop when max |P - Q| < tol; else T <- T + kappa (P - Q), kappa <- min(rho kappa, kappa_max)

The knobs' defaults are the public TSRG code's (IALM_TSRG.m in the authors' "Codes of DR" release, read as facts:
rho 1.1, kappa0 1e-3, kappa_max 1e15, tol 1e-8, at most 1e6 iterations, P and T started at all ones). The cost is
one (n x n) by (n x D) product and one n x n x n product per iteration (the inverse of the smooth part at the
current kappa, formed from the eigenvectors), and the number of iterations is set by kappa's growth: about
log(kappa_stop / kappa0) / log(rho).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from threadpoolctl import threadpool_limits

# the solver's knobs (``model.ialm``): one dataclass with RSTR's and TGSR's solver, under TSRG's name
from lightning_modules.layers.transfer_regression import ALMSettings as IALMSettings

DEFAULTS = IALMSettings()

__all__ = ["IALMResult", "IALMSettings", "soft_threshold", "solve_tsrg", "tsrg_objective"]


@dataclass(frozen=True)
class IALMResult:
    projection: np.ndarray  # P, (n_s + n_t) x D
    iterations: int
    converged: bool
    residual: float  # max |P - Q| at the end


def soft_threshold(x: np.ndarray, threshold: float) -> np.ndarray:
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def tsrg_objective(projection, xs, k_source, k_delta, lam: float, mu: float) -> float:
    """The TSRG objective at P (xs: n_s x D samples in rows, k_source: (n_s + n_t) x n_s, k_delta: (n_s + n_t,))."""
    fit = xs.T - projection.T @ k_source
    return float((fit**2).sum() + lam * ((projection.T @ k_delta) ** 2).sum() + mu * np.abs(projection).sum())


def solve_tsrg(xs: np.ndarray, k_source: np.ndarray, k_delta: np.ndarray, lam: float, mu: float,
               settings: IALMSettings = DEFAULTS) -> IALMResult:
    """Minimise :func:`tsrg_objective` by IALM (module docstring). ``xs`` holds the source samples in ROWS."""
    settings.check()
    if lam < 0 or mu < 0:
        raise ValueError(f"lambda and mu must be >= 0, got {lam}, {mu}")
    with threadpool_limits(limits=1, user_api="blas"):  # shared, busy machines: threads only contend
        return _ialm(np.asarray(xs, np.float64), np.asarray(k_source, np.float64), np.asarray(k_delta, np.float64),
                     float(lam), float(mu), settings)


def _ialm(xs, k_source, k_delta, lam, mu, s: IALMSettings) -> IALMResult:
    n, dim = k_source.shape[0], xs.shape[1]
    g = np.hstack([k_source, np.sqrt(lam) * k_delta[:, None]])
    d, u = linalg.eigh(g @ g.T)
    d = np.maximum(d, 0.0)
    target = k_source @ xs  # K_s X_s^T, fixed
    projection = np.full((n, dim), s.init)
    multiplier = np.full((n, dim), s.init)
    rhs, q, work = np.empty((n, dim)), np.empty((n, dim)), np.empty((n, dim))  # reused: no n x D allocations
    kappa, residual = s.kappa0, np.inf
    for iteration in range(1, s.max_iter + 1):
        # Q = U diag(1 / (d + kappa/2)) U^T (K_s X_s^T + (kappa P + T) / 2): the n x n inverse is formed first
        # (n^3), so each iteration costs one (n x n) by (n x D) product instead of two (D >> n for LBP-TOP)
        inverse = (u / (d + kappa / 2)) @ u.T
        np.multiply(projection, kappa / 2, out=rhs)
        rhs += multiplier / 2
        rhs += target
        np.matmul(inverse, rhs, out=q)
        # P = soft_threshold(Q - T / kappa, mu / kappa), written as v - clip(v, -t, t) (the same numbers)
        np.divide(multiplier, -kappa, out=work)
        work += q
        threshold = mu / kappa
        np.clip(work, -threshold, threshold, out=projection)
        np.subtract(work, projection, out=projection)
        np.subtract(projection, q, out=work)  # the gap P - Q
        residual = float(max(work.max(), -work.min()))
        if residual < s.tol:
            return IALMResult(projection, iteration, True, residual)
        work *= kappa
        multiplier += work
        kappa = min(s.kappa_max, s.rho * kappa)
    return IALMResult(projection, s.max_iter, False, residual)
