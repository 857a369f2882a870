from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="lbp_sdg",
    task="mer",
    module="lightning_modules.lbp_sdg.module",
    cls="LBPSDGModule",
    inputs=("lbptop", "hsdg"),
    paper="Wei, Lu, Yan, A comparative study on movement feature in different directions for micro-expression "
    "recognition (LBP-SDG / HSDG), arXiv 2102.08068",
    summary="LBP-TOP + Histogram of Single Direction Gradient of chosen directions (Euler-magnified) + linear SVM",
    faithfulness="HSDG's 18 directions are defined here as the 18-connected 3-D neighbourhood (preprocessing/hsdg.py); "
    "the paper's exact direction set, block grid and bin count were not available, so they are knobs. The "
    "SVM is LinearSVC's exact optimum (found from the Gram matrix rather than by liblinear).",
)
