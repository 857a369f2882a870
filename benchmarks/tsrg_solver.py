"""TSRG's IALM solver: CPU time per solve at the CDMER stand-in's sizes, against the textbook form of the iteration.

The solver (lightning_modules/tsrg/solver.py) forms the smooth part's n x n inverse at each kappa and applies it
with one (n x n) by (n x D) product, in preallocated buffers; the textbook form (written out here, as the module
docstring states the update) rotates into the eigenbasis and back, two such products per iteration. Both run on
one BLAS thread (as the solver always does). Records CPU seconds (process time: meaningful on a busy machine),
iterations, and the largest difference between the two projections (they solve the same problem).

    PYTHONPATH=. python benchmarks/tsrg_solver.py [--sizes 250x160 164x71] [--dim 4425]
    -> benchmarks/results/tsrg_solver.json
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from core.io import write_json
from lightning_modules.tsrg.solver import DEFAULTS, soft_threshold, solve_tsrg

REPO = Path(__file__).resolve().parents[1]


def textbook(xs, k_source, k_delta, lam, mu, s=DEFAULTS):
    g = np.hstack([k_source, np.sqrt(lam) * k_delta[:, None]])
    d, u = np.linalg.eigh(g @ g.T)
    d = np.maximum(d, 0.0)
    rotated = u.T @ (k_source @ xs)
    p = np.full((k_source.shape[0], xs.shape[1]), s.init)
    t = p.copy()
    kappa = s.kappa0
    for iteration in range(1, s.max_iter + 1):
        q = u @ ((rotated + u.T @ (kappa * p + t) / 2) / (d + kappa / 2)[:, None])
        p = soft_threshold(q - t / kappa, mu / kappa)
        if np.abs(p - q).max() < s.tol:
            return p, iteration
        t += kappa * (p - q)
        kappa = min(s.kappa_max, s.rho * kappa)
    return p, s.max_iter


def problem(n_source: int, n_target: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    xs, xt = rng.random((n_source, dim)), rng.random((n_target, dim)) + 0.05
    both = np.vstack([xs, xt])
    sq = ((both[:, None, :] - both[None, :, :]) ** 2).sum(-1)
    kernel = np.exp(-sq / np.median(sq[sq > 0]))
    k_source, k_target = kernel[:, :n_source], kernel[:, n_source:]
    return xs, k_source, k_source.mean(1) - k_target.mean(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["250x160", "164x71"], help="n_source x n_target")
    parser.add_argument("--dim", type=int, default=4425, help="LBP-TOP dimension (5 x 5 blocks x 177)")
    parser.add_argument("--lam", type=float, default=100.0)
    parser.add_argument("--mu", type=float, default=0.01)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "tsrg_solver.json")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        n_source, n_target = (int(v) for v in size.split("x"))
        xs, k_source, k_delta = problem(n_source, n_target, args.dim)
        started = time.process_time()
        result = solve_tsrg(xs, k_source, k_delta, args.lam, args.mu)
        solver_cpu = time.process_time() - started
        started = time.process_time()
        with threadpool_limits(limits=1, user_api="blas"):
            reference, iterations = textbook(xs, k_source, k_delta, args.lam, args.mu)
        textbook_cpu = time.process_time() - started
        rows.append({"n_source": n_source, "n_target": n_target, "dim": args.dim, "lam": args.lam, "mu": args.mu,
                     "solver_cpu_seconds": round(solver_cpu, 2), "textbook_cpu_seconds": round(textbook_cpu, 2),
                     "speedup": round(textbook_cpu / solver_cpu, 2), "iterations": result.iterations,
                     "textbook_iterations": iterations,
                     "max_abs_difference": float(np.abs(result.projection - reference).max())})
        print(rows[-1], flush=True)
    write_json(args.out, {"about": __doc__.split("\n")[0], "rows": rows, "cpus": os.cpu_count(),
                          "machine": platform.machine(), "load_average": os.getloadavg()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
