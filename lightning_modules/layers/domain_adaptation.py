"""Classical (shallow) domain adaptation on feature vectors: CORAL, subspace alignment, TCA, KMM, and none.

The baselines of the cross-database micro-expression benchmark (datamodules/cross_database.py) on LBP-TOP. Each
adapter is fitted on labelled source features ``xs`` and UNLABELLED target features ``xt`` (none reads target
labels: it is never given them) and then maps samples of either domain into the space the classifier is trained
in: ``source(x)`` for source-domain samples (the training set, held-out source samples of source-only
cross-validation), ``target(x)`` for target-domain samples; an importance-weighting adapter (KMM) sets
``sample_weight`` for the training source samples instead. :class:`DomainAdaptedSVM` chains z-scoring, an adapter
and the suite's exact linear SVM (layers/svm.py: LinearSVC's optimum) with those weights.

Library check: the package index lists skada (0.6.0, 2026-06, scikit-learn-compatible), which has CORAL, subspace
alignment, TCA and KMM adapters and a circular (reverse) validation scorer; its requirements (numpy>=1.24,
scipy>=1.10, scikit-learn>=1.5, POT>=0.9.3, pandas>=2.3) fit the suite's pins, and it would add POT and skada to
them. Not adopted: the four methods
are 20-60 lines each here, the suite's selection contract (target labels never reach fitting; one fit function
shared by the honest selectors and the oracle, datamodules/cross_database.py) is simplest over the small interface
below, and whether skada's adapters avoid D x D matrices on 11,000-dimensional features was not checked.

Dimensions: LBP-TOP has about 11,000 dimensions and a database a few hundred clips, so nothing here forms a D x D
matrix: CORAL applies its matrix square roots through the thin SVD of each domain (exact; the covariance has rank
< n), subspace alignment takes PCA bases from thin SVDs, TCA and KMM work on n x n kernels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from lightning_modules.layers.svm import fit_dual_squared_hinge


class Adapter:
    """No adaptation (the source-only baseline): both domains pass unchanged, every source sample weighs 1."""

    name = "none"
    sample_weight: np.ndarray | None = None

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray) -> Adapter:
        return self

    def source(self, x: np.ndarray) -> np.ndarray:
        return x

    def target(self, x: np.ndarray) -> np.ndarray:
        return x


def _thin_spectrum(x: np.ndarray, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues, D x r eigenvectors) of the covariance ``x^T x / (n - 1)`` of centred rows ``x`` (r <= n)."""
    _, s, vt = linalg.svd(x, full_matrices=False)
    keep = s > tol * max(s.max(initial=0.0), 1.0)
    return s[keep] ** 2 / max(len(x) - 1, 1), vt[keep].T


def _apply_matrix_function(y: np.ndarray, values: np.ndarray, vectors: np.ndarray, ridge: float, power: float):
    """``y @ (C + ridge I)^power`` for ``C = vectors diag(values) vectors^T`` without forming the D x D matrix."""
    scale = (values + ridge) ** power - ridge**power
    return ((y @ vectors) * scale) @ vectors.T + ridge**power * y


@dataclass
class CORAL(Adapter):
    """CORrelation ALignment (Sun, Feng, Saenko, "Return of Frustratingly Easy Domain Adaptation", AAAI 2016).

    Faithful: the source features are whitened with ``(C_s + lambda I)^(-1/2)`` and re-coloured with
    ``(C_t + lambda I)^(1/2)`` (the paper's Algorithm 1 with lambda = 1, its identity regulariser: ``ridge``), and
    the classifier is trained on them and applied to the target features unchanged.
    Choice: ``center`` (default true) also removes each domain's own mean first (the paper aligns second-order
    statistics only; with features z-scored on the source, a target mean offset would otherwise remain).
    """

    ridge: float = 1.0
    center: bool = True
    name = "coral"

    def fit(self, xs, ys, xt):
        self.mean_s, self.mean_t = xs.mean(0), xt.mean(0)
        self.spectrum_s = _thin_spectrum(xs - self.mean_s)
        self.spectrum_t = _thin_spectrum(xt - self.mean_t)
        return self

    def source(self, x):
        x = x - self.mean_s if self.center else x
        whitened = _apply_matrix_function(x, *self.spectrum_s, self.ridge, -0.5)
        return _apply_matrix_function(whitened, *self.spectrum_t, self.ridge, 0.5)

    def target(self, x):
        return x - self.mean_t if self.center else x


