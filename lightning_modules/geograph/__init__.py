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
    "high-order stream's input, the form of the learned semantic adjacency (a free matrix with its own "
    "learning-rate scale; a per-sample dynamic part is a knob), the readout, the widths (2 blocks of 16 "
    "channels, sized for 2 CPU cores) and the AU-loss weighting are our choices, each a model.* knob (network.py, "
    "losses.py). Numbers on stand-ins say nothing about the paper's.",
    defaults_chosen="The semantic adjacency (learned) and its learning-rate scale (1.0) were chosen on inner "
    "validation (affect tune over learned/dynamic/both/none x lr scale 0.05/1.0, validation subjects drawn from "
    "the training subjects of 5 outer folds, on an independent composite stand-in draw): valid UF1 learned 0.535, "
    "both 0.489, none 0.461, dynamic 0.458. Widths, epochs (15), lr 5e-3 and the AU-loss weight are not recorded "
    "(no selection on record).",
)
