"""TGSR as a fitted model of the transductive cross-database protocol: the transfer group-sparse regression of
lightning_modules/layers/transfer_regression.py with the fixed-number region rule (``k`` regions survive)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.transfer_regression import (
    ALMSettings,
    RegionPyramid,
    TransferGroupRegression,
    build,
)


@dataclass(frozen=True)
class TGSR:
    """TGSR's knobs (the method's YAML ``model:`` block; this dataclass is their schema)."""

    lam: float = 0.5  # weight of the mean-matching term (the public code's grid: 0 .. 1, step 0.05)
    k: int = 40  # number of facial regions kept (the public code's grid: 1 .. 85)
    standardize: bool = False
    regions: RegionPyramid = field(default_factory=RegionPyramid)
    alm: ALMSettings = field(default_factory=ALMSettings)


def fit_tgsr(problem, params: dict, **knobs) -> TransferGroupRegression:
    """A fit function of the transductive protocol: `params` (the grid point) over `knobs` (the fixed settings)."""
    model = build({**knobs, **params}, "top_k", "k")
    return model.fit(problem.xs, problem.ys, problem.xt, problem.n_classes)


fit_tgsr.model_block = ModelBlock(network=TGSR)
