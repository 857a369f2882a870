from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="strnn",
    task="eeg",
    module="lightning_modules.strnn.module",
    cls="STRNNModule",
    inputs=("de",),
    paper="Zhang, Zheng, Cui, Zong and Li, Spatial-Temporal Recurrent Neural Network for Emotion Recognition "
    "(STRNN), IEEE Trans. Cybernetics 2019 (arXiv 1705.04515)",
    summary="multi-directional spatial RNN over the electrode grid per window -> sparse projection -> "
    "bi-directional temporal RNN over consecutive windows of the trial -> sparse projection -> classifier",
    faithfulness="Built from the abstract only: the spatial RNN traverses the electrodes in two grid orders "
    "(row-major and column-major), each bi-directionally (four directions), with a sparse (L1-penalised) projection "
    "of its hidden states over electrodes; a bi-directional GRU over the `data.context` most recent windows of the "
    "same trial with a sparse projection over time. GRU cells, the traversal orders, the widths, the context length "
    "and the L1 weight are our choices (module.py).",
    defaults_chosen="Fixed a priori, not tuned on any test fold: context 4 windows, spatial 16, temporal 32, 8 "
    "projected electrodes, L1 1e-3, dropout 0.5, Adam lr 1e-3, weight decay 1e-4, batch 64, 8 epochs (CPU budget; "
    "no validation split).",
)
