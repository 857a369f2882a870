from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="lbptop_svm",
    task="mer",
    module="lightning_modules.lbptop_svm.module",
    cls="LinearSVMModule",
    inputs=("lbptop",),
    paper="Zhao and Pietikainen, LBP-TOP, TPAMI 2007; the MEGC2019 LBP-TOP baseline (linear SVM, LOSO)",
    summary="baseline: LBP-TOP histograms (8x8 blocks, R=3, P=8, 10 interpolated frames) + linear SVM",
    faithfulness="MEB's LBP-TOP parameters (8x8 blocks, radius 3, 8 neighbours, 10 frames after temporal "
    "interpolation) and LinearSVC (one-vs-rest squared hinge, C=1, penalised intercept), its exact optimum found "
    "from the fold's Gram matrix instead of by liblinear (tested equal to scikit-learn's LinearSVC); features "
    "are z-scored with training-fold statistics (model.standardize).",
)
