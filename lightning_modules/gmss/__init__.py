from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="gmss",
    task="eeg",
    module="lightning_modules.gmss.module",
    cls="GMSSModule",
    inputs=("de",),
    paper="Li, Chen, Li et al., GMSS: Graph-Based Multi-Task Self-Supervised Learning for EEG Emotion Recognition, "
    "IEEE Trans. Affective Computing 2022 (arXiv 2205.01030)",
    summary="learnable-graph Chebyshev backbone trained on emotion + spatial jigsaw + frequency jigsaw + contrastive",
    faithfulness="Built from the abstract only (the authors' repository was not read for this version): one "
    "shared graph backbone (DGCNN's learnable-adjacency Chebyshev layer), a spatial jigsaw task (five front-to-back "
    "electrode groups shuffled by one of a fixed set of permutations, the permutation predicted), a frequency "
    "jigsaw task (the five bands shuffled likewise) and an NT-Xent contrastive task between the two jigsaw views "
    "of a window, all trained jointly with the emotion loss. The grouping, the permutation sets, the heads, the "
    "temperature and the loss weights are our choices (module.py).",
    defaults_chosen="Fixed a priori, not tuned on any test fold: 6 permutations per jigsaw, weights 0.5 / 0.5 / "
    "0.2, temperature 0.5, backbone as DGCNN's defaults (order 3, 32 filters, 16 pointwise), dropout 0.5, Adam lr "
    "1e-3, weight decay 1e-4, batch 64, 12 epochs (CPU budget; no validation split).",
)
