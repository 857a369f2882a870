"""RSTR: region selective transfer regression (Yuan Zong, Tong Zhang, Wenming Zheng et al., "Cross-Database
Micro-Expression Recognition: A Benchmark", arXiv 1812.07742).

What is known here: the abstract only (shared/seeds/papers-group.txt): RSTR is a domain adaptation method that
takes into account the different contributions of the facial local regions. The paper's text, equations and solver
were not readable (the search tools gave no full text), so the model is the suite's reading of "region selective
transfer regression", written down in lightning_modules/layers/transfer_regression.py: a linear regression of the
one-hot source labels on LBP-TOP with a Frobenius-norm group penalty per facial region (regions drop out: the
selection), a linear-kernel MMD (mean-matching) term between the projected source and target, solved by IALM.

Faithful (to the abstract): transfer regression, region groups of the facial features, a distribution term.
Choices (the paper is silent here): the MMD is the linear kernel's (the projected means); regions are the LBP-TOP
blocks and their 2x2 and 4x4 poolings (``model.scales: [1, 2, 4]``, a multi-scale region set), each weighted by
sqrt(group size); the labels' regression target is one-hot minus its mean, prediction the argmax; IALM with
TSRG's public constants (rho 1.1, kappa0 1e-3, kappa_max 1e15, tol 1e-8) as ``model.solver``; lambda and mu are
chosen by the honest selector of ``selection.rule`` (reverse validation by default), the target-label choice only
as the separately reported oracle.
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="rstr",
    task="cdmer",
    module="lightning_modules.rstr.model",
    cls="fit_rstr",
    inputs=("lbptop",),
    paper="Zong, Zhang, Zheng et al., Cross-Database Micro-Expression Recognition: A "
    "Benchmark, arXiv 1812.07742 (RSTR)",
    summary="RSTR: group-sparse (per facial region) regression of source labels on LBP-TOP with a mean-matching "
    "(linear MMD) term, IALM; argmax of the target's regression",
    faithfulness="Only the abstract was readable: regression, facial-region selection and a distribution term "
    "follow it; the objective's exact form, the multi-scale region set, the linear-kernel MMD and the IALM "
    "constants (TSRG's public code's) are the suite's choices (lightning_modules/rstr/__init__.py, "
    "lightning_modules/layers/transfer_regression.py).",
    defaults_chosen="Solver constants from TSRG's public code; scales [1, 2, 4] and sqrt-size region weights fixed "
    "a priori; lambda and mu from a small grid chosen by the honest selector (selection.rule), the oracle apart.",
)