@dataclass
class SubspaceAlignment(Adapter):
    """Subspace alignment (Fernando, Habrard, Sebban, Tuytelaars, ICCV 2013).

    Faithful: d-dimensional PCA bases ``P_s``, ``P_t`` of each domain; source samples are projected onto ``P_s`` and
    aligned by ``M = P_s^T P_t`` (``x P_s M``), target samples projected onto ``P_t``; the classifier is trained in
    that d-dimensional space. Choice: ``dim`` (the paper bounds d by a stability argument or picks it by source
    cross-validation; here a knob, selected like any hyper-parameter); each domain is centred on its own mean (PCA).
    """

    dim: int = 20
    name = "sa"

    def fit(self, xs, ys, xt):
        self.mean_s, self.mean_t = xs.mean(0), xt.mean(0)
        d = min(int(self.dim), len(xs) - 1, len(xt) - 1)
        if d < 1:
            raise ValueError("subspace alignment needs at least two samples in each domain")
        self.basis_s = linalg.svd(xs - self.mean_s, full_matrices=False)[2][:d].T
        self.basis_t = linalg.svd(xt - self.mean_t, full_matrices=False)[2][:d].T
        self.alignment = self.basis_s.T @ self.basis_t
        return self

    def source(self, x):
        return (x - self.mean_s) @ self.basis_s @ self.alignment

    def target(self, x):
        return (x - self.mean_t) @ self.basis_t


def rbf_kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-gamma * np.maximum(sq, 0.0))


def median_gamma(x: np.ndarray) -> float:
    """``1 / (2 sigma^2)`` with sigma the median pairwise distance (the usual heuristic)."""
    sq = (x * x).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2.0 * x @ x.T
    distances = np.sqrt(np.maximum(sq[np.triu_indices(len(x), 1)], 0.0))
    sigma = float(np.median(distances)) if len(distances) else 1.0
    return 1.0 / (2.0 * max(sigma, 1e-12) ** 2)


@dataclass
class TCA(Adapter):
    """Transfer component analysis (Pan, Tsang, Kwok, Yang, IEEE TNN 2011), unsupervised.

    Faithful: on the kernel matrix K of all source and target samples, the ``dim`` leading eigenvectors W of
    ``(K L K + mu I)^-1 K H K`` (L the MMD coefficient matrix, H the centring matrix); every sample, of either
    domain, is embedded as ``k(x, X) W``. Choices: linear kernel by default (``kernel: rbf`` uses the median
    heuristic bandwidth times ``gamma_scale``); ``dim`` 30 and ``mu`` 1 are starting points for selection.
    """

    dim: int = 30
    mu: float = 1.0
    kernel: str = "linear"
    gamma_scale: float = 1.0
    name = "tca"

    def _kernel(self, a, b):
        if self.kernel == "linear":
            return a @ b.T
        if self.kernel == "rbf":
            return rbf_kernel(a, b, self.gamma)
        raise ValueError(f"TCA kernel must be linear or rbf, got {self.kernel!r}")

    def fit(self, xs, ys, xt):
        self.support = np.vstack([xs, xt])
        self.gamma = median_gamma(self.support) * self.gamma_scale if self.kernel == "rbf" else 0.0
        ns, nt = len(xs), len(xt)
        n = ns + nt
        k = self._kernel(self.support, self.support)
        e = np.concatenate([np.full(ns, 1.0 / ns), np.full(nt, -1.0 / nt)])
        h = np.eye(n) - 1.0 / n
        # the constraint matrix K L K + mu I = v v^T + mu I (L = e e^T) is rank one plus identity: its inverse
        # square root is exact in closed form, so the generalised eigenproblem becomes an ordinary one that stays
        # well conditioned when K is large (a linear kernel on 11,000 dimensions) and mu small
        v = k @ e
        norm = float(np.linalg.norm(v))
        u = v / norm if norm > 0 else v
        root = np.eye(n) / np.sqrt(self.mu) + np.outer(u, u) * (1 / np.sqrt(self.mu + norm**2) - 1 / np.sqrt(self.mu))
        inner = root @ (k @ h @ k) @ root
        m = min(int(self.dim), n - 1)
        values, vectors = linalg.eigh((inner + inner.T) / 2, subset_by_index=(n - m, n - 1))
        self.components = root @ vectors[:, ::-1]
        return self

    def source(self, x):
        return self._kernel(x, self.support) @ self.components

    target = source


