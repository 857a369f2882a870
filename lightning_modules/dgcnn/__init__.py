from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="dgcnn",
    task="eeg",
    module="lightning_modules.dgcnn.module",
    cls="DGCNNModule",
    inputs=("de",),
    paper="Song, Zheng, Song and Cui, EEG Emotion Recognition Using Dynamical Graph Convolutional Neural Networks, "
    "IEEE Trans. Affective Computing 11(3), 2020 (online 2018), DOI 10.1109/TAFFC.2018.2817622",
    summary="learnable electrode adjacency (ReLU-kept non-negative) -> Chebyshev graph convolution -> 1x1 -> FC",
    faithfulness="Built from the published description as we know it (no code read): the adjacency is a free "
    "62x62 matrix trained with the network and kept non-negative by a ReLU, the Chebyshev order K and the "
    "graph-conv -> 1x1 conv -> fully-connected layout follow the paper's structure; the adjacency's initialisation "
    "(our grid proximity, lightning_modules/layers/eeg_graph.py), lambda_max = 2, the widths, dropout, the L1 "
    "penalty on the adjacency and the optimiser settings are our choices (module.py), each a model.* knob.",
    defaults_chosen="Fixed a priori, not tuned on any test fold: K=3, 32 graph filters, 1x1 to 16, dropout 0.5, "
    "Adam lr 1e-3, weight decay 1e-4, batch 64, 12 epochs (the CPU budget of the default pipeline; no validation "
    "split, so the epoch budget is fixed a priori).",
)
