"""TSRG: Target Sample Re-Generator for cross-database micro-expression recognition (Zong, Huang, Zheng, Cui,
Zhao, ACM Multimedia 2017; the same model is DRFS-S of their "Domain Regeneration" paper, IEEE TIP 2018).

What is known of the paper here: its abstract (shared/seeds/papers-group.txt: re-generate target samples so they
share the source's feature distribution, then apply the classifier learned on the labelled source), and, read as
facts from the authors' public MATLAB release ("Codes of DR", IALM_TSRG.m and an example script), the model and
solver: kernel regression of the source features with an L1-sparse projection and a kernel mean-matching term,
solved by inexact ALM with rho 1.1, kappa0 1e-3, kappa_max 1e15, tolerance 1e-8, P and T started at ones; a linear
kernel; LBP-TOP (R=3, P=8) features used as they are; libsvm's linear C-SVC (C=1) trained on the original source
features and applied to the regenerated target; UAR and WAR; lambda in {1e-3, ..., 1e3} and mu in 1e-3..10
grid-searched with the target UAR of every point reported (selection on target labels). The paper's own text,
equations and tables were not available: the equations in solver.py are those the code minimises.

Faithful: the objective, the kernel matrices, the IALM updates and stopping rule with the code's constants as knobs
(``model.ialm``), the linear kernel, the regeneration ``P^T K_t`` and the classifier trained on unmodified source
features. Choices (where the paper and code are silent or the suite differs): the classifier is the suite's exact
LinearSVC (one-vs-rest squared hinge, C=1) instead of libsvm's one-vs-one hinge C-SVC; features are the suite's
LBP-TOP (8x8 blocks, per-block histograms summing to 1, as the public features appear to be) and are not
z-scored by default (``standardize: false``, as the code); hyper-parameters are chosen by an honest selector
(source-only cross-validation or reverse validation, datamodules/cross_database.py), the code's grid-on-target
selection being offered only as the separately labelled oracle.
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="tsrg",
    task="cdmer",
    module="lightning_modules.tsrg.model",
    cls="fit_tsrg",
    inputs=("lbptop",),
    paper="Zong, Huang, Zheng, Cui, Zhao, Learning a Target Sample Re-Generator for Cross-Database Micro-Expression "
    "Recognition, ACM Multimedia 2017",
    summary="TSRG: regenerate target LBP-TOP through an L1-sparse kernel regression with mean matching (IALM), then "
    "the source-trained linear SVM",
    faithfulness="Objective, kernels, IALM updates and constants (rho 1.1, kappa0 1e-3, kappa_max 1e15, tol 1e-8) "
    "as the authors' public code; the paper's text was not available. Differs: LinearSVC (one-vs-rest squared "
    "hinge) instead of libsvm's C-SVC; the suite's LBP-TOP; hyper-parameters chosen by an honest selector, the "
    "code's grid-on-target selection shown only as the oracle (lightning_modules/tsrg/__init__.py).",
    defaults_chosen="Solver constants from the public code; lambda and mu from a small grid inside the code's "
    "ranges, chosen by the honest selector of selection.rule (reverse validation by default) on the source and the "
    "unlabelled target; the oracle choice is reported apart.",
)
