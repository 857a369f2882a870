"""FG-SGL: Fine-Grained Semantic Guidance Learning for micro-gesture recognition (papers-core.txt, abstract 2).

The abstract fixes the parts: a vision-language model whose visual side perceives local micro-gesture motion;
FG-SA aligns local motion features with fine-grained text that describes each gesture in four semantic
dimensions; CP-A aligns features with category-level text to make classes separable; a multi-level contrastive
optimisation trains both coarse to fine. Everything below that the abstract leaves open is our choice and a
config knob (experiments/_defaults/methods/fgsgl.yaml, `model.*`).

Visual side (network.py): the ST-GCN-style encoder of lightning_modules/layers/skeleton.py on the layout's graph.
Text side: the suite's frozen text encoder (core/text.py; all-MiniLM-L6-v2 by default, an
open_clip text tower with `text_encoder.backend: open_clip`), run once on the class texts of
datamodules/text/microgesture_classes.yaml (`data.text_set`); the embeddings are buffers, nothing trains them.

Losses per batch (embeddings L2-normalised; g global visual feature in text space, l_d local feature of
dimension d, p_k category prototype = normalise(c_k + A c_k) with c_k the category text embedding and A a
zero-initialised linear adapter, f_kd the text embedding of class k's description of dimension d):

    L = ce_weight * CE(W g_raw, y)                                           category-level supervision
      + cpa.weight * L_CPA                                                   coarse level
      + fgsa.weight * w_fine(epoch) * L_FGSA                                 fine level

    L_CPA  = 1/2 [ CE(g P^T / tau_c, y) + mean_{k in batch} H(u_k, softmax_j(p_k . g_j / tau_c)) ]
             (u_k uniform over the batch samples of class k; `cpa.symmetric: false` keeps the first term only)
    L_FGSA = mean_d H(q_d(y), softmax_k(l_d . f_kd / tau_f))
             q_d(y)_k = softmax_k(f_yd . f_kd / tau_q): soft targets, classes described alike in dimension d share
             the target (`fgsa.target_temperature: 0` gives one-hot targets)
    w_fine(epoch) = 0 before fine_start * max_epochs, then linear up to 1 at fine_full * max_epochs
             (`schedule.kind: joint` gives 1 throughout)

Prediction: the sum of the class log-probabilities of the levels in use (linear head; CP-A's prototype
similarities g . p_k / tau_c; FG-SA's mean over dimensions of l_d . f_kd / tau_f), `model.score_levels`.
Ablations: `fgsa.enabled: false` (no fine level, no local branch in the loss or the score) and
`cpa.enabled: false` (no prototype alignment or prototype score).
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="fgsgl",
    task="gesture",
    module="lightning_modules.fgsgl.module",
    cls="FGSGLModule",
    inputs=("skeleton",),
    paper="FG-SGL: Fine-Grained Semantic Guidance Learning for micro-gesture recognition (papers-core.txt #2)",
    summary="ST-GCN skeleton encoder + frozen text: fine-grained semantic alignment of part-level motion (FG-SA), "
    "category prototype alignment (CP-A), coarse-to-fine contrastive schedule",
    faithfulness="Built from the abstract only: the losses, the part-level attention pooling, the prototype adapter, "
    "the schedule and the score fusion are our design. The visual side is a small skeleton GCN, not a pretrained "
    "video VLM; the text encoder is all-MiniLM-L6-v2 unless an open_clip checkpoint is given; the fine-grained "
    "texts are written by us, not the paper's human-annotated text dataset.",
    defaults_chosen="Not recorded (no selection on record): loss weights 1.0, temperatures 0.1 (soft targets 0.05), "
    "the coarse-to-fine ramp over 0.1-0.4 of the epochs, projection width 256, dropout 0.3, AdamW lr 2e-3 with weight "
    "decay 5e-4 and a cosine schedule, 12 epochs on the stand-in (50 on iMiGUE/SMG). Fixed a priori: the visual "
    "encoder identical to skeleton_ce's (a fair comparison) and the prototype adapter initialised at zero (training "
    "starts from the text encoder's own geometry).",
)
