"""VBPR: visual Bayesian personalised ranking (He & McAuley, AAAI 2016), the multimodal matrix-factorisation
baseline; with ``model.befa: true`` its content projection becomes BeFA's adapter."""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="vbpr",
    task="rec",
    module="lightning_modules.vbpr.module",
    cls="VBPRModule",
    inputs=("user", "pos", "neg"),
    paper="He & McAuley, VBPR: Visual Bayesian Personalized Ranking from Implicit Feedback, AAAI 2016",
    summary="Matrix factorisation plus a user taste vector over projected item content (image and text)",
    extra={"train_batches": "bpr"},
    faithfulness="Faithful to the paper's scoring and BPR objective; both content modalities feed one projection (as "
    "MMRec's multimodal VBPR) and the pre-extracted features are frozen. The regulariser is squared L2 on the "
    "batch's ID factors only (the paper also penalises the projection E and the biases); MMRec's VBPR instead "
    "penalises the whole user and item vectors with unsquared norms (model.reg_form=norm, reg_scope=full). "
    "Negatives are drawn from all items, where MMRec draws only items seen in training.",
)
