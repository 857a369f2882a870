"""Dual stream independence decoupling for masked (disguised) emotions: true-emotion and disguised-expression
streams decoupled by two cross-entropies and an HSIC independence term, on the apex frame (or, for the comparison
the paper makes, on the onset clip). Files: network.py (the two streams), module.py (the loss group).

Inputs: `apex`, `onset` and `frames` are declared, because the paradigm (`model.paradigm`) and the apex input
(`model.apex_input`) are config knobs of one method and the registry's input list is per method; the apex
paradigm never reads `frames`, and reads `onset` only with `apex_input: difference`.
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="masked_decoupling",
    task="masked",
    module="lightning_modules.masked_decoupling.module",
    cls="MaskedDecouplingModule",
    inputs=("apex", "onset", "frames"),
    paper="Recognizing true emotions from masked expressions: apex-frame paradigm and dual stream independence "
    "decoupling, arXiv 2603.16760",
    summary="two streams (true emotion, disguised expression) on the apex frame; CE + CE + HSIC decoupling",
    faithfulness="Built from the abstract (the full text was not available): the stream backbone (a small CNN "
    "trained from scratch, or a randomly initialised ResNet-18; no pretrained weights here), the feature size, "
    "the HSIC estimator (unbiased, Gaussian kernels, median bandwidth) and its weight, the class weighting and "
    "the onset-clip encoder are our choices (network.py, module.py). masked_decoupling-difference feeds apex "
    "minus the (still neutral) onset frame instead of the apex frame: not the paper's input. The paper's "
    "masked-expression dataset is not public here; results are on the suite's synthetic masked stand-in only.",
)
