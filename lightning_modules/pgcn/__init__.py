from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="pgcn",
    task="eeg",
    module="lightning_modules.pgcn.module",
    cls="PGCNModule",
    inputs=("de",),
    paper="Zhou, Li, Li et al., Progressive Graph Convolution Network for EEG Emotion Recognition (PGCN), "
    "Neurocomputing 2023 (arXiv 2112.09069)",
    summary="dual graph (static grid proximity + per-sample dynamic functional) GCN -> coarse head -> fine head",
    faithfulness="Built from the abstract only: the dual-graph module (a fixed proximity graph and a dynamic "
    "functional graph computed per sample from learned node embeddings), the dual-head coarse-to-fine classifier "
    "(the fine head reads the coarse head's output) and the loss weight are our reading; the coarse grouping of "
    "SEED's three classes (neutral vs emotional), the graph widths and the functional-graph form are our choices "
    "(module.py), each a model.* knob. The paper reports SEED-IV and MPED, not SEED.",
    defaults_chosen="Fixed a priori, not tuned on any test fold: 32 hidden, order 2 on both graphs, embedding 16, "
    "pointwise 16, coarse weight 0.5, dropout 0.5, Adam lr 1e-3, weight decay 1e-4, batch 64, 12 epochs (the "
    "default pipeline's CPU budget; no validation split). The readout (flatten over electrodes vs mean / max "
    "pooling) was first changed after a test-fold score; it was re-chosen on inner validation (training trials of "
    "the SEED / SEED-IV stand-ins, subjects of a calibration draw; benchmarks/pgcn_readout.py): flatten.",
)
