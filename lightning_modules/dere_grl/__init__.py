from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="dere_grl",
    task="mer",
    module="lightning_modules.dere_grl.module",
    cls="DeReGRLModule",
    inputs=("landmarks",),
    paper="Wei et al., Prior Information based Decomposition and Reconstruction Learning for Micro-Expression "
    "Recognition (DeRe-GRL), arXiv 2303.01776",
    summary="landmark graph backbone -> action decomposition by facial component -> relation reconstruction",
    faithfulness="Built from the abstract: the graph backbone (the separable landmark-graph blocks shared with the "
    "geometric graph network), the five component landmark sets, the softmax-normalised map matrix and "
    "relation weights, the residual form of the reconstruction and the 10x learning rate of the structure "
    "are our choices, each a model.* knob (network.py).",
    defaults_chosen="Fixed a priori, reasons in network.py: map-matrix and relation logits at 10x the learning rate "
    "(they act through softmaxes, so must move by O(1)), balanced class weights (imbalanced data, UF1/UAR weigh "
    "classes equally; as geograph). Not recorded (no selection on record): 6 actions of 16 channels, backbone 16/32 "
    "channels, dropout 0.3, Adam lr 5e-3, weight decay 1e-4, batch 32, and 15 epochs (no validation split: the epoch "
    "budget is fixed a priori).",
)
