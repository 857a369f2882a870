"""RSTR as a fitted model of the transductive cross-database protocol: the transfer group-sparse regression of
lightning_modules/layers/transfer_regression.py with the group-lasso region penalty (weight ``mu``)."""

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
class RSTR:
    """RSTR's knobs (the method's YAML ``model:`` block; this dataclass is their schema)."""

    lam: float = 1.0  # weight of the mean-matching (linear-kernel MMD) term
    mu: float = 0.01  # weight of the group-lasso region penalty
    standardize: bool = False
    regions: RegionPyramid = field(default_factory=RegionPyramid)
    alm: ALMSettings = field(default_factory=ALMSettings)


def fit_rstr(problem, params: dict, **knobs) -> TransferGroupRegression:
    """A fit function of the transductive protocol: `params` (the grid point) over `knobs` (the fixed settings)."""
    model = build({**knobs, **params}, "group_lasso", "mu")
    return model.fit(problem.xs, problem.ys, problem.xt, problem.n_classes)


fit_rstr.model_block = ModelBlock(network=RSTR)