@dataclass
class KMM(Adapter):
    """Kernel mean matching (Huang, Smola, Gretton, Borgwardt, Schoelkopf, NIPS 2006): importance weights.

    Faithful: weights beta of the source samples minimise ``|| mean_i beta_i phi(xs_i) - mean_j phi(xt_j) ||^2`` in
    the RBF feature space subject to ``0 <= beta_i <= B`` and ``|sum beta_i - ns| <= ns * eps`` with the paper's
    ``eps = (sqrt(ns) - 1) / sqrt(ns)``; the classifier (here the linear SVM) is trained with them as sample weights.
    Choices: bandwidth by the median heuristic on the pooled samples times ``gamma_scale``; ``bound`` B = 1000 as
    in the paper's experiments; the QP solved by accelerated projected gradient (:func:`kmm_weights`), with
    1e-8 added to the kernel's diagonal.
    """

    bound: float = 1000.0
    gamma_scale: float = 1.0
    name = "kmm"

    def fit(self, xs, ys, xt):
        ns, nt = len(xs), len(xt)
        gamma = median_gamma(np.vstack([xs, xt])) * self.gamma_scale
        k = rbf_kernel(xs, xs, gamma) + 1e-8 * np.eye(ns)
        kappa = (ns / nt) * rbf_kernel(xs, xt, gamma).sum(1)
        eps = (np.sqrt(ns) - 1.0) / np.sqrt(ns)
        self.sample_weight = kmm_weights(k, kappa, self.bound, ns * (1 - eps), ns * (1 + eps))
        return self


def _project_box_band(v: np.ndarray, bound: float, low: float, high: float) -> np.ndarray:
    """Euclidean projection onto {0 <= b <= bound, low <= sum(b) <= high}: clip(v - tau) with the scalar tau
    found by bisection when the clipped sum leaves the band."""
    clipped = np.clip(v, 0.0, bound)
    total = clipped.sum()
    if low <= total <= high:
        return clipped
    goal = low if total < low else high
    lo, hi = v.min() - bound - 1.0, v.max() + 1.0  # sum(clip(v - lo)) >= goal >= sum(clip(v - hi)) = 0
    for _ in range(100):
        tau = 0.5 * (lo + hi)
        if np.clip(v - tau, 0.0, bound).sum() > goal:
            lo = tau
        else:
            hi = tau
    return np.clip(v - 0.5 * (lo + hi), 0.0, bound)


