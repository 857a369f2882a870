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
)
