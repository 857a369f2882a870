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
    defaults_chosen="MovieLens-100k on the validation split, never test: Adam lr 5e-3 of {1e-3, 5e-3, 1e-2} (valid "
    "Recall@20 .331 @70 / .317 @15 / .295 @3: 1e-3 scores best but needs 2-3x the pipeline's time budget), "
    "early-stopping patience 5 for that budget (MMRec's 20 on recsynth). The squared L2 form is the paper's; its "
    "scope (ID factors only), weight 1e-4, the 64-d factors, batch 2048 and lr 1e-3 elsewhere: not recorded (no "
    "selection on record). BeFA variants: gate width 1x and dropout 0.1, the smallest of the authors' grid, fixed a "
    "priori (cost; the mildest dropout).",
)
