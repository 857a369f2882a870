from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="rrrn",
    task="mer",
    module="lightning_modules.rrrn.module",
    cls="RRRNModule",
    inputs=("flow", "landmarks"),
    paper="Mao, Zhou, Zheng et al., Region attention and graph embedding network for occlusion objective "
    "class-based micro-expression recognition (RRRN), 2020",
    summary="occlusion-robust MER: landmark regions of a flow CNN, region-inspired attention, graph relation "
    "reasoning; MEGC2018 objective classes",
    faithfulness="Built from the abstract only: backbone over facial regions, a per-region attention weight (RI) and "
    "graph convolutions over regions (RR). Layer sizes, the region list, the input (we feed the onset->apex "
    "optical flow with its magnitude; the paper may use apex frames) and the graph (learned from feature "
    "similarity) are our choices, all knobs in experiments/_defaults/methods/rrrn.yaml. Trained from scratch on "
    "CPU; the paper's backbone may be pretrained.",
    defaults_chosen="Fixed a priori, never tuned on test folds: 12 landmark regions + a whole-face node, 3x3 "
    "patches of a 3-stage CNN, 64 hidden units, 2 GCN layers, Adam lr 1e-3, 30 epochs, batch 32 (as the suite's "
    "other small CPU networks).",
)
