"""LightGCN (He et al., SIGIR 2020): the graph collaborative-filtering baseline; ``model.use_features: true``
adds projected item content to the item ID embedding (LightGCN with features), which is where BeFA plugs in."""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="lightgcn",
    task="rec",
    module="lightning_modules.lightgcn.module",
    cls="LightGCNModule",
    inputs=("user", "pos", "neg"),
    paper="He et al., LightGCN: Simplifying and Powering Graph Convolution Network for Recommendation, SIGIR 2020",
    summary="Layer-mean propagation of ID embeddings over the normalised user-item graph (optionally + content)",
    extra={"train_batches": "bpr"},
    faithfulness="Faithful (layer-mean propagation, BPR, squared L2 on the batch's ego embeddings as the paper's code; "
    "MMRec's unsquared-norm form is model.reg_form=norm); negatives are drawn from all items, where MMRec draws "
    "only items seen in training. The with-features variant adds projected content to the item's layer-0 "
    "embedding, which the LightGCN paper does not have.",
    defaults_chosen="MovieLens-100k on the validation split, never test: Adam lr 5e-3 of {1e-3, 5e-3, 1e-2} (valid "
    "Recall@20 .257 stalled / .358 @56 / .349 @25), also used with features and BeFA, early-stopping patience 5 for "
    "the pipeline's time budget (MMRec's 20 on recsynth). Fixed a priori: 2 layers (MGCN's user-item view setting), "
    "the squared L2 of the paper's code; embedding 64, reg 1e-4, batch 2048 and lr 1e-3 elsewhere are not recorded (no "
    "selection on record). BeFA variants: gate width 1x and dropout 0.1, the smallest of the authors' grid, fixed a "
    "priori (cost; the mildest dropout).",
)
