"""Skeleton CE baseline for micro-gestures: FG-SGL's skeleton encoder with a linear head and plain cross-entropy.

The category-level-only supervision the FG-SGL abstract contrasts itself with: same visual side (the ST-GCN-style
encoder of lightning_modules/layers/skeleton.py with the same `model.encoder` defaults), global average pooling,
dropout, a linear classifier, CE (optionally label-smoothed). No text.
"""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="skeleton_ce",
    task="gesture",
    module="lightning_modules.skeleton_ce.module",
    cls="SkeletonCEModule",
    inputs=("skeleton",),
    paper="ST-GCN (Yan et al., AAAI 2018) as the skeleton baseline of the micro-gesture benchmarks",
    summary="ST-GCN-style skeleton encoder + linear head, plain cross-entropy (FG-SGL's baseline)",
    faithfulness="A smaller ST-GCN (3 blocks of 24-48 channels instead of 10 blocks of 64-256) so that CPU runs "
    "stay short; same partition strategy, edge importance and data BN.",
    defaults_chosen="Fixed a priori: a smaller ST-GCN (3 blocks of 24-48 channels instead of 10 of 64-256) so that CPU "
    "runs stay short; partition, edge importance and data BN as ST-GCN. Not recorded (no selection on record): AdamW "
    "lr 2e-3, weight decay 5e-4, cosine schedule, dropout 0.3, temporal kernel 5, 12 epochs on the stand-in (50 on "
    "iMiGUE/SMG).",
)
