"""TGSR's fit function for the transductive cross-database protocol: the shared transfer regression
(lightning_modules/layers/transfer_regression.py) with TGSR's knobs (single-scale regions plus an element-wise L1)."""

from __future__ import annotations

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.transfer_regression import TransferRegression, fit_transfer_regression


def fit_tgsr(problem, params: dict, **knobs) -> TransferRegression:
    return fit_transfer_regression(problem, params, **knobs)


fit_tgsr.model_block = ModelBlock(network=TransferRegression)