def kmm_weights(k: np.ndarray, kappa: np.ndarray, bound: float, low: float, high: float,
                max_iter: int = 5000, tol: float = 1e-9) -> np.ndarray:
    """argmin ``0.5 b^T K b - kappa^T b`` over ``0 <= b <= bound``, ``low <= sum(b) <= high`` by accelerated
    projected gradient (FISTA with restarts; step 1 / largest eigenvalue of K). The paper uses a generic QP
    solver; the optimum is the same (the problem is convex), this one takes O(n^2) per step."""
    step = 1.0 / max(float(linalg.eigvalsh(k, subset_by_index=(len(k) - 1, len(k) - 1))[0]), 1e-12)
    beta = _project_box_band(np.ones(len(k)), bound, low, high)
    momentum, t = beta.copy(), 1.0
    objective = lambda b: 0.5 * b @ k @ b - kappa @ b  # noqa: E731
    last = objective(beta)
    for _ in range(max_iter):
        new = _project_box_band(momentum - step * (k @ momentum - kappa), bound, low, high)
        value = objective(new)
        if value > last:  # restart the momentum when it overshoots
            momentum, t = beta.copy(), 1.0
            continue
        t_next = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        momentum = new + ((t - 1) / t_next) * (new - beta)
        converged = abs(last - value) <= tol * max(1.0, abs(value))
        beta, last, t = new, value, t_next
        if converged:
            break
    return beta


@dataclass
class GFK(Adapter):
    """Geodesic flow kernel (Gong, Shi, Sha, Grauman, CVPR 2012), the suite's own implementation (no maintained
    Python library of it fits the adapter interface).

    Faithful: d-dimensional PCA bases ``P_s``, ``P_t``; principal angles from ``P_s^T P_t = U1 diag(cos theta) V^T``;
    the closed-form kernel ``G = [P_s U1, R_s U2] [[L1, L2], [L2, L3]] [P_s U1, R_s U2]^T`` with
    ``L1 = 1 + sin(2 theta) / (2 theta)``, ``L2 = (cos(2 theta) - 1) / (2 theta)``, ``L3 = 1 - sin(2 theta) /
    (2 theta)`` (the limits 2, 0, 0 at theta = 0), which integrates the projections onto the subspaces along the
    geodesic between them. ``R_s U2`` is computed without the D x (D - d) complement, as ``-(P_t V - P_s U1 cos theta)
    / sin theta``. Samples are embedded by ``x B L^(1/2)`` (B the D x 2d basis), whose inner products are ``x G x'``,
    and classified by the linear SVM (the paper uses 1-NN; a choice, as the other adapters here). Choices: ``dim``
    (the paper's subspace disagreement measure is not used; a knob selected like any hyper-parameter); each domain
    is centred on its own mean before PCA and embedding.
    """

    dim: int = 20
    name = "gfk"

    def fit(self, xs, ys, xt):
        self.mean_s, self.mean_t = xs.mean(0), xt.mean(0)
        d = min(int(self.dim), len(xs) - 1, len(xt) - 1)
        if d < 1:
            raise ValueError("GFK needs at least two samples in each domain")
        ps = linalg.svd(xs - self.mean_s, full_matrices=False)[2][:d].T
        pt = linalg.svd(xt - self.mean_t, full_matrices=False)[2][:d].T
        u1, cos, vt = linalg.svd(ps.T @ pt)
        cos = np.clip(cos, -1.0, 1.0)
        theta = np.arccos(cos)
        sin = np.sin(theta)
        moving = sin > 1e-8
        complement = np.zeros_like(ps)
        complement[:, moving] = -(pt @ vt.T - ps @ u1 * cos)[:, moving] / sin[moving]
        two = np.where(moving, 2 * theta, 1.0)
        l1 = np.where(moving, 1 + np.sin(two) / two, 2.0)
        l2 = np.where(moving, (np.cos(two) - 1) / two, 0.0)
        l3 = np.where(moving, 1 - np.sin(two) / two, 0.0)
        middle = np.block([[np.diag(l1), np.diag(l2)], [np.diag(l2), np.diag(l3)]])
        values, vectors = linalg.eigh(middle)
        root = vectors * np.sqrt(np.maximum(values, 0.0)) @ vectors.T
        self.basis = np.hstack([ps @ u1, complement])
        self.embedding = self.basis @ root  # D x 2d: x -> x B M^(1/2)
        self.kernel_middle = middle
        return self

    def kernel(self) -> np.ndarray:
        """G itself (D x D; for tests and small D)."""
        return self.basis @ self.kernel_middle @ self.basis.T

    def source(self, x):
        return (x - self.mean_s) @ self.embedding

    def target(self, x):
        return (x - self.mean_t) @ self.embedding


