from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="lbp_sdg",
    task="mer",
    module="lightning_modules.lbp_sdg.module",
    cls="LBPSDGModule",
    inputs=("lbptop", "hsdg"),
    paper="Wei, Lu, Yan, A comparative study on movement feature in different directions for micro-expression "
    "recognition (LBP-SDG / HSDG), arXiv 2102.08068",
    summary="LBP-TOP + the Histogram of Single Direction Gradient of one direction, chosen per fold on inner "
    "validation (Euler-magnified) + linear SVM",
    faithfulness="HSDG's 18 directions are defined here as the 18-connected 3-D neighbourhood (preprocessing/hsdg.py); "
    "opposite steps give mirror-image histograms, so 9 distinct directions are compared (lbp_sdg chooses one per "
    "fold, lbp_sdg-all uses the 9 together); the paper's exact direction set, gradient form, block grid and bin "
    "count were not available, so they are knobs. The SVM is LinearSVC's exact optimum (found from the Gram "
    "matrix rather than by liblinear).",
    defaults_chosen="The paper's protocol fixes the default: one direction, the best on validation; it is chosen in "
    "each fold on 5 subject-disjoint inner folds of the training subjects (never the test subject). Block grid, "
    "bins and value range of HSDG follow LBP-TOP's 8x8 grid and a priori choices (preprocessing/hsdg.py). "
    "standardize=true chosen on inner validation (affect tune on an independent composite draw: valid UF1 0.474 "
    "with z-scoring, 0.453 without).",
)
