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
    "MMRec's multimodal VBPR) and the pre-extracted features are frozen.",
)
