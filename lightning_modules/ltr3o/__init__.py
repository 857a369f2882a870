"""LTR3O: learning to rank onset-occurring-offset representations for micro-expression recognition. Files:
network.py (3O candidates, encoder, expressiveness-weighted classifier), module.py (CE + the ranking calibration
and what stands in for the paper's macro-expression data). Reads `frames` over onset -> offset."""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="ltr3o",
    task="mer",
    module="lightning_modules.ltr3o.module",
    cls="LTR3OModule",
    inputs=("frames",),
    paper="Zhu, Zong, Shi et al., Learning to Rank Onset-Occurring-Offset Representations for Micro-Expression "
    "Recognition, arXiv 2310.04664 (2023)",
    summary="onset/random occurring/offset candidates, expressiveness scores calibrated by a pairwise ranking "
    "loss, expressiveness-weighted classification",
    faithfulness="Built from the abstract (the full text was not available). The paper calibrates the candidates' "
    "expressiveness against macro-expression (MaM) data; no MaM database is available here, so an a-priori "
    "rise-and-fall temporal profile (peak at the middle of onset->offset) stands in as the ranking target "
    "(model.calibration: profile | none). Encoder (small CNN from scratch on the two movements of a candidate), "
    "number of candidates, RankNet loss and the softmax fusion are our choices (network.py, module.py). Results "
    "are on the suite's synthetic stand-ins only.",
    defaults_chosen="Fixed a priori (no test-fold selection): 6 candidates over onset->offset at seq_len 12, grey "
    "32 px movement input (64 px until the 3-seed benchmark, run at 32 px, became the default's evidence: a speed "
    "choice, no 64 px score was compared), width 16, depth 3, dropout 0.3, rank weight 0.5 with margin 0.05, "
    "balanced CE, Adam lr 3e-3 cosine, 20 epochs.",
)