ADAPTERS = {"none": Adapter, "coral": CORAL, "sa": SubspaceAlignment, "gfk": GFK, "tca": TCA, "kmm": KMM}


def make_adapter(name: str, **knobs) -> Adapter:
    """The adapter `name` (none | coral | sa | gfk | tca | kmm) and knobs; unknown names or knobs are ValueErrors."""
    if name not in ADAPTERS:
        raise ValueError(f"unknown adapter {name!r}; expected one of {', '.join(ADAPTERS)}")
    try:
        return ADAPTERS[name](**knobs)
    except TypeError as err:
        raise ValueError(f"adapter {name}: {err}") from None


# -- the classifier around an adapter -----------------------------------------------------------------------------


@dataclass
class LinearSVM:
    """LinearSVC's exact optimum (layers/svm.py) with optional per-sample weights; decision values ``x W^T + b``."""

    c: float = 1.0
    n_classes: int = 3
    weight: np.ndarray = field(default=None, repr=False)
    bias: np.ndarray = field(default=None, repr=False)

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> LinearSVM:
        coef = fit_dual_squared_hinge(x @ x.T, y, self.n_classes, self.c, sample_weight=sample_weight)
        self.weight, self.bias = (x.T @ coef).T, coef.sum(0)
        return self

    def decision(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weight.T + self.bias


@dataclass
class DomainAdaptedSVM:
    """z-score (source statistics) -> adapter -> linear SVM: a fitted model of the transductive protocol.

    ``standardize`` (default true, as lbptop_svm): every feature is z-scored with the SOURCE samples' mean and
    standard deviation (the target is transformed with the same statistics; per-domain statistics would already be
    an adaptation). Fit with :meth:`fit`; ``target_scores`` are the decision values of the target samples it was
    fitted with, :meth:`source_scores` those of other source-domain samples (held-out source subjects).
    """

    adapter: Adapter
    c: float = 1.0
    standardize: bool = True

    def fit(self, xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, n_classes: int) -> DomainAdaptedSVM:
        self.mean = xs.mean(0) if self.standardize else np.zeros(xs.shape[1])
        self.std = np.maximum(xs.std(0, ddof=1), 1e-6) if self.standardize and len(xs) > 1 else np.ones(xs.shape[1])
        zs, zt = self._z(xs), self._z(xt)
        self.adapter.fit(zs, ys, zt)
        self.svm = LinearSVM(self.c, n_classes).fit(self.adapter.source(zs), ys, self.adapter.sample_weight)
        self.target_scores = self.svm.decision(self.adapter.target(zt))
        return self

    def _z(self, x):
        return (x - self.mean) / self.std

    def source_scores(self, x: np.ndarray) -> np.ndarray:
        return self.svm.decision(self.adapter.source(self._z(x)))


def fit_adapted_svm(problem, params: dict, adapter: str = "none", standardize: bool = True) -> DomainAdaptedSVM:
    """A fit function of the transductive protocol (datamodules/cross_database.py ``FitFunction``): `params` holds
    the SVM's ``c`` and the adapter's knobs; `problem` is a TransductiveProblem (xs, ys, xt, n_classes)."""
    knobs = dict(params)
    c = float(knobs.pop("c", 1.0))
    model = DomainAdaptedSVM(make_adapter(adapter, **knobs), c, standardize)
    return model.fit(problem.xs, problem.ys, problem.xt, problem.n_classes)
