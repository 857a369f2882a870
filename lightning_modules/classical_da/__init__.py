"""Classical domain adaptation baselines of the cross-database benchmark: a linear SVM on LBP-TOP with no
adaptation (source only), CORAL, subspace alignment, TCA or KMM (``model.adapter``); the adapters and their
faithfulness notes are in lightning_modules/layers/domain_adaptation.py."""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="classical_da",
    task="cdmer",
    module="lightning_modules.classical_da.model",
    cls="fit",
    inputs=("lbptop",),
    paper="the CDMER benchmark's DA baselines (Zong et al., arXiv 1812.07742): source-only SVM; CORAL (Sun et al., "
    "AAAI 2016); subspace alignment (Fernando et al., ICCV 2013); TCA (Pan et al., IEEE TNN 2011); KMM (Huang et "
    "al., NIPS 2006)",
    summary="LBP-TOP + [none | CORAL | SA | TCA | KMM] + linear SVM, fitted on labelled source and unlabelled target",
    faithfulness="Each adapter follows its paper's algorithm (lightning_modules/layers/domain_adaptation.py says "
    "what is the paper's and what is a choice: per-domain centring in CORAL and SA, TCA's linear kernel, KMM's "
    "median bandwidth and projected-gradient QP). The benchmark's own settings for these baselines (features, "
    "kernels, grids) were not readable; the classifier is the suite's exact LinearSVC on source-z-scored features.",
    defaults_chosen="Knobs fixed a priori at the papers' values (CORAL ridge 1, KMM B=1000) or usual starting "
    "points (SA d=20, TCA d=30, mu=1, C=1); when an experiment gives a grid, the point is chosen by an honest "
    "selector on the source and the unlabelled target (selection.rule), never on target labels; the oracle "
    "choice is reported apart.",
)
