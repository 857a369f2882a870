"""RSTR's fit function for the transductive cross-database protocol: the shared transfer regression
(lightning_modules/layers/transfer_regression.py) with RSTR's knobs (multi-scale regions, no element-wise L1)."""

from __future__ import annotations

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.transfer_regression import TransferRegression, fit_transfer_regression


def fit_rstr(problem, params: dict, **knobs) -> TransferRegression:
    return fit_transfer_regression(problem, params, **knobs)


fit_rstr.model_block = ModelBlock(network=TransferRegression)
